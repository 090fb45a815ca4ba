"""LLM extraction with the real openai client against a chat-completions server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engine.processors import StepFailed, TransientError
from processors.chargeback.llm import LlmSettings, extract_with_llm
from processors.chargeback.text_extract import EXTRACTION_SCHEMA, extract_text

API_KEY = "sk-test-0123456789abcdef"
SAMPLE = Path(__file__).resolve().parents[2] / "specs/samples/cb_intake_freetext_claim.txt"


@dataclass
class Script:
    """What the fake server answers next, and what it was asked."""

    status: int = 200
    body: Any = None
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)


def completion(
    content: str | None, *, finish: str = "stop", refusal: str | None = None
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            script.requests.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                    "json": json.loads(self.rfile.read(length)),
                }
            )
            if script.delay:
                time.sleep(script.delay)
            payload = (
                script.body if isinstance(script.body, bytes) else json.dumps(script.body).encode()
            )
            try:
                self.send_response(script.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    finally:
        httpd.shutdown()
        httpd.server_close()


def settings(base_url: str, **kw: Any) -> LlmSettings:
    return LlmSettings(base_url=base_url, timeout=5.0, max_retries=0, **kw)


def good_raw() -> dict[str, Any]:
    return extract_text(SAMPLE.read_text())


def test_valid_reply_and_the_request_it_answers(server: tuple[str, Script]) -> None:
    url, script = server
    script.body = completion(json.dumps(good_raw()))
    result = extract_with_llm(
        "claim text", api_key=API_KEY, settings=settings(url, model="my-model")
    )
    assert result.raw == good_raw()
    assert result.model == "gpt-4o-mini-2024-07-18"
    (request,) = script.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == f"Bearer {API_KEY}"
    sent = request["json"]
    assert sent["model"] == "my-model" and sent["temperature"] == 0
    assert sent["messages"][-1] == {"role": "user", "content": "claim text"}
    fmt = sent["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == EXTRACTION_SCHEMA


def _fails(url: str, error: type[Exception], message: str) -> str:
    """The call fails with exactly ``error`` (a permanent failure must not look transient)."""
    with pytest.raises(error, match=message) as caught:
        extract_with_llm("claim text", api_key=API_KEY, settings=settings(url))
    assert type(caught.value) is error
    text = str(caught.value)
    assert API_KEY not in text
    return text


def test_malformed_json_reply(server: tuple[str, Script]) -> None:
    url, script = server
    script.body = completion('{"debit_memo": "DM1", "lines": [')
    _fails(url, StepFailed, r"not valid JSON \(Expecting value at character 32\)")


def test_reply_off_schema(server: tuple[str, Script]) -> None:
    url, script = server
    raw = good_raw()
    raw["lines"][1]["quantity"] = 4
    del raw["currency"]
    script.body = completion(json.dumps(raw))
    text = _fails(url, StepFailed, "does not match the claim schema: ")
    assert "(top level): 'currency' is a required property" in text
    assert "(and 1 more)" in text


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (completion(None, refusal="I cannot help with that"), "model refused .* I cannot help"),
        (completion('{"debit', finish="length"), "cut off"),
        (completion(""), "reply is empty"),
        ({**completion("{}"), "choices": []}, "no choices"),
    ],
)
def test_unusable_replies(server: tuple[str, Script], reply: dict[str, Any], message: str) -> None:
    url, script = server
    script.body = reply
    _fails(url, StepFailed, message)


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (429, TransientError, "HTTP 429: slow down"),
        (500, TransientError, "HTTP 500"),
        (503, TransientError, "HTTP 503"),
        (401, StepFailed, r"rejected the API key \(HTTP 401\); check OPENAI_API_KEY"),
        (400, StepFailed, r"refused the request \(HTTP 400\)"),
    ],
)
def test_http_errors(
    server: tuple[str, Script], status: int, error: type[Exception], message: str
) -> None:
    url, script = server
    script.status = status
    # a hostile or careless server echoing the key must not get it into our messages
    script.body = {"error": {"message": f"slow down, key {API_KEY}", "type": "x", "code": None}}
    text = _fails(url, error, message)
    if status != 401:
        assert "***" in text


def test_timeout_is_transient(server: tuple[str, Script]) -> None:
    url, script = server
    script.delay = 1.0
    script.body = completion(json.dumps(good_raw()))
    with pytest.raises(TransientError, match=r"timed out after 0.2s"):
        extract_with_llm("claim", api_key=API_KEY, settings=LlmSettings(base_url=url, timeout=0.2))


def test_unreachable_server_is_transient() -> None:
    # a port nobody listens on: bind one, close it, use it
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientError, match="cannot reach the LLM service"):
        extract_with_llm("claim", api_key=API_KEY, settings=settings(f"http://127.0.0.1:{port}/v1"))


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"<html>gateway</html>", "not a chat completion"), ({"unexpected": True}, "no choices")],
)
def test_not_a_completion(server: tuple[str, Script], body: Any, message: str) -> None:
    url, script = server
    script.body = body
    _fails(url, StepFailed, message)


def test_guards_before_any_request() -> None:
    with pytest.raises(StepFailed, match="needs OPENAI_API_KEY"):
        extract_with_llm("claim", api_key="", settings=LlmSettings())
    with pytest.raises(StepFailed, match="more than the 10 sent to the LLM"):
        extract_with_llm("x" * 11, api_key=API_KEY, settings=LlmSettings(max_input_chars=10))
