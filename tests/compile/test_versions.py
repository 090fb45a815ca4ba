"""``--argo-version``: each supported Argo line gets a manifest its own schema accepts.

The schemas are each release's own (``tests/fixtures/argo`` and ``versions/``, see the
fixtures README); what a line cannot express is refused on the spec line that asks for it.
The conditions' null tests per line are checked against the oracle in
``test_parity_compiled.py``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.compile import build, codes
from engine.compile.checks import check_compiled, check_manifest
from engine.compile.versions import (
    BACKOFF_CAP_UNSUPPORTED,
    EMPTY_STRING_IS_NULL,
    LATEST,
    SKIPPED_INPUT,
    TARGETS,
    ArgoTarget,
    target,
)
from engine.diagnostics import SpecError
from engine.validation import load_spec_file

from .conftest import REPO, shipped_specs, spec_from

OLDEST = TARGETS["3.6"]
ALL = list(TARGETS.values())


def _kinds(path: Path) -> list[str]:
    spec = load_spec_file(path)
    return ["Workflow", "WorkflowTemplate"] + (["CronWorkflow"] if spec.argo.get("schedules")
                                                else [])


@pytest.mark.parametrize("argo", ALL, ids=lambda t: t.version)
@pytest.mark.parametrize("path", shipped_specs(), ids=lambda p: p.name)
def test_every_shipped_spec_compiles_and_passes_its_lines_schema(path: Path,
                                                                 argo: ArgoTarget) -> None:
    spec = load_spec_file(path)
    for kind in _kinds(path):
        params = {name: "x" for name, p in spec.params.items()
                  if p.required and p.type == "string"}
        compiled = build(spec, kind=kind, params=params, argo=argo)
        assert compiled.argo is argo
        assert check_compiled(compiled) == [], (kind, argo.version)


def _retry(manifest: dict[str, Any]) -> dict[str, Any]:
    spec = manifest["spec"]
    return next(t["retryStrategy"] for t in spec["templates"] if "retryStrategy" in t)


RETRY = """
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {name: retried}
    steps:
      - name: a
        processor: noop
        retry: {limit: LIMIT, on: failure, backoff: {delay: 1s, factor: 2, cap: 10s}}
"""


def test_a_cap_the_waits_never_reach_is_left_out_where_the_line_has_none() -> None:
    spec = spec_from(RETRY.replace("LIMIT", "4"))  # waits 1s 2s 4s 8s: all under 10s
    assert _retry(build(spec).manifest)["backoff"]["cap"] == "10s"
    for argo in ALL:
        backoff = _retry(build(spec, argo=argo).manifest)["backoff"]
        assert ("cap" in backoff) == argo.backoff_cap
        assert backoff["duration"] == "1s" and backoff["factor"] == "2"


def test_a_cap_that_would_bind_is_refused_on_its_line_for_argo_3_6() -> None:
    spec = spec_from(RETRY.replace("LIMIT", "5"))  # the fifth wait, 16s, is over the cap
    assert _retry(build(spec, argo=TARGETS["3.7"]).manifest)["backoff"]["cap"] == "10s"
    with pytest.raises(SpecError) as err:
        build(spec, argo=OLDEST)
    [d] = err.value.diagnostics
    assert (d.code, d.line) == (BACKOFF_CAP_UNSUPPORTED.id, 7)
    assert d.column == spec.document.source.line_text(7).index("10s") + 1  # the value
    assert "Argo 3.6 has no backoff cap" in d.message
    huge = spec_from(RETRY.replace("LIMIT", "3").replace("factor: 2", f"factor: {'9' * 400}"))
    # a factor no float holds: still judged
    with pytest.raises(SpecError):
        build(huge, argo=OLDEST)


def test_the_check_uses_the_target_lines_schema() -> None:
    """A v4.1 manifest with a cap is refused by v3.6's schema and CRD, which lack it."""
    manifest = build(spec_from(RETRY.replace("LIMIT", "5"))).manifest
    problems = check_manifest(manifest, "Workflow", OLDEST)
    assert {p.code for p in problems} == {codes.ARGO_SCHEMA, codes.ARGO_CRD}
    assert all(p.path[-2:] == ("retryStrategy", "backoff") and "'cap' was unexpected" in p.message
               for p in problems), problems
    assert check_manifest(manifest, "Workflow", TARGETS["3.7"]) == []


def test_singular_schedule_is_gone_from_4_0_and_schedules_is_emitted_for_every_line() -> None:
    spec = spec_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: cron}
        argo: {schedules: ['0 2 * * *', '0 14 * * *']}
        steps:
          - {name: a, processor: noop}
    """)
    for argo in ALL:
        manifest = build(spec, kind="CronWorkflow", argo=argo).manifest
        assert manifest["spec"]["schedules"] == ["0 2 * * *", "0 14 * * *"]
        assert "schedule" not in manifest["spec"]
        singular = copy.deepcopy(manifest)
        singular["spec"]["schedule"] = singular["spec"].pop("schedules")[0]
        refused = {p.code for p in check_manifest(singular, "CronWorkflow", argo)}
        assert bool(refused) == (argo.version >= "4.0"), (argo.version, refused)


EMPTY = """
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {name: empty}
    steps:
      - name: a
        processor: noop
        config: {outputs: {s: ''}}
        outputs: {s: string, n: integer}
      - name: b
        processor: noop
        dependencies: [a]
        when: WHEN
"""


@pytest.mark.parametrize("when", ["steps.a.outputs.s == ''", "steps.a.outputs.s != null",
                                  "steps.a.outputs.n > 1 && steps.a.outputs.s in ['x', '']"])
def test_a_condition_telling_empty_from_null_is_refused_before_4_1(when: str) -> None:
    spec = spec_from(EMPTY.replace("WHEN", f'"{when}"'))
    assert build(spec).manifest
    for argo in ALL:
        if argo.nil_skipped_outputs:
            continue
        with pytest.raises(SpecError) as err:
            build(spec, argo=argo)
        [d] = err.value.diagnostics
        assert (d.code, d.line) == (EMPTY_STRING_IS_NULL.id, 12)
        assert f"on Argo {argo.version} an empty string output reads as null" in d.message


@pytest.mark.parametrize("when", ["steps.a.outputs.s == 'x'", "steps.a.outputs.n == null",
                                  "steps.a.outputs.s in ['x', 'y']", "steps.a.status != 'Skipped'"])
def test_conditions_that_decide_alike_compile_for_every_line(when: str) -> None:
    spec = spec_from(EMPTY.replace("WHEN", f'"{when}"'))
    for argo in ALL:
        compiled = build(spec, argo=argo)
        tag = compiled.manifest["spec"]["templates"][0]["dag"]["tasks"][1]["when"]
        if "outputs" in when:
            assert ("tasks['a'].outputs == nil" in tag) != argo.nil_skipped_outputs


INPUT = """
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {name: inputs}
    steps:
      - name: a
        processor: noop
        config: {outputs: {s: x}}
        outputs: {s: string}
        WHEN_A
      - name: b
        processor: noop
        DEPS_B
      - name: c
        processor: noop
        DEPS_C
        env:
          S: ${{ steps.a.outputs.s }}
"""


@pytest.mark.parametrize(("when_a", "deps_b", "deps_c", "refused"), [
    ("", "dependencies: [a]", "dependencies: [b]", False),
    ("when: 'true == true'", "dependencies: [a]", "dependencies: [b]", True),
    ("", "depends: a || a.Omitted", "dependencies: [b]", True),
    ("", "dependencies: [a]", "depends: b && a", True),
    ("", "depends: a", "depends: a", True),
    ("", "{}", "depends: a", True),
    ("", "depends: a || a.Omitted", "dependencies: [a]", False),  # b is not on the way
])
def test_env_reading_an_output_of_a_step_that_may_not_run_is_refused_before_4_1(
        when_a: str, deps_b: str, deps_c: str, refused: bool) -> None:
    text = INPUT.replace("WHEN_A", when_a or "timeout: 1m")
    text = text.replace("DEPS_B", deps_b if deps_b != "{}" else "timeout: 1m")
    spec = spec_from(text.replace("DEPS_C", deps_c))
    assert build(spec).manifest
    for argo in ALL:
        if argo.nil_skipped_outputs or not refused:
            assert build(spec, argo=argo).manifest
            continue
        with pytest.raises(SpecError) as err:
            build(spec, argo=argo)
        [d] = err.value.diagnostics
        assert (d.code, d.line) == (SKIPPED_INPUT.id, 17)
        assert "'${{ steps.a.outputs.s }}': step 'a'" in d.message


def test_target_names() -> None:
    assert target("4.0") is target("v4.0") is target("4.0.7") is TARGETS["4.0"]
    assert LATEST is TARGETS["4.1"] and max(TARGETS) == LATEST.version
    with pytest.raises(ValueError, match="one of 3.6, 3.7, 4.0, 4.1"):
        target("3.5")


def test_cli_argo_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli.main import main

    spec = REPO / "specs" / "examples" / "retries.yaml"
    assert main(["compile", str(spec), "--argo-version", "3.6", "--check"]) == 0
    out, err = capsys.readouterr()
    assert "cap" not in yaml.safe_load(out)["spec"]["templates"][2]["retryStrategy"]["backoff"]
    assert "passes Argo 3.6's JSON Schema, CRD and CEL rules (v3.6.19;" in err
    assert main(["compile", str(spec)]) == 0
    assert "cap: 10s" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["compile", str(spec), "--argo-version", "3.5"])
    assert exit_.value.code == 2
    assert "invalid choice: '3.5'" in capsys.readouterr().err
    assert main(["submit", "--from-template", "t", "--argo-version", "3.7"]) == 2
    assert "--from-template takes no" in capsys.readouterr().err


@pytest.mark.parametrize("code", ["FS820", "FS821", "FS822"])
def test_explain_the_version_codes(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli.main import main

    assert main(["explain", code]) == 0
    assert "--argo-version" in capsys.readouterr().out
