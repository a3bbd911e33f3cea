"""The object store: the only writer of Kubernetes objects.

Every write goes the same way: decode (unknown fields rejected, or dropped as the request's
fieldValidation directive says), default (once: validation takes the defaulted object and the
stored one as they are), admit, validate — all before touching the database —
then, in one transaction, lock the stored row, check preconditions, take the next resourceVersion
from the global counter (whose row lock is held until commit, so the change log is in commit
order), write the object and append its Change. A failed write stores nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import itertools
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from clusters import errors, sandbox_network, workqueue
from clusters.models import Change, ResourceVersionCounter, Sandbox, StoredObject
from clusters.objects import limit_range, pod_security, resource_quota, selectors
from clusters.objects.conversion import storage_resource, to_storage, to_version
from clusters.objects.defaults import apply_create_defaults, apply_defaults
from clusters.objects.patch import PatchError, apply_patch, merge_patch
from clusters.objects.resources import Resource, resource_for_kind
from clusters.objects.times import format_time
from clusters.objects.validation import STRICT, WARN, decode, decode_error_message, validate, without_fields

# The service network of every sandbox, as on a kubeadm cluster.
NODE_PORT_RANGE = range(30000, 32768)
GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # upstream's: no vowels, no look-alikes
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
NAMESPACE_TERMINATING = "NamespaceTerminating"  # the cause a refusal in a terminating namespace carries


def _qualified_kind(resource: Resource) -> str:
    return f"{resource.kind}.{resource.group}" if resource.group else resource.kind


@dataclass(frozen=True)
class Listing:
    items: list[dict]
    resource_version: int


def _served(function):
    """Answers in the version the caller asked for: a kind stored at another version (an
    autoscaling/v1 HorizontalPodAutoscaler, stored as v2) is converted on the way out."""

    @functools.wraps(function)
    def serve(*, resource: Resource, **arguments):
        answer = function(resource=resource, **arguments)
        if storage_resource(resource) is resource:
            return answer
        if isinstance(answer, Listing):
            return Listing([to_version(item, resource) for item in answer.items], answer.resource_version)
        if isinstance(answer, list):
            return [to_version(item, resource) for item in answer]
        return to_version(answer, resource)

    return serve


def _as_stored(body: dict, resource: Resource, field_validation: str, warnings: list[str] | None) -> dict:
    """A write's body in its kind's storage version, decoded first as the version it was sent in."""
    if storage_resource(resource) is resource:
        return body
    return to_storage(_decode(body, resource, field_validation, warnings))


# --- reading ---------------------------------------------------------------------------------


def _rows(sandbox: Sandbox, resource: Resource, namespace: str | None):
    rows = StoredObject.objects.filter(sandbox=sandbox, api_group=resource.group, kind=resource.kind)
    if resource.namespaced and namespace:
        rows = rows.filter(namespace=namespace)
    return rows


def current_resource_version() -> int:
    value = ResourceVersionCounter.objects.filter(pk=1).values_list("value", flat=True).first()
    return value if value is not None else 0


@_served
def object_get(*, sandbox: Sandbox, resource: Resource, namespace: str, name: str) -> dict:
    row = _rows(sandbox, resource, namespace).filter(name=name).only("body").first()
    if row is None:
        raise errors.not_found(resource, name)
    return row.body


@_served
def object_list(
    *,
    sandbox: Sandbox,
    resource: Resource,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> Listing:
    with transaction.atomic():
        version = current_resource_version()
        items = _selected(sandbox, resource, namespace, label_selector, field_selector)
    return Listing(items, version)


@_served
def objects_read(
    *,
    sandbox: Sandbox,
    resource: Resource,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> list[dict]:
    """The items `object_list` lists, without the version a watch would start from: one statement
    instead of a transaction of three, for the orchestrator's own readers (a kubelet's pods, the
    Services of its containers' variables), which watch nothing."""
    return _selected(sandbox, resource, namespace, label_selector, field_selector)


def _selected(
    sandbox: Sandbox, resource: Resource, namespace: str | None, label_selector: str | None, field_selector: str | None
) -> list[dict]:
    try:
        labels = selectors.parse_label_selector(label_selector)
        fields = selectors.parse_field_selector(field_selector)
    except selectors.SelectorError as error:
        raise errors.BadRequest(str(error)) from None
    rows = _narrowed(_rows(sandbox, resource, namespace), fields)
    bodies = rows.order_by("namespace", "name").values_list("body", flat=True)
    return [
        body
        for body in bodies
        if selectors.labels_match(labels, body["metadata"].get("labels")) and selectors.fields_match(fields, body)
    ]


def _narrowed(rows, requirements: tuple[selectors.FieldRequirement, ...]):
    """The rows that field equalities on a name or on a pod's node leave, found by the database
    rather than by decoding every body (a kubelet lists its own node's pods, a `kubectl wait` one
    object). The selector is still applied to what is read: this only reads less."""
    for requirement in requirements:
        if not (requirement.equal and requirement.value):
            continue
        if requirement.path == "metadata.name":
            rows = rows.filter(name=requirement.value)
        elif requirement.path == "metadata.namespace":
            rows = rows.filter(namespace=requirement.value)
        elif requirement.path == "spec.nodeName":
            rows = rows.filter(body__spec__nodeName=requirement.value)
    return rows


# --- preparing a write (no database writes) ----------------------------------------------------


def _check_type(body: dict, resource: Resource) -> None:
    if not isinstance(body, dict):
        raise errors.BadRequest("the body of the request must be a JSON or YAML object")
    # Like the API server's decoder, a body that leaves out its type takes the endpoint's.
    api_version = body.setdefault("apiVersion", resource.api_version)
    kind = body.setdefault("kind", resource.kind)
    if resource_for_kind(api_version, kind) is not resource:
        raise errors.BadRequest(
            f"the API version in the data ({api_version}) does not match the expected API version "
            f"({resource.api_version})"
            if kind == resource.kind
            else f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})"
        )


def _decode(body: dict, resource: Resource, field_validation: str, warnings: list[str] | None) -> dict:
    """The body as the API server's decoder leaves it. A wrong type is always a 400; unknown
    fields are one under Strict, else dropped, and under Warn also added to `warnings`."""
    decoded = decode(body, resource)
    if decoded.type_error:
        raise errors.BadRequest(decode_error_message([decoded.type_error], resource))
    if not decoded.unknown_fields:
        return body
    if field_validation == STRICT:
        raise errors.BadRequest(decode_error_message(decoded.strict_errors, resource))
    if field_validation == WARN and warnings is not None:
        warnings.extend(decoded.strict_errors)
    return without_fields(body, decoded.unknown_fields)


def _set_namespace(body: dict, resource: Resource, namespace: str | None) -> str:
    metadata = body.setdefault("metadata", {})
    if not resource.namespaced:
        metadata.pop("namespace", None)
        return ""
    given = metadata.get("namespace")
    if given and namespace and given != namespace:
        raise errors.BadRequest("the namespace of the provided object does not match the namespace sent on the request")
    metadata["namespace"] = namespace or given or "default"
    return metadata["namespace"]


def _generate_name(metadata: dict) -> None:
    if not metadata.get("name") and metadata.get("generateName"):
        suffix = "".join(secrets.choice(GENERATE_NAME_ALPHABET) for _ in range(5))
        metadata["name"] = metadata["generateName"] + suffix


def _validate(body: dict, resource: Resource, old: dict | None = None) -> None:
    causes = validate(body, resource, old=old)
    if causes:
        raise errors.invalid(resource, body.get("metadata", {}).get("name", ""), causes)


def _spec_of(body: dict) -> dict:
    """Everything generation follows: the object without metadata and status."""
    return {k: v for k, v in body.items() if k not in ("metadata", "status", "apiVersion", "kind")}


# --- admission (reads state, inside the write transaction) --------------------------------------


def _admit_namespace(sandbox: Sandbox, resource: Resource, namespace: str, name: str) -> dict | None:
    """NamespaceLifecycle: the namespace must exist and not be terminating. Returns it (None
    for a cluster-scoped object), for the plugins that read its labels."""
    if not resource.namespaced:
        return None
    row = StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="Namespace", name=namespace).first()
    if row is None:
        raise errors.NotFound(f'namespaces "{namespace}" not found', details={"name": namespace, "kind": "namespaces"})
    if row.body["metadata"].get("deletionTimestamp"):
        raise errors.forbidden(
            resource,
            name,
            f"unable to create new content in namespace {namespace} because it is being terminated",
            [errors.Cause(NAMESPACE_TERMINATING, f"namespace {namespace} is being terminated", "metadata.namespace")],
        )
    return row.body


def _allocate_cluster_ip(sandbox: Sandbox, body: dict) -> None:
    spec = body.setdefault("spec", {})
    if spec.get("type") == "ExternalName":
        return
    services = list(
        StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="Service").values_list("body", flat=True)
    )
    if spec.get("clusterIP") in (None, ""):
        used = {service["spec"].get("clusterIP") for service in services}
        address = sandbox_network.cluster_ip_choose(sandbox.network, used)
        if address is None:
            raise errors.ApiError("Internal error occurred: failed to allocate a serviceIP: range is full")
        spec["clusterIP"] = address
    if spec["clusterIP"] != "None":
        spec["clusterIPs"] = [spec["clusterIP"]]
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        _allocate_node_ports(sandbox, body, services)


def _allocate_node_ports(sandbox: Sandbox, body: dict, services: list[dict]) -> None:
    """Node ports from 30000-32767. On Docker they are published on this host's 127.0.0.1, which
    every Docker sandbox shares, so a port is unique across all of them, as on one real node."""
    if sandbox.network:
        services = list(
            StoredObject.objects.filter(sandbox__network__isnull=False, api_group="", kind="Service").values_list(
                "body", flat=True
            )
        )
    used_ports = {port.get("nodePort") for svc in services for port in svc.get("spec", {}).get("ports", [])} - {None}
    ports = body["spec"].get("ports", [])
    taken = [
        errors.Cause(
            "FieldValueInvalid",
            f"Invalid value: {port['nodePort']}: provided port is already allocated",
            f"spec.ports[{index}].nodePort",
        )
        for index, port in enumerate(ports)
        if port.get("nodePort") in used_ports
    ]
    if taken:
        raise errors.invalid(resource_for_kind("v1", "Service"), body["metadata"].get("name", ""), taken)
    free = (p for p in NODE_PORT_RANGE if p not in used_ports)
    for port in ports:
        if not port.get("nodePort"):
            port["nodePort"] = next(free)
            used_ports.add(port["nodePort"])


def _default_storage_class(sandbox: Sandbox, body: dict) -> None:
    spec = body.setdefault("spec", {})
    if "storageClassName" in spec:
        return
    for sc in StoredObject.objects.filter(sandbox=sandbox, api_group="storage.k8s.io", kind="StorageClass"):
        annotations = sc.body["metadata"].get("annotations", {})
        if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
            spec["storageClassName"] = sc.name
            return


def _limit_ranges(sandbox: Sandbox, resource: Resource, namespace: str) -> list[dict]:
    """The namespace's LimitRanges in name order, for the kinds LimitRanger looks at (else none)."""
    if resource.group or resource.kind not in ("Pod", "PersistentVolumeClaim"):
        return []
    rows = StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="LimitRange", namespace=namespace)
    return list(rows.order_by("name").values_list("body", flat=True))


def _quota_status(sandbox: Sandbox, quota: dict, *, new: bool) -> dict:
    """What the quota controller's first sync would write, done in the write itself, so that a
    quota binds from the moment it exists (upstream's controller follows within milliseconds;
    admission ignores a quota until its status says what is hard). A `new` quota counts itself."""
    rows = StoredObject.objects.filter(sandbox=sandbox, namespace=quota["metadata"]["namespace"])
    if not resource_quota.counts_kind(quota, "", "events"):
        rows = rows.exclude(api_group="", kind="Event")  # many, and counted only by count/events
    stored = rows.values_list("body", flat=True).iterator()
    return resource_quota.quota_status(quota, itertools.chain(stored, [quota] if new else []), now=timezone.now())


def _admit_create(sandbox: Sandbox, resource: Resource, body: dict, limit_ranges: list[dict]) -> None:
    """What the mutating admission plugins and create strategies add to a new object; for a pod,
    LimitRanger's defaults from `limit_ranges` (its namespace's)."""
    if resource.kind == "Service":
        _allocate_cluster_ip(sandbox, body)
    elif resource.kind == "PersistentVolumeClaim":
        _default_storage_class(sandbox, body)
    elif resource.kind == "Namespace":
        body.setdefault("spec", {})["finalizers"] = ["kubernetes"]
        _default_pod_security(sandbox, body)
    elif resource.kind == "ResourceQuota":
        body["status"] = _quota_status(sandbox, body, new=True)
    elif resource.kind == "Pod":
        if limit_ranges:
            defaulted = limit_range.pod_with_defaults(body, limit_ranges)
            body["metadata"], body["spec"] = defaulted["metadata"], defaulted["spec"]
        spec = body["spec"]
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        body["status"] = {"phase": "Pending", "qosClass": _qos_class(spec)}


def _default_pod_security(sandbox: Sandbox, body: dict) -> None:
    """A namespace without an enforce level gets the one it must have (the sandbox's, baseline
    unless an instructor chose another), as a cluster whose admin labels every namespace would."""
    labels = body["metadata"].setdefault("labels", {})
    labels.setdefault(pod_security.ENFORCE_LABEL, _enforced_level(sandbox, body["metadata"]["name"]))


# The admin's policy that keeps the learners' namespaces at the class's level, named as a cluster
# admin would name a ValidatingAdmissionPolicy and its binding doing the same.
LEVEL_POLICY = "kube-tutor-pod-security-level"


def _enforced_level(sandbox: Sandbox, namespace: str) -> str:
    """The enforce level a namespace must carry: kube-system is the system's own (privileged, as
    its pods would need); every other one is at the sandbox's level, which its instructor sets."""
    return pod_security.PRIVILEGED if namespace == "kube-system" else sandbox.pod_security_level


def _admit_namespace_level(sandbox: Sandbox, resource: Resource, body: dict) -> None:
    """A learner is the admin of their sandbox but not of their class's Pod Security level: a
    namespace may enforce a stricter level than the one it must carry, never a looser one (the
    level changes through the classroom's form). Refused in the words of a
    ValidatingAdmissionPolicy's denial, the tool a cluster's admin would use for this."""
    if resource.kind != "Namespace" or resource.group or body["metadata"].get("deletionTimestamp"):
        return  # a namespace going away is never held up by its labels
    name = body["metadata"]["name"]
    wanted = _enforced_level(sandbox, name)
    found = (body["metadata"].get("labels") or {}).get(pod_security.ENFORCE_LABEL)
    if found in pod_security.LEVELS[pod_security.LEVELS.index(wanted) :]:
        return
    allowed = " or ".join(f'"{level}"' for level in pod_security.LEVELS[pod_security.LEVELS.index(wanted) :])
    raise errors.forbidden(
        resource,
        name,
        f"ValidatingAdmissionPolicy '{LEVEL_POLICY}' with binding '{LEVEL_POLICY}' denied request: "
        f"{pod_security.ENFORCE_LABEL} must be {allowed}: the class's instructor set this sandbox's "
        f'Pod Security level to "{wanted}", and a namespace may only be stricter, not "{found}"',
    )


def _admit_pod_security(
    resource: Resource, body: dict, namespace: dict | None, warnings: list[str] | None, old: dict | None = None
) -> None:
    """PodSecurity: a pod its namespace's enforce level forbids is refused; a pod or a pod
    template its warn level forbids gets a warning. A namespace's labels must be valid, and
    tightening its enforce level warns about the pods already there."""
    if resource.kind == "Namespace" and not resource.group:
        label_errors = pod_security.namespace_label_errors(
            body["metadata"].get("labels"), None if old is None else old["metadata"].get("labels")
        )
        if label_errors:
            causes = [
                errors.Cause("FieldValueInvalid", f'Invalid value: "{e.value}": {e.message}', e.field)
                for e in label_errors
            ]
            raise errors.invalid(resource, body["metadata"]["name"], causes)
        return
    if namespace is None:
        return
    labels = namespace["metadata"].get("labels")
    if resource.kind == "Pod" and not resource.group:
        if old is not None and not pod_security.significant_pod_update(body, old):
            return
        decision = pod_security.pod_admit(labels, body)
    else:
        decision = pod_security.template_admit(labels, resource.group, resource.kind, body)
    if decision.refusal:
        raise errors.forbidden(resource, body["metadata"]["name"], decision.refusal)
    if warnings is not None:
        warnings.extend(decision.warnings)


def _existing_pod_warnings(sandbox: Sandbox, new: dict, old: dict) -> list[str]:
    """What a namespace update that tightens its enforce level says about the pods it holds."""
    name = new["metadata"]["name"]
    new_labels, old_labels = new["metadata"].get("labels"), old["metadata"].get("labels")
    if pod_security.policy_for(new_labels)[0].enforce == pod_security.policy_for(old_labels)[0].enforce:
        return []
    rows = StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="Pod", namespace=name)
    pods = list(rows.order_by("name").values_list("body", flat=True))
    return pod_security.namespace_update_warnings(name, old_labels, new_labels, pods)


def _admit_validate(
    sandbox: Sandbox,
    resource: Resource,
    bodies: list[dict],
    limit_ranges: list[dict],
    *,
    dry_run: bool,
    namespace: dict | None = None,
    warnings: list[str] | None = None,
) -> None:
    """The validating admission plugins, once the new objects passed validation, in upstream's
    order: LimitRanger's min, max and ratio, PodSecurity (against `namespace`, the objects'
    namespace), then ResourceQuota, which charges them to the quotas of their namespace."""
    for body in bodies:
        refusal = limit_range.refusal(resource.kind, body, limit_ranges) if limit_ranges else None
        if refusal:
            raise errors.forbidden(resource, body["metadata"]["name"], refusal)
        _admit_pod_security(resource, body, namespace, warnings)
        _admit_namespace_level(sandbox, resource, body)
    _charge_quotas(sandbox, resource, bodies, dry_run=dry_run)
    _admit_sandbox_pods(sandbox, resource, bodies)


def _admit_sandbox_pods(sandbox: Sandbox, resource: Resource, bodies: list[dict]) -> None:
    """A sandbox holds at most SANDBOX_MAX_PODS pods, in all its namespaces. A real cluster is
    bounded by its size and its quotas; here one learner's `replicas: 10000` must not fill the
    database and the workers that everybody shares. Worded as a quota refusal, so the controllers
    record it as they record one (FailedCreate)."""
    limit = settings.SANDBOX_MAX_PODS
    if not limit or resource.group or resource.kind != "Pod":
        return
    used = StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="Pod").count()
    if used + len(bodies) > limit:
        raise errors.forbidden(
            resource,
            bodies[0]["metadata"]["name"],
            "exceeded the sandbox's pod limit: "
            f"requested: pods={len(bodies)}, used: pods={used}, limited: pods={limit}",
        )


def _admit_update(
    sandbox: Sandbox, resource: Resource, new: dict, old: dict, *, dry_run: bool, warnings: list[str] | None = None
) -> None:
    """The validating admission plugins that look at updates: PodSecurity at a pod whose
    containers or images change, an object with a pod template, a namespace whose labels change;
    LimitRanger at a claim whose requests change (not one being deleted; a binding is never
    refused), ResourceQuota at a Service or claim, charged by what the update adds (a ClusterIP
    Service turned NodePort, a claim grown)."""
    if resource.kind == "Namespace" and not resource.group:
        _admit_pod_security(resource, new, None, warnings, old=old)
        _admit_namespace_level(sandbox, resource, new)
        if warnings is not None:
            warnings.extend(_existing_pod_warnings(sandbox, new, old))
        return
    if resource.kind == "Pod" and not resource.group:
        judged = pod_security.significant_pod_update(new, old)
    else:  # a template only ever gets warnings: none to give a caller that takes none
        judged = warnings is not None and pod_security.pod_template(resource.group, resource.kind, new) is not None
    if judged:
        namespace = StoredObject.objects.filter(
            sandbox=sandbox, api_group="", kind="Namespace", name=new["metadata"]["namespace"]
        ).first()
        _admit_pod_security(resource, new, namespace.body if namespace else None, warnings)
        return
    if resource.group or resource.kind not in ("Service", "PersistentVolumeClaim"):
        return
    name = new["metadata"]["name"]
    resized = (new.get("spec") or {}).get("resources") != (old.get("spec") or {}).get("resources")
    if resource.kind == "PersistentVolumeClaim" and resized and not old["metadata"].get("deletionTimestamp"):
        limit_ranges = _limit_ranges(sandbox, resource, new["metadata"]["namespace"])
        refusal = limit_range.refusal(resource.kind, new, limit_ranges) if limit_ranges else None
        if refusal:
            raise errors.forbidden(resource, name, refusal)
    _charge_quotas(sandbox, resource, [new], dry_run=dry_run, old=old)


QUOTAS = resource_for_kind("v1", "ResourceQuota")


def _charge_quotas(
    sandbox: Sandbox, resource: Resource, bodies: list[dict], *, dry_run: bool, old: dict | None = None
) -> None:
    """ResourceQuota admission: refuse what would take a quota past its hard limits, else add
    the objects' usage to the `status.used` of the quotas they count against, in this write's
    transaction. The quota rows are locked first (in name order), so concurrent creates in one
    namespace are charged one after the other and each sees the others' usage."""
    if not resource.namespaced or not bodies:
        return
    namespace = bodies[0]["metadata"]["namespace"]
    rows = StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="ResourceQuota", namespace=namespace)
    if not any(
        resource_quota.covers(quota, resource.group, resource.plural) for quota in rows.values_list("body", flat=True)
    ):
        return  # no quota limits this kind: nothing to lock
    locked = list(rows.select_for_update().order_by("name"))
    quotas = [row.body for row in locked]
    now = timezone.now()
    for body in bodies:
        try:
            quotas = resource_quota.quota_charge(
                quotas, group=resource.group, plural=resource.plural, obj=body, now=now, old=old
            )
        except resource_quota.QuotaRefusal as refusal:
            raise errors.forbidden(resource, body["metadata"]["name"], str(refusal)) from None
    if dry_run:
        return
    charged = ", ".join(body["metadata"]["name"] for body in bodies[:3]) + (" and more" if len(bodies) > 3 else "")
    with writing_as(current_writer().actor, f"ResourceQuota admission: charging {resource.plural} {charged}"):
        for row, quota in zip(locked, quotas, strict=True):
            if quota is not row.body:
                _record(sandbox, QUOTAS, quota, Change.MODIFIED, row)


def _qos_class(pod_spec: dict) -> str:
    containers = pod_spec.get("containers", []) + pod_spec.get("initContainers", [])
    requests = [c.get("resources", {}).get("requests", {}) for c in containers]
    limits = [c.get("resources", {}).get("limits", {}) for c in containers]
    if not any(requests) and not any(limits):
        return "BestEffort"
    guaranteed = all(
        lim.get("cpu")
        and lim.get("memory")
        and req.get("cpu", lim["cpu"]) == lim["cpu"]
        and req.get("memory", lim["memory"]) == lim["memory"]
        for req, lim in zip(requests, limits, strict=True)
    )
    return "Guaranteed" if guaranteed else "Burstable"


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Writer:
    """Who is writing and why, recorded with every change so the timeline can say it."""

    actor: str = ""
    reason: str = ""


UNATTRIBUTED = Writer()
_writer: contextvars.ContextVar[Writer] = contextvars.ContextVar("writer", default=UNATTRIBUTED)


@contextlib.contextmanager
def writing_as(actor: str, reason: str = "") -> Iterator[None]:
    """Attribute the writes made inside the block to `actor` (a component such as
    "replicaset-controller" or "kubelet/node-2", or the learner's "kubectl apply"), with `reason`."""
    token = _writer.set(Writer(actor[:100], reason[:300]))
    try:
        yield
    finally:
        _writer.reset(token)


def current_writer() -> Writer:
    return _writer.get()


# The PostgreSQL channel every committed write notifies; clusters.kube.feed listens on it.
CHANGES_CHANNEL = "kube_tutor_changes"


def _next_resource_versions(count: int) -> range:
    # One statement both bumps the counter and reads it; its row lock is held until this
    # transaction commits, which puts the change log in commit order.
    table = ResourceVersionCounter._meta.db_table
    returning = "value"
    if connection.vendor == "postgresql":
        # Delivered at commit (once per transaction): watches wake at once instead of polling.
        # Asked for in the same statement, which saves a round trip per write.
        returning += f", pg_notify('{CHANGES_CHANNEL}', '')"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET value = value + %s WHERE id = 1 RETURNING {returning}", [count])  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        # The migration creates the row; only an emptied database (a test flush) lacks it.
        newest = Change.objects.order_by("-resource_version").values_list("resource_version", flat=True).first()
        counter, _ = ResourceVersionCounter.objects.get_or_create(pk=1, defaults={"value": (newest or 0) + count})
        return range(counter.value - count + 1, counter.value + 1)
    return range(row[0] - count + 1, row[0] + 1)


def _next_resource_version() -> int:
    return _next_resource_versions(1)[0]


def _identity(sandbox: Sandbox, resource: Resource, metadata: dict) -> dict:
    """The columns that name an object, shared by its stored row and its change-log entries."""
    return {
        "sandbox": sandbox,
        "api_group": resource.group,
        "kind": resource.kind,
        "namespace": metadata.get("namespace", ""),
        "name": metadata["name"],
    }


def _record(sandbox: Sandbox, resource: Resource, body: dict, change_type: str, row: StoredObject | None) -> dict:
    version = _next_resource_version()
    body["metadata"]["resourceVersion"] = str(version)
    identity = _identity(sandbox, resource, body["metadata"])
    previous = row.body if row is not None else None
    if change_type == Change.DELETED:
        row.delete()
    elif row is None:
        StoredObject.objects.create(**identity, uid=body["metadata"]["uid"], resource_version=version, body=body)
    else:
        row.resource_version = version
        row.body = body
        row.save(update_fields=["resource_version", "body"])
    _wake_controllers(sandbox, resource, [(previous, body)])
    writer = _writer.get()
    Change.objects.create(
        **identity, resource_version=version, type=change_type, body=body, actor=writer.actor, reason=writer.reason
    )
    return body


def _record_created(sandbox: Sandbox, resource: Resource, bodies: list[dict]) -> list[dict]:
    """`_record` of many new objects: one counter bump, one insert of rows, one of changes."""
    rows, changes = [], []
    writer = _writer.get()
    for version, body in zip(_next_resource_versions(len(bodies)), bodies, strict=True):
        body["metadata"]["resourceVersion"] = str(version)
        identity = _identity(sandbox, resource, body["metadata"])
        rows.append(StoredObject(**identity, uid=body["metadata"]["uid"], resource_version=version, body=body))
        changes.append(
            Change(
                **identity,
                resource_version=version,
                type=Change.ADDED,
                body=body,
                actor=writer.actor,
                reason=writer.reason,
            )
        )
    _wake_controllers(sandbox, resource, [(None, body) for body in bodies])
    StoredObject.objects.bulk_create(rows)
    Change.objects.bulk_create(changes)
    return bodies


def _record_modified(sandbox: Sandbox, resource: Resource, writes: list[tuple[StoredObject, dict, str]]) -> None:
    """`_record` of many changed objects of one kind, each (row, new body, why it was written):
    one counter bump, one update of the rows, one insert of changes."""
    if not writes:
        return
    actor = _writer.get().actor
    previous = [row.body for row, _, _ in writes]
    changes = []
    for version, (row, body, why) in zip(_next_resource_versions(len(writes)), writes, strict=True):
        body["metadata"]["resourceVersion"] = str(version)
        row.resource_version, row.body = version, body
        identity = _identity(sandbox, resource, body["metadata"])
        changes.append(
            Change(**identity, resource_version=version, type=Change.MODIFIED, body=body, actor=actor, reason=why[:300])
        )
    _wake_controllers(sandbox, resource, [(old, row.body) for old, (row, _, _) in zip(previous, writes, strict=True)])
    if len(writes) == 1:  # bulk_update's CASE expression costs a millisecond more to build than it saves
        row = writes[0][0]
        StoredObject.objects.filter(pk=row.pk).update(resource_version=row.resource_version, body=row.body)
    else:
        StoredObject.objects.bulk_update([row for row, _, _ in writes], ["resource_version", "body"])
    Change.objects.bulk_create(changes)


def _wake_controllers(sandbox: Sandbox, resource: Resource, writes: list[tuple[dict | None, dict]]) -> None:
    """Make the work the writes (previous, new) affect due: the controllers, a pod's kubelet, the
    kube-proxy."""
    keys = [
        key
        for previous, body in writes
        for key in workqueue.keys_for_write(resource.kind, previous, body, engine=sandbox.engine)
    ]
    if keys:
        workqueue.work_request(sandbox.pk, list(dict.fromkeys(keys)))


def _new_object(
    resource: Resource,
    body: dict,
    namespace: str | None,
    field_validation: str = STRICT,
    warnings: list[str] | None = None,
) -> tuple[dict, str]:
    """A create's body as the server completes it before admission (no database reads)."""
    body = copy.deepcopy(body)
    _check_type(body, resource)
    body = to_storage(_decode(body, resource, field_validation, warnings))
    namespace = _set_namespace(body, resource, namespace)
    metadata = body["metadata"]
    _generate_name(metadata)
    for field in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation"):
        metadata.pop(field, None)
    metadata["uid"] = str(uuid.uuid4())
    metadata["creationTimestamp"] = format_time(timezone.now())
    metadata["generation"] = 1
    # Defaulted here, once: admission and validation take the object as it is.
    body = apply_create_defaults(body, resource, uid=metadata["uid"])
    metadata = body["metadata"]
    if "status" in body and resource.kind not in ("Namespace", "Node", "PersistentVolume", "PersistentVolumeClaim"):
        body.pop("status")  # a new object's status is the controllers' to write
    if not metadata.get("name"):
        _validate(body, resource)  # reports the missing name as the API server words it
    return body, namespace


@_served
def object_create(
    *,
    sandbox: Sandbox,
    resource: Resource,
    body: dict,
    namespace: str | None = None,
    dry_run: bool = False,
    field_validation: str = STRICT,
    warnings: list[str] | None = None,
) -> dict:
    """Create an object. Unknown fields in `body` are rejected unless `field_validation` (a
    fieldValidation directive) says Warn or Ignore; under Warn each is added to `warnings`."""
    body, namespace = _new_object(resource, body, namespace, field_validation, warnings)
    metadata = body["metadata"]
    with transaction.atomic():
        namespace_body = _admit_namespace(sandbox, resource, namespace, metadata["name"])
        limit_ranges = _limit_ranges(sandbox, resource, namespace)
        _admit_create(sandbox, resource, body, limit_ranges)
        _validate(body, resource)
        _admit_validate(
            sandbox, resource, [body], limit_ranges, dry_run=dry_run, namespace=namespace_body, warnings=warnings
        )
        if _rows(sandbox, resource, namespace).filter(name=metadata["name"]).exists():
            raise errors.already_exists(resource, metadata["name"])
        if dry_run:
            return body
        body = _record(sandbox, resource, body, Change.ADDED, None)
        _after_create(sandbox, resource, body)
    return body


# Kinds whose create admission reads what is stored (addresses, ports, the default class, what
# a quota counts) or writes more (a namespace's service account): created one by one, never in a
# batch.
ADMITTED_ONE_BY_ONE = ("Service", "PersistentVolumeClaim", "Namespace", "ResourceQuota")


@_served
def objects_create(*, sandbox: Sandbox, resource: Resource, bodies: list[dict], namespace: str) -> list[dict]:
    """Create objects of one kind in one namespace in one transaction, all or none: a
    controller's fan-out (a ReplicaSet's pods, a kubelet run's Events) at the cost of a few
    statements instead of a few per object. Errors are those of `object_create`."""
    if resource.kind in ADMITTED_ONE_BY_ONE:
        raise ValueError(f"{resource.kind} objects are admitted one by one: use object_create")
    prepared = [_new_object(resource, body, namespace)[0] for body in bodies]
    if not prepared:
        return []
    names = [body["metadata"]["name"] for body in prepared]
    with transaction.atomic():
        namespace_body = _admit_namespace(sandbox, resource, namespace, names[0])
        limit_ranges = _limit_ranges(sandbox, resource, namespace)
        for body in prepared:
            _admit_create(sandbox, resource, body, limit_ranges)
            _validate(body, resource)
        _admit_validate(sandbox, resource, prepared, limit_ranges, dry_run=False, namespace=namespace_body)
        taken = _rows(sandbox, resource, namespace).filter(name__in=names).values_list("name", flat=True).first()
        if taken is None and len(set(names)) < len(names):
            taken = next(name for name in names if names.count(name) > 1)
        if taken is not None:
            raise errors.already_exists(resource, taken)
        return _record_created(sandbox, resource, prepared)


def _after_create(sandbox: Sandbox, resource: Resource, body: dict) -> None:
    """Objects a real cluster's controllers create straight away, created in the same transaction."""
    if resource.kind == "Namespace":
        from clusters.objects.resources import resource_for_kind as find

        service_accounts = find("v1", "ServiceAccount")
        name = body["metadata"]["name"]
        if not _rows(sandbox, service_accounts, name).filter(name="default").exists():
            account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}}
            account = apply_defaults(account, service_accounts)
            account["metadata"].update(uid=str(uuid.uuid4()), creationTimestamp=format_time(timezone.now()))
            _record(sandbox, service_accounts, account, Change.ADDED, None)


def _locked_row(sandbox: Sandbox, resource: Resource, namespace: str, name: str) -> StoredObject:
    row = _rows(sandbox, resource, namespace).select_for_update().filter(name=name).first()
    if row is None:
        raise errors.not_found(resource, name)
    return row


def _as_bound(old: dict, new: dict) -> dict:
    """Setting a pod's node once is a binding, which validation of an update must allow: compare
    against the old pod as if it had been bound to that node already."""
    node = new.get("spec", {}).get("nodeName")
    if node and not old.get("spec", {}).get("nodeName"):
        return {**old, "spec": {**old["spec"], "nodeName": node}}
    return old


def _deletion_blocked(body: dict) -> bool:
    """Finalizers still to run: metadata.finalizers, and a Namespace's own spec.finalizers."""
    return bool(body["metadata"].get("finalizers")) or (
        body["kind"] == "Namespace" and bool(body.get("spec", {}).get("finalizers"))
    )


def _write_update(
    sandbox: Sandbox,
    resource: Resource,
    row: StoredObject,
    new: dict,
    *,
    subresource: str | None,
    dry_run: bool,
    field_validation: str,
    warnings: list[str] | None,
) -> dict:
    """Turn the requested new state into the stored one and write it, if anything changed."""
    old = row.body
    merged = _updated(
        sandbox,
        resource,
        old,
        new,
        subresource=subresource,
        dry_run=dry_run,
        field_validation=field_validation,
        warnings=warnings,
    )
    if merged == old or dry_run:
        return merged if dry_run else old
    body = _record(sandbox, resource, merged, Change.MODIFIED, row)
    if _deletion_finishes(old, merged):
        body = _finish_deletion(sandbox, resource, row, body)
    return body


def _deletion_finishes(old: dict, new: dict) -> bool:
    """An object being deleted goes once a write leaves nothing to wait for."""
    return bool(old["metadata"].get("deletionTimestamp")) and not _deletion_blocked(new)


def _updated(
    sandbox: Sandbox,
    resource: Resource,
    old: dict,
    new: dict,
    *,
    subresource: str | None,
    dry_run: bool,
    field_validation: str,
    warnings: list[str] | None,
) -> dict:
    """The stored state that the requested new state of `old` turns into, admitted and validated
    (equal to `old` when nothing changes). Nothing is written."""
    merged = copy.deepcopy(new)
    metadata = merged.setdefault("metadata", {})
    # Fields the server owns.
    for field in ("uid", "creationTimestamp", "namespace", "name", "deletionTimestamp", "deletionGracePeriodSeconds"):
        if field in old["metadata"]:
            metadata[field] = old["metadata"][field]
        else:
            metadata.pop(field, None)
    if subresource == "status":
        merged = {**copy.deepcopy(old), "status": merged.get("status", {})}
    elif "status" in resource.subresources:
        if "status" in old:
            merged["status"] = copy.deepcopy(old["status"])
        else:
            merged.pop("status", None)
    merged = _decode(merged, resource, field_validation, warnings)
    merged = apply_defaults(merged, resource)  # once; `old` was defaulted when it was written
    if resource.kind == "Namespace" and not resource.group and subresource is None:
        _default_pod_security(sandbox, merged)  # put back when an update leaves it out
    if resource.kind == "ResourceQuota" and subresource != "status" and merged.get("spec") != old.get("spec"):
        merged["status"] = _quota_status(sandbox, merged, new=False)  # as for a new quota: binds at once
    merged["metadata"]["generation"] = old["metadata"].get("generation", 1) + (
        1 if _spec_of(merged) != _spec_of(old) else 0
    )
    merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
    _validate(merged, resource, old=_as_bound(old, merged) if resource.kind == "Pod" else old)
    if merged != old and subresource is None:
        _admit_update(sandbox, resource, merged, old, dry_run=dry_run, warnings=warnings)
    return merged


@_served
def object_update(
    *,
    sandbox: Sandbox,
    resource: Resource,
    namespace: str,
    name: str,
    body: dict,
    subresource: str | None = None,
    dry_run: bool = False,
    field_validation: str = STRICT,
    warnings: list[str] | None = None,
) -> dict:
    """Replace an object (PUT); unknown fields are treated as by `object_create`."""
    _check_type(body, resource)
    given = body.get("metadata", {})
    if given.get("name") and given["name"] != name:
        raise errors.BadRequest(f"the name of the object ({given['name']}) does not match the name on the URL ({name})")
    if not given.get("resourceVersion"):
        raise errors.invalid(
            resource,
            name,
            [errors.Cause("FieldValueInvalid", "must be specified for an update", "metadata.resourceVersion")],
        )
    with transaction.atomic():
        row = _locked_row(sandbox, resource, namespace, name)
        if given["resourceVersion"] != row.body["metadata"]["resourceVersion"]:
            raise errors.conflict(resource, name)
        return _write_update(
            sandbox,
            storage_resource(resource),
            row,
            _as_stored(body, resource, field_validation, warnings),
            subresource=subresource,
            dry_run=dry_run,
            field_validation=field_validation,
            warnings=warnings,
        )


@_served
def object_patch(
    *,
    sandbox: Sandbox,
    resource: Resource,
    namespace: str,
    name: str,
    patch: bytes,
    content_type: str,
    subresource: str | None = None,
    dry_run: bool = False,
    field_validation: str = STRICT,
    warnings: list[str] | None = None,
) -> dict:
    """Patch an object; unknown fields of the patched object are treated as by `object_create`."""
    with transaction.atomic():
        row = _locked_row(sandbox, resource, namespace, name)
        try:
            # A patch applies to the object as the version it was sent to serves it.
            patched = apply_patch(to_version(row.body, resource), patch, content_type)
        except PatchError as error:
            raise errors.for_patch_error(error) from None
        wanted = patched.get("metadata", {}).get("resourceVersion")
        if wanted and wanted != row.body["metadata"]["resourceVersion"]:
            raise errors.conflict(resource, name)
        return _write_update(
            sandbox,
            storage_resource(resource),
            row,
            _as_stored(patched, resource, field_validation, warnings),
            subresource=subresource,
            dry_run=dry_run,
            field_validation=field_validation,
            warnings=warnings,
        )


def _locked_rows(sandbox: Sandbox, resource: Resource, names: list[tuple[str, str]]) -> dict[tuple, StoredObject]:
    """The stored rows of these (namespace, name)s that exist, locked, in one read per namespace."""
    by_namespace: dict[str, list[str]] = {}
    for namespace, name in names:
        by_namespace.setdefault(namespace, []).append(name)
    rows = {}
    for namespace, names_there in by_namespace.items():
        found = _rows(sandbox, resource, namespace).select_for_update().filter(name__in=names_there).order_by("pk")
        rows.update({(namespace, row.name): row for row in found})
    return rows


@dataclass(frozen=True)
class Binding:
    """A pod's binding to a node: what a pods/binding request carries, and why it was chosen."""

    namespace: str
    name: str
    node: str
    conditions: list[dict]
    resource_version: str | None = None
    why: str = ""


def pods_bind(*, sandbox: Sandbox, bindings: list[Binding]) -> list[dict]:
    """What the pods/binding subresource does, for many pods in one transaction, all or none: set
    each pod's node and its conditions (the binder adds PodScheduled=True) in one write. A pod that
    changed since its binding's `resource_version`, is already bound or is being deleted cannot be
    bound (Conflict), as upstream answers; a pod that is gone is NotFound."""
    resource = resource_for_kind("v1", "Pod")
    with transaction.atomic():
        rows = _locked_rows(sandbox, resource, [(binding.namespace, binding.name) for binding in bindings])
        writes = []
        for binding in bindings:
            row = rows.get((binding.namespace, binding.name))
            if row is None:
                raise errors.not_found(resource, binding.name)
            writes.append((row, _bound(resource, row.body, binding), binding.why or _writer.get().reason))
        _record_modified(sandbox, resource, writes)
    return [body for _, body, _ in writes]


def _bound(resource: Resource, old: dict, binding: Binding) -> dict:
    name = binding.name
    if binding.resource_version and binding.resource_version != old["metadata"]["resourceVersion"]:
        raise errors.conflict(resource, name)
    if old["spec"].get("nodeName"):
        raise errors.Conflict(f'pod {name} is already assigned to node "{old["spec"]["nodeName"]}"')
    if old["metadata"].get("deletionTimestamp"):
        raise errors.Conflict(f"pod {name} is being deleted, cannot be assigned to a host")
    new = copy.deepcopy(old)
    new["spec"]["nodeName"] = binding.node
    new.setdefault("status", {})["conditions"] = binding.conditions
    _validate(new, resource, old=_as_bound(old, new))
    return new


def pod_bind(
    *, sandbox: Sandbox, namespace: str, name: str, node: str, conditions: list[dict], resource_version: str | None
) -> dict:
    """`pods_bind` of one pod."""
    binding = Binding(namespace, name, node, conditions, resource_version)
    return pods_bind(sandbox=sandbox, bindings=[binding])[0]


@dataclass(frozen=True)
class StatusPatch:
    """A JSON merge patch of one object's status, and why it is written."""

    namespace: str
    name: str
    status: dict
    why: str = ""


def statuses_patch(*, sandbox: Sandbox, resource: Resource, patches: list[StatusPatch]) -> list[dict]:
    """What `object_patch` of the status subresource does (with the status in the kind's storage
    version), for many objects of one kind in one transaction: one read of the rows, one counter
    bump, one update and one insert of changes. An object that is gone is skipped (its lost race
    drops its own write only); a status the API server would refuse refuses them all. Returns the
    objects as written (those that did not change left out)."""
    resource = storage_resource(resource)
    with transaction.atomic():
        rows = _locked_rows(sandbox, resource, [(patch.namespace, patch.name) for patch in patches])
        writes, deletions = [], []
        for patch in patches:
            row = rows.get((patch.namespace, patch.name))
            if row is None:
                continue
            old = row.body
            try:
                # Through JSON, as a patch on the wire would come: tuples become lists.
                patched = merge_patch(old, json.loads(json.dumps({"status": patch.status})))
            except PatchError as error:
                raise errors.for_patch_error(error) from None
            new = _updated(
                sandbox,
                resource,
                old,
                patched,
                subresource="status",
                dry_run=False,
                field_validation=STRICT,
                warnings=None,
            )
            if new == old:
                continue
            why = patch.why or _writer.get().reason
            (deletions if _deletion_finishes(old, new) else writes).append((row, new, why))
        _record_modified(sandbox, resource, writes)
        for row, new, why in deletions:  # rare: a status write that lets a deletion finish
            with writing_as(_writer.get().actor, why):
                _finish_deletion(sandbox, resource, row, _record(sandbox, resource, new, Change.MODIFIED, row))
    return [body for _, body, _ in writes + deletions]


def _finish_deletion(sandbox: Sandbox, resource: Resource, row: StoredObject, body: dict) -> dict:
    if resource.kind == "Namespace":
        # What the namespace controller does not plan for (Events) goes with the namespace.
        for leftover in StoredObject.objects.filter(sandbox=sandbox, namespace=body["metadata"]["name"]):
            kind = resource_for_kind(leftover.body["apiVersion"], leftover.body["kind"])
            _record(sandbox, kind, copy.deepcopy(leftover.body), Change.DELETED, leftover)
    return _record(sandbox, resource, copy.deepcopy(body), Change.DELETED, row)


@_served
def object_delete(
    *,
    sandbox: Sandbox,
    resource: Resource,
    namespace: str,
    name: str,
    propagation: str | None = None,
    grace_period: int | None = None,
    preconditions: dict | None = None,
    dry_run: bool = False,
) -> dict:
    """Delete now, or mark for deletion when finalizers, a foreground/orphan cascade or a running
    pod's grace period must come first. Returns the object as it was left."""
    with transaction.atomic():
        row = _locked_row(sandbox, resource, namespace, name)
        body = copy.deepcopy(row.body)
        metadata = body["metadata"]
        preconditions = preconditions or {}
        if preconditions.get("uid") and preconditions["uid"] != metadata["uid"]:
            raise errors.conflict(resource, name)
        if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != metadata["resourceVersion"]:
            raise errors.conflict(resource, name)
        finalizers = list(metadata.get("finalizers", []))
        if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        graceful = resource.kind == "Pod" and body.get("spec", {}).get("nodeName") and grace_period != 0
        if resource.kind == "Namespace":
            body.setdefault("status", {})["phase"] = "Terminating"
        if finalizers or graceful or resource.kind == "Namespace":
            if metadata.get("deletionTimestamp"):
                if _deletion_blocked(body) or graceful:
                    return body  # already being deleted: nothing more to do yet
                return _finish_deletion(sandbox, resource, row, body)
            now = timezone.now()
            default_grace = body.get("spec", {}).get("terminationGracePeriodSeconds", 30)
            grace = default_grace if grace_period is None else grace_period
            grace = grace if graceful else 0
            metadata["deletionTimestamp"] = format_time(now + timedelta(seconds=grace))
            metadata["deletionGracePeriodSeconds"] = grace
            if finalizers:
                metadata["finalizers"] = finalizers
            if dry_run:
                return body
            return _record(sandbox, resource, body, Change.MODIFIED, row)
        if dry_run:
            return body
        return _finish_deletion(sandbox, resource, row, body)


def change_log_compact(*, keep: int) -> int:
    """Forget all but the newest `keep` changes, as etcd compaction does. A watch that asks to
    resume from before the horizon then gets 410 Expired and must list again."""
    with transaction.atomic():
        counter = ResourceVersionCounter.objects.select_for_update().filter(pk=1).first()
        if counter is None:
            return 0
        horizon = counter.value - keep
        if horizon <= counter.compacted_through:
            return 0
        counter.compacted_through = horizon
        counter.save(update_fields=["compacted_through"])
        deleted, _ = Change.objects.filter(resource_version__lte=horizon).delete()
    return deleted
