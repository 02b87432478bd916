"""Great Expectations' Data Docs that open offline and name what Dagster names.

GX 1.x renders each page with CSS and JS from CDNs (jQuery, Bootstrap 4, bootstrap-table, Font
Awesome, Vega: `great_expectations/render/view/templates/`) and its logo from S3; offline, the index
is blank. The same files are kept in `data_docs_assets/` (its README: versions, sources, licences),
copied into the site's `static/vendor/`, and every page built is rewritten to load them from there.

This module is the one place that knows GX's page templates, site layout, expectation descriptions
and validation-results store; `tests/quality/test_data_docs.py` fails when an upgrade of GX loads a
resource that is not bundled here, or stops showing the rule names and the data asset.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from data_quality.rules import Rule

ASSETS = Path(__file__).with_name("data_docs_assets")
SITE_NAME = "local_site"
_VENDOR = "static/vendor"
_GX_IMAGES = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
_UNPKG_TABLE = "https://unpkg.com/bootstrap-table@"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs/"

# Every remote resource GX's templates load, and where in the site its local copy is.
BUNDLED: dict[str, str] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": f"{_VENDOR}/jquery-3.7.1/jquery.min.js",
    f"{_CDNJS}popper.js/1.12.9/umd/popper.min.js": f"{_VENDOR}/popper.js-1.12.9/umd/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": f"{_VENDOR}/bootstrap-4.3.1/js/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": f"{_VENDOR}/bootstrap-4.3.1/css/bootstrap.min.css",
    f"{_UNPKG_TABLE}1.19.1/dist/bootstrap-table.min.js": f"{_VENDOR}/bootstrap-table-1.19.1/bootstrap-table.min.js",
    f"{_UNPKG_TABLE}1.19.1/dist/bootstrap-table.min.css": f"{_VENDOR}/bootstrap-table-1.19.1/bootstrap-table.min.css",
    f"{_UNPKG_TABLE}1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        f"{_VENDOR}/bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.js",
    f"{_UNPKG_TABLE}1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        f"{_VENDOR}/bootstrap-table-1.19.0/extensions/filter-control/bootstrap-table-filter-control.css",
    f"{_UNPKG_TABLE}1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        f"{_VENDOR}/bootstrap-table-1.19.0/extensions/filter-control/bootstrap-table-filter-control.min.css",
    f"{_CDNJS}bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": f"{_VENDOR}/bootstrap-datepicker-1.9.0/js/bootstrap-datepicker.min.js",
    f"{_CDNJS}bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": f"{_VENDOR}/bootstrap-datepicker-1.9.0/css/bootstrap-datepicker.min.css",
    # The minified build of the same stylesheet (the unminified one is 880 kB).
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        f"{_VENDOR}/bootstrap-dark-1.1.0/css/bootstrap-prefers-dark.min.css",
    f"{_CDNJS}font-awesome/6.6.0/css/all.min.css": f"{_VENDOR}/fontawesome-free-6.6.0/css/all.min.css",
    # jsDelivr serves the newest release of the major version: the newest when they were vendored.
    "https://cdn.jsdelivr.net/npm/vega@5": f"{_VENDOR}/vega-5.33.1/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": f"{_VENDOR}/vega-lite-5.23.0/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": f"{_VENDOR}/vega-embed-6.29.0/vega-embed.min.js",
    # GX ships its navbar logo in the site's static/images; the dark theme's is not shipped: the light one stands in.
    f"{_GX_IMAGES}logo-long.png": "static/images/logo-long.png",
    f"{_GX_IMAGES}full_logo_dark.png": "static/images/logo-long.png",
}
# A bundled URL wherever it stands (attribute or CSS), with GX's tracking query on the logo.
_REMOTE = re.compile("(" + "|".join(re.escape(url) for url in sorted(BUNDLED, key=len, reverse=True)) + r")(\?[^\"'\s)]*)?")
# Subresource-integrity attributes: a page opened from disk has an opaque origin, for which
# `crossorigin` fails the load.
_INTEGRITY = re.compile(r"\s+(?:integrity=\"[^\"]*\"|crossorigin=\"[^\"]*\")")
# GX counts the `../` to `static/` from the suite name, one short on validation pages (the favicon 404s).
_STATIC = re.compile(r"((?:href|src)=\")(?:\./|(?:\.\./)+)static/")


def site_dir(project_dir: Path) -> Path:
    """The Data Docs site of the project `data_quality.validation` keeps."""
    return project_dir / "gx" / "uncommitted" / "data_docs" / SITE_NAME


def label_expectation(expectation: Any, rule: Rule) -> Any:
    """The expectation, tagged with its rule for the results (`meta`) and described by it for the
    Data Docs page, which shows a `description` in place of GX's own sentence."""
    expectation.meta = {"rule": rule.name, "severity": rule.severity.value, "description": rule.description}
    column = getattr(expectation, "column", None) or getattr(expectation, "column_A", None)
    checks = expectation.expectation_type + (f" on {column}" if column else "")
    # GX puts the description into the page as HTML.
    expectation.description = html.escape(f"{rule.name} ({rule.severity.value}): {rule.description} [{checks}]", quote=False)
    return expectation


def name_data_asset(context: Any, result_id: Any, name: str) -> None:
    """Record the data asset's name in a stored result, where the page reads it: GX leaves it out
    of a dataframe batch's spec, and the page then says `Data asset: None`."""
    store = context.validation_results_store
    result = store.get(result_id)
    result.meta["batch_spec"] = {**result.meta.get("batch_spec", {}), "data_asset_name": name}
    store.set(result_id, result)


def build_pages(context: Any, result_ids: list[Any]) -> dict[Any, str]:
    """Build the pages of these results and of their suites (which the result pages link to), and
    the index, made to work offline; each result's page, relative to the site."""
    suite_ids = list(dict.fromkeys(result_id.expectation_suite_identifier for result_id in result_ids))
    index = _file(context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=[*result_ids, *suite_ids])[SITE_NAME])
    site = index.parent
    pages = {identifier: _page(context, identifier) for identifier in [*result_ids, *suite_ids]}
    localize_site(site, [index, *pages.values()])
    return {result_id: pages[result_id].relative_to(site).as_posix() for result_id in result_ids}


def localize_site(site: Path, pages: Iterable[Path] | None = None) -> None:
    """Copy the bundled files into the site and point `pages` (every page, unless given) at them.
    Idempotent: a page already rewritten is left as it is."""
    if not site.is_dir():
        return
    _copy_assets(site / _VENDOR)
    for page in site.rglob("*.html") if pages is None else pages:
        built = page.read_text(encoding="utf-8")
        localized = localize_page(built, page.relative_to(site))
        if localized != built:
            _replace(page, localized)


def localize_page(text: str, page: Path) -> str:
    """A page's HTML (`page`: its path in the site) with every bundled URL made a relative link to
    the local copy, and links into the site's `static/` counted from the page's own folder."""
    to_root = Path(os.path.relpath(".", page.parent)).as_posix()
    text = _REMOTE.sub(lambda match: f"{to_root}/{BUNDLED[match.group(1)]}", text)
    text = _INTEGRITY.sub("", text)
    return _STATIC.sub(lambda match: f"{match.group(1)}{to_root}/static/", text)


def _replace(page: Path, text: str) -> None:
    """Write the page whole or not at all: `cxp docs` may be serving it."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=page.parent, suffix=".tmp", delete=False) as temporary:
        temporary.write(text)
    shutil.copymode(page, temporary.name)
    os.replace(temporary.name, page)


def _copy_assets(target: Path) -> None:
    """The bundled files (not the README) into the site, those missing or changed only."""
    for source in ASSETS.rglob("*"):
        copy = target / source.relative_to(ASSETS)
        if source.is_file() and source.name != "README.md" and (not copy.exists() or copy.stat().st_size != source.stat().st_size):
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)


def _page(context: Any, identifier: Any) -> Path:
    (url,) = [site["site_url"] for site in context.get_docs_sites_urls(resource_identifier=identifier, site_name=SITE_NAME)]
    return _file(url)


def _file(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))
