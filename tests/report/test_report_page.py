"""flowspec report: the page's data for real runs, its escaping, the processor section hook."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from report_runs import HOSTILE, Runs

from engine.executor.result import StepReport
from engine.report.model import processor_section
from engine.report.render import render


def page_data(html_text: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="run-data">(.*?)</script>', html_text,
                      re.DOTALL)
    assert found is not None
    return json.loads(found.group(1))["data"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ["hello", "conditions", "fanout", "retries", "chargeback"])
def test_the_page_holds_every_node_of_the_run(runs: Runs, name: str, tmp_path: Path) -> None:
    out = tmp_path / "run.html"
    done = runs.flowspec("report", runs.ids[name][:14], "-o", str(out))
    assert done.returncode == 0 and f"wrote {out}" in done.stderr
    data = page_data(out.read_text())
    shown = runs.shown[name]
    assert [s["name"] for s in data["steps"]] == list(shown["steps"])
    assert {s["name"]: s["phase"] for s in data["steps"]} == \
        {n: s["phase"] for n, s in shown["steps"].items()}
    laid_out = {n for layer in data["layers"] for n in layer}
    assert laid_out == {s["name"] for s in data["steps"] if s["parent"] is None}
    assert data["run"]["phase"] == shown["phase"]


def test_the_page_loads_nothing_from_anywhere(runs: Runs) -> None:
    page = runs.flowspec("report", runs.ids["chargeback"]).stdout
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(link|img|iframe)\b|\b(src|href)=", page, re.IGNORECASE)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_skips_and_omissions_carry_the_condition_and_the_reason(runs: Runs) -> None:
    data = page_data(runs.flowspec("report", runs.ids["conditions"]).stdout)
    steps = {s["name"]: s for s in data["steps"]}
    assert steps["rollback-plan"]["phase"] == "Omitted"
    assert steps["rollback-plan"]["depends"] == "deploy.Failed || deploy.Errored"
    assert "depends" in steps["rollback-plan"]["message"]
    assert steps["deploy"]["when"].startswith("steps.test.outputs.passed == true")
    assert data["finally_from"] == len(data["layers"]) - 1 and data["layers"][-1] == ["report"]
    # an optional secret is shown as its reference, never as a value
    assert data["run"]["env"]["DEPLOY_TOKEN"] == "secret deploy/token (optional)"


def test_retries_keep_every_attempt_with_its_moments(runs: Runs) -> None:
    data = page_data(runs.flowspec("report", runs.ids["retries"]).stdout)
    feed = next(s for s in data["steps"] if s["name"] == "fetch-partner-feed")
    tries = feed["attempts"]
    assert [a["n"] for a in tries] == [1, 2, 3, 4] and all(a["phase"] == "Failed" for a in tries)
    # the backoff is the time between one attempt's end and the next one's start
    assert all(b["start"] > a["end"] for a, b in itertools.pairwise(tries))


def test_a_hostile_output_cannot_close_the_data_element(runs: Runs) -> None:
    page = runs.flowspec("report", runs.ids["hostile"]).stdout
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert HOSTILE not in page and "<img" not in page
    data = page_data(page)
    say = next(s for s in data["steps"] if s["name"] == "say")
    assert say["outputs"]["note"] == HOSTILE
    assert say["attempts"][0]["log"]["lines"] == [["stderr", HOSTILE]]
    refuse = next(s for s in data["steps"] if s["name"] == "refuse")
    assert refuse["phase"] == "Failed" and refuse["attempts"][0]["log"]["lines"] == \
        [["stderr", "<b>no</b>"]]


def test_chargeback_resolution_adds_its_decisions_with_reason_codes(runs: Runs) -> None:
    data = page_data(runs.flowspec("report", runs.ids["chargeback"]).stdout)
    step = next(s for s in data["steps"] if s["name"] == "chargeback-resolution")
    section = step["section"]
    assert section["columns"][:2] == ["line", "decision"]
    assert [(r[0], r[1], r[-1]) for r in section["rows"]] == [
        ("1", "accept", "-"), ("2", "accept", "-"), ("3", "adjust", "06"), ("4", "reject", "28")]
    totals = dict(section["totals"])
    assert totals["submitted"] == "1183.25" and totals["allowed"] == "897.00"
    assert {f["name"] for f in step["files"]} == {"response", "summary"}
    assert all(s.get("section") is None for s in data["steps"] if s is not step)


@pytest.mark.parametrize(("processor", "note"), [
    ("report_procs:Raising", "ValueError: no table today"),
    ("report_procs:Shapeless", "report_section must return a mapping with 'columns' and 'rows'"),
])
def test_a_misbehaving_section_becomes_a_note(processor: str, note: str) -> None:
    section = processor_section(processor, StepReport("s", "Succeeded", 1, data={"n": 1}))
    assert section == {"title": "section unavailable", "note": note}


def test_a_section_is_data_the_page_shows_as_text() -> None:
    section = processor_section("report_procs:Hostile",
                                StepReport("s", "Succeeded", 1, data={"n": 1}))
    assert section == {"title": "<i>t</i>", "columns": ["<b>c</b>"],
                       "rows": [["<script>x</script>", "2"]], "totals": [["sum", '{"a": 1}']]}
    assert processor_section("report_procs:Hostile", StepReport("s", "Failed", 1)) is None
    run = {"id": "r<1>", "workflow": "w&", "phase": "Succeeded"}
    page = render({"run": run, "steps": [{"section": section}]})
    assert "<title>w&amp; r&lt;1&gt; (Succeeded)</title>" in page
    assert "<script>x" not in page and "<i>" not in page


def test_unknown_runs_and_unwritable_files_are_one_line_errors(runs: Runs,
                                                               tmp_path: Path) -> None:
    done = runs.flowspec("report", "nope", check=False)
    assert done.returncode == 2 and done.stderr.startswith("flowspec report: ")
    assert "Traceback" not in done.stderr
    done = runs.flowspec("report", runs.ids["hello"], "-o", str(tmp_path / "no" / "x.html"),
                         check=False)
    assert done.returncode == 2 and "cannot write" in done.stderr


def test_a_long_log_shows_its_last_lines_and_counts_the_rest(tmp_path: Path) -> None:
    """The page keeps each attempt's last LOG_TAIL lines, read from the store without the
    earlier ones, and says how many it left out."""
    from engine.local import run
    from engine.report.model import LOG_TAIL, gather
    from engine.store import open_store

    spec = tmp_path / "long.yaml"
    spec.write_text("apiVersion: flowspec/v1\nkind: Workflow\nmetadata: {name: long}\nsteps:\n"
                    f"  - {{name: talk, processor: shell, config: {{command: 'seq 1 {LOG_TAIL + 50}'}}}}\n")
    db = f"sqlite:///{tmp_path / 'state.db'}"
    done = run(spec, store=db, workdir=tmp_path)
    store = open_store(db)
    try:
        data = gather(store, done.run_id)
    finally:
        store.close()
    log = next(s for s in data["steps"] if s["name"] == "talk")["attempts"][0]["log"]
    assert log["left_out"] == 50
    assert log["lines"] == [["stdout", str(n)] for n in range(51, LOG_TAIL + 51)]
