"""Step logs as the executor keeps them: real commands, real SQLite stores.

Lines of the two streams are read from two pipes, so a command here pauses between writes
to different streams whenever the test asserts on their order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from executor_helpers import spec_from

from engine.executor import logs
from engine.executor.logs import LogBook
from engine.local import run
from engine.secrets import Redactor
from engine.store import open_store
from engine.store.records import LogLine

HEAD = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: logs}
steps:
"""


def _kept(body: str, db_url: str, tmp: Path, **kw: Any) -> tuple[Any, list[LogLine]]:
    """Run the steps in ``body``; the result and every line the store kept."""
    result = run(spec_from(HEAD + body), store=db_url, workdir=tmp, **kw)
    store = open_store(db_url)
    try:
        return result, store.read_logs(result.run_id)
    finally:
        store.close()


def test_both_streams_are_kept_in_the_order_written_with_their_streams(
        tmp_path: Path, db_url: str) -> None:
    result, kept = _kept("""
  - name: both
    processor: shell
    config: {command: 'echo one; sleep 0.2; echo two >&2; sleep 0.2; printf three'}
""", db_url, tmp_path)
    assert [(x.node, x.attempt, x.seq, x.stream, x.text) for x in kept] == [
        ("both", 1, 1, "stdout", "one"), ("both", 1, 2, "stderr", "two"),
        ("both", 1, 3, "stdout", "three")]  # the last line needs no newline
    assert result.started_at < kept[0].at < kept[1].at < kept[2].at < result.finished_at


def test_a_failing_steps_whole_stderr_is_kept(tmp_path: Path, db_url: str) -> None:
    result, kept = _kept("""
  - name: broken
    processor: shell
    config: {command: 'for i in $(seq 1 200); do echo "problem $i" >&2; done; exit 3'}
""", db_url, tmp_path)
    assert result.steps["broken"].error == "command exited with code 3: problem 200"
    assert [x.text for x in kept] == [f"problem {i}" for i in range(1, 201)]
    assert {x.stream for x in kept} == {"stderr"}


def test_the_size_cap_keeps_head_and_tail_and_says_the_cut(tmp_path: Path, db_url: str) -> None:
    count = 300_000  # about 2 MB of output, twice the cap
    _, kept = _kept(f"""
  - name: big
    processor: shell
    config: {{command: 'seq 1 {count}'}}
""", db_url, tmp_path)
    (cut,) = [i for i, line in enumerate(kept) if line.stream == logs.NOTE]
    head = [int(x.text) for x in kept[:cut]]
    tail = [int(x.text) for x in kept[cut + 1:]]
    assert head == list(range(1, len(head) + 1))
    assert tail == list(range(count - len(tail) + 1, count + 1))
    dropped = range(len(head) + 1, count - len(tail) + 1)
    size = sum(len(str(i)) + 1 for i in dropped)
    assert kept[cut].text == f"[log cut: {size} bytes in {len(dropped)} lines dropped]"
    assert kept[cut].seq == len(head) + 1  # where the dropped lines were
    assert logs.MAX_BYTES - 16 <= sum(len(x.text) + 1 for x in kept) - len(kept[cut].text) - 1 \
        <= logs.MAX_BYTES


def test_a_cut_made_between_two_writes_is_written_once(db_url: str) -> None:
    store = open_store(db_url)
    book = LogBook(store, "r1", Redactor(), max_bytes=40)  # head 20 bytes, tail 20 bytes
    try:
        sink = book.attempt("a", 1)
        for i in range(1, 8):  # lines of 10 bytes: "line 0001\n"
            sink.write("stdout", f"line {i:04}\n".encode())
            if i in (4, 6):
                book.flush()  # as the log thread does every so often
        book.ended("a", 1)
        sink.write("stdout", b"too late\n")  # an abandoned thread writing after its attempt
        book.close()
        assert [(x.seq, x.text) for x in store.read_logs("r1")] == [
            (1, "line 0001"), (2, "line 0002"),
            (3, "[log cut: 30 bytes in 3 lines dropped]"),
            (6, "line 0006"), (7, "line 0007")]
    finally:
        store.close()


def test_a_line_is_made_whole_from_the_pieces_a_pipe_gives(db_url: str) -> None:
    store = open_store(db_url)
    book = LogBook(store, "r1", Redactor(["hunter2-secret"]))
    try:
        sink = book.attempt("a", 1)
        for piece in (b"the key is hunt", b"er2-sec", b"ret\r\nnext", b" \xc3", b"\xa9t\xc3\n"):
            sink.write("stdout", piece)
        sink.write("stdout", b"x" * (logs.MAX_LINE + 5))
        book.close()
        assert [x.text for x in store.read_logs("r1")] == [
            "the key is ***", "next \u00e9t\ufffd", "x" * logs.MAX_LINE, "xxxxx"]
    finally:
        store.close()


def test_a_secret_a_command_prints_is_masked_in_its_log(tmp_path: Path, db_url: str) -> None:
    secret = "s3cr3t-t0ken-value"
    _, kept = _kept("""
  - name: leak
    processor: shell
    env: {TOKEN: {secret: {name: api, key: token}}}
    config: {command: 'echo "token=$TOKEN"; sleep 0.2; echo "$TOKEN" >&2'}
""", db_url, tmp_path, secrets={"API_TOKEN": secret})
    assert [(x.stream, x.text) for x in kept] == [("stdout", "token=***"), ("stderr", "***")]
    for path in tmp_path.glob("state.db*"):
        assert secret.encode() not in path.read_bytes()


def test_stdout_is_an_output_only_when_the_step_declares_it(tmp_path: Path, db_url: str) -> None:
    result, kept = _kept("""
  - name: plain
    processor: shell
    config: {command: 'echo hello'}
  - name: counted
    processor: shell
    config: {command: 'echo 42'}
    outputs: {stdout: integer}
  - name: sneaky
    processor: shell
    config: {command: 'echo stdout=x >> "$FLOWSPEC_OUTPUT"'}
""", db_url, tmp_path)
    plain = result.steps["plain"]
    assert (plain.outputs, plain.data) == ({"exit_code": 0}, {})
    assert result.steps["counted"].outputs == {"exit_code": 0, "stdout": 42}
    assert "sets 'stdout', which the shell processor sets itself" in (
        result.steps["sneaky"].error or "")
    assert [(x.node, x.text) for x in kept] == [("counted", "42"), ("plain", "hello")]


def test_an_in_process_processor_writes_to_its_log_not_by_printing(
        tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, kept = _kept("""
  - name: py
    processor: python
    config: {function: 'executor_procs:write_log'}
""", db_url, tmp_path)
    assert capsys.readouterr().out == "printed, not kept\n"
    assert [x.text for x in kept] == ["from python", "no newline at the end"]


def test_an_observer_sees_each_line_as_it_is_made_even_without_a_store(tmp_path: Path) -> None:
    seen: list[tuple[str, int, str, str]] = []

    class Recorder:
        def run_started(self, run_id: str, workflow: str, total: int, resumed: bool) -> None:
            """Not needed here."""

        def step_event(self, kind: str, name: str, phase: str, attempt: int,
                       message: str | None) -> None:
            """Not needed here."""

        def step_output(self, name: str, attempt: int, stream: str, line: str) -> None:
            seen.append((name, attempt, stream, line))

    run(spec_from(HEAD + """
  - name: talk
    processor: shell
    config: {command: 'echo first; echo second >&2'}
"""), workdir=tmp_path, observer=Recorder())
    assert sorted(seen) == [("talk", 1, "stderr", "second"), ("talk", 1, "stdout", "first")]
