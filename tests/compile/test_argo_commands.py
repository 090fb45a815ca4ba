"""``submit --update``, ``submit --from-template`` and ``flowspec argo list | logs | stop |
terminate | retry`` against the local, contract-checking Argo Server (argo_server.py): every
request body is checked against Argo's swagger.json, and each failure ends in one line on
stderr with the documented exit code (1 logs gone, 2 server or usage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.argo_client import connect, fnv32a, get
from engine.cli.main import main

from .argo_server import FakeArgo, Script, argo_server
from .conftest import REPO
from .test_submit import SPEC, TOKEN, _one_line, submit

CRON = REPO / "tests" / "compile" / "specs" / "nightly.yaml"


@pytest.fixture(autouse=True)
def _argo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARGO_SERVER", "ARGO_NAMESPACE", "ARGO_SECURE", "ARGO_BASE_HREF",
                 "ARGO_INSECURE_SKIP_VERIFY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARGO_TOKEN", TOKEN)


def argo(fake: FakeArgo, *args: str) -> int:
    return main(["argo", *args, "--server", fake.url, "--namespace", "batch"])


def _workflow(fake: FakeArgo, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """A workflow submitted and followed to its end; its name."""
    assert submit(fake, *extra) in (0, 1)
    return capsys.readouterr().out.split()[0]


@pytest.mark.parametrize(("kind", "spec", "name"), [("WorkflowTemplate", SPEC, "nightly-ingest"),
                                                    ("CronWorkflow", CRON, "nightly-sync")])
def test_update_replaces_in_place_with_the_held_resource_version(
        kind: str, spec: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    resource = "workflow-templates" if kind == "WorkflowTemplate" else "cron-workflows"
    with argo_server() as fake:
        assert submit(fake, "--kind", kind, "--update", spec=spec) == 0  # absent: created
        assert submit(fake, "--kind", kind, "--update", "--image", "reg/x:2", spec=spec) == 0
    assert fake.violations == []
    assert [(r["method"], r["path"]) for r in fake.requests] == [
        ("POST", f"/api/v1/{resource}/batch"), ("POST", f"/api/v1/{resource}/batch"),
        ("GET", f"/api/v1/{resource}/batch/{name}"), ("PUT", f"/api/v1/{resource}/batch/{name}")]
    sent = fake.requests[-1]["body"]
    key = "template" if kind == "WorkflowTemplate" else "cronWorkflow"
    assert sent[key]["metadata"]["resourceVersion"] == "123456"
    stored = fake.objects[(resource, "batch", name)]
    assert stored["metadata"]["resourceVersion"] == "123457"
    assert "reg/x:2" in json.dumps(stored["spec"])
    err = capsys.readouterr().err
    assert f"created {kind} {name}" in err and f"updated {kind} {name}" in err


@pytest.mark.parametrize("argv", [
    ["--kind", "Workflow", "--update", str(SPEC)],
    ["--from-template", "t", str(SPEC)],
    ["--from-template", "t", "--update"],
    ["--from-template", "t", "--kind", "CronWorkflow"],
    [],
])
def test_submit_option_clashes_are_usage_errors(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server() as fake:
        assert main(["submit", *argv, "--server", fake.url, "-n", "batch"]) == 2
    assert fake.requests == []
    assert _one_line(capsys.readouterr().err).startswith("flowspec submit: ")


def test_from_template_submits_on_the_server_and_follows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("limit: 5\nmode: delta\n")
    with argo_server() as fake:
        assert submit(fake, "--kind", "WorkflowTemplate") == 0
        capsys.readouterr()
        assert main(["submit", "--from-template", "nightly-ingest", "-f", str(params),
                     "-p", "mode=full", "--server", fake.url, "-n", "batch",
                     "--poll", "0.01"]) == 0
    out, err = capsys.readouterr()
    assert fake.violations == []
    request = fake.requests[1]
    assert (request["method"], request["path"]) == ("POST", "/api/v1/workflows/batch/submit")
    assert request["body"] == {"namespace": "batch", "resourceKind": "WorkflowTemplate",
                               "resourceName": "nightly-ingest",
                               "submitOptions": {"parameters": ["limit=5", "mode=full"]}}
    name = out.splitlines()[0]
    assert name.startswith("nightly-ingest-") and "merge" in out and "Succeeded" in out
    assert f"created Workflow {name} in namespace batch" in err
    stored = fake.objects[("workflows", "batch", name)]
    assert stored["spec"]["workflowTemplateRef"] == {"name": "nightly-ingest"}


def test_from_template_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server() as fake:
        assert main(["submit", "--from-template", "nope", "--server", fake.url,
                     "-n", "batch"]) == 2
        assert _one_line(capsys.readouterr().err) == (
            "flowspec: 'nope' was not found in namespace 'batch' (404) while submitting a "
            "Workflow from WorkflowTemplate 'nope'")
        assert main(["submit", "--from-template", "nope", "-p", "novalue", "--server",
                     fake.url, "-n", "batch"]) == 2
        assert "expected NAME=VALUE" in _one_line(capsys.readouterr().err)
    assert fake.violations == []


def test_list_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server() as fake:
        assert argo(fake, "list") == 0  # Argo answers items: null for an empty namespace
        assert capsys.readouterr().out == "no workflows in this namespace\n"
        done = _workflow(fake, capsys)
        assert submit(fake, "--no-wait") == 0
        pending = capsys.readouterr().out.split()[0]
        assert argo(fake, "list") == 0
        text = capsys.readouterr().out
        assert argo(fake, "list", "--format", "json") == 0
        rows = json.loads(capsys.readouterr().out)
    assert fake.violations == []
    assert text.split("\n")[0].split() == ["NAME", "PHASE", "STARTED", "DURATION"]
    assert f"{done}  Succeeded  2026-01-05 09:00:00  2m00s" in " ".join(text.split("\n"))
    assert {r["name"]: (r["phase"], r["duration"]) for r in rows} == {
        done: ("Succeeded", 120.0), pending: ("Pending", None)}


def test_fnv32a_is_argos_pod_name_hash() -> None:
    assert (fnv32a("hello"), fnv32a("world")) == (1335831723, 933488787)  # Argo UI's vectors


def test_logs_of_every_attempt_or_of_one_step(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeArgo(script=Script(phases={"merge": "Failed", "publish": "Omitted"},
                                  workflow_phase="Failed"))
    with argo_server(fake):
        name = _workflow(fake, capsys)
        assert argo(fake, "logs", name) == 0
        every = capsys.readouterr().out
        assert argo(fake, "logs", name, "merge") == 0
        merge = capsys.readouterr().out
        assert argo(fake, "logs", name, "fetch-orders") == 0
        one = capsys.readouterr().out
        assert argo(fake, "logs", name, "nope") == 2
        unknown = _one_line(capsys.readouterr().err)
    assert fake.violations == []
    assert f"==> merge (attempt 2, pod {name}-" in every
    assert "==> fetch-orders (attempt 1, pod" in every and "publish" not in every
    assert merge.splitlines() == [
        line for line in merge.splitlines() if line.startswith(("==> merge", "merge("))]
    assert one == "fetch-orders(0): starting\nfetch-orders(0): Succeeded\n"  # one pod: no header
    assert unknown.startswith(f"flowspec: workflow '{name}' has no step 'nope' that ran a pod; "
                              "its steps: fetch-orders, ")


def test_logs_of_deleted_pods_exit_1_and_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server() as fake:
        name = _workflow(fake, capsys)
        workflow = fake.objects[("workflows", "batch", name)]
        gone = next(pod for pod, node in fake.pods(workflow).items()
                    if node["displayName"].startswith("merge"))
        fake.gone_pods.add(gone)
        assert argo(fake, "logs", name) == 1
    out, err = capsys.readouterr()
    assert _one_line(err) == (f"flowspec: no logs of merge (attempt 1): {gone}: pods "
                              f'"{gone}" not found')
    assert "fetch-orders(0): Succeeded" in out


@pytest.mark.parametrize("action", ["stop", "terminate"])
def test_stop_and_terminate(action: str, capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server(FakeArgo(script=Script(running_polls=None))) as fake:
        assert submit(fake, "--timeout", "0.05") == 2
        name = capsys.readouterr().out.split()[0]
        # each read advances the fake one stage: read until it runs, however slow the machine
        conn = connect(fake.url, "batch")
        for _ in range(5):
            if get(conn, name).phase == "Running":
                break
        assert argo(fake, action, name) == 0
        out, err = capsys.readouterr()
        assert out == f"{name} Running\n"
        assert f"requested for workflow {name} in namespace batch; it is Running" in err
        fake.script.running_polls = 0
        assert main(["watch", name, "--server", fake.url, "-n", "batch"]) == 0
        capsys.readouterr()
        assert argo(fake, action, name) == 2
    assert fake.violations == []
    put = next(r for r in fake.requests if r["method"] == "PUT")
    assert (put["path"], put["body"]) == (f"/api/v1/workflows/batch/{name}/{action}",
                                          {"name": name, "namespace": "batch"})
    assert fake.objects[("workflows", "batch", name)]["spec"]["shutdown"] == action.title()
    assert _one_line(capsys.readouterr().err).endswith(
        "cannot shutdown a completed workflow`")


def test_retry_a_failed_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeArgo(script=Script(phases={"merge": "Failed"}, workflow_phase="Failed"))
    with argo_server(fake):
        name = _workflow(fake, capsys)
        assert argo(fake, "retry", name) == 0
        assert capsys.readouterr().out == f"{name} Running\n"
        assert main(["watch", name, "--server", fake.url, "-n", "batch", "--poll", "0.01"]) == 0
        capsys.readouterr()
        assert argo(fake, "retry", name) == 2  # it Succeeded now
    assert fake.violations == []
    assert _one_line(capsys.readouterr().err) == (
        f"flowspec: the Argo Server answered an error while retrying workflow '{name}': Server "
        "returned status code 400 with message: `workflow must be Failed/Error to retry`")


@pytest.mark.parametrize("command", [["list"], ["logs", "x"], ["stop", "x"],
                                     ["terminate", "x"], ["retry", "x"]])
def test_each_command_reports_server_problems_in_one_line(
        command: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server(FakeArgo(mode="not-argo-404")) as other:
        assert argo(other, *command) == 2
        assert _one_line(capsys.readouterr().err) == (
            f"flowspec: {other.url}/ is not an Argo Server: {other.url}/api/v1/workflows/batch"
            f"{'/x' if command != ['list'] else ''}"
            f"{'/' + command[0] if command[0] in ('stop', 'terminate', 'retry') else ''} "
            "answered 404 with a page that is not Argo's; check --server (or ARGO_SERVER and "
            "ARGO_BASE_HREF)")
    with argo_server() as fake:
        if command != ["list"]:
            assert argo(fake, *command) == 2
            assert _one_line(capsys.readouterr().err).startswith(
                "flowspec: 'x' was not found in namespace 'batch' (404) while ")
        monkeypatch.setenv("ARGO_TOKEN", "wrong")
        assert argo(fake, *command) == 2
        assert "(401 Unauthorized)" in _one_line(capsys.readouterr().err)
    assert main(["argo", *command, "-n", "batch"]) == 2
    assert _one_line(capsys.readouterr().err) == (
        "flowspec: no Argo Server: pass --server URL or set ARGO_SERVER")


def test_a_url_missing_the_proxy_prefix_is_not_an_argo_server(
        capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server(prefix="/argo") as fake:
        base = fake.url.removesuffix("/argo")
        assert main(["watch", "wf", "--server", base, "-n", "batch"]) == 2
    assert _one_line(capsys.readouterr().err) == (
        f"flowspec: {base}/ is not an Argo Server: {base}/api/v1/workflows/batch/wf answered "
        "404 with a page that is not Argo's; check --server (or ARGO_SERVER and "
        "ARGO_BASE_HREF)")
