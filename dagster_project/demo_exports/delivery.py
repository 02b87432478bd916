"""Which extract days each export misses, and which file the records of a missed day land in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

SOURCES = ("crm", "orders", "fx_rates", "email", "support", "privacy", "products", "experiments")
# An erasure request lost with a failed export would make the demo itself break the law,
# so the privacy feed never misses a day.
SOURCES_WITH_GAPS = ("crm", "orders", "fx_rates", "email", "support", "products", "experiments")


@dataclass(frozen=True)
class DeliverySchedule:
    """Missed extract days per source (window offsets)."""

    days: int
    missing: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def is_delivered(self, source: str, offset: int) -> bool:
        """Whether the file of this source and extract day exists."""
        return offset not in self.missing.get(source, ())

    def extract_offset(self, source: str, offsets: np.ndarray) -> np.ndarray:
        """The file each record lands in, or -1 when it falls outside the window.

        Incremental exports resume from their last successful cursor, so the records of a
        failed day arrive with the next delivered day rather than being lost.
        """
        offsets = np.asarray(offsets, dtype=np.int64)
        next_delivered = np.arange(self.days, dtype=np.int64)
        for day in sorted(self.missing.get(source, ()), reverse=True):
            next_delivered[day] = next_delivered[day + 1]
        result = np.full(offsets.shape, -1, dtype=np.int64)
        inside = (offsets >= 0) & (offsets < self.days)
        result[inside] = next_delivered[offsets[inside]]
        return result


def plan_deliveries(days: int, rng: np.random.Generator,
                    own_streams: Mapping[str, np.random.Generator] | None = None) -> DeliverySchedule:
    """Pick one to three failed export days per source, never the first or last day. A source in
    `own_streams` (the products export: the catalog's stream; the experiment log: the experiment's)
    draws its days from that stream, so that adding it left the other sources' days as they were."""
    own_streams = own_streams or {}
    missing: dict[str, tuple[int, ...]] = {}
    for source in SOURCES:
        if source not in SOURCES_WITH_GAPS or days < 5:
            missing[source] = ()
            continue
        stream = own_streams.get(source, rng)
        count = int(stream.integers(1, 4))
        picked = stream.choice(np.arange(1, days - 1), size=count, replace=False)
        missing[source] = tuple(int(day) for day in np.sort(picked))
    return DeliverySchedule(days=days, missing=missing)
