"""Free-text claim extraction through an OpenAI-compatible chat-completions API.

The model only transcribes: it returns the raw strings of :data:`EXTRACTION_SCHEMA` (strict
structured output), and :func:`~processors.chargeback.text_extract.build_claim` interprets
them exactly as it does for the offline extractor. The reply is validated against the schema
again here, because a compatible server may ignore ``response_format``.

Failures map onto the engine's retry classes: a timeout, a connection failure, 408/409/429
and 5xx are :class:`TransientError` (worth retrying); a rejected key, a bad request, a refusal,
a truncated, non-JSON or off-schema reply are :class:`StepFailed`. The API key never appears in
an error message: every text that leaves this module passes :func:`_redact`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from engine.processors import StepFailed, TransientError
from engine.secrets import Redactor
from processors.chargeback.text_extract import EXTRACTION_SCHEMA, iter_schema_errors

if TYPE_CHECKING:  # openai costs ~0.5 s to import: only the LLM path pays for it
    import openai

DEFAULT_MODEL = "gpt-4o-mini"

SYSTEM_PROMPT = """\
You transcribe US pharmaceutical chargeback claims (wholesaler debit memos) into JSON.
Copy values exactly as written; do not compute, correct or guess anything.
- Amounts and prices: the text as written, e.g. "$1,183.25" or "(271.25)".
- Dates: as written (for example 03/04/2024 or 2024-03-04).
- NDC: exactly as written, hyphens included; never add or remove digits.
- Identifiers: kind dea, hin, gln, npi or 340b when the document labels them so, otherwise
  custom; value exactly as written even if it looks wrong.
- distributor = the wholesaler/distribution center sending the claim; manufacturer = the
  party it is addressed to; each line's customer = the end customer (ship-to) it was sold to.
- original_debit_memo only when the document says it replaces or corrects an earlier one.
- Use null for anything the document does not state.
One entry in lines per claimed product line, in document order."""


@dataclasses.dataclass(frozen=True)
class LlmSettings:
    model: str = DEFAULT_MODEL
    timeout: float = 60.0
    max_retries: int = 0  # the engine's retry policy owns retries; set >0 to retry inside the step
    base_url: str | None = None
    max_input_chars: int = 100_000


@dataclasses.dataclass(frozen=True)
class LlmExtraction:
    """The raw extraction plus the model that actually answered (for the audit trail)."""

    raw: dict[str, Any]
    model: str


def _redact(text: str, secret: str) -> str:
    """The engine's masking, so a key reads the same masked here as in the run's store."""
    return Redactor([secret] if secret else []).scrub(text)


def _status_error(exc: openai.APIStatusError, api_key: str) -> StepFailed:
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    detail = _redact(str(message or exc.message), api_key)[:300]
    status = exc.status_code
    if status in (401, 403):
        return StepFailed(
            f"the LLM service rejected the API key (HTTP {status}); check OPENAI_API_KEY"
        )
    if status in (408, 409, 429) or status >= 500:
        return TransientError(f"the LLM service answered HTTP {status}: {detail}")
    return StepFailed(f"the LLM service refused the request (HTTP {status}): {detail}")


def extract_with_llm(text: str, *, api_key: str, settings: LlmSettings) -> LlmExtraction:
    """Send the claim text to the model and return its validated raw extraction."""
    if not api_key:
        raise StepFailed("LLM extraction needs OPENAI_API_KEY in the step's environment")
    if len(text) > settings.max_input_chars:
        raise StepFailed(
            f"the document has {len(text)} characters, more than the {settings.max_input_chars} "
            "sent to the LLM; split it or use mode: offline"
        )
    import openai

    client = openai.OpenAI(
        api_key=api_key,
        base_url=settings.base_url,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )
    try:
        completion = client.chat.completions.create(
            model=settings.model,
            temperature=0,
            messages=[
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": text},
            ],
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "chargeback_claim",
                    "strict": True,
                    "schema": EXTRACTION_SCHEMA,
                },
            },
        )
    except openai.APITimeoutError:
        raise TransientError(
            f"the LLM request timed out after {settings.timeout:g}s (model {settings.model})"
        ) from None
    except openai.APIConnectionError as exc:
        raise TransientError(
            f"cannot reach the LLM service: {_redact(str(exc), api_key)}"
        ) from None
    except openai.APIStatusError as exc:
        raise _status_error(exc, api_key) from None
    except (openai.APIResponseValidationError, json.JSONDecodeError):
        raise StepFailed("the LLM service sent a response that is not a chat completion") from None
    finally:
        client.close()
    return LlmExtraction(_reply(completion), getattr(completion, "model", None) or settings.model)


def _reply(completion: Any) -> dict[str, Any]:
    if not getattr(completion, "choices", None):
        raise StepFailed("the LLM reply has no choices")
    choice = completion.choices[0]
    message = choice.message
    if getattr(message, "refusal", None):
        raise StepFailed(f"the model refused to extract the claim: {str(message.refusal)[:300]}")
    if choice.finish_reason == "length":
        raise StepFailed("the LLM reply was cut off (token limit); split the document")
    if not message.content:
        raise StepFailed("the LLM reply is empty")
    try:
        raw = json.loads(message.content)
    except json.JSONDecodeError as exc:
        raise StepFailed(
            f"the LLM reply is not valid JSON ({exc.msg} at character {exc.pos})"
        ) from None
    errors = list(iter_schema_errors(raw))
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise StepFailed(f"the LLM reply does not match the claim schema: {errors[0]}{more}")
    assert isinstance(raw, dict)
    return raw
