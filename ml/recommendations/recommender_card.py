"""The recommender's model card: what it ranks, how it was judged, against what, and the decision."""

from __future__ import annotations

from ml.recommendations.recommendation_evaluation import CHAMPION, HYBRID

_SHOWN = ("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k", "hit_rate_at_k", "catalog_coverage", "novelty")


def metrics_table(metrics: dict[str, dict[str, float]]) -> str:
    """A Markdown table of every method's metrics, the hybrid and the champion last."""
    order = [m for m in metrics if m not in (HYBRID, CHAMPION)] + [m for m in (HYBRID, CHAMPION) if m in metrics]
    rows = ["| method | " + " | ".join(_SHOWN) + " |", "|---" * (len(_SHOWN) + 1) + "|"]
    rows += [f"| {name} | " + " | ".join(f"{metrics[name][column]:.4f}" for column in _SHOWN) + " |" for name in order]
    return "\n".join(rows)


def recommender_card(record: dict) -> str:
    """The MODEL_CARD.md of a recommender version (its version record with the decision)."""
    decision = record["decision"]
    return f"""# Recommender {record['version']}

**What it does.** Ranks, for each customer, the products they are most likely to buy next: an xgboost
learning-to-rank model (`rank:ndcg`) over the candidates of five methods (ALS collaborative filtering,
co-purchase, content and stated interests, buy-again, popularity) and features of fit (category
share, price, re-purchase cycles). Business rules are applied after it: only sellable products, nothing
bought lately unless a consumable is due, nothing sent back, at most a few per category.

**Trained** {record['trained_at']} on purchases before {record['as_of']}; labels are the purchases of the
last 30 days before that.

**Judged out of time**: trained as of {record['evaluation_cutoff']}, each customer's final list (after the
rules) against what they bought in the next {record['judge_days']} days; {record['customers_judged']:,} customers.
Re-buys count.

{metrics_table(record['metrics'])}

**Decision** ({decision['metric']}): {'promoted' if decision['promoted'] else 'not promoted'}: {decision['reason']}.

**Limits.** Customers who opted out of personalization get the shop's popular list, flagged
`recommendations_personalized = false`. The ranker holds no customer ids or purchases; the lists are
in the feature store, which the erasure stage clears.
"""
