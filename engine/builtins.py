"""The three processors every user has: ``noop``, ``shell`` and ``python``.

They are registered under the ``flowspec.processors`` entry-point group like any plugin, so
the engine has no special case for them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from engine import process_group
from engine.command_env import command_env
from engine.executor.files import ENV_OUTPUT_DIR
from engine.output_file import OutputFileError, parse
from engine.processors import StepContext, StepFailed, StepResult, import_object

#: The ``stdout`` output holds the last 256 kB, as Argo's ``outputs.result`` does.
_MAX_STDOUT = 256 * 1024
_MAX_STDERR = 2000  # the end of stderr, for the message of a failed command
#: Outputs the processor sets itself, which ``$FLOWSPEC_OUTPUT`` may not set.
_OWN_OUTPUTS = ("exit_code", "stdout")


class Noop:
    """Returns the outputs its config names: the way to wire and test a graph without work."""

    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "outputs": {
                "type": "object",
                "description": "Output values to return, by name.",
            }
        },
    }
    outputs: ClassVar[Mapping[str, str]] = {}
    open_outputs: ClassVar[bool] = True
    #: Instant and pure: the executor may call it on its event loop instead of a thread.
    inline: ClassVar[bool] = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.values = dict(config.get("outputs") or {})

    def process(self, context: StepContext) -> StepResult:
        return StepResult(outputs=self.values)


class Shell:
    """Runs a command; a string goes through ``sh -c``, a list is executed directly.

    Values reach the command only through environment variables (the step's ``env``), never by
    text substitution into the command, so an upstream output cannot inject shell code. The
    command sees its step's env and a small base, not flowspec's (``engine.command_env``), and
    runs in a process group of its own that does not outlive its attempt
    (``engine.process_group``).

    Its stdout and stderr go to the attempt's log (``context.log``) as they are written. Its
    outputs are ``exit_code`` and what it writes to ``$FLOWSPEC_OUTPUT``; its stdout is an
    output too, ``stdout`` (the last 256 kB, without the final newline, read by the declared
    type), only when the step declares one: ``outputs: {stdout: string}``. Output that nobody
    reads as a value is not kept twice, in the log and in every descendant's context.
    """

    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["command"],
        "properties": {
            "command": {
                "description": "A string run by `sh -c`, or a list run directly.",
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
                ],
            },
            "cwd": {"type": "string", "description": "Working directory for the command."},
        },
    }
    outputs: ClassVar[Mapping[str, str]] = {"exit_code": "integer"}
    open_outputs: ClassVar[bool] = True
    #: It stops its command's process group when its attempt is cancelled (AttemptControl).
    cancellable: ClassVar[bool] = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        command = config["command"]
        self.argv = ["sh", "-c", command] if isinstance(command, str) else list(command)
        self.cwd = config.get("cwd")

    def process(self, context: StepContext) -> StepResult:
        control = context.control
        # The outputs file lives in a folder of the attempt's own under the system's temporary
        # folder (mode 0700, removed afterwards): never among the user's files.
        with tempfile.TemporaryDirectory(prefix="flowspec-attempt-") as scratch:
            output_path = Path(scratch) / "outputs"
            output_path.touch()
            own = {"FLOWSPEC_OUTPUT": str(output_path)}
            if context.output_dir is not None:
                own[ENV_OUTPUT_DIR] = str(context.output_dir)
            env = command_env(context.env, own)
            cwd = Path(self.cwd) if self.cwd else context.workdir
            wants_stdout = "stdout" in context.output_types
            try:
                done = process_group.run(
                    self.argv, cwd=cwd, env=env, cancelled=lambda: control.cancelled,
                    started=control.started_group, on_output=context.log.write,
                    keep_stdout=_MAX_STDOUT if wants_stdout else 0, keep_stderr=_MAX_STDERR)
            except OSError as exc:
                raise StepFailed(f"cannot run {self.argv[0]!r}: {exc.strerror}") from None
            if done.returncode is None:
                raise StepFailed("the command was stopped: its attempt was cancelled")
            if done.returncode != 0:
                stderr = done.stderr.decode("utf-8", errors="replace").strip()
                tail = f": {stderr.splitlines()[-1]}" if stderr else ""
                raise StepFailed(f"command exited with code {done.returncode}{tail}")
            values: dict[str, Any] = {**_read_outputs(output_path), "exit_code": done.returncode}
        if wants_stdout:
            values["stdout"] = done.stdout.decode("utf-8", errors="replace").removesuffix("\n")
        return StepResult(outputs=values)


def _read_outputs(path: Path) -> dict[str, str]:
    """The outputs the command wrote to ``$FLOWSPEC_OUTPUT`` (``engine.output_file``); the
    names the processor sets itself are refused there, so no line can stand in for them."""
    try:
        values = parse(path.read_text(encoding="utf-8", errors="replace"))
    except OutputFileError as exc:
        raise StepFailed(str(exc)) from None
    for name in _OWN_OUTPUTS:
        if name in values:
            raise StepFailed(f"$FLOWSPEC_OUTPUT sets '{name}', which the shell processor "
                             "sets itself; write it under another name")
    return values


class Python:
    """Calls ``package.module:function(context, **args)``; the function returns its outputs.

    It runs inside flowspec's process: ``context.env`` is the step's declared env, but nothing
    stops the function from reading ``os.environ`` or anything else the process can reach.

    What it prints is not in the step's log: it runs in a thread of flowspec's process, whose
    stdout is one for flowspec and every step running at once, so a printed line cannot be
    told to belong to one step (swapping ``sys.stdout`` for a per-thread proxy would still
    miss what C code and child processes write to the file descriptor). It goes to flowspec's
    own stdout, and, in an Argo pod, which runs one step, to the pod's log. A function may
    write lines to the step's log itself: ``context.log.write("stdout", b"...\\n")``.
    """

    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["function"],
        "properties": {
            "function": {
                "type": "string",
                "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$",
                "description": "The function to call, as package.module:function.",
            },
            "args": {"type": "object", "description": "Keyword arguments for the function."},
        },
    }
    outputs: ClassVar[Mapping[str, str]] = {}
    open_outputs: ClassVar[bool] = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.ref = config["function"]
        self.args = dict(config.get("args") or {})

    def _function(self) -> Any:
        try:
            return import_object(self.ref)
        except (ImportError, AttributeError) as exc:
            raise StepFailed(f"cannot import {self.ref!r}: {exc}") from None

    def process(self, context: StepContext) -> StepResult:
        result = self._function()(context, **self.args)
        if result is None:
            return StepResult()
        if isinstance(result, StepResult):
            return result
        if not isinstance(result, Mapping):
            raise StepFailed(
                f"{self.ref} returned {type(result).__name__}; it must return a dict of outputs"
            )
        return StepResult(outputs=dict(result))
