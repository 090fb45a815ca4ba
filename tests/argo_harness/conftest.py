"""Fixtures of the Argo harness: an S3 server and a bucket, an HTTP file server, the oracle,
and ``run_workflow``, which executes a manifest dict with a secret map and parameters.

Every decision Argo takes with its expression libraries goes to the oracle, so these tests
need it: without FLOWSPEC_ORACLE they are skipped on a developer's machine and fail in CI
(``CI`` set), where ``.ci/run`` always builds it.
"""

from __future__ import annotations

import http.server
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer
from parity.conftest import ORACLE_ENV, Oracle  # tests/ is on sys.path (rootdir packages)

from .artifacts import ObjectStore, Repository
from .compare import RECORDED
from .controller import Workflow
from .decisions import Decider
from .result import WorkflowResult

RunWorkflow = Callable[..., WorkflowResult]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents and "oracle" in getattr(
                item, "fixturenames", ()):
            item.add_marker(pytest.mark.oracle)


@pytest.fixture(scope="session")
def oracle() -> Iterator[Oracle]:
    binary = os.environ.get(ORACLE_ENV)
    if not binary:
        if os.environ.get("CI"):
            pytest.fail(f"{ORACLE_ENV} is not set in CI: .ci/run builds the oracle first")
        pytest.skip(f"{ORACLE_ENV} is not set: build the oracle with .ci/build-oracle.sh")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{ORACLE_ENV}={binary} is not an executable file")
    process = Oracle(binary)
    yield process
    process.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port, for the whole session."""
    requests_log = logging.getLogger("werkzeug")  # one line per request: noise in test output
    level = requests_log.level
    requests_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    requests_log.setLevel(level)


@pytest.fixture
def repository(s3_endpoint: str) -> Repository:
    """A fresh bucket: the workflow's artifact repository (keyFormat Argo's default)."""
    repo = Repository(s3_endpoint, f"harness-{secrets.token_hex(6)}")
    repo.client().create_bucket(Bucket=repo.bucket)
    return repo


@pytest.fixture
def s3(repository: Repository) -> ObjectStore:
    return ObjectStore(repository)


@pytest.fixture
def http_files(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, folder): files put in the folder are served on loopback."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def pod_root(tmp_path: Path) -> Path:
    """Where pods keep their folders (a volume, an artifact, a ``rootfs`` each)."""
    root = tmp_path / "pods"
    root.mkdir()
    return root


@pytest.fixture
def run_workflow(oracle: Oracle, repository: Repository, pod_root: Path) -> RunWorkflow:
    """``run_workflow(manifest, secrets={(name, key): value}, params={name: text})``."""
    decider = Decider(oracle)

    def run(manifest: Mapping[str, Any], secrets: Mapping[tuple[str, str], str] | None = None,
            params: Mapping[str, str] | None = None) -> WorkflowResult:
        return Workflow(manifest, decider=decider, repository=repository, root=pod_root,
                        secrets=secrets, params=params).run()

    return run



def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figures of the local/Argo comparisons (issue 11's closing note needs them)."""
    if not RECORDED:
        return
    steps = sum(c.figures.steps for c in RECORDED)
    specs = len({c.case.split("+")[0] for c in RECORDED})
    terminalreporter.write_line(
        f"argo harness: {len(RECORDED)} runs of {specs} specs compared, {steps} steps "
        f"({sum(c.figures.outputs for c in RECORDED)} outputs, "
        f"{sum(c.figures.data for c in RECORDED)} results), "
        f"{sum(c.figures.files for c in RECORDED)} files, "
        f"{sum(c.figures.bytes for c in RECORDED)} bytes; "
        f"{sum(1 for c in RECORDED if c.divergences)} runs diverged")
