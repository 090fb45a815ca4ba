"""Offline format and check-digit tests for customer identifiers and NDC normalisation (brief §3).

These are pre-filters only: a passing checksum does not mean the number is assigned, and DEA
has issued valid numbers that fail the formula (brief §9.10). So nothing here raises on bad
input; every check returns an :class:`~processors.chargeback.claim.Identifier` whose
``problem`` says what is wrong in words a claims analyst can act on, and the reference-data
steps decide what a failure costs.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping

from processors.chargeback.claim import Identifier, IdentifierKind

#: X12 N103 (element 66) qualifiers as HDMA uses them in the 844 (brief §2.2, [S3]).
KIND_BY_QUALIFIER: Mapping[str, IdentifierKind] = {
    "11": "dea",
    "21": "hin",
    "UL": "gln",
    "XX": "npi",
    "PI": "340b",
    "ZZ": "custom",
    "91": "custom",
    "92": "custom",
}
QUALIFIER_BY_KIND: Mapping[IdentifierKind, str] = {
    "dea": "11",
    "hin": "21",
    "gln": "UL",
    "npi": "XX",
    "340b": "PI",
    "custom": "ZZ",
}

#: First letters DEA assigns by registrant type (brief §3.2); X is legacy DATA-waiver only.
DEA_REGISTRANT_TYPES = frozenset("ABFGMPRX")

#: HRSA OPAIS entity-type prefixes (brief §3.5, HRSA's list of covered entity acronyms);
#: configurable because the list is open-ended. FQHC638 is a tribal (638) health center, HV
#: an HIV (Ryan White) grantee, RWIIR a Ryan White Part II (ADAP) rebate entity.
ID340B_PREFIXES: tuple[str, ...] = (
    "DSH",
    "PED",
    "CAN",
    "CAH",
    "RRC",
    "SCH",
    "CH",
    "FQHCLA",
    "FQHC638",
    "BL",
    "HM",
    "HV",
    "FP",
    "STD",
    "TB",
    "RWI",
    "RWII",
    "RWIII",
    "RWIIR",
    "RWIV",
    "RW4",
    "UI",
    "NH",
)


@dataclasses.dataclass(frozen=True)
class CheckOptions:
    """The knobs the brief says must stay configurable."""

    dea_registrant_types: frozenset[str] = DEA_REGISTRANT_TYPES
    id340b_prefixes: tuple[str, ...] = ID340B_PREFIXES


DEFAULT_OPTIONS = CheckOptions()

_DEA_BASE = re.compile(r"[A-Z][A-Z9]\d{7}")
_HIN = re.compile(r"[A-Z0-9]{9}")
_340B_TAIL = re.compile(r"\d[A-Z0-9]{3,9}")


def _clean(value: str) -> str:
    return "".join(value.split()).upper()


def _result(kind: IdentifierKind, value: str, problem: str | None) -> Identifier:
    return Identifier(kind=kind, value=value, valid=problem is None, problem=problem)


def luhn_valid(digits: str) -> bool:
    """ISO/IEC 7812 Luhn: double every second digit from the right, digit-sum, total % 10 == 0."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def gs1_check_digit(payload: str) -> int:
    """GS1 mod-10 (GLN, GTIN, EAN-13): weights 3,1,3,... from the digit next to the check."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def check_npi(value: str) -> Identifier:
    """NPI: 10 digits, first 1 or 2, Luhn over the ``80840`` prefix plus the NPI (CMS)."""
    npi = _clean(value)
    if not npi.isdigit() or len(npi) != 10:
        return _result("npi", npi, f"NPI must be 10 digits; got {npi!r}")
    if npi[0] not in "12":
        return _result("npi", npi, f"NPI must start with 1 or 2; got {npi[0]}")
    if not luhn_valid("80840" + npi):
        expected = next(d for d in "0123456789" if luhn_valid("80840" + npi[:9] + d))
        return _result("npi", npi, f"NPI check digit is {npi[9]}, expected {expected}")
    return _result("npi", npi, None)


def dea_check_digit(digits6: str) -> int:
    """(d1 + d3 + d5) + 2 x (d2 + d4 + d6), last digit (brief §3.2)."""
    d = [int(c) for c in digits6]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10


def check_dea(
    value: str,
    *,
    registrant_types: frozenset[str] = DEA_REGISTRANT_TYPES,
    last_name: str | None = None,
) -> Identifier:
    """DEA registration: type letter, name letter (or 9), six digits and a check digit.

    An institutional practitioner's ``-suffix`` is kept in the value; only the 9-character base
    is checked. ``last_name`` (when known: the name the claim gives the party, a business name
    or a person's ``LAST, FIRST``) must start with the second letter unless it is 9 (a
    business-address registrant): DEA assigns it from the registrant's name, so a number
    whose letter is not the name's belongs to someone else or was mistyped.
    """
    dea = _clean(value)
    base, dash, suffix = dea.partition("-")
    if dash and not suffix.isalnum():
        return _result("dea", dea, f"DEA suffix after '-' must be letters/digits; got {suffix!r}")
    if len(base) != 9:
        return _result("dea", dea, f"DEA number must be 9 characters; got {len(base)} in {base!r}")
    if not _DEA_BASE.fullmatch(base):
        return _result(
            "dea", dea, f"DEA number {base!r} must be a letter, a letter or 9, then 7 digits"
        )
    if base[0] not in registrant_types:
        allowed = ", ".join(sorted(registrant_types))
        return _result("dea", dea, f"DEA registrant type {base[0]!r} is not one of {allowed}")
    expected = dea_check_digit(base[2:8])
    if int(base[8]) != expected:
        return _result("dea", dea, f"DEA check digit is {base[8]}, expected {expected}")
    initial = next((c for c in (last_name or "").upper() if c.isalpha()), None)
    if initial is not None and base[1] != "9" and initial != base[1]:
        return _result(
            "dea",
            dea,
            f"DEA second letter {base[1]} does not match the name {last_name!r}",
        )
    return _result("dea", dea, None)


def check_gln(value: str) -> Identifier:
    """GS1 GLN: 13 digits, kept as a string because leading zeros matter."""
    gln = _clean(value)
    if not gln.isdigit() or len(gln) != 13:
        return _result("gln", gln, f"GLN must be 13 digits; got {gln!r}")
    expected = gs1_check_digit(gln[:12])
    if int(gln[12]) != expected:
        return _result("gln", gln, f"GLN check digit is {gln[12]}, expected {expected}")
    return _result("gln", gln, None)


def check_hin(value: str) -> Identifier:
    """HIBCC HIN: format only; HIBCC publishes no check character, so none is invented."""
    hin = _clean(value)
    if not _HIN.fullmatch(hin):
        return _result(
            "hin",
            hin,
            f"HIN must be 9 letters/digits (7-character base + 2-character suffix); got {hin!r}",
        )
    return _result("hin", hin, None)


def check_340b(value: str, *, prefixes: tuple[str, ...] = ID340B_PREFIXES) -> Identifier:
    """340B id: an OPAIS entity-type prefix, then 4-10 letters/digits starting with a digit."""
    id340b = _clean(value)
    prefix = next(
        (p for p in sorted(prefixes, key=len, reverse=True) if id340b.startswith(p)), None
    )
    if prefix is None:
        return _result(
            "340b",
            id340b,
            f"340B id {id340b!r} does not start with a known entity-type prefix "
            f"({', '.join(prefixes)})",
        )
    tail = id340b[len(prefix) :]
    if not _340B_TAIL.fullmatch(tail):
        return _result(
            "340b",
            id340b,
            f"340B id {id340b!r}: after the prefix {prefix} expected 4-10 letters/digits "
            f"starting with a digit; got {tail!r}",
        )
    return _result("340b", id340b, None)


@functools.lru_cache(maxsize=4096)
def check_identifier(
    kind: IdentifierKind,
    value: str,
    *,
    qualifier: str | None = None,
    options: CheckOptions = DEFAULT_OPTIONS,
    name: str | None = None,
) -> Identifier:
    """Dispatch on kind; custom ids are accepted as sent (there is nothing to check).
    ``name`` is the name the party was sent with: a DEA number's second letter is checked
    against it.

    Cached: an 844 repeats a customer's identifiers in every contract loop it buys in (the
    benchmark's 10,000-line claim asks about 20,000 identifiers, 138 of them distinct), the
    verdict depends on the arguments alone, and an Identifier is frozen, so lines can share one.
    """
    checks: Mapping[IdentifierKind, Callable[[str], Identifier]] = {
        "npi": check_npi,
        "dea": lambda v: check_dea(
            v, registrant_types=options.dea_registrant_types, last_name=name
        ),
        "gln": check_gln,
        "hin": check_hin,
        "340b": lambda v: check_340b(v, prefixes=options.id340b_prefixes),
        "custom": lambda v: _result("custom", v.strip(), None),
    }
    return dataclasses.replace(checks[kind](value), qualifier=qualifier)


# ---------------------------------------------------------------------------------------------
# NDC

#: Label layouts as (labeler, product, package) digit counts; 5-4-2 is the billing form.
NDC_LAYOUTS: Mapping[str, tuple[int, int, int]] = {
    "4-4-2": (4, 4, 2),
    "5-3-2": (5, 3, 2),
    "5-4-1": (5, 4, 1),
    "5-4-2": (5, 4, 2),
}


@dataclasses.dataclass(frozen=True)
class NdcResult:
    """``ndc11`` is set only when the reading is certain; otherwise ``problem`` says why and
    ``candidates`` lists every 11-digit reading, for a unique product-master match."""

    submitted: str
    ndc11: str | None
    layout: str | None
    problem: str | None
    candidates: tuple[str, ...] = ()


def _to_ndc11(segments: tuple[str, str, str]) -> str:
    """Pad each segment to 5-4-2 with leading zeros (the short segment gets the zero)."""
    return "".join(s.rjust(n, "0") for s, n in zip(segments, (5, 4, 2), strict=True))


#: FDA assigns labeler codes; none is all zeros, so no product has such an NDC
_NO_LABELER = "00000"
_UNASSIGNED = f"labeler code {_NO_LABELER} is not assigned by FDA; no product has this NDC"


def _assigned(ndc11: str) -> bool:
    """Whether an 11-digit reading could name a product at all: its labeler code exists."""
    return not ndc11.startswith(_NO_LABELER)


def _split(digits: str, layout: str) -> tuple[str, str, str]:
    a, b, _ = NDC_LAYOUTS[layout]
    return digits[:a], digits[a : a + b], digits[a + b :]


def _readings(digits10: str) -> tuple[str, ...]:
    """The 11-digit readings of an unhyphenated 10-digit label code that could name a product
    (an all-zero labeler names none), deduplicated."""
    found = (_to_ndc11(_split(digits10, lay)) for lay in ("4-4-2", "5-3-2", "5-4-1"))
    return tuple(dict.fromkeys(r for r in found if _assigned(r)))


def ndc11_candidates(value: str) -> tuple[str, ...]:
    """Every 11-digit reading of a submitted NDC: one when certain, several when not.

    Short digit strings are treated as numbers that lost their leading zeros (brief §9.2).
    """
    result = normalize_ndc(value)
    return (result.ndc11,) if result.ndc11 else result.candidates


def normalize_ndc(value: str, *, layout: str | None = None) -> NdcResult:
    """Normalise any label or billing form to the 11-digit 5-4-2 NDC, never guessing.

    ``layout`` is a hint (e.g. from LIN qualifier N1/N2/N3) that resolves an unhyphenated
    10-digit code; a hint that contradicts the value is itself a problem. A well-formed code
    whose labeler part is all zeros (``00000-0000-00``) is no NDC: FDA assigns no such
    labeler, so it is a problem too, not a product the master merely lacks.
    """
    result = _normalize_ndc(value, layout)
    if result.ndc11 is not None and not _assigned(result.ndc11):
        return NdcResult(result.submitted, None, None, f"NDC {result.submitted!r}: {_UNASSIGNED}")
    return result


def _normalize_ndc(value: str, layout: str | None) -> NdcResult:
    """:func:`normalize_ndc` but for the labeler check."""
    raw = value.strip()
    if layout is not None and layout not in NDC_LAYOUTS:
        raise ValueError(f"unknown NDC layout hint {layout!r}; use one of {', '.join(NDC_LAYOUTS)}")

    def bad(problem: str, candidates: tuple[str, ...] = ()) -> NdcResult:
        return NdcResult(raw, None, None, f"NDC {raw!r}: {problem}", candidates)

    if not raw:
        return bad("is empty")
    if not re.fullmatch(r"[0-9-]+", raw):
        return bad("may contain only digits and hyphens")
    if "-" in raw:
        parts = raw.split("-")
        shape = tuple(len(p) for p in parts)
        found = next((name for name, s in NDC_LAYOUTS.items() if s == shape), None)
        if len(parts) != 3 or found is None:
            return bad(
                f"hyphenated segments {'-'.join(map(str, shape))} match none of "
                f"{', '.join(NDC_LAYOUTS)}"
            )
        if layout is not None and layout != found:
            return bad(f"is written {found} but the layout given is {layout}")
        return NdcResult(raw, _to_ndc11((parts[0], parts[1], parts[2])), found, None)
    digits = raw
    if len(digits) == 11:
        if layout not in (None, "5-4-2"):
            return bad(f"has 11 digits but the layout given is {layout}")
        return NdcResult(raw, digits, "5-4-2", None)
    if len(digits) == 10:
        if layout in ("4-4-2", "5-3-2", "5-4-1"):
            return NdcResult(raw, _to_ndc11(_split(digits, layout)), layout, None)
        if layout == "5-4-2":
            return bad("has 10 digits but the layout given is 5-4-2 (11 digits)")
        readings = _readings(digits)
        if not readings:
            return bad(_UNASSIGNED)
        return bad(
            "10 digits without hyphens are ambiguous (4-4-2, 5-3-2 or 5-4-1 give "
            f"{', '.join(readings)}); send the 11-digit 5-4-2 form or the hyphenated label form",
            readings,
        )
    if len(digits) in (8, 9):
        padded = (digits.rjust(11, "0"), *_readings(digits.rjust(10, "0")))
        readings = tuple(dict.fromkeys(r for r in padded if _assigned(r)))
        if not readings:
            return bad(_UNASSIGNED)
        return bad(
            f"has only {len(digits)} digits: leading zeros were probably lost (stored as a "
            f"number); possible readings {', '.join(readings)}; send the NDC as text",
            readings,
        )
    if len(digits) == 12:
        return bad("has 12 digits (the proposed 6-4-2 format), which is not supported yet")
    return bad(f"has {len(digits)} digits; an NDC has 10 (label) or 11 (5-4-2)")


def ndc11_to_ndc10_candidates(ndc11: str) -> tuple[str, ...]:
    """The 0-3 hyphenated label forms an 11-digit NDC can come from (the padded zero removed)."""
    if not re.fullmatch(r"\d{11}", ndc11):
        raise ValueError(f"expected 11 digits, got {ndc11!r}")
    labeler, product, package = ndc11[:5], ndc11[5:9], ndc11[9:]
    out: list[str] = []
    if labeler[0] == "0":
        out.append(f"{labeler[1:]}-{product}-{package}")
    if product[0] == "0":
        out.append(f"{labeler}-{product[1:]}-{package}")
    if package[0] == "0":
        out.append(f"{labeler}-{product}-{package[1:]}")
    return tuple(out)
