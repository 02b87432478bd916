"""A local, file-based model registry.

    <root>/<model>/<version>/   the booster and its inputs, the baseline, version.json, MODEL_CARD.md
    <root>/<model>/champion.json  which version scores customers, since when, and why
    <root>/<model>/decisions.jsonl  every champion/challenger decision, newest last

Versions are never edited after they are written; promotion only moves the champion pointer.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

VERSION_FILE = "version.json"
CARD_FILE = "MODEL_CARD.md"


@dataclass(frozen=True)
class Decision:
    """The outcome of comparing a challenger with the champion on the same evaluation rows."""

    promoted: bool
    reason: str
    metric: str
    challenger: float
    champion: float | None
    baseline: float | None
    retire_champion: bool = False
    """The champion scores worse than the baseline: the baseline scores customers until a
    challenger beats it."""


# What a model that has learnt nothing scores: a challenger must do better even with nothing to compare.
CHANCE = {"roc_auc": 0.5, "pr_auc": 0.0, "spearman": 0.0, "ndcg_at_k": 0.0}


def decide_promotion(metric: str, min_improvement: float, challenger: float, champion: float | None,
                     baseline: float | None, total_ratio: float | None = None, max_total_error: float | None = None) -> Decision:
    """Promote when the challenger beats chance, its baseline, and the champion by `min_improvement`
    (champion None: there is none, or it could not be compared fairly), and, given `max_total_error`,
    when its predicted total is within that share of the actual total (`total_ratio`)."""
    refusals = []
    if max_total_error is not None and total_ratio is not None and not abs(total_ratio - 1) <= max_total_error:
        refusals.append(f"challenger's predicted total is {total_ratio:.0%} of the actual total, "
                        f"outside the allowed ±{max_total_error:.0%}")
    if challenger <= CHANCE[metric]:
        refusals.append(f"challenger {metric} {challenger:.4f} is no better than chance ({CHANCE[metric]})")
    if champion is not None and challenger < champion + min_improvement:
        refusals.append(f"challenger {metric} {challenger:.4f} is not at least {min_improvement} above the champion's "
                        f"{champion:.4f} on the same evaluation rows")
    if baseline is not None and challenger <= baseline:
        refusals.append(f"challenger {metric} {challenger:.4f} does not beat the baseline's {baseline:.4f}")
    if refusals:
        retire = champion is not None and baseline is not None and champion <= baseline
        outcome = ("the champion scores no better than the baseline either: the baseline scores until a challenger beats it"
                   if retire else "the champion stays" if champion is not None else "the baseline keeps scoring")
        return Decision(False, "; ".join(refusals) + "; " + outcome, metric, challenger, champion, baseline, retire)
    against = [f"the champion's {champion:.4f} by {challenger - champion:.4f} (margin {min_improvement})"] if champion is not None else []
    against += [f"the baseline's {baseline:.4f}"] if baseline is not None else []
    reason = f"challenger {metric} {challenger:.4f} beats " + (" and ".join(against) or "chance; there is no champion or baseline to compare")
    return Decision(True, reason, metric, challenger, champion, baseline)


class ModelRegistry:
    """Versions and champions of every model under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def new_version_dir(self, model: str, trained_at: datetime, digest: str) -> tuple[str, Path]:
        version = f"{trained_at:%Y%m%dT%H%M%S}-{digest[:8]}"
        folder = self.root / model / version
        folder.mkdir(parents=True, exist_ok=False)
        return version, folder

    def version_dir(self, model: str, version: str) -> Path:
        folder = self.root / model / version
        if not (folder / VERSION_FILE).exists():
            raise FileNotFoundError(f"model {model} has no version {version} in {self.root}")
        return folder

    def write_version(self, model: str, version: str, record: dict) -> None:
        (self.root / model / version / VERSION_FILE).write_text(json.dumps(record, indent=1, default=str))

    def write_card(self, model: str, version: str, card: str) -> None:
        (self.version_dir(model, version) / CARD_FILE).write_text(card)

    def read_version(self, model: str, version: str) -> dict:
        return json.loads((self.version_dir(model, version) / VERSION_FILE).read_text())

    def versions(self, model: str) -> list[str]:
        folder = self.root / model
        return sorted(p.name for p in folder.iterdir() if (p / VERSION_FILE).exists()) if folder.exists() else []

    def champion(self, model: str) -> str | None:
        pointer = self.root / model / "champion.json"
        return json.loads(pointer.read_text())["version"] if pointer.exists() else None

    def record_decision(self, model: str, version: str, decision: Decision) -> None:
        """Append the decision to the history and, when it promotes, move the champion pointer."""
        now = datetime.now(timezone.utc).isoformat()
        entry = {"at": now, "version": version, "previous_champion": self.champion(model), **decision.__dict__}
        with (self.root / model / "decisions.jsonl").open("a") as history:
            history.write(json.dumps(entry) + "\n")
        pointer = self.root / model / "champion.json"
        if decision.promoted:
            temporary = pointer.with_suffix(".tmp")
            temporary.write_text(json.dumps({"version": version, "promoted_at": now, "reason": decision.reason}))
            temporary.replace(pointer)
        elif decision.retire_champion:
            pointer.unlink(missing_ok=True)

    def remove_incomplete_versions(self, model: str) -> list[str]:
        """Delete version folders a killed run left without their version.json (they may hold a
        training set of personal features that nothing lists)."""
        folder = self.root / model
        incomplete = [p for p in folder.iterdir() if p.is_dir() and not (p / VERSION_FILE).exists()] if folder.exists() else []
        for path in incomplete:
            shutil.rmtree(path, ignore_errors=True)
        return [path.name for path in incomplete]

    def decisions(self, model: str) -> list[dict]:
        history = self.root / model / "decisions.jsonl"
        return [json.loads(line) for line in history.read_text().splitlines()] if history.exists() else []
