"""One pod as the kubelet and Argo's executor run it: init, main as a real process, wait.

The pod gets a folder; every volume, every input artifact and the container's own filesystem
is a folder in it. A container path (in ``args``, env values, artifact and output paths) is
mapped to the folder of the volume mounted deepest above it, else to the pod's ``rootfs``;
input artifacts are mounted at their path (Argo mounts them as volumes too). A volume whose
mount path exists on this machine (``/tmp``) is also bind-mounted there, in a private mount
namespace for the process (``unshare``), so that a program writing to a path it was not
handed still writes into its pod, as in a container; the harness's own folders under such a
path (the interpreter, this checkout, the pods' folders) stay visible over the volume
(``kept_under``).

- env: only what the template declares (``value``, ``secretKeyRef`` from the test's secret
  map) plus PATH and HOME, as in a container; a missing non-optional secret means the
  container is never created (kubelet: CreateContainerConfigError) and the node is Error;
- volumes: ``emptyDir`` and ``downwardAPI`` (``metadata.annotations['k']``, ``metadata.name``,
  ``metadata.labels['k']``), the file holding the value, as the kubelet writes it;
- init: input artifacts loaded (raw, s3, http); a missing required one fails the pod (Error);
- main: ``command + args``; ``command[0]`` found on PATH, where this interpreter's venv comes
  first (the image's ``flowspec``); the template's ``timeout`` kills it;
- wait, whatever the exit code: output parameters read from their paths (one trailing newline
  trimmed, executor.go ``SaveParameters``; ``valueFrom.default`` when missing), output
  artifacts packed and saved under the repository's key layout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from botocore.exceptions import ClientError

from .artifacts import ArtifactNotFound, ObjectStore, archive_kind, fetch_http, pack, unpack
from .result import Attempt, SavedArtifact

#: This checkout: the code a pod's ``flowspec`` imports (an editable install) lives here.
CHECKOUT = Path(__file__).resolve().parents[2]
#: Where the image (docker/Dockerfile) starts its process and keeps HOME.
IMAGE_WORKDIR = "/tmp"
IMAGE_HOME = "/tmp"

_ANNOTATION = re.compile(r"metadata\.(annotations|labels)\['([^']+)'\]")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class PodError(Exception):
    """The pod could not run its main container as asked: the node is Error with this message."""


def seconds(duration: str) -> float:
    """A Go duration (``150s``, ``1m30s``, ``500ms``) or a bare number of seconds."""
    text = str(duration).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise PodError(f"invalid duration {duration!r}")
    return sum(float(n) * _UNIT[u] for n, u in parts)


@dataclass
class PodRequest:
    """Everything the controller decided for one pod."""

    name: str
    template: Mapping[str, Any]  # every tag the controller knows already substituted
    input_artifacts: Sequence[Mapping[str, Any]]  # inputs with their locations resolved
    key_prefix: str  # the repository's keyFormat rendered for this pod
    annotations: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


class Pods:
    """Runs pods for one workflow: its volumes, the secrets of its namespace, its repository."""

    def __init__(self, root: Path, volumes: Sequence[Mapping[str, Any]],
                 secrets: Mapping[tuple[str, str], str], store: ObjectStore) -> None:
        self.root = root
        self.volumes = {v["name"]: v for v in volumes}
        self.secrets = secrets
        self.store = store

    # --- the pod's filesystem -------------------------------------------------------------

    def _mounts(self, pod: Path, request: PodRequest) -> list[tuple[str, Path]]:
        """(container path, host folder or file), deepest first."""
        container = request.template.get("container") or {}
        mounts: list[tuple[str, Path]] = []
        for mount in container.get("volumeMounts") or []:
            volume = self.volumes.get(mount["name"])
            if volume is None:
                raise PodError(f"volume {mount['name']!r} is mounted but not declared in "
                               "spec.volumes")
            host = self._volume(pod, volume, request)
            if mount.get("subPath"):
                host = host / mount["subPath"]
            mounts.append((str(PurePosixPath(mount["mountPath"])), host))
        for artifact in request.template.get("inputs", {}).get("artifacts") or []:
            path = artifact.get("path")
            if path and not any(_under(path, m) for m, _ in mounts):
                mounts.append((str(PurePosixPath(path)), pod / "artifacts" / artifact["name"]))
        return sorted(mounts, key=lambda m: -len(m[0]))

    def _volume(self, pod: Path, volume: Mapping[str, Any], request: PodRequest) -> Path:
        host: Path = pod / "volumes" / str(volume["name"])
        if host.exists():
            return host
        host.mkdir(parents=True)
        if "emptyDir" in volume:
            return host
        if "downwardAPI" in volume:
            for item in volume["downwardAPI"].get("items") or []:
                target = host / item["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(self._field(item.get("fieldRef", {}).get("fieldPath", ""),
                                              request), encoding="utf-8")
            return host
        kinds = sorted(set(volume) - {"name"})
        raise PodError(f"the harness does not provide {kinds} volumes ({volume['name']})")

    @staticmethod
    def _field(path: str, request: PodRequest) -> str:
        if path == "metadata.name":
            return request.name
        match = _ANNOTATION.fullmatch(path)
        if match is None:
            raise PodError(f"the harness does not provide downwardAPI field {path!r}")
        source = request.annotations if match.group(1) == "annotations" else request.labels
        return source.get(match.group(2), "")

    @staticmethod
    def _map(path: str, mounts: Sequence[tuple[str, Path]], pod: Path) -> Path:
        for mount_path, host in mounts:
            if _under(path, mount_path):
                rest = PurePosixPath(path).relative_to(mount_path)
                return host / rest if str(rest) != "." else host
        return pod / "rootfs" / str(PurePosixPath(path)).lstrip("/")

    def _map_value(self, value: str, mounts: Sequence[tuple[str, Path]], pod: Path) -> str:
        """An absolute container path in an argument or env value becomes the pod's host path."""
        if value.startswith("/") and not any(ch.isspace() for ch in value):
            return str(self._map(value, mounts, pod))
        return value

    # --- the pod's life --------------------------------------------------------------------

    def run(self, request: PodRequest) -> Attempt:
        started = time.monotonic()
        attempt = self._run(request)
        attempt.duration = time.monotonic() - started
        return attempt

    def _run(self, request: PodRequest) -> Attempt:
        pod = self.root / request.name
        if pod.exists():
            shutil.rmtree(pod)
        (pod / "rootfs").mkdir(parents=True)
        try:
            mounts = self._mounts(pod, request)
            env = self._env(request, mounts, pod)
            self._init(request, mounts, pod)
            exit_code, message = self._main(request, mounts, pod, env)
        except PodError as exc:
            return Attempt(request.name, "Error", None, str(exc))
        stdout = (pod / "stdout").read_text(encoding="utf-8", errors="replace")
        stderr = (pod / "stderr").read_text(encoding="utf-8", errors="replace")
        outputs, artifacts, problems = self._wait(request, mounts, pod)
        if exit_code != 0:
            phase, message = "Failed", message or f"Error (exit code {exit_code})"
        elif problems:
            phase, message = "Error", "; ".join(problems)
        else:
            phase = "Succeeded"
        return Attempt(request.name, phase, exit_code, message, outputs, artifacts, stdout, stderr)

    def _env(self, request: PodRequest, mounts: Sequence[tuple[str, Path]],
             pod: Path) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
               "HOME": str(self._map(IMAGE_HOME, mounts, pod))}
        for entry in (request.template.get("container") or {}).get("env") or []:
            if "value" in entry:
                env[entry["name"]] = self._map_value(str(entry["value"]), mounts, pod)
                continue
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if ref is None:
                raise PodError(f"env {entry['name']}: the harness resolves value and "
                               "valueFrom.secretKeyRef only")
            value = self.secrets.get((ref["name"], ref["key"]))
            if value is None:
                if ref.get("optional"):
                    continue
                raise PodError(f'CreateContainerConfigError: secret "{ref["name"]}" key '
                               f'"{ref["key"]}" not found')
            env[entry["name"]] = value
        return env

    def _init(self, request: PodRequest, mounts: Sequence[tuple[str, Path]], pod: Path) -> None:
        """Argo's init container: ``loadArtifact`` for every input artifact."""
        for artifact in request.input_artifacts:
            name = artifact["name"]
            try:
                data = self._load(artifact)
            except ArtifactNotFound as exc:
                if artifact.get("optional"):
                    continue
                raise PodError(f"artifact {name} failed to load: {exc}") from None
            except (OSError, ClientError) as exc:  # unreachable, refused: not "not found"
                raise PodError(f"artifact {name} failed to load: {exc}") from None
            if data is None:
                if artifact.get("optional"):
                    continue
                raise PodError(f"required artifact '{name}' not supplied")
            unpack(artifact, data, self._map(artifact["path"], mounts, pod))

    def _load(self, artifact: Mapping[str, Any]) -> bytes | None:
        if "raw" in artifact:
            return str(artifact["raw"].get("data", "")).encode("utf-8")
        if "s3" in artifact and artifact["s3"].get("key"):
            return self.store.get(artifact["s3"]["key"], artifact["s3"].get("bucket"))
        if "http" in artifact:
            return fetch_http(artifact["http"]["url"])
        return None

    def _main(self, request: PodRequest, mounts: Sequence[tuple[str, Path]], pod: Path,
              env: Mapping[str, str]) -> tuple[int, str]:
        container = request.template.get("container")
        if container is None:
            raise PodError("the harness runs container templates only")
        argv = [*container.get("command", []), *container.get("args", [])]
        if not argv:
            raise PodError("the container has no command (the image's entrypoint is unknown)")
        argv = [argv[0], *(self._map_value(str(a), mounts, pod) for a in argv[1:])]
        found = shutil.which(argv[0], path=env["PATH"])
        if found is None:
            return 127, f"executable {argv[0]!r} not found in $PATH"
        argv[0] = found
        cwd = self._map(container.get("workingDir") or IMAGE_WORKDIR, mounts, pod)
        cwd.mkdir(parents=True, exist_ok=True)
        timeout = request.template.get("timeout")
        with (pod / "stdout").open("wb") as out, (pod / "stderr").open("wb") as err:
            proc = subprocess.Popen(_isolated(argv, env, mounts, self.root), env=dict(env),
                                    cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                return proc.wait(timeout=seconds(timeout) if timeout else None), ""
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the pod's processes, all of them
                proc.wait()
                return 137, f"Pod was active on the node longer than the timeout {timeout}"

    def _wait(self, request: PodRequest, mounts: Sequence[tuple[str, Path]],
              pod: Path) -> tuple[dict[str, str], dict[str, SavedArtifact], list[str]]:
        """Argo's wait container: output parameters, then output artifacts."""
        outputs: dict[str, str] = {}
        problems: list[str] = []
        declared = request.template.get("outputs") or {}
        for parameter in declared.get("parameters") or []:
            source = parameter.get("valueFrom") or {}
            if "path" not in source:
                problems.append(f"output parameter {parameter['name']}: the harness reads "
                                "valueFrom.path only")
                continue
            local = self._map(source["path"], mounts, pod)
            if local.is_file():
                outputs[parameter["name"]] = local.read_text(encoding="utf-8").removesuffix("\n")
            elif "default" in source:
                outputs[parameter["name"]] = str(source["default"])
            else:
                problems.append(f"open {source['path']}: no such file or directory")
        artifacts: dict[str, SavedArtifact] = {}
        for artifact in declared.get("artifacts") or []:
            try:
                file_name, data = pack(artifact, self._map(artifact["path"], mounts, pod))
            except ArtifactNotFound as exc:
                if not artifact.get("optional"):
                    problems.append(str(exc))
                continue
            location = artifact.get("s3") or {}
            key = location.get("key") or f"{request.key_prefix}/{file_name}"
            self.store.put(key, data, location.get("bucket"))
            artifacts[artifact["name"]] = SavedArtifact(
                artifact["name"], key, data, archive_kind(artifact), artifact.get("globalName"))
        return outputs, artifacts, problems


def _under(path: str, mount_path: str) -> bool:
    p, m = PurePosixPath(path), PurePosixPath(mount_path)
    return p == m or m in p.parents


def host_mount_paths(mounts: Sequence[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """Mounts over a folder this machine has (``/tmp``, ``/work``): they get a bind mount."""
    return [(m, h) for m, h in mounts if Path(m).is_dir() and h.is_dir()]


def kept_under(mount_path: str, root: Path) -> list[str]:
    """The harness's own folders under ``mount_path`` (this interpreter, the code it imports,
    this checkout, the pods' folders), which must stay visible over the pod's volume."""
    own = [Path(sys.prefix), Path(sys.executable).parent, CHECKOUT, root,
           *(Path(p) for p in sys.path if p)]
    found: list[str] = []
    for path in sorted({str(p.resolve()) for p in own if p.is_dir()}, key=len):
        if _under(path, mount_path) and not any(_under(path, k) for k in found):
            found.append(path)
    return found


#: In the pod's mount namespace: for each volume over a host folder, first the harness's own
#: folders under it are bound into the volume at their place, then the volume (with them) over
#: the folder; then the command is exec'd with the pod's env. In Python, since a POSIX shell
#: drops env vars whose names are not shell names (``FLOWSPEC_UPSTREAM_a--b``), which the
#: kubelet hands over as they are; with the env passed explicitly, since Python's start may
#: add LC_CTYPE to its own (PEP 538).
_BIND_AND_EXEC = (
    "import json, os, subprocess, sys\n"
    "mount = sys.argv[2]\n"
    "for host, path, kept in json.loads(sys.argv[1]):\n"
    "    for own in kept:\n"
    "        inner = os.path.join(host, os.path.relpath(own, path))\n"
    "        os.makedirs(inner, exist_ok=True)\n"
    "        subprocess.run([mount, '--bind', own, inner], check=True)\n"
    "    subprocess.run([mount, '--rbind', host, path], check=True)\n"
    "os.execve(sys.argv[4], sys.argv[4:], json.loads(sys.argv[3]))\n")


def _isolated(argv: list[str], env: Mapping[str, str], mounts: Sequence[tuple[str, Path]],
              root: Path) -> list[str]:
    """``argv`` in a private mount namespace with the pod's volumes over host folders."""
    binds = host_mount_paths(mounts)
    if not binds:
        return argv
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if unshare is None or mount is None:
        raise PodError("a volume is mounted over a host folder and this machine has no "
                       "unshare/mount to keep the pod's writes in the pod")
    plan = json.dumps([[str(h), m, kept_under(m, root)] for m, h in reversed(binds)])
    as_root = [] if os.geteuid() == 0 else ["--map-root-user"]  # a user namespace of one's own
    return [unshare, *as_root, "--mount", "--propagation", "private", sys.executable, "-I", "-c",
            _BIND_AND_EXEC, plan, mount, json.dumps(dict(env)), *argv]
