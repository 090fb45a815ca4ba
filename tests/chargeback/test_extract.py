"""The extract-identifiers processor end to end: documents in, outputs + claim + findings out."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from engine.processors import StepContext, StepFailed, StepResult, resolve
from processors.chargeback.claim import Claim, decode_findings
from processors.chargeback.claim_store import load_claim
from processors.chargeback.extract import ExtractIdentifiers
from processors.chargeback.text_extract import extract_text

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "specs/samples"
EXAMPLE = SAMPLES / "844_example.edi"


def context(document: Any, tmp_path: Path, env: dict[str, str] | None = None) -> StepContext:
    return StepContext(
        run_id="r1",
        workflow="chargeback",
        step="extract-identifiers",
        attempt=1,
        params={"document": document},
        env=env or {},
        upstream={},
        workdir=tmp_path,
        database_url=_store(tmp_path),
    )


def _store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def _claim(result: StepResult, tmp_path: Path) -> Claim:
    """The claim the step stored, by the reference it published."""
    return load_claim(_store(tmp_path), result.data["claim_ref"])


def run(document: Any, tmp_path: Path, config: dict[str, Any] | None = None, **kw: Any):  # type: ignore[no-untyped-def]
    cfg = config or {}
    jsonschema.validate(cfg, ExtractIdentifiers.config_schema)
    return ExtractIdentifiers(cfg).process(context(document, tmp_path, **kw))


@pytest.fixture(autouse=True)
def no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The step must decide from its own env, not from whoever runs the tests."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def test_registered_under_its_workflow_name() -> None:
    assert resolve("chargeback.extract-identifiers") is ExtractIdentifiers


def test_example_844(tmp_path: Path) -> None:
    result = run(str(EXAMPLE), tmp_path)
    assert result.outputs == {
        "format": "x12-844",
        "debit_memo": "DM0315240012",
        "line_count": 4,
        "customer_count": 2,
        "invalid_identifier_count": 0,
        "issue_count": 0,
        "rejected_line_count": 0,
    }
    assert set(result.outputs) == set(ExtractIdentifiers.outputs)
    wire = json.loads(json.dumps(result.data))  # what the store keeps
    assert set(wire) == {"claim_ref", "step_version", "findings"}
    assert wire["step_version"] == "x12-844"
    claim = _claim(result, tmp_path)
    assert (
        claim.lines[2].contract_price is not None and str(claim.lines[2].contract_price) == "80.00"
    )
    assert wire["findings"] == []


def test_bad_check_digits_become_findings_not_failures(tmp_path: Path) -> None:
    result = run(str(SAMPLES / "cb_intake_bad_check_digits.edi"), tmp_path)
    assert result.outputs["invalid_identifier_count"] == 6
    findings = list(decode_findings(result.data["findings"]))
    verdicts = [(f.line, f.rule, f.outcome, f.code) for f in findings]
    assert verdicts == [
        (1, "R04", "pass", None),  # bad DEA, good HIN: warning only
        (2, "R04", "reject", "26"),  # every id fails
        (3, "R04", "pass", None),
        (4, "R04", "reject", "26"),
    ]
    assert "DEA BS4182302: DEA check digit is 2, expected 1" in findings[0].message
    assert result.outputs["rejected_line_count"] == 2


def test_missing_fields_and_ndc_layouts(tmp_path: Path) -> None:
    missing = run(str(SAMPLES / "cb_intake_missing_fields.edi"), tmp_path)
    verdicts = [(f.line, f.rule, f.outcome, f.code) for f in decode_findings(missing.data["findings"])]
    assert verdicts == [
        (0, "R13", "pass", None),
        (1, "R02", "reject", "15"),
        (2, "R15", "reject", "27"),
        (3, "R02", "reject", "15"),
        (3, "R02", "reject", "15"),
        (4, "R02", "reject", "15"),
    ]
    assert missing.outputs["rejected_line_count"] == 4
    ndc = run(str(SAMPLES / "cb_intake_ndc_layouts.edi"), tmp_path)
    assert [(f.line, f.rule, f.code) for f in decode_findings(ndc.data["findings"])] == [
        (6, "R03", "14"),
        (7, "R03", "14"),
        (8, "R03", "14"),
    ]


def test_free_text_offline_and_pdf(tmp_path: Path) -> None:
    text = run(str(SAMPLES / "cb_intake_freetext_claim.txt"), tmp_path)
    assert text.outputs["format"] == "text" and text.outputs["line_count"] == 4
    assert _claim(text, tmp_path).extractor == "offline"
    pytest.importorskip("pypdf")
    pdf = run(str(SAMPLES / "cb_intake_freetext_claim.pdf"), tmp_path, {"mode": "offline"})
    assert pdf.outputs == {**text.outputs, "format": "pdf"}
    assert pdf.data["findings"] == text.data["findings"]


def test_relative_document_resolves_against_workdir(tmp_path: Path) -> None:
    (tmp_path / "claim.edi").write_bytes(EXAMPLE.read_bytes())
    assert run("claim.edi", tmp_path).outputs["line_count"] == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            EXAMPLE.read_text().replace("SE*68*", "SE*60*"),
            r"bad\.edi: segment 70 \(SE\): segment count 60",
        ),
        (b"\x00\x01binary", "binary but not a PDF"),
        (b"hello, nothing to claim here\n", "no claim lines found"),
    ],
)
def test_unreadable_documents_fail_the_step(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "bad.edi"
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    with pytest.raises(StepFailed, match=message):
        run(str(path), tmp_path, {"mode": "offline"})


def test_damaged_pdf_fails_the_step(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    path = tmp_path / "claim.pdf"
    path.write_bytes(b"%PDF-1.4\nbroken")
    with pytest.raises(StepFailed, match=r"claim\.pdf: the PDF cannot be read"):
        run(str(path), tmp_path)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (None, "param 'document' must name the claim file"),
        ("  ", "param 'document' must name the claim file"),
        ("/nonexistent/claim.edi", "does not exist"),
    ],
)
def test_document_param_problems(tmp_path: Path, document: Any, message: str) -> None:
    with pytest.raises(StepFailed, match=message):
        run(document, tmp_path)


def test_llm_mode_needs_a_key(tmp_path: Path) -> None:
    with pytest.raises(StepFailed, match="needs OPENAI_API_KEY"):
        run(str(SAMPLES / "cb_intake_freetext_claim.txt"), tmp_path, {"mode": "llm"})


@pytest.mark.parametrize(
    "config",
    [
        {"mode": "sometimes"},
        {"model": ""},
        {"timeout": 0},
        {"colour": "red"},
        {"id340b_prefixes": []},
    ],
)
def test_config_schema_rejects(config: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, ExtractIdentifiers.config_schema)


@pytest.fixture
def llm_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A chat-completions server that transcribes the sample claim, as a model would."""
    seen: list[dict[str, Any]] = []
    raw = extract_text((SAMPLES / "cb_intake_freetext_claim.txt").read_text())
    body = json.dumps(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(raw)},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append({"auth": self.headers.get("Authorization"), "path": self.path})
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_auto_mode_uses_the_llm_when_a_key_is_set(
    tmp_path: Path, llm_server: tuple[str, list[dict[str, Any]]]
) -> None:
    url, seen = llm_server
    env = {"OPENAI_API_KEY": "sk-step-secret", "OPENAI_BASE_URL": url}
    document = str(SAMPLES / "cb_intake_freetext_claim.txt")
    result = run(document, tmp_path, {"model": "gpt-4o-mini", "timeout": 5}, env=env)
    assert seen == [{"auth": "Bearer sk-step-secret", "path": "/v1/chat/completions"}]
    claim = _claim(result, tmp_path)
    assert claim.extractor == "llm:gpt-4o-mini-2024-07-18"
    offline = run(document, tmp_path, {"mode": "offline"}, env=env)
    assert result.outputs == offline.outputs
    assert result.data["findings"] == offline.data["findings"]
    assert "sk-step-secret" not in json.dumps(result.data)
    # an 844 never goes to the model, whatever the mode
    assert run(str(EXAMPLE), tmp_path, {"mode": "llm"}, env=env).outputs["format"] == "x12-844"
    assert len(seen) == 1


def test_a_key_in_the_process_env_but_not_the_steps_is_not_used(
    tmp_path: Path, llm_server: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step sees only the env it declares: an OpenAI key (and endpoint) in the environment
    of whoever runs flowspec, which the spec does not hand the step, sends nothing anywhere."""
    url, seen = llm_server
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ambient")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    result = run(str(SAMPLES / "cb_intake_freetext_claim.txt"), tmp_path, {"mode": "auto"})
    assert seen == []
    assert _claim(result, tmp_path).extractor == "offline"
