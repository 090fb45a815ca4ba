"""The seed's Argo face, kept for its callers: ``ChargebackWorkflowOrchestrationAdapter``.

Both of its methods write a flowspec spec and hand it to the one validator and the one
compiler (``engine.validation.load_spec_text``, ``engine.compile.compile_spec``), so what they
produce is exactly what ``flowspec compile`` produces for the same spec; they return the
Hera workflow (``.to_yaml()``, ``.create()``).

Secrets are references, never values: an ``env_vars`` entry whose name looks like a secret,
or a URL carrying a password, given as a literal is refused (the validator's FS501/FS502)
with a ``LiteralSecretError`` that says how to reference a Kubernetes secret instead. The
refused value appears in no message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

#: The shipped chargeback pipeline as package data, so that a non-editable install has it
#: too: a copy of the repository's specs/chargeback.yaml, which tests/compile/test_adapter.py
#: keeps byte-identical (after editing the spec: cp specs/chargeback.yaml processors/chargeback/).
DEFAULT_SPEC = resources.files("processors.chargeback") / "chargeback.yaml"
#: ``config`` keys that are the spec's ``argo`` settings (the rest are the adapter's own).
ARGO_KEYS = ("image", "image_pull_policy", "namespace", "service_account", "pod_gc",
             "ttl_after_finished", "node_selector", "tolerations", "security_context",
             "labels", "annotations")
OWN_KEYS = ("spec_path", "name", "kind", "service_client", "server", "ca_cert", "insecure")
#: The seed's config keys, read as ours: its workflow name, its step image and command.
SEED_KEYS = {"workflow_name": "name", "processor_image": "image",
             "processor_command": "command"}
_SECRET_CODES = ("FS501", "FS502")


class LiteralSecretError(ValueError):
    """A secret was given as a value; the message names the variables, never their values."""


class ChargebackWorkflowOrchestrationAdapter:
    """Builds Argo workflows for chargeback claims from flowspec specs.

    ``config``: any ``argo`` setting of a spec (``namespace``, ``image``,
    ``service_account``, ...), plus ``spec_path`` (the chargeback spec, default the shipped
    one, ``DEFAULT_SPEC``), ``name`` (the workflow name of ``create_workflow_from_steps``),
    ``kind`` (``Workflow``, ``WorkflowTemplate`` or ``CronWorkflow``), ``command`` (every
    step's container command, for an image whose entry point is not ``flowspec step``),
    ``service_client`` (a Hera ``WorkflowsService``: the workflows returned can then
    ``.create()`` themselves) and the Argo Server ``submit`` and ``watch`` talk to:
    ``server``, ``ca_cert``, ``insecure`` (else ``ARGO_SERVER`` and Argo's other variables,
    as for ``flowspec submit``; the token only from ``ARGO_TOKEN``). The seed's names
    ``workflow_name``, ``processor_image`` and ``processor_command`` mean ``name``,
    ``image`` and ``command``.
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        given = dict(config or {})
        self.config = {SEED_KEYS.get(k, k): v for k, v in given.items()}
        if len(self.config) < len(given):
            both = sorted(k for k in SEED_KEYS if k in given and SEED_KEYS[k] in given)
            raise ValueError(f"config gives {both[0]} and {SEED_KEYS[both[0]]}, which are "
                             "the same setting; give one")
        known = (*ARGO_KEYS, *OWN_KEYS, "command")
        unknown = sorted(set(self.config) - set(known))
        if unknown:
            raise ValueError(f"unknown config key(s) {', '.join(unknown)}; known: "
                             f"{', '.join(known + tuple(SEED_KEYS))}")
        self.argo = {k: self.config[k] for k in ARGO_KEYS if k in self.config}
        self.command = self.config.get("command")
        if self.command is not None and (isinstance(self.command, str) or not all(
                isinstance(part, str) for part in self.command)):
            raise ValueError("command must be a list of strings, such as "
                             "['flowspec', 'step']")
        self.kind = str(self.config.get("kind", "Workflow"))
        self.service_client = self.config.get("service_client")

    def create_chargeback_workflow(self, document_id: str, basket_id: str | None = None,
                                   env_vars: Mapping[str, Any] | None = None) -> Any:
        """The chargeback pipeline for one claim document, with extra workflow env.

        ``env_vars`` values are text (numbers and booleans are written as text) or secret
        references ``{"secret": {"name": ..., "key": ...}, "optional": bool}``.
        """
        from engine.diagnostics import SpecError
        from engine.loader import load_file

        spec_path = self.config.get("spec_path")
        # flowspec's own loader: YAML 1.2, so `on: transient` stays the key "on"
        with resources.as_file(DEFAULT_SPEC if spec_path is None else Path(spec_path)) as path:
            doc, problems = load_file(str(path))
        if doc is None:
            raise SpecError(problems)
        data = doc.data
        data["env"] = {**(data.get("env") or {}), **dict(env_vars or {})}
        params = {"document": document_id}
        if basket_id is not None:
            params["basket_id"] = basket_id
        given = [("env", name) for name in env_vars or ()]
        return self._compile(data, f"{path} (with env_vars)", params, given)

    def create_workflow_from_steps(self, steps: Sequence[Mapping[str, Any]]) -> Any:
        """A workflow from the seed's step dicts: ``name``, ``processor``, ``dependencies``,
        ``env`` and ``args`` (the processor's config)."""
        spec_steps = []
        given: list[tuple[str | int, ...]] = []
        for i, raw in enumerate(steps):
            step: dict[str, Any] = {"name": raw.get("name"), "processor": raw.get("processor")}
            if raw.get("dependencies"):
                step["dependencies"] = list(raw["dependencies"])
            if raw.get("env"):
                step["env"] = dict(raw["env"])
                given.extend(("steps", i, "env", name) for name in raw["env"])
            args = raw.get("args")
            if isinstance(args, Mapping):
                step["config"] = dict(args)
            elif args:
                raise ValueError(
                    f"step {raw.get('name')!r}: args is a {type(args).__name__}; a processor "
                    "takes its config as a mapping of names to values, such as "
                    "args={'command': ['make', 'build']} for the shell processor")
            extra = sorted(set(raw) - {"name", "processor", "dependencies", "env", "args"})
            if extra:
                raise ValueError(f"step {raw.get('name')!r}: unknown key(s) {', '.join(extra)}; "
                                 "a step has name, processor, dependencies, env and args")
            spec_steps.append(step)
        data = {"apiVersion": "flowspec/v1", "kind": "Workflow",
                "metadata": {"name": self.config.get("name", "chargeback-steps")},
                "steps": spec_steps}
        return self._compile(data, "<create_workflow_from_steps>", {}, given)

    def submit(self, workflow: Any) -> str:
        """Create ``workflow`` (one this adapter built) on the Argo Server, through the client
        ``flowspec submit`` uses; returns the name the server gave it (a Workflow is named
        from its ``generateName``), which ``watch`` takes."""
        from engine.argo_client import create

        _, name, _ = create(self._connection(workflow.namespace), workflow, self.kind)
        return name

    def watch(self, name: str, *, timeout: float | None = None, poll: float = 2.0,
              on_update: Callable[[Any], None] | None = None) -> Any:
        """Follow the workflow ``name`` until it ends (ArgoError after ``timeout`` seconds; it
        keeps running); returns its last view: ``phase``, ``steps``, ``message``."""
        from engine.argo_client import follow

        return follow(self._connection(self.argo.get("namespace")), name,
                      on_update or (lambda _view: None), poll=poll, timeout=timeout)

    def _connection(self, namespace: str | None) -> Any:
        from engine.argo_client import connect

        return connect(self.config.get("server"), namespace or self.argo.get("namespace"),
                       ca_cert=self.config.get("ca_cert"),
                       insecure=bool(self.config.get("insecure", False)))

    def _compile(self, data: dict[str, Any], name: str, params: Mapping[str, Any],
                 given: Sequence[tuple[str | int, ...]]) -> Any:
        from engine.compile import compile_spec
        from engine.compile.yaml_out import dump
        from engine.diagnostics import SpecError
        from engine.validation import load_spec_text

        data["argo"] = {**(data.get("argo") or {}), **self.argo}
        if self.command is not None:
            for key in ("steps", "finally"):
                for step in data.get(key) or ():
                    step["argo"] = {**(step.get("argo") or {}), "command": list(self.command)}
        text = dump(data)
        try:
            spec = load_spec_text(text, name=name)
        except SpecError as exc:
            _refuse_literal_secrets(exc, text, given)
            raise
        workflow = compile_spec(spec, kind=self.kind, params=params)
        if spec.argo.get("namespace"):
            workflow.namespace = spec.argo["namespace"]
        if self.service_client is not None:
            workflow.workflows_service = self.service_client
        return workflow


def _refuse_literal_secrets(exc: Any, text: str, given: Sequence[tuple[str | int, ...]]) -> None:
    """Turn the validator's literal-secret findings on the caller's env into one
    LiteralSecretError, naming the variables (found by the line each finding points at)."""
    from engine.loader import load_text

    lines = {d.line for d in exc.diagnostics if d.code in _SECRET_CODES}
    if not lines:
        return
    doc, _ = load_text(text)
    if doc is None:
        return
    names = sorted({str(path[-1]) for path in given if doc.span(path, key=True).line in lines})
    if not names:
        return
    raise LiteralSecretError(
        f"env var(s) {', '.join(names)} hold a secret as a literal value, which would be "
        "written into the Argo manifest; store it in a Kubernetes secret (kubectl create "
        f"secret generic <name> --from-literal=<key>=...) and pass a reference instead: "
        f"{{'{names[0]}': {{'secret': {{'name': '<name>', 'key': '<key>'}}}}}}") from None
