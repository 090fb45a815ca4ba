"""Property tests: ``run``, ``plan`` and ``compile`` answer every mutated spec and every odd
param with a result or a clear message, never a traceback or an internal error, in bounded
time (issue 10: the validator's fuzzing extended to the commands that act on a spec).

The documents are those of ``test_fuzz`` (the shipped specs and the good corpus, as they are
and randomly edited), with random ``-p`` params. For ``run`` a step's work is made instant and harmless first, since a run executes it:
shell steps become ``noop`` and retries are dropped, so a mutation cannot make the test sleep
through backoffs; everything else (conditions, dependencies, params, env, outputs, fan-out)
runs as edited, against a real SQLite store. Each call is bounded: a minute of time and
256 MiB of Python allocations at its peak (tracemalloc).
"""

from __future__ import annotations

import signal
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import TEXTS, _strict_and_importable, mutated_documents  # noqa: F401 - a fixture

from engine.cli.main import main

COMMANDS = settings(max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
#: far above what any of these calls takes; only a hang or a runaway loop reaches them
SECONDS_PER_CALL = 60
BYTES_PER_CALL = 256 * 1024 * 1024

#: Half the shipped specs as they are, so most runs get past validation to the params and the
#: executor; half edited, mostly invalid, for the paths that report a spec's problems.
DOCUMENTS = st.one_of(st.sampled_from(TEXTS), mutated_documents())
PARAM_VALUES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["__flowspec_null__", "\udcff\udcfe.edi", "1", "-1", "true", "[1, 2]",
                     '["a"]', "{}", "1e400", "nan", "9" * 30, "", "=", "a=b"]),
)


class _Hang(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _Hang


def _call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_CALL)
    tracemalloc.start()
    try:
        code = main(argv)
    except _Hang:
        pytest.fail(f"flowspec {' '.join(argv)} took over {SECONDS_PER_CALL} s")
    except SystemExit as exc:  # argparse refusing the arguments
        code = int(exc.code or 0)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < BYTES_PER_CALL, f"flowspec {' '.join(argv)} allocated {peak} bytes at its peak"
    out, err = capsys.readouterr()
    text = out + err
    assert "internal error" not in text and "Traceback" not in text, text
    assert code in (0, 1, 2), (code, text)
    return code, text


def _params(spec_text: str, data: st.DataObject) -> list[str]:
    try:
        params = yaml.safe_load(spec_text).get("params")
    except (yaml.YAMLError, AttributeError):
        params = None
    declared = [str(name) for name in params] if isinstance(params, dict) else []
    names = st.sampled_from([*declared, "document", "nope"]) if declared else st.just("nope")
    pairs = data.draw(st.lists(st.tuples(names, PARAM_VALUES), max_size=3))
    return [arg for name, value in pairs for arg in ("-p", f"{name}={value}")]


def _harmless(text: str) -> str:
    """The document with shell steps as noop and no retries (see the module docstring)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if not isinstance(data, dict):
        return text
    for key in ("steps", "finally"):
        steps = data.get(key)
        for step in steps if isinstance(steps, list) else ():
            if not isinstance(step, dict):
                continue
            step.pop("retry", None)
            if step.get("processor") == "shell" or str(step.get("processor", "")).startswith(
                    "chargeback."):
                step["processor"] = "noop"
                step.pop("config", None)
    if isinstance(data.get("defaults"), dict):
        data["defaults"].pop("retry", None)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.fixture
def spec_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A spec path in a folder that is also the working directory (a run's files go there)."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path / "spec.yaml"


@pytest.mark.parametrize("command", ["plan", "compile"])
@COMMANDS
@given(DOCUMENTS, st.data())
def test_plan_and_compile_answer_every_spec(spec_file: Path, capsys: pytest.CaptureFixture[str],
                                            command: str, text: str, data: st.DataObject,
                                            ) -> None:
    spec_file.write_text(text, encoding="utf-8")
    _call([command, str(spec_file), *_params(text, data)], capsys)


@COMMANDS
@given(DOCUMENTS, st.data())
def test_run_answers_every_spec(spec_file: Path, capsys: pytest.CaptureFixture[str],
                                text: str, data: st.DataObject) -> None:
    text = _harmless(text)
    spec_file.write_text(text, encoding="utf-8")
    store = spec_file.with_name("runs.db")
    _call(["run", str(spec_file), "--db", f"sqlite:///{store}", "--format", "json",
           *_params(text, data)], capsys)
