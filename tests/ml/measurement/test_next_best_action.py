"""Next-best action: the constraints each hold (on hand-made customers), and on simulated customers the
plan adds more true value than any one action for everyone or a random allocation."""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from ml.measurement.next_best_action import NO_ACTION, Action, ContactPolicy, choose_next_best_actions
from ml.measurement.simulated_uplift import ACTIONS, CONTROL, FEATURES, simulate_uplift_experiment
from ml.measurement.uplift_models import TLearner

AS_OF = date(2025, 3, 1)
DISCOUNT = Action("discount_offer", 1.00, "a 15% discount")
BANNER = Action("onsite_banner", 0.00, "an on-site banner", channel=None)


def _plan(rows: list[dict], actions=(DISCOUNT, BANNER), policy=ContactPolicy()):
    """Customers given as {customer_id, uplift per action, and any of in_holdout, last_contacted_at, can_email}."""
    defaults = {"in_holdout": False, "last_contacted_at": None, "can_email": True}
    customers = pl.DataFrame([{**defaults, **row} for row in rows]).with_columns(pl.col("last_contacted_at").cast(pl.Date))
    uplift = customers.select("customer_id", *[pl.col(a.name).cast(pl.Float64) for a in actions])
    plan = choose_next_best_actions(customers.drop([a.name for a in actions]), uplift, actions, as_of=AS_OF, policy=policy)
    return plan, {row["customer_id"]: row for row in plan.assignments.iter_rows(named=True)}


def test_each_customer_gets_the_action_adding_most_value_net_of_cost_with_a_readable_reason():
    plan, chosen = _plan([{"customer_id": "a", "discount_offer": 5.20, "onsite_banner": 0.50}])
    assert chosen["a"]["action"] == "discount_offer"
    assert chosen["a"]["expected_incremental_value"] == pytest.approx(4.20)
    assert chosen["a"]["reason"] == "a 15% discount is expected to add $4.20 for this customer, net of its $1.00 cost"


def test_no_action_is_chosen_when_every_action_loses_value():
    # The discount adds $0.90 but costs $1; the banner adds nothing.
    _, chosen = _plan([{"customer_id": "f", "discount_offer": 0.90, "onsite_banner": 0.0}])
    assert chosen["f"]["action"] == NO_ACTION and chosen["f"]["reason"] == "no action adds value"
    assert chosen["f"]["expected_incremental_value"] == 0.0


def test_customers_who_cannot_be_emailed_get_only_actions_that_need_no_email():
    _, chosen = _plan([{"customer_id": "b", "can_email": False, "discount_offer": 5.20, "onsite_banner": 0.50},
                       {"customer_id": "g", "can_email": False, "discount_offer": 5.20, "onsite_banner": -1.0}])
    assert chosen["b"]["action"] == "onsite_banner"
    assert chosen["g"]["action"] == NO_ACTION and "consented" in chosen["g"]["reason"]


def test_holdout_customers_get_no_action_and_are_flagged():
    _, chosen = _plan([{"customer_id": "c", "in_holdout": True, "discount_offer": 5.20, "onsite_banner": 0.50}])
    assert chosen["c"]["action"] == NO_ACTION and chosen["c"]["in_holdout"]
    assert chosen["c"]["reason"] == "in the measurement holdout"


def test_customers_contacted_within_the_cap_are_not_contacted_again():
    _, chosen = _plan([
        {"customer_id": "d", "last_contacted_at": date(2025, 2, 27), "discount_offer": 5.20, "onsite_banner": -1.0},  # 2 days ago
        {"customer_id": "e", "last_contacted_at": date(2025, 2, 22), "discount_offer": 5.20, "onsite_banner": -1.0},  # 7 days ago: past the cap
        {"customer_id": "h", "last_contacted_at": date(2025, 2, 27), "discount_offer": 5.20, "onsite_banner": 0.50},  # a banner is no contact
    ], policy=ContactPolicy(frequency_cap_days=7))
    assert chosen["d"]["action"] == NO_ACTION and chosen["d"]["reason"] == "contacted within the last 7 days"
    assert chosen["e"]["action"] == "discount_offer"
    assert chosen["h"]["action"] == "onsite_banner"


def test_the_budget_is_spent_where_it_adds_most_and_never_exceeded():
    rows = [{"customer_id": "i", "discount_offer": 3.00}, {"customer_id": "j", "discount_offer": 5.20}]
    plan, chosen = _plan(rows, actions=(DISCOUNT,), policy=ContactPolicy(budget_usd=1.50))
    assert chosen["j"]["action"] == "discount_offer" and chosen["i"]["action"] == NO_ACTION
    assert chosen["i"]["reason"] == "the budget went to customers where it adds more"
    assert plan.spend_usd == 1.00
    unlimited, _ = _plan(rows, actions=(DISCOUNT,))
    assert unlimited.spend_usd == 2.00  # without the budget both would get it


def test_the_summary_counts_customers_value_and_spend_per_action():
    plan, _ = _plan([{"customer_id": "a", "discount_offer": 5.20, "onsite_banner": 0.50},
                     {"customer_id": "b", "can_email": False, "discount_offer": 5.20, "onsite_banner": 0.50},
                     {"customer_id": "f", "discount_offer": 0.90, "onsite_banner": 0.0}])
    assert plan.summary.rows() == [("discount_offer", 1, pytest.approx(4.20), 1.0), ("onsite_banner", 1, 0.50, 0.0), (NO_ACTION, 1, 0.0, 0.0)]
    assert plan.expected_incremental_value == pytest.approx(4.70) and plan.spend_usd == 1.0


def test_missing_inputs_are_refused():
    customers = pl.DataFrame({"customer_id": ["a"], "in_holdout": [False], "last_contacted_at": [None]})
    with pytest.raises(ValueError, match="can_email"):
        choose_next_best_actions(customers, pl.DataFrame({"customer_id": ["a"], "discount_offer": [1.0]}), [DISCOUNT], as_of=AS_OF)
    with pytest.raises(ValueError, match="uplift lacks"):
        choose_next_best_actions(customers, pl.DataFrame({"customer_id": ["a"]}), [BANNER], as_of=AS_OF)
    with pytest.raises(ValueError, match="more than once"):  # a customer listed twice would get two actions
        choose_next_best_actions(pl.concat([customers, customers]), pl.DataFrame({"customer_id": ["a"], "onsite_banner": [1.0]}),
                                 [BANNER], as_of=AS_OF)


def test_no_customers_give_an_empty_plan_that_still_lists_every_action():
    customers = pl.DataFrame(schema={"customer_id": pl.String, "in_holdout": pl.Boolean, "last_contacted_at": pl.Date, "can_email": pl.Boolean})
    uplift = pl.DataFrame(schema={"customer_id": pl.String, "discount_offer": pl.Float64, "onsite_banner": pl.Float64})
    plan = choose_next_best_actions(customers, uplift, [DISCOUNT, BANNER], as_of=AS_OF)
    assert plan.assignments.is_empty() and plan.spend_usd == 0.0
    assert plan.summary.rows() == [("discount_offer", 0, 0.0, 0.0), ("onsite_banner", 0, 0.0, 0.0), (NO_ACTION, 0, 0.0, 0.0)]


COST = {"discount_offer": 3.00, "content_email": 0.05, "recommendation_email": 0.05}
SIMULATED_ACTIONS = [Action(name, COST[name], name.replace("_", " ")) for name in ACTIONS]


@pytest.fixture(scope="module")
def simulated():
    """A T-learner fitted on a 4-arm experiment of 40k customers; 20k new customers to plan for, with their true effects."""
    rng = np.random.default_rng(21)
    experiment = simulate_uplift_experiment(40_000, rng, arms=(CONTROL, *ACTIONS), salt="nba-experiment")
    model = TLearner().fit(experiment.features.select(FEATURES), experiment.arm, experiment.outcome)
    new = simulate_uplift_experiment(20_000, rng, salt="nba-new-customers")
    uplift = pl.concat([new.features.select("customer_id"), model.predict(new.features.select(FEATURES))], how="horizontal")
    # True net value of each action for each customer, no action last.
    truth = np.column_stack([new.true_effect[name] - COST[name] for name in ACTIONS] + [np.zeros(new.outcome.size)])
    return new, uplift, truth


def _true_value(plan, truth) -> float:
    column = {name: i for i, name in enumerate([*ACTIONS, NO_ACTION])}
    chosen = np.array([column[action] for action in plan.assignments["action"]])
    return float(truth[np.arange(truth.shape[0]), chosen].sum())


def test_next_best_action_adds_more_true_value_than_one_action_for_all_or_a_random_one(simulated):
    new, uplift, truth = simulated
    customers = new.features.select("customer_id").with_columns(
        in_holdout=False, last_contacted_at=pl.lit(None, dtype=pl.Date), can_email=True)
    planned = _true_value(choose_next_best_actions(customers, uplift, SIMULATED_ACTIONS, as_of=AS_OF), truth)
    best_single = truth.sum(axis=0).max()  # with hindsight: the action whose true total is highest
    random = truth[np.arange(truth.shape[0]), np.random.default_rng(0).integers(0, truth.shape[1], truth.shape[0])].sum()
    assert planned > 1.5 * best_single > 0 and planned > random


def test_on_simulated_customers_every_constraint_holds_at_once(simulated):
    new, uplift, _ = simulated
    rng = np.random.default_rng(3)
    n = new.outcome.size
    days_ago = rng.integers(0, 60, n)
    customers = new.features.select("customer_id").with_columns(
        in_holdout=pl.Series(rng.random(n) < 0.05), can_email=pl.Series(rng.random(n) < 0.8),
        last_contacted_at=pl.Series([AS_OF - timedelta(days=int(days)) if days < 30 else None for days in days_ago], dtype=pl.Date))
    plan = choose_next_best_actions(customers, uplift, SIMULATED_ACTIONS, as_of=AS_OF, policy=ContactPolicy(frequency_cap_days=7, budget_usd=1500.0))
    contacted = plan.assignments.join(customers.drop("in_holdout"), on="customer_id").filter(pl.col("action") != NO_ACTION)
    assert contacted.height > 1000 and 1500.0 - COST["discount_offer"] <= plan.spend_usd <= 1500.0
    assert not contacted["in_holdout"].any() and contacted["can_email"].all()
    assert (contacted["last_contacted_at"].is_null() | (contacted["last_contacted_at"] <= AS_OF - timedelta(days=7))).all()
    assert (contacted["expected_incremental_value"] > 0).all()
