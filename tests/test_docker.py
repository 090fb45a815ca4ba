"""The runner image, checked without Docker: what the Dockerfile pins, copies and labels, and
that the pinned runtime (docker/constraints-runner.txt) is exactly what ``flowspec step``
needs: the same distributions as the runner extra's closure, each at a version every
requirement on it accepts (the versions installed where the tests run may be newer, as pip
takes the newest in range). ``FLOWSPEC_REGEN=1`` rewrites the constraints from the versions
installed here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
CONSTRAINTS = REPO / "docker" / "constraints-runner.txt"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
#: What a pod never imports: the compiler and Argo client, and the terminal views.
NOT_IN_PODS = ("hera", "rich")
OCI_LABELS = ("title", "description", "version", "revision", "created", "source", "licenses",
              "base.name")


#: who states a requirement: a distribution, or None for the runner extra itself
Wanted = dict[str, list[tuple[str | None, Requirement]]]


def _runner_closure() -> tuple[dict[str, str], Wanted]:
    """Every distribution the ``runner`` extra needs, installed here, with its version, and
    every requirement stated on it along the way, with the distribution that states it."""
    found: dict[str, str] = {}
    wanted: Wanted = {}
    todo: list[tuple[str | None, Requirement, frozenset[str]]] = [
        (None, Requirement(r), frozenset(Requirement(r).extras))
        for r in PYPROJECT["optional-dependencies"]["runner"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        by, req, extras = todo.pop()
        wanted.setdefault(canonicalize_name(req.name), []).append((by, req))
        key = (canonicalize_name(req.name), extras)
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            pytest.fail(f"{req.name} is not installed; pip install -e '.[runner,dev]'")
        found[key[0]] = dist.version
        for text in dist.requires or ():
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e})
                                         for e in (extras or {""})):
                todo.append((key[0], sub, frozenset(sub.extras)))
    return found, wanted


def _pinned() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_constraints_pin_exactly_the_runner_closure() -> None:
    closure, wanted = _runner_closure()
    if os.environ.get("FLOWSPEC_REGEN") == "1":
        CONSTRAINTS.write_text(
            "# The runner image's runtime: the closure of flowspec[runner], pinned. Installed\n"
            "# with --no-deps by the Dockerfile; regenerate with\n"
            "# FLOWSPEC_REGEN=1 pytest tests/test_docker.py\n"
            + "".join(f"{name}=={closure[name]}\n" for name in sorted(closure)),
            encoding="utf-8")
    pinned = _pinned()
    assert sorted(pinned) == sorted(closure)
    # a requirement counts when the image gets the very release that states it (another
    # release of the dependent, installed here, may state another)
    refused = [f"{name}=={pinned[name]} ({by or 'runner'}: {req})"
               for name, reqs in wanted.items() for by, req in reqs
               if (by is None or pinned.get(by) == closure[by])
               and not req.specifier.contains(pinned[name], prereleases=True)]
    assert refused == []
    assert not [name for name in pinned if name in NOT_IN_PODS]
    for text in PYPROJECT["optional-dependencies"]["runner"]:
        req = Requirement(text)
        assert req.specifier.contains(pinned[canonicalize_name(req.name)]), text


def test_runner_extra_uses_the_ranges_of_the_base_and_postgres_lists() -> None:
    """The extra repeats requirements (TOML has no references); they must not drift."""
    elsewhere = {Requirement(r).name: r for r in PYPROJECT["dependencies"]
                 + PYPROJECT["optional-dependencies"]["postgres"]}
    for text in PYPROJECT["optional-dependencies"]["runner"]:
        assert elsewhere[Requirement(text).name] == text


def test_the_runner_and_every_processor_import_without_hera_or_rich() -> None:
    blocked = ", ".join(repr(n) for n in NOT_IN_PODS)
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ({blocked},):
            raise ImportError(name + " is not in the runner image")
sys.meta_path.insert(0, Block())
import engine.runner, engine.store.sql, engine.validation, engine.executor.loop
import engine.processors as p
for name in p.registered():
    p.resolve(name)
engine.validation.load_spec_file("specs/chargeback.yaml")
"""
    proc = subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    return [(line.split()[0].upper(), line.split(None, 1)[1])
            for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_dockerfile_base_is_pinned_and_runs_as_a_numeric_non_root_user() -> None:
    steps = _instructions()
    [base] = [arg for op, arg in steps if op == "FROM"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base), base
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1].isdigit() and int(users[-1]) > 0
    labels = " ".join(arg for op, arg in steps if op == "LABEL")
    for label in OCI_LABELS:
        assert f"org.opencontainers.image.{label}=" in labels, label
    assert f"base.name=\"docker.io/library/{base.split('@')[0]}\"" in labels
    install = " ".join(arg for op, arg in steps if op == "RUN")
    assert "--no-deps -r docker/constraints-runner.txt" in install
    assert "--no-deps ." in install


def test_dockerignore_keeps_caches_history_and_tests_out_and_copies_stay_in() -> None:
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {"**/__pycache__", "**/*.py[cod]", ".git", "tests", ".flowspec", ".venv"} <= ignored
    for op, arg in _instructions():
        if op == "COPY":
            *sources, _ = arg.split()
            for source in sources:
                assert (REPO / source).exists(), source
                assert source.rstrip("/") not in ignored, source
