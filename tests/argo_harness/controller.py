"""The workflow controller's loop for a DAG workflow, following Argo's dag.go and operator.go.

For every task, in manifest order, until none can move: ``depends`` (or ``dependencies``)
decided by the oracle (wait, omit -> Omitted, error -> Error); then ``when`` with the task's
scope, its ancestors only (skip -> Skipped); then ``withItems``/``withParam`` expanded into
children ``task(i:item)`` (an empty list: the group is Skipped); then each child's arguments
(a pure reference to an absent output is dropped, an unresolvable one is Error, an optional
argument artifact whose ``from`` does not resolve is dropped: dag.go ``resolveDependency
References``), the callee's inputs (``default``; ``inputs.parameters.X was not supplied``),
and its pods under ``retryStrategy`` (policy, limit, expression; the backoff is computed and
recorded, not slept). After ``main``, the exit handler (``onExit`` / ``hooks.exit``) runs with
``workflow.status`` and ``workflow.failures``. The DAG's phase is ``assessDAGPhase``'s.

Pods run one after another: a workflow's results must not depend on its pods' order (that
is what ``parallelism`` promises), and one at a time keeps every run reproducible. A task
that can never move (Argo would requeue it for ever) leaves the workflow Running, with the
reason in ``WorkflowResult.message``.
"""

from __future__ import annotations

import json
import secrets as random
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .artifacts import ObjectStore, Repository
from .decisions import Decider, ExpressionError, TaskState
from .pods import PodRequest, Pods, seconds
from .result import Attempt, Node, SavedArtifact, WorkflowResult
from .substitution import Unresolved, pure_reference, replace, replace_all

FAILED_OR_ERROR = ("Failed", "Error")
FULFILLED = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
STRICT = ("tasks", "steps")
#: How long the harness really waits for a computed backoff: the figure is recorded instead.
BACKOFF_SLEEP_CAP = 0.005
#: A pod name is at most 253 characters, 10 of them the hash and its dash (pod_name.go).
POD_PREFIX_MAX = 253 - 10 - 1


class HarnessError(Exception):
    """The manifest uses something the harness does not execute, or is not runnable at all."""


class ArgumentError(Exception):
    """A task's arguments or items cannot be resolved: its node is Error."""


class Stuck(Exception):
    """Argo would requeue this task for ever (a value it waits for never comes)."""


def pod_name(workflow: str, node_name: str, template: str) -> str:
    """Argo's v2 pod name (workflow/util/pod_name.go): a prefix of at most 242 characters and
    the FNV-1a hash of the node's name."""
    if workflow == node_name:
        return workflow
    digest = 0x811C9DC5
    for byte in node_name.encode("utf-8"):
        digest = ((digest ^ byte) * 0x01000193) & 0xFFFFFFFF
    prefix = f"{workflow}-{template}" if template else workflow
    return f"{prefix[:POD_PREFIX_MAX]}-{digest}"


def ancestor_names(dependencies: Mapping[str, Sequence[str]], task: str) -> set[str]:
    """Every task ``task`` waits for, directly or not (what its scope may hold)."""
    seen: set[str] = set()
    todo = list(dependencies.get(task, ()))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(dependencies.get(name, ()))
    return seen


def item_text(item: Any) -> str:
    """``{{item}}``: a string as is, anything else as JSON (operator.go ``processItem``)."""
    return item if isinstance(item, str) else json.dumps(item, separators=(",", ":"))


def item_scope(item: Any) -> dict[str, str | None]:
    scope: dict[str, str | None] = {"item": item_text(item)}
    if isinstance(item, dict):
        scope.update({f"item.{k}": item_text(v) for k, v in item.items()})
    return scope


def child_name(task: str, index: int, item: Any) -> str:
    """``task(i:desc)`` with parentheses dropped from the description (generateNodeName)."""
    desc = item_text(item).replace("(", "").replace(")", "")
    return f"{task}({index}:{desc})"


@dataclass
class _Task:
    """A DAG task's node while the loop runs."""

    spec: Mapping[str, Any]
    node: Node | None = None
    dependencies: tuple[str, ...] = ()
    fanout: bool = False
    stuck: str | None = None  # why Argo would requeue this task for ever


@dataclass
class _Dag:
    template: Mapping[str, Any]
    node_prefix: str  # Argo's node name of the DAG: workflow name, or NAME.onExit
    scope: dict[str, str | None]
    tasks: dict[str, _Task] = field(default_factory=dict)


class Workflow:
    """One submitted workflow: ``Workflow(...).run()`` executes it to the end."""

    def __init__(self, manifest: Mapping[str, Any], *, decider: Decider, repository: Repository,
                 root: Path, secrets: Mapping[tuple[str, str], str] | None = None,
                 params: Mapping[str, str] | None = None) -> None:
        self.manifest = manifest
        self.spec: Mapping[str, Any] = manifest["spec"]
        self.templates: dict[str, Mapping[str, Any]] = {
            t["name"]: t for t in self.spec.get("templates") or []}
        metadata = manifest.get("metadata") or {}
        self.name = metadata.get("name") or (metadata.get("generateName", "workflow-")
                                             + random.token_hex(3)[:5])
        self.uid = str(uuid.uuid4())
        self.decider = decider
        self.store = ObjectStore(repository)
        self.repository = repository
        self.pods = Pods(root, self.spec.get("volumes") or [], secrets or {}, self.store)
        self.global_scope = self._globals(metadata, params or {})
        self.global_artifacts: dict[str, SavedArtifact] = {}
        self.global_parameters: dict[str, str] = {}

    def _globals(self, metadata: Mapping[str, Any],
                 params: Mapping[str, str]) -> dict[str, str | None]:
        scope: dict[str, str | None] = {
            "workflow.name": self.name, "workflow.uid": self.uid,
            "workflow.namespace": metadata.get("namespace", "argo"),
            "workflow.serviceAccountName": self.spec.get("serviceAccountName", "default")}
        declared = (self.spec.get("arguments") or {}).get("parameters") or []
        unknown = set(params) - {p["name"] for p in declared}
        if unknown:
            raise HarnessError(f"parameters not declared by the workflow: {sorted(unknown)}")
        values = {}
        for parameter in declared:
            value = params.get(parameter["name"], parameter.get("value"))
            if value is None:
                raise HarnessError(f"spec.arguments.{parameter['name']}.value is required")
            values[parameter["name"]] = str(value)
            scope[f"workflow.parameters.{parameter['name']}"] = str(value)
        scope["workflow.parameters"] = json.dumps(values)
        return scope

    # --- the workflow -----------------------------------------------------------------------

    def run(self) -> WorkflowResult:
        entry = self._template(self.spec["entrypoint"])
        if "dag" not in entry:
            raise HarnessError("the harness runs workflows whose entrypoint is a DAG")
        main = _Dag(entry, self.name, dict(self.global_scope))
        message = ""
        try:
            main_phase = self._run_dag(main)
        except Stuck as exc:
            main_phase, message = "Running", str(exc)
        result = WorkflowResult(self.name, self.uid, main_phase, main_phase, message=message,
                                nodes=_nodes(main))
        exit_template = self.spec.get("onExit") or \
            ((self.spec.get("hooks") or {}).get("exit") or {}).get("template")
        if exit_template and main_phase != "Running":
            scope = {**self.global_scope, "workflow.status": main_phase,
                     "workflow.failures": json.dumps(_failures(result.nodes))}
            handler = _Dag(self._template(exit_template), f"{self.name}.onExit", scope)
            try:
                exit_phase = self._run_exit(handler)
            except Stuck as exc:
                exit_phase, result.message = "Running", str(exc)
            result.exit_nodes = _nodes(handler)
            if exit_phase == "Running" or (main_phase == "Succeeded"
                                           and exit_phase in FAILED_OR_ERROR):
                result.phase = exit_phase
        result.global_artifacts = dict(self.global_artifacts)
        result.global_parameters = dict(self.global_parameters)
        return result

    def _template(self, name: str) -> Mapping[str, Any]:
        if name not in self.templates:
            raise HarnessError(f"template name '{name}' undefined")
        return self.templates[name]

    def _run_exit(self, handler: _Dag) -> str:
        if "dag" in handler.template:
            return self._run_dag(handler)
        task = _Task({"name": handler.template["name"], "template": handler.template["name"]})
        handler.tasks[task.spec["name"]] = task
        task.node = self._execute(handler, task, handler.node_prefix)
        return task.node.phase

    # --- one DAG ----------------------------------------------------------------------------

    def _run_dag(self, dag: _Dag) -> str:
        for spec in dag.template["dag"]["tasks"]:
            dag.tasks[spec["name"]] = _Task(
                spec, fanout=any(k in spec for k in ("withItems", "withParam", "withSequence")))
        moved = True
        while moved:
            moved = False
            for task in dag.tasks.values():
                if task.node is not None or task.stuck is not None:
                    continue
                answer = self.decider.depends(task.spec, self._states(dag))
                task.dependencies = answer.dependencies
                if answer.decision == "wait":
                    continue
                moved = True
                name = task.spec["name"]
                if answer.decision == "omit":
                    task.node = Node(name, "Omitted", "omitted: depends condition not met")
                elif answer.decision != "execute":
                    task.node = Node(name, "Error", answer.error or answer.decision)
                else:
                    try:
                        task.node = self._execute(dag, task, f"{dag.node_prefix}.{name}")
                    except Stuck as exc:
                        task.stuck = str(exc)
        waiting = {n: t.stuck or "waits for its dependencies" for n, t in dag.tasks.items()
                   if t.node is None}
        if waiting:
            raise Stuck("; ".join(f"{n}: {why}" for n, why in waiting.items()))
        return self._assess(dag)

    def _states(self, dag: _Dag) -> dict[str, TaskState]:
        return {name: TaskState(
            task.node.phase if task.node else None, task.fanout,
            tuple(c.phase for c in task.node.children) if task.node else (),
            task.spec.get("continueOn")) for name, task in dag.tasks.items()}

    def _task_scope(self, dag: _Dag, task: _Task) -> dict[str, str | None]:
        """Globals, the DAG's inputs and what the task's ancestors produced (scope.go)."""
        scope = dict(dag.scope)
        scope.update({f"workflow.outputs.parameters.{k}": v
                      for k, v in self.global_parameters.items()})
        parents = {n: t.dependencies for n, t in dag.tasks.items()}
        for name in ancestor_names(parents, task.spec["name"]):
            ancestor = dag.tasks[name]
            node = ancestor.node
            if node is None:
                continue
            prefix = f"tasks.{name}"
            scope[f"{prefix}.status"] = node.phase
            if node.phase in ("Skipped", "Omitted"):
                callee = self.templates.get(ancestor.spec.get("template", ""), {})
                for parameter in (callee.get("outputs") or {}).get("parameters") or []:
                    scope[f"{prefix}.outputs.parameters.{parameter['name']}"] = \
                        (parameter.get("valueFrom") or {}).get("default")
                continue
            if ancestor.fanout:
                scope.update(_aggregate(prefix, node))
                continue
            if node.exit_code is not None:
                scope[f"{prefix}.exitCode"] = str(node.exit_code)
            scope[f"{prefix}.outputs.result"] = node.stdout.removesuffix("\n")
            scope.update({f"{prefix}.outputs.parameters.{k}": v for k, v in node.outputs.items()})
        return scope

    def _artifact_scope(self, dag: _Dag, task: _Task) -> dict[str, SavedArtifact]:
        found = {f"workflow.outputs.artifacts.{k}": v for k, v in self.global_artifacts.items()}
        parents = {n: t.dependencies for n, t in dag.tasks.items()}
        for name in ancestor_names(parents, task.spec["name"]):
            node = dag.tasks[name].node
            if node is not None:
                found.update({f"tasks.{name}.outputs.artifacts.{k}": v
                              for k, v in node.artifacts.items()})
        return found

    def _execute(self, dag: _Dag, task: _Task, node_name: str) -> Node:
        name = task.spec["name"]
        scope = self._task_scope(dag, task)
        when = task.spec.get("when")
        if when and not (task.fanout and "{{item" in when):
            skip = self._when(name, when, scope)
            if skip is not None:
                return skip
        if not task.fanout:
            return self._run_task(dag, task, name, node_name, scope)
        try:
            items = self._items(task.spec, scope)
        except (ArgumentError, ExpressionError) as exc:
            return Node(name, "Error", str(exc))
        group = Node(name, "Skipped", "Skipped, empty params") if not items else Node(name, "")
        for index, item in enumerate(items):
            display = child_name(name, index, item)
            child_scope = {**scope, **item_scope(item)}
            skipped = self._when(display, when, child_scope) if when else None
            group.children.append(skipped or self._run_task(
                dag, task, display, f"{dag.node_prefix}.{display}", child_scope))
        if items:
            failed = [c.phase for c in group.children if c.phase in FAILED_OR_ERROR]
            group.phase = failed[-1] if failed else "Succeeded"
        return group

    def _when(self, display: str, when: str, scope: Mapping[str, str | None]) -> Node | None:
        answer = self.decider.when(when, scope)
        if answer.decision == "execute":
            return None
        if answer.decision == "skip":
            return Node(display, "Skipped", f"when '{answer.substituted}' evaluated false")
        if answer.decision == "requeue":
            raise Stuck(f"{display}: when {when!r} waits for a value that never comes")
        return Node(display, "Error", answer.error)

    def _items(self, spec: Mapping[str, Any], scope: Mapping[str, str | None]) -> list[Any]:
        if "withItems" in spec:
            return list(spec["withItems"])
        if "withSequence" in spec:
            raise HarnessError("the harness does not expand withSequence")
        text = self._strict(spec["name"], spec["withParam"], scope)
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArgumentError(f"withParam value could not be parsed as a JSON list: {text}: "
                                f"{exc}") from None
        if not isinstance(items, list):
            raise ArgumentError(f"withParam value could not be parsed as a JSON list: {text}")
        return items

    # --- one task (or fan-out child) with its retries -----------------------------------------

    def _strict(self, task: str, text: str, scope: Mapping[str, str | None]) -> str:
        """``text`` with its ``tasks.*`` tags resolved (``ReplaceStrictAny``): an absent value
        (a Skipped/Omitted producer's) is an error of the task; one that was never produced
        keeps Argo requeuing the task for ever."""
        try:
            return replace(text, scope, strict=STRICT, evaluate=self.decider.expression)
        except Unresolved as exc:
            if exc.tag in scope:
                raise ArgumentError(str(exc)) from None
            raise Stuck(f"{task}: {exc}") from None

    def _arguments(self, dag: _Dag, task: _Task, scope: Mapping[str, str | None]) -> tuple[
            dict[str, str], list[dict[str, Any]]]:
        """The task's argument parameters and artifacts, resolved (dag.go)."""
        parameters: dict[str, str] = {}
        arguments = task.spec.get("arguments") or {}
        for argument in arguments.get("parameters") or []:
            value = str(argument.get("value", ""))
            ref = pure_reference(value)
            if ref is not None and ref.startswith("tasks.") and ref in scope \
                    and scope[ref] is None:
                continue  # an absent optional: dropped, the input's default applies
            parameters[argument["name"]] = self._strict(task.spec["name"], value, scope)
        artifacts: list[dict[str, Any]] = []
        available = self._artifact_scope(dag, task)
        for argument in arguments.get("artifacts") or []:
            if "from" not in argument:
                artifacts.append(replace_all(dict(argument), scope,
                                             evaluate=self.decider.expression))
                continue
            ref = pure_reference(argument["from"]) or ""
            saved = available.get(ref)
            if saved is None:
                if argument.get("optional"):
                    continue
                raise ArgumentError(f"Unable to resolve: {argument['from']}")
            location = {"key": saved.key}
            artifacts.append({"name": argument["name"], "s3": location,
                              **({"archive": {"none": {}}} if saved.archive == "none" else {})})
        return parameters, artifacts

    def _run_task(self, dag: _Dag, task: _Task, display: str, node_name: str,
                  scope: Mapping[str, str | None]) -> Node:
        callee = self._template(task.spec["template"])
        node = Node(display, "", template=callee["name"])
        try:
            parameters, artifact_args = self._arguments(dag, task, scope)
            inputs = _inputs(callee, parameters)
        except ArgumentError as exc:
            node.phase, node.message = "Error", str(exc)
            return node
        strategy = callee.get("retryStrategy") or self.spec.get("retryStrategy")
        local = {**scope, **{f"inputs.parameters.{k}": v for k, v in inputs.items()}}
        attempt_no = 0
        started = time.monotonic()
        while True:
            attempt_node = f"{node_name}({attempt_no})" if strategy else node_name
            attempt = self._pod(callee, local, artifact_args, attempt_node, attempt_no)
            node.attempts.append(attempt)
            self._export(callee, attempt)
            if attempt.phase == "Succeeded" or not strategy:
                stop: str | None = attempt.message
                break
            stop = self._retry(strategy, attempt, attempt_no, time.monotonic() - started)
            if stop is not None:
                break
            attempt_no += 1
        node.phase, node.message = attempt.phase, stop or ""
        return node

    def _pod(self, callee: Mapping[str, Any], scope: Mapping[str, str | None],
             artifact_args: Sequence[Mapping[str, Any]], node_name: str, retries: int) -> Attempt:
        name = pod_name(self.name, node_name, callee["name"])
        local = {**scope, "retries": str(retries), "pod.name": name, **_path_tags(callee)}
        try:
            template = replace_all(dict(callee), local, evaluate=self.decider.expression)
        except (ExpressionError, Unresolved) as exc:
            return Attempt(name, "Error", None, str(exc))
        by_name = {a["name"]: a for a in artifact_args}
        artifacts = [{**a, **{k: v for k, v in by_name.get(a["name"], {}).items()
                              if k != "name"}}
                     for a in (template.get("inputs") or {}).get("artifacts") or []]
        for artifact in artifacts:
            # ArtifactLocation.Relocate: an S3 location without an endpoint is not a whole
            # location, so it takes the repository's (bucket included) and keeps only its key
            location = artifact.get("s3")
            if location is not None and "key" in location and not location.get("endpoint"):
                artifact["s3"] = {"key": location["key"], "bucket": self.repository.bucket}
        metadata = template.get("metadata") or {}
        pod_metadata = self.spec.get("podMetadata") or {}
        request = PodRequest(
            name, template, artifacts, self.repository.key_prefix(local),
            annotations={**(pod_metadata.get("annotations") or {}),
                         **(metadata.get("annotations") or {})},
            labels={**(pod_metadata.get("labels") or {}), **(metadata.get("labels") or {})})
        return self.pods.run(request)

    def _export(self, callee: Mapping[str, Any], attempt: Attempt) -> None:
        """``globalName`` outputs go to ``workflow.outputs``; the last writer wins."""
        for artifact in attempt.artifacts.values():
            if artifact.global_name:
                self.global_artifacts[artifact.global_name] = artifact
        for parameter in (callee.get("outputs") or {}).get("parameters") or []:
            if parameter.get("globalName") and parameter["name"] in attempt.outputs:
                self.global_parameters[parameter["globalName"]] = \
                    attempt.outputs[parameter["name"]]

    def _retry(self, strategy: Mapping[str, Any], attempt: Attempt, index: int,
               elapsed: float) -> str | None:
        """operator.go ``processNodeRetries`` after a failed attempt: None to try again, else
        why not (the retry node's message)."""
        delay = 0.0
        backoff = strategy.get("backoff")
        if backoff:
            delay = seconds(backoff["duration"]) * float(backoff.get("factor") or 1) ** index
            if backoff.get("cap"):
                delay = min(delay, seconds(backoff["cap"]))
            if backoff.get("maxDuration") and elapsed + delay > seconds(backoff["maxDuration"]):
                return "Backoff would exceed max duration limit"
        expression = strategy.get("expression")
        policy = strategy.get("retryPolicy") or ("Always" if expression else "OnFailure")
        if policy == "OnTransientError":
            raise HarnessError("the harness does not model retryPolicy OnTransientError")
        if (attempt.phase == "Failed" and policy == "OnError") or \
                (attempt.phase == "Error" and policy == "OnFailure"):
            return attempt.message
        limit = strategy.get("limit")
        if limit is not None and index + 1 > int(limit):
            return "No more retries left"
        if expression:
            last = {"exitCode": str(attempt.exit_code if attempt.exit_code is not None else -1),
                    "status": attempt.phase, "duration": str(attempt.duration),
                    "message": attempt.message}
            if not self.decider.retry(expression, last, index):
                return "retryStrategy.expression evaluated to false"
        attempt.backoff_seconds = delay
        time.sleep(min(delay, BACKOFF_SLEEP_CAP))
        return None

    # --- the DAG's phase ----------------------------------------------------------------------

    def _assess(self, dag: _Dag) -> str:
        """dag.go ``assessDAGPhase``: a walk from the roots carrying the branch phase."""
        dependents: dict[str, list[str]] = {n: [] for n in dag.tasks}
        for name, task in dag.tasks.items():
            for parent in task.dependencies:
                dependents[parent].append(name)
        targets = sorted(dag.template["dag"].get("target", "").split() or
                         [n for n, kids in dependents.items() if not kids])
        found: dict[str, str] = dict.fromkeys(targets, "")
        roots = [n for n, t in dag.tasks.items() if not t.dependencies]
        # a visit is (task, child index or None, branch phase); a fan-out child leads on to
        # the group's dependents as Argo's child nodes do
        queue: deque[tuple[str, int | None, str]] = deque((n, None, "Succeeded") for n in roots)
        seen = set(queue)
        while queue:
            name, child, branch = queue.popleft()
            node = dag.tasks[name].node
            assert node is not None
            here = node.children[child] if child is not None else node
            if here.phase in ("Succeeded", "Failed", "Error"):
                branch = here.phase
            if child is None and name in found and found[name] not in FAILED_OR_ERROR:
                found[name] = branch  # the target is the task's node, not a child's
            nexts: list[tuple[str, int | None, str]]
            if child is None and node.children:
                nexts = [(name, i, branch) for i in range(len(node.children))]
            else:
                nexts = [(d, None, branch) for d in dependents[name]]
            for visit in nexts:
                if visit not in seen:
                    seen.add(visit)
                    queue.append(visit)
        failfast = dag.template["dag"].get("failFast", True)
        result = "Succeeded"
        for name in targets:
            phase = found[name]
            if phase in FAILED_OR_ERROR:
                continue_on = dag.tasks[name].spec.get("continueOn") or {}
                if continue_on.get("failed" if phase == "Failed" else "error"):
                    continue
                result = phase
                if failfast:
                    break
        return result


def _inputs(callee: Mapping[str, Any], arguments: Mapping[str, str]) -> dict[str, str]:
    """The callee's input parameters: argument, else value, else default (ProcessArgs)."""
    values: dict[str, str] = {}
    for parameter in (callee.get("inputs") or {}).get("parameters") or []:
        name = parameter["name"]
        value = arguments.get(name, parameter.get("value", parameter.get("default")))
        if value is None:
            raise ArgumentError(f"inputs.parameters.{name} was not supplied")
        values[name] = str(value)
    return values


def _path_tags(callee: Mapping[str, Any]) -> dict[str, str | None]:
    """``{{inputs.artifacts.X.path}}``, ``{{outputs.artifacts.X.path}}``,
    ``{{outputs.parameters.X.path}}``: where the template keeps them."""
    tags: dict[str, str | None] = {}
    for side in ("inputs", "outputs"):
        for artifact in (callee.get(side) or {}).get("artifacts") or []:
            if artifact.get("path"):
                tags[f"{side}.artifacts.{artifact['name']}.path"] = artifact["path"]
    for parameter in (callee.get("outputs") or {}).get("parameters") or []:
        path = (parameter.get("valueFrom") or {}).get("path")
        if path:
            tags[f"outputs.parameters.{parameter['name']}.path"] = path
    return tags


def _aggregate(prefix: str, group: Node) -> dict[str, str | None]:
    """A fan-out's outputs as its dependants see them: JSON lists over Succeeded children."""
    done = [c for c in group.children if c.phase == "Succeeded"]
    names = dict.fromkeys(k for c in done for k in c.outputs)
    scope: dict[str, str | None] = {
        f"{prefix}.outputs.parameters.{n}": json.dumps([c.outputs.get(n) for c in done])
        for n in names}
    scope[f"{prefix}.outputs.parameters"] = json.dumps(
        [dict(c.outputs) for c in done])
    results: list[Any] = []
    for c in done:
        try:
            parsed = json.loads(c.stdout)
        except json.JSONDecodeError:
            parsed = None
        results.append(parsed if isinstance(parsed, dict) else c.stdout.removesuffix("\n"))
    scope[f"{prefix}.outputs.result"] = json.dumps(results)
    return scope


def _nodes(dag: _Dag) -> dict[str, Node]:
    found: dict[str, Node] = {}
    for name, task in dag.tasks.items():
        if task.node is not None:
            found[name] = task.node
            found.update({c.name: c for c in task.node.children})
    return found


def _failures(nodes: Mapping[str, Node]) -> list[dict[str, str]]:
    """``{{workflow.failures}}``: the nodes that failed, as Argo lists them."""
    return [{"displayName": n.name, "message": n.message, "templateName": n.template or "",
             "phase": n.phase, "podName": n.last.pod_name if n.last else ""}
            for n in nodes.values() if n.phase in FAILED_OR_ERROR]
