"""Settings files that an environment overrides in part: its YAML laid over the shipped defaults."""


def merge_overrides(defaults: dict, overrides: dict) -> dict:
    """An environment's YAML overrides laid over a defaults file: nested mappings merge key by key,
    any other value replaces the default (thresholds, model settings)."""
    merged = dict(defaults)
    for key, value in overrides.items():
        merged[key] = merge_overrides(defaults[key], value) if isinstance(value, dict) and isinstance(defaults.get(key), dict) else value
    return merged
