"""What a quality gate is made of: named rules of Great Expectations expectations, with a severity.

A rule is what a data engineer sees as one check in Dagster (`row_count_not_collapsed`); it holds
one or more GE expectations over one batch (a frame the suite builds from the warehouse). Rules
are declared without importing Great Expectations (6–8 s): Dagster lists the checks at start-up,
and the expectations are built only when a check runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


class Severity(Enum):
    """Blocking failures stop every downstream asset; warnings are recorded and shown."""

    BLOCKING = "blocking"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    """One named gate: all of its expectations must hold on its batch."""

    name: str
    """A predicate, the Dagster check's name: `timestamps_not_in_future`."""
    severity: Severity
    description: str
    batch: str
    """The frame of the suite it validates, e.g. `rows` or `partitions`."""
    expectations: Callable[[Any], list]
    """Given the `great_expectations.expectations` module, the expectations that make up the rule."""


@dataclass(frozen=True)
class Batch:
    """A frame to validate, and the columns that identify one of its rows in a failure sample."""

    frame: pd.DataFrame
    index_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suite:
    """The gates on one guarded table; each suite module also builds the batches its rules read."""

    name: str
    """Also the Great Expectations suite name prefix: `raw_ecommerce_orders`."""
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict, as Great Expectations reported it."""

    expectation: str
    column: str | None
    success: bool
    observed: dict[str, Any]
    """The result's figures: observed value, element and unexpected counts and percentages."""
    samples: list[dict[str, Any]] = field(default_factory=list)
    """Offending rows: the batch's index columns and the unexpected value."""


@dataclass(frozen=True)
class RuleOutcome:
    """A rule's verdict in one validation run, with what Great Expectations saw."""

    rule: Rule
    expectations: tuple[ExpectationOutcome, ...]
    rows_validated: int
    docs_page: str | None
    """The Data Docs page of the validation result this rule is part of, relative to the site
    (`data_quality.data_docs.site_dir`)."""

    @property
    def passed(self) -> bool:
        return all(outcome.success for outcome in self.expectations)
