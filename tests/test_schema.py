"""The schema pass: good specs pass; each bad one gets one exact, readable diagnostic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine.diagnostics import Diagnostic
from engine.loader import Document, load_text
from engine.schema import check_schema, fits_schema, load_schema, validate_at

REPO = Path(__file__).resolve().parent.parent

CONTRACT_EXAMPLE = """\
# yaml-language-server: $schema=../schemas/flowspec.schema.json
apiVersion: flowspec/v1
kind: Workflow
metadata:
  name: chargeback
  description: Resolve a wholesaler chargeback claim
  labels: {team: revenue}
params:
  document: {type: string, required: true, description: Path or id of the claim document}
  basket_id: {type: string, default: ""}
  max_lines: {type: integer, default: 500}
env:
  LOG_LEVEL: info
  DATABASE_URL: {secret: {name: chargeback-db, key: url}}
  OPENAI_API_KEY: {secret: {name: openai, key: api-key}, optional: true}
defaults:
  retry: {limit: 2, on: failure, backoff: {delay: 2s, factor: 2, cap: 1m}}
  timeout: 5m
steps:
  - name: extract-identifiers
    processor: chargeback.extract-identifiers
    config: {model: gpt-4o-mini}
    outputs:
      customer_count: integer
  - name: duplicate-check
    processor: chargeback.duplicate-check
    dependencies: [extract-identifiers]
    outputs: {is_duplicate: boolean}
  - name: contract-eligibility
    processor: chargeback.contract-eligibility
    dependencies: [duplicate-check]
    when: steps.duplicate-check.outputs.is_duplicate == false && params.max_lines > 0
  - name: manual-review
    processor: chargeback.route-to-review
    depends: contract-eligibility.Failed || contract-eligibility.Errored
finally:
  - name: compliance-trail
    processor: chargeback.compliance-trail
argo:
  image: ghcr.io/acme/chargeback-processors:1.4.0
  namespace: argo
  service_account: chargeback
  pod_gc: OnWorkflowSuccess
  ttl_after_finished: 7d
"""

EVERY_KEY = """\
apiVersion: flowspec/v1
kind: Workflow
metadata:
  name: nightly
  description: Every key the language has
  labels: {team: revenue, app.kubernetes.io/part-of: claims, empty: ""}
  annotations: {owner: "revenue@acme.example"}
params:
  regions: {type: list, default: [eu, us], description: Where to run}
  mode: {type: string, enum: [fast, full], default: fast}
  ratio: {type: number, default: 0.5}
  dry-run: {type: boolean, required: false}
env:
  LOG_LEVEL: info
  RETRIES: 3
  VERBOSE: false
  TOKEN: {secret: {name: api.credentials, key: token}, optional: true}
defaults:
  env: {TZ: UTC}
  retry: {limit: 3, on: transient, backoff: {delay: 500ms, factor: 3, cap: 2m}, max_duration: 1h}
  timeout: 10m
  resources: {cpu: 0.5, memory: 1Gi}
timeout: 2h30m
parallelism: 4
steps:
  - name: list-files
    processor: shell
    config: {command: [ls, -1]}
    outputs: {files: list, count: integer}
  - name: per-file
    processor: mypkg.steps:Enrich
    dependencies: [list-files]
    for_each: steps.list-files.outputs.files
    env: {FILE: "${{ item }}", REGION: "${{ params.regions }}"}
    retry: {limit: 0}
    timeout: 90s
    continue_on: {failed: true, error: false}
    resources: {cpu: 250m, memory: 256Mi}
    argo:
      image: ghcr.io/acme/enrich:2.0
      command: [flowspec, step]
      image_pull_policy: Always
      pod_spec_patch: '{"terminationGracePeriodSeconds": 60}'
      node_selector: {kubernetes.io/os: linux}
      tolerations: [{key: dedicated, operator: Equal, value: batch, effect: NoSchedule}]
      security_context: {runAsNonRoot: true}
  - name: report
    processor: noop
    depends: per-file.AnySucceeded || per-file.AllFailed
    when: params.mode == 'full'
finally:
  - name: notify
    processor: python
    config: {function: "mypkg.notify:send", args: {channel: ops}}
argo:
  image: ghcr.io/acme/flows:1.0
  image_pull_policy: IfNotPresent
  namespace: batch
  service_account: flows.runner
  pod_gc: OnPodSuccess
  ttl_after_finished: 1d
  schedules: ["0 2 * * *", "@hourly", "*/15 9-17 * * MON-FRI"]
  timezone: Europe/Berlin
  concurrency_policy: Forbid
  security_context: {runAsUser: 1000, fsGroup: 2000}
  labels: {tier: batch}
  annotations: {note: "any text: here"}
  node_selector: {pool: batch}
  tolerations: [{operator: Exists, tolerationSeconds: 30}]
"""

HEAD = "apiVersion: flowspec/v1\nkind: Workflow\nmetadata: {name: demo}\n"  # lines 1-3
STEP = "steps:\n  - name: a\n    processor: noop\n"  # lines 4-6


def load(text: str, path: str = "spec.yaml") -> Document:
    doc, problems = load_text(text, path)
    assert doc is not None and not problems, problems
    return doc


def spec_files() -> list[Path]:
    return sorted(p for p in (REPO / "specs").rglob("*.y*ml")
                  if "apiVersion: flowspec/v1" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", [CONTRACT_EXAMPLE, EVERY_KEY], ids=["contract", "every-key"])
def test_good_documents_pass(text: str) -> None:
    assert check_schema(load(text)) == []


@pytest.mark.parametrize("path", spec_files(), ids=lambda p: p.name)
def test_shipped_specs_pass(path: Path) -> None:
    assert check_schema(load(path.read_text(encoding="utf-8"), str(path))) == []


# (document, code, line, column, message fragments, hint fragment or None)
CASES: list[tuple[str, str, int, int, list[str], str | None]] = [
    # FS101 unknown keys, at the key, with where it was and a way out
    (HEAD + STEP + "    dependecies: [b]\n", "FS101", 7, 5,
     ["unknown key 'dependecies' in step 'a'"], "did you mean 'dependencies'?"),
    (HEAD + STEP + "    retries: {limit: 2}\n", "FS101", 7, 5,
     ["unknown key 'retries'"], "did you mean 'retry'?"),
    (HEAD + STEP + "    image: busybox\n", "FS101", 7, 5,
     ["unknown key 'image' in step 'a'"], "'image' belongs under 'argo'"),
    (HEAD + "retry: {limit: 1}\n" + STEP, "FS101", 4, 1,
     ["unknown key 'retry' in the workflow"], "'retry' belongs under 'defaults'"),
    (HEAD + "processor: noop\n" + STEP, "FS101", 4, 1,
     ["unknown key 'processor' in the workflow"], "belongs in each item of 'steps'"),
    (HEAD + STEP + "    retry: {backoff: {delay: 1s, multiplier: 2}}\n", "FS101", 7, 34,
     ["unknown key 'multiplier' in 'retry.backoff' of step 'a'"],
     "allowed here: delay, factor, cap"),
    (HEAD + STEP + "finally:\n  - name: z\n    processor: noop\n    when_: x\n", "FS101", 10, 5,
     ["unknown key 'when_' in finally step 'z'"], "did you mean 'when'?"),
    (HEAD + STEP + "    env: {DB: {secrets: {name: db, key: url}}}\n", "FS101", 7, 16,
     ["unknown key 'secrets' in 'env.DB' of step 'a'"], "did you mean 'secret'?"),
    # keys of other tools, translated (before any did-you-mean: 'needs' is not 'depends')
    (HEAD + STEP + "    needs: [b, c]\n", "FS101", 7, 5,
     ["unknown key 'needs' in step 'a'"], "dependencies: [b, c]"),
    (HEAD + STEP + "    runAfter: [b]\n", "FS101", 7, 5,
     ["unknown key 'runAfter'"], "dependencies: [b]"),
    (HEAD + "steps:\n  - name: a\n    script: pytest -q\n", "FS101", 6, 5,
     ["unknown key 'script'"], "processor: shell, and config: {command: pytest -q}"),
    (HEAD + STEP + "    timeout-minutes: 2.5\n", "FS101", 7, 5,
     ["unknown key 'timeout-minutes'"], "timeout: 2.5m"),
    (HEAD + STEP + "    if: \"github.ref == 'main'\"\n", "FS101", 7, 5,
     ["unknown key 'if'"], "when: github.ref == 'main'"),
    # ... only where their flowspec key would be allowed
    (HEAD.replace("{name: demo}", "{name: demo, if: x}") + STEP, "FS101", 3, 24,
     ["unknown key 'if' in 'metadata'"], "allowed here: name"),
    # a misspelt required key is one problem, not also a missing key
    (HEAD + "steps:\n  - nme: a\n    processor: noop\n", "FS101", 5, 5,
     ["unknown key 'nme' in steps[0]"], "did you mean 'name'?"),
    # FS102 missing keys, at the mapping
    (HEAD + "steps:\n  - name: a\n", "FS102", 5, 5,
     ["step 'a' is missing the required key 'processor'"],
     "add 'processor: chargeback.extract-identifiers'"),
    (HEAD + "params: {}\n", "FS102", 1, 1,
     ["the workflow is missing the required key 'steps'"], "add 'steps'"),
    (HEAD + STEP + "    retry: {backoff: {factor: 2}}\n", "FS102", 7, 13,
     ["'retry.backoff' of step 'a' is missing the required key 'delay'"], "add 'delay: 2s'"),
    (HEAD + "env: {DB: {secret: {name: db}}}\n" + STEP, "FS102", 4, 12,
     ["'env.DB.secret' is missing the required key 'key'"], "add 'key: url'"),
    (HEAD + "params: {doc: {required: true}}\n" + STEP, "FS102", 4, 10,
     ["'params.doc' is missing the required key 'type'"], "add 'type: string'"),
    # FS103 wrong types, at the value
    (HEAD + STEP + "    retry: {limit: abc}\n", "FS103", 7, 20,
     ["retry.limit: expected an integer, got the text 'abc'"], "for example: 2, 5"),
    (HEAD + STEP + "    retry: {limit: '3'}\n", "FS103", 7, 20,
     ["expected an integer, got the text '3'"], "remove the quotes: 3"),
    (HEAD.replace("{name: demo}", "{name: demo, labels: {tier: 2}}") + STEP, "FS103", 3, 39,
     ["metadata.labels.tier: expected text, got the number 2"], "put the value in quotes: '2'"),
    (HEAD + STEP + "    when: true\n", "FS103", 7, 11,
     ["when: expected text, got the boolean true"], "put the value in quotes: 'true'"),
    (HEAD + STEP + "    retry:\n", "FS103", 7, 11,
     ["retry: expected a mapping, got an empty value"], "write a value after the colon"),
    (HEAD + "env: {LIST: [1, 2]}\n" + STEP, "FS103", 4, 13,
     ["env.LIST: expected text, a number, a boolean or a mapping, got a list"], "for example"),
    (HEAD + "steps:\n  - extract\n", "FS103", 5, 5,
     ["steps[0]: expected a mapping, got the text 'extract'"], "processor:"),
    (HEAD + "timeout: 300\n" + STEP, "FS103", 4, 10,
     ["timeout: expected text, got the number 300"], "for example: 30s, 5m, 1h30m"),
    # FS104 invalid values, at the value (or the key, for a bad key name)
    (HEAD + STEP + "    retry: {on: sometimes}\n", "FS104", 7, 17,
     ["'sometimes' is not one of: failure, error, always, transient"], None),
    (HEAD + "params: {n: {type: int}}\n" + STEP, "FS104", 4, 20,
     ["params.n.type: 'int' is not one of: string, integer, number, boolean, list"],
     "did you mean 'integer'?"),
    (HEAD + "steps:\n  - name: My_Step\n    processor: noop\n", "FS104", 5, 11,
     ["'My_Step' is not a valid step name: lower-case letters, digits and '-', starting",
      "starting with a letter"], "did you mean 'my-step'?"),
    (HEAD + f"steps:\n  - name: {'a' * 64}\n    processor: noop\n", "FS104", 5, 11,
     ["is 64 characters long; at most 63 are allowed"], None),
    (HEAD.replace("kind: Workflow", "kind: CronWorkflow") + STEP, "FS104", 2, 7,
     ["kind: expected 'Workflow', got 'CronWorkflow'"], "flowspec compile --kind"),
    (HEAD.replace("flowspec/v1", "flowspec/v2") + STEP, "FS104", 1, 13,
     ["apiVersion: expected 'flowspec/v1', got 'flowspec/v2'"], None),
    (HEAD + "env: {my-var: x}\n" + STEP, "FS104", 4, 7,
     ["env: 'my-var' is not a valid environment variable name"], "did you mean 'my_var'?"),
    (HEAD + STEP + "    outputs: {bad-name: string}\n", "FS104", 7, 15,
     ["outputs: 'bad-name' is not a valid output name"], "did you mean 'bad_name'?"),
    (HEAD + STEP + "    timeout: 5 min\n", "FS104", 7, 14,
     ["timeout: '5 min' is not a valid duration"], "for example: 30s, 5m, 1h30m"),
    (HEAD + STEP + "    dependencies: [b, c, b]\n", "FS104", 7, 26,
     ["dependencies: 'b' is listed more than once"], "remove the repeated entry"),
    (HEAD + "parallelism: 0\n" + STEP, "FS104", 4, 14,
     ["parallelism: 0 is less than the minimum, 1"], None),
    (HEAD + STEP + "    retry: {limit: 101}\n", "FS104", 7, 20,
     ["retry.limit: 101 is more than the maximum, 100"], None),
    (HEAD + STEP + "    resources: {cpu: 0}\n", "FS104", 7, 22,
     ["resources.cpu: 0 must be greater than 0"], None),
    (HEAD + STEP + "    resources: {cpu: 2x}\n", "FS104", 7, 22,
     ["'2x' is not a valid CPU quantity"], "for example: 500m, 2"),
    (HEAD + STEP + "    for_each: regions\n", "FS104", 7, 15,
     ["'regions' is not a valid for_each reference: params.NAME or steps.STEP.outputs.NAME"],
     "for example: params.regions"),
    (HEAD + STEP + "    when: ''\n", "FS104", 7, 11, ["when: must not be empty"], None),
    (HEAD + "steps: []\n", "FS104", 4, 8, ["steps: needs at least 1 item, has 0"], None),
    (HEAD + STEP + "argo: {schedules: ['0 2 * *']}\n", "FS104", 7, 20,
     ["argo.schedules[0]: '0 2 * *' is not a valid cron schedule"], None),
    (HEAD + STEP + "argo: {pod_gc: Sometimes}\n", "FS104", 7, 16,
     ["'Sometimes' is not one of: OnPodCompletion, OnPodSuccess"], None),
    (HEAD.replace("{name: demo}", "{name: demo, labels: {'bad key!': x}}") + STEP, "FS104", 3,
     33, ["metadata.labels: 'bad key!' is not a valid Kubernetes label key"],
     "did you mean 'bad-key'?"),
]


@pytest.mark.parametrize(("text", "code", "line", "column", "fragments", "hint"), CASES,
                         ids=[f"{c[1]}-{c[4][0][:40]}" for c in CASES])
def test_bad_snippet(text: str, code: str, line: int, column: int, fragments: list[str],
                     hint: str | None) -> None:
    found = check_schema(load(text))
    assert [(d.code, d.line, d.column) for d in found] == [(code, line, column)], found
    diagnostic = found[0]
    for fragment in fragments:
        assert fragment in diagnostic.message
    if hint is None:
        assert diagnostic.hint is None or "did you mean" not in diagnostic.hint
    else:
        assert diagnostic.hint is not None and hint in diagnostic.hint
    assert diagnostic.file == "spec.yaml" and diagnostic.severity == "error"
    assert (diagnostic.end_line, diagnostic.end_column) > (diagnostic.line, diagnostic.column)


MANY_ERRORS = HEAD + """\
params: {p: {type: str, default: {a: 1}}}
env: {X: [1], 1Y: a}
steps:
  - name: Bad_Name
    processor: "not a processor"
    dependecies: x
    retry: {limit: -1, on: never, backoff: {}}
    resources: {memory: lots}
    outputs: {o: text}
  - 12
  - name: b
argo: {tolerations: [{effect: Sometimes}], security_context: {bad-key: 1}}
"""


def test_messages_never_leak_jsonschema_wording() -> None:
    found = check_schema(load(MANY_ERRORS))
    assert len(found) >= 15
    for diagnostic in found:
        text = f"{diagnostic.message} {diagnostic.hint or ''}"
        for leak in ("is not valid under any", "Additional properties", "does not match '^",
                     "is a required property", "is not of type", "{'", "None"):
            assert leak not in text, diagnostic


def test_diagnostics_are_sorted_and_stable() -> None:
    first = check_schema(load(MANY_ERRORS))
    assert first == sorted(first, key=lambda d: d.sort_key)
    assert check_schema(load(MANY_ERRORS)) == first
    assert len(set(first)) == len(first)


# -- validate_at: the same translation for any schema, e.g. a processor's config -----------

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "retries": {"anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "object", "additionalProperties": False, "required": ["limit"],
             "properties": {"limit": {"type": "integer"}}},
        ]},
        "mode": {"oneOf": [{"type": "string", "enum": ["fast", "full"]}, {"type": "boolean"}],
                 "examples": ["fast", True]},
        "nested": {"anyOf": [
            {"type": "object", "properties": {"x": {"anyOf": [
                {"type": "string"}, {"type": "array", "items": {"type": "integer"}}]}}},
            {"type": "string"},
        ]},
        "either": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
        "never": {"not": {"type": "string"}},
    },
}
CONFIG_VALIDATOR = Draft202012Validator(CONFIG_SCHEMA)


def config_diagnostics(config: str) -> list[tuple[str, int, int, str, str | None]]:
    doc = load(HEAD + STEP + f"    config: {config}\n")
    return [(d.code, d.line, d.column, d.message, d.hint)
            for d in validate_at(doc, CONFIG_VALIDATOR, ("steps", 0, "config"))]


def test_any_of_reports_the_branch_the_value_fits() -> None:
    # an object fits only the object branch: its own error, not "not valid under any"
    assert config_diagnostics("{retries: {limt: 3}}") == [
        ("FS101", 7, 24, "unknown key 'limt' in 'config.retries' of step 'a'",
         "did you mean 'limit'?")]
    assert config_diagnostics("{retries: -1}") == [
        ("FS104", 7, 23, "config.retries: -1 is less than the minimum, 0", None)]


def test_one_of_with_no_fitting_type_lists_the_types() -> None:
    assert config_diagnostics("{mode: [1]}") == [
        ("FS103", 7, 20, "config.mode: expected text or a boolean, got a list",
         "for example: fast, true")]
    assert config_diagnostics("{mode: slow}") == [
        ("FS104", 7, 20, "config.mode: 'slow' is not one of: fast, full", None)]


def test_nested_alternatives_descend_to_the_deepest_error() -> None:
    assert config_diagnostics("{nested: {x: [1, oops]}}") == [
        ("FS103", 7, 30, "config.nested.x[1]: expected an integer, got the text 'oops'", None)]


def test_rules_without_a_specific_code_are_fs105() -> None:
    assert config_diagnostics("{never: text}") == [
        ("FS105", 7, 21, "config.never: this value is not allowed here", None)]
    assert config_diagnostics("{either: 3}") == [
        ("FS105", 7, 22, "config.either: the value fits more than one of the allowed shapes",
         None)]


# -- robustness: any value anywhere gives diagnostics, never an exception ------------------

scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12) \
    | st.floats(allow_nan=False, allow_infinity=False)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3),
                      max_leaves=8)


def mapping_paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if isinstance(data, dict) else []
    children = data.items() if isinstance(data, dict) else \
        enumerate(data) if isinstance(data, list) else []
    for key, child in children:
        found += mapping_paths(child, (*path, key))
    return found


BASE = yaml.safe_load(EVERY_KEY)
TARGETS = mapping_paths(BASE)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TARGETS), st.text(min_size=1, max_size=10), values)
def test_any_value_anywhere_is_diagnosed_not_raised(target: tuple[Any, ...], key: str,
                                                    value: Any) -> None:
    data = yaml.safe_load(EVERY_KEY)
    node = data
    for part in target:
        node = node[part]
    node[key] = value
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    doc, problems = load_text(text, "fuzz.yaml")
    assert doc is not None, problems
    lines = text.count("\n") + 1
    for diagnostic in check_schema(doc):
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.code in {"FS101", "FS102", "FS103", "FS104", "FS105"}
        assert 1 <= diagnostic.line <= lines and diagnostic.column >= 1
        assert diagnostic.message


# -- the fast verdict: jsonschema-rs decides only whether the positioned validator runs -----

POSITIONED = Draft202012Validator(load_schema())


def value_paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    children = data.items() if isinstance(data, dict) else \
        enumerate(data) if isinstance(data, list) else []
    found = [path] if path else []
    for key, child in children:
        found += value_paths(child, (*path, key))
    return found


#: values near the edges of the schema's rules, where two validators could disagree
EDGES = st.sampled_from([
    "", "a", "a\n", "A", "a-", "-a", "a_b", "a.b", "x" * 63, "x" * 64, "é", "a b", "1s",
    "1.5h", "90", "500m", "1Gi", "0.5", "@daily", "* * * * *", "pkg.mod:Cls", "steps.a.outputs.b",
    1.0, 1.5, 0, -1, 2**63, True, False, None, [], {}, ["a", "a"], [1, 1.0], [True, 1],
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(value_paths(BASE)), EDGES | values)
def test_the_fast_verdict_never_hides_a_diagnostic(target: tuple[Any, ...], value: Any) -> None:
    """``check_schema`` skips the positioned validator when jsonschema-rs accepts a document,
    so its answer must be jsonschema's own for any value anywhere."""
    data = yaml.safe_load(EVERY_KEY)
    node = data
    for part in target[:-1]:
        node = node[part]
    node[target[-1]] = value
    doc, problems = load_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "f.yaml")
    assert doc is not None, problems
    assert check_schema(doc) == validate_at(doc, POSITIONED)


def test_a_key_json_cannot_hold_goes_to_the_positioned_validator() -> None:
    doc = load(HEAD + STEP + "    outputs: {1: integer}\n")
    assert not fits_schema(doc.data)
    assert [d.code for d in check_schema(doc)] == ["FS104"]
