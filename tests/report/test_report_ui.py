"""flowspec ui over HTTP: the run list and its filters, each run's page and data, read-only,
loopback only, and a running run's page following the store as it changes (in Chromium)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_runs import Runs, flowspec

from engine.report.server import UiServer
from engine.run_id import new_run_id
from engine.store import open_store
from engine.store.records import RunRecord


@pytest.fixture
def served(runs: Runs) -> Iterator[str]:
    yield from _serve(runs.db)


def _serve(db: str) -> Iterator[str]:
    server = UiServer("127.0.0.1", 0, db)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def get(url: str, method: str = "GET", **headers: str) -> tuple[int, str, str]:
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_the_list_shows_the_runs_and_filters_them(runs: Runs, served: str) -> None:
    status, kind, page = get(served + "/")
    assert status == 200 and kind.startswith("text/html")
    assert 'http-equiv="refresh"' not in page  # nothing runs: nothing to follow
    for run_id in runs.ids.values():
        assert f'href="/runs/{run_id}"' in page
    _, _, page = get(served + "/?workflow=hello")
    assert [r for r in runs.ids.values() if f"/runs/{r}\"" in page] == [runs.ids["hello"]]
    _, _, page = get(served + "/?phase=Failed&phase=Bogus")
    shown = {n for n, r in runs.ids.items() if f"/runs/{r}\"" in page}
    assert shown == {n for n, s in runs.shown.items() if s["phase"] == "Failed"} == {"hostile"}
    _, _, page = get(served + "/?limit=2")
    assert page.count('href="/runs/') == 2


def test_a_run_is_its_report_and_its_data(runs: Runs, served: str) -> None:
    run_id = runs.ids["chargeback"]
    status, _, page = get(f"{served}/runs/{run_id[:16]}")
    assert status == 200 and f'"live":"/runs/{run_id}/data.json"' in page
    status, kind, text = get(f"{served}/runs/{run_id}/data.json")
    data = json.loads(text)
    assert status == 200 and kind == "application/json"
    assert [s["name"] for s in data["steps"]] == list(runs.shown["chargeback"]["steps"])


def test_it_is_read_only_and_answers_loopback_names_only(runs: Runs, served: str) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert get(f"{served}/runs/{runs.ids['hello']}", method)[0] == 405
    assert get(served + "/runs/nope")[0] == 404
    assert get(served + "/elsewhere")[0] == 404
    assert get(served + "/", Host="attacker.example:80")[0] == 421
    assert get(served + "/", Host="localhost:1")[0] == 200


def test_the_command_refuses_a_store_that_does_not_exist(tmp_path: Path) -> None:
    done = flowspec(tmp_path, "ui", "--db", f"sqlite:///{tmp_path}/none.db", check=False)
    assert done.returncode == 2 and done.stderr.startswith("flowspec ui: ")
    done = flowspec(tmp_path, "ui", "--port", "70000", check=False)
    assert done.returncode == 2 and "between 0 and 65535" in done.stderr


def test_the_page_of_a_running_run_follows_the_store(open_page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    db = f"sqlite:///{tmp_path}/state.db"
    store = open_store(db)
    spec = ("apiVersion: flowspec/v1\nkind: Workflow\nmetadata: {name: live}\nsteps:\n"
            "  - {name: a, processor: noop}\n  - {name: b, processor: noop, dependencies: [a]}\n")
    now = time.time()
    run = RunRecord(run_id=new_run_id("live"), workflow="live", spec_file="live.yaml",
                    spec_text=spec, spec_hash="-", params={}, workdir=str(tmp_path),
                    max_parallel=1, phase="Running", created_at=now)
    try:
        store.create_run(run)
        store.write(run.run_id, [("start", "a", 1, now)])
        for url in _serve(db):
            opened = open_page(f"{url}/runs/{run.run_id}")
            page = opened.page
            expect(page.locator('svg [data-step="a"]')).to_have_class("node p-Running")
            assert "live: updating" in page.inner_text("header")
            assert 'http-equiv="refresh"' in get(url + "/")[2]
            store.write(run.run_id, [("end", "a", 1, "Succeeded", time.time(), "{}", None, None,
                                      None, True), ("start", "b", 1, time.time())])
            expect(page.locator('svg [data-step="a"]')).to_have_class("node p-Succeeded",
                                                                      timeout=15_000)
            expect(page.locator('svg [data-step="b"]')).to_have_class("node p-Running")
            store.write(run.run_id, [("end", "b", 1, "Succeeded", time.time(), "{}", None, None,
                                      None, True)])
            store.run_ended(run.run_id, "Succeeded", None, time.time())
            expect(page.locator("header .badge")).to_have_text("Succeeded", timeout=15_000)
            assert opened.problems == []
    finally:
        store.close()
