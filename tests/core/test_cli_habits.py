"""What users of other workflow tools expect of a command line (issue 12, items 6 and 7):
one exit-code rule for every command, ``--version``, params from a file, filtered ``runs``,
``prune``, ISO 8601 moments in JSON, and run ids that do not clash."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.run_id import ALPHABET, MAX_LENGTH, new_run_id

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "specs" / "examples" / "hello.yaml"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse: --version, usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWSPEC_DB", raising=False)
    (tmp_path / "bad.yaml").write_text("apiVersion: flowspec/v1\nkind: Workflow\n"
                                       "metadata: {name: bad}\nsteps:\n  - {name: a}\n")
    (tmp_path / "ok.yaml").write_text(
        "apiVersion: flowspec/v1\nkind: Workflow\nmetadata: {name: ok}\n"
        "params:\n  n: {type: integer, default: 1}\n  who: {type: string, required: true}\n"
        "steps:\n  - name: a\n    processor: noop\n"
        "  - name: fails\n    processor: shell\n    config: {command: 'exit 3'}\n"
        "    when: params.n > 5\n")
    return tmp_path


@pytest.mark.parametrize("command", ["validate", "graph", "plan", "run", "compile"])
def test_every_command_exits_1_on_a_spec_with_problems_and_2_on_a_missing_one(
        work: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    assert _cli(capsys, command, "bad.yaml")[0] == 1
    assert _cli(capsys, command, "missing.yaml")[0] == 2


@pytest.mark.parametrize("argv", [["run", "ok.yaml", "--max-parallel", "0"],
                                  ["plan", "ok.yaml", "-p", "who"], ["show", "nope-1"],
                                  ["resume", "nope-1"], ["runs", "--since", "yesterday"],
                                  ["prune"], ["nonsense"]])
def test_usage_and_io_problems_exit_2(work: Path, capsys: pytest.CaptureFixture[str],
                                      argv: list[str]) -> None:
    assert _cli(capsys, *argv, *(["--db", f"sqlite:///{work}/s.db"] if argv[0] in (
        "show", "resume") else []))[0] == 2


def test_run_exits_0_when_it_succeeded_and_1_when_it_did_not(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{work}/s.db"
    assert _cli(capsys, "run", "ok.yaml", "-p", "who=x", "--db", db)[0] == 0
    assert _cli(capsys, "run", "ok.yaml", "-p", "who=x", "-p", "n=9", "--db", db)[0] == 1


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "--version")
    assert code == 0
    assert re.fullmatch(r"flowspec \d+\.\d+\.\d+\S*\n", out)


def test_params_file_yaml_or_json_with_p_winning(work: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (work / "p.yaml").write_text("who: from-file\nn: 7\n")
    (work / "p.json").write_text('{"who": "json", "n": 2}')
    code, out, _ = _cli(capsys, "plan", "ok.yaml", "-f", "p.yaml", "--format", "json")
    assert code == 0
    assert json.loads(out)["params"] == {"n": 7, "who": "from-file"}
    code, out, _ = _cli(capsys, "plan", "ok.yaml", "--params-file", "p.json", "-p", "who=cli",
                        "--format", "json")
    assert json.loads(out)["params"] == {"n": 2, "who": "cli"}
    compiled = _cli(capsys, "compile", "ok.yaml", "-f", "p.yaml")
    assert compiled[0] == 0 and "from-file" in compiled[1]


@pytest.mark.parametrize(("content", "message"), [
    ("- a\n- b\n", "expected a mapping of param names"),
    ("who: [unclosed\n", "p.yaml:2:1"),
    ("n: seven\nwho: x\n", "param 'n'"),
])
def test_a_bad_params_file_is_a_clear_usage_error(
        work: Path, capsys: pytest.CaptureFixture[str], content: str, message: str) -> None:
    (work / "p.yaml").write_text(content)
    code, _, err = _cli(capsys, "run", "ok.yaml", "-f", "p.yaml", "--db", f"sqlite:///{work}/s")
    assert code == 2
    assert message in err
    assert _cli(capsys, "plan", "ok.yaml", "-f", "absent.yaml")[0] == 2


def test_runs_filters_prune_and_iso_moments(work: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{work}/s.db"
    assert _cli(capsys, "run", "ok.yaml", "-p", "who=x", "--db", db)[0] == 0
    assert _cli(capsys, "run", "ok.yaml", "-p", "who=x", "-p", "n=9", "--db", db)[0] == 1
    assert _cli(capsys, "run", str(HELLO), "--db", db)[0] == 0

    def listed(*extra: str) -> list[dict[str, object]]:
        code, out, _ = _cli(capsys, "runs", "--db", db, "--format", "json", *extra)
        assert code == 0
        return json.loads(out)  # type: ignore[no-any-return]

    everything = listed()
    assert len(everything) == 3
    assert all(ISO.match(str(r["created_at"])) and ISO.match(str(r["finished_at"]))
               for r in everything)
    assert [r["workflow"] for r in listed("--workflow", "ok")] == ["ok", "ok"]
    assert [r["phase"] for r in listed("--phase", "Failed")] == ["Failed"]
    assert len(listed("--phase", "Failed", "--phase", "Succeeded")) == 3
    assert listed("--phase", "Running") == []
    assert len(listed("--since", "1h")) == 3
    assert listed("--since", "2999-01-01") == []
    assert len(listed("--limit", "2")) == 2

    shown = json.loads(_cli(capsys, "show", str(everything[0]["run_id"]), "--db", db,
                            "--format", "json")[1])
    assert ISO.match(shown["started_at"]) and ISO.match(shown["finished_at"])
    assert all(ISO.match(s["started_at"]) for s in shown["steps"].values() if s["started_at"])

    code, out, err = _cli(capsys, "prune", "--older-than", "0s", "--dry-run", "--db", db)
    assert code == 0 and len(out.split()) == 3 and "would forget 3" in err
    assert len(listed()) == 3
    assert _cli(capsys, "prune", "--older-than", "1d", "--db", db)[0] == 0
    assert len(listed()) == 3  # none is a day old
    code, out, err = _cli(capsys, "prune", "--older-than", "0s", "--db", db)
    assert code == 0 and "forgot 3 finished run(s)" in err
    assert listed() == []


def test_run_ids_are_time_ordered_random_and_fit_the_store() -> None:
    ids = [new_run_id("chargeback", now=1_700_000_000 + i) for i in range(2000)]
    assert ids == sorted(ids)
    same_moment = {new_run_id("chargeback", now=1_700_000_000) for _ in range(20_000)}
    assert len(same_moment) == 20_000
    tail = ids[0].removeprefix("chargeback-")
    assert len(tail) == 26 and set(tail) <= set(ALPHABET)
    long_name = new_run_id("x" * 63)
    assert len(long_name) <= MAX_LENGTH and long_name.startswith("x" * 53 + "-")
    assert abs(int(time.time()) - _seconds(new_run_id("w"))) <= 5


def _seconds(run_id: str) -> int:
    tail = run_id.rsplit("-", 1)[1][:10]
    millis = 0
    for char in tail:
        millis = millis * 32 + ALPHABET.index(char)
    return millis // 1000


def test_a_short_prefix_still_finds_a_run(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{work}/s.db"
    assert _cli(capsys, "run", str(HELLO), "--db", db, "--format", "json")[0] == 0
    run_id = json.loads(_cli(capsys, "runs", "--db", db, "--format", "json")[1])[0]["run_id"]
    prefix = run_id[: len(run_id) - 20]
    code, out, _ = _cli(capsys, "show", prefix, "--db", db, "--format", "json")
    assert code == 0 and json.loads(out)["run_id"] == run_id
