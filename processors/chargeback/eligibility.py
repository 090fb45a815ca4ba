"""``chargeback.contract-eligibility``: is this sale on this contract, at this price?

Rules R08-R14 and R16 of the brief, all decided on the **invoice date** (§9.1):

- R08 the contract exists and is indirect (01); a void contract is deleted (23);
- R09 the invoice date is inside the contract term: after the end 02 (23 if terminated),
  before the start 19;
- R03/R10 the NDC is in the product master and active (14), and on the contract with a line
  effective at the invoice date (03); a per-line quantity cap (04); a quantity that looks
  counted in eaches for a multi-unit package NDC goes to review (25, §9.12): ``quantity``;
- R15 timeliness (29 late, by the contract's own claim window or the configured one; 18
  invoice after the DM or processing date): ``timeliness``;
- R16 the customer's class of trade is one the contract allows, and for contracts that are
  not roster-driven the customer is an explicit member (26, "customer not covered");
- R11 contract price on file for the customer's tier (06); a contract priced by tier only,
  for a customer without a tier on it, holds the line (25): the claimed price does not pick
  the tier; R12 WAC on file at the invoice date (07), R13 the claimed amount matches
  (WAC - CP) x qty (06), R14 CP >= WAC pays 0 (17).

The prices and amount on file go to ``data["prices"]`` so resolution and the 849 can show
them (UIT*CT / UIT*WH) next to what was submitted. When duplicate-check (an ancestor) left
only a delta payable (``data["net_quantity"]``, R07), allowed amounts are for that delta.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple, TypeVar

from engine.processors import StepContext
from processors.chargeback import quantity, rules, timeliness
from processors.chargeback.claim import Claim, ClaimLine, Finding, Outcome, chargeback_amount
from processors.chargeback.reference import lookup
from processors.chargeback.reference import models as m
from processors.chargeback.reference.rulestep import Checked, RuleStep

ZERO = Decimal("0.00")
ROSTER_DRIVEN = ("GPO",)


class _Reject(Exception):
    """One line's first hard failure: the rest of its checks would be meaningless."""

    outcome: ClassVar[Outcome] = "reject"

    def __init__(self, rule: str, code: str, message: str) -> None:
        super().__init__(message)
        self.finding = (rule, code, message)


class _Hold(_Reject):
    """A line only a person can price (e.g. which tier price applies): its remaining checks
    would be as meaningless as after a rejection, but it is held for review, not refused."""

    outcome: ClassVar[Outcome] = "review"


class ContractEligibility(RuleStep):
    datasets: ClassVar[tuple[str, ...]] = (
        "contracts",
        "contract_lines",
        "contract_eligibility",
        "products",
        "wac",
        "gpo_roster",
        "sap_customers",
    )
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "amount_tolerance": {
                "type": "string",
                "pattern": r"^\d+(\.\d+)?$",
                "default": "0.01",
                "description": "R13: largest accepted difference between claimed and computed amount.",
            },
            **timeliness.CONFIG_PROPERTIES,
            **quantity.CONFIG_PROPERTIES,
        },
    }

    def prefetch(self, ref: lookup.Memo, claim: Claim) -> None:
        super().prefetch(ref, claim)
        lookup.prefetch_roster(ref, (line.customer for line in claim.lines))
        sold = {
            (line.contract_id, line.ndc11, line.invoice_date)
            for line in claim.lines
            if line.contract_id and line.ndc11 and line.invoice_date
        }
        priced = [
            (c.contract_id, p.ndc11, day)
            for contract_id, ndc, day in sold
            if (c := ref(lookup.contract, contract_id)) is not None
            and (p := ref(lookup.product, ndc)) is not None
        ]
        ref.prefetch(lookup.contract_lines, ((c, n) for c, n, _ in priced))
        ref.prefetch(lookup.wac_at, ((n, day) for _, n, day in priced))

    def check(self, ref: lookup.Memo, claim: Claim, context: StepContext) -> Checked:
        tolerance = Decimal(str(self.config.get("amount_tolerance", "0.01")))
        factor = quantity.norm_factor(self.config)
        payable = _payable_quantities(context)
        findings = timeliness.timeliness_findings(claim, self.config, _windows(ref, claim))
        norms = quantity.usual_quantities(ref, claim, context.run_id, self.config)  # §9.12
        terms = _Terms(ref)
        prices: dict[str, dict[str, str]] = {}
        for line in claim.lines:
            try:
                line_findings, on_file = _line(
                    terms,
                    line,
                    tolerance,
                    factor,
                    payable.get(str(line.line)),
                    norms.get(line.line),
                )
            except _Reject as stop:
                rule, code, message = stop.finding
                amount = ZERO if stop.outcome == "reject" else None
                findings.append(Finding(line.line, rule, stop.outcome, code, message, amount))
                continue
            findings += line_findings
            prices[str(line.line)] = on_file
        return Checked(findings=findings, data={"prices": prices})


def _line(
    terms: _Terms,
    line: ClaimLine,
    tolerance: Decimal,
    factor: Decimal,
    payable: Decimal | None,
    norm: quantity.Norm | None,
) -> tuple[list[Finding], dict[str, str]]:
    """One line's verdict: the terms on file it shares with other lines, then its own quantity
    and amounts."""
    day = _invoice_date(line)
    sale = terms.sale(line, day)
    tier = terms.coverage(sale.contract, terms.ref.match_of(line.customer), day)
    price = terms.price(sale, day, tier)
    product, cap, wac = sale.product, price.qty_cap, price.wac
    uom = quantity.unit_of_measure(line, product, cap, norm, factor)  # §9.12, review 25
    if (
        cap is not None
        and line.quantity is not None
        and line.quantity > cap
        and not quantity.within_cap_in_packages(line.quantity, product.package_size, cap)
    ):
        raise _Reject(
            rules.R10, "04", f"quantity {line.quantity} exceeds the contract cap of {cap} per line"
        )
    if wac is None:
        raise _Reject(rules.R12, "07", f"no WAC on file for NDC {sale.ndc} on {day}")
    findings, on_file = _pricing(line, price, wac, tolerance, payable)
    return ([uom] if uom else []) + findings, on_file


class _Sale(NamedTuple):
    """A contract and product valid on a day, and the product's price lines on the contract."""

    contract: m.Contract
    product: m.Product
    ndc: str
    lines: list[m.ContractLine]


class _Priced(NamedTuple):
    """The contract price line on file for some lines' terms, its fields read off the ORM row
    once rather than on every line, and the WAC in force."""

    contract_id: str
    ndc11: str
    contract_price: Decimal
    qty_cap: Decimal | None
    basis: str
    #: None is rejected only after the quantity cap (R10 is checked before R12)
    wac: Decimal | None


_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class _Terms:
    """The reference verdicts the lines of one claim share, each reached once.

    A line's terms depend only on its contract, NDC and invoice date and its customer (the
    class of trade and tier); a claim repeats few of those over many lines (thousands of lines, hundreds of
    customers, tens of contracts), and deciding them line by line cost most of the step. A
    rejection is kept too, and every line with the same terms gets it.
    """

    def __init__(self, ref: lookup.Memo) -> None:
        self.ref = ref
        self._sales: dict[tuple[str, str, date], _Sale | _Reject] = {}
        self._coverage: dict[tuple[str, int, date], str | None | _Reject] = {}
        self._prices: dict[tuple[str, str, date, str | None], _Priced | _Reject] = {}

    def sale(self, line: ClaimLine, day: date) -> _Sale:
        """The line's contract (R08, R09) and product (R03), the product on it (R10)."""
        if not line.contract_id or not line.ndc11:  # rejected for what the line itself lacks
            return _sale(self.ref, line, day)
        key = (line.contract_id, line.ndc11, day)
        return _once(self._sales, key, lambda: _sale(self.ref, line, day))

    def coverage(self, contract: m.Contract, match: lookup.CustomerMatch, day: date) -> str | None:
        """The customer's tier on the contract, once it is covered (R16)."""

        def decide() -> str | None:
            cot, tier, source = _class_and_tier(self.ref, contract, match, day)
            _eligible(self.ref, contract, match, cot, source, day)
            return tier

        # id(match) names the customer (see Memo.match_of)
        return _once(self._coverage, (contract.contract_id, id(match), day), decide)

    def price(self, sale: _Sale, day: date, tier: str | None) -> _Priced:
        """The contract price for the tier (R10, R11) and the WAC (R12) in force on the day;
        a customer without a tier the contract prices is held (R11, 25)."""

        def decide() -> _Priced:
            contract_id = sale.contract.contract_id
            price = lookup.price_on_file(sale.lines, day, tier)
            if price is None:
                raise _Reject(
                    rules.R10,
                    "03",
                    f"NDC {sale.ndc} is on contract {contract_id} but no price line "
                    f"is effective on {day}",
                )
            if isinstance(price, lookup.TierUnknown):
                held = f"tier {tier}, which the contract does not price" if tier else "no tier"
                raise _Hold(
                    rules.R11,
                    "25",
                    f"the customer has {held} on contract {contract_id}, which prices NDC "
                    f"{sale.ndc} by tier only on {day} ({price.prices}): the tier is a "
                    "person's call, not the claim's",
                )
            wac = self.ref(lookup.wac_at, (sale.ndc, day))
            on_file = price.line
            return _Priced(
                on_file.contract_id,
                on_file.ndc11,
                on_file.contract_price,
                on_file.qty_cap,
                price.basis,
                wac.wac if wac is not None else None,
            )

        key = (sale.contract.contract_id, sale.ndc, day, tier)
        return _once(self._prices, key, decide)


def _sale(ref: lookup.Memo, line: ClaimLine, day: date) -> _Sale:
    contract = _contract(ref, line, day)
    product = _product(ref, line, day)
    ndc = product.ndc11
    on_contract = ref(lookup.contract_lines, (contract.contract_id, ndc))
    if not on_contract:
        raise _Reject(rules.R10, "03", f"NDC {ndc} is not on contract {contract.contract_id}")
    return _Sale(contract, product, ndc, on_contract)


def _once(known: dict[_K, _V | _Reject], key: _K, decide: Callable[[], _V]) -> _V:
    """``decide()`` for the first line with ``key``; every later one gets the same answer, or
    the same rejection (raised anew: raising one exception again would grow its traceback)."""
    try:
        answer = known[key]
    except KeyError:
        try:
            answer = known[key] = decide()
        except _Reject as stop:
            # not the raised one: its traceback holds frames
            known[key] = type(stop)(*stop.finding)
            raise
        return answer
    if isinstance(answer, _Reject):
        raise type(answer)(*answer.finding)
    return answer


def _windows(ref: lookup.Memo, claim: Claim) -> dict[str, int]:
    """R15: contract as claimed -> the claim window the contract sets, where it sets one."""
    windows: dict[str, int] = {}
    for contract_id in {line.contract_id for line in claim.lines if line.contract_id}:
        contract = ref(lookup.contract, contract_id)
        if contract is not None and contract.claim_window_days is not None:
            windows[contract_id] = contract.claim_window_days
    return windows


def _payable_quantities(context: StepContext) -> dict[str, Decimal]:
    """Quantities duplicate-check left payable (a resubmission pays only its delta, R07), so
    an adjusted amount here is the delta at the prices on file, not the whole quantity."""
    payable: dict[str, Decimal] = {}
    for up in context.upstream.values():
        net = up.data.get("net_quantity")
        if isinstance(net, dict):
            payable.update({str(k): Decimal(str(v)) for k, v in net.items()})
    return payable


def _invoice_date(line: ClaimLine) -> date:
    if line.invoice_date is None:
        bad = next((i for i in line.issues if i.field.startswith("invoice_date") and i.code), None)
        if bad is not None and bad.code is not None:
            raise _Reject(rules.R09, bad.code, bad.message)
        raise _Reject(rules.R09, "15", "invoice date missing: contract terms cannot be checked")
    return line.invoice_date


def _contract(ref: lookup.Memo, line: ClaimLine, day: date) -> m.Contract:
    if not line.contract_id:
        raise _Reject(rules.R08, "15", "contract number missing")
    contract = ref(lookup.contract, line.contract_id)
    if contract is None:
        raise _Reject(rules.R08, "01", f"contract {line.contract_id} does not exist")
    if contract.mode == "DIRECT":
        raise _Reject(
            rules.R08,
            "01",
            f"contract {contract.contract_id} is a direct contract, not chargeback-eligible",
        )
    if contract.status == "VOID":
        raise _Reject(rules.R08, "23", f"contract {contract.contract_id} was voided")
    if day > contract.end_date:
        if contract.status == "TERMINATED":
            raise _Reject(
                rules.R09,
                "23",
                f"contract {contract.contract_id} was terminated on {contract.end_date}; invoice {day}",
            )
        raise _Reject(
            rules.R09,
            "02",
            f"contract {contract.contract_id} ended {contract.end_date}; invoice dated {day}",
        )
    if day < contract.start_date:
        raise _Reject(
            rules.R09,
            "19",
            f"contract {contract.contract_id} starts {contract.start_date}; invoice dated {day}",
        )
    return contract


def _product(ref: lookup.Memo, line: ClaimLine, day: date) -> m.Product:
    if not line.ndc11:
        raise _Reject(rules.R03, "14", line.ndc_problem or "NDC missing or unreadable")
    product = ref(lookup.product, line.ndc11)
    if product is None:
        raise _Reject(rules.R03, "14", f"NDC {line.ndc11} is not in the product master")
    if not lookup.in_period(day, product.active_from, product.active_to):
        raise _Reject(rules.R03, "14", f"NDC {line.ndc11} is not active on {day}")
    return product


def _class_and_tier(
    ref: lookup.Memo, contract: m.Contract, match: lookup.CustomerMatch, day: date
) -> tuple[str | None, str | None, str]:
    """Class of trade and tier: the contract GPO's roster first, then the customer master."""
    if contract.gpo_id:
        for hit in ref(lookup.roster_hits, lookup.known_identifiers(ref, match)):
            if hit.row.gpo_id == contract.gpo_id and lookup.member_on(hit.row, day):
                return hit.row.class_of_trade, hit.row.tier, f"roster {contract.gpo_id}"
    elig = ref(lookup.explicit_eligibility, contract.contract_id, match.kunnr, day)
    master = ref(lookup.customer, match.kunnr)
    cot = master.brsch if master is not None and master.brsch else None
    return cot, elig.tier if elig is not None else None, "customer master"


def _eligible(
    ref: lookup.Memo,
    contract: m.Contract,
    match: lookup.CustomerMatch,
    cot: str | None,
    source: str,
    day: date,
) -> None:
    not_roster_driven = contract.contract_type not in ROSTER_DRIVEN
    if (
        not_roster_driven
        and ref(lookup.explicit_eligibility, contract.contract_id, match.kunnr, day) is None
    ):
        who = match.kunnr or match.key
        raise _Reject(
            rules.R16,
            "26",
            f"customer not covered: {who} is not a member of contract {contract.contract_id} on {day}",
        )
    allowed = contract.allowed_cot_set
    if cot is None:
        if allowed:
            raise _Reject(
                rules.R16,
                "26",
                "customer not covered: class of trade unknown (customer not in the master or roster)",
            )
        return
    if allowed and cot not in allowed:
        raise _Reject(
            rules.R16,
            "26",
            f"customer not covered: class of trade {cot} ({source}) is not eligible on "
            f"contract {contract.contract_id} ({', '.join(sorted(allowed))})",
        )


def _pricing(
    line: ClaimLine,
    price: _Priced,
    wac: Decimal,
    tolerance: Decimal,
    payable: Decimal | None,
) -> tuple[list[Finding], dict[str, str]]:
    n = line.line
    cp = price.contract_price
    findings: list[Finding] = []
    allowed = None
    quantity = payable if payable is not None else line.quantity
    if quantity is not None:
        allowed = (
            max(chargeback_amount(wac, cp, quantity), ZERO)
            if quantity > 0
            else chargeback_amount(wac, cp, quantity)
        )
    if cp >= wac:
        findings.append(
            Finding(
                n,
                rules.R14,
                "adjust",
                "17",
                f"contract price {cp} is not below WAC {wac}: nothing to charge back",
                ZERO,
            )
        )
        allowed = ZERO
    if line.contract_price is not None and line.contract_price != cp:
        findings.append(
            Finding(
                n,
                rules.R11,
                "adjust",
                "06",
                f"contract price submitted {line.contract_price}, on file {cp} ({price.basis})",
                allowed,
            )
        )
    if line.wac is not None and line.wac != wac:
        findings.append(
            Finding(
                n,
                rules.R12,
                "adjust",
                "07",
                f"WAC submitted {line.wac}, on file {wac} at the invoice date {line.invoice_date}",
                allowed,
            )
        )
    expected, claimed = line.expected_amount, line.claimed_amount
    if (
        not findings
        and expected is not None
        and claimed is not None
        and abs(claimed - expected) > tolerance
    ):
        findings.append(
            Finding(
                n,
                rules.R13,
                "adjust",
                "06",
                f"claimed {line.claimed_amount}, but (WAC - CP) x quantity = {line.expected_amount}",
                allowed,
            )
        )
    if not findings:
        findings.append(
            Finding(
                n,
                rules.R08_R16,
                "pass",
                None,
                f"contract {price.contract_id} covers NDC {price.ndc11} on "
                f"{line.invoice_date} at {cp} ({price.basis}); WAC {wac}",
            )
        )
    on_file = {"contract_price": str(cp), "wac": str(wac), "tier_basis": price.basis}
    if payable is not None:
        on_file["payable_quantity"] = str(payable)
    if allowed is not None:
        on_file["allowed_amount"] = str(allowed)
    return findings, on_file
