"""The Data Docs a person opens from a Dagster check: offline, complete, named as the checks are,
and served over HTTP by `cxp docs`' server. A real Great Expectations project in `tmp_path`,
validated through `data_quality.validation` as the checks do."""

import http.client
import re
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import dagster as dg
import great_expectations
import pandas as pd
import pytest

from dagster_project.defs.quality.check_results import check_result
from dagster_project.defs.quality.resources import QualityGates
from dagster_project.docs_site.server import DocsSites, make_docs_server
from data_quality.data_docs import ASSETS, BUNDLED, localize_page, site_dir
from data_quality.rules import Batch, Rule, Severity, Suite
from data_quality.validation import validate_suites

SUITE = Suite("orders_small", (
    Rule("amounts_not_negative", Severity.BLOCKING, "No amount is negative.", "rows",
         lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0)]),
    # One rule, two expectations: both carry the rule's name.
    Rule("order_ids_unique_and_present", Severity.WARNING, "Every order has one id of its own.", "rows",
         lambda gxe: [gxe.ExpectColumnValuesToBeUnique(column="order_id"), gxe.ExpectColumnValuesToNotBeNull(column="order_id")]),
))
# What a page loads (not where its links go): scripts, stylesheets and icons, images, CSS urls.
_LOADED = re.compile(r"<script[^>]*\ssrc=\"([^\"]+)\"|<link[^>]*\shref=\"([^\"]+)\"|<img[^>]*\ssrc=\"([^\"]+)\"|url\(['\"]?([^'\")]+)['\"]?\)")
# Links, also those the index keeps in its table's data: `href=\"…\"` and `'_table_row_link_path': '…'`.
_LINKED = re.compile(r"href=\\?\"([^\"\\]+)\\?\"|'_table_row_link_path': '([^']+)'")
_NOT_FILES = ("#", "mailto:", "javascript:", "data:", "http://", "https://")


def loaded(text: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in _LOADED.finditer(text)]


@pytest.fixture(scope="module")
def validated(tmp_path_factory) -> tuple[Path, list]:
    """A project after one validation of a small frame with a negative amount and a repeated id."""
    project = tmp_path_factory.mktemp("quality")
    frame = pd.DataFrame({"order_id": [1, 2, 2], "amount": [1.0, -2.0, 3.0]})
    outcomes = validate_suites([(SUITE, {"rows": Batch(frame, ("order_id",))})], project, "run-1")[SUITE.name]
    return project, outcomes


@pytest.fixture(scope="module")
def site(validated) -> Path:
    return site_dir(validated[0])


@pytest.fixture(scope="module")
def server(site, tmp_path_factory):
    """The docs server on a free port, in a thread."""
    served = make_docs_server(DocsSites(site, tmp_path_factory.mktemp("dbt") / "static_index.html"), 0)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8", errors="replace")


def test_each_rule_points_at_its_results_page(validated, site):
    _, outcomes = validated
    assert {outcome.rule.name for outcome in outcomes} == {"amounts_not_negative", "order_ids_unique_and_present"}
    (page,) = {outcome.docs_page for outcome in outcomes}
    assert page.startswith("validations/orders_small/rows/run-1/") and (site / page).is_file()


def test_no_page_loads_anything_from_the_network(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 3  # the index, the result, the suite
    remote = {f"{page.relative_to(site)}: {url}" for page in pages for url in loaded(page.read_text(encoding="utf-8"))
              if url.startswith(("http:", "https:", "//"))}
    assert remote == set()


def test_every_local_link_and_resource_exists(site):
    missing = []
    for page in sorted(site.rglob("*.html")) + sorted((site / "static" / "vendor").rglob("*.css")):
        text = page.read_text(encoding="utf-8")
        targets = loaded(text) + [next(group for group in match.groups() if group) for match in _LINKED.finditer(text)]
        for target in targets:
            if not target.startswith(_NOT_FILES) and not (page.parent / re.split(r"[?#]", target)[0]).exists():
                missing.append(f"{page.relative_to(site)}: {target}")
    assert missing == []


def test_the_results_page_names_each_rule_and_the_data_asset(validated, site):
    text = (site / validated[1][0].docs_page).read_text(encoding="utf-8")
    assert re.search(r"Data asset:\s*orders_small\.rows", text)
    assert "amounts_not_negative (blocking): No amount is negative. [expect_column_values_to_be_between on amount]" in text
    assert "order_ids_unique_and_present (warning): Every order has one id of its own. [expect_column_values_to_be_unique on order_id]" in text
    assert "order_ids_unique_and_present (warning): Every order has one id of its own. [expect_column_values_to_not_be_null on order_id]" in text


def test_great_expectations_templates_load_only_what_is_bundled():
    """Fails when an upgrade of GX loads a CDN resource (or a new version of one) not in `BUNDLED`."""
    view = Path(great_expectations.__file__).parent / "render" / "view"
    sources = sorted((view / "templates").glob("*.j2")) + sorted((view / "static" / "styles").glob("*.css"))
    assert sources, f"GX's templates moved from {view}"
    text = "\n".join(source.read_text(encoding="utf-8") for source in sources)
    linked = set(re.findall(r"<a[^>]*\shref=\"(https?://[^\"]+)\"|\]\((https?://[^)]+)\)", text))  # HTML and Markdown links
    linked = {url for pair in linked for url in pair if url}
    referenced = set(re.findall(r"https?://[^\"'\s)]+", text)) - linked
    # GX prefixes its logo's name with the S3 folder in a template variable.
    unbundled = {url for url in referenced if url not in BUNDLED and not (url.endswith("/") and any(key.startswith(url) for key in BUNDLED))}
    assert unbundled == set()


def test_a_page_built_before_is_rewritten_once():
    """As `cxp docs` does to pages an older cxp built: CDN links made local, GX's miscounted `../` fixed."""
    page = Path("validations/orders/rows/run-1/20240101T000000Z/page.html")
    built = ('<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-x" crossorigin="anonymous">'
             '</script><link rel="shortcut icon" href="../../../../static/images/favicon.ico"/>')
    localized = localize_page(built, page)
    assert localized == ('<script src="../../../../../static/vendor/bootstrap-4.3.1/js/bootstrap.min.js"></script>'
                         '<link rel="shortcut icon" href="../../../../../static/images/favicon.ico"/>')
    assert localize_page(localized, page) == localized


def test_every_bundled_file_is_vendored_with_its_licence():
    for path in BUNDLED.values():
        if path.startswith("static/vendor/"):
            vendored = ASSETS / path.removeprefix("static/vendor/")
            package = ASSETS / Path(path).parts[2]
            assert vendored.is_file(), vendored
            assert list(package.glob("LICENSE*")), f"no licence in {package}"


def test_the_server_serves_the_index_a_results_page_and_everything_it_loads(validated, server):
    port = server.server_address[1]
    base = f"http://127.0.0.1:{port}"
    status, index = get(base + "/")
    assert status == 200 and 'href="/quality/index.html"' in index and "dbt docs: not generated" in index
    assert get(base + "/quality/index.html")[0] == 200
    page = validated[1][0].docs_page
    status, text = get(f"{base}/quality/{page}")
    assert status == 200 and "amounts_not_negative" in text
    folder = f"{base}/quality/{page.rsplit('/', 1)[0]}/"
    for resource in loaded(text):
        assert get(urllib.parse.urljoin(folder, resource))[0] == 200, resource


@pytest.mark.parametrize("path", ["/quality/../gx/great_expectations.yml", "/quality/validations/", "/elsewhere", "/dbt/"])
def test_the_server_serves_nothing_else(server, path):
    # Outside the site, a folder listing, an unknown route, dbt docs never generated.
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    connection.request("GET", path)
    assert connection.getresponse().status == 404
    connection.close()


def test_a_checks_link_opens_its_page_on_the_server(validated, server):
    project, outcomes = validated
    port = server.server_address[1]
    outcome = next(o for o in outcomes if o.rule.name == "order_ids_unique_and_present")
    result = check_result(dg.AssetKey(["orders"]), outcome, QualityGates(project, docs_port=port))
    url = result.metadata["validation_result"].value
    assert url.startswith(f"http://127.0.0.1:{port}/quality/validations/orders_small/rows/run-1/")
    status, text = get(url)
    assert status == 200 and "order_ids_unique_and_present" in text
    assert Path(result.metadata["validation_result_file"].value) == site_dir(project) / outcome.docs_page
