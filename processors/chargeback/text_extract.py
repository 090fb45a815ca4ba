"""Claims that arrive as free text or PDF: the extraction shape and the offline extractor.

Both extractors (this deterministic one and the LLM in ``llm.py``) produce the same raw
document, described by :data:`EXTRACTION_SCHEMA`: strings exactly as written, no
interpretation. :func:`build_claim` then does all interpretation in one place (money, dates,
NDC normalisation, identifier checks, missing-field issues), so a claim read by regex and one
read by a model are judged by identical rules.

The offline extractor understands what wholesalers' debit-memo letters and e-mails look like:
``Label: value`` header lines (debit memo, date, contract, total), party blocks introduced by
``From:``/``Distributor:``, ``To:``/``Manufacturer:`` and ``Customer:``/``Ship to:`` with
labelled identifiers (``DEA BS4182301``, ``HIN``, ``GLN``, ``NPI``, ``340B``) and a
``street, city, ST 12345`` address, and claim lines either as a table (``|``, tab or
2+-space separated, with at least NDC and Qty columns) or as prose lines mentioning ``NDC``.
A line belongs to the customer and contract named above it. Dates are US style (MM/DD/YYYY)
or ISO. Anything it cannot place is left empty and reported by ``build_claim``, never guessed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from processors.chargeback.claim import (
    Address,
    Claim,
    ClaimFormat,
    ClaimLine,
    Identifier,
    Issue,
    Party,
    summary_issues,
)
from processors.chargeback.identifiers import (
    DEFAULT_OPTIONS,
    CheckOptions,
    check_identifier,
    normalize_ndc,
)


class TextExtractionError(ValueError):
    """The document cannot be read as a claim at all; ``line`` is 1-based when known."""

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(f"line {line}: {reason}" if line is not None else reason)


# ---------------------------------------------------------------------------------------------
# The raw extraction shape (OpenAI strict structured-output compatible: every property
# required, no additional properties, absent values as null).

_TEXT: dict[str, Any] = {"type": ["string", "null"]}
_IDENTIFIER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "value"],
    "properties": {
        "kind": {"type": "string", "enum": ["dea", "hin", "gln", "npi", "340b", "custom"]},
        "value": {"type": "string"},
    },
}
_PARTY_FIELDS = ("name", "identifiers", "street", "city", "state", "postal_code")
_PARTY_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": False,
            "required": list(_PARTY_FIELDS),
            "properties": {
                "name": _TEXT,
                "identifiers": {"type": "array", "items": _IDENTIFIER_SCHEMA},
                "street": _TEXT,
                "city": _TEXT,
                "state": _TEXT,
                "postal_code": _TEXT,
            },
        },
        {"type": "null"},
    ]
}
LINE_FIELDS = (
    "line_id",
    "contract_id",
    "ndc",
    "description",
    "quantity",
    "unit",
    "wac",
    "contract_price",
    "claimed_amount",
    "invoice_number",
    "invoice_line",
    "invoice_date",
)
_LINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [*LINE_FIELDS, "customer"],
    "properties": {**{f: _TEXT for f in LINE_FIELDS}, "customer": _PARTY_SCHEMA},
}
_HEADER_FIELDS = ("debit_memo", "claim_date", "original_debit_memo", "currency", "total_claimed")
EXTRACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [*_HEADER_FIELDS, "distributor", "manufacturer", "lines"],
    "properties": {
        **{f: _TEXT for f in _HEADER_FIELDS},
        "distributor": _PARTY_SCHEMA,
        "manufacturer": _PARTY_SCHEMA,
        "lines": {"type": "array", "items": _LINE_SCHEMA},
    },
}


# ---------------------------------------------------------------------------------------------
# From raw strings to a Claim


def parse_money(text: str) -> Decimal:
    """``$1,183.25``, ``-425.00``, ``(425.00)`` (accounting negative); ValueError otherwise."""
    m = re.fullmatch(
        r"\(?\s*(-)?\s*\$?\s*(-)?\s*(\d{1,3}(?:,\d{3})+|\d*)(\.\d+)?\s*\)?", text.strip()
    )
    if m is None or not (m.group(3) or m.group(4)):
        raise ValueError(f"{text!r} is not an amount")
    negative = bool(m.group(1) or m.group(2)) or text.strip().startswith("(")
    value = Decimal((m.group(3) or "0").replace(",", "") + (m.group(4) or ""))
    return -value if negative else value


def parse_text_date(text: str) -> dt.date:
    """ISO ``2024-03-04``, US ``03/04/2024`` or ``3/4/2024``, X12 ``20240304``."""
    value = text.strip()
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d", "%m-%d-%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD or MM/DD/YYYY)")


class _Fields:
    """Parses the raw strings of one record, collecting an Issue per field that fails."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where
        self.issues: list[Issue] = []

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        return value.strip() or None if isinstance(value, str) else None

    def money(self, name: str, what: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_money(value)
        except ValueError:
            self.issues.append(Issue(name, "15", f"{self.where}: {what} {value!r} is not a number"))
            return None

    def quantity(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return Decimal(value.replace(",", ""))
        except InvalidOperation:
            self.issues.append(
                Issue(name, "15", f"{self.where}: quantity {value!r} is not a number")
            )
            return None

    def date(self, name: str, what: str) -> dt.date | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_text_date(value)
        except ValueError:
            self.issues.append(Issue(name, "27", f"{self.where}: {what} {value!r} is not a date"))
            return None


def _party(raw: Any, role: str, options: CheckOptions) -> Party | None:
    if not isinstance(raw, Mapping):
        return None
    fields = _Fields(raw, role)
    name = fields.text("name")
    ids: list[Identifier] = [
        check_identifier(i["kind"], i["value"], options=options, name=name)
        for i in raw.get("identifiers") or ()
        if isinstance(i, Mapping) and i.get("value")
    ]
    street, city = fields.text("street"), fields.text("city")
    state, postal = fields.text("state"), fields.text("postal_code")
    address = None
    if street or city or state or postal:
        address = Address((street,) if street else (), city, state, postal, None)
    return Party(role, name, tuple(ids), address)


def _line(number: int, raw: Mapping[str, Any], options: CheckOptions) -> ClaimLine:
    line_id = raw.get("line_id")
    line_id = line_id.strip() if isinstance(line_id, str) and line_id.strip() else str(number)
    fields = _Fields(raw, f"line {line_id}")
    ndc = fields.text("ndc")
    ndc_result = normalize_ndc(ndc) if ndc else None
    line = ClaimLine(
        line=number,
        line_id=line_id,
        contract_id=fields.text("contract_id"),
        customer=_party(raw.get("customer"), "ST", options),
        ndc11=ndc_result.ndc11 if ndc_result else None,
        ndc_submitted=ndc,
        ndc_problem=ndc_result.problem if ndc_result else None,
        ndc_candidates=ndc_result.candidates if ndc_result else (),
        description=fields.text("description"),
        quantity=fields.quantity("quantity"),
        unit=(fields.text("unit") or "").upper() or None,
        wac=fields.money("wac", "WAC"),
        contract_price=fields.money("contract_price", "contract price"),
        claimed_amount=fields.money("claimed_amount", "claimed amount"),
        invoice_number=fields.text("invoice_number"),
        invoice_line=fields.text("invoice_line"),
        invoice_date=fields.date("invoice_date", "invoice date"),
    )
    issues = list(fields.issues)
    if ndc_result and ndc_result.problem:
        issues.append(Issue("ndc", "14", ndc_result.problem))
    flagged = {i.field for i in issues}
    issues.extend(
        Issue(f, "15", f"{fields.where}: no {f.replace('_', ' ')} found")
        for f in line.missing_fields
        if f not in flagged and not (f == "ndc_submitted" and "ndc" in flagged)
    )
    if line.customer is not None and not line.customer.identifiers:
        issues.append(Issue("customer", "15", f"{fields.where}: the customer has no identifier"))
    return dataclasses.replace(line, issues=tuple(issues))


def build_claim(
    raw: Mapping[str, Any],
    *,
    format: ClaimFormat,
    extractor: str,
    document_sha256: str,
    options: CheckOptions = DEFAULT_OPTIONS,
) -> Claim:
    """Interpret a raw extraction (already valid against EXTRACTION_SCHEMA) as a Claim."""
    fields = _Fields(raw, "header")
    debit_memo = fields.text("debit_memo")
    claim_date = fields.date("claim_date", "debit memo date")
    total = fields.money("total_claimed", "claimed total")
    issues = fields.issues
    if debit_memo is None:
        issues.append(Issue("debit_memo", "15", "no debit memo number found"))
    if claim_date is None and not any(i.field == "claim_date" for i in issues):
        issues.append(Issue("claim_date", "15", "no debit memo date found"))
    original = fields.text("original_debit_memo")
    claim = Claim(
        format=format,
        extractor=extractor,
        document_sha256=document_sha256,
        debit_memo=debit_memo,
        claim_date=claim_date,
        lines=tuple(_line(n, line, options) for n, line in enumerate(raw["lines"], start=1)),
        purpose="05" if original else "00",
        original_debit_memo=original,
        currency=(fields.text("currency") or "USD").upper(),
        distributor=_party(raw.get("distributor"), "DS", options),
        manufacturer=_party(raw.get("manufacturer"), "MF", options),
        total_claimed=total,
        issues=tuple(issues),
    )
    return dataclasses.replace(claim, issues=claim.issues + summary_issues(claim))


# ---------------------------------------------------------------------------------------------
# PDF


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF; a PDF without one (a scan) is an error, not an empty claim."""
    try:
        import pypdf
    except ImportError:
        raise TextExtractionError(
            "reading PDF claims needs the pypdf package (pip install pypdf)"
        ) from None
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise TextExtractionError("the PDF is encrypted; send an unprotected copy")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except TextExtractionError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on damaged files
        raise TextExtractionError(f"the PDF cannot be read: {exc}") from None
    if not text.strip():
        raise TextExtractionError(
            "the PDF has no text layer (a scanned image?); OCR it or send the claim as 844 or text"
        )
    return text


# ---------------------------------------------------------------------------------------------
# The offline extractor

_TOKEN = r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]*"  # an id with at least one digit
_DATE = r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|\d{8}"
_MONEY = r"\(?-?\$?\s?-?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?\)?(?![\w.])"
_NO = r"(?:\s*(?:no\.?|number|num|#|id)\b\.?)?\s*[:#]?\s*"

_ROLE_LABELS = {
    "distributor": r"from|distributor|wholesaler|distribution\s+cent(?:er|re)|dc",
    "manufacturer": r"to|manufacturer|supplier|labeler",
    "customer": r"customer|ship[\s-]*to|end\s+customer|facility|sold\s+to",
}
_PARTY_LABEL = re.compile(
    r"^\s*(?:"
    + "|".join(f"(?P<{role}>{alt})" for role, alt in _ROLE_LABELS.items())
    + r")\s*:\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_ID_LABEL = r"340\s*B(?:\s*ID)?|DEA|NPI|HIN|GLN"
_IDENTIFIER = re.compile(
    rf"\b(?P<label>{_ID_LABEL})\b{_NO}(?P<value>[A-Z0-9][A-Z0-9-]*)", re.IGNORECASE
)
_ADDRESS = re.compile(
    r"(?P<street>[^,\n]*\d[^,\n]*),[ \t]*(?P<city>[^,\d\n]+),[ \t]*(?P<state>[A-Z]{2})[ \t]+"
    r"(?P<zip>\d{5}(?:-\d{4})?)\b"
)
_HEADER_PATTERNS = {
    "debit_memo": re.compile(
        rf"\b(?:debit\s*memo|DM|chargeback|claim){_NO}(?P<v>{_TOKEN})", re.IGNORECASE
    ),
    "original_debit_memo": re.compile(
        rf"\b(?:original|replaces|resubmission\s+of|corrects)(?:\s+(?:debit\s*memo|DM))?{_NO}(?P<v>{_TOKEN})",
        re.IGNORECASE,
    ),
    "claim_date": re.compile(rf"\b(?:date|dated)\s*:?\s*(?P<v>{_DATE})", re.IGNORECASE),
    "total_claimed": re.compile(rf"^\s*total\b[^:]*:\s*(?P<v>{_MONEY})", re.IGNORECASE),
    "currency": re.compile(r"\bcurrency\s*:?\s*(?P<v>[A-Z]{3})\b", re.IGNORECASE),
}
_CONTRACT = re.compile(rf"\bcontract{_NO}(?P<v>{_TOKEN})", re.IGNORECASE)
_LINE_PATTERNS = {
    "line_id": re.compile(r"^\s*(?:line|ln|item)\s*#?\s*(?P<v>\d+)\b", re.IGNORECASE),
    "ndc": re.compile(
        r"\bNDC(?:\s*(?:#|no\.?|code)\b\.?)?\s*[:=#]?\s*(?P<v>\d[\d-]*\d)", re.IGNORECASE
    ),
    "quantity": re.compile(
        r"\b(?:qty|quantity|units)\s*[:=]?\s*(?P<v>-?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?)"
        r"(?:\s*(?P<unit>EA|UN|BX|CA|PK)\b)?",
        re.IGNORECASE,
    ),
    "wac": re.compile(rf"\bWAC\s*[:=]?\s*(?P<v>{_MONEY})", re.IGNORECASE),
    "contract_price": re.compile(
        rf"\b(?:contract\s+price|contract\s+cost|CP)\s*[:=]?\s*(?P<v>{_MONEY})", re.IGNORECASE
    ),
    "claimed_amount": re.compile(
        rf"\b(?:claim(?:ed)?\s+amount|chargeback|amount|claimed)\s*[:=]?\s*(?P<v>{_MONEY})",
        re.IGNORECASE,
    ),
    "invoice_number": re.compile(rf"\binv(?:oice)?\.?{_NO}(?P<v>{_TOKEN})", re.IGNORECASE),
    "invoice_line": re.compile(
        r"\b(?:inv(?:oice)?\s*)line\s*#?\s*:?\s*(?P<v>\d+)|(?<=\d)\s*,?\s*line\s*#?\s*(?P<w>\d+)",
        re.IGNORECASE,
    ),
    "invoice_date": re.compile(
        rf"\b(?:dated|invoice\s+date|inv\.?\s+date|date)\s*:?\s*(?P<v>{_DATE})", re.IGNORECASE
    ),
}
_COLUMNS = {
    "line_id": ("line", "ln", "#", "line no", "line #", "item"),
    "ndc": ("ndc", "ndc11", "ndc code"),
    "description": ("description", "product", "item description"),
    "quantity": ("qty", "quantity", "units", "qty shipped"),
    "unit": ("uom", "unit", "um"),
    "wac": ("wac", "wac price", "wholesale"),
    "contract_price": ("contract", "contract price", "cp", "contract cost"),
    "claimed_amount": ("amount", "chargeback", "claimed", "claim amount", "chargeback amount"),
    "invoice_number": ("invoice", "invoice no", "invoice #", "inv", "inv no", "invoice number"),
    "invoice_line": ("inv line", "invoice line", "inv ln"),
    "invoice_date": ("invoice date", "inv date", "date"),
    "contract_id": ("contract id", "contract no", "contract #", "contract number"),
}
_COLUMN_BY_NAME = {name: field for field, names in _COLUMNS.items() for name in names}


def _cells(line: str) -> list[str]:
    if "|" in line:
        return [c.strip() for c in line.strip().strip("|").split("|")]
    if "\t" in line:
        return [c.strip() for c in line.strip().split("\t")]
    return re.split(r"\s{2,}", line.strip())


def _table_columns(line: str) -> list[str | None] | None:
    """Field per column when ``line`` is a table header with NDC and quantity columns."""
    names = [re.sub(r"[.:]", "", c).lower().strip() for c in _cells(line)]
    fields = [_COLUMN_BY_NAME.get(re.sub(r"\s+", " ", n)) for n in names]
    if len(fields) >= 3 and "ndc" in fields and "quantity" in fields:
        return fields
    return None


class _Scanner:
    """One top-down pass: header fields, party blocks, tables and prose lines."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.raw: dict[str, Any] = {f: None for f in _HEADER_FIELDS}
        self.raw.update(distributor=None, manufacturer=None, lines=[])
        self.customer: dict[str, Any] | None = None
        self.contract: str | None = None

    def run(self) -> dict[str, Any]:
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            if not line.strip():
                i += 1
            elif (columns := _table_columns(line)) is not None:
                i = self._table(i, columns)
            elif (label := _PARTY_LABEL.match(line)) is not None:
                i = self._party(i, label)
            elif _LINE_PATTERNS["ndc"].search(line):
                self._prose_line(line)
                i += 1
            else:
                self._header_line(line)
                i += 1
        if not self.raw["lines"]:
            raise TextExtractionError(
                "no claim lines found: expected lines mentioning an NDC, or a table with NDC "
                "and Qty columns"
            )
        return self.raw

    def _header_line(self, line: str) -> None:
        if (m := _CONTRACT.search(line)) is not None:
            self.contract = m.group("v")
        for field, pattern in _HEADER_PATTERNS.items():
            if field == "debit_memo" and re.search(
                r"\boriginal\b|\breplaces\b", line, re.IGNORECASE
            ):
                continue
            if self.raw[field] is None and (m := pattern.search(line)) is not None:
                self.raw[field] = m.group("v").strip()

    def _party(self, start: int, label: re.Match[str]) -> int:
        role = next(r for r in _ROLE_LABELS if label.group(r))
        rest = label.group("rest")
        name = re.split(
            rf"\s*[,(;]\s*|\s+(?=(?:{_ID_LABEL})\b)", rest, maxsplit=1, flags=re.IGNORECASE
        )[0]
        block = [rest]
        i = start + 1
        while i < len(self.lines):
            nxt = self.lines[i]
            if (
                not nxt.strip()
                or _PARTY_LABEL.match(nxt)
                or _table_columns(nxt)
                or _LINE_PATTERNS["ndc"].search(nxt)
                or not (_IDENTIFIER.search(nxt) or _ADDRESS.search(nxt))
            ):
                break
            block.append(nxt)
            i += 1
        party = _party_dict(name.strip() or None, "\n".join(block))
        if role == "customer":
            self.customer = party
        elif self.raw[role] is None:
            self.raw[role] = party
        return i

    def _table(self, start: int, columns: list[str | None]) -> int:
        """Rows until a blank line, a party label or (``|``/tab tables) a line without the
        separator: PDF text layers drop blank lines, so the table end must show otherwise."""
        header = self.lines[start]
        separator = "|" if "|" in header else "\t" if "\t" in header else None
        i = start + 1
        while i < len(self.lines) and self.lines[i].strip():
            line = self.lines[i]
            if re.fullmatch(r"[\s|:+=-]+", line):  # a ruler under the header
                i += 1
                continue
            if _PARTY_LABEL.match(line) or (separator and separator not in line):
                break
            cells = _cells(line)
            if len(cells) != len(columns):
                raise TextExtractionError(
                    f"table row has {len(cells)} cells but the header (line {start + 1}) has "
                    f"{len(columns)}; fill empty cells with '-'",
                    line=i + 1,
                )
            record = {f: c for f, c in zip(columns, cells, strict=True) if f and c not in ("", "-")}
            self._add_line(record)
            i += 1
        return i

    def _prose_line(self, line: str) -> None:
        record: dict[str, str] = {}
        for field, pattern in _LINE_PATTERNS.items():
            m = pattern.search(line)
            if m is None:
                continue
            record[field] = m.group("v") or (m.groupdict().get("w") or "")
            if field == "quantity" and m.group("unit"):
                record["unit"] = m.group("unit")
        if (m := _CONTRACT.search(line)) is not None:
            record["contract_id"] = m.group("v")
        self._add_line({k: v for k, v in record.items() if v})

    def _add_line(self, record: dict[str, str]) -> None:
        line: dict[str, Any] = {f: record.get(f) for f in LINE_FIELDS}
        line["contract_id"] = line["contract_id"] or self.contract
        line["customer"] = self.customer
        self.raw["lines"].append(line)


def _party_dict(name: str | None, block: str) -> dict[str, Any]:
    kinds = {"DEA": "dea", "NPI": "npi", "HIN": "hin", "GLN": "gln"}
    identifiers = [
        {"kind": kinds.get(m.group("label").upper(), "340b"), "value": m.group("value")}
        for m in _IDENTIFIER.finditer(block)
    ]
    address = _ADDRESS.search(block)
    return {
        "name": name,
        "identifiers": identifiers,
        "street": address.group("street").strip() if address else None,
        "city": address.group("city").strip() if address else None,
        "state": address.group("state") if address else None,
        "postal_code": address.group("zip") if address else None,
    }


def extract_text(text: str) -> dict[str, Any]:
    """The raw extraction (EXTRACTION_SCHEMA shape) of a free-text claim, deterministically."""
    return _Scanner(text).run()


def iter_schema_errors(raw: Any) -> Iterator[str]:
    """Human-readable mismatches against EXTRACTION_SCHEMA, path first."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(EXTRACTION_SCHEMA)
    for error in sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path))):
        path = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        yield f"{path}: {error.message}"
