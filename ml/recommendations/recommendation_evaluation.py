"""Every method and the hybrid judged the same way, out of time: trained on purchases before a
cutoff `judge_days` before the data ends, each customer's list (after the business rules) is judged
on what they bought in those days. Re-buys count: a due consumable is a good recommendation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import polars as pl

from ml.recommendations.business_rules import RuleSettings, admissible, apply_rules, sellable_skus
from ml.recommendations.candidate_pool import METHODS, fit_methods
from ml.recommendations.hybrid_ranker import HybridRanker, HybridSettings, candidate_features
from ml.recommendations.inputs import RecommendationInputs
from ml.recommendations.ranking_metrics import ranking_metrics

HYBRID = "hybrid"
CHAMPION = "champion"


@dataclass(frozen=True)
class RecommenderEvaluation:
    """Metrics per method (METHODS and `hybrid`), the cutoff, and how many customers were judged."""

    metrics: dict[str, dict[str, float]]
    cutoff: str
    judge_days: int
    customers: int
    ranker: HybridRanker | None = field(default=None, repr=False)
    """The hybrid trained for the judgement: it saw nothing of the judged days, so tomorrow's
    judgement of it as champion is fair too."""

    @property
    def hybrid_trained(self) -> bool:
        return self.ranker is not None

    def best_single_method(self, metric: str = "ndcg_at_k") -> str:
        """The single method (not the hybrid nor the champion's ranker) scoring best."""
        return max(METHODS, key=lambda m: self.metrics[m][metric])


def judged_lists(inputs: RecommendationInputs, customers: pl.Series, hybrid: HybridSettings, rules: RuleSettings,
                 champion: HybridRanker | None = None) -> tuple[dict[str, pl.DataFrame], HybridRanker | None]:
    """Each method's, the newly trained hybrid's and the `champion` ranker's final lists for
    `customers`, as of `inputs.as_of`: the rankers score the same candidates."""
    ranker = HybridRanker.train(inputs, hybrid)
    fitted = fit_methods(inputs, hybrid.collaborative, customers, hybrid.fit_customers)
    cycles = fitted.cycles
    # The rankers score only what the rules let a list show (filtering first changes no list).
    shown, candidates = candidate_features(inputs, customers, hybrid, fitted=fitted,
                                           keep=lambda pool: admissible(pool, inputs, cycles, rules))
    lists = {name: apply_rules(candidates[name], inputs, cycles, rules) for name in METHODS}
    for name, model in ((HYBRID, ranker), (CHAMPION, champion)):
        if model is not None:
            lists[name] = apply_rules(model.score(shown).select("customer_id", "sku", "score", "reason"), inputs, cycles, rules)
    return lists, ranker


def evaluate_recommenders(inputs: RecommendationInputs, *, judge_days: int = 30, k: int = 10,
                          max_customers: int = 20_000, hybrid: HybridSettings = HybridSettings(),
                          rules: RuleSettings = RuleSettings(), seed: int = 7,
                          champion: HybridRanker | None = None) -> RecommenderEvaluation:
    """Judge each method, a new hybrid and the `champion` ranker on the last `judge_days` of
    `inputs` (at most `max_customers` of that window's buyers, sampled)."""
    cutoff = inputs.as_of - timedelta(days=judge_days)
    past = inputs.before(cutoff)
    relevant = inputs.kept_purchases().filter(pl.col("ordered_at") >= cutoff).select("customer_id", "sku").unique()
    customers = relevant["customer_id"].unique().sort()
    if customers.len() > max_customers:
        customers = customers.sample(max_customers, seed=seed).sort()
    relevant = relevant.join(customers.to_frame(), on="customer_id", how="semi")
    lists, ranker = judged_lists(past, customers, hybrid, rules, champion)
    popularity = past.kept_purchases().group_by("sku").len("interactions")
    catalog = max(sellable_skus(inputs.products).height, 1)
    metrics = {name: ranking_metrics(frame.select("customer_id", "sku", "rank"), relevant, k=k, catalog_skus=catalog,
                                     item_popularity=popularity) for name, frame in lists.items()}
    return RecommenderEvaluation(metrics, cutoff.date().isoformat(), judge_days, customers.len(), ranker)
