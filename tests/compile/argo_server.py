"""A local stand-in for the Argo Server, strict about what it is sent.

Every request body is validated against Argo's OpenAPI document (``tests/fixtures/argo/swagger.json.gz``)
for the endpoint's body type; a body that does not validate gets 400 and is recorded in
``violations`` (tests assert there are none). Answers are realistic Workflow documents: a
created workflow gets a generated name, uid and timestamps; each later GET advances it one
stage (Pending, Running, then the scripted end), with a node per task as the controller makes
them (Retry nodes with their Pod attempts, Skipped and Omitted nodes with their messages),
and every answer is itself checked against the swagger ``Workflow`` definition.
Templates and cron workflows can be updated (PUT, with the resourceVersion they hold, as
Kubernetes wants), a Workflow submitted from a stored WorkflowTemplate, workflows listed,
stopped, terminated and retried, and the pods' logs read as Argo streams them (one JSON object
a line). Failure modes (401, 403, 409, garbage, another server's 404) are switched on per test;
a path outside the server's prefix gets a reverse proxy's HTML 404.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import secrets
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft4Validator

from .conftest import ARGO

BODY_TYPES = {
    "workflows": "io.argoproj.workflow.v1alpha1.WorkflowCreateRequest",
    "workflow-templates": "io.argoproj.workflow.v1alpha1.WorkflowTemplateCreateRequest",
    "cron-workflows": "io.argoproj.workflow.v1alpha1.CreateCronWorkflowRequest",
}
BODY_KEYS = {"workflows": "workflow", "workflow-templates": "template",
             "cron-workflows": "cronWorkflow"}
UPDATE_TYPES = {
    "workflow-templates": "io.argoproj.workflow.v1alpha1.WorkflowTemplateUpdateRequest",
    "cron-workflows": "io.argoproj.workflow.v1alpha1.UpdateCronWorkflowRequest",
}
ACTION_TYPES = {"stop": "io.argoproj.workflow.v1alpha1.WorkflowStopRequest",
                "terminate": "io.argoproj.workflow.v1alpha1.WorkflowTerminateRequest",
                "retry": "io.argoproj.workflow.v1alpha1.WorkflowRetryRequest"}
NGINX_404 = "<html><head><title>404 Not Found</title></head><body>nginx</body></html>"


@cache
def _swagger() -> dict[str, Any]:
    return json.loads(gzip.decompress((ARGO / "swagger.json.gz").read_bytes()))


@cache
def swagger_validator(definition: str) -> Draft4Validator:
    return Draft4Validator({"$ref": f"#/definitions/{definition}",
                            "definitions": _swagger()["definitions"]})


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Script:
    """How workflows end: per task phase (default Succeeded) and the workflow's phase."""

    phases: dict[str, str] = field(default_factory=dict)
    workflow_phase: str = "Succeeded"
    message: str | None = None
    #: GETs a workflow stays Running before it ends (None: for ever)
    running_polls: int | None = 1


@dataclass
class FakeArgo:
    token: str | None = "sekret-token"
    #: ok | forbidden | garbage | garbage-json | error-without-message | hang | not-argo-404
    mode: str = "ok"
    script: Script = field(default_factory=Script)
    requests: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    url: str = ""
    #: a path prefix the server lives under (a reverse proxy's ARGO_BASE_HREF)
    prefix: str = ""
    #: pods podGC already deleted: their logs are gone
    gone_pods: set[str] = field(default_factory=set)

    # --- answers ---------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        self.requests.append({"method": method, "path": path,
                              "authorization": headers.get("Authorization"),
                              "body": json.loads(body) if body else None})
        if not path.startswith(self.prefix + "/"):
            return 404, NGINX_404
        path = path[len(self.prefix):]
        if self.token is not None and headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"code": 16, "message": "token not valid. see https://argo-workflows."
                                                "readthedocs.io/en/latest/faq/"}
        if self.mode == "hang":
            time.sleep(3)
            return 504, {"code": 4, "message": "too late"}
        if self.mode == "forbidden":
            return 403, {"code": 7, "message": 'workflows.argoproj.io is forbidden: User '
                         '"system:serviceaccount:argo:default" cannot create resource'}
        if self.mode == "garbage":
            return 200, "<html><body>Welcome to nginx!</body></html>"
        if self.mode == "garbage-json":
            return 200, {"items": [1, 2, 3]}
        if self.mode == "error-without-message":
            return 500, {"error": "upstream connect error"}
        if self.mode == "not-argo-404":  # Go's http.NotFound, as any other Go server says it
            return 404, "404 page not found\n"
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if parts[:2] != ["api", "v1"] or len(parts) < 4:
            return 404, {"code": 5, "message": f"unknown endpoint {method} {path}"}
        resource, namespace, rest = parts[2], parts[3], parts[4:]
        data = json.loads(body or b"{}")
        match method, resource, rest:
            case "POST", "workflows", ["submit"]:
                return self.submit(namespace, data)
            case "POST", _, []:
                return self.create(resource, namespace, data)
            case "GET", "workflows", []:
                return self.list(namespace)
            case "GET", "workflows", [name]:
                return self.get(namespace, name)
            case "GET", "workflows", [name, "log"]:
                return self.log(namespace, name, query)
            case "GET", _, [name]:
                obj = self.objects.get((resource, namespace, name))
                return (200, self.checked(obj, resource)) if obj else self.missing(resource, name)
            case "PUT", "workflow-templates" | "cron-workflows", [name]:
                return self.update(resource, namespace, name, data)
            case "PUT", "workflows", [name, "stop" | "terminate" | "retry" as action]:
                return self.act(action, namespace, name, data)
        return 404, {"code": 5, "message": f"unknown endpoint {method} {path}"}

    def invalid(self, definition: str, body: dict[str, Any]) -> tuple[int, Any] | None:
        """400 (and a recorded violation) when ``body`` is not a valid ``definition``."""
        errors = sorted(swagger_validator(definition).iter_errors(body),
                        key=lambda e: list(map(str, e.path)))
        if not errors:
            return None
        self.violations.extend(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors)
        return 400, {"code": 3, "message": errors[0].message}

    @staticmethod
    def missing(resource: str, name: str) -> tuple[int, Any]:
        return 404, {"code": 5, "message": f'{resource.replace("-", "")}.argoproj.io "{name}" '
                                           "not found"}

    def create(self, resource: str, namespace: str, body: dict[str, Any]) -> tuple[int, Any]:
        if resource not in BODY_TYPES:
            return 404, {"code": 5, "message": f"unknown resource {resource}"}
        refused = self.invalid(BODY_TYPES[resource], body)
        if refused:
            return refused
        obj = body[BODY_KEYS[resource]]
        meta = obj["metadata"]
        if meta.get("namespace", namespace) != namespace:
            self.violations.append(f"namespace {meta.get('namespace')} sent to {namespace}")
        return self.store(resource, namespace, obj)

    def store(self, resource: str, namespace: str, obj: dict[str, Any]) -> tuple[int, Any]:
        """Name, stamp and keep a new object, as the API server does."""
        meta = obj["metadata"]
        name = meta.get("name") or meta["generateName"] + secrets.token_hex(3)[:5]
        key = (resource, namespace, name)
        if key in self.objects:
            return 409, {"code": 6, "message": f'{resource}.argoproj.io "{name}" already exists'}
        created = datetime.now(UTC)
        obj["metadata"] = {**meta, "name": name, "namespace": namespace,
                           "uid": "9f0c1e2a-6b7d-4c8e-9a1b-" + secrets.token_hex(6),
                           "resourceVersion": "123456", "generation": 1,
                           "creationTimestamp": _time(created)}
        if resource == "workflows":
            obj["metadata"]["labels"] = {**meta.get("labels", {}),
                                         "workflows.argoproj.io/phase": "Pending"}
            obj["status"] = {}
        self.objects[key] = obj
        return 200, self.checked(obj, resource)

    def update(self, resource: str, namespace: str, name: str,
               body: dict[str, Any]) -> tuple[int, Any]:
        refused = self.invalid(UPDATE_TYPES[resource], body)
        if refused:
            return refused
        current = self.objects.get((resource, namespace, name))
        if current is None:
            return self.missing(resource, name)
        obj = body[BODY_KEYS[resource]]
        sent = obj["metadata"].get("resourceVersion")
        held = current["metadata"]["resourceVersion"]
        if sent != held:  # Kubernetes' optimistic concurrency
            return 409, {"code": 10, "message": f'Operation cannot be fulfilled on {resource}'
                         f'.argoproj.io "{name}": the object has been modified (sent '
                         f'resourceVersion {sent!r}, held {held!r})'}
        obj["metadata"] = {**current["metadata"], **obj["metadata"],
                           "resourceVersion": str(int(held) + 1),
                           "generation": current["metadata"]["generation"] + 1}
        self.objects[(resource, namespace, name)] = obj
        return 200, self.checked(obj, resource)

    def submit(self, namespace: str, body: dict[str, Any]) -> tuple[int, Any]:
        """A Workflow from a stored WorkflowTemplate, as ``argo submit --from`` makes it."""
        refused = self.invalid("io.argoproj.workflow.v1alpha1.WorkflowSubmitRequest", body)
        if refused:
            return refused
        if body.get("resourceKind") != "WorkflowTemplate":
            return 400, {"code": 3, "message": f"unsupported resourceKind "
                                               f"{body.get('resourceKind')!r}"}
        name = body["resourceName"]
        template = self.objects.get(("workflow-templates", namespace, name))
        if template is None:
            return self.missing("workflow-templates", name)
        given = dict(p.split("=", 1) for p in body.get("submitOptions", {}).get("parameters", []))
        declared = template["spec"].get("arguments", {}).get("parameters", [])
        arguments = [{"name": p["name"], "value": given.get(p["name"], p.get("value"))}
                     for p in declared]
        for argument in arguments:
            if argument["value"] is None:
                return 400, {"code": 3, "message": f"spec.arguments.{argument['name']}.value "
                                                   "is required"}
        return self.store("workflows", namespace, {
            "metadata": {"generateName": f"{name}-",
                         "labels": {"workflows.argoproj.io/workflow-template": name}},
            "spec": {"workflowTemplateRef": {"name": name},
                     "arguments": {"parameters": arguments}}})

    def spec_of(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The spec the controller runs: a template reference's template's."""
        ref = obj["spec"].get("workflowTemplateRef")
        if ref is None:
            return dict(obj["spec"])
        namespace = obj["metadata"]["namespace"]
        return dict(self.objects[("workflow-templates", namespace, ref["name"])]["spec"])

    def checked(self, obj: dict[str, Any], resource: str = "workflows") -> dict[str, Any]:
        definition = {"workflows": "Workflow", "workflow-templates": "WorkflowTemplate",
                      "cron-workflows": "CronWorkflow"}[resource]
        errors = list(swagger_validator(f"io.argoproj.workflow.v1alpha1.{definition}")
                      .iter_errors(obj))
        assert not errors, f"the fake server would answer an invalid document: {errors[0]}"
        return obj

    def get(self, namespace: str, name: str) -> tuple[int, Any]:
        obj = self.objects.get(("workflows", namespace, name))
        if obj is None:
            return self.missing("workflows", name)
        poll = self.polls[name] = self.polls.get(name, 0) + 1
        obj["status"] = self.status(obj, poll)
        obj["metadata"]["labels"]["workflows.argoproj.io/phase"] = obj["status"]["phase"]
        return 200, self.checked(obj)

    def status(self, obj: dict[str, Any], poll: int) -> dict[str, Any]:
        """The controller's status document at the ``poll``-th look."""
        spec = self.spec_of(obj)
        start = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
        if poll == 1:
            return {"phase": "Pending", "startedAt": _time(start), "progress": "0/0"}
        ended = self.script.running_polls is not None and poll > self.script.running_polls + 1
        name = obj["metadata"]["name"]
        templates = {t["name"]: t for t in spec["templates"]}
        tasks = templates[spec["entrypoint"]]["dag"]["tasks"]
        root = {"id": name, "name": name, "displayName": name, "type": "DAG",
                "templateName": spec["entrypoint"], "phase": "Running",
                "startedAt": _time(start), "children": [], "progress": "0/1",
                "templateScope": "local/" + name}
        nodes: dict[str, Any] = {name: root}
        for i, task in enumerate(tasks):
            at = start + timedelta(seconds=10 * i)
            phase = self.script.phases.get(task["name"], "Succeeded") if ended else (
                "Running" if i == 0 else None)
            if phase is None:
                continue
            node_id = f"{name}-{1000 + i}"
            node = {"id": node_id, "name": f"{name}.{task['name']}",
                    "displayName": task["name"], "templateName": task["template"],
                    "templateScope": "local/" + name, "boundaryID": name,
                    "phase": phase, "startedAt": _time(at)}
            if phase in ("Skipped", "Omitted"):
                node.update(type="Skipped", message="when 'false' evaluated false"
                            if phase == "Skipped" else "omitted: depends condition not met")
            elif "retryStrategy" in templates[task["template"]]:
                attempts = 2 if phase != "Succeeded" else 1
                node.update(type="Retry", children=[f"{node_id}-{k}" for k in range(attempts)])
                for k in range(attempts):
                    nodes[f"{node_id}-{k}"] = {
                        "id": f"{node_id}-{k}", "name": f"{name}.{task['name']}({k})",
                        "displayName": f"{task['name']}({k})", "type": "Pod",
                        "templateName": task["template"], "templateScope": "local/" + name,
                        "boundaryID": name, "phase": phase, "startedAt": _time(at),
                        "hostNodeName": "worker-1", "progress": "1/1",
                        "resourcesDuration": {"cpu": 1, "memory": 3}}
            else:
                node.update(type="Pod", hostNodeName="worker-2", progress="1/1",
                            resourcesDuration={"cpu": 2, "memory": 5})
            if phase in ("Failed", "Error"):
                node["message"] = "Error (exit code 1)"
            if phase not in ("Running",):
                node["finishedAt"] = _time(at + timedelta(seconds=8))
            nodes[node_id] = node
            root["children"].append(node_id)
        status: dict[str, Any] = {"phase": "Running", "startedAt": _time(start),
                                  "progress": f"0/{len(tasks)}", "nodes": nodes,
                                  "conditions": [{"type": "PodRunning", "status": "True"}]}
        if ended:
            final = self.script.workflow_phase
            root.update(phase=final, finishedAt=_time(start + timedelta(minutes=2)))
            status.update(phase=final, finishedAt=_time(start + timedelta(minutes=2)),
                          progress=f"{len(tasks)}/{len(tasks)}",
                          conditions=[{"type": "PodRunning", "status": "False"},
                                      {"type": "Completed", "status": "True"}],
                          resourcesDuration={"cpu": 12, "memory": 40})
            if self.script.message:
                status["message"] = self.script.message
        return status


    def list(self, namespace: str) -> tuple[int, Any]:
        """As Argo lists: the workflows as they are (a list does not advance them), and
        ``items: null`` when there are none."""
        items = [obj for (resource, ns, _), obj in self.objects.items()
                 if resource == "workflows" and ns == namespace]
        answer = {"metadata": {"resourceVersion": "123999"}, "items": items or None}
        errors = list(swagger_validator("io.argoproj.workflow.v1alpha1.WorkflowList")
                      .iter_errors({**answer, "items": items}))
        assert not errors, f"the fake server would answer an invalid list: {errors[0]}"
        return 200, answer

    def act(self, action: str, namespace: str, name: str,
            body: dict[str, Any]) -> tuple[int, Any]:
        """stop and terminate set the workflow's shutdown; retry wants it Failed or Error and
        sets it Running again (Argo answers FailedPrecondition, 400, otherwise)."""
        refused = self.invalid(ACTION_TYPES[action], body)
        if refused:
            return refused
        obj = self.objects.get(("workflows", namespace, name))
        if obj is None:
            return self.missing("workflows", name)
        phase = obj["status"].get("phase", "Pending")
        if action == "retry":
            if phase not in ("Failed", "Error"):
                return 400, {"code": 9, "message": "workflow must be Failed/Error to retry"}
            obj["status"] = {**{k: v for k, v in obj["status"].items()
                                if k not in ("message", "finishedAt")}, "phase": "Running"}
            self.script = Script()
            self.polls[name] = 1
        elif phase in ("Succeeded", "Failed", "Error"):
            return 400, {"code": 9, "message": "cannot shutdown a completed workflow"}
        else:
            obj["spec"]["shutdown"] = "Stop" if action == "stop" else "Terminate"
        return 200, self.checked(obj)

    def pods(self, obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """pod name -> Pod node, named as Argo's controller names pods (POD_NAMES v2)."""
        from engine.argo_client import fnv32a

        workflow = obj["metadata"]["name"]
        return {f"{workflow}-{node['templateName']}-{fnv32a(node['name'])}": node
                for node in obj["status"].get("nodes", {}).values() if node["type"] == "Pod"}

    def log(self, namespace: str, name: str, query: dict[str, str]) -> tuple[int, Any]:
        """Argo's log stream: one ``{"result": LogEntry}`` a line, two lines a pod."""
        obj = self.objects.get(("workflows", namespace, name))
        if obj is None:
            return self.missing("workflows", name)
        if query.get("logOptions.container") != "main":
            self.violations.append(f"logs asked of container {query.get('logOptions.container')}")
        pod = query.get("podName", "")
        node = self.pods(obj).get(pod)
        if node is None or pod in self.gone_pods:
            return 404, {"code": 5, "message": f'pods "{pod}" not found'}
        lines = [f"{node['displayName']}: starting", f"{node['displayName']}: {node['phase']}"]
        entry = swagger_validator("io.argoproj.workflow.v1alpha1.LogEntry")
        stream = [{"content": line, "podName": pod} for line in lines]
        assert all(entry.is_valid(e) for e in stream)
        return 200, "".join(json.dumps({"result": e}) + "\n" for e in stream).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeArgo

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        code, payload = self.fake.handle(self.command, self.path, self.headers, body)
        if isinstance(payload, bytes):  # a stream already encoded, one JSON object a line
            data = payload
        else:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html" if isinstance(payload, str)
                         else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the client gave up (request-timeout test)
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``fake.requests`` instead."""


@contextmanager
def argo_server(fake: FakeArgo | None = None, prefix: str = "",
                tls: tuple[str, str] | None = None) -> Iterator[FakeArgo]:
    """A FakeArgo listening on 127.0.0.1 (an ephemeral port), optionally under a path prefix
    and over TLS with ``tls=(certfile, keyfile)``."""
    fake = fake or FakeArgo()
    fake.prefix = prefix
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads, server.block_on_close = True, False  # a hung request must not block
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    fake.url = f"{scheme}://127.0.0.1:{server.server_address[1]}{prefix}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

