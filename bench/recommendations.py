"""The nightly recommendation stage at scale: training, judging, scoring every customer, similar
products, and the files the feature store serves; per phase wall time and the process's peak memory.

The inputs are a simulated world's (the demo generator's people, catalog and orders with taste,
complements and re-buys), built straight from the simulation and cached as Parquet in the workdir,
so the figures are the recommendation stage's alone.

    uv run python bench/recommendations.py --customers 100000 [--workdir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from dagster_project.demo_exports.timeline import Timeline
from dagster_project.demo_exports.world import simulate_world
from ml.model_registry import ModelRegistry
from ml.recommendations.inputs import RecommendationInputs
from ml.recommendations.nightly_recommendations import recommend_nightly
from ml.recommendations.recommendation_files import write_recommendations, write_similar_products
from ml.recommendations.recommendation_report import served_coverage
from ml.recommendations.simulated_inputs import inputs_from_world

END_DATE = dt.date(2026, 11, 30)


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def cached_inputs(customers: int, workdir: Path) -> RecommendationInputs:
    """The simulated world's inputs, simulated once per size and read back after that."""
    folder = workdir / f"inputs_{customers}"
    if not (folder / "customers.parquet").exists():
        started = time.perf_counter()
        world = simulate_world(customers, Timeline(end_date=END_DATE, days=365), np.random.default_rng(42))
        inputs = inputs_from_world(world)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("purchases", "products", "customers"):
            getattr(inputs, name).write_parquet(folder / f"{name}.parquet")
        (folder / "as_of").write_text(inputs.as_of.isoformat())
        print(f"simulated {customers:,} people in {time.perf_counter() - started:.0f} s (cached in {folder})", flush=True)
    frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in ("purchases", "products", "customers")}
    return RecommendationInputs.of(**frames, as_of=dt.datetime.fromisoformat((folder / "as_of").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cxp-bench-recommendations")
    args = parser.parse_args()
    inputs = cached_inputs(args.customers, args.workdir)
    print(f"{inputs.customers.height:,} customers, {inputs.purchases.height:,} order lines, "
          f"{inputs.products.height:,} SKUs; peak so far {peak_gb():.1f} GB", flush=True)
    registry = ModelRegistry(Path(tempfile.mkdtemp(prefix="models-", dir=args.workdir)))
    started = time.perf_counter()
    night = recommend_nightly(inputs, registry, END_DATE)
    nightly = time.perf_counter() - started
    files = Path(tempfile.mkdtemp(prefix="features-", dir=args.workdir))
    started = time.perf_counter()
    write_recommendations(night.lists, END_DATE, files, keep_days=7)
    write_similar_products(night.similar, END_DATE, files, keep_days=7)
    written = time.perf_counter() - started
    evaluation = night.evaluation
    print(f"nightly stage (judge, train, decide, score, similar products): {nightly:.1f} s; "
          + ", ".join(f"{phase} {value:.0f} s" for phase, value in night.seconds.items()))
    print(f"files written: {written:.1f} s; lists {night.lists.height:,}, similar products {night.similar.height:,}; "
          f"catalog coverage of the served lists {served_coverage(night.lists, inputs.products):.1%}")
    if evaluation is not None:
        for name, values in evaluation.metrics.items():
            print(f"  {name:14} NDCG@10 {values['ndcg_at_k']:.4f}  hit rate {values['hit_rate_at_k']:.4f}  "
                  f"coverage {values['catalog_coverage']:.3f}")
    print(f"peak memory {peak_gb():.1f} GB")


if __name__ == "__main__":
    main()
