"""cxp's own assignments: drawn once, recorded with their time, never reshuffled; merges follow the documented rule."""

from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from ml.measurement.assignment_ledger import HOLDOUT, LEDGER_TABLE, current_assignments, holdout_customers, record_assignments
from ml.measurement.experiment_settings import (
    ExperimentSettings,
    HoldoutSettings,
    LoggedExperimentDefaults,
    MeasurementSettings,
    load_measurement_settings,
)

NIGHT_1, NIGHT_2 = datetime(2027, 1, 10, 3), datetime(2027, 1, 11, 3)
NO_MERGES = pl.DataFrame(schema={"retired_customer_id": pl.String, "current_customer_id": pl.String})


def settings(share: float = 0.2, salt: str = "global-holdout", **experiments: ExperimentSettings) -> MeasurementSettings:
    return MeasurementSettings(holdout=HoldoutSettings(share=share, salt=salt), experiments=experiments,
                               logged_experiments=LoggedExperimentDefaults(horizon_days=60, primary_metric="conversion",
                                                                           control_arms=["control"]),
                               next_best_action=load_measurement_settings().next_best_action)


def customers(ids: list[str], **columns) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": ids, "country_code": columns.get("country", ["US"] * len(ids)),
                         "is_email_marketable": columns.get("marketable", [True] * len(ids)), "orders": columns.get("orders", [1] * len(ids))})


@pytest.fixture
def connection():
    with duckdb.connect() as connection:
        yield connection


def standing(connection, experiment_id: str = HOLDOUT) -> dict[str, str]:
    frame = current_assignments(connection).filter(pl.col("experiment_id") == experiment_id)
    return dict(zip(frame["customer_id"], frame["arm"]))


def test_a_rerun_and_another_night_add_only_new_customers_and_move_nobody(connection):
    ids = [f"cus_{i:04d}" for i in range(2000)]
    first = record_assignments(connection, settings(), NIGHT_1, customers(ids), NO_MERGES)
    assert first.added[HOLDOUT] == 2000 and 0.17 < len(holdout_customers(connection)) / 2000 < 0.23
    before = standing(connection)
    again = record_assignments(connection, settings(), NIGHT_1, customers(ids), NO_MERGES)
    assert again.added[HOLDOUT] == 0 and standing(connection) == before
    record_assignments(connection, settings(), NIGHT_2, customers([*ids, "cus_new"]), NO_MERGES)
    after = standing(connection)
    assert {k: v for k, v in after.items() if k != "cus_new"} == before and "cus_new" in after
    times = dict(connection.execute(f"SELECT customer_id, assigned_at FROM {LEDGER_TABLE}").fetchall())
    assert times["cus_0000"] == NIGHT_1.replace(tzinfo=None) and times["cus_new"] == NIGHT_2


def test_a_new_share_or_salt_applies_to_new_customers_only(connection):
    ids = [f"cus_{i:04d}" for i in range(500)]
    record_assignments(connection, settings(share=0.2), NIGHT_1, customers(ids), NO_MERGES)
    before = standing(connection)
    record_assignments(connection, settings(share=0.5, salt="reshuffled"), NIGHT_2, customers([*ids, *(f"new_{i}" for i in range(500))]), NO_MERGES)
    after = standing(connection)
    assert all(after[key] == arm for key, arm in before.items())
    assert 0.4 < sum(after[f"new_{i}"] == "holdout" for i in range(500)) / 500 < 0.6


def test_a_merge_keeps_the_survivors_own_assignment_and_a_new_survivor_takes_the_earliest(connection):
    record_assignments(connection, settings(share=0.5), NIGHT_1, customers(["old", "other", "retired_a", "retired_b"]), NO_MERGES)
    night_1 = standing(connection)
    # "other" merged into "old": old keeps its own. retired_a and retired_b merged into an id first seen tonight.
    merges = pl.DataFrame({"retired_customer_id": ["other", "retired_a", "retired_b"], "current_customer_id": ["old", "fresh", "fresh"]})
    update = record_assignments(connection, settings(share=0.5), NIGHT_2, customers(["old", "fresh"]), merges)
    assert update.inherited[HOLDOUT] == 1 and update.added[HOLDOUT] == 0
    after = standing(connection)
    assert after["old"] == night_1["old"]
    # Both retired ids were assigned the same night: the earlier id in order stands.
    assert after["fresh"] == night_1["retired_a"]
    rule, assigned_at = connection.execute(f"SELECT rule, assigned_at FROM {LEDGER_TABLE} WHERE customer_id = 'fresh'").fetchall()[0]
    assert rule == "merge" and assigned_at == NIGHT_1


def test_a_configured_experiment_assigns_its_eligible_customers_while_it_runs(connection):
    winback = ExperimentSettings(name="Win-back", arms={"control": 0.5, "discount_15": 0.5}, start=date(2027, 1, 11), horizon_days=30,
                                 primary_metric="revenue_per_customer", eligibility={"min_orders": 1, "countries": ["us"]})
    ids = [f"cus_{i:04d}" for i in range(400)]
    frame = customers(ids, country=["US", "DE"] * 200, orders=[0, 1, 2, 3] * 100)
    assert "winback" not in record_assignments(connection, settings(winback=winback), NIGHT_1, frame, NO_MERGES).added
    record_assignments(connection, settings(winback=winback), NIGHT_2, frame, NO_MERGES)
    arms = standing(connection, "winback")
    eligible = frame.filter((pl.col("country_code") == "US") & (pl.col("orders") >= 1))["customer_id"].to_list()
    assert sorted(arms) == sorted(eligible) and set(arms.values()) == {"control", "discount_15"}


def test_audience_files_list_each_arm_with_an_email_only_where_mail_is_allowed(connection, tmp_path):
    from ml.measurement.audience_files import write_audience_files

    connection.execute("CREATE SCHEMA marts")
    connection.execute("CREATE TABLE marts.dim_customers AS SELECT * FROM (VALUES ('a', 'a@example.com', true), "
                       "('b', 'b@example.com', false), ('gone', 'x@example.com', true)) AS t(customer_id, email, is_email_marketable)")
    record_assignments(connection, settings(share=0.5), NIGHT_1, customers(["a", "b", "gone"]), NO_MERGES)
    (tmp_path / "old-experiment.csv").write_text("customer_id\n")
    connection.execute("DELETE FROM marts.dim_customers WHERE customer_id = 'gone'")  # erased tonight
    files = write_audience_files(connection, tmp_path)
    assert set(files) == {HOLDOUT} and not (tmp_path / "old-experiment.csv").exists()
    rows = pl.read_csv(files[HOLDOUT])
    assert rows.columns == ["customer_id", "email", "arm", "assigned_at"]
    assert rows["customer_id"].to_list() == ["a", "b"] and rows["email"].to_list() == ["a@example.com", None]
    assert set(rows["arm"]) <= {"holdout", "personalized"} and rows["assigned_at"][0] == "2027-01-10T03:00:00Z"
