"""Per-customer incremental response (CATE) from a randomized experiment: the T-learner and the X-learner.

Both fit xgboost regressors of the outcome (e.g. a month's revenue) on features, one model per arm.
The T-learner's effect of an arm is its model minus the control model. The X-learner (Künzel, Sekhon,
Bickel and Yu, 2019) then imputes each customer's effect with the other arm's model (a treated
customer's outcome minus what the control model expects of them, and the reverse for control
customers), fits a model of those imputed effects in each arm, and blends the two by the propensity:
effect = e * from_control + (1 - e) * from_treated. The blend weights most the effects imputed with the
larger arm's outcome model, which helps when a treatment arm is small.

The propensity e is the arm's randomization share among the customers of that arm and control (the
counts observed in the training data, equal to the configured split up to chance). Assignment was
random, so it is the same for every customer and needs no propensity model.

Several treatment arms share one control: each arm's effect is estimated against the same control
model, and `predict` returns one column per arm, named as the arms were, for next-best action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
import numpy.typing as npt
import polars as pl
import xgboost as xgb

Features = np.ndarray | pl.DataFrame


@dataclass(frozen=True)
class UpliftSettings:
    """xgboost settings of every outcome and effect model: modest, fixed, no early stopping (each model
    would stop on its own outcome's error, which is not what decides how well their difference ranks)."""

    trees: int = 200
    max_depth: int = 3
    learning_rate: float = 0.05
    min_child_weight: float = 200.0
    """Customers per leaf, at least: revenue is noisy, and small leaves fit its outliers."""
    subsample: float = 0.8
    n_jobs: int = 2
    seed: int = 0


class UpliftModel:
    """The shared part of both learners: arms, feature columns, and the regressors they fit."""

    def __init__(self, settings: UpliftSettings = UpliftSettings(), *, control: str = "control") -> None:
        self.settings, self.control = settings, control
        self.arms: tuple[str, ...] = ()
        self._columns: list[str] | None = None

    def fit(self, features: Features, arm: npt.ArrayLike, outcome: npt.ArrayLike) -> Self:
        """Fit on an experiment's customers: features (numeric numpy matrix or polars frame, one row per
        customer), the arm each was randomized to (`control` or a treatment arm's name) and the outcome."""
        self._columns = list(features.columns) if isinstance(features, pl.DataFrame) else None
        x, labels = self._matrix(features), np.asarray(arm).astype(str).ravel()
        y = np.asarray(outcome, dtype=np.float64).ravel()
        if not x.shape[0] == labels.size == y.size:
            raise ValueError(f"features, arm and outcome differ in length ({x.shape[0]}, {labels.size}, {y.size})")
        if not np.isfinite(y).all():
            raise ValueError(f"{int((~np.isfinite(y)).sum())} outcomes are missing or infinite: fill them (0 revenue) upstream")
        self.arms = tuple(sorted(set(labels) - {self.control}))
        too_small = {name: int((labels == name).sum()) for name in (self.control, *self.arms) if (labels == name).sum() < 2}
        if too_small or not self.arms:
            raise ValueError(f"need at least 2 customers in {self.control!r} and in one treatment arm; got {too_small or 'no treatment arm'}")
        in_control = labels == self.control
        self._fit_arms(x[in_control], y[in_control], {name: (x[labels == name], y[labels == name]) for name in self.arms})
        return self

    def predict(self, features: Features) -> pl.DataFrame:
        """Each customer's estimated effect of each treatment arm on the outcome: one Float64 column per arm."""
        if not self.arms:
            raise ValueError("fit the model before predicting")
        x = self._matrix(features)
        return pl.DataFrame({name: self._effect(name, x) for name in self.arms})

    def _fit_arms(self, x_control: np.ndarray, y_control: np.ndarray, treated: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        raise NotImplementedError

    def _effect(self, arm: str, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _regressor(self, x: np.ndarray, y: np.ndarray) -> xgb.XGBRegressor:
        s = self.settings
        model = xgb.XGBRegressor(n_estimators=s.trees, max_depth=s.max_depth, learning_rate=s.learning_rate, min_child_weight=s.min_child_weight,
                                 subsample=s.subsample, n_jobs=s.n_jobs, random_state=s.seed, tree_method="hist")
        return model.fit(x, y)

    def _matrix(self, features: Features) -> np.ndarray:
        if isinstance(features, pl.DataFrame):
            if self._columns is None:
                raise ValueError("the model was fitted on a numpy matrix: predict on one too")
            missing = sorted(set(self._columns) - set(features.columns))
            if missing:
                raise ValueError(f"features lack the columns the model was fitted on: {missing}")
            # By name, so a frame with its columns in another order is read the same way.
            frame = features.select(self._columns)
            text = [name for name, dtype in frame.schema.items() if not (dtype.is_numeric() or dtype == pl.Boolean)]
            if text:
                raise ValueError(f"features must be numeric or boolean; encode {text} first (e.g. one is_* column per segment)")
            return frame.cast(pl.Float64).to_numpy()
        matrix = np.asarray(features, dtype=np.float64)
        if matrix.ndim != 2:
            raise ValueError(f"features must be a 2-d matrix (customers x features), got {matrix.ndim} dimensions")
        return matrix


class TLearner(UpliftModel):
    """Effect = the arm's outcome model minus the control's outcome model."""

    def _fit_arms(self, x_control: np.ndarray, y_control: np.ndarray, treated: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self._control_model = self._regressor(x_control, y_control)
        self._arm_models = {name: self._regressor(x, y) for name, (x, y) in treated.items()}

    def _effect(self, arm: str, x: np.ndarray) -> np.ndarray:
        return (self._arm_models[arm].predict(x) - self._control_model.predict(x)).astype(np.float64)


class XLearner(UpliftModel):
    """Effect = e * (model of imputed effects on control) + (1 - e) * (model of imputed effects on the treated)."""

    def _fit_arms(self, x_control: np.ndarray, y_control: np.ndarray, treated: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        control_model = self._regressor(x_control, y_control)
        self._stages: dict[str, tuple[float, xgb.XGBRegressor, xgb.XGBRegressor]] = {}
        for name, (x, y) in treated.items():
            arm_model = self._regressor(x, y)
            from_control = self._regressor(x_control, arm_model.predict(x_control) - y_control)
            from_treated = self._regressor(x, y - control_model.predict(x))
            self._stages[name] = (len(y) / (len(y) + len(y_control)), from_control, from_treated)

    def _effect(self, arm: str, x: np.ndarray) -> np.ndarray:
        share, from_control, from_treated = self._stages[arm]
        return (share * from_control.predict(x) + (1 - share) * from_treated.predict(x)).astype(np.float64)
