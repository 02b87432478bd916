"""A Dagster logger for the terminal: one line per step, materialization and failed check."""

import logging
import time
from typing import TextIO

import dagster as dg

from dagster_project.defs.ingest.assets import LOADED_BEFORE_FAILURE, NO_FILE
from dagster_project.step_progress import parse_progress

_SHOWN_METADATA = ("dagster/row_count", "rows_quarantined")


_BAR_WIDTH = 24

# Dagster says this once per step it does not run after a failure; the summary counts them instead.
_NOT_EXECUTED = "Dependencies for step "


class ProgressHandler(logging.Handler):
    """Formats Dagster events as short progress lines; plain log messages only from WARNING up,
    except Dagster's line per step left out after a failure, which goes to `not_executed`."""

    def __init__(self, stream: TextIO, not_executed: list[str]) -> None:
        super().__init__()
        self.stream, self.not_executed = stream, not_executed
        self.started = time.monotonic()
        self.reported: set[tuple[str | None, str]] = set()
        self.bar_drawn = False
        # Partitioned materializations of a running step, summed into one line when it succeeds.
        self.partitions: dict[str | None, dict[str, PartitionTally]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        line = None
        if event is not None and not self._tallied(event):
            line = self._describe(event) if self._first_report(event) else None
        if line is None and event is None:
            message = str(meta.get("orig_message", record.getMessage()))
            if (progress := parse_progress(message)) is not None:
                self._draw_bar(meta.get("step_key"), *progress)
                return
            if record.levelno < logging.WARNING:
                return
            if message.startswith(_NOT_EXECUTED) and meta.get("step_key"):
                self.not_executed.append(meta["step_key"])
                return
            line = f"{record.levelname.lower()}: {message}"
        if line:
            self._write(line)

    def _write(self, line: str) -> None:
        """One line, over the progress bar if one is drawn."""
        if self.bar_drawn:
            self.stream.write("\r\033[K")
            self.bar_drawn = False
        print(f"[{time.monotonic() - self.started:7.1f}s] {line}", file=self.stream, flush=True)

    def _draw_bar(self, step: str | None, done: int, total: int, unit: str) -> None:
        """On a terminal, the step's bar, redrawn in place; in a log file, nothing (the ✓ lines say it)."""
        if not self.stream.isatty():
            return
        filled = round(_BAR_WIDTH * done / total) if total else _BAR_WIDTH
        bar = "█" * filled + "░" * (_BAR_WIDTH - filled)
        self.stream.write(f"\r\033[K[{time.monotonic() - self.started:7.1f}s] ▶ {step}  {bar}  {done:,}/{total:,} {unit}")
        self.stream.flush()
        self.bar_drawn = True

    def _tallied(self, event: dg.DagsterEvent) -> bool:
        """Counts a partition's materialization towards its step's line (True), or prints that line
        when the step succeeds; a range run records one materialization per partition."""
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            if materialization.partition is None or LOADED_BEFORE_FAILURE in materialization.metadata:
                return False
            tallies = self.partitions.setdefault(event.step_key, {})
            tallies.setdefault(materialization.asset_key.to_user_string(), PartitionTally()).add(materialization)
            return True
        if kind == "STEP_SUCCESS":
            for asset, tally in self.partitions.pop(event.step_key, {}).items():
                self._write(f"  ✓ {asset}  ({tally})")
        return False

    def _first_report(self, event: dg.DagsterEvent) -> bool:
        """A step that fails after loading some days records each of them: show one line."""
        if event.event_type_value != "ASSET_MATERIALIZATION":
            return True
        key = (event.step_key, event.asset_key.to_user_string())
        if key in self.reported:
            return False
        self.reported.add(key)
        return True

    @staticmethod
    def _describe(event: dg.DagsterEvent) -> str | None:
        kind = event.event_type_value
        if kind == "STEP_START":
            return f"▶ {event.step_key}"
        if kind == "STEP_FAILURE":
            error = event.step_failure_data.error
            if error is not None and error.cls_name == "DagsterAssetCheckFailedError":
                return f"✗ {event.step_key}: a blocking check failed (the summary below says which)"
            # The message, not the stack: the run's page in the Dagster UI (`cxp ui`) keeps the whole error.
            message = error.message.strip() if error is not None else event.step_failure_data.error_display_string.strip()
            return f"✗ {event.step_key} failed: {message[:2000]}"
        if kind == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            if LOADED_BEFORE_FAILURE in materialization.metadata:
                # Not a ✓: the step fails on other files (its ✗ line follows); the days that did load are kept.
                return f"  · {materialization.asset_key.to_user_string()}: the days that loaded are kept; the step fails on the files below"
            shown = {k: v.value for k, v in materialization.metadata.items() if k in _SHOWN_METADATA}
            details = ", ".join(f"{k.removeprefix('dagster/')}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in shown.items())
            return f"  ✓ {materialization.asset_key.to_user_string()}" + (f"  ({details})" if details else "")
        if kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                return f"  ! check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed ({evaluation.severity.value})"
        return None


class PartitionTally:
    """What the partitions a step materialized add up to: files, rows, days without a file."""

    def __init__(self) -> None:
        self.files = self.rows = self.quarantined = 0
        self.days_without_file: list[str] = []

    def add(self, materialization: dg.AssetMaterialization) -> None:
        metadata = {key: value.value for key, value in materialization.metadata.items()}
        if metadata.get("file") == NO_FILE:
            self.days_without_file.append(str(materialization.partition))
        elif "file" in metadata:
            self.files += 1
        self.rows += int(metadata.get("dagster/row_count") or 0)
        self.quarantined += int(metadata.get("rows_quarantined") or 0)

    def __str__(self) -> str:
        parts = [f"{self.files:,} file(s)", f"{self.rows:,} rows"]
        if self.quarantined:
            parts.append(f"{self.quarantined:,} quarantined")
        if self.days_without_file:
            shown = ", ".join(self.days_without_file[:3]) + (f" and {len(self.days_without_file) - 3} more" if len(self.days_without_file) > 3 else "")
            parts.append(f"no file for {shown}")
        return ", ".join(parts)


def build_progress_logger(stream: TextIO, not_executed: list[str]) -> dg.LoggerDefinition:
    """A logger printing progress lines to `stream` (the terminal, while the run's stdout goes to a log
    file); the steps Dagster leaves out after a failure are appended to `not_executed`."""

    @dg.logger(description="Short progress lines for `cxp run`.")
    def progress_logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.getLogger("cxp.progress")
        logger.handlers = [ProgressHandler(stream, not_executed)]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return logger

    return progress_logger
