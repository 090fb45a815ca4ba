"""``flowspec logs`` on real runs and real SQLite stores.

Lines of the two streams are read from two pipes, so a command here pauses between writes
to different streams whenever the test asserts on their order.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from executor_helpers import spec_from

from engine.cli.logs import _noted
from engine.cli.main import main
from engine.local import run
from engine.store import open_store
from engine.store.records import LogLine

HEAD = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: logs}
steps:
"""


def _run(body: str, db_url: str, tmp: Path) -> str:
    return run(spec_from(HEAD + body), store=db_url, workdir=tmp).run_id


def _logs(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["logs", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_each_line_says_its_stream_when_both_are_shown(
        tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run("""
  - name: both
    processor: shell
    config: {command: 'echo one; sleep 0.2; echo two >&2; sleep 0.2; printf three'}
""", db_url, tmp_path)
    assert _logs(capsys, run_id, "--db", db_url)[:2] == (
        0, ["stdout | one", "stderr | two", "stdout | three"])
    # one stream of one attempt: the lines as the command wrote them
    assert _logs(capsys, run_id[:-3], "both", "--stream", "stdout", "--db", db_url)[:2] == (
        0, ["one", "three"])
    code, lines, _ = _logs(capsys, run_id, "--stream", "stderr", "-t", "--db", db_url)
    assert code == 0 and len(lines) == 1 and lines[0].endswith("Z | two")


def test_each_attempt_is_shown_apart_and_unknown_names_exit_2(
        tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run(f"""
  - name: flaky
    processor: shell
    retry: {{limit: 1, on: failure}}
    env: {{DIR: "{tmp_path}"}}
    config:
      command: |
        if [ -e "$DIR/tried" ]; then echo second; else touch "$DIR/tried"; echo first; exit 1; fi
  - name: quiet
    processor: noop
""", db_url, tmp_path)
    assert _logs(capsys, run_id, "flaky", "--db", db_url)[:2] == (
        0, ["flaky #1 | first", "flaky #2 | second"])
    assert _logs(capsys, run_id, "--attempt", "2", "--db", db_url)[:2] == (0, ["second"])
    code, lines, err = _logs(capsys, run_id, "quiet", "--db", db_url)
    assert (code, lines) == (0, []) and "quiet wrote nothing" in err
    code, _, err = _logs(capsys, run_id, "flaky", "--attempt", "3", "--db", db_url)
    assert code == 2 and "has no attempt 3 of flaky" in err
    code, _, err = _logs(capsys, run_id, "flakey", "--db", db_url)
    assert code == 2 and "has no step 'flakey'; did you mean 'flaky'?" in err
    code, _, err = _logs(capsys, "no-such-run", "--db", db_url)
    assert code == 2 and "no run 'no-such-run'" in err


def test_a_for_each_steps_instances_are_shown_together_or_one_by_one(
        tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run("""
  - name: each
    processor: shell
    for_each: params.regions
    env: {REGION: '${{ item }}'}
    config: {command: 'echo "report for $REGION"'}
params:
  regions: {type: list, default: [eu, us]}
""", db_url, tmp_path)
    assert _logs(capsys, run_id, "each", "--db", db_url)[:2] == (
        0, ["each(0:eu) #1 | report for eu", "each(1:us) #1 | report for us"])
    assert _logs(capsys, run_id, "each(1:us)", "--db", db_url)[:2] == (0, ["report for us"])


def test_lines_reach_the_store_while_the_step_runs_and_follow_prints_them(
        tmp_path: Path, db_url: str) -> None:
    (tmp_path / "spec.yaml").write_text(HEAD + f"""
  - name: slow
    processor: shell
    env: {{DIR: "{tmp_path}"}}
    config:
      command: 'echo "tick 1"; while [ ! -e "$DIR/go" ]; do sleep 0.05; done; echo "tick 2" >&2'
""")
    cli = [sys.executable, "-m", "engine.cli.main"]
    runner = subprocess.Popen([*cli, "run", "spec.yaml", "--db", db_url], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    follower = None
    try:
        assert _wait_for_file(tmp_path / "state.db"), "the run never made its store"
        store = open_store(db_url, create=False)
        try:
            until = time.monotonic() + 60
            while not (store.list_runs(1) and store.read_logs(store.list_runs(1)[0][0].run_id)):
                assert time.monotonic() < until, "the first line never reached the store"
                time.sleep(0.05)
            run_id = store.list_runs(1)[0][0].run_id
            assert [x.text for x in store.read_logs(run_id)] == ["tick 1"]
            assert store.run_record(run_id).phase == "Running"  # the step is still waiting
        finally:
            store.close()
        follower = subprocess.Popen([*cli, "logs", run_id, "-f", "--db", db_url], cwd=tmp_path,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert follower.stdout is not None
        assert follower.stdout.readline() == "slow #1 stdout | tick 1\n"
        (tmp_path / "go").touch()
        rest, err = follower.communicate(timeout=60)
        assert follower.returncode == 0, err
        assert rest == "slow #1 stderr | tick 2\n"
        assert runner.wait(timeout=60) == 0
    finally:
        for proc in (runner, follower):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def _wait_for_file(path: Path) -> bool:
    until = time.monotonic() + 60
    while not path.exists():
        if time.monotonic() > until:
            return False
        time.sleep(0.02)
    return True


def test_the_cut_is_said_where_it_was_made(
        tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run("""
  - name: big
    processor: shell
    config: {command: 'seq 1 300000'}
""", db_url, tmp_path)
    code, lines, _ = _logs(capsys, run_id, "big", "--stream", "stderr", "--db", db_url)
    assert code == 0 and len(lines) == 1  # stdout left out, the note of the cut kept
    assert lines[0].startswith("[log cut: ") and lines[0].endswith(" lines dropped]")


def test_a_follower_says_which_lines_a_cut_took_before_it_read_them() -> None:
    def line(seq: int, text: str, stream: str = "stdout") -> LogLine:
        return LogLine("a", 1, seq, stream, 0.0, text)

    shown = list(_noted([line(9, "nine"), line(10, "ten")], after=5))
    assert [(x.stream, x.text) for x in shown] == [
        ("flowspec", "[log cut: 3 lines dropped]"), ("stdout", "nine"), ("stdout", "ten")]
    noted = [line(6, "[log cut: 30 bytes in 3 lines dropped]", "flowspec"), line(9, "nine")]
    assert list(_noted(noted, after=5)) == noted  # the store's own note says it


def test_prune_forgets_a_runs_logs(
        tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run("""
  - name: talk
    processor: shell
    config: {command: 'echo hello'}
""", db_url, tmp_path)
    assert _logs(capsys, run_id, "--db", db_url)[:2] == (0, ["hello"])
    assert main(["prune", "--older-than", "2999-01-01", "--db", db_url]) == 0
    assert _logs(capsys, run_id, "--db", db_url)[0] == 2
    store = open_store(db_url)
    try:
        assert store.read_logs(run_id) == []
    finally:
        store.close()

