"""The Dagster UI after a small demo run, opened in headless Chromium as a person would.

Screenshots of every page looked at go to test-artifacts/ui-screenshots/ in the repository
(CXP_UI_SCREENSHOTS names another folder), for people to look at.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.ingest.contracts import SOURCE_CONTRACTS
from dagster_project.settings import REPO_ROOT
from tests.conftest import query
from tests.features.feature_server import free_port
from tests.ui.browser import headless_chromium, page_text_once, wait_for_http

pytestmark = pytest.mark.slow

CXP = str(Path(sys.executable).with_name("cxp"))
WEBSERVER = str(Path(sys.executable).with_name("dagster-webserver"))
SCREENSHOTS = Path(os.environ.get("CXP_UI_SCREENSHOTS") or REPO_ROOT / "test-artifacts" / "ui-screenshots")
CRM = next(contract for contract in SOURCE_CONTRACTS if contract.name == "crm_contacts")


@dataclass
class Demo:
    home: Path
    ui: str
    docs_port: int
    run_id: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    """`cxp generate` (300 people, 40 days) and `cxp run`, then the Dagster webserver on the
    README's workspace and `cxp docs`, as a user starts them."""
    home = tmp_path_factory.mktemp("ui-home")
    ui_port, docs_port = free_port(), free_port()
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith(("CXP_", "DAGSTER_", "DBT_"))},
                   "CXP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "CXP_DOCS_PORT": str(docs_port),
                   "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    generated = subprocess.run([CXP, "generate", "--customers", "300", "--days", "40"], env=environment, capture_output=True, text=True)
    assert generated.returncode == 0, generated.stderr[-3000:]
    run = subprocess.run([CXP, "run"], env=environment, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        (latest,) = instance.get_runs(limit=1)
    logs = {name: home / f"{name}.log" for name in ("ui", "docs")}
    servers = {
        "ui": subprocess.Popen([WEBSERVER, "-w", str(REPO_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(ui_port)],
                               env=environment, cwd=REPO_ROOT, stdout=logs["ui"].open("w"), stderr=subprocess.STDOUT),
        "docs": subprocess.Popen([CXP, "docs"], env=environment, stdout=logs["docs"].open("w"), stderr=subprocess.STDOUT),
    }
    try:
        wait_for_http(f"http://127.0.0.1:{ui_port}/server_info", servers["ui"], logs["ui"])
        wait_for_http(f"http://127.0.0.1:{docs_port}/", servers["docs"], logs["docs"])
        demo = Demo(home, f"http://127.0.0.1:{ui_port}", docs_port, latest.run_id)
        # What the first visitor's "Skip" on Dagster's "Join the Dagster community" dialog records.
        graphql(demo, "mutation { setNuxSeen }")
        yield demo
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=60)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with headless_chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def look(browser, url: str, expected: list[str], screenshot: str) -> str:
    """Open `url`, wait until it shows everything expected, keep a screenshot; the page's text."""
    browser.get(url)
    try:
        return page_text_once(browser, expected)
    finally:
        browser.save_screenshot(str(SCREENSHOTS / f"{screenshot}.png"))


def graphql(demo: Demo, text: str) -> dict:
    request = urllib.request.Request(f"{demo.ui}/graphql", data=json.dumps({"query": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


def test_the_asset_graph_loads_with_every_group(demo, browser):
    groups = sorted({node["groupName"] for node in graphql(demo, "{ assetNodes { groupName } }")["assetNodes"]})
    assert {"ingest", "staging", "identity", "marts", "features", "ml"} <= set(groups)
    look(browser, f"{demo.ui}/asset-groups", ["Global asset lineage", *groups], "asset-graph")


def test_a_raw_asset_has_partitions_from_its_first_delivered_day_and_a_day_without_a_file_says_so(demo, browser):
    delivered = sorted(CRM.delivered_files(demo.home / "landing"))
    first = min(day for contract in SOURCE_CONTRACTS for day in contract.delivered_files(demo.home / "landing"))
    gaps = [first + timedelta(days=n) for n in range((delivered[-1] - first).days) if first + timedelta(days=n) not in delivered]
    assert gaps, "the demo delivers every CRM day: no day without a file to look at"
    partitions = (datetime.now(timezone.utc).date() - first).days + 1  # through today: today's export may land yet
    url = f"{demo.ui}/assets/raw/crm_contacts?view=partitions"
    text = look(browser, url, [f"{partitions} Partitions", f"Materialized ({partitions - 1})"], "raw-partitions")
    assert "2020-" not in text
    day = look(browser, f"{url}&partition={gaps[0].isoformat()}", ["no file delivered", "no file of this kind was delivered"], "raw-no-file-day")
    assert "dagster/row_count\n0" in day
    loaded = look(browser, f"{url}&partition={delivered[0].isoformat()}", [CRM.file_path(demo.home / "landing", delivered[0]).name], "raw-loaded-day")
    # What the file brought (the table may hold fewer now: the run's erasure comes after the load).
    rows = query(demo.home / "warehouse.duckdb", f"select rows_loaded from raw.load_ledger where source = 'crm_contacts' "
                                                 f"and _extract_date = '{delivered[0]}'")[0][0]
    assert f"dagster/row_count\n{rows}" in loaded


def test_the_run_appears_under_its_job_and_on_the_timeline(demo, browser):
    look(browser, f"{demo.ui}/locations/cxp/jobs/cxp_pipeline/runs", [demo.run_id[:8], "Success"], "job-runs")
    look(browser, f"{demo.ui}/overview/activity/timeline", ["cxp_pipeline"], "timeline")


def test_a_checks_report_link_opens_its_data_docs_page(demo, browser):
    look(browser, f"{demo.ui}/assets/raw/crm_contacts?view=checks&checkDetail=required_ids_present",
         ["required_ids_present", "validation_result"], "check-detail")
    links = [href for a in browser.find_elements("tag name", "a")
             if (href := a.get_attribute("href") or "").startswith(f"http://127.0.0.1:{demo.docs_port}/quality/validations/")]
    assert links, "the check carries no link to its report"
    report = look(browser, links[0], ["required_ids_present"], "check-report")
    assert "Data asset: None" not in report


def test_a_dbt_mart_shows_its_row_count(demo, browser):
    rows = query(demo.home / "warehouse.duckdb", "select count(*) from marts.dim_customers")[0][0]
    text = look(browser, f"{demo.ui}/assets/marts/dim_customers", ["Row count", "Columns"], "dbt-mart")
    assert f"Row count\n{rows:,}" in text or f"Row count\n{rows}" in text
    assert "Raw SQL" not in text
