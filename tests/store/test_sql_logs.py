"""Step logs in the durable store: lines per attempt, selections, cuts, and prune."""

from __future__ import annotations

import time

from engine.store import open_store
from engine.store.records import LogLine, RunRecord


def _run(run_id: str) -> RunRecord:
    return RunRecord(run_id, "wf", "wf.yaml", "steps: []\n", "0" * 64, {}, "/tmp", 1, "Running",
                     time.time())


def _line(node: str, attempt: int, seq: int, text: str, stream: str = "stdout") -> LogLine:
    return LogLine(node, attempt, seq, stream, 1000.0 + seq, text)


def test_lines_are_read_back_per_attempt_in_order_and_selected(store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.write_logs("r1", [_line("b", 1, 2, "b two", "stderr"), _line("b", 1, 1, "b one"),
                                _line("a(0:x)", 1, 1, "x"), _line("a(1:y)", 2, 1, "y"),
                                _line("ab", 1, 1, "not a's")], [])
        store.write_logs("r2", [_line("b", 1, 1, "another run")], [])
        everything = store.read_logs("r1")
        assert [(x.node, x.attempt, x.seq, x.text) for x in everything] == [
            ("a(0:x)", 1, 1, "x"), ("a(1:y)", 2, 1, "y"), ("ab", 1, 1, "not a's"),
            ("b", 1, 1, "b one"), ("b", 1, 2, "b two")]
        assert everything[-1] == LogLine("b", 1, 2, "stderr", 1002.0, "b two")
        assert [x.text for x in store.read_logs("r1", step="a")] == ["x", "y"]
        assert [x.text for x in store.read_logs("r1", node="a(1:y)")] == ["y"]
        assert [x.text for x in store.read_logs("r1", step="a", attempt=2)] == ["y"]
        assert [x.text for x in store.read_logs("r1", node="b", after=1)] == ["b two"]
        assert store.log_marks("r1") == {("a(0:x)", 1): 1, ("a(1:y)", 2): 1, ("ab", 1): 1,
                                         ("b", 1): 2}
        assert store.log_marks("r1", step="a", attempt=1) == {("a(0:x)", 1): 1}
    finally:
        store.close()


def test_a_cut_deletes_its_lines_and_its_note_takes_the_first_number(store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.write_logs("r1", [_line("a", 1, seq, f"line {seq}") for seq in range(1, 7)], [])
        note = LogLine("a", 1, 3, "flowspec", 1003.0, "[log cut: 12 bytes in 2 lines dropped]")
        store.write_logs("r1", [note], [("a", 1, 3, 4)])
        bigger = LogLine("a", 1, 3, "flowspec", 1003.0, "[log cut: 18 bytes in 3 lines dropped]")
        store.write_logs("r1", [bigger, _line("a", 1, 7, "line 7")], [("a", 1, 3, 5)])
        assert [(x.seq, x.text) for x in store.read_logs("r1")] == [
            (1, "line 1"), (2, "line 2"), (3, "[log cut: 18 bytes in 3 lines dropped]"),
            (6, "line 6"), (7, "line 7")]
    finally:
        store.close()


def test_prune_forgets_the_logs_of_the_runs_it_forgets(store_url: str) -> None:
    store = open_store(store_url)
    try:
        for run_id in ("old-run", "kept-run"):
            store.create_run(_run(run_id))
            store.write_logs(run_id, [_line("a", 1, 1, run_id)], [])
        store.run_ended("old-run", "Succeeded", None, time.time())
        assert store.delete_runs(time.time() + 1) == ["old-run"]
        assert store.read_logs("old-run") == []
        assert [x.text for x in store.read_logs("kept-run")] == ["kept-run"]
    finally:
        store.close()


def test_log_tails_keep_each_attempts_last_lines_and_count_them_all(store_url: str) -> None:
    """What a report shows: per attempt its last lines in order and how many it has, read
    without the earlier lines, on a store holding more than one run."""
    store = open_store(store_url)
    try:
        store.write_logs("r1", [*(_line("a", 1, n, f"a1 {n}") for n in range(1, 8)),
                                *(_line("a", 2, n, f"a2 {n}") for n in (1, 2)),
                                _line("b(0:x)", 1, 1, "x")], [])
        store.write_logs("r2", [_line("a", 1, n, "other run") for n in range(1, 9)], [])
        tails = store.log_tails("r1", 3)
        assert {key: ([x.text for x in lines], total) for key, (lines, total) in tails.items()} == {
            ("a", 1): (["a1 5", "a1 6", "a1 7"], 7),
            ("a", 2): (["a2 1", "a2 2"], 2),
            ("b(0:x)", 1): (["x"], 1),
        }
        assert tails[("a", 1)][0][-1] == LogLine("a", 1, 7, "stdout", 1007.0, "a1 7")
        assert store.log_tails("r3", 3) == {}
    finally:
        store.close()
