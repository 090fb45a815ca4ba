"""The API_BUSINESS_PARTNER client against a real HTTP server on 127.0.0.1.

The server plays SAP Gateway: it checks basic auth and ``sap-client`` on every request, hands
out a CSRF token bound to a session cookie, refuses writes without both, parses the ``$filter``
the client sends, validates the deep-insert body, and answers in OData v2 JSON.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engine.processors import StepContext, StepFailed, TransientError
from processors.chargeback.claim import Address, Claim, ClaimLine, Identifier, Party
from processors.chargeback.reference.testing import intake
from processors.chargeback.sap import SapCustomerCreation, request_key
from processors.chargeback.sap_odata import Credentials, ODataClient, quote_literal

SERVICE = "/sap/opu/odata/sap/API_BUSINESS_PARTNER"
USER, PASSWORD = "CB_SERVICE", "s3cret-pa55word"
_LITERAL = r"'((?:[^']|'')*)'"


def _unquote(value: str) -> str:
    return value.replace("''", "'")


@dataclass
class FakeSap:
    """In-memory business partners plus the knobs a test turns."""

    partners: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    token: str = "tok-1"
    expire_token_once: bool = False
    drop_response_after_create: bool = False
    fail_status: int | None = None

    def identification_rows(self) -> list[dict[str, str]]:
        return [
            {"BusinessPartner": number, **i}
            for number, bp in self.partners.items()
            for i in bp["to_BuPaIdentification"]["results"]
        ]


def _handler(sap: FakeSap) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _error(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
            self._answer(
                status,
                {"error": {"code": "FAKE/1", "message": {"lang": "en", "value": text}}},
                headers,
            )

        def _common(self) -> tuple[str, dict[str, str]] | None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            body = None
            if self.command == "POST":
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            sap.requests.append((self.command, url.path, query, body))
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._error(401, "Logon failed")
                return None
            if query.get("sap-client") != "100":
                self._error(400, "sap-client missing")
                return None
            if self.headers.get("Accept") != "application/json":
                self._error(406, "ask for JSON")
                return None
            if sap.fail_status:
                self._error(sap.fail_status, "Service unavailable")
                return None
            if not url.path.startswith(SERVICE):
                self._error(404, "no such service")
                return None
            return url.path[len(SERVICE) :].strip("/"), query

        def do_GET(self) -> None:
            common = self._common()
            if common is None:
                return
            resource, query = common
            if resource == "":
                if self.headers.get("X-CSRF-Token") == "Fetch":
                    headers = {
                        "x-csrf-token": sap.token,
                        "Set-Cookie": "SAP_SESSIONID_S4=sess-1; path=/",
                    }
                    self._answer(200, {"d": {"EntitySets": ["A_BusinessPartner"]}}, headers)
                else:
                    self._answer(200, {"d": {"EntitySets": ["A_BusinessPartner"]}})
                return
            if resource == "A_BuPaIdentification":
                m = re.fullmatch(
                    rf"BPIdentificationType eq {_LITERAL} and BPIdentificationNumber eq {_LITERAL}",
                    query.get("$filter", ""),
                )
                if m is None:
                    self._error(400, f"unsupported filter {query.get('$filter')}")
                    return
                kind, number = _unquote(m.group(1)), _unquote(m.group(2))
                rows = [
                    {"BusinessPartner": r["BusinessPartner"]}
                    for r in sap.identification_rows()
                    if r["BPIdentificationType"] == kind and r["BPIdentificationNumber"] == number
                ]
                self._answer(200, {"d": {"results": rows}})
                return
            if resource == "A_BusinessPartner":
                m = re.fullmatch(rf"SearchTerm2 eq {_LITERAL}", query.get("$filter", ""))
                if m is None or query.get("$expand") != "to_BuPaIdentification":
                    self._error(400, "unsupported query")
                    return
                found = [
                    bp for bp in sap.partners.values() if bp["SearchTerm2"] == _unquote(m.group(1))
                ]
                self._answer(200, {"d": {"results": found}})
                return
            m = re.fullmatch(rf"A_BusinessPartner\({_LITERAL}\)", resource)
            if m is not None:
                bp = sap.partners.get(_unquote(m.group(1)))
                if bp is None:
                    self._error(404, "Resource not found")
                else:
                    self._answer(200, {"d": bp})
                return
            self._error(404, f"unknown resource {resource}")

        def do_POST(self) -> None:
            common = self._common()
            if common is None:
                return
            resource, _ = common
            body = sap.requests[-1][3]
            if sap.expire_token_once:
                sap.expire_token_once = False
                sap.token = "tok-2"
            if self.headers.get("X-CSRF-Token") != sap.token or "SAP_SESSIONID_S4=sess-1" not in (
                self.headers.get("Cookie") or ""
            ):
                self._error(403, "CSRF token validation failed", {"x-csrf-token": "Required"})
                return
            if resource == "A_BusinessPartner":
                problem = _deep_insert_problem(body)
                if problem:
                    self._error(400, problem)
                    return
                number = str(1000100 + len(sap.partners))
                entity = {
                    **{k: v for k, v in body.items() if not k.startswith("to_")},
                    "BusinessPartner": number,
                    "to_BuPaIdentification": {
                        "results": [
                            {"BusinessPartner": number, **i} for i in body["to_BuPaIdentification"]
                        ]
                    },
                }
                sap.partners[number] = entity
                if sap.drop_response_after_create:
                    sap.drop_response_after_create = False
                    self.close_connection = True
                    self.connection.close()  # the create happened; the answer is lost
                    return
                self._answer(201, {"d": entity})
                return
            if resource == "A_BuPaIdentification":
                bp = sap.partners.get(body.get("BusinessPartner"))
                if bp is None:
                    self._error(400, "unknown business partner")
                    return
                bp["to_BuPaIdentification"]["results"].append(body)
                self._answer(201, {"d": body})
                return
            self._error(405, "not creatable")

    return Handler


def _deep_insert_problem(body: dict[str, Any]) -> str | None:
    """The fields a real deep insert needs (brief §6); None when the body is complete."""
    required = [
        "BusinessPartnerCategory",
        "BusinessPartnerGrouping",
        "OrganizationBPName1",
        "SearchTerm2",
    ]
    missing = [k for k in required if not body.get(k)]
    if missing:
        return f"missing {missing}"
    if {r["BusinessPartnerRole"] for r in body.get("to_BusinessPartnerRole", [])} != {
        "FLCU00",
        "FLCU01",
    }:
        return "roles FLCU00 and FLCU01 are needed for a customer"
    customer = body.get("to_Customer") or {}
    company = (customer.get("to_CustomerCompany") or [{}])[0]
    area = (customer.get("to_CustomerSalesArea") or [{}])[0]
    if not company.get("ReconciliationAccount") or not area.get("SalesOrganization"):
        return "company code data needs a reconciliation account, sales area data a sales org"
    if not body.get("to_BuPaIdentification"):
        return "identifications missing"
    if len(body["SearchTerm1"]) > 20 or len(body["SearchTerm2"]) > 20:
        return "search terms are CHAR 20"
    return None


@pytest.fixture()
def sap() -> Iterator[tuple[FakeSap, str]]:
    state = FakeSap()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}{SERVICE}"
    server.shutdown()
    server.server_close()
    thread.join()


# --- the processor end to end ---------------------------------------------------------------


def _id(kind: str, value: str) -> Identifier:
    return Identifier(kind, value, True)  # type: ignore[arg-type]


HOSPITAL = Party(
    "ST",
    "ST ELSEWHERE GENERAL HOSPITAL",
    (_id("dea", "BS4182301"), _id("hin", "A1B2C3D00"), _id("gln", "1234567890128")),
    Address(("1 HOSPITAL DR",), "SPRINGFIELD", "OH", "45501"),
)


def _context(tmp_path: Path, env: dict[str, str] | None = None) -> StepContext:
    claim = Claim(
        format="x12-844",
        extractor="x12-844",
        document_sha256="0" * 64,
        debit_memo="DM1",
        claim_date=None,
        lines=(ClaimLine(line=1, line_id="1", customer=HOSPITAL, quantity=Decimal(1)),),
    )
    store = f"sqlite:///{tmp_path / 'store.db'}"
    return StepContext(
        run_id="run-1",
        workflow="chargeback",
        step="sap-customer-creation",
        attempt=1,
        params={},
        env={"SAP_USER": USER, "SAP_PASSWORD": PASSWORD} if env is None else env,
        upstream={"extract-identifiers": intake(claim, store)},
        workdir=tmp_path,
        database_url=store,
    )


def _processor(url: str, **extra: Any) -> SapCustomerCreation:
    return SapCustomerCreation({"gateway": "odata", "base_url": url, "timeout": 5, **extra})


def test_creates_a_business_partner_with_a_csrf_protected_deep_insert(
    sap: tuple[FakeSap, str], tmp_path: Path
) -> None:
    state, url = sap
    result = _processor(url).process(_context(tmp_path))
    assert dict(result.outputs) == {"created": 1, "updated": 0, "unchanged": 0, "conflicts": 0}
    methods = [
        (m, p[len(SERVICE) :].strip("/") or "(service root)") for m, p, _, _ in state.requests
    ]
    # request key, then every identifier strongest first, then token fetch, then the create
    assert methods == [
        ("GET", "A_BusinessPartner"),
        ("GET", "A_BuPaIdentification"),
        ("GET", "A_BuPaIdentification"),
        ("GET", "A_BuPaIdentification"),
        ("GET", "(service root)"),
        ("POST", "A_BusinessPartner"),
    ]
    searches = [q["$filter"] for m, p, q, _ in state.requests if p.endswith("A_BuPaIdentification")]
    assert searches[0] == "BPIdentificationType eq 'ZHIN' and BPIdentificationNumber eq 'A1B2C3D00'"
    (bp,) = state.partners.values()
    key = request_key([("HIN", "A1B2C3D00"), ("DEA", "BS4182301"), ("GLN", "1234567890128")])
    assert bp["SearchTerm2"] == key[:20].upper()
    assert bp["SearchTerm1"] == "A1B2C3D00"
    assert bp["OrganizationBPName1"] == "ST ELSEWHERE GENERAL HOSPITAL"
    body = state.requests[-1][3]
    assert body["to_BusinessPartnerAddress"][0]["PostalCode"] == "45501"
    assert body["to_Customer"]["to_CustomerCompany"][0]["CompanyCode"] == "1000"
    assert result.data["customers"][0]["number"] == "1000100"


def test_a_rerun_finds_the_partner_and_creates_nothing(
    sap: tuple[FakeSap, str], tmp_path: Path
) -> None:
    state, url = sap
    _processor(url).process(_context(tmp_path))
    again = _processor(url).process(_context(tmp_path))
    assert dict(again.outputs) == {"created": 0, "updated": 0, "unchanged": 1, "conflicts": 0}
    assert len(state.partners) == 1


def test_a_create_whose_answer_was_lost_is_not_repeated(
    sap: tuple[FakeSap, str], tmp_path: Path
) -> None:
    state, url = sap
    state.drop_response_after_create = True
    with pytest.raises(TransientError, match="cannot reach SAP"):
        _processor(url).process(_context(tmp_path))
    retry = _processor(url).process(_context(tmp_path))  # what the engine's retry does
    assert retry.outputs["unchanged"] == 1 and retry.outputs["created"] == 0
    assert len(state.partners) == 1


def test_missing_identifiers_are_added_to_the_partner_found(
    sap: tuple[FakeSap, str], tmp_path: Path
) -> None:
    state, url = sap
    state.partners["1000077"] = {
        "BusinessPartner": "1000077",
        "OrganizationBPName1": "ST ELSEWHERE GENERAL",
        "SearchTerm2": "OTHER",
        "to_BuPaIdentification": {
            "results": [
                {
                    "BusinessPartner": "1000077",
                    "BPIdentificationType": "ZDEA",
                    "BPIdentificationNumber": "BS4182301",
                }
            ]
        },
    }
    result = _processor(url).process(_context(tmp_path))
    assert dict(result.outputs) == {"created": 0, "updated": 1, "unchanged": 0, "conflicts": 0}
    held = {
        (i["BPIdentificationType"], i["BPIdentificationNumber"])
        for i in state.identification_rows()
    }
    assert held == {("ZDEA", "BS4182301"), ("ZHIN", "A1B2C3D00"), ("ZGLN", "1234567890128")}


def test_an_expired_csrf_token_is_fetched_again_once(
    sap: tuple[FakeSap, str], tmp_path: Path
) -> None:
    state, url = sap
    state.expire_token_once = True
    assert _processor(url).process(_context(tmp_path)).outputs["created"] == 1
    fetches = [r for r in state.requests if r[1].rstrip("/") == SERVICE]
    assert len(fetches) == 2


def test_refused_credentials_fail_without_showing_them(
    sap: tuple[FakeSap, str], tmp_path: Path
) -> None:
    _, url = sap
    with pytest.raises(StepFailed) as info:
        _processor(url).process(
            _context(tmp_path, {"SAP_USER": USER, "SAP_PASSWORD": "wrong-password"})
        )
    assert "401" in str(info.value) and "wrong-password" not in str(info.value)
    with pytest.raises(StepFailed, match="SAP_PASSWORD") as missing:
        _processor(url).process(_context(tmp_path, {"SAP_USER": USER}))
    assert PASSWORD not in repr(missing.value)


def test_credentials_only_in_the_process_env_are_not_used(
    sap: tuple[FakeSap, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step sees only the env it declares: SAP credentials in the environment of whoever
    runs flowspec, which the spec does not hand the step, are never sent."""
    state, url = sap
    monkeypatch.setenv("SAP_USER", USER)
    monkeypatch.setenv("SAP_PASSWORD", PASSWORD)
    with pytest.raises(StepFailed, match="SAP_USER"):
        _processor(url).process(_context(tmp_path, {}))
    assert state.requests == []


def test_unavailable_sap_is_transient(sap: tuple[FakeSap, str], tmp_path: Path) -> None:
    state, url = sap
    state.fail_status = 503
    with pytest.raises(TransientError, match="503.*Service unavailable"):
        _processor(url).process(_context(tmp_path))


def test_config_refuses_credentials_in_the_url() -> None:
    with pytest.raises(StepFailed, match="must not contain credentials"):
        ODataClient(f"https://{USER}:{PASSWORD}@s4.example{SERVICE}", Credentials("none"))
    with pytest.raises(StepFailed, match="needs base_url"):
        SapCustomerCreation({"gateway": "odata"})


def test_client_repr_and_literals_are_safe() -> None:
    client = ODataClient(f"https://s4.example{SERVICE}", Credentials("basic", USER, PASSWORD))
    assert PASSWORD not in repr(client) and USER not in repr(client)
    assert quote_literal("O'Brien' or 1 eq 1") == "'O''Brien'' or 1 eq 1'"
