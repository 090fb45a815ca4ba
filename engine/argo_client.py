"""Talking to an Argo Server through Hera's ``WorkflowsService``: create or update, submit from
a template, get, follow, list, stop, terminate, retry, and read pod logs.

Every failure becomes one ``ArgoError`` whose message is one line a user can act on
(unreachable server, TLS, 401, 403, 404, 409, a server answering something that is not
Argo, a 404 from a URL that is no Argo Server at all); the bearer token never appears in it. Hera's own ``wait()`` is not used: it has no
overall deadline, so ``follow`` polls ``get_workflow`` itself, with one. Requests get a
timeout of their own too (Hera sets none, so a silent server would hang forever), and a
server URL with a path prefix gets the trailing slash ``urljoin`` needs to keep it.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

TERMINAL = ("Succeeded", "Failed", "Error")
#: Node types that stand for a step (a DAG task) in the table; a Retry node's pods are its
#: attempts and not rows of their own.
_STEP_NODE_TYPES = frozenset({"Pod", "Retry", "Skipped", "TaskGroup", "Suspend", "Container"})


class ArgoError(Exception):
    """One line for the user; the CLI prints it and exits 2."""


class _NotArgo(Exception):
    """A 404 whose body is not Argo's JSON error: the URL leads to some other server (a proxy's
    page, an ingress default backend), which must not read as "workflow not found"."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


#: Argo names a pod ``<workflow>-<template>-<hash>`` and keeps the prefix short enough for the
#: hash to fit in a Kubernetes name (253 characters, of which the hash takes 10).
_POD_PREFIX_MAX = 253 - 10 - 1


@dataclass(frozen=True)
class Connection:
    server: str
    namespace: str
    token: str | None = None
    #: True, False, or the path of a CA bundle
    verify: bool | str = True
    request_timeout: float = 30.0

    @property
    def base_url(self) -> str:
        url = self.server if "://" in self.server else f"https://{self.server}"
        return url if url.endswith("/") else url + "/"


@dataclass(frozen=True)
class NodeView:
    name: str
    phase: str
    type: str
    attempts: int = 1
    message: str | None = None
    started: str | None = None
    finished: str | None = None


@dataclass(frozen=True)
class WorkflowView:
    """What ``follow`` shows: the workflow's phase and one row per step."""

    name: str
    namespace: str
    phase: str
    message: str | None = None
    nodes: list[NodeView] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.phase in TERMINAL


def service(conn: Connection) -> Any:
    import requests
    from hera.workflows import WorkflowsService

    class _Session(requests.Session):
        def request(self, method: str, url: Any, *args: Any,
                    **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", conn.request_timeout)
            response = super().request(method, url, *args, **kwargs)
            if response.status_code == 404 and not _argo_error(response):
                raise _NotArgo(response.url)
            return response

    # requests takes a CA bundle path where Hera's signature says bool
    verify: Any = conn.verify
    return WorkflowsService(host=conn.base_url, token=conn.token, verify_ssl=verify,
                            namespace=conn.namespace, session=_Session())


def _argo_error(response: Any) -> bool:
    """Whether an error answer is Argo's (grpc-gateway's ``{"code": int, "message": str}``)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("code"), int) and "message" in body


def _call(conn: Connection, doing: str, fn: Callable[[], Any], *, name: str | None = None,
          exists: str = "delete it first or rename the spec") -> Any:
    """``fn()`` with every way it can fail turned into one ArgoError line; ``exists`` is what
    to do about a 409."""
    import requests
    import urllib3
    from hera.exceptions import AlreadyExists, Forbidden, HeraException, NotFound, Unauthorized
    from pydantic import ValidationError

    where = conn.base_url
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Hera calls pydantic's .json()
            if conn.verify is False:  # the user chose --insecure; once is enough to say so
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return fn()
    except requests.exceptions.SSLError as exc:
        raise ArgoError(f"TLS verification of {where} failed ({_reason(exc)}); pass --ca-cert "
                        "FILE for a private CA, or --insecure to skip verification") from None
    except requests.exceptions.Timeout:
        raise ArgoError(f"the Argo Server at {where} did not answer within "
                        f"{conn.request_timeout:g}s while {doing}") from None
    except _NotArgo as exc:
        raise ArgoError(f"{where} is not an Argo Server: {exc.url} answered 404 with a page "
                        "that is not Argo's; check --server (or ARGO_SERVER and "
                        "ARGO_BASE_HREF)") from None
    except requests.exceptions.ConnectionError as exc:
        raise ArgoError(f"cannot reach the Argo Server at {where} ({_reason(exc)}); check "
                        "--server (or ARGO_SERVER)") from None
    except Unauthorized:
        raise ArgoError(f"the Argo Server at {where} refused the credentials (401 "
                        "Unauthorized) while " + doing + "; set ARGO_TOKEN to a valid bearer "
                        "token") from None
    except Forbidden:
        raise ArgoError(f"not allowed (403 Forbidden) {doing} in namespace '{conn.namespace}'; "
                        "the token's service account lacks the RBAC permission") from None
    except AlreadyExists:
        raise ArgoError(f"'{name}' already exists in namespace '{conn.namespace}' (409 "
                        f"Conflict); {exists}") from None
    except NotFound:
        raise ArgoError(f"'{name}' was not found in namespace '{conn.namespace}' (404) while "
                        f"{doing}") from None
    except HeraException as exc:
        raise ArgoError(f"the Argo Server answered an error while {doing}: "
                        f"{_one_line(str(exc))}") from None
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        # requests' JSONDecodeError is a ValueError; Hera raises KeyError/TypeError on an
        # error body without "message"; pydantic on a body that is not an Argo object.
        raise ArgoError(f"the server at {where} did not answer like an Argo Server while "
                        f"{doing} ({type(exc).__name__}: {_one_line(str(exc))})") from None


def _reason(exc: BaseException) -> str:
    """The innermost cause of a requests error, without urllib3's object reprs."""
    while exc.__context__ is not None or exc.__cause__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return _one_line(str(exc).split(": ")[-1] or type(exc).__name__, 120)


def _one_line(text: str, width: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def connect(server: str | None, namespace: str | None, *, ca_cert: str | None = None,
            insecure: bool = False, request_timeout: float = 30.0,
            environ: Mapping[str, str] = os.environ) -> Connection:
    """A Connection from what the caller gives and Argo's own variables (``ARGO_SERVER``,
    ``ARGO_SECURE``, ``ARGO_BASE_HREF``, ``ARGO_NAMESPACE``, ``ARGO_TOKEN``,
    ``ARGO_INSECURE_SKIP_VERIFY``), as the ``argo`` CLI reads them; ArgoError when something
    is missing. The token is only ever read from the environment."""
    server = server or environ.get("ARGO_SERVER")
    if not server:
        raise ArgoError("no Argo Server: pass --server URL or set ARGO_SERVER")
    if "://" not in server:
        scheme = "http" if environ.get("ARGO_SECURE", "true").lower() == "false" else "https"
        server = f"{scheme}://{server}{environ.get('ARGO_BASE_HREF', '').rstrip('/')}"
    namespace = namespace or environ.get("ARGO_NAMESPACE")
    if not namespace:
        raise ArgoError("no namespace: pass --namespace, set argo.namespace in the spec, or "
                        "set ARGO_NAMESPACE")
    verify: bool | str = True
    if ca_cert:
        verify = ca_cert
    elif insecure or environ.get("ARGO_INSECURE_SKIP_VERIFY", "").lower() == "true":
        verify = False
    return Connection(server=server, namespace=namespace,
                      token=environ.get("ARGO_TOKEN") or None, verify=verify,
                      request_timeout=request_timeout)


def create(conn: Connection, workflow: Any, kind: str, *,
           update: bool = False) -> tuple[str, str, bool]:
    """Create a Hera ``workflow`` of ``kind``; with ``update``, a WorkflowTemplate or
    CronWorkflow that exists is replaced in place (Argo's PUT wants the resourceVersion it
    holds, so that is read first). Returns (kind, name as the server named it, whether it
    was an update)."""
    from hera.exceptions import AlreadyExists
    from hera.workflows.models import (
        CreateCronWorkflowRequest,
        UpdateCronWorkflowRequest,
        WorkflowCreateRequest,
        WorkflowTemplateCreateRequest,
        WorkflowTemplateUpdateRequest,
    )

    workflow.namespace = ns = conn.namespace
    model = workflow.build()
    svc = service(conn)
    name = model.metadata.name or f"{model.metadata.generate_name}*"
    if kind == "Workflow":
        made = _call(conn, "creating the Workflow", lambda: svc.create_workflow(
            WorkflowCreateRequest(workflow=model, namespace=ns)), name=name)
        return kind, _named(conn, kind, made), False

    def post() -> Any:
        if kind == "WorkflowTemplate":
            return svc.create_workflow_template(
                WorkflowTemplateCreateRequest(template=model, namespace=ns))
        return svc.create_cron_workflow(
            CreateCronWorkflowRequest(cron_workflow=model, namespace=ns))

    def put() -> Any:
        if kind == "WorkflowTemplate":
            current = svc.get_workflow_template(name=name, namespace=ns)
            model.metadata.resource_version = current.metadata.resource_version
            return svc.update_workflow_template(name, WorkflowTemplateUpdateRequest(
                template=model, namespace=ns), namespace=ns)
        current = svc.get_cron_workflow(name=name, namespace=ns)
        model.metadata.resource_version = current.metadata.resource_version
        return svc.update_cron_workflow(name, UpdateCronWorkflowRequest(
            cron_workflow=model, namespace=ns), namespace=ns)

    updated = False

    def upsert() -> Any:
        nonlocal updated
        try:
            return post()
        except AlreadyExists:
            if not update:
                raise
        updated = True
        return put()

    made = _call(conn, f"creating the {kind}" + (" or updating it" if update else ""), upsert,
                 name=name, exists="pass --update to update it in place, or rename the spec")
    return kind, _named(conn, kind, made), updated


def submit_template(conn: Connection, template: str, params: dict[str, Any]) -> str:
    """Submit a Workflow from the WorkflowTemplate ``template`` on the server (Argo fills in
    its defaults and checks ``params``); returns the new workflow's name."""
    from hera.workflows.models import SubmitOpts, WorkflowSubmitRequest

    values = [f"{key}={value if isinstance(value, str) else json.dumps(value)}"
              for key, value in params.items()]
    request = WorkflowSubmitRequest(
        namespace=conn.namespace, resource_kind="WorkflowTemplate", resource_name=template,
        submit_options=SubmitOpts(parameters=values) if values else None)
    svc = service(conn)
    made = _call(conn, f"submitting a Workflow from WorkflowTemplate '{template}'",
                 lambda: svc.submit_workflow(request, namespace=conn.namespace), name=template)
    return _named(conn, "Workflow", made)


def _named(conn: Connection, kind: str, made: Any) -> str:
    """The name the server gave what it created; an answer without one is not Argo's."""
    created = getattr(getattr(made, "metadata", None), "name", None)
    if not created:
        raise ArgoError(f"the server at {conn.base_url} accepted the {kind} but did not say "
                        "what it is called; check with: flowspec argo list")
    return str(created)


def get(conn: Connection, name: str, svc: Any = None) -> WorkflowView:
    svc = svc or service(conn)
    workflow = _call(conn, f"reading workflow '{name}'",
                     lambda: svc.get_workflow(name=name, namespace=conn.namespace), name=name)
    return view(workflow, conn.namespace)


def view(workflow: Any, namespace: str) -> WorkflowView:
    """The phase and the step rows of a Workflow model, as ``follow`` shows them."""
    status = workflow.status
    nodes = dict(status.nodes or {}) if status is not None else {}
    retried = {child for node in nodes.values() if node.type == "Retry"
               for child in (node.children or ())}
    rows = []
    for node_id, node in nodes.items():
        if node_id in retried or node.type not in _STEP_NODE_TYPES:
            continue
        rows.append(NodeView(
            name=node.display_name or node.name, phase=node.phase or "Pending", type=node.type,
            attempts=len(node.children or ()) if node.type == "Retry" else 1,
            message=node.message,
            started=node.started_at.root.isoformat() if node.started_at else None,
            finished=node.finished_at.root.isoformat() if node.finished_at else None))
    rows.sort(key=lambda r: (r.started or "~", r.name))
    phase = (status.phase if status is not None else None) or "Pending"
    return WorkflowView(workflow.metadata.name, namespace, phase,
                        status.message if status is not None else None, rows)


def follow(conn: Connection, name: str, on_update: Callable[[WorkflowView], None], *,
           poll: float = 2.0, timeout: float | None = None,
           sleep: Callable[[float], None] = time.sleep) -> WorkflowView:
    """Poll until the workflow ends (or ``timeout`` seconds pass: ArgoError)."""
    svc = service(conn)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        current = get(conn, name, svc)
        on_update(current)
        if current.done:
            return current
        if deadline is not None and time.monotonic() >= deadline:
            raise ArgoError(f"workflow '{name}' is still {current.phase} after {timeout:g}s; "
                            f"it keeps running: follow it with flowspec watch {name}")
        sleep(poll)


@dataclass(frozen=True)
class WorkflowSummary:
    """One row of ``flowspec argo list``."""

    name: str
    phase: str
    started: str | None
    finished: str | None

    def duration(self, now: datetime) -> float | None:
        """Seconds from start to end, or to ``now`` while it runs."""
        if self.started is None:
            return None
        end = datetime.fromisoformat(self.finished) if self.finished else now
        return (end - datetime.fromisoformat(self.started)).total_seconds()


def list_workflows(conn: Connection) -> list[WorkflowSummary]:
    """The namespace's workflows, newest first (Argo answers ``items: null`` for none)."""
    svc = service(conn)
    found = _call(conn, f"listing the workflows of namespace '{conn.namespace}'",
                  lambda: svc.list_workflows(namespace=conn.namespace))
    rows = []
    for workflow in found.items or ():
        status = workflow.status
        started = status.started_at if status is not None else None
        finished = status.finished_at if status is not None else None
        rows.append(WorkflowSummary(
            name=workflow.metadata.name,
            phase=(status.phase if status is not None else None) or "Pending",
            started=started.root.isoformat() if started else None,
            finished=finished.root.isoformat() if finished else None))
    return sorted(rows, key=lambda r: r.started or "~", reverse=True)


#: action -> (WorkflowsService method, its request model, what the error line says it was doing)
_ACTIONS = {"stop": ("stop_workflow", "WorkflowStopRequest", "stopping"),
            "terminate": ("terminate_workflow", "WorkflowTerminateRequest", "terminating"),
            "retry": ("retry_workflow", "WorkflowRetryRequest", "retrying")}
ACTIONS = tuple(_ACTIONS)


def act(conn: Connection, action: str, name: str) -> WorkflowView:
    """Stop, terminate or retry the workflow ``name``; the workflow as the server left it."""
    from hera.workflows import models

    method, request, doing = _ACTIONS[action]
    body = getattr(models, request)(name=name, namespace=conn.namespace)
    svc = service(conn)
    workflow = _call(conn, f"{doing} workflow '{name}'",
                     lambda: getattr(svc, method)(name, body, namespace=conn.namespace),
                     name=name)
    return view(workflow, conn.namespace)


@dataclass(frozen=True)
class PodLog:
    """What one attempt of a step wrote (its pod's ``main`` container), or why it is missing."""

    step: str
    attempt: int
    pod: str
    lines: list[str]
    missing: str | None = None


def fnv32a(text: str) -> int:
    """FNV-1a, 32 bits: the hash Argo puts at the end of a pod's name."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def pod_name(workflow: Any, node: Any) -> str:
    """The name Argo's controller gave a Pod node's pod: the node's id under the ``v1`` pod
    name format, else ``<workflow>-<template>-<fnv32a of the node's name>``."""
    name = workflow.metadata.name
    annotations = workflow.metadata.annotations or {}
    template = node.template_name or (node.template_ref.template if node.template_ref else "")
    if annotations.get("workflows.argoproj.io/pod-name-format") == "v1" or not template:
        return str(node.id)
    if node.name == name:
        return str(name)
    prefix = name if ".inline" in node.name else f"{name}-{template}"
    return f"{prefix[:_POD_PREFIX_MAX]}-{fnv32a(node.name)}"


def logs(conn: Connection, name: str, step: str | None = None) -> list[PodLog]:
    """The logs of every attempt of every step of ``name`` (or of ``step``), in start order.

    Argo's log endpoint streams one JSON object a line, which Hera's ``workflow_logs`` cannot
    read (it parses the whole answer as one object), so it is read here through the same
    session. A pod already deleted (``podGC``) becomes a ``PodLog`` saying so, not an error.
    An unknown ``step`` is an ArgoError naming the steps there are."""
    from hera.exceptions import exception_from_server_response

    svc = service(conn)
    workflow = _call(conn, f"reading workflow '{name}'",
                     lambda: svc.get_workflow(name=name, namespace=conn.namespace), name=name)
    nodes = dict(workflow.status.nodes or {}) if workflow.status is not None else {}
    retried = {child for node in nodes.values() if node.type == "Retry"
               for child in (node.children or ())}
    attempts: list[tuple[str, int, Any]] = []
    for node_id, node in nodes.items():
        if node.type == "Retry":
            attempts += [(node.display_name or node.name, k + 1, nodes[child])
                         for k, child in enumerate(node.children or ()) if child in nodes]
        elif node.type == "Pod" and node_id not in retried:
            attempts.append((node.display_name or node.name, 1, node))
    steps = sorted({s for s, _, _ in attempts})
    if step is not None:
        attempts = [a for a in attempts if a[0] == step]
        if not attempts:
            raise ArgoError(f"workflow '{name}' has no step '{step}' that ran a pod; its "
                            f"steps: {', '.join(steps) or 'none yet'}")
    attempts.sort(key=lambda a: (a[2].started_at.root.isoformat() if a[2].started_at else "~",
                                 a[0], a[1]))
    url = f"{conn.base_url}api/v1/workflows/{conn.namespace}/{name}/log"

    def read(step_name: str, attempt: int, pod: str) -> PodLog:
        response = svc.session.get(
            url, params={"podName": pod, "logOptions.container": "main"},
            headers={"Authorization": svc.token}, verify=svc.verify_ssl)
        if response.status_code == 404:  # Argo's own 404 (a bare one is _NotArgo): pod gone
            return PodLog(step_name, attempt, pod, [], f"{pod}: {response.json()['message']}")
        if not response.ok:
            raise exception_from_server_response(response)
        lines: list[str] = []
        for raw in response.text.splitlines():
            entry = json.loads(raw) if raw.strip() else {}
            if "error" in entry:
                return PodLog(step_name, attempt, pod, lines,
                              f"{pod}: {entry['error'].get('message', 'stream error')}")
            if "result" in entry:
                lines.append(entry["result"].get("content", ""))
        return PodLog(step_name, attempt, pod, lines)

    doing = f"reading the logs of workflow '{name}'"
    return [_call(conn, doing, partial(read, s, k, pod_name(workflow, n)), name=name)
            for s, k, n in attempts]
