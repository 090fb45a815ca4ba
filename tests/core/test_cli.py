"""The command line as CI and people use it: validate, graph, plan, explain, schema.

Commands run in-process through ``main([...])`` (fast, and capsys sees exactly what a terminal
would); one test runs the installed console script in subprocesses to check that output does
not depend on the hash seed. Reporter outputs are compared with golden files under
``golden/``, regenerated only with ``FLOWSPEC_REGEN=1``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.cli.main import main
from engine.diagnostics import CODES
from engine.loader import load_file
from engine.validation import validate_file

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
GOLDEN_INPUT = "tests/core/golden/input.yaml"  # relative: golden outputs name the file
BAD = HERE / "corpus" / "bad"
EXAMPLES = sorted((REPO / "specs" / "examples").glob("*.yaml"))
SHIPPED = sorted((REPO / "specs").glob("**/*.yaml")) + sorted((REPO / "specs").glob("**/*.yml"))
RECORD_KEYS = {"file", "line", "column", "end_line", "end_column", "severity", "code",
               "message", "hint"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths as a user types them; no GitHub Actions default unless a test sets it."""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.syspath_prepend(str(REPO))


def write_spec(path: Path, steps: str = "  - {name: a, processor: noop}\n") -> Path:
    path.write_text(f"apiVersion: flowspec/v1\nkind: Workflow\nmetadata:\n  name: {path.stem}\n"
                    f"steps:\n{steps}", encoding="utf-8")
    return path


# --- validate: exit codes and what is picked up ---------------------------------------------

def test_valid_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "specs/examples/hello.yaml")
    assert (code, out) == (0, "1 file(s) valid\n")


def test_bad_file_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", GOLDEN_INPUT)
    assert code == 1
    assert out.endswith("7 error(s), 1 warning(s) in 1 file(s)\n")


def test_missing_path_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "specs/examples/hello.yaml", "nope/missing.yaml")
    assert code == 2 and out == ""
    assert "no such file or folder: nope/missing.yaml" in err


@pytest.mark.parametrize("argv", [["validate"], ["validate", "--format", "xml", "x.yaml"],
                                  ["no-such-command"], []])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv) if argv else sys.exit(main(argv))
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_folder_picks_only_flowspec_files(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(tmp_path / "one.yaml")
    (tmp_path / "nested").mkdir()
    write_spec(tmp_path / "nested" / "two.yml", "  - {name: b, processor: shel}\n")
    (tmp_path / "ci.yaml").write_text("on: push\njobs: {build: {runs-on: ubuntu-latest}}\n")
    (tmp_path / "notes.txt").write_text("apiVersion: flowspec/v1\n")
    (tmp_path / ".hidden").mkdir()
    write_spec(tmp_path / ".hidden" / "three.yaml", "  - {name: c, processor: nope}\n")
    code, out, _ = run(capsys, "validate", "--format", "json", str(tmp_path))
    records = json.loads(out)
    assert code == 1
    assert [(Path(r["file"]).name, r["code"]) for r in records] == [("two.yml", "FS401")]
    code, out, _ = run(capsys, "validate", str(tmp_path / "one.yaml"), str(tmp_path))
    assert out.endswith("in 3 file(s)\n")  # a file named explicitly is always checked


def test_non_spec_file_named_explicitly(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "docker-compose.yaml"
    other.write_text("services: {web: {image: nginx}}\n")
    code, out, _ = run(capsys, "validate", "--format", "json", str(other))
    assert code == 1
    assert {r["code"] for r in json.loads(out)} == {"FS101", "FS102"}
    code, out, _ = run(capsys, "validate", "--skip-non-specs", str(other),
                       "specs/examples/hello.yaml")
    assert (code, out) == (0, "1 file(s) valid\n")


def test_every_file_in_one_run_sorted_by_file(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    b = write_spec(tmp_path / "b.yaml", "  - {name: x, processor: noop, dependencies: [y]}\n")
    a = write_spec(tmp_path / "a.yaml", "  - {name: x, processor: noop, when: params.p}\n"
                                        "  - {name: x, processor: noop}\n")
    code, out, _ = run(capsys, "validate", "--format", "json", str(b), str(a))
    found = [(Path(r["file"]).name, r["line"], r["code"]) for r in json.loads(out)]
    assert code == 1
    assert found == [("a.yaml", 6, "FS301"), ("a.yaml", 7, "FS202"), ("b.yaml", 6, "FS203")]


# --- validate: formats ----------------------------------------------------------------------

def test_text_form_has_source_line_and_caret(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "validate", GOLDEN_INPUT)
    lines = out.splitlines()
    head = lines.index(f"{GOLDEN_INPUT}:24:10: error: an integer is never equal to a string; "
                       "'==' is never true [FS306]")
    source, caret = lines[head + 1], lines[head + 2]
    assert source == "  24 |       && params.max_lines == 'all'"
    assert caret.index("^") == source.index("params") and caret.endswith("~" * 24)


def test_json_records(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--format", "json", GOLDEN_INPUT)
    records = json.loads(out)
    assert code == 1 and len(records) == 8
    assert all(set(r) == RECORD_KEYS for r in records)
    assert records == [d.to_dict() for d in validate_file(GOLDEN_INPUT)]
    typo = next(r for r in records if r["code"] == "FS101")
    assert typo == {"file": GOLDEN_INPUT, "line": 18, "column": 5, "end_line": 18,
                    "end_column": 16, "severity": "error", "code": "FS101",
                    "message": "unknown key 'dependecies' in step 'load'",
                    "hint": "did you mean 'dependencies'?"}


WARNED = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: warned}
steps:
  - name: a
    processor: noop  # flowspec: ignore[FS401]
  - name: b
    processor: processors.chargeback.eligibility:ContractEligibility
"""


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_warnings_are_rendered_as_warnings_and_do_not_fail(
        fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "warned.yaml"
    spec.write_text(WARNED, encoding="utf-8")
    code, out, _ = run(capsys, "validate", "--format", fmt, str(spec))
    assert code == 0
    found = validate_file(str(spec))
    assert [(d.code, d.severity) for d in found] == [("FS011", "warning"), ("FS405", "warning")]
    if fmt == "text":
        assert f"{spec}:6:41: warning: 'ignore[FS401]' silences nothing" in out
        assert out.endswith("0 error(s), 2 warning(s) in 1 file(s)\n")
    elif fmt == "json":
        assert [r["severity"] for r in json.loads(out)] == ["warning", "warning"]
    elif fmt == "github":
        assert [line.split(" ", 1)[0] for line in out.splitlines()] == ["::warning"] * 2
    else:
        run_ = json.loads(out)["runs"][0]
        assert [r["level"] for r in run_["results"]] == ["warning", "warning"]
        assert {r["id"]: r["defaultConfiguration"]["level"]
                for r in run_["tool"]["driver"]["rules"]} == {"FS011": "warning",
                                                               "FS405": "warning"}


def test_an_ignore_comment_silences_its_codes_on_its_line_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "ignored.yaml", """\
  - name: a
    processor: shell
    env: {API_KEY: sk_test_fixture_1}  # flowspec: ignore[FS501, FS310]
    config: {command: 'echo ${{ params.x }}'}
  - name: b
    processor: noop
    env: {API_KEY: sk_test_fixture_2}
""")
    code, out, _ = run(capsys, "validate", str(spec))
    assert code == 1
    assert f"{spec}:8:20: error" not in out  # FS501 silenced on its line ...
    assert f"{spec}:8:66: warning: 'ignore[FS310]' silences nothing" in out  # ... FS310 not
    assert f"{spec}:9:29: error: '${{{{ }}}}' is not replaced in a shell command" in out
    assert f"{spec}:12:20: error: env 'API_KEY' looks like a secret" in out
    assert out.endswith("2 error(s), 1 warning(s) in 1 file(s)\n")


def test_an_error_run_relies_on_cannot_be_silenced(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """validate never passes a spec that run and compile would then mishandle."""
    spec = write_spec(tmp_path / "unsilenced.yaml", """\
  - name: a
    processor: noop
    when: params.x == 1  # flowspec: ignore[FS301]
""")
    code, out, _ = run(capsys, "validate", str(spec))
    assert code == 1
    assert f"{spec}:8:18: error: unknown param 'x' [FS301]" in out
    assert "FS301 cannot be silenced: run and compile rely on its check [FS011]" in out
    code, _, err = run(capsys, "run", str(spec), "--db", f"sqlite:///{tmp_path}/s.db")
    assert code == 1 and "unknown param 'x' [FS301]" in err


def test_json_of_a_valid_file_is_an_empty_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "validate", "--format", "json", "specs/examples/hello.yaml") == (0, "[]\n", "")


_GITHUB = re.compile(r"^::(error|warning) file=([^,]+),line=(\d+),col=(\d+),endLine=(\d+),"
                     r"endColumn=(\d+),title=(FS\d{3})::(.+)$")


def test_github_annotations(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "validate", "--format", "github", GOLDEN_INPUT)
    matches = [_GITHUB.match(line) for line in out.splitlines()]
    assert all(matches) and len(matches) == 8
    records = validate_file(GOLDEN_INPUT)
    for m, d in zip(matches, records, strict=True):
        assert m is not None
        assert m.groups()[:7] == (d.severity, d.file, str(d.line), str(d.column),
                                  str(d.end_line), str(d.end_column), d.code)
        assert m.group(8).startswith(d.message)


def test_github_is_the_default_under_github_actions(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out, _ = run(capsys, "validate", GOLDEN_INPUT)
    assert out.startswith("::error file=")


def test_github_escapes_newlines_and_separators(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "a,b:c.yaml"
    odd.write_text("apiVersion: flowspec/v1\nkind: Workflow\nmetadata: {name: odd}\n"
                   'steps:\n  - {name: a, processor: "x%y\\nz"}\n')
    _, out, _ = run(capsys, "validate", "--format", "github", str(odd))
    lines = out.splitlines()
    assert len(lines) == 2 and all(line.startswith("::error file=") for line in lines)
    assert all("a%2Cb%3Ac.yaml,line=5," in line for line in lines)
    assert "'x%25y%0Az'" in out


#: the parts of SARIF 2.1.0 that code-scanning uploads rely on
SARIF_SHAPE: dict[str, Any] = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name", "rules"],
                    "properties": {"rules": {"type": "array", "items": {
                        "type": "object", "required": ["id", "shortDescription"]}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["ruleId", "level", "message", "locations"],
                    "properties": {
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": {"type": "object", "required": ["text"]},
                        "locations": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["physicalLocation"],
                            "properties": {"physicalLocation": {
                                "type": "object", "required": ["artifactLocation", "region"],
                                "properties": {"region": {
                                    "type": "object",
                                    "required": ["startLine", "startColumn"],
                                    "properties": {
                                        "startLine": {"type": "integer", "minimum": 1},
                                        "startColumn": {"type": "integer", "minimum": 1},
                                    }}}}}}}}}},
            }}},
    },
}


def test_sarif_shape(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "validate", "--format", "sarif", GOLDEN_INPUT)
    sarif = json.loads(out)
    Draft202012Validator(SARIF_SHAPE).validate(sarif)
    run_ = sarif["runs"][0]
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    assert {r["ruleId"] for r in run_["results"]} == set(rule_ids)
    assert len(run_["results"]) == 8


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_golden(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "validate", "--format", fmt, GOLDEN_INPUT)
    golden = GOLDEN / f"validate.{fmt}"
    if os.environ.get("FLOWSPEC_REGEN") == "1":
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


def test_output_does_not_depend_on_hash_seed() -> None:
    """graphlib's lesson: two PYTHONHASHSEED values, one output (sets and dicts are everywhere
    in the rules; cycles and did-you-means must still come out in one order)."""
    outputs = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        env.pop("GITHUB_ACTIONS", None)
        proc = subprocess.run(
            [sys.executable, "-m", "engine.cli.main", "validate", "--format", "json",
             "tests/core/corpus/bad", GOLDEN_INPUT],
            cwd=REPO, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 1, proc.stderr
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]
    assert len(json.loads(outputs[0])) > 100


def test_validate_keeps_heavy_imports_out() -> None:
    """Cold start: ``flowspec validate`` on a valid spec imports none of the heavy libraries
    (networkx too: it is imported only to list the cycles of a spec that has one)."""
    heavy = ("networkx", "hera", "sqlalchemy", "openai", "rich")
    probe = ("import sys; from engine.cli.main import main; "
             "code = main(['validate', 'specs/examples/hello.yaml']); "
             f"print(code, [m for m in {heavy!r} if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True, check=False, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout.splitlines()[-1] == "0 []", proc.stdout + proc.stderr


# --- graph ----------------------------------------------------------------------------------

def data_of(path: Path) -> Any:
    """The plain data of a spec (read by our YAML 1.2 loader: PyYAML's own reads `on:` as
    the key True)."""
    doc, problems = load_file(str(path))
    assert doc is not None and not problems
    return doc.data


def _declared_edges(path: Path) -> set[tuple[str, str]]:
    """The edges as the YAML states them, read without the engine's graph code."""
    data = data_of(path)
    edges = set()
    for step in data["steps"]:
        parents = step.get("dependencies") or [
            token.split(".")[0] for token in re.findall(r"[-\w.]+", step.get("depends", ""))]
        edges |= {(p, step["name"]) for p in parents}
    return edges


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_graph_json(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "graph", "--format", "json", str(path))
    graph = json.loads(out)
    assert code == 0
    assert {(e["from"], e["to"]) for e in graph["edges"]} == _declared_edges(path)
    placed = [name for generation in graph["generations"] for name in generation]
    assert sorted(placed) == sorted(s["name"] for s in graph["steps"])
    position = {name: i for i, gen in enumerate(graph["generations"]) for name in gen}
    assert all(position[e["from"]] < position[e["to"]] for e in graph["edges"])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_graph_mermaid(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "graph", str(path))
    lines = out.splitlines()
    assert code == 0 and lines[0] == "flowchart TD"
    ids = dict(re.findall(r'^\s+(s\d+)\["([^"<]+)<br/>', out, re.MULTILINE))
    assert set(ids.values()) >= {s for _, s in _declared_edges(path)}
    drawn = {(ids[a], ids[b]) for a, b in re.findall(r"^\s+(s\d+) -\.?->? (s\d+)$", out, re.MULTILINE)}
    edges = _declared_edges(path)
    assert edges <= drawn
    for line in lines[1:]:  # one statement per line, quotes balanced, no raw HTML from the spec
        assert line.count('"') % 2 == 0
        assert "&&" not in line and " < " not in line


def test_graph_mermaid_escapes_conditions(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "graph", "tests/core/corpus/good/conditions_everywhere.yaml")
    assert "params.max_lines #60; 1000" in out and "#38;#38;" in out
    assert "\n    s4 --> s5\n" in out  # edges between finally steps
    assert len(out.splitlines()) == 13  # a multi-line condition stays on its node's line


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_graph_dot(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "graph", "--format", "dot", str(path))
    assert code == 0 and out.startswith("digraph ") and out.rstrip().endswith("}")
    assert out.count("{") == out.count("}")
    drawn = set(re.findall(r'^\s+"([^"]+)" -> "([^"]+)"', out, re.MULTILINE))
    assert drawn == _declared_edges(path) | _finally_edges(path)
    assert "\\\\n" not in out  # labels break lines with \n, not a literal backslash


def _finally_edges(path: Path) -> set[tuple[str, str]]:
    data = data_of(path)
    return {(p, s["name"]) for s in data.get("finally") or [] for p in s.get("dependencies", [])}


def test_graph_of_an_invalid_spec(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "graph", str(BAD / "fs207_three_step_cycle.yaml"))
    assert (code, out) == (1, "")
    assert "dependency cycle: a -> b -> c -> a [FS207]" in err
    assert run(capsys, "graph", "missing.yaml")[0] == 2


# --- plan -----------------------------------------------------------------------------------

def test_plan_env_origins_and_secret_references(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "plan.yaml"
    spec.write_text("""\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: plan}
params:
  region: {type: string, default: eu}
env:
  LEVEL: workflow
  SHARED: workflow
  API_KEY: {secret: {name: payments, key: api-key}}
defaults:
  env: {SHARED: defaults, FORMAT: csv}
  retry: {limit: 2, on: transient, backoff: {delay: 1s, factor: 2, cap: 1m}}
  timeout: 90s
steps:
  - name: fetch
    processor: noop
    env: {FORMAT: json, REGION: "${{ params.region }}"}
  - name: post
    processor: noop
    dependencies: [fetch]
    retry: {limit: 0}
    timeout: 2h
""")
    sentinel = "sk-live-THIS-MUST-NOT-LEAK"
    monkeypatch.setenv("PAYMENTS_API_KEY", sentinel)  # the secret's local stand-in
    code, out, _ = run(capsys, "plan", "--format", "json", str(spec), "-p", "region=us")
    assert code == 0 and sentinel not in out
    plan = json.loads(out)
    fetch, post = plan["steps"]
    assert plan["order"] == [["fetch"], ["post"]] and plan["params"] == {"region": "us"}
    assert {k: v.get("value", "<secret>") + "@" + v["origin"] for k, v in fetch["env"].items()} \
        == {"LEVEL": "workflow@workflow", "SHARED": "defaults@defaults",
            "FORMAT": "json@step", "REGION": "${{ params.region }}@step",
            "API_KEY": "<secret>@workflow"}
    assert fetch["env"]["API_KEY"] == {"secret": {"name": "payments", "key": "api-key"},
                                       "optional": False, "local": "$PAYMENTS_API_KEY",
                                       "origin": "workflow"}
    assert fetch["retry"] == {"limit": 2, "on": "transient", "max_duration": None,
                              "backoff": {"delay": "1s", "factor": 2, "cap": "1m"}}
    assert (fetch["timeout"], post["timeout"], post["retry"]["limit"]) == ("90s", "2h", 0)
    code, out, _ = run(capsys, "plan", str(spec))
    assert code == 0 and sentinel not in out
    assert "env API_KEY = <secret payments/api-key; locally $PAYMENTS_API_KEY>  [workflow]" in out
    assert "env SHARED = 'defaults'  [defaults]" in out
    assert "  stage 1: fetch\n  stage 2: post\n" in out


def test_plan_reports_missing_required_params(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A run could not start without them, so neither does the plan: exit 1, each missing
    param with how to pass it (it printed `document=None` and exited 0)."""
    spec = write_spec(tmp_path / "needs.yaml").read_text(encoding="utf-8").replace(
        "steps:\n", "params:\n  document: {type: string, required: true, description: "
                    "The claim}\n  day: {type: integer, required: true}\n"
                    "  mode: {type: string, default: fast}\nsteps:\n")
    (tmp_path / "needs.yaml").write_text(spec, encoding="utf-8")
    code, out, err = run(capsys, "plan", str(tmp_path / "needs.yaml"))
    assert (code, out) == (1, "")
    assert err == ("flowspec plan: param 'document' (string: The claim) is required; pass it "
                   "with -p document=VALUE\n  param 'day' (integer) is required; pass it with "
                   "-p day=VALUE\n")
    code, _, err = run(capsys, "plan", str(tmp_path / "needs.yaml"), "-p", "day=x")
    assert code == 2 and "expected a whole number" in err and "-p document=VALUE" in err
    code, out, _ = run(capsys, "plan", str(tmp_path / "needs.yaml"), "-p", "document=c.edi",
                       "-p", "day=3")
    assert code == 0 and "params: document='c.edi', day=3, mode='fast'" in out


def test_plan_shows_the_secrets_a_run_needs_and_which_are_not_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "secrets.yaml", """\
  - name: a
    processor: noop
    env:
      TOKEN: {secret: {name: deploy, key: token}}
      AI: {secret: {name: openai, key: api-key}, optional: true}
  - name: b
    processor: noop
    env:
      TOKEN: {secret: {name: deploy, key: token}, optional: true}
      DB: {secret: {name: ledger-db, key: url}}
""")
    monkeypatch.setenv("LEDGER_DB_URL", "postgresql://ledger-THIS-MUST-NOT-LEAK")
    monkeypatch.delenv("DEPLOY_TOKEN", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, out, _ = run(capsys, "plan", str(spec))
    assert code == 0 and "MUST-NOT-LEAK" not in out
    assert ("secrets (locally read from environment variables):\n"
            "- deploy/token  $DEPLOY_TOKEN  MISSING  (read by every step)\n"
            "- openai/api-key  $OPENAI_API_KEY  not set, optional  (read by a)\n"
            "- ledger-db/url  $LEDGER_DB_URL  set  (read by b)\n") in out
    code, out, _ = run(capsys, "plan", "--format", "json", str(spec))
    assert json.loads(out)["secrets"][0] == {
        "name": "deploy", "key": "token", "optional": False, "local": "$DEPLOY_TOKEN",
        "set": False, "steps": ["a", "b"]}


def test_plan_rejects_unknown_params(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", "specs/examples/hello.yaml", "-p", "whom=x")
    assert (code, out) == (2, "")
    assert "unknown param 'whom'" in err and "did you mean 'who'" in err


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_plan_of_every_example(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "--format", "json", str(path))
    plan = json.loads(out)
    assert code == 0
    names = [s["name"] for s in plan["steps"]]
    assert names == [n for gen in plan["order"] for n in gen]
    for step in plan["steps"] + plan["finally"]:
        for entry in step["env"].values():
            assert ("value" in entry) != ("secret" in entry)


# --- explain and schema ---------------------------------------------------------------------

def test_explain_a_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "FS207")
    assert code == 0
    assert out.startswith("FS207: dependency cycle (error)\n\n")
    assert CODES["FS207"].explanation in out
    assert run(capsys, "explain", "fs207")[1] == out
    assert run(capsys, "explain", "207")[1] == out


def test_explain_unknown_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", "FS2077")
    assert (code, out) == (2, "")
    assert "unknown code 'FS2077'" in err and "did you mean" in err


def test_explain_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain")
    table, footer = out.split("\n\n")
    listed = [line.split()[0] for line in table.splitlines()]
    assert code == 0 and listed == sorted(CODES) and len(listed) > 40
    assert "# flowspec: ignore[CODE]" in footer


def test_schema_is_the_shipped_valid_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0
    Draft202012Validator.check_schema(schema)
    assert schema == json.loads((REPO / "schemas" / "flowspec.schema.json").read_text())
    for path in EXAMPLES:  # and every example fits it on its own
        Draft202012Validator(schema).validate(data_of(path))


def test_schema_output_writes_the_same_schema(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    target = tmp_path / "editor" / "flowspec.schema.json"
    code, out, err = run(capsys, "schema", "--output", str(target))
    assert (code, out) == (0, "") and str(target) in err
    assert target.read_text() == (REPO / "schemas" / "flowspec.schema.json").read_text()


def test_the_catalog_entry_points_at_the_schema() -> None:
    """schemas/catalog.json is the entry the README offers to SchemaStore and to editors."""
    catalog = json.loads((REPO / "schemas" / "catalog.json").read_text())
    schema = json.loads((REPO / "schemas" / "flowspec.schema.json").read_text())
    (entry,) = catalog["schemas"]
    assert entry["url"] == schema["$id"]
    assert {"*.flowspec.yaml", "flowspec/*.yaml"} <= set(entry["fileMatch"])


# --- shipped specs --------------------------------------------------------------------------

@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_spec_validates(path: Path) -> None:
    errors = [d for d in validate_file(str(path)) if d.severity == "error"]
    assert errors == [], "\n".join(f"{d.line}:{d.column} {d.message} [{d.code}]" for d in errors)


def test_the_command_collects_garbage_less_often_than_a_library_may() -> None:
    """``flowspec`` owns its process and sets the collector's thresholds; importing the
    engine as a library leaves them alone."""
    import gc

    from engine.cli.main import GC_THRESHOLDS, main

    before = gc.get_threshold()
    import engine.local  # noqa: F401 - importing must not touch the collector

    assert gc.get_threshold() == before
    try:
        assert main(["explain", "FS001"]) == 0
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.set_threshold(*before)
