"""Whole runs through engine.run: real processors, real SQLite files."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import executor_procs
import pytest
from executor_helpers import spec_from

from engine.loader import load_text
from engine.local import run
from engine.model import build_spec
from engine.runner import PodStore
from engine.store import open_store

HEAD = """
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: t}
"""


def run_text(body: str, **kw: object):  # type: ignore[no-untyped-def]
    return run(spec_from(HEAD + body), **kw)  # type: ignore[arg-type]


def test_example_spec_outputs_flow_through_env(db_url: str) -> None:
    result = run("specs/examples/hello.yaml", {"who": "flowspec"}, store=db_url)
    assert result.phase == "Succeeded"
    assert result.steps["greet"].outputs["greeting"] == "hello, flowspec"
    assert result.steps["count"].outputs["letters"] == len("hello, flowspec")


def test_a_step_starts_as_soon_as_its_own_parents_finish(db_url: str) -> None:
    result = run_text("""
steps:
  - {name: quick, processor: noop}
  - {name: slow, processor: "executor_procs:Sleep", config: {seconds: 0.4}}
  - {name: after-quick, processor: noop, dependencies: [quick]}
  - {name: after-slow, processor: noop, dependencies: [slow]}
""", store=db_url, max_parallel=4)
    assert result.phase == "Succeeded"
    store = open_store(db_url)
    events = [(e.kind, e.node) for e in store.events(result.run_id)]
    store.close()
    # Not generation by generation: after-quick starts while slow (same generation) runs.
    assert events.index(("started", "after-quick")) < events.index(("finished", "slow"))


@pytest.mark.parametrize(("limit", "spec_parallelism", "bound"), [(2, None, 2), (6, 3, 3)])
def test_parallel_steps_are_bounded(limit: int, spec_parallelism: int | None,
                                    bound: int) -> None:
    executor_procs.peak = 0
    steps = "\n".join(f'  - {{name: s{i}, processor: "executor_procs:Sleep", '
                      f'config: {{seconds: 0.15}}}}' for i in range(6))
    extra = f"parallelism: {spec_parallelism}\n" if spec_parallelism else ""
    result = run_text(f"{extra}steps:\n{steps}\n", max_parallel=limit)
    assert result.phase == "Succeeded"
    assert 1 < executor_procs.peak <= bound


def test_async_processors_run_concurrently_on_the_loop() -> None:
    result = run_text("""
steps:
  - {name: a, processor: "executor_procs:AsyncSleep", config: {seconds: 0.05, outputs: {x: 1}}}
  - {name: b, processor: "executor_procs:AsyncSleep", config: {seconds: 0.05}}
""")
    assert result.phase == "Succeeded"
    assert result.steps["a"].outputs == {}  # x is not declared: it is kept as data
    assert result.steps["a"].data == {"x": 1}


@pytest.mark.parametrize(("value", "type_name", "phase", "expected"), [
    ("42", "integer", "Succeeded", 42),
    ("true", "boolean", "Succeeded", True),
    (3, "number", "Succeeded", 3),
    ([1, 2], "list", "Succeeded", [1, 2]),
    ("abc", "integer", "Failed", "output 'v' is declared integer: expected a whole number"),
    (5, "string", "Failed", "output 'v' must be a string, got the integer 5"),
    ({"a": 1}, "list", "Failed", "output 'v' must be a list, got a mapping"),
])
def test_outputs_are_checked_against_their_declared_types(
        value: object, type_name: str, phase: str, expected: object) -> None:
    result = run_text(f"""
steps:
  - name: p
    processor: "executor_procs:Returns"
    config: {{result: {{v: {json.dumps(value)}}}}}
    outputs: {{v: {type_name}}}
""")
    step = result.steps["p"]
    assert (result.phase, step.phase) == (phase, phase)
    if phase == "Succeeded":
        assert step.outputs["v"] == expected
    else:
        assert str(expected) in (step.error or "")


def test_a_declared_output_not_returned_is_null() -> None:
    result = run_text("""
steps:
  - {name: p, processor: "executor_procs:Returns", config: {result: {}}, outputs: {v: string}}
  - name: q
    processor: noop
    dependencies: [p]
    when: steps.p.outputs.v == null
""")
    assert result.steps["p"].outputs == {"v": None}
    assert result.steps["q"].phase == "Succeeded"


@pytest.mark.parametrize(("config", "message"), [
    ({"huge": 65 * 1024 * 1024}, "the limit is 64 MB"),
    ({"result": [1, 2]}, "it must return a StepResult or a dict"),
])
def test_unusable_return_values_fail_the_step(config: dict[str, object], message: str,
                                              db_url: str) -> None:
    result = run_text(f"""
steps:
  - {{name: p, processor: "executor_procs:Returns", config: {json.dumps(config)}}}
""", store=db_url)
    assert result.steps["p"].phase == "Failed"
    assert message in (result.steps["p"].error or "")
    assert open_store(db_url).load_run(result.run_id).run.phase == "Failed"


@pytest.mark.parametrize(("kind", "error"), [
    ("failed", "it broke"),
    ("bug", "KeyError: 'it broke'"),
])
def test_a_raising_processor_fails_its_step_with_one_line(kind: str, error: str) -> None:
    result = run_text(f"""
steps:
  - {{name: p, processor: "executor_procs:Raise", config: {{kind: {kind}}}}}
  - {{name: q, processor: noop, dependencies: [p]}}
""")
    assert result.phase == "Failed"
    assert result.steps["p"].error == error
    assert result.steps["q"].phase == "Omitted"
    assert result.message == f"p: {error}"


@pytest.mark.parametrize("processor", ["executor_procs:Hang", "executor_procs:AsyncHang"])
def test_a_hanging_step_times_out_as_failed_and_is_retried(processor: str) -> None:
    result = run_text(f"""
steps:
  - name: p
    processor: "{processor}"
    timeout: 0.2s
    retry: {{limit: 1, on: failure}}
""")
    step = result.steps["p"]
    assert (step.phase, step.attempts) == ("Failed", 2)
    assert "timed out after 0.2s" in (step.error or "")


def test_transient_errors_retry_until_success() -> None:
    result = run_text("""
steps:
  - name: p
    processor: "executor_procs:Raise"
    config: {kind: transient, until: 3}
    retry: {limit: 5, on: transient, backoff: {delay: 10ms, factor: 2}}
""")
    assert (result.steps["p"].phase, result.steps["p"].attempts) == ("Succeeded", 3)


@pytest.mark.parametrize(("on", "attempts"), [("error", 1), ("transient", 1), ("failure", 3)])
def test_retry_policy_decides_which_failures_retry(on: str, attempts: int) -> None:
    result = run_text(f"""
steps:
  - name: p
    processor: "executor_procs:Raise"
    retry: {{limit: 2, on: {on}}}
""")
    assert (result.steps["p"].phase, result.steps["p"].attempts) == ("Failed", attempts)


def test_continued_failure_above_a_skipped_leaf_fails_the_workflow() -> None:
    body = """
steps:
  - name: a
    processor: "executor_procs:Raise"
    continue_on: {failed: true}
  - name: b
    processor: noop
    dependencies: [a]
    when: params.go == true%s
params:
  go: {type: boolean, default: false}
"""
    result = run_text(body % "")
    assert (result.steps["b"].phase, result.phase) == ("Skipped", "Failed")
    covered = run_text(body % "\n    continue_on: {failed: true}")
    assert (covered.steps["b"].phase, covered.phase) == ("Skipped", "Succeeded")


def test_finally_sees_the_status_and_a_failing_finally_fails_the_run() -> None:
    result = run_text("""
steps:
  - {name: a, processor: "executor_procs:Raise"}
finally:
  - {name: report, processor: "executor_procs:Reveal"}
  - name: only-on-success
    processor: noop
    when: workflow.status == 'Succeeded'
""")
    assert result.phase == "Failed"
    assert result.steps["report"].outputs["status"] == "Failed"
    assert json.loads(result.steps["report"].outputs["upstream"])["a"]["phase"] == "Failed"
    assert result.steps["only-on-success"].phase == "Skipped"
    failing_finally = run_text("""
steps:
  - {name: a, processor: noop}
finally:
  - {name: cleanup, processor: "executor_procs:Raise", config: {kind: bug}}
""")
    assert failing_finally.steps["a"].phase == "Succeeded"
    assert failing_finally.phase == "Failed"


def test_when_that_cannot_be_evaluated_is_an_error_node() -> None:
    # Validation rejects this spec; the executor must still end such a step in Error, as Argo
    # does, rather than crash: build the spec without validating it.
    doc, _ = load_text(HEAD + """
steps:
  - {name: a, processor: noop}
  - name: b
    processor: noop
    dependencies: [a]
    when: workflow.status == 'Succeeded'
""")
    assert doc is not None
    result = run(build_spec(doc))
    assert result.steps["b"].phase == "Error"
    assert "workflow.status" in (result.steps["b"].error or "")
    assert result.phase == "Error"


def test_for_each_instances_each_decide_their_own_when() -> None:
    result = run_text("""
params:
  regions: {type: list, default: [eu, us, ap]}
steps:
  - name: report
    processor: "executor_procs:Reveal"
    for_each: params.regions
    when: item != 'us'
    env: {REGION: "${{ item }}"}
  - {name: any-ok, processor: noop, depends: report.AnySucceeded}
  - {name: all-failed, processor: noop, depends: report.AllFailed}
""")
    phases = {n: s.phase for n, s in result.steps.items()}
    assert phases == {"report": "Succeeded", "report(0:eu)": "Succeeded",
                      "report(1:us)": "Skipped", "report(2:ap)": "Succeeded",
                      "any-ok": "Succeeded", "all-failed": "Omitted"}
    envs = [json.loads(e)["REGION"] for e in result.steps["report"].outputs["env"]]
    assert envs == ["eu", "ap"]


def test_for_each_over_an_empty_list_is_skipped() -> None:
    result = run_text("""
params:
  regions: {type: list, default: []}
steps:
  - {name: report, processor: noop, for_each: params.regions}
  - {name: after, processor: noop, dependencies: [report]}
""")
    assert (result.steps["report"].phase, result.steps["after"].phase) == ("Skipped",
                                                                           "Succeeded")


def test_upstream_is_every_ancestor_and_nothing_else() -> None:
    result = run_text("""
steps:
  - {name: a, processor: noop, config: {outputs: {n: 1}}, outputs: {n: integer}}
  - {name: b, processor: noop, dependencies: [a], config: {outputs: {extra: x}}}
  - {name: lone, processor: noop}
  - {name: c, processor: "executor_procs:Reveal", dependencies: [b]}
""")
    seen = json.loads(result.steps["c"].outputs["upstream"])
    assert sorted(seen) == ["a", "b"]
    assert seen["a"]["outputs"] == {"n": 1}
    assert seen["b"]["data"] == {"extra": "x"}


def test_upstream_digest_is_the_stored_texts_and_survives_the_store(db_url: str) -> None:
    """The digest a step is handed is sha256 of its ancestor's result as stored (canonical
    text, keys sorted), and a result read back from the store (a resumed run, a pod) digests
    the same."""
    result = run_text("""
steps:
  - {name: a, processor: noop, config: {outputs: {n: 1, z: [1, "é"], b: {y: 2, x: null}}},
     outputs: {n: integer}}
  - {name: ints, processor: "executor_procs:IntKeys"}
  - {name: b, processor: noop, dependencies: [a]}
  - {name: c, processor: "executor_procs:Digests", dependencies: [b, ints]}
""", store=db_url)
    handed = result.steps["c"].data
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        stored = {node: (data, out) for node, data, out in conn.execute(
            "SELECT node, data, outputs FROM flowspec_events "
            "WHERE run_id = ? AND kind = 'finished' AND node IN ('a', 'b')", (result.run_id,))}
    assert stored["a"][0] == '{"b":{"x":null,"y":2},"z":[1,"é"]}'
    for name in ("a", "b"):
        data, out = stored[name]
        text = f'{{"data":{data or "{}"},"outputs":{out}}}'
        assert handed[name] == hashlib.sha256(text.encode()).hexdigest()
    # integer keys are sorted as numbers before they become text: only the text says how
    reread = PodStore(db_url).upstream(result.run_id, ["a", "b", "ints"])
    assert {n: up.digest for n, up in reread.items()} == handed
    assert handed["a"] != handed["b"]


def test_data_is_stored_as_json_holds_it_or_the_step_fails(db_url: str) -> None:
    """YAML's .nan reaches a step's data; JSON cannot write it, so it is stored as null. A
    value JSON cannot hold at all (here an integer beyond 64 bits) fails the step, named."""
    result = run_text("""
steps:
  - {name: nan, processor: "executor_procs:Returns", config: {result: {x: .nan, y: [1]}}}
  - {name: big, processor: "executor_procs:Returns", config: {result: {x: 100000000000000000000}}}
""", store=db_url)
    assert result.steps["nan"].phase == "Succeeded"
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        (stored,) = conn.execute(
            "SELECT data FROM flowspec_events WHERE run_id = ? AND kind = 'finished' "
            "AND node = 'nan'", (result.run_id,)).fetchone()
    assert stored == '{"x":null,"y":[1]}'
    assert result.steps["big"].phase == "Failed"
    assert result.steps["big"].error == (
        "the data cannot be stored as JSON: Integer exceeds 64-bit range")


SECRET = "s3cr3t-Value-42"


def test_secrets_reach_the_processor_but_never_the_store(db_url: str, tmp_path: Path) -> None:
    result = run_text("""
env:
  TOKEN: {secret: {name: deploy, key: token}}
  OPTIONAL: {secret: {name: maybe, key: x}, optional: true}
steps:
  - {name: reveal, processor: "executor_procs:Reveal"}
  - name: leak
    processor: shell
    config: {command: 'echo "token is $TOKEN" >&2; echo "out=$TOKEN" >> "$FLOWSPEC_OUTPUT"; exit 3'}
""", store=db_url, secrets={"DEPLOY_TOKEN": SECRET})
    env = json.loads(result.steps["reveal"].outputs["env"])
    assert env == {"TOKEN": "***"}  # the processor saw it; the kept outputs are masked
    assert result.steps["leak"].error == "command exited with code 3: token is ***"
    db = Path(db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in db.parent.iterdir():
        assert SECRET.encode() not in path.read_bytes(), path


def test_a_missing_secret_is_an_error_naming_the_variable() -> None:
    result = run_text("""
steps:
  - name: a
    processor: noop
    env: {TOKEN: {secret: {name: deploy, key: token}}}
""", secrets={})
    assert result.steps["a"].phase == "Error"
    assert "DEPLOY_TOKEN" in (result.steps["a"].error or "")


def test_interpolated_env_is_data_not_code() -> None:
    result = run_text("""
params:
  who: {type: string}
steps:
  - name: a
    processor: shell
    config: {command: 'printf "said=%s\\n" "$WHO" >> "$FLOWSPEC_OUTPUT"'}
    env: {WHO: "<${{ params.who }}>"}
    outputs: {said: string}
""", params={"who": "$(touch pwned); `id`"})
    assert result.steps["a"].outputs["said"] == "<$(touch pwned); `id`>"
    assert not Path("pwned").exists()


def test_workflow_timeout_fails_running_steps_and_still_runs_finally() -> None:
    result = run_text("""
timeout: 0.3s
steps:
  - {name: a, processor: "executor_procs:Hang"}
  - {name: b, processor: noop, dependencies: [a]}
finally:
  - {name: report, processor: "executor_procs:Reveal"}
""")
    assert result.phase == "Failed"
    assert "timeout" in (result.message or "")
    assert result.steps["a"].phase == "Failed"
    assert result.steps["b"].phase == "Pending"  # never created, as on Argo
    assert result.steps["report"].outputs["status"] == "Failed"


def test_a_full_disk_stops_the_run_cleanly_and_resume_finishes_it(tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy import event

    from engine.local import resume
    from engine.store import StoreError
    from engine.store.sql import SqlStore

    url = f"sqlite:///{tmp_path}/state.db"
    steps = "\n".join(
        f'  - {{name: s{i}, processor: "executor_procs:Returns", config: {{huge: 150000}}'
        + (f", dependencies: [s{i - 1}]}}" if i else "}") for i in range(8))
    store = SqlStore(url)
    pages = sqlite3.connect(tmp_path / "state.db").execute("PRAGMA page_count").fetchone()[0]
    event.listen(store.engine, "connect",  # about two steps' outputs fit: the disk fills mid-run
                 lambda conn, _: conn.execute(f"PRAGMA max_page_count={pages + 90}"))
    store.engine.dispose()
    with pytest.raises(StoreError, match="disk holding the database is full"):
        run_text(f"defaults:\n  retry: {{limit: 1, on: error}}\nsteps:\n{steps}\n",
                 store=store)
    store.close()
    run_id = open_store(url).list_runs(1)[0][0].run_id
    result = resume(run_id, store=url)
    assert result.phase == "Succeeded"
    assert all(s.phase == "Succeeded" for s in result.steps.values())
    # The step whose end could not be recorded ran again: its first attempt was interrupted.
    assert sorted(s.attempts for s in result.steps.values()) == [1] * 7 + [2]
