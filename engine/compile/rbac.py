"""``flowspec compile --rbac``: what a namespace needs before the compiled pods can run.

Argo's executor (the ``wait`` sidecar of every pod) reports outputs and results by creating
and patching ``workflowtaskresults``; without that the step's outputs never reach the
controller. Argo documents that Role as the minimum for the executor and advises against
granting it to the namespace's shared ``default`` account, so the compiled workflows name
their own account (``argo.service_account``, else DEFAULT_SERVICE_ACCOUNT) and this module
writes that account, the Role and the binding. Secrets that steps read reach them through
``secretKeyRef`` env, which the kubelet resolves: the account needs no access to them.
"""

from __future__ import annotations

from typing import Any

from engine.compile.argo import DEFAULT_SERVICE_ACCOUNT
from engine.model import Spec

RBAC_API = "rbac.authorization.k8s.io/v1"
#: One account may serve many specs, so the objects carry no workflow's name, only who made them.
MANAGED_BY = {"app.kubernetes.io/managed-by": "flowspec"}
EXECUTOR_RULES = [{"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"],
                   "verbs": ["create", "patch"]}]


def rbac_objects(spec: Spec) -> list[dict[str, Any]]:
    """The ServiceAccount, Role and RoleBinding the pods of ``spec`` run with."""
    account = str(spec.argo.get("service_account", DEFAULT_SERVICE_ACCOUNT))
    role = f"{account}-executor"
    namespace = {"namespace": spec.argo["namespace"]} if spec.argo.get("namespace") else {}

    def metadata(name: str) -> dict[str, Any]:
        return {"name": name, **namespace, "labels": dict(MANAGED_BY)}

    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(account)},
        {"apiVersion": RBAC_API, "kind": "Role", "metadata": metadata(role),
         "rules": EXECUTOR_RULES},
        {"apiVersion": RBAC_API, "kind": "RoleBinding", "metadata": metadata(role),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
         "subjects": [{"kind": "ServiceAccount", "name": account, **namespace}]},
    ]
