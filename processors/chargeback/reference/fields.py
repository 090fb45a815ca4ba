"""Field parsers for reference CSV files, and the normalizations matching relies on.

A parser turns one raw cell into a typed value or raises ``ValueError`` with a message that
says what is wrong *and* how to fix it; the loader prefixes ``file:line: column X:``. Keeping
them tiny and composable lets each dataset's layout read like its documentation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Parser = Callable[[str], Any]

#: Class-of-trade codes (brief §5). Contracts and rosters must use these.
CLASSES_OF_TRADE = (
    "HOSP_ACUTE",
    "HOSP_CHILD",
    "HOSP_CAH",
    "CLINIC",
    "PHYS_OFFICE",
    "ASC",
    "LTC",
    "HOME_INFUSION",
    "RETAIL_PHARM",
    "CHAIN_PHARM",
    "MAIL_ORDER",
    "SPECIALTY_PHARM",
    "DIALYSIS",
    "GOV_FED",
    "GOV_STATE",
    "CORRECTIONAL",
    "VET",
)

#: DEA schedule tokens of the CSA registrant record (brief §4.3).
DEA_SCHEDULES = ("1", "2", "2N", "3", "3N", "4", "5")

_TRUE = {"Y", "YES", "TRUE", "T", "1"}
_FALSE = {"N", "NO", "FALSE", "F", "0"}


def normalize_name(name: str) -> str:
    """Upper case, punctuation dropped, spaces collapsed (brief §4): "St. Elsewhere" matches."""
    return " ".join(re.sub(r"[^A-Z0-9 ]+", " ", name.upper().replace("&", " AND ")).split())


def zip5(raw: str) -> str:
    """The first five digits of a ZIP or ZIP+4; '' when there is none."""
    digits = re.sub(r"\D", "", raw)
    return digits[:5] if len(digits) >= 5 else ""


def text(max_len: int) -> Parser:
    def parse(raw: str) -> str:
        value = raw.strip()
        if len(value) > max_len:
            raise ValueError(f"{len(value)} characters, at most {max_len} allowed")
        return value

    return parse


def upper(max_len: int) -> Parser:
    inner = text(max_len)
    return lambda raw: inner(raw).upper()


def pattern(regex: str, what: str, example: str) -> Parser:
    compiled = re.compile(regex)

    def parse(raw: str) -> str:
        value = raw.strip().upper()
        if not compiled.fullmatch(value):
            raise ValueError(f"{raw.strip()!r} is not {what} (expected e.g. {example})")
        return value

    return parse


def choice(values: Iterable[str]) -> Parser:
    allowed = tuple(values)

    def parse(raw: str) -> str:
        value = raw.strip().upper()
        if value not in allowed:
            raise ValueError(f"{raw.strip()!r} is not one of {', '.join(allowed)}")
        return value

    return parse


def ndc11(raw: str) -> str:
    value = raw.strip().replace("-", "")
    if not value.isdigit():
        raise ValueError(f"{raw.strip()!r} is not an NDC: digits (and hyphens) only")
    if len(value) != 11:
        hint = (
            "; leading zeros lost in a spreadsheet? store NDCs as text" if len(value) < 11 else ""
        )
        raise ValueError(f"{raw.strip()!r} has {len(value)} digits, an NDC11 has 11{hint}")
    return value


def digits(length: int, what: str) -> Parser:
    def parse(raw: str) -> str:
        value = raw.strip()
        if not (value.isdigit() and len(value) == length):
            raise ValueError(f"{value!r} is not {what}: {length} digits expected")
        return value

    return parse


npi = digits(10, "an NPI")
gln = digits(13, "a GLN")
dea = pattern(r"[A-Z][A-Z9]\d{7}", "a DEA number", "AP5836727")
hin = pattern(r"[A-Z0-9]{9}", "a HIN (9 letters or digits)", "A1B2C3D00")
id340b = pattern(r"[A-Z]{2,6}[A-Z0-9]{2,8}", "a 340B ID", "DSH360012 or BL03074A")
_state = pattern(r"[A-Z]{2}", "a two-letter state code", "OH")


def state(raw: str) -> str:
    """Two letters, or "" when the source has no state (foreign or unknown address)."""
    return _state(raw) if raw.strip() else ""


def zip_code(raw: str) -> str:
    value = zip5(raw)
    if raw.strip() and not value:
        raise ValueError(f"{raw.strip()!r} is not a ZIP code (5 or 9 digits)")
    return value


def iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"{raw.strip()!r} is not a date; write YYYY-MM-DD") from None


def yyyymmdd(raw: str) -> date | None:
    """LEIE dates: ``YYYYMMDD``, with ``00000000`` meaning "none"."""
    value = raw.strip()
    if value in ("", "00000000"):
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"{value!r} is not a date; LEIE writes YYYYMMDD or 00000000") from None


def mdy(raw: str) -> date:
    """SAM and NPPES dates: ``MM/DD/YYYY``."""
    value = raw.strip()
    try:
        return datetime.strptime(value, "%m/%d/%Y").date()
    except ValueError:
        raise ValueError(f"{value!r} is not a date; write MM/DD/YYYY") from None


def sam_termination(raw: str) -> date | None:
    """SAM writes "Indefinite" for an exclusion with no end; blank means the same."""
    value = raw.strip()
    return None if value.upper() in ("", "INDEFINITE") else mdy(value)


def decimal(scale: int, *, negative: bool = False, positive: bool = False) -> Parser:
    def parse(raw: str) -> Decimal:
        value = raw.strip().replace(",", "")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{raw.strip()!r} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{raw.strip()!r} is not a finite number")
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)
        if -exponent > scale:
            raise ValueError(f"{value} has more than {scale} decimals")
        if number < 0 and not negative:
            raise ValueError(f"{value} is negative")
        if positive and number <= 0:
            raise ValueError(f"{value} must be greater than zero")
        return number

    return parse


def boolean(raw: str) -> bool:
    value = raw.strip().upper()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{raw.strip()!r} is not a yes/no value (Y or N)")


def integer(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"{raw.strip()!r} is not a whole number") from None


def days(raw: str) -> int:
    """A number of days, 0 or more."""
    value = integer(raw)
    if value < 0:
        raise ValueError(f"{value} is negative: a number of days is 0 or more")
    return value


def listing(item: Parser, separator: str = "|") -> Parser:
    """A ``|``-separated list; each item is checked, the result is joined back canonically."""

    def parse(raw: str) -> str:
        items = [item(part) for part in raw.split(separator) if part.strip()]
        return separator.join(items)

    return parse


def schedules(raw: str) -> str:
    tokens = raw.replace("|", " ").replace(",", " ").upper().split()
    unknown = [t for t in tokens if t not in DEA_SCHEDULES]
    if unknown:
        raise ValueError(
            f"unknown schedule(s) {' '.join(unknown)}; use tokens {' '.join(DEA_SCHEDULES)}"
        )
    return " ".join(sorted(set(tokens), key=DEA_SCHEDULES.index))


def kunnr(raw: str) -> str:
    """SAP's ALPHA conversion: numeric customer numbers are zero-padded to 10 characters."""
    value = raw.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,10}", value):
        raise ValueError(f"{raw.strip()!r} is not a customer number (1-10 letters or digits)")
    return value.zfill(10) if value.isdigit() else value
