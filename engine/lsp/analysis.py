"""One text's validation, done once and shared by every request about that text.

Diagnostics need the whole validator; navigation and hover need only the loaded document and
its index, which cost a fraction of it. So a request about a text the last validation has not
seen yet loads it alone (``structure``), and the diagnostics task keeps its index for the
requests that follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.diagnostics import Diagnostic
from engine.loader import load_text
from engine.lsp.index import Index, build_index
from engine.validation import check_loaded


@dataclass(frozen=True)
class Analysis:
    """What is known of one text: its diagnostics, and its index when the text loads."""

    text: str
    index: Index | None
    diagnostics: list[Diagnostic]


def analyze(text: str, path: str, stale: Callable[[], bool] = lambda: False) -> Analysis | None:
    """The same diagnostics ``flowspec validate`` gives for this text (processors are read,
    never imported, as there), with the index of its names.

    ``stale`` says whether the text has been replaced meanwhile: it is asked between the
    stages, and a stale analysis stops there (None), so that while the user types the newest
    text's analysis does not wait for a whole analysis of an older one.
    """
    doc, loaded = load_text(text, path)
    if stale():
        return None
    _, diagnostics = check_loaded(doc, loaded)
    if stale():
        return None
    index = build_index(doc) if doc is not None else None
    return Analysis(text, index, diagnostics)


def structure(text: str, path: str) -> Index | None:
    """The index of a text without validating it; None when the text does not load."""
    doc, _ = load_text(text, path)
    return build_index(doc) if doc is not None else None
