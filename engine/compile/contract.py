"""The pod contract: what a compiled manifest hands the in-pod runner, and how.

The compiler writes these names into every step template and ``flowspec step`` reads them
back, so both sides import them from here (and nothing heavier: the runner must start
fast and never import hera).

- The spec reaches pods once: gzip+base64 in the workflow's ``podMetadata`` annotation
  SPEC_ANNOTATION, which Kubernetes writes into every pod's downward-API volume as the file
  SPEC_PATH. Nothing copies it into a node's inputs, so the workflow's status does not grow
  with it. Encoded, it holds no ``{{``, so none of Argo's template passes can rewrite it. The
  source hash rides along as a literal env var, so a pod refuses a spec that was swapped.
- Workflow params reach the pod as one env var each (``{{workflow.parameters.NAME}}``); a
  ``file`` param is also an input artifact the pod finds under INPUTS.
- Upstream outputs that the step's env interpolates arrive as input parameters whose default
  is NULL_MARKER: Argo drops a pure reference to an absent output (a Skipped or Omitted
  producer) and the default applies, so absent, failed and missing all read as null.
- Declared outputs are files under ROOT/outputs that Argo collects with ``valueFrom.path``;
  ``file`` outputs are files under ROOT/files, saved as output artifacts of the same name.
- A step's result (phase, outputs, data, error) is the output artifact RESULT_ARTIFACT, gzipped
  JSON; a step whose processor reads its ancestors' results gets each one as an input
  artifact, and their phases (Skipped and Omitted ones have no result) as one parameter.
"""

from __future__ import annotations

import base64
import gzip
import hashlib

#: The pod annotation holding the encoded spec, and the downward-API volume showing it.
SPEC_ANNOTATION = "flowspec.dev/spec"
SPEC_VOLUME = "flowspec-spec"
SPEC_MOUNT = "/flowspec"
SPEC_PATH = f"{SPEC_MOUNT}/spec"
#: A writable emptyDir (the root filesystem is read-only) holding ROOT.
WORK_VOLUME = "flowspec-work"
WORK_DIR = "/tmp"
#: Everything the runner reads and writes in a pod, laid out by the functions below.
ROOT = f"{WORK_DIR}/flowspec"

#: The output artifact holding a step's result.
RESULT_ARTIFACT = "flowspec-result"

#: Input parameters of every step template.
STEP_INPUT = "step"
ITEM_INPUT = "item"
WORKFLOW_STATUS_INPUT = "workflow-status"
#: ``NAME=PHASE,...`` of the ancestors whose results the step reads (``{{tasks.X.status}}``)
PHASES_INPUT = "ancestors"

#: Env vars the runner reads.
ENV_SPEC_SHA256 = "FLOWSPEC_SPEC_SHA256"
ENV_RUN_ID = "FLOWSPEC_RUN_ID"
ENV_WORKFLOW_NAME = "FLOWSPEC_WORKFLOW_NAME"
ENV_WORKFLOW_STATUS = "FLOWSPEC_WORKFLOW_STATUS"
ENV_ITEM = "FLOWSPEC_ITEM"
ENV_ATTEMPT = "FLOWSPEC_ATTEMPT"
#: Comma-separated names of every output file the template collects.
ENV_OUTPUTS = "FLOWSPEC_OUTPUTS"
ENV_PHASES = "FLOWSPEC_ANCESTORS"
#: ``artifacts`` (the default) or ``store``: where the step finds its ancestors' results
ENV_RESULTS_FROM = "FLOWSPEC_RESULTS_FROM"
#: The store (``argo.store``), a database URL from a secret; the runner records attempts there.
ENV_STORE = "FLOWSPEC_DB"
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
    """The env var carrying the input ``STEP--OUTPUT``: a name a POSIX shell keeps (an
    image whose entry point is a shell script drops names holding '-'), one per input:
    ``FLOWSPEC_UPSTREAM_<len(STEP)>_<STEP, '-' as '_'>_<OUTPUT>``. Step names hold no '_' and
    the length says where the step ends, so no two inputs share a variable."""
    step, _, output = input_name.rpartition("--")
    return f"{ENV_UPSTREAM_PREFIX}{len(step)}_{step.replace('-', '_')}_{output}"


def output_path(name: str) -> str:
    return f"{outputs_dir(ROOT)}/{name}"


# --- the layout under ROOT (a pod's; the runner takes ROOT as --root) ----------------------

def outputs_dir(root: str) -> str:
    return f"{root}/outputs"


def result_path(root: str) -> str:
    return f"{root}/result.json.gz"


def files_dir(root: str) -> str:
    """``$FLOWSPEC_OUTPUT_DIR``: the step's ``file`` outputs, one file per output name."""
    return f"{root}/files"


def work_dir(root: str) -> str:
    return f"{root}/work"


def result_input_path(root: str, step: str) -> str:
    return f"{root}/in/results/{step}.json.gz"


def file_input_path(root: str, step: str, output: str) -> str:
    return f"{root}/in/files/{step}/{output}"


def param_file_path(root: str, name: str) -> str:
    return f"{root}/in/params/{name}"


# --- artifact names ----------------------------------------------------------------------

def result_input(step: str) -> str:
    """The input artifact carrying an ancestor's result."""
    return f"result--{step}"


def result_global(step: str) -> str:
    """The global name a main step's result is exported under, for the ``finally`` steps."""
    return f"{RESULT_ARTIFACT}--{step}"


def file_global(step: str, output: str) -> str:
    """The global name a main step's ``file`` output is exported under."""
    return f"flowspec-file--{step}--{output}"


def file_input(step: str, output: str) -> str:
    """The input artifact carrying ``steps.STEP.outputs.OUTPUT``, a file."""
    return f"file--{step}--{output}"


def param_file_input(name: str) -> str:
    return f"param--{name}"
