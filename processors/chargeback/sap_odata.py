"""A small OData v2 JSON client for SAP Gateway services (S/4HANA ``API_BUSINESS_PARTNER``).

Only the standard library: one service, a handful of calls, and a dependency less in the
processor image. What SAP Gateway needs that a plain HTTP client does not do:

* writes carry an ``X-CSRF-Token`` fetched first with ``X-CSRF-Token: Fetch`` on a GET, and
  the token is bound to the session cookies of that GET, so cookies are kept per client;
  a token that expired (403 with ``X-CSRF-Token: Required``) is fetched again once;
* ``sap-client`` selects the client (MANDT) on every request;
* answers are ``{"d": ...}`` (``{"d": {"results": [...]}}`` for collections) and errors
  ``{"error": {"message": {"value": ...}}}``.

Credentials come from environment variables named in the config, never from the config or
the URL, and never appear in an error message, a log line or ``repr``.
"""

from __future__ import annotations

import base64
import http.client
import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.processors import StepFailed, TransientError

AuthKind = Literal["basic", "bearer", "none"]
_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Credentials:
    """What goes into the Authorization header; ``repr`` shows only the kind."""

    kind: AuthKind
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(
        cls,
        kind: AuthKind,
        env: Mapping[str, str],
        *,
        username_env: str,
        password_env: str,
        token_env: str,
    ) -> Credentials:
        """Read the credentials; a missing variable is named (its value never is)."""
        needed = {"basic": (username_env, password_env), "bearer": (token_env,), "none": ()}[kind]
        missing = [name for name in needed if not env.get(name)]
        if missing:
            raise StepFailed(
                f"SAP {kind} authentication needs the environment variable(s) "
                f"{', '.join(missing)}; set them in the step's env from a secret"
            )
        if kind == "basic":
            return cls(kind, username=env[username_env], password=env[password_env])
        if kind == "bearer":
            return cls(kind, token=env[token_env])
        return cls(kind)

    def header(self) -> str | None:
        if self.kind == "basic":
            raw = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(raw).decode("ascii")
        if self.kind == "bearer":
            return f"Bearer {self.token}"
        return None


def quote_literal(value: str) -> str:
    """An OData string literal: quotes doubled, so a value can never end the literal early."""
    return "'" + value.replace("'", "''") + "'"


def results(payload: Any) -> list[Any]:
    """The entries of a collection answer (``d.results``) or of an expanded navigation."""
    if isinstance(payload, Mapping):
        payload = payload.get("results", payload)
    return list(payload) if isinstance(payload, list) else []


def _error_text(body: bytes) -> str:
    try:
        error = json.loads(body)["error"]
        message = error["message"]
        text = message["value"] if isinstance(message, Mapping) else str(message)
        return f"{text} [{error.get('code', '?')}]"
    except (ValueError, KeyError, TypeError):
        return body[:200].decode("utf-8", "replace").strip() or "no details"


class ODataClient:
    """Calls one OData v2 service; ``service_url`` ends with the service name."""

    def __init__(
        self,
        service_url: str,
        credentials: Credentials,
        *,
        sap_client: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        parts = urllib.parse.urlsplit(service_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StepFailed(
                f"base_url must be an http(s) URL of the OData service, e.g. "
                f"https://host/sap/opu/odata/sap/API_BUSINESS_PARTNER; got {parts.scheme or 'no'} scheme"
            )
        if parts.username or parts.password:
            raise StepFailed(
                "base_url must not contain credentials; name environment variables in "
                "username_env/password_env (or token_env) instead"
            )
        self.service_url = service_url.rstrip("/")
        self._host = parts.netloc
        self._credentials = credentials
        self._sap_client = sap_client
        self._timeout = timeout
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self._csrf: str | None = None

    def __repr__(self) -> str:
        return f"ODataClient({self.service_url!r}, {self._credentials!r})"

    # -- public calls ------------------------------------------------------------------------

    def get(self, resource: str, query: Mapping[str, str] | None = None) -> Any:
        """The ``d`` of the answer; None when the entity does not exist (404)."""
        status, _, body = self._send("GET", resource, query, None, {})
        if status == 404:
            return None
        self._check(status, body, "GET", resource)
        return self._payload(body, "GET", resource)

    def post(self, resource: str, body: Mapping[str, Any]) -> Any:
        """Create (deep insert); the ``d`` of the created entity."""
        data = json.dumps(body).encode("utf-8")
        for attempt in (1, 2):
            if self._csrf is None:
                self._fetch_token()
            status, headers, answer = self._send(
                "POST", resource, None, data, {"X-CSRF-Token": self._csrf or ""}
            )
            if (
                status == 403
                and headers.get("x-csrf-token", "").lower() == "required"
                and attempt == 1
            ):
                self._csrf = None  # expired with the session; fetch a new one once
                continue
            self._check(status, answer, "POST", resource)
            return self._payload(answer, "POST", resource)
        raise StepFailed(f"SAP kept rejecting the CSRF token for POST {resource}")

    # -- plumbing ----------------------------------------------------------------------------

    def _fetch_token(self) -> None:
        status, headers, body = self._send("GET", "", None, None, {"X-CSRF-Token": "Fetch"})
        self._check(status, body, "GET", "(CSRF token)")
        token = headers.get("x-csrf-token")
        if not token or token.lower() == "required":
            raise StepFailed(
                f"SAP at {self._host} returned no CSRF token; the service must allow "
                "X-CSRF-Token: Fetch on GET"
            )
        self._csrf = token

    def _url(self, resource: str, query: Mapping[str, str] | None) -> str:
        params = dict(query or {})
        if self._sap_client:
            params["sap-client"] = self._sap_client
        url = f"{self.service_url}/{resource}"
        if params:
            url += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="$,'()")
        return url

    def _send(
        self,
        method: str,
        resource: str,
        query: Mapping[str, str] | None,
        data: bytes | None,
        headers: Mapping[str, str],
    ) -> tuple[int, Mapping[str, str], bytes]:
        all_headers = {"Accept": "application/json", **headers}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        auth = self._credentials.header()
        if auth:
            all_headers["Authorization"] = auth
        request = urllib.request.Request(
            self._url(resource, query), data=data, headers=all_headers, method=method
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return response.status, _lower(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, _lower(exc.headers), exc.read()
        except (http.client.HTTPException, OSError) as exc:  # URLError and timeouts are OSErrors
            reason = getattr(exc, "reason", exc)
            raise TransientError(f"cannot reach SAP at {self._host}: {reason}") from None

    def _check(self, status: int, body: bytes, method: str, resource: str) -> None:
        if status < 300:
            return
        what = f"SAP answered {status} to {method} {resource or '/'}"
        if status in (401, 403):
            raise StepFailed(f"{what}: the credentials were refused or lack authorization")
        if status in _RETRYABLE:
            raise TransientError(f"{what}: {_error_text(body)}")
        raise StepFailed(f"{what}: {_error_text(body)}")

    def _payload(self, body: bytes, method: str, resource: str) -> Any:
        try:
            document = json.loads(body)
        except ValueError:
            raise StepFailed(f"SAP's answer to {method} {resource} is not JSON") from None
        if not isinstance(document, Mapping) or "d" not in document:
            raise StepFailed(f"SAP's answer to {method} {resource} has no 'd' member (OData v2)")
        return document["d"]


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()} if headers is not None else {}
