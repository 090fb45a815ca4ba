"""One self-contained HTML page for a run: inline CSS and script, the SVG drawn in the browser.

The page carries the run's data (``engine.report.model``) as JSON in a ``<script
type="application/json">`` element, with ``<``, ``>`` and ``&`` written as JSON escapes so no
value can close that element, and its script builds every element with ``textContent``: a
step output holding ``<script>`` is shown as text, never run. Nothing is fetched from the
network; a page served by ``flowspec ui`` polls ``live`` (its own data URL) while the run
runs and redraws in place, keeping the search and the open step.

Drawing in the browser keeps rendering linear in the data: a 10,000-step page costs about
what its JSON costs, and the browser draws only what is open (collapsed layers, the first
rows of the timeline and the step list, the one step panel).
"""

from __future__ import annotations

import html
import json
from importlib.resources import files
from typing import Any

_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                          "\u2028": "\\u2028", "\u2029": "\\u2029"})


def render(data: dict[str, Any], *, live: str | None = None) -> str:
    """The page for ``data``; ``live``: a URL answering the same data as JSON, polled while
    the run is running."""
    payload = json.dumps({"data": data, "live": live}, ensure_ascii=False,
                         separators=(",", ":"), default=str).translate(_ESCAPES)
    run = data["run"]
    title = html.escape(f"{run['workflow']} {run['id']} ({run['phase']})")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        # nothing on the page may load anything: a report attached to a CI job stays offline
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
        "connect-src 'self'\">"
        f"<title>{title}</title><style>{asset('page.css')}</style>"
        "</head><body><div id=\"app\"></div>"
        f"<script type=\"application/json\" id=\"run-data\">{payload}</script>"
        f"<script>{asset('page.js')}</script></body></html>\n"
    )


def asset(name: str) -> str:
    """One of the page's own files (``page.css``, ``page.js``), shipped beside this module."""
    return (files("engine.report") / name).read_text("utf-8")
