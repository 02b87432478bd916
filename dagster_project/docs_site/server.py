"""The web server of `cxp docs`: the quality reports and the dbt docs over HTTP on loopback.

Browsers do not follow `file://` links from a page served over HTTP (the Dagster UI), so each
asset check links to its Data Docs page as this server serves it: `/quality/` is the Great
Expectations site, `/dbt/` dbt's single-page docs, `/` an index of both. It serves files of
those two sites only (no directory listings), reads nothing from the network, and listens on
127.0.0.1 alone: the reports hold sample values of the data.
"""

from __future__ import annotations

import html
import io
import os
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

LOOPBACK = "127.0.0.1"
DEFAULT_DOCS_PORT = 3100
QUALITY_PREFIX = "/quality/"
DBT_PREFIX = "/dbt/"


def quality_page_url(page: str, port: int) -> str:
    """The address of a Data Docs page (its path in the site) as `cxp docs` on `port` serves it."""
    return f"http://{LOOPBACK}:{port}{QUALITY_PREFIX}{quote(page)}"


@dataclass(frozen=True)
class DocsSites:
    """What the server serves: the Data Docs site's folder and dbt's static docs page."""

    quality: Path
    dbt_page: Path
    dbt_note: str = ""
    """Why the dbt docs are missing or not current (shown on the index), if they are."""


def make_docs_server(sites: DocsSites, port: int) -> ThreadingHTTPServer:
    """A server bound to 127.0.0.1:`port` (0: any free port, see `server_address`); the caller runs
    `serve_forever()` and closes it."""
    server = ThreadingHTTPServer((LOOPBACK, port), partial(_DocsHandler, sites=sites))
    server.daemon_threads = True  # a browser's idle keep-alive connection must not hold up Ctrl-C
    return server


class _DocsHandler(SimpleHTTPRequestHandler):
    """GET and HEAD on the index, `/quality/...` files and `/dbt/`; anything else is a 404."""

    def __init__(self, *args: Any, sites: DocsSites, **kwargs: Any) -> None:
        self.sites = sites
        super().__init__(*args, directory=str(sites.quality), **kwargs)

    def send_head(self) -> Any:
        route = urlsplit(self.path).path
        if route == "/":
            return self._send_html(index_page(self.sites))
        if route in ("/quality", "/dbt"):
            self.send_response(301)
            self.send_header("Location", route + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if route in (DBT_PREFIX, DBT_PREFIX + "index.html") and not self.sites.dbt_page.is_file():
            return self._send_html(_page("dbt docs", f"<p>{html.escape(self.sites.dbt_note or 'Not generated yet.')}</p>"), 404)
        if route.startswith(QUALITY_PREFIX) or route in (DBT_PREFIX, DBT_PREFIX + "index.html"):
            return super().send_head()
        self.send_error(404)
        return None

    def translate_path(self, path: str) -> str:
        route = urlsplit(path).path
        if route.startswith(DBT_PREFIX):
            return str(self.sites.dbt_page)
        # The base class drops `..` and absolute parts: nothing outside the site is reachable.
        return super().translate_path(path[len(QUALITY_PREFIX) - 1:])

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404)
        return None

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a page loads a dozen files; errors reach the browser."""

    def _send_html(self, body: str, status: int = 200) -> io.BytesIO:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        return io.BytesIO(data)


def index_page(sites: DocsSites) -> str:
    """The home page: a link to each site, or why it is not there yet."""
    if (sites.quality / "index.html").is_file():
        quality = f'<a href="{QUALITY_PREFIX}index.html">Quality reports</a>: Great Expectations Data Docs, every validation of every run.'
    else:
        quality = "Quality reports: none yet, `cxp run` validates the data and writes them."
    if sites.dbt_page.is_file():
        generated = datetime.fromtimestamp(sites.dbt_page.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        dbt = f'<a href="{DBT_PREFIX}">dbt docs</a>: models, columns, tests and lineage (generated {generated}).'
    else:
        dbt = "dbt docs: not generated."
    notes = f"<p>{html.escape(sites.dbt_note)}</p>" if sites.dbt_note else ""
    return _page("cxp docs", f"<ul><li>{quality}</li><li>{dbt}</li></ul>{notes}")


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
            "<style>body{font-family:sans-serif;margin:2em auto;max-width:50em;line-height:1.5}</style></head>"
            f"<body><h1>{title}</h1>{body}</body></html>")
