"""flowspec report's pages in headless Chromium: no console errors, every step drawn, the
decisions table, backoff in the timeline, hostile text shown as text, wide layers collapsed
and found by search. Each test leaves a screenshot under its tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from report_runs import FANOUT_SPEC, HOSTILE, WIDE, Runs, flowspec


def report(runs: Runs, name: str, folder: Path) -> str:
    out = folder / f"{name}.html"
    runs.flowspec("report", runs.ids[name], "-o", str(out))
    return out.as_uri()


def screenshot(page: Any, folder: Path, name: str) -> None:
    shot = folder / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("name", ["hello", "conditions", "fanout", "retries", "chargeback"])
def test_every_step_is_drawn_without_console_errors(runs: Runs, open_page: Any, name: str,
                                                    tmp_path: Path) -> None:
    opened = open_page(report(runs, name, tmp_path))
    page = opened.page
    nodes = runs.shown[name]["steps"]
    top = {n for n in nodes if "(" not in n}
    drawn = page.eval_on_selector_all("svg [data-step]", "els => els.map(e => e.dataset.step)")
    assert sorted(drawn) == sorted(top)
    listed = page.eval_on_selector_all("[data-row]", "els => els.map(e => e.dataset.row)")
    assert listed == list(nodes)
    for step, shown in nodes.items():
        if "(" not in step:
            assert page.get_attribute(f'svg [data-step="{step}"]', "class") == \
                f"node p-{shown['phase']}"
    groups = {n.partition("(")[0] for n in nodes if "(" in n}  # their instances have the bars
    assert page.locator(".bar").count() == sum(s["attempts"] for n, s in nodes.items()
                                               if n not in groups)
    screenshot(page, tmp_path, name)
    assert opened.problems == []


def test_chargeback_shows_its_decisions_table(runs: Runs, open_page: Any,
                                              tmp_path: Path) -> None:
    opened = open_page(report(runs, "chargeback", tmp_path))
    page = opened.page
    page.click('svg [data-step="chargeback-resolution"]')
    rows = page.eval_on_selector_all(
        "table.decisions tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    assert rows[0] == ["line", "decision", "allowed", "contract price", "WAC", "reason codes"]
    assert [(r[0], r[1], r[5]) for r in rows[1:]] == [
        ("1", "accept", "-"), ("2", "accept", "-"), ("3", "adjust", "06"), ("4", "reject", "28")]
    panel = page.inner_text("#panel")
    assert "Decisions, debit memo DM0315240012" in panel and "897.00" in panel
    assert "response" in panel and "summary" in panel  # the files it wrote
    page.click('[data-row="manual-review"]')
    assert "omitted: depends condition not met" in page.inner_text("#panel")
    screenshot(page, tmp_path, "chargeback-decisions")
    assert opened.problems == []


def test_the_timeline_shows_the_wait_before_each_retry(runs: Runs, open_page: Any,
                                                       tmp_path: Path) -> None:
    opened = open_page(report(runs, "retries", tmp_path))
    row = opened.page.locator('[data-gantt="fetch-partner-feed"]')
    assert row.locator(".bar.p-Failed").count() == 4
    gaps = row.locator(".gap")
    assert gaps.count() == 3
    assert gaps.first.get_attribute("title").endswith("before attempt 2")
    assert opened.problems == []


def test_hostile_output_and_logs_are_shown_as_text(runs: Runs, open_page: Any,
                                                   tmp_path: Path) -> None:
    opened = open_page(report(runs, "hostile", tmp_path))
    page = opened.page
    page.click('svg [data-step="say"]')
    panel = page.inner_text("#panel")
    assert panel.count(HOSTILE) == 3  # the output, the log line and the env as declared
    page.click('svg [data-step="refuse"]')
    assert "<b>no</b>" in page.inner_text("#panel")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#panel img, #panel b").count() == 0
    screenshot(page, tmp_path, "hostile")
    assert opened.problems == []


def test_a_wide_layer_starts_collapsed_and_search_finds_inside_it(runs: Runs, open_page: Any,
                                                                   tmp_path: Path) -> None:
    from playwright.sync_api import expect

    opened = open_page(report(runs, "wide", tmp_path))
    page = opened.page
    assert page.locator('svg [data-step="w17"]').count() == 0
    layer = page.locator("svg [data-layer]")
    assert f"{WIDE} steps: {WIDE} Succeeded" in layer.text_content()
    page.fill("input[type=search]", "w17")
    expect(page.locator("[data-row]")).to_have_count(1)
    assert "1 match" in page.locator("svg [data-layer]").text_content()
    page.locator("svg [data-layer]").click()
    assert page.get_attribute('svg [data-step="w17"]', "class") == "node p-Succeeded hit"
    assert page.locator("svg [data-step]").count() == WIDE + 1
    screenshot(page, tmp_path, "wide")
    assert opened.problems == []


def test_a_10000_instance_run_stays_one_screen_and_searchable(open_page: Any,
                                                              tmp_path: Path) -> None:
    from playwright.sync_api import expect

    (tmp_path / "big.yaml").write_text(FANOUT_SPEC)
    (tmp_path / "items.json").write_text(json.dumps({"items": list(range(10_000))}))
    db = f"sqlite:///{tmp_path}/state.db"
    done = flowspec(tmp_path, "run", "big.yaml", "-f", "items.json", "--db", db, "--format", "json")
    run_id = json.loads(done.stdout)["run_id"]
    flowspec(tmp_path, "report", run_id, "--db", db, "-o", "big.html")
    opened = open_page((tmp_path / "big.html").as_uri())
    page = opened.page
    assert page.locator("svg [data-step]").count() == 3
    assert page.locator('svg [data-step="each"] text').text_content() == "each ×10,000"
    assert "for_each: 10,000 Succeeded" in page.locator('svg [data-step="each"] title').text_content()
    assert page.locator("[data-row]").count() == 300
    assert page.locator("[data-gantt]").count() == 300
    page.fill("input[type=search]", "each(9999:")
    expect(page.locator("[data-row]")).to_have_count(1)
    page.click('[data-row="each(9999:9999)"]')
    assert "9999:9999" in page.inner_text("#panel h2")
    screenshot(page, tmp_path, "big")
    assert opened.problems == []
