"""The RFM heuristic, the baseline churn and propensity models must beat.

Each customer gets the classic recency, frequency and monetary quintile scores (5 = most recent,
most frequent, highest spend; 0 = never bought); the 125 cells' observed label rates on the training
cutoffs turn a cell into a probability, shrunk towards the overall rate where a cell is thin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

RFM_INPUTS = ("days_since_last_order", "orders_lifetime", "net_revenue_usd_lifetime")
# Rows of prior weight given to the overall rate in every cell.
_SHRINKAGE_ROWS = 20.0


@dataclass(frozen=True)
class RfmBaseline:
    recency_edges: list[float]
    frequency_edges: list[float]
    monetary_edges: list[float]
    cell_rates: dict[str, float]
    overall_rate: float

    def scores(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(R, F, M) scores 1–5 per row; 0 for customers without a purchase."""
        recency, frequency, monetary = _inputs(frame)
        bought = frequency > 0
        r = np.where(bought, 5 - np.searchsorted(self.recency_edges, recency, side="right"), 0)
        f = np.where(bought, 1 + np.searchsorted(self.frequency_edges, frequency, side="right"), 0)
        m = np.where(bought, 1 + np.searchsorted(self.monetary_edges, monetary, side="right"), 0)
        return r, f, m

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """The training rate of each row's RFM cell (the overall rate for cells never seen)."""
        cells = _cells(*self.scores(frame))
        return np.array([self.cell_rates.get(cell, self.overall_rate) for cell in cells], dtype=np.float64)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict) -> RfmBaseline:
        return cls(**document)


def _inputs(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    columns = [frame[name].cast(pl.Float64).fill_null(0.0).fill_nan(0.0).to_numpy() for name in RFM_INPUTS]
    return columns[0], columns[1], columns[2]


def _cells(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> list[str]:
    return [f"{a}{b}{c}" for a, b, c in zip(r.tolist(), f.tolist(), m.tolist())]


def _quintile_edges(values: np.ndarray) -> list[float]:
    # Ties (most customers have one order) collapse edges; the scores then use fewer than five levels.
    return np.unique(np.quantile(values, [0.2, 0.4, 0.6, 0.8])).tolist() if values.size else []


def fit_rfm_baseline(train: pl.DataFrame) -> RfmBaseline:
    """Quintile edges from the buyers of the training rows, and each cell's shrunk label rate."""
    recency, frequency, monetary = _inputs(train)
    bought = frequency > 0
    labels = train["label"].cast(pl.Float64).to_numpy()
    overall = float(labels.mean()) if labels.size else 0.0
    baseline = RfmBaseline(
        recency_edges=_quintile_edges(recency[bought]), frequency_edges=_quintile_edges(frequency[bought]),
        monetary_edges=_quintile_edges(monetary[bought]), cell_rates={}, overall_rate=overall,
    )
    cells = pl.DataFrame({"cell": _cells(*baseline.scores(train)), "label": labels}).group_by("cell").agg(
        ((pl.col("label").sum() + _SHRINKAGE_ROWS * overall) / (pl.len() + _SHRINKAGE_ROWS)).alias("rate"))
    return RfmBaseline(baseline.recency_edges, baseline.frequency_edges, baseline.monetary_edges,
                       dict(zip(cells["cell"].to_list(), cells["rate"].to_list())), overall)
