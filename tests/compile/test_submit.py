"""``flowspec submit`` and ``flowspec watch`` against a local, contract-checking Argo Server.

The server validates every request body against Argo's OpenAPI document and answers with
realistic Workflow documents (see argo_server.py); each failure mode must end in exactly one
clear line on stderr and exit code 2.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import main

from .argo_server import FakeArgo, Script, argo_server, unused_port
from .conftest import REPO

SPEC = REPO / "specs" / "examples" / "retries.yaml"
TOKEN = "sekret-token"


@pytest.fixture(autouse=True)
def _argo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARGO_SERVER", "ARGO_NAMESPACE", "ARGO_SECURE", "ARGO_BASE_HREF",
                 "ARGO_INSECURE_SKIP_VERIFY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARGO_TOKEN", TOKEN)


def submit(fake: FakeArgo, *extra: str, spec: Path = SPEC) -> int:
    return main(["submit", str(spec), "--server", fake.url, "--namespace", "batch",
                 "--poll", "0.01", *extra])


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_submit_creates_then_follows_to_success(capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server() as fake:
        assert submit(fake) == 0
    out, err = capsys.readouterr()
    assert fake.violations == []
    create, *gets = fake.requests
    assert (create["method"], create["path"]) == ("POST", "/api/v1/workflows/batch")
    assert {r["authorization"] for r in fake.requests} == {f"Bearer {TOKEN}"}
    workflow = create["body"]["workflow"]
    assert workflow["metadata"]["generateName"] == "nightly-ingest-"
    assert workflow["metadata"]["namespace"] == "batch"
    assert [g["path"] for g in gets] == [f"/api/v1/workflows/batch/{out.splitlines()[0]}"] * 3
    name = out.splitlines()[0]
    assert name.startswith("nightly-ingest-") and "Succeeded" in out
    for step in ("fetch-orders", "fetch-refunds", "fetch-partner-feed", "merge", "publish"):
        assert step in out
    assert f"created Workflow {name} in namespace batch" in err
    assert f"{name}: Succeeded" in err  # the plain progress lines (stderr is not a terminal)


def test_a_failed_workflow_exits_1_with_its_failed_steps(
        capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeArgo(script=Script(phases={"merge": "Failed", "publish": "Omitted"},
                                  workflow_phase="Failed", message="child 'merge' failed"))
    with argo_server(fake):
        assert submit(fake) == 1
    out, err = capsys.readouterr()
    assert fake.violations == []
    merge_row = next(line for line in out.splitlines() if "merge" in line)
    assert "Failed" in merge_row and "2" in merge_row  # two attempts of the Retry node
    assert "child 'merge' failed" in err


def test_watch_follows_an_existing_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server() as fake:
        assert submit(fake, "--no-wait") == 0
        name = capsys.readouterr().out.strip()
        assert main(["watch", name, "--server", fake.url, "-n", "batch", "--poll", "0.01"]) == 0
        assert "Succeeded" in capsys.readouterr().out
        assert main(["watch", "missing", "--server", fake.url, "-n", "batch"]) == 2
    assert _one_line(capsys.readouterr().err) == (
        "flowspec: 'missing' was not found in namespace 'batch' (404) while reading workflow "
        "'missing'")


def test_a_server_url_with_a_path_prefix_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server(prefix="/argo") as fake:
        assert submit(fake) == 0
    assert fake.violations == [] and fake.requests[0]["path"] == "/argo/api/v1/workflows/batch"


def test_templates_and_cron_workflows_are_created_not_followed(
        capsys: pytest.CaptureFixture[str]) -> None:
    cron = REPO / "tests" / "compile" / "specs" / "nightly.yaml"
    with argo_server() as fake:
        assert submit(fake, "--kind", "WorkflowTemplate") == 0
        assert submit(fake, "--kind", "CronWorkflow", spec=cron) == 0
    assert fake.violations == []
    assert [r["path"] for r in fake.requests] == ["/api/v1/workflow-templates/batch",
                                                  "/api/v1/cron-workflows/batch"]
    assert capsys.readouterr().out.split() == ["nightly-ingest", "nightly-sync"]


def test_name_clash_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server() as fake:
        assert submit(fake, "--kind", "WorkflowTemplate") == 0
        capsys.readouterr()
        assert submit(fake, "--kind", "WorkflowTemplate") == 2
    assert _one_line(capsys.readouterr().err) == (
        "flowspec: 'nightly-ingest' already exists in namespace 'batch' (409 Conflict); "
        "pass --update to update it in place, or rename the spec")


@pytest.mark.parametrize(("mode", "token", "expected"), [
    ("ok", "wrong", ("refused the credentials (401 Unauthorized) while creating the Workflow; "
                    "set ARGO_TOKEN to a valid bearer token")),
    ("forbidden", TOKEN, ("not allowed (403 Forbidden) creating the Workflow in namespace "
                         "'batch'")),
    ("garbage", TOKEN, "did not answer like an Argo Server while creating the Workflow"),
    ("garbage-json", TOKEN, "did not answer like an Argo Server while creating the Workflow"),
    ("error-without-message", TOKEN, "did not answer like an Argo Server while creating"),
])
def test_server_failures_are_one_line_and_exit_2(
        mode: str, token: str, expected: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ARGO_TOKEN", token)
    with argo_server(FakeArgo(mode=mode)) as fake:
        assert submit(fake) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("flowspec: ") and expected in line
    assert token not in line and TOKEN not in line


def test_unreachable_and_silent_servers(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeArgo()
    fake.url = f"http://127.0.0.1:{unused_port()}"
    assert submit(fake) == 2
    assert "cannot reach the Argo Server at http://127.0.0.1:" in \
        _one_line(capsys.readouterr().err)
    with argo_server(FakeArgo(mode="hang")) as silent:
        assert submit(silent, "--request-timeout", "0.3") == 2
    assert _one_line(capsys.readouterr().err).endswith(
        "did not answer within 0.3s while creating the Workflow")


def test_losing_the_workflow_while_following_names_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeArgo(script=Script(running_polls=None))
    with argo_server(fake):
        assert submit(fake, "--timeout", "0.05") == 2
    out, err = capsys.readouterr()
    name = out.split()[0]
    assert f"workflow '{name}' is still Running after 0.05s" in err
    assert f"check it with: flowspec watch {name}" in err


def test_missing_settings_and_required_params(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", str(SPEC), "--namespace", "x"]) == 2
    assert _one_line(capsys.readouterr().err) == (
        "flowspec: no Argo Server: pass --server URL or set ARGO_SERVER")
    assert main(["watch", "x", "--server", "http://127.0.0.1:1"]) == 2
    assert "no namespace" in _one_line(capsys.readouterr().err)
    with argo_server() as fake:
        assert submit(fake, spec=REPO / "specs" / "chargeback.yaml") == 1
        assert fake.requests == []  # nothing is created without every required value
    assert "param 'document' is required and has no value [FS802]" in capsys.readouterr().err


def _self_signed(tmp: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "argo-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def test_tls_is_verified_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert, key = _self_signed(tmp_path)
    with argo_server(tls=(cert, key)) as fake:
        assert submit(fake, "--no-wait") == 2
        assert "TLS verification of https://127.0.0.1:" in _one_line(capsys.readouterr().err)
        assert submit(fake, "--no-wait", "--ca-cert", cert) == 0
        assert submit(fake, "--no-wait", "--insecure") == 0
    assert len(fake.requests) == 2 and fake.violations == []


def test_argo_cli_environment_is_understood(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server(prefix="/argo") as fake:
        host = fake.url.removeprefix("http://").removesuffix("/argo")
        for name, value in (("ARGO_SERVER", host), ("ARGO_SECURE", "false"),
                            ("ARGO_BASE_HREF", "/argo/"), ("ARGO_NAMESPACE", "team")):
            monkeypatch.setenv(name, value)
        assert main(["submit", str(SPEC), "--no-wait"]) == 0
    assert fake.requests[0]["path"] == "/argo/api/v1/workflows/team"


def _created(fake: FakeArgo) -> dict[str, Any]:
    return fake.requests[0]["body"]["workflow"]


def test_the_body_sent_is_the_compiled_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    from engine.compile import build
    from engine.validation import load_spec_file

    with argo_server() as fake:
        assert submit(fake, "--no-wait") == 0
    sent = _created(fake)
    compiled = build(load_spec_file(SPEC)).manifest
    assert sent["spec"] == compiled["spec"]
    assert sent["metadata"] == {**compiled["metadata"], "namespace": "batch"}


def test_submit_image_flag_reaches_every_step_container(capsys: pytest.CaptureFixture[str]) -> None:
    with argo_server() as fake:
        assert submit(fake, "--no-wait", "--image", "registry.local/flowspec:abc") == 0
    capsys.readouterr()
    templates = fake.requests[0]["body"]["workflow"]["spec"]["templates"]
    assert {t["container"]["image"] for t in templates if "container" in t} == {
        "registry.local/flowspec:abc"}


def test_submit_argo_version_sends_what_that_line_can_hold(
        capsys: pytest.CaptureFixture[str]) -> None:
    from engine.compile import build
    from engine.compile.versions import target
    from engine.validation import load_spec_file

    with argo_server() as fake:
        assert submit(fake, "--no-wait", "--argo-version", "3.6") == 0
    capsys.readouterr()
    sent = _created(fake)
    assert sent["spec"] == build(load_spec_file(SPEC), argo=target("3.6")).manifest["spec"]
    assert not any("cap" in t.get("retryStrategy", {}).get("backoff", {})
                   for t in sent["spec"]["templates"])
