"""The case that broke identity on real data: two CRM systems' exports of the same people, with
names, birth dates and addresses only (no email, no phone), each typed with the slips of real
registries, some people shown after a move, households and namesakes among them."""

import duckdb
import pytest

from dagster_project.cli.run_pipeline import run_pipeline
from dagster_project.demo_exports.crm_only_landing import write_two_system_contacts
from dagster_project.identity.evaluation import read_resolved_customers, read_truth, score_identity_resolution
from dagster_project.settings import load_settings

pytestmark = pytest.mark.slow


def test_two_crm_systems_without_email_or_phone_resolve_to_their_people(cxp_home, monkeypatch):
    landing = cxp_home / "landing"
    truth = write_two_system_contacts(landing, people=600)
    monkeypatch.setenv("CXP_LANDING", str(landing))
    assert run_pipeline(load_settings()).success
    with duckdb.connect(str(cxp_home / "warehouse.duckdb"), read_only=True) as connection:
        resolved = read_resolved_customers(connection)
    scores = score_identity_resolution(resolved, read_truth(landing / "_truth"))
    assert scores.records == truth.height == 1200
    assert scores.pairwise_f1 >= 0.995, str(scores)
    assert scores.pairwise_precision >= 0.995, str(scores)
