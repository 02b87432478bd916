"""Consent and erasure over real nights of the whole pipeline, read back over HTTP and from every store.

A generated business runs to three days ago. Night 1: one customer opts out of personalization in
the CRM, and another person asks to be erased. Night 2: the first customer opts in again, and an
old orders export that holds the erased person is delivered again. Where redis-server is installed
the platform serves from Redis from night 1 on (an installation that moved off the embedded SQLite
store), so the erasure must reach both online stores; elsewhere SQLite serves throughout, and only
the tests of the Redis store skip (fail in CI, CXP_REQUIRE_REDIS).
"""

import csv
import datetime as dt

import dagster as dg
import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.cli.run_pipeline import run_pipeline
from dagster_project.ingest.contracts import CRM_CONTACTS
from dagster_project.settings import load_settings
from feature_repo.customer_scores import SCORE_FIELDS
from feature_repo.definitions import open_feature_store
from feature_repo.online_store import materialize_online, materialize_scores_online
from tests.features.feature_server import online_features, running_feature_server
from tests.ml.test_nightly_models import generated_model_home, point_models_at
from tests.privacy.traces import Person, find_traces
from tests.quality.test_quality_gates import point_platform_at
from tests.redis_server import redis_if_installed

pytestmark = pytest.mark.slow(minutes=6)

TODAY = dt.datetime.now(dt.timezone.utc).date()
LAST_DAY, NIGHT_1, NIGHT_2 = TODAY - dt.timedelta(days=2), TODAY - dt.timedelta(days=1), TODAY
REQUEST_ID = "ER-test-0001"


def _erasure_subject(landing) -> dict:
    """A person with a CRM contact, orders, emails and tickets, whose name, email and phone are theirs alone."""
    people = pl.read_parquet(landing / "_truth" / "people.parquet")
    records = pl.read_parquet(landing / "_truth" / "source_records.parquet")
    sources = records.group_by("person_id").agg(pl.col("source").unique().alias("sources"),
                                                (pl.col("source") == "shopify_order").sum().alias("orders"),
                                                pl.col("is_shared").any().alias("shared"))
    unique_name = people.group_by("first_name", "last_name").len().filter(pl.col("len") == 1).drop("len")
    unique_phone = people.group_by("phone_e164").len().filter(pl.col("len") == 1).drop("len")
    candidates = (people.join(sources, on="person_id").join(unique_name, on=["first_name", "last_name"])
                  .join(unique_phone, on="phone_e164")
                  .filter(~pl.col("erasure_requested") & pl.col("household_id").is_null() & ~pl.col("email_is_shared")
                          & ~pl.col("shared") & (pl.col("orders") >= 2) & pl.col("alternative_email").is_not_null()
                          & pl.col("sources").list.contains("zendesk_requester") & pl.col("sources").list.contains("crm_contact")
                          & pl.col("sources").list.contains("sendgrid_recipient"))
                  .sort("person_id"))
    assert not candidates.is_empty()
    person = candidates.row(0, named=True)
    person["source_keys"] = records.filter(pl.col("person_id") == person["person_id"])["source_key"].to_list()
    return person


def _hold_back(landing, held, night: dt.date) -> None:
    """Take a night's generated exports out of the landing zone until that night."""
    for path in landing.glob(f"*/*_{night}.*"):
        (held / path.parent.name).mkdir(parents=True, exist_ok=True)
        path.rename(held / path.parent.name / path.name)


def _deliver(held, landing, night: dt.date) -> None:
    for path in held.glob(f"*/*_{night}.*"):
        path.rename(landing / path.parent.name / path.name)


def _append_crm_change(home, contact_id: str, night: dt.date, opted_out: bool) -> None:
    """The contact's latest row as delivered, changed on `night` (only its personalization flag),
    added to that night's CRM export."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        row = connection.sql('SELECT * EXCLUDE (_extract_date, _source_file, _line_number, _loaded_at) FROM raw.crm_contacts '
                             'WHERE "Contact ID" = ? ORDER BY "Last Modified Date" DESC LIMIT 1', params=[contact_id]).pl()
    row = row.with_columns(pl.lit("1" if opted_out else "0").alias("Personalization Opt Out"),
                           pl.lit(f"{night}T12:00:00.000Z").alias("Last Modified Date"))
    path = home / "landing" / "crm" / f"contacts_{night}.csv"
    assert path.exists(), "the generated CRM export of the night is missing: pick another seed"
    with open(path, encoding="utf-8-sig", newline="") as file:
        header = next(csv.reader(file))  # the report may carry columns beyond the contract's
    values = row.select(CRM_CONTACTS.columns).row(0, named=True)
    with open(path, "a", newline="", encoding="utf-8") as file:
        csv.writer(file).writerow(["" if values.get(column) is None else values[column] for column in header])


def _append_erasure_request(home, email: str, night: dt.date) -> None:
    path = home / "landing" / "privacy" / f"erasure_requests_{night}.csv"
    with open(path, "a", newline="", encoding="utf-8") as file:
        csv.writer(file).writerow([REQUEST_ID, f"  {email.upper()} ", f"{night}T09:30:00Z"])  # as typed into a form


def _customer_of(home, record_ids: list[str]) -> list[str]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        return sorted({customer for (customer,) in connection.execute(
            "SELECT customer_id FROM marts.customer_identity_map WHERE record_id IN (SELECT unnest(?::VARCHAR[]))", [record_ids]
        ).fetchall()})


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """The home after the first run, night 1 and night 2, with what each test needs to look for. Redis
    is searched apart from the files, so that only the tests of the Redis store need redis-server."""
    home = generated_model_home(tmp_path_factory.mktemp("trust"), customers=1500, days=150, seed=31, end_date=NIGHT_2)
    held = home / "held_back"
    for night in (NIGHT_1, NIGHT_2):
        _hold_back(home / "landing", held, night)
    subject = _erasure_subject(home / "landing")
    with pytest.MonkeyPatch.context() as monkeypatch, redis_if_installed(home) as redis:
        point_models_at(home, monkeypatch)
        first = run_pipeline(load_settings())
        assert first.success, first.failed_steps
        state = {"home": home, "redis": redis, "subject": subject}

        # The subject's records and customer id, as the platform resolved them.
        record_ids = [f"{source}:{key}" for source, key in pl.read_parquet(home / "landing" / "_truth" / "source_records.parquet")
                      .filter(pl.col("person_id") == subject["person_id"]).select("source", "source_key").iter_rows()]
        state["subject_customers"] = _customer_of(home, record_ids)
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
            state["subject_order_files"] = sorted({path for (path,) in connection.execute(
                'SELECT DISTINCT _source_file FROM raw.ecommerce_orders WHERE "Id" IN (SELECT unnest(?::VARCHAR[]))',
                [subject["source_keys"]]).fetchall()})
            # The consent subject: a scored customer with one CRM contact, never opted out.
            toggler = connection.execute("""
                SELECT m.customer_id, any_value(split_part(m.record_id, ':', 2)) AS contact_id
                FROM marts.customer_identity_map AS m JOIN marts.dim_customers AS c USING (customer_id)
                WHERE m.record_id LIKE 'crm_contact:%' AND NOT c.is_personalization_opted_out AND c.customer_id <> ALL(?::VARCHAR[])
                GROUP BY m.customer_id HAVING count(*) = 1 ORDER BY m.customer_id
            """, [state["subject_customers"]]).fetchall()
        scores = pl.read_parquet(sorted((home / "features" / "customer_scores").glob("2*/data_0.parquet"))[-1])
        scored = set(scores.filter(pl.col("purchase_probability").is_not_null())["customer_id"])
        state["toggler"], state["toggler_contact"] = next((c, contact) for c, contact in toggler if c in scored)
        state["person"] = Person(
            strings=[value for value in (subject["email"], subject["alternative_email"], subject["phone_e164"]) if value]
            + subject["source_keys"] + state["subject_customers"],
            first_name=subject["first_name"], last_name=subject["last_name"])
        state["traces_before"] = find_traces(home, state["person"], skip=("landing", "held_back"))

        # From night 1 on the platform serves from Redis where it runs, filled from the files as they are now.
        settings = load_settings()
        if redis.port is not None:
            monkeypatch.setenv("CXP_ONLINE_STORE", "redis")
            monkeypatch.setenv("CXP_REDIS", f"127.0.0.1:{redis.port},db=0")
            settings = load_settings()
            redis_store = open_feature_store(settings)
            materialize_online(redis_store, settings)
            materialize_scores_online(redis_store, LAST_DAY)
            state["redis_traces_before"] = find_traces(home, state["person"], redis_port=redis.port, files=False)

        _deliver(held, home / "landing", NIGHT_1)
        _append_crm_change(home, state["toggler_contact"], NIGHT_1, opted_out=True)
        _append_erasure_request(home, subject["email"], NIGHT_1)
        state["night_1"] = run_pipeline(settings, extract_date=NIGHT_1)
        with running_feature_server(home) as url:
            state["served_night_1"] = online_features(url, "personalization_app", [state["toggler"], *state["subject_customers"]])
        state["traces_night_1"] = find_traces(home, state["person"], skip=("landing", "held_back"))
        if redis.port is not None:
            state["redis_traces_night_1"] = find_traces(home, state["person"], redis_port=redis.port, files=False)

        _deliver(held, home / "landing", NIGHT_2)
        _append_crm_change(home, state["toggler_contact"], NIGHT_2, opted_out=False)
        old_file = home / "landing" / state["subject_order_files"][0]
        old_file.write_bytes(old_file.read_bytes())  # delivered again, as it was
        state["night_2"] = run_pipeline(settings, extract_date=NIGHT_2)
        state["redelivery"] = run_pipeline(settings, extract_date=dt.date.fromisoformat(old_file.stem.rsplit("_", 1)[1]))
        with dg.DagsterInstance.get() as instance:
            loaded = instance.get_latest_materialization_event(dg.AssetKey(["raw", "ecommerce_orders"])).asset_materialization
            state["redelivery_suppressed"] = loaded.metadata["rows_suppressed"].value
        with running_feature_server(home) as url:
            state["served_night_2"] = online_features(url, "personalization_app", [state["toggler"]])
        state["traces_night_2"] = find_traces(home, state["person"], skip=("landing", "held_back"))
        if redis.port is not None:
            state["redis_traces_night_2"] = find_traces(home, state["person"], redis_port=redis.port, files=False)
        yield state


@pytest.fixture
def redis_nights(nights):
    """The nights, for a test of the Redis online store: skipped without redis-server, failed in CI."""
    nights["redis"].require()
    return nights


def test_the_search_finds_the_person_before_the_erasure(nights):
    # Without this the later "nothing found" would prove nothing.
    found = nights["traces_before"]
    for place in ("raw.crm_contacts", "raw.ecommerce_orders", "raw.email_events", "raw.support_tickets", "marts.dim_customers",
                  "identity.customer_id_assignments", "features.customer_purchase_features"):
        assert any(place in line for line in found), (place, found)
    assert any(line.startswith("features/customer_scores/") for line in found)
    assert any(line.startswith("features/customer_recommendations/") for line in found)
    assert any(line.startswith("models/") and "training_set.parquet" in line for line in found)
    assert any(line.startswith("feature_store/online_store.db") for line in found)


def test_an_erased_person_leaves_no_trace_in_any_store(nights):
    assert nights["night_1"].success, nights["night_1"].failed_steps
    assert nights["traces_night_1"] == []
    served = nights["served_night_1"]
    # Read over HTTP from personalization_app, which serves their recommended products too.
    assert {"recommended_skus", "recommendation_reasons", "recommendations_personalized"} <= set(served)
    subject_rows = range(1, len(nights["subject_customers"]) + 1)
    assert all(served[name][row] is None for name in served if name != "customer_id" for row in subject_rows)


def test_re_delivered_old_exports_do_not_bring_the_person_back(nights):
    assert nights["night_2"].success and nights["redelivery"].success, nights["redelivery"].failed_steps
    assert nights["traces_night_2"] == []
    # The file's rows of the person were read, and kept out by the suppression list.
    assert nights["redelivery_suppressed"] >= 1


def test_the_audit_log_records_the_erasure_without_personal_data(nights, monkeypatch):
    with duckdb.connect(str(nights["home"] / "warehouse.duckdb"), read_only=True) as connection:
        processed = connection.sql("SELECT * FROM privacy.erasure_requests_processed WHERE request_id = ?", params=[REQUEST_ID]).pl()
        log = connection.sql("SELECT * FROM privacy.erasure_audit_log WHERE request_id = ?", params=[REQUEST_ID]).pl()
        hashes = connection.sql("SELECT * FROM privacy.suppression_list WHERE request_id = ?", params=[REQUEST_ID]).pl()
    assert processed.height == 1 and processed["outcome"][0] == "erased"
    assert processed["received_at"][0] == dt.datetime.combine(NIGHT_1, dt.time(9, 30))
    assert processed["customers_erased"][0] == len(nights["subject_customers"])
    stores = dict(log.group_by("store").agg(pl.col("rows_deleted").sum()).iter_rows())
    assert {"warehouse", "feature files", "model registry", "online store"} <= set(stores) and min(stores.values()) > 0
    locations = set(log["location"])
    assert {"raw.crm_contacts", "raw.ecommerce_orders", "raw.email_events", "raw.support_tickets", "raw.privacy_erasure_requests"} <= locations
    assert "sqlite" in set(log.filter(pl.col("store") == "online store")["location"])
    assert processed["rows_deleted"][0] == log["rows_deleted"].sum()
    # The suppression list: one salted hash per identifier, none of them readable.
    assert hashes.height == processed["identifiers_suppressed"][0] >= 4
    assert hashes["identifier_hash"].str.len_chars().eq(64).all()
    point_platform_at(nights["home"], monkeypatch)
    shown = CliRunner().invoke(main, ["erasures"], catch_exceptions=False).output
    assert f"{REQUEST_ID}: received {NIGHT_1} 09:30:00" in shown and "raw.support_tickets" in shown
    everything = shown + " ".join(str(value) for frame in (processed, log, hashes) for value in frame.to_dicts())
    assert not [needle for needle in nights["person"].strings if needle.lower() in everything.lower()]
    assert oct((nights["home"] / "privacy" / "suppression_salt").stat().st_mode & 0o777) == "0o600"


def test_opting_out_and_in_again_is_served_online_on_the_next_night(nights):
    before, after = nights["served_night_1"], nights["served_night_2"]
    # Night 1: opted out, so no score, reason or version, and the flag says why.
    assert before["personalization_allowed"][0] is False and before["is_personalization_opted_out"][0] is True
    # Every score of the customer_scores view is null (their purchase features, e.g. revenue, are facts, not scores).
    scores = [field.name for field in SCORE_FIELDS if field.name not in ("personalization_allowed", "in_holdout")]
    assert all(before[name][0] is None for name in scores if name in before) and "churn_probability" in before
    # Night 2: opted in again; scored and served with reasons.
    assert after["personalization_allowed"][0] is True and after["is_personalization_opted_out"][0] is False
    assert after["purchase_probability"][0] is not None and after["propensity_model_version"][0] is not None
    assert after["propensity_reason_1"][0] is not None


def test_an_erased_person_leaves_no_trace_in_the_redis_online_store(redis_nights):
    # Found there before the erasure, so that "nothing found" after it proves something.
    assert any(line.startswith("redis key") for line in redis_nights["redis_traces_before"])
    assert redis_nights["night_1"].success, redis_nights["night_1"].failed_steps
    assert redis_nights["redis_traces_night_1"] == []
    # Nor did the export delivered again on night 2 bring the person back there.
    assert redis_nights["redis_traces_night_2"] == []
    with duckdb.connect(str(redis_nights["home"] / "warehouse.duckdb"), read_only=True) as connection:
        locations = connection.execute("SELECT DISTINCT location FROM privacy.erasure_audit_log WHERE request_id = ? AND store = 'online store'",
                                       [REQUEST_ID]).fetchall()
    assert ("redis",) in locations
