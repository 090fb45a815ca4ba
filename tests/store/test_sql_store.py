"""The durable store on real databases: round trips, the lease, bad stores, full disks."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from engine.process_group import GroupId
from engine.store import LeaseLost, RunBusy, StoreError, UnknownRun, open_store, sql
from engine.store.records import AttemptRecord, NodeRecord, RunRecord
from engine.store.sql import SqlStore


def record(run_id: str = "wf-abcde", **kw: object) -> RunRecord:
    fields: dict[str, object] = {
        "run_id": run_id, "workflow": "wf", "spec_file": "wf.yaml", "spec_text": "steps: []\n",
        "spec_hash": "0" * 64, "params": {"n": 3, "tags": ["a"]}, "workdir": "/tmp",
        "max_parallel": 2, "phase": "Running", "created_at": time.time()}
    fields.update(kw)
    return RunRecord(**fields)  # type: ignore[arg-type]


def test_a_run_round_trips(store_url: str) -> None:
    store = open_store(store_url)
    store.create_run(record())
    now = time.time()
    store.write("wf-abcde", [("start", "a", 1, now)])
    store.write("wf-abcde", [
        ("end", "a", 1, "Failed", now + 1, None, None, "boom", "StepFailed", False),
        ("start", "a", 2, now + 2)])
    store.write("wf-abcde", [
        ("end", "a", 2, "Succeeded", now + 3, '{"n":1}', '{"x":[1]}', None, None, True),
        ("node", NodeRecord("b", "b", "Omitted", 0, now + 3, message="omitted")),
        ("start", "c", 1, now + 4)])
    store.run_ended("wf-abcde", "Interrupted", "stopped", now + 5)
    store.close()

    again = open_store(store_url)
    state = again.load_run("wf-abcde")
    assert state.run.params == {"n": 3, "tags": ["a"]}
    assert state.run.phase == "Interrupted" and state.run.lease_owner is None
    assert state.nodes["a"].phase == "Succeeded" and state.nodes["a"].attempts == 2
    assert [t.phase for t in state.attempts["a"]] == ["Failed", "Succeeded"]
    assert state.attempts["a"][1].outputs == {"n": 1}
    assert state.attempts["a"][1].data == {"x": [1]}
    assert state.attempts["a"][0].error == "boom"
    assert state.nodes["b"].phase == "Omitted"
    assert "c" not in state.nodes and state.attempts["c"][0].finished_at is None
    kinds = [(e.seq, e.kind, e.node) for e in again.events("wf-abcde")]
    assert kinds == [(1, "created", None), (2, "started", "a"), (3, "retrying", "a"),
                     (4, "started", "a"), (5, "finished", "a"), (6, "decided", "b"),
                     (7, "started", "c"), (8, "interrupted", None)]
    again.close()


def test_process_groups_are_kept_with_their_attempts(store_url: str) -> None:
    store = open_store(store_url)
    store.create_run(record())
    now = time.time()
    store.write("wf-abcde", [("start", "a", 1, now)])
    store.write("wf-abcde", [("group", "a", 1, now, GroupId(4321, "boot-1", 987654321012))])
    store.write("wf-abcde", [
        ("group", "a", 1, now, GroupId(4330, None, None)),
        ("end", "a", 1, "Failed", now + 1, None, None, "boom", "StepFailed", False)])
    store.close()
    again = open_store(store_url)
    try:
        state = again.load_run("wf-abcde")
    finally:
        again.close()
    assert state.groups == {("a", 1): [GroupId(4321, "boot-1", 987654321012),
                                       GroupId(4330, None, None)]}
    assert [t.phase for t in state.attempts["a"]] == ["Failed"]


def test_a_store_of_the_first_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy.engine import make_url

    from engine.store import schema

    # an engine on a new file, without the store's own creation (which builds the head schema)
    engine = sql._configured_sqlite_engine(make_url(f"sqlite:///{tmp_path}/old.db"))
    try:
        with engine.begin() as conn:
            command.upgrade(schema.alembic_config(conn), "0001_initial")  # type: ignore[arg-type]
        assert schema.current_revision(engine) == "0001_initial"
        store = open_store(f"sqlite:///{tmp_path}/old.db")
        store.create_run(record())
        store.write("wf-abcde", [("start", "a", 1, 1.0),
                                 ("group", "a", 1, 1.0, GroupId(7, "b", 3))])
        assert store.load_run("wf-abcde").groups == {("a", 1): [GroupId(7, "b", 3)]}
        store.close()
        assert schema.current_revision(engine) == schema.HEAD
    finally:
        engine.dispose()


def test_run_ids_resolve_by_unique_prefix(store_url: str) -> None:
    store = open_store(store_url)
    store.create_run(record("hello-aaaaa"))
    store.create_run(record("hello-aabbb"))
    store.create_run(record("other-ccccc"))
    assert store.resolve_run_id("other") == "other-ccccc"  # type: ignore[attr-defined]
    with pytest.raises(UnknownRun, match="matches several runs"):
        store.resolve_run_id("hello-aa")  # type: ignore[attr-defined]
    with pytest.raises(UnknownRun, match="no run 'nope'.*flowspec runs"):
        store.resolve_run_id("nope")  # type: ignore[attr-defined]
    with pytest.raises(UnknownRun):
        store.load_run("nope")
    newest = store.list_runs(10)[0][0]  # type: ignore[attr-defined]
    assert newest.run_id == "other-ccccc"
    store.close()


def test_the_lease_keeps_a_second_process_out_until_it_expires(store_url: str) -> None:
    first = SqlStore(store_url, lease_seconds=0.5)
    first.create_run(record())
    second = SqlStore(store_url, lease_seconds=0.5)
    with pytest.raises(RunBusy, match="is being run by process"):
        second.claim("wf-abcde")
    time.sleep(0.6)
    second.claim("wf-abcde")
    with pytest.raises(LeaseLost):
        first.write("wf-abcde", [("start", "late", 1, time.time())])
    assert "late" not in second.load_run("wf-abcde").attempts
    second.write("wf-abcde", [("start", "mine", 1, time.time())])
    assert "mine" in second.load_run("wf-abcde").attempts
    first.close()
    second.close()


def test_renewal_keeps_the_lease(store_url: str) -> None:
    first = SqlStore(store_url, lease_seconds=0.4)
    first.create_run(record())
    for _ in range(3):
        time.sleep(0.2)
        first.renew("wf-abcde")
    with pytest.raises(RunBusy):
        SqlStore(store_url, lease_seconds=0.4).claim("wf-abcde")
    first.close()


def test_a_dead_holder_on_this_host_is_taken_over_at_once(store_url: str) -> None:
    code = (
        "import sys, time; from engine.store.sql import SqlStore; "
        "from engine.store.records import RunRecord; "
        "s = SqlStore(sys.argv[1], lease_seconds=3600); "
        "s.create_run(RunRecord('wf-dead1', 'wf', 'f', 't', 'h', {}, '/', 1, 'Running', "
        "time.time()))")
    subprocess.run([sys.executable, "-c", code, store_url], check=True)
    store = open_store(store_url)
    store.claim("wf-dead1")  # the creator exited without releasing; its lease lasts an hour
    events = [e.message or "" for e in store.events("wf-dead1")]
    assert "took over from dead process" in events[-1]
    store.close()


def test_a_store_from_a_newer_flowspec_is_refused(store_url: str) -> None:
    open_store(store_url).close()
    store = SqlStore(store_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE flowspec_alembic_version SET version_num = '0042_future'"))
    store.close()
    with pytest.raises(StoreError, match="written by a newer flowspec.*0042_future"):
        open_store(store_url)


def test_migrations_create_exactly_the_tables_the_code_uses(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from engine.store.tables import metadata

    store = SqlStore(store_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    store.close()
    assert [d for d in diff if "flowspec_alembic_version" not in str(d)] == []


def test_alembic_knows_the_same_head() -> None:
    from alembic.script import ScriptDirectory

    from engine.store import schema

    scripts = ScriptDirectory.from_config(schema.alembic_config())  # type: ignore[arg-type]
    assert scripts.get_heads() == [schema.HEAD]
    assert [s.revision for s in reversed(list(scripts.walk_revisions()))] == list(
        schema.REVISIONS)


# --- SQLite files that cannot be used -------------------------------------------------------
def test_an_unusable_url_is_one_sentence() -> None:
    with pytest.raises(StoreError, match="unsupported store URL mysql://u:\\*\\*\\*@h/db"):
        open_store("mysql://u:secret@h/db")
    with pytest.raises(StoreError, match="in-memory SQLite store would lose"):
        open_store("sqlite://")


def test_a_locked_database_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "BUSY_TIMEOUT_SECONDS", 0.2)
    store = open_store(f"sqlite:///{tmp_path}/state.db")
    store.create_run(record())
    holder = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process keeps the write lock
    with pytest.raises(StoreError, match="database is locked by another process"):
        store.write("wf-abcde", [("start", "a", 1, time.time())])
    holder.execute("ROLLBACK")
    store.write("wf-abcde", [("start", "a", 1, time.time())])  # and it recovers
    assert [e.kind for e in store.events("wf-abcde")] == ["created", "started"]
    store.close()


def test_a_read_only_database_can_be_read_but_not_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    store = open_store(url)
    store.create_run(record())
    store.close()
    if os.geteuid() == 0:  # root ignores file modes: open the file read-only instead
        ro_url = f"sqlite:///file:{tmp_path}/state.db?mode=ro&uri=true"
    else:
        (tmp_path / "state.db").chmod(0o444)
        ro_url = url
    ro = SqlStore(ro_url)
    assert ro.load_run("wf-abcde").run.workflow == "wf"
    with pytest.raises(StoreError, match="database file is read-only"):
        ro.create_run(record("wf-other"))
    ro.close()


def test_a_full_disk_stops_writing_without_corrupting_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    store = SqlStore(url)
    store.create_run(record())
    pages = sqlite3.connect(tmp_path / "state.db").execute("PRAGMA page_count").fetchone()[0]
    event.listen(store.engine, "connect",
                 lambda conn, _: conn.execute(f"PRAGMA max_page_count={pages + 2}"))
    store.engine.dispose()
    big = '"' + "x" * 200_000 + '"'
    store.write("wf-abcde", [("start", "a", 1, time.time())])
    with pytest.raises(StoreError, match="disk holding the database is full"):
        store.write("wf-abcde", [("end", "a", 1, "Succeeded", time.time(), big, None, None,
                                  None, True)])
    store.close()
    reopened = open_store(url)
    state = reopened.load_run("wf-abcde")
    assert state.attempts["a"][0].finished_at is None  # the failed commit left nothing half-done
    with sqlite3.connect(tmp_path / "state.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    reopened.close()


def test_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "state.db").write_text("hello, I am a text file" * 100)
    with pytest.raises(StoreError, match="not an SQLite database"):
        open_store(f"sqlite:///{tmp_path}/state.db")


def test_the_sql_views_agree_with_the_folded_log(store_url: str) -> None:
    store = SqlStore(store_url)
    store.create_run(record())
    now = time.time()
    store.write("wf-abcde", [("start", "a", 1, now)])
    store.write("wf-abcde", [
        ("end", "a", 1, "Error", now + 1, None, None, "lost", "Interrupted", False),
        ("start", "a", 2, now + 2), ("node", NodeRecord("b", "b", "Skipped", 0, now + 2))])
    store.write("wf-abcde", [("end", "a", 2, "Succeeded", now + 3, '{"v":1}', None, None,
                              None, True)])
    with store.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT node, attempt, phase, started_at, finished_at, outputs, error, error_type, "
            "final FROM flowspec_attempts WHERE run_id = 'wf-abcde' ORDER BY node, attempt"
        )).all()
        finals = dict(conn.execute(text(
            "SELECT node, phase FROM flowspec_nodes WHERE run_id = 'wf-abcde'")).all())
    state = store.load_run("wf-abcde")
    store.close()
    folded = [(t.node, t.attempt, t.phase, t.started_at, t.finished_at,
               None if t.outputs is None else json.dumps(t.outputs, separators=(",", ":")),
               t.error, t.error_type, int(t.final)) for t in state.attempts["a"]]
    assert [tuple(r) for r in rows] == folded
    assert finals == {n: r.phase for n, r in state.nodes.items()} == {"a": "Succeeded",
                                                                     "b": "Skipped"}


# --- attempts recorded by Argo pods: no lease, many writers ------------------------------------

def pod_attempt(node: str, attempt: int = 1, phase: str = "Succeeded", *, final: bool = True,
                **kw: object) -> AttemptRecord:
    started = time.time()
    fields: dict[str, object] = {"node": node, "attempt": attempt, "phase": phase,
                                 "started_at": started, "finished_at": started + 1,
                                 "final": final}
    fields.update(kw)
    return AttemptRecord(**fields)  # type: ignore[arg-type]


def test_pods_record_attempts_of_a_run_nobody_leases(store_url: str) -> None:
    run = record("uid-1", spec_file="argo:wf-x1")
    first, second = SqlStore(store_url), SqlStore(store_url)
    try:
        first.record_attempt(run, pod_attempt("a", 1, "Failed", final=False, error="boom",
                                              error_type="StepFailed"))
        second.record_attempt(run, pod_attempt("a", 2, outputs={"n": 1}, data={"x": [1]}))
        first.record_attempt(run, pod_attempt("fan(b)", outputs={"said": "é"}))
        state = second.load_run("uid-1")
        kinds = [(e.seq, e.kind, e.node, e.attempt) for e in second.events("uid-1")]
    finally:
        first.close()
        second.close()
    assert state.run.lease_owner is None and state.run.params == {"n": 3, "tags": ["a"]}
    assert state.run.spec_file == "argo:wf-x1" and state.run.phase == "Running"
    assert [(t.phase, t.final, t.error, t.error_type) for t in state.attempts["a"]] == [
        ("Failed", False, "boom", "StepFailed"), ("Succeeded", True, None, None)]
    assert (state.attempts["a"][1].outputs, state.attempts["a"][1].data) == ({"n": 1}, {"x": [1]})
    assert (state.nodes["a"].phase, state.nodes["a"].attempts) == ("Succeeded", 2)
    assert state.nodes["fan(b)"].parent == "fan"
    assert state.attempts["fan(b)"][0].outputs == {"said": "é"}
    assert kinds == [(1, "created", None, None), (2, "started", "a", 1), (3, "retrying", "a", 1),
                     (4, "started", "a", 2), (5, "finished", "a", 2),
                     (6, "started", "fan(b)", 1), (7, "finished", "fan(b)", 1)]


def test_pods_recording_at_once_number_their_events_without_gaps(store_url: str) -> None:
    pods = [SqlStore(store_url) for _ in range(6)]
    run = record("uid-2")
    together = threading.Barrier(len(pods))

    def one(i: int) -> None:
        together.wait()
        pods[i].record_attempt(run, pod_attempt(f"fan({i})"))

    try:
        with ThreadPoolExecutor(len(pods)) as pool:
            list(pool.map(one, range(len(pods))))
        events = pods[0].events("uid-2")
    finally:
        for pod in pods:
            pod.close()
    assert [e.seq for e in events] == list(range(1, 2 * len(pods) + 2))
    assert [e.kind for e in events].count("created") == 1
    assert sorted(e.node for e in events if e.kind == "finished") == [
        f"fan({i})" for i in range(len(pods))]


@pytest.mark.postgres
def test_a_pod_numbers_again_when_another_took_its_numbers(pg_url: str) -> None:
    """Another pod commits between this pod's read of the highest number and its insert."""
    run = record("uid-3")
    pod, other = SqlStore(pg_url), SqlStore(pg_url)
    other.record_attempt(run, pod_attempt("a"))
    interleaved: list[str] = []

    @event.listens_for(pod.engine, "after_cursor_execute")
    def other_pod_first(*args: Any) -> None:
        if "max(" in args[2].lower() and not interleaved:
            interleaved.append("b")
            other.record_attempt(run, pod_attempt("b"))

    try:
        pod.record_attempt(run, pod_attempt("c"))
        events = pod.events("uid-3")
    finally:
        pod.close()
        other.close()
    assert interleaved == ["b"]
    assert [(e.seq, e.kind, e.node) for e in events] == [
        (1, "created", None), (2, "started", "a"), (3, "finished", "a"), (4, "started", "b"),
        (5, "finished", "b"), (6, "started", "c"), (7, "finished", "c")]


def test_a_pod_cannot_write_into_a_leased_run(store_url: str) -> None:
    local, pod = SqlStore(store_url), SqlStore(store_url)
    try:
        local.create_run(record())
        with pytest.raises(RunBusy, match="alone writes its events"):
            pod.record_attempt(record(), pod_attempt("a"))
        local.write("wf-abcde", [("start", "a", 1, time.time())])
        kinds = [(e.seq, e.kind) for e in pod.events("wf-abcde")]
    finally:
        local.close()
        pod.close()
    assert kinds == [(1, "created"), (2, "started")]


def test_a_pod_that_cannot_write_says_so_in_one_sentence(tmp_path: Path) -> None:
    SqlStore(f"sqlite:///{tmp_path}/state.db").close()
    pod = SqlStore(f"sqlite:///file:{tmp_path}/state.db?mode=ro&uri=true")
    try:
        with pytest.raises(StoreError, match=r"^cannot record attempt 1 of a in .*: the "
                                             "database file is read-only"):
            pod.record_attempt(record(), pod_attempt("a"))
    finally:
        pod.close()


def test_stores_opened_at_once_on_a_new_file_all_work(tmp_path: Path) -> None:
    """A new SQLite store appears with its schema in one step, so processes opening it at the
    same moment (pods of one fan-out) never see the empty file an interrupted creation would
    leave, which is refused (issue 10, item 8)."""
    import multiprocessing

    url = f"sqlite:///{tmp_path}/new.db"
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        opened = pool.map(_open_and_close, [url] * 12)
    assert opened == ["ok"] * 12
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("new.db")) == []


def _open_and_close(url: str) -> str:
    open_store(url).close()
    return "ok"
