"""Edge case 12, unit-of-measure mismatch: a quantity counted in eaches for a package NDC.

Contract prices are per package NDC (one bottle of 100 tablets). A wholesaler that claims
"QTY 100" for that one bottle asks for 100 chargebacks instead of one, and nothing in the
arithmetic notices: (WAC - CP) x 100 is a well-formed amount. So the line is held for review
(901 code 25, "disposition pending vendor review") with a note saying what looks wrong, and
is never paid as claimed. The signals (brief §9.12):

- **QTY03** counts eaches (``EA``, or the product's own unit) for an NDC whose package holds
  more than one, or names a unit the contract is not priced in (``CA``, ``BX``, ...): only a
  package unit (``UN``, ``PK``; ``EA`` for a package of one) says how many packages were sold;
- the quantity is above the contract line's ``qty_cap`` but would be within it counted in
  packages (a multiple of the package size): a unit problem rather than a cap breach, so
  review instead of the cap's reject 04 (a quantity beyond the cap either way stays 04);
- the quantity is far above what this customer usually claims for this NDC: the median of its
  earlier *paid* claim lines in the ledger (``cb_claim_line_history``), once there are enough of
  them, times a configurable factor.

The checks are pure functions over the claim line, the product row and those numbers;
``usual_quantities`` asks the ledger once per claim. They run in contract-eligibility, which
has the product and the contract line in hand.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from processors.chargeback import rules
from processors.chargeback.claim import Claim, ClaimLine, Finding
from processors.chargeback.reference import lookup
from processors.chargeback.reference import models as m
from processors.chargeback.reference.history import paid_quantities

RULE = rules.R10_UOM
CODE = "25"
#: QTY03 codes that count packages of the NDC (X12 355: UN unit, PK package)
PACKAGE_UNITS = frozenset({"", "UN", "PK"})
DEFAULT_FACTOR = 5
DEFAULT_MIN_LINES = 3

#: The step config keys this check reads, merged into the owning step's config schema.
CONFIG_PROPERTIES: Mapping[str, Any] = {
    "quantity_norm_factor": {
        "type": "number",
        "exclusiveMinimum": 1,
        "default": DEFAULT_FACTOR,
        "description": "§9.12: a quantity this many times the customer's usual quantity for the "
        "NDC goes to review (25) as a possible unit-of-measure mismatch.",
    },
    "quantity_norm_min_lines": {
        "type": "integer",
        "minimum": 1,
        "default": DEFAULT_MIN_LINES,
        "description": "§9.12: earlier paid claim lines of the customer and NDC needed before "
        "their median counts as the customer's usual quantity.",
    },
}


@dataclass(frozen=True)
class Norm:
    """What a customer usually claims for one NDC: the median of ``lines`` paid lines."""

    median: Decimal
    lines: int


def norm_of(quantities: Sequence[Decimal], min_lines: int) -> Norm | None:
    """The usual quantity, or None when too few lines say what usual is."""
    positive = [q for q in quantities if q > 0]
    if len(positive) < min_lines:
        return None
    return Norm(Decimal(statistics.median(positive)), len(positive))


def within_cap_in_packages(quantity: Decimal, package_size: Decimal, cap: Decimal) -> bool:
    """A quantity over the cap that, read as eaches of a multi-unit package, is within it."""
    return (
        package_size > 1
        and quantity > cap
        and quantity % package_size == 0
        and quantity / package_size <= cap
    )


def unit_of_measure(
    line: ClaimLine,
    product: m.Product,
    cap: Decimal | None,
    norm: Norm | None,
    factor: Decimal,
) -> Finding | None:
    """The §9.12 review finding for one line, or None when its quantity looks like packages."""
    quantity = line.quantity
    if quantity is None or quantity <= 0:
        return None  # a credit reverses an earlier line; it is not a new quantity
    pack, uom = product.package_size, product.uom.upper()
    unit = (line.unit or "").strip().upper()
    signals: list[str] = []
    if pack > 1 and unit in ("EA", uom):
        signals.append(f"QTY03 {unit} counts eaches, but the NDC is sold as a package")
    elif unit not in PACKAGE_UNITS and not (pack == 1 and unit in ("EA", uom)):
        signals.append(f"QTY03 {unit} is not a package unit (UN), so the package count is unknown")
    if cap is not None and within_cap_in_packages(quantity, pack, cap):
        signals.append(
            f"quantity {_plain(quantity)} is over the contract cap of {_plain(cap)} per line, "
            f"but {_plain(quantity / pack)} packages would be within it"
        )
    if norm is not None and quantity >= factor * norm.median:
        signals.append(
            f"quantity {_plain(quantity)} is {_plain(round(quantity / norm.median, 1))}x this "
            f"customer's usual {_plain(norm.median)} for the NDC (median of {norm.lines} paid "
            "lines)"
        )
    if not signals:
        return None
    as_packages = (
        f"; counted as eaches it would be {_plain(quantity / pack)} packages"
        if pack > 1 and quantity % pack == 0
        else ""
    )
    return Finding(
        line.line,
        RULE,
        "review",
        CODE,
        f"possible unit-of-measure mismatch on NDC {product.ndc11} (package of "
        f"{_plain(pack)} {uom}): "
        + "; ".join(signals)
        + as_packages
        + ". Not paid as claimed: confirm the quantity or resubmit it in packages (QTY03 UN)",
    )


def _plain(number: Decimal) -> str:
    """100, 2.5: a decimal without exponent or trailing zeros, for messages."""
    return format(number.normalize(), "f")


def norm_factor(config: Mapping[str, Any]) -> Decimal:
    return Decimal(str(config.get("quantity_norm_factor", DEFAULT_FACTOR)))


def usual_quantities(
    ref: lookup.Memo, claim: Claim, run_id: str, config: Mapping[str, Any]
) -> dict[int, Norm]:
    """line -> the customer's usual quantity of the line's NDC, from earlier runs' paid lines.

    The ledger files a line under the customer key of its day (the KUNNR, or ``TYPE:VALUE``
    for a customer not in the master), so every key the customer may have had is asked for.
    """
    min_lines = int(config.get("quantity_norm_min_lines", DEFAULT_MIN_LINES))
    # a claim repeats each (customer, NDC) on many lines: each is looked up and summed once
    asked: dict[int, tuple[tuple[str, ...], str]] = {
        line.line: (ref.match_of(line.customer).candidate_keys, line.ndc11)
        for line in claim.lines
        if line.ndc11 and line.quantity is not None and line.quantity > 0
    }
    if not asked:
        return {}
    distinct = set(asked.values())
    ndcs = sorted({ndc for _, ndc in distinct})
    keys = sorted({k for ks, _ in distinct for k in ks})
    seen: dict[tuple[str, str], dict[int, Decimal]] = defaultdict(dict)
    for row_id, customer_key, ndc11, qty in paid_quantities(ref.session, run_id, ndcs, keys):
        seen[(customer_key, ndc11)][row_id] = qty
    usual: dict[tuple[tuple[str, ...], str], Norm | None] = {}
    for customer_keys, ndc in distinct:
        quantities: dict[int, Decimal] = {}
        for key in customer_keys:
            quantities.update(seen.get((key, ndc), {}))
        usual[(customer_keys, ndc)] = norm_of(list(quantities.values()), min_lines)
    return {n: norm for n, terms in asked.items() if (norm := usual[terms]) is not None}
