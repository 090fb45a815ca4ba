"""Diagnostic codes of the Argo compiler and of ``flowspec compile --check`` (FS8xx)."""

from __future__ import annotations

from engine.diagnostics import code

TOO_MANY_TASKS = code("FS801", "too many steps for one Argo DAG", """
Argo's CRD allows at most 200 tasks in one DAG template. flowspec does not partition a larger
DAG into nested DAG templates (their phases, `depends` results and exit handling would not
mean the same as one DAG), so it refuses to compile it. Split the workflow into several specs,
or fan out with `for_each` over a list instead of writing one step per item.
""")
PARAM_NEEDS_VALUE = code("FS802", "required param has no value", """
A compiled Workflow may leave a required param empty for `argo submit -p NAME=VALUE` to fill
in, but `flowspec submit` creates the workflow as it is, and a CronWorkflow starts runs with
nobody to give a value: pass it with `-p NAME=VALUE`.
""")
TEMPLATE_TAG_IN_VALUE = code("FS803", "value would be rewritten by Argo", """
Argo substitutes `{{...}}` tags in parameter values before anything reads them, and offers no
escape, so the value would not arrive as written. Remove the `{{`, or pass the value when
submitting instead of compiling it in.
""")
NO_SCHEDULE = code("FS804", "CronWorkflow without a schedule", """
`--kind CronWorkflow` needs at least one cron schedule under `argo.schedules`.
""")
CONTINUE_ON_IN_DEPENDS_DAG = code("FS805", "`continue_on` in a `finally` DAG that uses `depends`", """
Argo rejects `continueOn` in any DAG in which a task uses `depends`; the `finally` steps form
their own DAG on Argo. Drop `continue_on` and name the results in `depends` instead
(`a.Succeeded || a.Failed`).
""")
TOO_MANY_TEMPLATES = code("FS806", "too many distinct step templates", """
Argo's CRD allows at most 200 templates per workflow. Steps share a template when they agree
on image, command, secret env, resources, retry, timeout and pod overrides; this spec has more
distinct combinations than fit. Move shared settings to `defaults` and `argo`.
""")
BAD_OVERRIDE = code("FS807", "Kubernetes setting has the wrong shape", """
A setting under `argo:` that is passed to Kubernetes as written (a security context, a
toleration) does not fit the Kubernetes type, e.g. `runAsUser: "abc"` where a number is
needed. The message names the field.
""")
ARGO_SCHEMA = code("FS810", "manifest fails Argo's JSON Schema", """
The compiled manifest does not validate against Argo's official JSON Schema (with unknown
fields rejected). This is a compiler bug or an `argo:` override with a wrong shape; the
message names the manifest field and the spec line it came from.
""")
ARGO_CRD = code("FS811", "manifest fails Argo's CRD schema", """
The compiled manifest does not validate against the openAPIV3Schema of the full CRD of the
target Argo line (`--argo-version`, default the newest), which the Kubernetes API server enforces (unknown fields rejected, parameter values strings,
names and list sizes limited).
""")
ARGO_RULE = code("FS812", "manifest breaks a CRD validation rule", """
The compiled manifest breaks one of the CEL rules (`x-kubernetes-validations`) of Argo's CRD
(from v4.0), checked here by an equivalent Python predicate.
""")
ARGO_OBJECT = code("FS813", "manifest breaks a Kubernetes object rule", """
The API server checks names, labels and size itself: `metadata.name` or `generateName` must
be a DNS-1123 name, label keys and values must be valid, and the object must stay under
about 1.5 MB.
""")
ARGO_LINT = code("FS814", "manifest breaks Argo's workflow validation", """
The compiled manifest breaks a rule that Argo's controller checks before it runs a workflow
(`argo lint`): template and task references, `depends` and `dependencies` mixed in one DAG,
`continueOn` beside `depends`, parameters a template needs but a task does not pass, or an
output read from a task that is not an ancestor.
""")
NO_RESULTS_PATH = code("FS815", "step results have no way between pods", """
A step whose processor reads its ancestors' results (every processor but `noop` and `shell`),
or a step that reads a file, needs them carried from pod to pod. On Argo they travel as
artifacts in the workflow's artifact repository (the cluster's default, or
`argo.artifact_repository: {configmap: NAME, key: KEY}`); with `argo.artifact_repository:
none`, results can only come from a store every pod reaches (`argo.store: {secret: {name,
key}}`), and files not at all. Configure a repository, or a store for results.
""")
FINALLY_READS_FAN_OUT = code("FS816", "a `finally` step reads a fan-out step's results", """
Argo hands an exit handler the results of the main steps through global artifacts, one per
step; the instances of a `for_each` step would overwrite each other's, so a `finally` step
whose processor reads results cannot see a fan-out step's. Give the workflow a store
(`argo.store: {secret: {name, key}}`), which the `finally` step then reads instead.
""")
SPEC_TOO_LARGE = code("FS817", "spec too large to ship to pods", """
The spec reaches every pod once, compressed, as an annotation of the pods (Kubernetes allows
256 KiB of annotations per object). Split the workflow or move large config values into
files the steps read.
""")
STATUS_TOO_LARGE = code("FS818", "workflow status would pass the object size limit", """
Argo keeps every node (each attempt of each step and each fan-out instance) with its inputs
and outputs in the Workflow object, which etcd caps at about 1 MiB. `compile --check`
estimates that size from the steps, their retries and what they pass; fewer retries, fewer or
smaller declared outputs, or splitting the workflow keeps it under the limit (or enable
Argo's node status offloading and say so with `argo.offload_node_status: true`).
""")
FILE_PARAM_VALUE = code("FS819", "file param value Argo cannot fetch", """
On Argo a `file` param is an input artifact: its value is `s3://BUCKET/KEY`, an `http://` or
`https://` URL, or a key in the workflow's artifact repository. A local path means nothing in
a pod: upload the file and pass where it is.
""")
NO_SHARED_DATABASE = code("FS823", "a step's database would not be shared between pods", """
The step's processor keeps state in the run's database (the chargeback pipeline's reference
data, ledger and compliance trail, for example). Locally that is the run store; on Argo each
pod would otherwise have none, or a file of its own that vanishes with it. Give the workflow
a database every pod reaches: `argo.store: {secret: {name: NAME, key: KEY}}`, a Secret holding
its URL (PostgreSQL in a cluster).
""")
FAN_OUT_FILES = code("FS824", "a fan-out step's file read by a later step", """
Each instance of a `for_each` step writes its own copy of a `file` output. Locally a later
step reads the list of their paths; Argo saves each instance's file as an artifact but has
no way to hand them all to a later step. Write the files from one step after the fan-out
(which reads what the instances output), or read them in the instances themselves.
""")
