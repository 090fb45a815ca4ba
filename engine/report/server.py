"""``flowspec ui``'s web server: the run list and each run's page, read-only, from the store.

The standard library's threading HTTP server is enough for one person looking at their runs:
every request opens the store, reads, and closes it, so the server holds nothing between
requests and never writes. Three routes answer GET (anything else is 405):

* ``/``: the runs, newest first, filtered by ``workflow``, ``phase`` and ``limit`` (query
  string), refreshed every few seconds while one of them is running;
* ``/runs/RUN_ID``: the run's page (``engine.report.render``), which polls
* ``/runs/RUN_ID/data.json``: the page's data, while the run is running.

On loopback the server answers only requests addressed to a loopback name: a web page
elsewhere cannot read the runs through a DNS name rebound to 127.0.0.1.
"""

from __future__ import annotations

import html
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from engine.report.model import gather
from engine.report.render import asset, render

#: the phases a run is listed in (Running and Interrupted told apart by the run's lease)
PHASES = ("Running", "Interrupted", "Succeeded", "Failed", "Error")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
#: seconds between two refreshes of the run list
LIST_REFRESH = 5
#: most runs one list shows, and most runs looked through to filter on a lease-derived phase
MAX_LIMIT, SCAN = 1000, 10_000


class UiServer(ThreadingHTTPServer):
    """The server, with the store URL its handlers read."""

    daemon_threads = True

    def __init__(self, host: str, port: int, store_url: str | None) -> None:
        self.store_url = store_url
        self.loopback = host in LOOPBACK
        super().__init__((host, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: UiServer
    server_version = "flowspec-ui"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a page polling every two seconds would fill the terminal."""

    def do_GET(self) -> None:
        from engine.store import StoreError, UnknownRun, open_store

        if self.server.loopback and not self._addressed_to_loopback():
            self._send(421, "text/plain", b"this server answers only requests to a loopback name")
            return
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        try:
            store = open_store(self.server.store_url, create=False)
        except StoreError as exc:
            self._send(503, "text/plain", str(exc).encode())
            return
        try:
            if not parts:
                page = run_list(store, parse_qs(url.query))
                self._send(200, "text/html; charset=utf-8", page.encode())
            elif parts[0] == "runs" and len(parts) == 2:
                run_id = store.resolve_run_id(parts[1])
                live = f"/runs/{quote(run_id)}/data.json"
                self._send(200, "text/html; charset=utf-8",
                           render(gather(store, run_id), live=live).encode())
            elif parts[0] == "runs" and len(parts) == 3 and parts[2] == "data.json":
                data = gather(store, store.resolve_run_id(parts[1]))
                self._send(200, "application/json",
                           json.dumps(data, ensure_ascii=False, default=str).encode())
            else:
                self._send(404, "text/plain", b"no such page")
        except UnknownRun as exc:
            self._send(404, "text/plain", str(exc).encode())
        except StoreError as exc:
            self._send(503, "text/plain", str(exc).encode())
        finally:
            store.close()

    def _refuse(self) -> None:
        self._send(405, "text/plain", b"flowspec ui is read-only", allow="GET")

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

    def _addressed_to_loopback(self) -> bool:
        host = self.headers.get("Host", "")
        name = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
        return name in LOOPBACK

    def _send(self, status: int, kind: str, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name.title(), value)
        self.end_headers()
        self.wfile.write(body)


def run_list(store: Any, query: dict[str, list[str]]) -> str:
    """The run list page for the query's filters (unknown values filter nothing out)."""
    from engine.executor.result import iso8601
    from engine.store.lease import shown_phase

    workflow = (query.get("workflow") or [""])[0].strip() or None
    wanted = {p for p in query.get("phase", []) if p in PHASES}
    limit_text = (query.get("limit") or ["50"])[0]
    limit = min(MAX_LIMIT, int(limit_text)) if limit_text.isdigit() and int(limit_text) else 50
    now = time.time()
    rows = []
    running = False
    for run, counts in store.list_runs(SCAN if wanted else limit, workflow=workflow):
        phase = shown_phase(run.phase, run.lease_owner, run.lease_expires, now)
        running = running or phase == "Running"
        if wanted and phase not in wanted:
            continue
        end = run.finished_at or now
        steps = ", ".join(f"{n} {p.lower()}" for p, n in sorted(counts.items()))
        rows.append(
            f"<tr><td><a href=\"/runs/{html.escape(quote(run.run_id))}\">"
            f"{html.escape(run.run_id)}</a></td><td>{html.escape(run.workflow)}</td>"
            f"<td><span class=\"badge p-{html.escape(phase)}\">{html.escape(phase)}</span></td>"
            f"<td>{html.escape(iso8601(run.created_at) or '')}</td>"
            f"<td>{end - run.created_at:.2f} s</td><td>{html.escape(steps)}</td></tr>")
        if len(rows) >= limit:
            break
    options = "".join(
        f"<label><input type=\"checkbox\" name=\"phase\" value=\"{p}\""
        f"{' checked' if p in wanted else ''}> {p}</label> " for p in PHASES)
    table = ("<table><tr><th>run</th><th>workflow</th><th>phase</th><th>started</th>"
             "<th>took</th><th>steps</th></tr>" + "".join(rows) + "</table>") if rows else \
        "<p class=\"mute\">no runs match</p>"
    css = asset("page.css")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        # refreshed only while something runs: a refresh would wipe a filter being typed
        + (f"<meta http-equiv=\"refresh\" content=\"{LIST_REFRESH}\">" if running else "")
        + "<title>flowspec runs</title>"
        f"<style>{css}</style></head><body><header><h1>flowspec runs</h1>"
        f"<span class=\"mute\">{html.escape(store.display_url)}</span></header><main "
        "style=\"display:block\"><section><form method=\"get\" action=\"/\">"
        f"<label>workflow <input name=\"workflow\" value=\"{html.escape(workflow or '')}\">"
        f"</label> {options}<label>limit <input name=\"limit\" size=\"4\" value=\"{limit}\">"
        "</label> <button type=\"submit\">filter</button></form></section>"
        f"<section>{table}</section></main></body></html>\n"
    )
