"""Runs to report on, made once per session with the real ``flowspec run`` in a tmp folder,
and a headless Chromium (Debian's package, driven by playwright) to open the pages in."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from report_runs import BROWSER_ARGS, EXAMPLES, HOSTILE_SPEC, REPO, WIDE_SPEC, Runs, flowspec


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    folder = tmp_path_factory.mktemp("runs")
    db = f"sqlite:///{folder}/state.db"
    (folder / "hostile.yaml").write_text(HOSTILE_SPEC)
    (folder / "wide.yaml").write_text(WIDE_SPEC)
    specs = {name: (str(REPO / "specs" / "examples" / f"{name}.yaml"),) for name in EXAMPLES}
    specs["chargeback"] = (str(REPO / "specs" / "chargeback.yaml"), "-p",
                           f"document={REPO / 'specs' / 'samples' / '844_example.edi'}")
    specs["hostile"] = ("hostile.yaml",)
    specs["wide"] = ("wide.yaml",)
    ids, shown = {}, {}
    for name, args in specs.items():
        done = flowspec(folder, "run", *args, "--db", db, "--format", "json")
        ids[name] = json.loads(done.stdout)["run_id"]
        shown[name] = json.loads(flowspec(folder, "show", ids[name], "--db", db,
                                          "--format", "json").stdout)
    return Runs(db, folder, ids, shown)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, headless; skipped only when it is missing outside CI (.ci/run installs it)."""
    exe = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if exe is None or sync_playwright is None:
        missing = "chromium" if exe is None else "playwright"
        if os.environ.get("CI"):
            pytest.fail(f"{missing} is missing; .ci/run installs it")
        pytest.skip(f"{missing} is not installed (apt-get install chromium; pip install -e '.[test]')")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=exe, args=BROWSER_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Opened:
    """A page open in the browser and what it said on its console (errors and warnings)."""

    page: Any
    problems: list[str]


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    pages: list[Any] = []

    def opener(url: str) -> Opened:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        pages.append(page)
        problems: list[str] = []
        page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        page.goto(url)
        page.wait_for_selector("#panel")
        return Opened(page, problems)

    yield opener
    for page in pages:
        page.close()
