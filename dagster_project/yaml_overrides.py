"""Settings files that an environment overrides in part: its YAML laid over the shipped defaults,
validated by a strict pydantic model so that a misspelt key or a wrong value is an error naming
the file and the key, not a setting silently ignored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# A share or rate setting: a number from 0 to 1.
Share = Annotated[float, Field(ge=0, le=1)]


class StrictSettings(BaseModel):
    """A section of a settings file: unknown keys are rejected, values are typed, nothing changes after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SettingsError(ValueError):
    """A settings file, or the environment, holds a key or value cxp does not accept."""


Model = TypeVar("Model", bound=BaseModel)


def load_layered(model: type[Model], defaults_file: Path, override_file: Path | None = None) -> Model:
    """`defaults_file` with `override_file`'s keys laid over it, validated as `model`; an error names the
    file that set the offending key (the override's, unless only the defaults hold it)."""
    defaults = read_mapping(defaults_file)
    overrides = read_mapping(override_file) if override_file is not None else {}
    try:
        return model.model_validate(merge_overrides(defaults, overrides))
    except ValidationError as error:
        problems = [_describe(problem, override_file if _holds(overrides, problem["loc"]) else defaults_file) for problem in error.errors()]
        raise SettingsError("\n".join(problems)) from None


def read_mapping(path: Path) -> dict[str, Any]:
    """A YAML file that must hold a mapping (an empty file is an empty one)."""
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(content, dict):
        raise SettingsError(f"{path}: must hold a mapping of settings, not {type(content).__name__}")
    return content


def merge_overrides(defaults: dict, overrides: dict) -> dict:
    """An environment's YAML overrides laid over a defaults file: nested mappings merge key by key,
    any other value replaces the default (thresholds, model settings)."""
    merged = dict(defaults)
    for key, value in overrides.items():
        merged[key] = merge_overrides(defaults[key], value) if isinstance(value, dict) and isinstance(defaults.get(key), dict) else value
    return merged


def _holds(document: Any, location: tuple[int | str, ...]) -> bool:
    """Whether a key along `location` (or its first part, for a whole-section error) is set in `document`."""
    if not location:
        return bool(document)
    head, *rest = location
    if not isinstance(document, dict) or head not in document:
        return False
    return not rest or _holds(document[head], tuple(rest)) or not isinstance(document[head], dict)


def _describe(problem: Any, file: Path | None) -> str:
    key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
    if problem["type"] == "extra_forbidden":
        return f"{file}: unknown setting {key}"
    if problem["type"] == "missing":
        return f"{file}: {key} is required"
    return f"{file}: {key}: {problem['msg']} (got {problem['input']!r})"
