"""The pod contract: what a compiled manifest hands the in-pod runner, and how.

The compiler writes these names into every step template and ``flowspec step`` reads them
back, so both sides import them from here (and nothing heavier: the runner must start
fast and never import hera).

- The spec travels as a workflow parameter holding gzip+base64 text. Encoded, it holds no
  ``{{``, so none of Argo's template passes can rewrite it (a spec's ``${{ workflow.name }}``
  would otherwise be substituted); each step template turns it into a raw input artifact
  file. The source hash rides along as a literal env var, so a pod refuses a spec that was
  swapped by overriding the parameter.
- Workflow params reach the pod as one env var each (``{{workflow.parameters.NAME}}``).
- Upstream outputs that the step's env interpolates arrive as input parameters whose default
  is NULL_MARKER: Argo drops a pure reference to an absent output (a Skipped or Omitted
  producer) and the default applies, so absent, failed and missing all read as null.
- Declared outputs are files under OUTPUT_DIR that Argo collects with ``valueFrom.path``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib

#: The workflow parameter carrying the encoded spec. User params must start with a letter,
#: so a leading underscore can never clash with one.
SPEC_PARAM = "_flowspec-spec"
#: Input artifact name and the file it becomes in the step's container.
SPEC_ARTIFACT = "flowspec-spec"
SPEC_PATH = "/flowspec/spec.gz.b64"
#: A writable emptyDir (the root filesystem is read-only): outputs and the step's workdir.
WORK_VOLUME = "flowspec-work"
WORK_DIR = "/tmp"
OUTPUT_DIR = "/tmp/flowspec/outputs"

#: Input parameters of every step template.
STEP_INPUT = "step"
ITEM_INPUT = "item"
WORKFLOW_STATUS_INPUT = "workflow-status"

#: Env vars the runner reads.
ENV_SPEC_SHA256 = "FLOWSPEC_SPEC_SHA256"
ENV_RUN_ID = "FLOWSPEC_RUN_ID"
ENV_WORKFLOW_NAME = "FLOWSPEC_WORKFLOW_NAME"
ENV_WORKFLOW_STATUS = "FLOWSPEC_WORKFLOW_STATUS"
ENV_ITEM = "FLOWSPEC_ITEM"
ENV_ATTEMPT = "FLOWSPEC_ATTEMPT"
#: Comma-separated names of every output file the template collects.
ENV_OUTPUTS = "FLOWSPEC_OUTPUTS"
ENV_PARAM_PREFIX = "FLOWSPEC_PARAM_"
ENV_UPSTREAM_PREFIX = "FLOWSPEC_UPSTREAM_"

#: Seconds the template's timeout adds to the step's: the runner enforces the step's own
#: timeout and then still writes its outputs and store record before Argo kills the pod.
TIMEOUT_GRACE = 30.0

#: The container's default command: the runner. ``flowspec`` is the console script.
RUNNER_COMMAND = ("flowspec", "step")

#: Exit codes of ``flowspec step``; the compiled retryStrategy tells them apart.
EXIT_OK = 0
EXIT_FAILED = 1  # the processor failed for good (StepFailed, an exception)
EXIT_USAGE = 2  # the pod was started wrongly (bad spec, unknown step): never worth a retry
EXIT_TRANSIENT = 75  # EX_TEMPFAIL: TransientError; retried under `on: transient`


def encode_spec(text: str) -> str:
    """Deterministic (mtime 0) gzip+base64 of the spec text: the same spec, the same manifest.

    Level 6: a third of level 9's time for a few percent more bytes."""
    return base64.b64encode(gzip.compress(text.encode(), compresslevel=6, mtime=0)).decode()


def decode_spec(blob: str) -> str:
    return gzip.decompress(base64.b64decode(blob.strip(), validate=True)).decode()


def spec_sha256(text: str) -> str:
    """Must agree with ``Spec.source_hash``: the annotation and the env var carry it."""
    return hashlib.sha256(text.encode()).hexdigest()


def upstream_input(step: str, output: str) -> str:
    """The input parameter carrying ``steps.STEP.outputs.OUTPUT``.

    Step names never end in '-' and output names hold no '-', so the last ``--`` splits the
    name back unambiguously.
    """
    return f"{step}--{output}"


def param_env(name: str) -> str:
    return ENV_PARAM_PREFIX + name


def upstream_env(input_name: str) -> str:
    return ENV_UPSTREAM_PREFIX + input_name


def output_path(name: str) -> str:
    return f"{OUTPUT_DIR}/{name}"
