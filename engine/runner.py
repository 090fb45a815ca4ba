"""The in-pod step runner: ``flowspec step`` (also ``python -m engine.runner``).

Each Argo pod runs exactly one attempt of one step the way the local executor runs it, with
the executor's own parts: the same env rendering (``step_env``), the same processor call with
the same timeout (``attempt.call``), the same output typing (``outputs.check``). What differs
is where inputs come from and where results go (see ``engine.compile.contract``):

- the spec is the file Kubernetes writes from the pods' annotation, checked against the hash
  compiled in;
- params and upstream outputs arrive as env vars holding Argo parameter text (NULL_MARKER is
  null), files and ancestors' results as input artifacts under ``--root``
  (``engine.pod_results``), or, with ``argo.artifact_repository: none``, results from the
  store;
- the step's result is written for Argo to save as an artifact, its ``file`` outputs are
  files under ``$FLOWSPEC_OUTPUT_DIR`` (``ROOT/files``), saved the same way;
- every output file the template collects is written, whatever happens, so that Argo never
  waits for ever on a missing output (SEMANTICS appendix 9-10): null as NULL_MARKER, each with
  a trailing newline, which Argo trims (a value's own trailing newline survives);
- the attempt is recorded in the store (``FLOWSPEC_DB``, else ``DATABASE_URL``) if one is set;
- the command's stdout and stderr go to the pod's own, line by line as they are written and
  masked as the executor masks logs, so ``argo logs`` and the Argo UI show them; with a store,
  they are kept there too, for ``flowspec logs`` (``engine.executor.logs``);
- the exit code tells Argo's retryStrategy what happened: 0 Succeeded, 1 Failed, 75 Failed
  transiently (``on: transient`` retries this one and Argo's Error nodes), 2 the pod itself
  is wrong.

The runner enforces the step's ``timeout`` itself; the compiled template's timeout adds a
grace period, so outputs and the store record are written before Argo kills the pod.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.compile import contract as c
from engine.model import SecretRef, Spec, Step

if TYPE_CHECKING:
    from engine.secrets import Redactor


class RunnerError(Exception):
    """The pod was started wrongly (spec, step, params, secrets): exit 2, no retry helps."""


@dataclass(frozen=True)
class Result:
    phase: str
    outputs: dict[str, Any]
    data: dict[str, Any]
    error: str | None = None
    error_type: str | None = None
    transient: bool = False

    @property
    def exit_code(self) -> int:
        if self.phase == "Succeeded":
            return c.EXIT_OK
        return c.EXIT_TRANSIENT if self.transient else c.EXIT_FAILED


# --- inputs --------------------------------------------------------------------------------

def read_spec(path: Path, expected_sha256: str | None) -> str:
    """The spec text from the file Argo wrote (encoded) or a plain YAML file, hash-checked."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RunnerError(f"cannot read the spec {path}: {exc.strerror}") from None
    if raw.lstrip().startswith(("apiVersion", "#", "---")):
        text = raw
    else:
        try:
            text = c.decode_spec(raw)
        except (ValueError, OSError, EOFError) as exc:
            raise RunnerError(f"{path} holds no encoded spec ({exc})") from None
    if expected_sha256 and c.spec_sha256(text) != expected_sha256:
        raise RunnerError(
            f"the spec in {path} is not the one this workflow was compiled from (sha256 "
            f"{c.spec_sha256(text)[:12]}, expected {expected_sha256[:12]}); the "
            f"'{c.SPEC_ANNOTATION}' annotation was changed: compile and submit the spec again")
    return text


def load(text: str) -> Spec:
    from engine.diagnostics import SpecError
    from engine.validation import load_spec_text

    try:
        return load_spec_text(text, name="<argo spec>")
    except SpecError as exc:
        raise RunnerError(f"the embedded spec is not valid: {exc}") from None


def pod_params(spec: Spec, environ: Mapping[str, str]) -> dict[str, Any]:
    """Typed params from ``FLOWSPEC_PARAM_*`` (Argo parameter text), defaults for the rest."""
    from engine.expr.to_argo import NULL_MARKER
    from engine.params import ParamError, resolve_params

    given = {name: environ[c.param_env(name)] for name in spec.params
             if environ.get(c.param_env(name), NULL_MARKER) != NULL_MARKER}
    try:
        return resolve_params(spec, given, require=False)
    except ParamError as exc:
        raise RunnerError(f"bad workflow parameters: {exc}") from None


def argo_item_text(value: Any) -> str:
    """How Argo renders ``{{item}}`` for one element of a ``withParam`` JSON list."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def decode_item(text: str, source: Any) -> Any:
    """The typed element ``{{item}}`` stands for: found in the source list when it is known,
    else read as JSON when it is not plain text."""
    if isinstance(source, list):
        for element in source:
            if argo_item_text(element) == text:
                return element
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return text if isinstance(value, str) else value


def upstream_values(spec: Spec, refs: Sequence[tuple[str, str]], environ: Mapping[str, str],
                    output_types: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, Any]]:
    """``{producer: {output: value}}`` from ``FLOWSPEC_UPSTREAM_*`` (null: NULL_MARKER) for
    ``refs``, the output parameters the step is handed (``templates.step_reads``).

    A for_each producer's output is, on Argo as locally, the list of its succeeded
    instances' values: Argo hands it over as a JSON list of their texts, each read by type.
    """
    from engine.expr.to_argo import NULL_MARKER, value_from_argo_text

    found: dict[str, dict[str, Any]] = {}
    for producer, output in refs:
        text = environ.get(c.upstream_env(c.upstream_input(producer, output)))
        type_name = output_types.get(producer, {}).get(output, "string")
        fan_out = spec.step(producer).for_each is not None
        try:
            if text is None or text == NULL_MARKER:
                value = None
            elif fan_out:
                value = [value_from_argo_text(str(t), type_name) for t in json.loads(text)]
            else:
                value = value_from_argo_text(text, type_name)
        except ValueError as exc:
            raise RunnerError(f"steps.{producer}.outputs.{output}: {exc}") from None
        found.setdefault(producer, {})[output] = value
    return found


def pod_secrets(step: Step, environ: Mapping[str, str]) -> dict[str, str]:
    """The secrets Kubernetes put in the pod's env, keyed as the executor looks them up."""
    return {var.value.local_variable: environ[name] for name, var in step.env.items()
            if isinstance(var.value, SecretRef) and name in environ}


# --- the store -----------------------------------------------------------------------------

class PodStore:
    """The run store seen from one pod: ancestors' results in, this attempt out.

    Many pods of one workflow write at once and none holds the run's lease (Argo drives the
    run, so an Argo run never has a lease holder): the store's lease-free
    ``record_attempt`` appends each pod's attempt.
    """

    def __init__(self, url: str) -> None:
        from engine.store.sql import SqlStore

        self.store = SqlStore(url)
        self.url = url

    def upstream(self, run_id: str, names: Sequence[str]) -> dict[str, Any]:
        from engine.processors import Upstream
        from engine.store.errors import UnknownRun

        try:
            state = self.store.load_run(run_id)
        except UnknownRun:
            return {}
        found = {}
        for name in names:
            tries = state.attempts.get(name)
            if tries and tries[-1].final:
                last = tries[-1]
                found[name] = Upstream(last.phase, last.outputs or {}, last.data or {},
                                       known_digest=last.digest)
            elif name in state.nodes:
                found[name] = Upstream(state.nodes[name].phase, {}, {})
        return found

    def record(self, spec: Spec, run_id: str, params: Mapping[str, Any], node: str,
               attempt: int, started: float, result: Result, final: bool) -> None:
        """The attempt as the executor logs one (``SqlStore.record_attempt``); the run is
        described for the store in case this pod is the run's first."""
        from engine.store.records import AttemptRecord, RunRecord

        run = RunRecord(
            run_id=run_id, workflow=spec.name,
            spec_file=f"argo:{os.environ.get(c.ENV_WORKFLOW_NAME, run_id)}",
            spec_text=spec.document.source.text, spec_hash=spec.source_hash,
            params=dict(params), workdir=c.WORK_DIR, max_parallel=spec.parallelism or 0,
            phase="Running", created_at=started)
        succeeded = result.phase == "Succeeded"
        self.store.record_attempt(run, AttemptRecord(
            node=node, attempt=attempt, phase=result.phase, started_at=started,
            finished_at=time.time(), outputs=result.outputs if succeeded else None,
            data=result.data or None, error=result.error, error_type=result.error_type,
            final=final))

    def close(self) -> None:
        self.store.close()


def store_url(environ: Mapping[str, str]) -> str | None:
    return environ.get("FLOWSPEC_DB") or environ.get("DATABASE_URL") or None


# --- running -------------------------------------------------------------------------------

def _final(step: Step, attempt: int, result: Result) -> bool:
    """Whether Argo will stop after this attempt (the retry policy and limit, as compiled)."""
    if result.phase == "Succeeded" or attempt > step.retry.limit:
        return True
    on = step.retry.on
    return not (on in ("failure", "always") or (on == "transient" and result.transient))


def execute(spec: Spec, step: Step, context: Any, output_types: Mapping[str, str]) -> Result:
    """One attempt through the executor's own parts (processor call, timeout, output check)."""
    from engine.executor import attempt as attempts
    from engine.executor.outputs import OutputProblem, check, encode
    from engine.processors import ProcessorNotFound, resolve

    try:
        cls = resolve(step.processor)
    except ProcessorNotFound as exc:
        raise RunnerError(f"{exc.reason}; is the processor installed in this image? A step "
                          "naming its own argo.image needs flowspec and its processor in it, "
                          "which the compiler cannot check") from None
    try:
        processor = cls(dict(step.config))
    except Exception as exc:  # noqa: BLE001 - a processor may reject its config any way
        outcome = attempts.config_error(step.processor, exc)
    else:
        blocking = not attempts.is_async(cls)
        outcome = asyncio.run(attempts.call(processor, context, step.timeout, blocking))
    if outcome.phase != "Succeeded":
        return Result(outcome.phase, {}, {}, outcome.error, outcome.error_type, outcome.transient)
    try:
        outputs, data = check(outcome.result, output_types, context.output_dir)
        encode(outputs, data)  # what the executor could not store fails here alike
    except OutputProblem as exc:
        return Result("Failed", {}, {}, str(exc), "OutputError")
    return Result("Succeeded", outputs, data)


def write_outputs(directory: Path, names: Sequence[str], result: Result) -> Result:
    """Every output file the template collects; a value that cannot be written fails the step."""
    from engine.expr.to_argo import argo_value_text

    directory.mkdir(parents=True, exist_ok=True)
    texts: dict[str, str] = {}
    for name in names:
        value = result.outputs.get(name) if result.phase == "Succeeded" else None
        try:
            texts[name] = argo_value_text(value)
        except ValueError as exc:
            result = Result("Failed", {}, {}, f"output '{name}': {exc}", "OutputError")
            return write_outputs(directory, names, result)
    for name, text in texts.items():
        (directory / name).write_text(text + "\n", encoding="utf-8")
    return result


def _for_each_source(step: Step, params: Mapping[str, Any], known: Mapping[str, Any]) -> Any:
    ref = step.for_each or ""
    if ref.startswith("params."):
        return params.get(ref.removeprefix("params."))
    _, producer, _, output = ref.split(".", 3)
    upstream = known.get(producer)
    return upstream.outputs.get(output) if upstream is not None else None


def _attempt_number(environ: Mapping[str, str]) -> int:
    """1-based, from Argo's ``{{retries}}`` (0-based; absent without a retryStrategy)."""
    try:
        return int(environ.get(c.ENV_ATTEMPT, "0")) + 1
    except ValueError:
        return 1


def _node_name(step: Step, item_text: str | None) -> str:
    """The store's node name; a for_each instance is named after its item (Argo's index is
    not known inside the pod)."""
    return step.name if item_text is None else f"{step.name}({item_text.replace('(', '').replace(')', '')})"


def _write_nulls(directory: Path, names: Sequence[str]) -> None:
    """Even a pod that cannot run its step leaves every output file (as null)."""
    write_outputs(directory, names, Result("Failed", {}, {}))


def prepare(spec_path: Path, step_name: str, environ: Mapping[str, str], root: str) -> tuple[
        Spec, Step, dict[str, Any], dict[str, dict[str, str]], Any]:
    """The spec, the step, its params, every step's output types and the env values; or
    RunnerError when the pod itself is wrong."""
    from engine.compile.templates import step_reads
    from engine.executor.files import FILE
    from engine.expr.evaluate import StepValues, Values
    from engine.rules.context import Context
    from engine.rules.processors import step_output_types

    spec = load(read_spec(spec_path, environ.get(c.ENV_SPEC_SHA256)))
    try:
        step = spec.step(step_name)
    except KeyError:
        raise RunnerError(f"the spec has no step '{step_name}'") from None
    params = pod_params(spec, environ)
    for name, param in spec.params.items():  # a file param is the copy Argo put here
        copy = Path(c.param_file_path(root, name))
        if param.type == FILE and copy.is_file():
            params[name] = str(copy)
    types = step_output_types(Context(spec.document, spec))
    reads = step_reads(spec, step, types, environ.get(c.ENV_RESULTS_FROM) == "store")
    upstream = upstream_values(spec, reads.outputs, environ, types)
    for producer, output in reads.files:
        copy = Path(c.file_input_path(root, producer, output))
        upstream.setdefault(producer, {})[output] = str(copy) if copy.is_file() else None
    values = Values(
        params=params,
        steps={name: StepValues("Succeeded", outs) for name, outs in upstream.items()},
        workflow_status=environ.get(c.ENV_WORKFLOW_STATUS),
        workflow_name=environ.get(c.ENV_WORKFLOW_NAME))
    return spec, step, params, types, values


def ancestors_results(spec: Spec, step: Step, environ: Mapping[str, str], root: str,
                      store: PodStore | None, run_id: str, params: Mapping[str, Any],
                      types: Mapping[str, Mapping[str, str]], values: Any) -> dict[str, Any]:
    """``context.upstream``: from the result artifacts Argo handed over, or from the store
    when the workflow has one (``argo.store``)."""
    from engine import pod_results
    from engine.compile.templates import reads_results
    from engine.graph import visible_ancestors

    if not reads_results(step):
        return {}
    names = visible_ancestors(spec, step)
    stored = None
    if environ.get(c.ENV_RESULTS_FROM) == "store":
        if store is None:
            raise RunnerError(f"the workflow reads results from its store, and "
                              f"{c.ENV_STORE} is not set in the pod")
        stored = store.upstream(run_id, names)
    fan_out = {name: sv.outputs for name, sv in values.steps.items()
               if spec.step(name).for_each is not None}
    try:
        return pod_results.upstream(spec, step, root, names,
                                    pod_results.parse_phases(environ.get(c.ENV_PHASES)),
                                    fan_out, types, params, stored)
    except ValueError as exc:
        raise RunnerError(str(exc)) from None


def run(spec_path: Path, step_name: str, environ: Mapping[str, str], root: Path) -> int:
    """One attempt of ``step_name``; returns the exit code. Says what went wrong on stderr.
    ``root``: the pod's folder (``contract.ROOT``) holding inputs, outputs and the workdir."""
    from dataclasses import replace

    from engine import pod_results
    from engine.executor import files
    from engine.executor.env import step_env
    from engine.executor.logs import LogBook
    from engine.expr.errors import ExprEvalError
    from engine.processors import StepContext
    from engine.secrets import MissingSecret, Redactor

    started = time.time()
    where = str(root)
    output_dir = Path(c.outputs_dir(where))
    output_names = [n for n in environ.get(c.ENV_OUTPUTS, "").split(",") if n]
    url = store_url(environ)
    store: PodStore | None = None
    try:
        spec, step, params, types, values = prepare(spec_path, step_name, environ, where)
        run_id = environ.get(c.ENV_RUN_ID) or spec.name
        if url:
            store = PodStore(url)
        known = ancestors_results(spec, step, environ, where, store, run_id, params, types,
                                  values)
        item_text = environ.get(c.ENV_ITEM) if step.for_each is not None else None
        if item_text is not None:
            values = replace(values, item=decode_item(
                item_text, _for_each_source(step, params, known)))
        secrets = pod_secrets(step, environ)
        try:
            env = step_env(step, secrets, lambda: values)
        except (MissingSecret, ExprEvalError) as exc:
            raise RunnerError(f"cannot build the step's env: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - RunnerError, or a store that cannot be opened
        _write_nulls(output_dir, output_names)
        reason = Redactor.for_env(environ).scrub(str(exc)) or ""
        # what the executor records for a step it could not start: Error, with the reason
        pod_results.write_result(where, "Error", {}, {}, reason)
        if store is not None:
            store.close()
        print(f"flowspec step: {reason}", file=sys.stderr)
        return c.EXIT_USAGE

    attempt = _attempt_number(environ)
    node = _node_name(step, item_text)
    redactor = Redactor(secrets.values())
    logs = LogBook(store.store if store is not None else None, run_id, redactor, _echo)
    output_types = types.get(step.name, {})
    folder = files.fresh(Path(c.files_dir(where))) if files.file_outputs(output_types) \
        else None
    workdir = Path(c.work_dir(where))
    context = StepContext(
        run_id=run_id, workflow=spec.name, step=step.name, attempt=attempt, params=params,
        env=env, upstream=known, workdir=workdir, database_url=url, item=values.item,
        workflow_status=values.workflow_status, log=logs.attempt(node, attempt),
        output_types=output_types, output_dir=folder)
    workdir.mkdir(parents=True, exist_ok=True)
    result = execute(spec, step, context, output_types)
    logs.close()
    result = replace(result, outputs=_masked(redactor, result.outputs),
                     data=_masked(redactor, result.data), error=redactor.scrub(result.error))
    result = write_outputs(output_dir, output_names, result)
    pod_results.write_result(where, result.phase, result.outputs, result.data, result.error)
    if store is not None:
        try:
            store.record(spec, run_id, params, node, attempt, started, result,
                         _final(step, attempt, result))
        except Exception as exc:  # noqa: BLE001 - the step's own outcome matters more
            print("flowspec step: could not record the attempt in the store: "
                  f"{redactor.scrub(str(exc))}", file=sys.stderr)
        finally:
            store.close()
    if result.phase != "Succeeded":
        print(f"flowspec step: {step.name} {result.phase}: {result.error}", file=sys.stderr)
    return result.exit_code


def _echo(node: str, attempt: int, stream: str, line: str) -> None:
    """A line of the step's log to the pod's own stream of the same name: Kubernetes keeps
    the pod's output, and ``argo logs`` and the Argo UI show it."""
    out = sys.stderr if stream == "stderr" else sys.stdout
    out.write(line + "\n")
    out.flush()


def _masked(redactor: Redactor, value: dict[str, Any]) -> dict[str, Any]:
    """``value`` with every secret masked, as the executor masks what it stores."""
    from engine.canonical import dumps

    masked = redactor.scrub_encoded(dumps(value)) if redactor and value else None
    return value if masked is None else dict(masked[1])


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", required=True, type=Path,
                   help="the spec: the file Argo writes from the manifest, or a YAML file")
    p.add_argument("--step", required=True, help="the step to run")
    p.add_argument("--root", type=Path, default=Path(c.ROOT),
                   help="the pod's folder: inputs Argo put there, outputs it collects, the "
                        "processor's working directory")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.runner",
                                     description="run one step of an embedded flowspec spec")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args.spec, args.step, os.environ, args.root)


if __name__ == "__main__":
    sys.exit(main())
