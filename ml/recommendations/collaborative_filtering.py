"""Collaborative filtering: ALS matrix factorisation of who bought what. The one module in cxp that
touches the `implicit` library, so that an upgrade of it breaks this file and its adapter test only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

# Customers scored per call to implicit: 50k x 2,000 items of float32 scores is 400 MB at most.
BATCH_CUSTOMERS = 50_000
RECOMMENDATIONS = {"customer_id": pl.String, "sku": pl.String, "score": pl.Float64, "rank": pl.Int64}
SIMILAR_ITEMS = {"sku": pl.String, "similar_sku": pl.String, "score": pl.Float64, "rank": pl.Int64}


@dataclass(frozen=True)
class CollaborativeSettings:
    """ALS hyperparameters; a purchase weight w becomes confidence 1 + alpha * w (Hu, Koren, Volinsky 2008)."""

    factors: int = 64
    regularization: float = 0.05
    alpha: float = 20.0
    iterations: int = 15
    random_state: int = 7
    threads: int = 2


def _one_blas_thread() -> threadpool_limits:
    # implicit runs its own threads over users; a multithreaded OpenBLAS under them oversubscribes the
    # cores, and implicit warns so when a model is built. Its remedy: one BLAS thread while it runs.
    return threadpool_limits(1, "blas")


def _als(settings: CollaborativeSettings) -> AlternatingLeastSquares:
    with _one_blas_thread():
        # alpha=1: we hand implicit the confidences themselves, as its own alpha scales weights without the paper's 1 +.
        return AlternatingLeastSquares(factors=settings.factors, regularization=settings.regularization, alpha=1.0,
                                       iterations=settings.iterations, random_state=settings.random_state, num_threads=settings.threads)


class CollaborativeFiltering:
    """ALS matrix factorisation on implicit feedback (purchases), via the `implicit` library."""

    def __init__(self, model: AlternatingLeastSquares, settings: CollaborativeSettings, customer_ids: list[str], skus: list[str],
                 seen: sp.csr_matrix) -> None:
        self._model, self._settings, self._seen = model, settings, seen
        self._customer_rows = pl.DataFrame({"customer_id": customer_ids, "row": np.arange(len(customer_ids))})
        self._sku_columns = pl.DataFrame({"sku": skus, "column": np.arange(len(skus))})

    @classmethod
    def fit(cls, interactions: pl.DataFrame, settings: CollaborativeSettings = CollaborativeSettings(),
            learn_from: pl.Series | None = None) -> CollaborativeFiltering:
        """Factorise customer_id x sku weights (> 0; duplicated pairs summed) into customer and SKU factors.

        Given `learn_from`, the SKU factors are learnt from those customers' rows only, and every other
        customer's factors are then solved against them ("fold-in": one exact ALS customer step). A few
        hundred thousand customers place 2,000 SKUs as well as a million do, at a fraction of the cost."""
        if interactions["weight"].null_count() or (interactions["weight"] <= 0).any():
            raise ValueError("interaction weights must be positive")
        pairs = interactions.group_by("customer_id", "sku").agg(pl.col("weight").sum())
        customers, skus = (pairs[name].unique().sort() for name in ("customer_id", "sku"))
        rows, columns = (pairs[name].cast(pl.Enum(levels)).to_physical().to_numpy() for name, levels in
                         (("customer_id", customers), ("sku", skus)))
        confidence = 1.0 + settings.alpha * pairs["weight"].cast(pl.Float32).to_numpy()
        user_items = sp.csr_matrix((confidence, (rows, columns)), shape=(len(customers), len(skus)), dtype=np.float32)
        learners = np.arange(len(customers)) if learn_from is None else np.flatnonzero(customers.is_in(learn_from.implode()).to_numpy())
        model = _als(settings)
        with _one_blas_thread():
            model.fit(user_items[learners], show_progress=False)
            if len(learners) < len(customers):
                # Fold-in leaves a learner's factors as the fit left them; a SKU only non-learners bought has zero factors.
                others = np.setdiff1d(np.arange(len(customers)), learners)
                factors = np.zeros((len(customers), settings.factors), dtype=model.user_factors.dtype)
                factors[learners] = model.user_factors
                factors[others] = model.recalculate_user(others, user_items[others])
                model.user_factors = factors
        return cls(model, settings, customers.to_list(), skus.to_list(), user_items)

    def recommend(self, customer_ids: Sequence[str] | pl.Series, n: int, *, exclude_seen: bool = False,
                  allowed_skus: Sequence[str] | None = None) -> pl.DataFrame:
        """Top n SKUs per known customer (customer_id, sku, score, rank); customers the model never saw are absent."""
        wanted = pl.DataFrame({"customer_id": pl.Series(customer_ids, dtype=pl.String)}).unique(maintain_order=True)
        customers = wanted.join(self._customer_rows, on="customer_id", maintain_order="left")
        items = None if allowed_skus is None else np.sort(self._columns(allowed_skus))
        # implicit pads a row past its candidates with item 0 at score 0, which would read as a recommendation.
        n = min(n, self._sku_columns.height if items is None else len(items))
        batches = [self._recommend_batch(customers.slice(start, BATCH_CUSTOMERS), n, exclude_seen, items)
                   for start in range(0, customers.height, BATCH_CUSTOMERS)] if n > 0 else []
        return pl.concat([pl.DataFrame(schema=RECOMMENDATIONS), *batches])

    def _recommend_batch(self, customers: pl.DataFrame, n: int, exclude_seen: bool, items: np.ndarray | None) -> pl.DataFrame:
        userids = customers["row"].to_numpy()
        with _one_blas_thread():
            ids, scores = self._model.recommend(userids, self._seen[userids] if exclude_seen else None, N=n,
                                                filter_already_liked_items=exclude_seen, items=items)
        # Slots emptied by exclude_seen come back at the lowest float32, with an arbitrary item.
        keep = (scores > np.finfo(scores.dtype).min).ravel()
        owner = np.repeat(np.arange(len(userids)), n)[keep]
        return pl.DataFrame({"customer_id": customers["customer_id"].gather(owner), "sku": self._sku_columns["sku"].gather(ids.ravel()[keep]),
                             "score": scores.ravel()[keep].astype(np.float64), "rank": np.tile(np.arange(1, n + 1), len(userids))[keep]})

    def similar_items(self, skus: Sequence[str] | pl.Series, n: int) -> pl.DataFrame:
        """The n SKUs nearest each known SKU by cosine of their factors (sku, similar_sku, score, rank), itself excluded."""
        columns = self._columns(skus)
        n = min(n, self._sku_columns.height - 1)
        if n <= 0 or len(columns) == 0:
            return pl.DataFrame(schema=SIMILAR_ITEMS)
        with _one_blas_thread():
            ids, scores = self._model.similar_items(columns, N=n + 1)
        # The SKU itself usually comes first, but a tie at cosine 1 may put it second: drop it wherever it is.
        others = ids != columns[:, None]
        rank = np.cumsum(others, axis=1)
        keep, sku = others & (rank <= n), self._sku_columns["sku"]
        return pl.DataFrame({"sku": sku.gather(np.broadcast_to(columns[:, None], ids.shape)[keep]), "similar_sku": sku.gather(ids[keep]),
                             "score": scores[keep].astype(np.float64), "rank": rank[keep].astype(np.int64)})

    def _columns(self, skus: Sequence[str] | pl.Series) -> np.ndarray:
        wanted = pl.DataFrame({"sku": pl.Series(skus, dtype=pl.String)}).unique(maintain_order=True)
        return wanted.join(self._sku_columns, on="sku", maintain_order="left")["column"].to_numpy()

    def save(self, path: Path) -> None:
        """Write factors and seen purchases to path/factors.npz, id maps and settings to path/ids.json (no pickle)."""
        path.mkdir(parents=True, exist_ok=True)
        np.savez(path / "factors.npz", user_factors=self.user_factors, item_factors=self.item_factors,
                 seen_data=self._seen.data, seen_indices=self._seen.indices, seen_indptr=self._seen.indptr)
        ids = {"settings": asdict(self._settings), "customer_ids": self.customer_ids, "skus": self.skus}
        (path / "ids.json").write_text(json.dumps(ids))

    @classmethod
    def load(cls, path: Path) -> CollaborativeFiltering:
        """Read a model written by save."""
        ids = json.loads((path / "ids.json").read_text())
        settings = CollaborativeSettings(**ids["settings"])
        model = _als(settings)
        with np.load(path / "factors.npz", allow_pickle=False) as arrays:
            model.user_factors, model.item_factors = arrays["user_factors"], arrays["item_factors"]
            seen = sp.csr_matrix((arrays["seen_data"], arrays["seen_indices"], arrays["seen_indptr"]),
                                 shape=(len(ids["customer_ids"]), len(ids["skus"])))
        return cls(model, settings, ids["customer_ids"], ids["skus"], seen)

    @property
    def user_factors(self) -> np.ndarray:
        """One row of factors per customer, in the order of customer_ids."""
        return self._model.user_factors

    @property
    def item_factors(self) -> np.ndarray:
        """One row of factors per SKU, in the order of skus."""
        return self._model.item_factors

    @property
    def customer_ids(self) -> list[str]:
        return self._customer_rows["customer_id"].to_list()

    @property
    def skus(self) -> list[str]:
        return self._sku_columns["sku"].to_list()
