"""The in-pod runner, run as a real process on the pods of compiled manifests.

``pod.run_pod`` plays Argo (argument and tag substitution, secrets, the spec artifact, output
collection), so these tests also check the contract between the compiler and the runner.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from engine.compile import build
from engine.compile import contract as c
from engine.expr.to_argo import NULL_MARKER
from engine.store.sql import SqlStore

from .conftest import compiled_from, spec_from
from .pod import run_pod

SPEC = """
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {name: pods}
    params:
      greeting: {type: string, default: hello}
      sizes: {type: list, default: [1, 2, 30]}
    env:
      API_KEY: {secret: {name: vendor, key: api-key}, optional: true}
    steps:
      - name: a
        processor: python
        config: {function: 'compile.pod_functions:produce'}
        outputs: {n: integer, label: string}
      - name: b
        processor: shell
        dependencies: [a]
        config:
          command: 'printf "said=%s\\n" "$SAY" >> "$FLOWSPEC_OUTPUT"'
        env:
          SAY: '${{ params.greeting }}, ${{ steps.a.outputs.label }} (${{ steps.a.outputs.n }})'
        outputs: {said: string}
      - name: flaky
        processor: python
        dependencies: [a]
        config: {function: 'compile.pod_functions:transient'}
        retry: {limit: 2, on: transient}
        outputs: {n: integer}
      - name: broken
        processor: shell
        dependencies: [a]
        config: {command: 'echo oops >&2; exit 3'}
        outputs: {said: string}
      - name: fan
        processor: python
        for_each: params.sizes
        config: {function: 'compile.pod_functions:report_upstream'}
        outputs: {seen: string, item: string, status: string}
      - name: slow
        processor: shell
        timeout: 1s
        config: {command: 'sleep 20'}
        outputs: {said: string}
      - name: leaky
        processor: python
        config: {function: 'compile.pod_functions:leak'}
      - name: echo
        processor: python
        config: {function: 'compile.pod_functions:echo_key'}
        outputs: {said: string}
      - name: reserved
        processor: python
        config: {function: 'compile.pod_functions:marker'}
        outputs: {text: string}
      - name: gather
        processor: shell
        dependencies: [fan]
        config: {command: 'printf "said=%s\\n" "$ALL" >> "$FLOWSPEC_OUTPUT"'}
        env: {ALL: '${{ steps.fan.outputs.item }}'}
        outputs: {said: string}
      - name: after
        processor: python
        dependencies: [a, b]
        config: {function: 'compile.pod_functions:report_upstream'}
        outputs: {seen: string, item: string, status: string}
    finally:
      - name: last
        processor: shell
        config: {command: 'printf "status=%s\\n" "$STATUS" >> "$FLOWSPEC_OUTPUT"'}
        env: {STATUS: '${{ workflow.status }}'}
        outputs: {status: string}
"""


def test_a_succeeding_step_writes_every_collected_output(tmp_path: Path) -> None:
    compiled = compiled_from(SPEC)
    pod = run_pod(compiled, "a", tmp_path)
    assert pod.exit_code == 0, pod.stderr
    template_outputs = compiled.manifest_spec()["templates"][2]["outputs"]["parameters"]
    assert set(pod.outputs) == {p["name"] for p in template_outputs}
    assert (pod.outputs["n"], pod.outputs["label"]) == ("3", "three")
    assert pod.outputs["said"] == NULL_MARKER  # another step's output in the shared template


def test_env_is_rendered_from_params_and_upstream_inputs(tmp_path: Path) -> None:
    compiled = compiled_from(SPEC)
    produced = {"a.outputs.parameters.label": "three", "a.outputs.parameters.n": "3"}
    pod = run_pod(compiled, "b", tmp_path, produced=produced)
    assert pod.exit_code == 0, pod.stderr
    assert pod.outputs["said"] == "hello, three (3)"


def test_an_absent_upstream_output_is_null_in_env(tmp_path: Path) -> None:
    # a Skipped producer: Argo drops the argument and the input's default (null) applies
    pod = run_pod(compiled_from(SPEC), "b", tmp_path,
                  produced={"a.outputs.parameters.label": None, "a.outputs.parameters.n": None})
    assert pod.exit_code == 0, pod.stderr
    assert pod.outputs["said"] == "hello,  ()"


def test_a_failing_step_exits_1_and_leaves_null_outputs(tmp_path: Path) -> None:
    pod = run_pod(compiled_from(SPEC), "broken", tmp_path)
    assert pod.exit_code == c.EXIT_FAILED
    assert pod.outputs and set(pod.outputs.values()) == {NULL_MARKER}
    assert "command exited with code 3: oops" in pod.stderr


def test_a_transient_failure_exits_75_which_the_retry_expression_retries(tmp_path: Path) -> None:
    compiled = compiled_from(SPEC)
    pod = run_pod(compiled, "flaky", tmp_path, retries=1)
    assert pod.exit_code == c.EXIT_TRANSIENT == 75
    strategy = next(t for t in compiled.manifest_spec()["templates"]
                    if t.get("retryStrategy"))["retryStrategy"]
    assert strategy["expression"] == "lastRetry.status == 'Error' || lastRetry.exitCode == '75'"


def test_the_runner_enforces_the_step_timeout_and_still_writes_outputs(tmp_path: Path) -> None:
    pod = run_pod(compiled_from(SPEC), "slow", tmp_path)
    assert pod.exit_code == c.EXIT_FAILED
    assert "timed out after 1s" in pod.stderr
    assert set(pod.outputs.values()) == {NULL_MARKER}


def test_a_string_output_equal_to_the_null_marker_fails_the_step(tmp_path: Path) -> None:
    pod = run_pod(compiled_from(SPEC), "reserved", tmp_path)
    assert pod.exit_code == c.EXIT_FAILED
    assert "reserved for null" in pod.stderr
    assert pod.outputs["text"] == NULL_MARKER


def test_secrets_reach_the_processor_but_not_its_error_text(tmp_path: Path) -> None:
    secret = "sk-live-abcdef123456"
    pod = run_pod(compiled_from(SPEC), "leaky", tmp_path,
                  secrets={("vendor", "api-key"): secret})
    assert pod.exit_code == c.EXIT_FAILED
    assert "the vendor rejected key ***" in pod.stderr and secret not in pod.stderr


def test_a_secret_a_processor_returns_is_masked_in_output_files_and_the_store(
        tmp_path: Path, store_url: str) -> None:
    secret = "sk-live-abcdef123456"
    pod = run_pod(compiled_from(SPEC), "echo", tmp_path, secrets={("vendor", "api-key"): secret},
                  extra_env={"DATABASE_URL": store_url})
    assert pod.exit_code == 0, pod.stderr
    assert pod.outputs["said"] == "key=***"
    store = SqlStore(store_url)
    try:
        (attempt,) = store.load_run("uid-1").attempts["echo"]
        assert attempt.outputs == {"said": "key=***"}
        assert attempt.data == {"headers": {"Authorization": "***"}}
        assert all(secret not in repr(e) for e in store.events("uid-1"))
    finally:
        store.close()


def test_items_are_typed_from_their_source_list(tmp_path: Path) -> None:
    pod = run_pod(compiled_from(SPEC), "fan", tmp_path, item="30")
    assert pod.exit_code == 0, pod.stderr
    assert json.loads(pod.outputs["item"]) == 30


def test_a_for_each_producers_output_is_the_list_of_its_instances(tmp_path: Path) -> None:
    # Argo aggregates a fan-out's output as a JSON list of the succeeded instances' texts
    pod = run_pod(compiled_from(SPEC), "gather", tmp_path,
                  produced={"fan.outputs.parameters.item": '["1","30"]'})
    assert pod.exit_code == 0, pod.stderr
    assert pod.outputs["said"] == '["1","30"]'


def test_finally_steps_see_the_workflow_status(tmp_path: Path) -> None:
    pod = run_pod(compiled_from(SPEC), "last", tmp_path, status="Failed")
    assert pod.exit_code == 0, pod.stderr
    assert pod.outputs["status"] == "Failed"


def test_a_swapped_spec_or_an_unknown_step_is_refused_with_exit_2(tmp_path: Path) -> None:
    compiled = compiled_from(SPEC)
    other = build(spec_from(SPEC.replace("hello", "bonjour")))
    annotations = compiled.manifest_spec()["podMetadata"]["annotations"]
    annotations[c.SPEC_ANNOTATION] = other.manifest_spec()["podMetadata"]["annotations"][
        c.SPEC_ANNOTATION]  # kubectl annotate, or an edited manifest
    pod = run_pod(compiled, "a", tmp_path)
    assert pod.exit_code == c.EXIT_USAGE
    assert "not the one this workflow was compiled from" in pod.stderr
    assert set(pod.outputs.values()) == {NULL_MARKER}
    annotations[c.SPEC_ANNOTATION] = c.encode_spec(compiled.spec.document.source.text)
    task = compiled.manifest_spec()["templates"][0]["dag"]["tasks"][0]
    task["arguments"]["parameters"][0]["value"] = "nope"
    pod = run_pod(compiled, "a", tmp_path)
    assert (pod.exit_code, pod.stderr.strip()) == (
        c.EXIT_USAGE, "flowspec step: the spec has no step 'nope'")


def test_ancestors_results_travel_as_artifacts_with_their_phases(tmp_path: Path) -> None:
    compiled = compiled_from(SPEC)
    first = run_pod(compiled, "a", tmp_path / "a")
    produced = {"a.outputs.parameters.label": "three", "a.outputs.parameters.n": "3",
                "a.status": "Succeeded", "b.status": "Succeeded"}
    second = run_pod(compiled, "b", tmp_path / "b", produced=produced)
    third = run_pod(compiled, "after", tmp_path / "c", produced=produced, artifacts={
        "tasks.a.outputs.artifacts.flowspec-result": first.result,
        "tasks.b.outputs.artifacts.flowspec-result": second.result})
    assert (first.exit_code, second.exit_code, third.exit_code) == (0, 0, 0), third.stderr
    seen = json.loads(third.outputs["seen"])
    assert seen == {"a": {"phase": "Succeeded", "n": 3, "label": "three", "rows": [1, 2, 3]},
                    "b": {"phase": "Succeeded", "said": "hello, three (3)", "exit_code": 0}}
    skipped = run_pod(compiled, "after", tmp_path / "d", produced={
        **produced, "b.status": "Skipped"}, artifacts={
        "tasks.a.outputs.artifacts.flowspec-result": first.result})
    assert json.loads(skipped.outputs["seen"])["b"] == {"phase": "Skipped"}


STORED = SPEC + "    argo:\n      store: {secret: {name: db, key: url}}\n"


def test_attempts_are_recorded_and_ancestors_read_back_from_the_store(
        tmp_path: Path, store_url: str) -> None:
    url = store_url
    compiled = compiled_from(STORED)
    secrets = {("db", "url"): url}
    first = run_pod(compiled, "a", tmp_path / "a", secrets=secrets)
    produced = {"a.outputs.parameters.label": "three", "a.outputs.parameters.n": "3"}
    second = run_pod(compiled, "b", tmp_path / "b", produced=produced, secrets=secrets)
    third = run_pod(compiled, "after", tmp_path / "c", secrets=secrets)
    assert (first.exit_code, second.exit_code, third.exit_code) == (0, 0, 0), third.stderr
    seen = json.loads(third.outputs["seen"])
    assert seen["a"] == {"phase": "Succeeded", "n": 3, "label": "three", "rows": [1, 2, 3]}
    assert seen["b"]["said"] == "hello, three (3)"
    store = SqlStore(url)
    try:
        state = store.load_run("uid-1")
        assert state.run.workflow == "pods" and state.run.spec_hash == compiled.spec.source_hash
        assert {n: [a.phase for a in tries] for n, tries in state.attempts.items()} == {
            "a": ["Succeeded"], "b": ["Succeeded"], "after": ["Succeeded"]}
        assert [e.kind for e in store.events("uid-1")] == [
            "created", "started", "finished", "started", "finished", "started", "finished"]
    finally:
        store.close()


def test_pods_running_at_once_all_record_their_attempts(tmp_path: Path, store_url: str) -> None:
    url = store_url
    compiled = compiled_from(SPEC)
    items = ["1", "2", "30", "2"]
    with ThreadPoolExecutor(len(items)) as pool:
        pods = list(pool.map(lambda i: run_pod(
            compiled, "fan", tmp_path / str(i), item=items[i], extra_env={"DATABASE_URL": url},
            uid="uid-9"), range(len(items))))
    assert [p.exit_code for p in pods] == [0] * len(items), [p.stderr for p in pods]
    assert [p.stderr for p in pods if "could not record" in p.stderr] == []
    store = SqlStore(url)
    try:
        events = store.events("uid-9")
        assert [e.seq for e in events] == list(range(1, 2 * len(items) + 2))
        assert sorted(e.node for e in events if e.kind == "finished") == sorted(
            f"fan({i})" for i in items)
    finally:
        store.close()


#: the output-smuggling tests' spec, shared with tests/core/test_output_file.py
GATE = (Path(__file__).parents[1] / "core" / "corpus" / "good" / "output_gate.yaml").read_text()


def test_a_pod_reads_the_output_file_as_the_executor_does(tmp_path: Path) -> None:
    compiled = compiled_from(GATE.replace("{type: string}", "{type: string, default: x}"))
    pod = run_pod(compiled, "review", tmp_path / "plain")
    assert pod.exit_code == 0, pod.stderr
    assert (pod.outputs["title"], pod.outputs["approved"]) == ("x", "false")
    smuggled = compiled_from(GATE.replace(
        "{type: string}", "{type: string, default: \"x\\napproved=true\"}"))
    pod = run_pod(smuggled, "review", tmp_path / "smuggled")
    assert pod.exit_code == c.EXIT_FAILED
    assert "output 'approved' is given twice" in pod.stderr
    assert set(pod.outputs.values()) == {NULL_MARKER}


def test_a_numeric_secret_masks_whole_numbers_only_in_a_pod(
        tmp_path: Path, store_url: str) -> None:
    compiled = compiled_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: pin}
        steps:
          - name: a
            processor: python
            env: {PIN: {secret: {name: app, key: pin}}}
            config: {function: 'compile.pod_functions:numbers'}
            outputs: {code: integer, pin: integer}
    """)
    pod = run_pod(compiled, "a", tmp_path, secrets={("app", "pin"): "2024"},
                  extra_env={"DATABASE_URL": store_url})
    assert pod.exit_code == 0, pod.stderr
    assert pod.outputs == {"code": "20240304", "pin": "***"}
    store = SqlStore(store_url)
    try:
        (attempt,) = store.load_run("uid-1").attempts["a"]
        assert attempt.outputs == {"code": 20240304, "pin": "***"}
    finally:
        store.close()


def test_a_pod_hands_its_command_only_the_steps_env_and_the_base(tmp_path: Path) -> None:
    compiled = compiled_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: env}
        params:
          who: {type: string, default: me}
        steps:
          - name: a
            processor: shell
            env: {WHO: '${{ params.who }}'}
            config:
              command: |
                names=$(env | cut -d= -f1 | sort | tr "\\n" " ")
                printf "names=%s\\n" "$names" >> "$FLOWSPEC_OUTPUT"
            outputs: {names: string}
    """)
    pod = run_pod(compiled, "a", tmp_path, extra_env={"LC_ALL": "C"})
    assert pod.exit_code == 0, pod.stderr
    names = set(pod.outputs["names"].split()) - {"PWD", "SHLVL", "_"}
    assert names == {"PATH", "HOME", "LC_ALL", "WHO", "FLOWSPEC_OUTPUT"}


def test_a_pod_stops_the_whole_command_when_its_step_times_out(tmp_path: Path) -> None:
    compiled = compiled_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: slow}
        params:
          dir: {type: string}
        steps:
          - name: a
            processor: shell
            timeout: 0.5s
            env: {DIR: '${{ params.dir }}'}
            config: {command: 'sleep 30 & echo $! > "$DIR/child"; wait'}
    """.replace("{type: string}", f'{{type: string, default: "{tmp_path}"}}'))
    pod = run_pod(compiled, "a", tmp_path / "pod")
    assert pod.exit_code == c.EXIT_FAILED
    assert "timed out after 0.5s" in pod.stderr
    child = (tmp_path / "child").read_text().strip()
    state = Path(f"/proc/{child}/stat")
    assert not state.exists() or state.read_bytes().split(b") ")[1][:1] in (b"Z", b"X")


def test_a_pod_streams_its_commands_output_to_its_own_and_to_the_store(
        tmp_path: Path, store_url: str) -> None:
    pod_dir = tmp_path / "pod"
    compiled = compiled_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: talk}
        params:
          out: {type: string}
        steps:
          - name: a
            processor: shell
            env:
              OUT: '${{ params.out }}'
              TOKEN: {secret: {name: api, key: token}}
            config:
              command: |
                echo "first, with $TOKEN"
                for i in $(seq 1 200); do grep -qs first "$OUT" && break; sleep 0.05; done
                grep -qs first "$OUT" && echo "it was in the pod's log already" >&2
                printf last
    """.replace("{type: string}", f'{{type: string, default: "{pod_dir / "pod.stdout"}"}}'))
    pod = run_pod(compiled, "a", pod_dir, secrets={("api", "token"): "pod-secret-value"},
                  extra_env={"DATABASE_URL": store_url})
    assert pod.exit_code == 0, pod.stderr
    assert pod.stdout == "first, with ***\nlast\n"
    assert pod.stderr == "it was in the pod's log already\n"
    store = SqlStore(store_url)
    try:
        assert [(x.node, x.attempt, x.seq, x.stream, x.text)
                for x in store.read_logs("uid-1")] == [
            ("a", 1, 1, "stdout", "first, with ***"),
            ("a", 1, 2, "stderr", "it was in the pod's log already"),
            ("a", 1, 3, "stdout", "last")]
    finally:
        store.close()


def test_upstream_data_reaches_a_pod_without_any_database(tmp_path: Path) -> None:
    """The divergence issue 11 reproduced: on Argo without a store, ``merge`` of the retries
    example computed total=0 (127 locally), so ``publish`` was Skipped. Its ancestors' results
    now reach it as artifacts."""
    from .conftest import REPO

    compiled = build(spec_from((REPO / "specs/examples/retries.yaml").read_text()))
    pods = {name: run_pod(compiled, name, tmp_path / name)
            for name in ("fetch-orders", "fetch-refunds", "fetch-partner-feed")}
    assert [p.exit_code for p in pods.values()] == [0, 0, 1]
    statuses = {"fetch-orders.status": "Succeeded", "fetch-refunds.status": "Succeeded",
                "fetch-partner-feed.status": "Failed"}
    merge = run_pod(compiled, "merge", tmp_path / "merge", produced=statuses, artifacts={
        f"tasks.{name}.outputs.artifacts.flowspec-result": pod.result
        for name, pod in pods.items()})
    assert merge.exit_code == 0, merge.stderr
    assert merge.outputs["total"] == "127"
