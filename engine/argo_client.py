"""Talking to an Argo Server through Hera's ``WorkflowsService``: create, get, follow.

Every failure becomes one ``ArgoError`` whose message is one line a user can act on
(unreachable server, TLS, 401, 403, 404, 409, a server answering something that is not
Argo); the bearer token never appears in it. Hera's own ``wait()`` is not used: it has no
overall deadline, so ``follow`` polls ``get_workflow`` itself, with one. Requests get a
timeout of their own too (Hera sets none, so a silent server would hang forever), and a
server URL with a path prefix gets the trailing slash ``urljoin`` needs to keep it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TERMINAL = ("Succeeded", "Failed", "Error")
#: Node types that stand for a step (a DAG task) in the table; a Retry node's pods are its
#: attempts and not rows of their own.
_STEP_NODE_TYPES = frozenset({"Pod", "Retry", "Skipped", "TaskGroup", "Suspend", "Container"})


class ArgoError(Exception):
    """One line for the user; the CLI prints it and exits 2."""


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
            return super().request(method, url, *args, **kwargs)

    # requests takes a CA bundle path where Hera's signature says bool
    verify: Any = conn.verify
    return WorkflowsService(host=conn.base_url, token=conn.token, verify_ssl=verify,
                            namespace=conn.namespace, session=_Session())


def _call(conn: Connection, doing: str, fn: Callable[[], Any], *, name: str | None = None) -> Any:
    """``fn()`` with every way it can fail turned into one ArgoError line."""
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
                        "Conflict); delete it first or rename the spec") from None
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


def create(conn: Connection, compiled: Any) -> tuple[str, str]:
    """Create the compiled resource; returns (kind, name as the server named it)."""
    from hera.workflows.models import (
        CreateCronWorkflowRequest,
        WorkflowCreateRequest,
        WorkflowTemplateCreateRequest,
    )

    compiled.workflow.namespace = conn.namespace
    model = compiled.workflow.build()
    svc = service(conn)
    kind = compiled.kind
    name = model.metadata.name or f"{model.metadata.generate_name}*"
    doing = f"creating the {kind}"
    if kind == "Workflow":
        made = _call(conn, doing, lambda: svc.create_workflow(
            WorkflowCreateRequest(workflow=model, namespace=conn.namespace)), name=name)
    elif kind == "WorkflowTemplate":
        made = _call(conn, doing, lambda: svc.create_workflow_template(
            WorkflowTemplateCreateRequest(template=model, namespace=conn.namespace)), name=name)
    else:
        made = _call(conn, doing, lambda: svc.create_cron_workflow(
            CreateCronWorkflowRequest(cron_workflow=model, namespace=conn.namespace)), name=name)
    created = getattr(getattr(made, "metadata", None), "name", None)
    if not created:
        raise ArgoError(f"the server at {conn.base_url} accepted the {kind} but did not say "
                        "what it is called; check with: argo list")
    return kind, str(created)


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
