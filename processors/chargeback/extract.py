"""``chargeback.extract-identifiers``: read the claim document into the claim model.

The first step of the chargeback workflow. It reads the document named by the ``document``
param (an X12 844 when it starts with ``ISA``, a PDF when it starts with ``%PDF``, otherwise
text), checks every identifier and NDC it finds, stores the claim once in the chargeback database and
hands on a reference to it (``processors.chargeback.claim_store``) with its findings:
``data={"claim_ref": {...}, "step_version": how it was read, "findings": [...]}``.

Bad identifiers, bad NDCs and missing fields do not fail the step: they are recorded on the
claim and reported as findings of the intake rules, so the lines concerned can be rejected
while the rest of the debit memo is paid. The step fails only when the document cannot be read
as a claim at all (R01), with the reason and position in the message.

Intake findings (rule ids as in brief §8; one per line and rule, problems only):
R02 missing mandatory field -> reject 15; R03 NDC not normalisable -> reject 14 (the product
master check of R03 is the reference-data step's); R04 customer identifiers: all fail -> reject
26 (unless one is a DEA failing only its check digit: federal-db-validation asks the DEA
registrant data, brief §9.10), some fail -> pass with a warning; R15 unparseable date -> reject
27. Debit-memo level problems with a code use line 0.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from engine.processors import StepContext, StepFailed, StepResult
from processors.chargeback import rules
from processors.chargeback.claim import Claim, ClaimFormat, Finding, Issue
from processors.chargeback.claim_store import REF_KEY, store_claim
from processors.chargeback.dea_identity import deferred_deas
from processors.chargeback.edi import ClaimFormatError, parse_844
from processors.chargeback.identifiers import (
    DEA_REGISTRANT_TYPES,
    ID340B_PREFIXES,
    CheckOptions,
)
from processors.chargeback.llm import DEFAULT_MODEL, LlmSettings, extract_with_llm
from processors.chargeback.text_extract import (
    TextExtractionError,
    build_claim,
    extract_text,
    pdf_text,
)

_RULE_BY_CODE = {"15": rules.R02, "14": rules.R03, "27": rules.R15}
#: Notices without a reject code, by the rule whose subject they are.
_RULE_BY_FIELD = {"total_claimed": rules.R13, "original_debit_memo": rules.R05}


def _issue_finding(line: int, issue: Issue) -> Finding:
    if issue.code is None:
        rule = _RULE_BY_FIELD.get(issue.field, rules.R02)
        return Finding(line, rule, "pass", None, f"warning: {issue.message}")
    return Finding(line, _RULE_BY_CODE.get(issue.code, rules.R02), "reject", issue.code, issue.message)


def intake_findings(claim: Claim) -> list[Finding]:
    """The intake rules' verdicts, from what reading the document found (see module doc)."""
    findings = [_issue_finding(0, issue) for issue in claim.issues]
    for line in claim.lines:
        findings.extend(_issue_finding(line.line, issue) for issue in line.issues)
        customer = line.customer
        bad = [i for i in customer.identifiers if not i.valid] if customer else []
        if not bad:
            continue
        problems = "; ".join(f"{i.kind.upper()} {i.value}: {i.problem}" for i in bad)
        every_id_fails = customer is not None and len(bad) == len(customer.identifiers)
        if every_id_fails and not deferred_deas(line):
            message = f"no valid customer identifier ({problems})"
            findings.append(Finding(line.line, rules.R04, "reject", "26", message))
        else:  # §9.10: a DEA failing only its check digit is decided by the registrant data
            deferred = "; the DEA registrant data decides (federal-db-validation)"
            note = deferred if every_id_fails else ""
            findings.append(Finding(line.line, rules.R04, "pass", None, f"warning: {problems}{note}"))
    return findings


class ExtractIdentifiers:
    """Reads a chargeback claim (X12 844, text or PDF) and validates its identifiers."""

    #: the parsed claim is stored once in the run's database, and read from there
    uses_database: ClassVar[bool] = True
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {
                "enum": ["auto", "offline", "llm"],
                "default": "auto",
                "description": "How to read text/PDF claims: auto uses the LLM when "
                "OPENAI_API_KEY is set, else the offline extractor. 844 files are always "
                "parsed deterministically.",
            },
            "model": {"type": "string", "minLength": 1, "default": DEFAULT_MODEL},
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "default": 60,
                "description": "Seconds per LLM request.",
            },
            "max_retries": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "Retries inside the openai client (the step's retry policy "
                "also applies).",
            },
            "dea_registrant_types": {
                "type": "string",
                "pattern": "^[A-Z]+$",
                "description": "Allowed first letters of DEA numbers.",
            },
            "id340b_prefixes": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[A-Z0-9]+$"},
                "minItems": 1,
                "description": "Allowed 340B id entity-type prefixes.",
            },
        },
    }
    outputs: ClassVar[Mapping[str, str]] = {
        "format": "string",
        "debit_memo": "string",
        "line_count": "integer",
        "customer_count": "integer",
        "invalid_identifier_count": "integer",
        "issue_count": "integer",
        "rejected_line_count": "integer",
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)  # what it was built from (the seed's add_step)
        self.mode: str = config.get("mode", "auto")
        self.llm = LlmSettings(
            model=config.get("model", DEFAULT_MODEL),
            timeout=float(config.get("timeout", 60)),
            max_retries=int(config.get("max_retries", 0)),
        )
        self.options = CheckOptions(
            dea_registrant_types=frozenset(
                config.get("dea_registrant_types", DEA_REGISTRANT_TYPES)
            ),
            id340b_prefixes=tuple(config.get("id340b_prefixes", ID340B_PREFIXES)),
        )

    def process(self, context: StepContext) -> StepResult:
        path = _document_path(context)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StepFailed(f"cannot read the claim document {path}: {exc.strerror}") from None
        try:
            claim = self.read(data, context)
        except (ClaimFormatError, TextExtractionError) as exc:
            raise StepFailed(f"{path}: {exc}") from None
        findings = intake_findings(claim)
        rejected = {f.line for f in findings if f.outcome == "reject"}
        customers = claim.customers  # derived from every line: once
        identifiers = [
            i
            for party in (claim.distributor, claim.manufacturer, *customers)
            if party is not None
            for i in party.identifiers
        ]
        if not context.database_url:
            raise StepFailed(
                f"step {context.step!r} stores the claim for the steps after it; run with a "
                "database (flowspec run --db URL, or FLOWSPEC_DB)"
            )
        ref = store_claim(context.database_url, context.run_id, claim)
        return StepResult(
            outputs={
                "format": claim.format,
                "debit_memo": claim.debit_memo or "",
                "line_count": len(claim.lines),
                "customer_count": len(customers),
                "invalid_identifier_count": sum(not i.valid for i in identifiers),
                "issue_count": len(claim.issues) + sum(len(line.issues) for line in claim.lines),
                "rejected_line_count": len(claim.lines) if 0 in rejected else len(rejected),
            },
            data={
                REF_KEY: ref,
                # how the claim was read (x12-844, offline, llm:<model>): the trail's step version
                "step_version": claim.extractor,
                "findings": [f.to_row() for f in findings],
            },
        )

    def read(self, data: bytes, context: StepContext) -> Claim:
        """The claim in ``data``, by format sniffing; raises ClaimFormat/TextExtraction errors."""
        head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:4]
        if head.startswith(b"ISA"):
            return parse_844(data, options=self.options)
        digest = hashlib.sha256(data).hexdigest()
        fmt: ClaimFormat
        if head.startswith(b"%PDF"):
            fmt, text = "pdf", pdf_text(data)
        elif b"\x00" in data:
            raise TextExtractionError(
                "the document is binary but not a PDF; send an X12 844, a PDF or plain text"
            )
        else:
            fmt = "text"
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
        env = context.env  # the step's declared env only, never the whole process's
        api_key = env.get("OPENAI_API_KEY", "")
        use_llm = self.mode == "llm" or (self.mode == "auto" and bool(api_key))
        if not use_llm:
            raw, extractor = extract_text(text), "offline"
        else:
            settings = dataclasses.replace(self.llm, base_url=env.get("OPENAI_BASE_URL") or None)
            extraction = extract_with_llm(text, api_key=api_key, settings=settings)
            raw, extractor = extraction.raw, f"llm:{extraction.model}"
        return build_claim(
            raw, format=fmt, extractor=extractor, document_sha256=digest, options=self.options
        )


def _document_path(context: StepContext) -> Path:
    document = context.document
    if not isinstance(document, str) or not document.strip():
        raise StepFailed(
            "the workflow param 'document' must name the claim file (an 844, PDF or text file)"
        )
    path = Path(document).expanduser()
    if not path.is_absolute() and not path.exists():
        path = context.workdir / path
    if not path.is_file():
        raise StepFailed(f"the claim document {document} does not exist or is not a file")
    return path
