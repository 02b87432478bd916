"""A small simulated world's recommendation inputs, shared by the engine's tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from dagster_project.demo_exports.timeline import Timeline
from dagster_project.demo_exports.world import simulate_world
from ml.recommendations.inputs import RecommendationInputs
from ml.recommendations.simulated_inputs import inputs_from_world


@pytest.fixture(scope="session")
def demo_inputs() -> RecommendationInputs:
    """4,000 simulated people over a year: a few thousand orders with taste, complements and re-buys."""
    world = simulate_world(4_000, Timeline(end_date=dt.date(2026, 11, 30), days=365), np.random.default_rng(3))
    return inputs_from_world(world)
