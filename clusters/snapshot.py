"""The read side of a sandbox: what pages, lesson checks and the instructor dashboard see.

Everything outside `clusters/` reads a sandbox through this module, never through stored rows:
a `Snapshot` of its objects (one query; Events apart, only the newest), views derived from it
the way kubectl derives them (a pod's STATUS and READY columns, a Service's ready endpoints, a
Deployment's ReplicaSets and their pods), the change log as a timeline of who did what and why,
and container logs. The derivations are pure functions of a snapshot, so checks over them are
testable without a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Count, Max, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from clusters import errors, faults, logs
from clusters.controllers.state import ClusterState
from clusters.kube.tables import pod_summary
from clusters.models import Change, Sandbox, StoredObject
from clusters.objects import selectors
from clusters.objects.times import parse_time

EVENTS_KEPT = 60
PREVIOUS_LOOKBACK = 1000


class SnapshotError(ValueError):
    """A read that cannot be answered (an unknown pod or container), in words for the page."""


# --- the snapshot ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerView:
    name: str
    image: str
    state: str  # "running", "waiting", "terminated" or "" (not reported yet)
    reason: str  # the waiting or terminated reason: CrashLoopBackOff, ErrImagePull, Completed, …
    ready: bool
    restarts: int
    exit_code: int | None = None
    last_exit_code: int | None = None  # of the run before (lastState.terminated)


@dataclass(frozen=True)
class PodView:
    """A pod as `kubectl get pods` shows it, plus what a page needs to draw and link it."""

    name: str
    namespace: str
    uid: str
    node: str
    status: str  # kubectl's STATUS column: Running, ContainerCreating, CrashLoopBackOff, Terminating, …
    phase: str
    ready: int
    total: int
    restarts: int
    ip: str
    labels: dict = field(hash=False)
    owner: tuple[str, str] | None  # (kind, name) of its controller
    containers: tuple[ContainerView, ...]
    created: str
    deleting: bool

    @property
    def is_ready(self) -> bool:
        """Running with every container ready: what "Running and Ready" means in a lesson."""
        return self.status == "Running" and self.total > 0 and self.ready == self.total and not self.deleting

    @property
    def ready_text(self) -> str:
        return f"{self.ready}/{self.total}"


def _container_views(pod: dict) -> tuple[ContainerView, ...]:
    statuses = {s.get("name"): s for s in pod.get("status", {}).get("containerStatuses") or []}
    views = []
    for container in pod.get("spec", {}).get("containers") or []:
        status = statuses.get(container["name"], {})
        state = status.get("state") or {}
        kind = next(iter(state), "")
        detail = state.get(kind) or {}
        last = (status.get("lastState") or {}).get("terminated") or {}
        views.append(
            ContainerView(
                name=container["name"],
                image=container.get("image", ""),
                state=kind,
                reason=detail.get("reason", "Running" if kind == "running" else ""),
                ready=bool(status.get("ready")),
                restarts=status.get("restartCount") or 0,
                exit_code=detail.get("exitCode"),
                last_exit_code=last.get("exitCode"),
            )
        )
    return tuple(views)


def pod_view(pod: dict) -> PodView:
    metadata, status = pod["metadata"], pod.get("status") or {}
    summary = pod_summary(pod)
    owner = next(
        ((r.get("kind", ""), r.get("name", "")) for r in metadata.get("ownerReferences") or [] if r.get("controller")),
        None,
    )
    return PodView(
        name=metadata["name"],
        namespace=metadata.get("namespace", ""),
        uid=metadata.get("uid", ""),
        node=pod.get("spec", {}).get("nodeName") or "",
        status=summary.reason or "Pending",
        phase=status.get("phase") or "Pending",
        ready=summary.ready,
        total=summary.total,
        restarts=summary.restarts,
        ip=status.get("podIP") or "",
        labels=dict(metadata.get("labels") or {}),
        owner=owner,
        containers=_container_views(pod),
        created=metadata.get("creationTimestamp", ""),
        deleting=bool(metadata.get("deletionTimestamp")),
    )


def _selector_matches(selector: str | dict | None, labels: dict | None) -> bool:
    if not selector:
        return True
    if isinstance(selector, dict):
        return all((labels or {}).get(key) == value for key, value in selector.items())
    return selectors.labels_match(selectors.parse_label_selector(selector), labels)


@dataclass(frozen=True)
class Snapshot:
    """A sandbox's objects at one moment (its newest resourceVersion is `version`)."""

    sandbox_id: int
    version: int
    taken_at: datetime
    state: ClusterState
    events: tuple[dict, ...] = ()  # the newest first
    kubelets_stopped: frozenset[str] = frozenset()

    @classmethod
    def of(cls, objects: Iterable[dict], *, version: int = 0, now: datetime | None = None, **extra) -> Snapshot:
        """A snapshot built from bodies, for tests and for callers holding objects already."""
        bodies = list(objects)
        events = sorted((b for b in bodies if b["kind"] == "Event"), key=_event_time, reverse=True)
        state = ClusterState.of(b for b in bodies if b["kind"] != "Event")
        return cls(
            sandbox_id=extra.pop("sandbox_id", 0),
            version=version,
            taken_at=now or timezone.now(),
            state=state,
            events=tuple(events),
            **extra,
        )

    def objects(self, kind: str, namespace: str | None = None) -> tuple[dict, ...]:
        return self.state.objects(kind, namespace)

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        return self.state.get(kind, namespace, name)

    def owned_by(self, kind: str, owner: dict) -> tuple[dict, ...]:
        return self.state.owned_by(kind, owner)

    def pods(self, namespace: str | None = None, selector: str | dict | None = None) -> list[PodView]:
        """The pods (optionally of one namespace, matching a label selector), by name."""
        bodies = [p for p in self.objects("Pod", namespace) if _selector_matches(selector, p["metadata"].get("labels"))]
        return [pod_view(p) for p in sorted(bodies, key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))]

    def events_about(self, obj: dict) -> list[dict]:
        uid = obj["metadata"].get("uid")
        return [e for e in self.events if (e.get("involvedObject") or {}).get("uid") == uid]


def _event_time(event: dict) -> datetime:
    """When an Event last happened, for newest-first order: lastTimestamp, else eventTime (a
    MicroTime, events.k8s.io), else its creation; one without any sorts last."""
    stamp = event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp")
    return parse_time(stamp) or datetime.min.replace(tzinfo=UTC)


def sandbox_version(sandbox: Sandbox) -> int:
    """The newest resourceVersion written in this sandbox (0 for none): pages compare it to know
    whether anything changed since they drew."""
    return Change.objects.filter(sandbox=sandbox).aggregate(newest=Max("resource_version"))["newest"] or 0


def sandbox_snapshot(sandbox: Sandbox, *, events: int = EVENTS_KEPT) -> Snapshot:
    version = sandbox_version(sandbox)
    rows = StoredObject.objects.filter(sandbox=sandbox)
    bodies = list(rows.exclude(kind="Event").values_list("body", flat=True))
    newest_events = sorted(
        rows.filter(kind="Event").order_by("-resource_version").values_list("body", flat=True)[:events],
        key=_event_time,
        reverse=True,
    )
    return Snapshot(
        sandbox_id=sandbox.pk,
        version=version,
        taken_at=timezone.now(),
        state=ClusterState.of(bodies),
        events=tuple(newest_events),
        kubelets_stopped=frozenset(faults.kubelets_stopped(sandbox=sandbox)),
    )


# --- views derived from a snapshot -------------------------------------------------------------


def _condition(obj: dict, condition_type: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == condition_type), {})


@dataclass(frozen=True)
class NodeView:
    name: str
    ready: bool
    reason: str  # the Ready condition's reason: KubeletReady, NodeStatusUnknown, …
    kubelet_stopped: bool
    pods: tuple[PodView, ...]


def nodes_view(snapshot: Snapshot) -> list[NodeView]:
    """Every node with the pods bound to it, in name order."""
    pods = snapshot.pods()
    views = []
    for node in sorted(snapshot.objects("Node"), key=lambda n: n["metadata"]["name"]):
        name = node["metadata"]["name"]
        ready = _condition(node, "Ready")
        views.append(
            NodeView(
                name=name,
                ready=ready.get("status") == "True",
                reason=ready.get("reason", ""),
                kubelet_stopped=name in snapshot.kubelets_stopped,
                pods=tuple(p for p in pods if p.node == name),
            )
        )
    return views


def pending_pods(snapshot: Snapshot) -> list[PodView]:
    """Pods no node has taken yet (the scheduler's queue)."""
    return [p for p in snapshot.pods() if not p.node]


@dataclass(frozen=True)
class Endpoint:
    ip: str
    pod: str
    node: str
    ready: bool


def service_endpoints(snapshot: Snapshot, service: dict) -> list[Endpoint]:
    """The Service's endpoints as its Endpoints object lists them (ready ones first)."""
    metadata = service["metadata"]
    endpoints = snapshot.get("Endpoints", metadata.get("namespace", ""), metadata["name"]) or {}
    found = []
    for subset in endpoints.get("subsets") or []:
        for ready, key in ((True, "addresses"), (False, "notReadyAddresses")):
            for address in subset.get(key) or []:
                target = address.get("targetRef") or {}
                found.append(
                    Endpoint(address.get("ip", ""), target.get("name", ""), address.get("nodeName", ""), ready)
                )
    unique = {(e.ip, e.ready): e for e in found}
    return sorted(unique.values(), key=lambda e: (not e.ready, e.pod, e.ip))


@dataclass(frozen=True)
class ReplicaSetView:
    name: str
    revision: str
    desired: int
    ready: int
    images: tuple[str, ...]
    pods: tuple[PodView, ...]


@dataclass(frozen=True)
class DeploymentView:
    name: str
    namespace: str
    desired: int
    updated: int
    ready: int
    available: int
    progress: str  # in kubectl rollout status's words
    complete: bool
    replica_sets: tuple[ReplicaSetView, ...]


def _images(template_owner: dict) -> tuple[str, ...]:
    spec = template_owner.get("spec", {}).get("template", {}).get("spec", {})
    return tuple(c.get("image", "") for c in spec.get("containers") or [])


def rollout_progress(deployment: dict) -> tuple[str, bool]:
    """What `kubectl rollout status` would say of a Deployment, and whether it is done."""
    spec, status = deployment.get("spec", {}), deployment.get("status") or {}
    generation = deployment["metadata"].get("generation", 0)
    if status.get("observedGeneration", 0) < generation:
        return "Waiting for deployment spec update to be observed...", False
    progressing = _condition(deployment, "Progressing")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return f'deployment "{deployment["metadata"]["name"]}" exceeded its progress deadline', False
    desired = spec.get("replicas", 1)
    updated, replicas = status.get("updatedReplicas", 0), status.get("replicas", 0)
    available = status.get("availableReplicas", 0)
    name = deployment["metadata"]["name"]
    waiting = f'Waiting for deployment "{name}" rollout to finish:'
    if updated < desired:
        return f"{waiting} {updated} out of {desired} new replicas have been updated...", False
    if replicas > updated:
        return f"{waiting} {replicas - updated} old replicas are pending termination...", False
    if available < updated:
        return f"{waiting} {available} of {updated} updated replicas are available...", False
    return f'deployment "{name}" successfully rolled out', True


def deployments_view(snapshot: Snapshot, namespace: str | None = None) -> list[DeploymentView]:
    """Deployment → ReplicaSets (newest revision first) → Pods, with rollout progress."""
    views = []
    for deployment in sorted(snapshot.objects("Deployment", namespace), key=lambda d: d["metadata"]["name"]):
        replica_sets = []
        for rs in snapshot.owned_by("ReplicaSet", deployment):
            annotations = rs["metadata"].get("annotations") or {}
            pods = tuple(pod_view(p) for p in snapshot.owned_by("Pod", rs))
            replica_sets.append(
                ReplicaSetView(
                    name=rs["metadata"]["name"],
                    revision=annotations.get("deployment.kubernetes.io/revision", ""),
                    desired=rs.get("spec", {}).get("replicas", 0),
                    ready=(rs.get("status") or {}).get("readyReplicas", 0),
                    images=_images(rs),
                    pods=tuple(sorted(pods, key=lambda p: p.name)),
                )
            )
        replica_sets.sort(key=lambda rs: int(rs.revision or 0), reverse=True)
        status = deployment.get("status") or {}
        progress, complete = rollout_progress(deployment)
        views.append(
            DeploymentView(
                name=deployment["metadata"]["name"],
                namespace=deployment["metadata"].get("namespace", ""),
                desired=deployment.get("spec", {}).get("replicas", 1),
                updated=status.get("updatedReplicas", 0),
                ready=status.get("readyReplicas", 0),
                available=status.get("availableReplicas", 0),
                progress=progress,
                complete=complete,
                replica_sets=tuple(replica_sets),
            )
        )
    return views


# --- the change log as a timeline ----------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    resource_version: int
    at: datetime
    type: str  # ADDED, MODIFIED, DELETED
    kind: str
    namespace: str
    name: str
    actor: str
    reason: str
    summary: str  # what changed, in a few words

    @property
    def is_event(self) -> bool:
        return self.kind == "Event"


def _image_list(body: dict) -> list[str]:
    spec = body.get("spec", {})
    if "template" in spec:
        spec = spec["template"].get("spec", {})
    return [c.get("image", "") for c in spec.get("containers") or []]


def _pod_line(pod: dict) -> str:
    view = pod_view(pod)
    return f"{view.status} {view.ready_text}" + (f", {view.restarts} restarts" if view.restarts else "")


def _changed(label: str, before, after) -> str | None:
    return None if before == after else f"{label} {before} → {after}"


def change_summary(kind: str, change_type: str, previous: dict | None, body: dict) -> str:
    """What a change did to an object, in a few words: the fields learners watch, per kind."""
    if kind == "Event":
        involved = body.get("involvedObject") or {}
        about = f"{involved.get('kind', '')} {involved.get('name', '')}".strip()
        said = f"{body.get('reason', '')}: {body.get('message', '')}".strip(": ")
        return f"{about} — {said}" if about else said
    if change_type == "DELETED":
        return "deleted"
    if change_type == "MODIFIED" and previous is None:
        return "changed"
    if change_type == "ADDED":
        if kind == "Pod":
            return "created" + (f" on {body['spec']['nodeName']}" if body.get("spec", {}).get("nodeName") else "")
        replicas = body.get("spec", {}).get("replicas")
        return "created" + (f" (replicas {replicas})" if isinstance(replicas, int) else "")
    parts: list[str | None] = []
    before_meta, after_meta = previous.get("metadata", {}), body.get("metadata", {})
    if after_meta.get("deletionTimestamp") and not before_meta.get("deletionTimestamp"):
        parts.append("marked for deletion")
    if kind == "Pod":
        before_node, after_node = previous.get("spec", {}).get("nodeName"), body.get("spec", {}).get("nodeName")
        if after_node and not before_node:
            parts.append(f"bound to {after_node}")
        parts.append(_changed("status", _pod_line(previous), _pod_line(body)))
    else:
        parts.append(
            _changed("replicas", previous.get("spec", {}).get("replicas"), body.get("spec", {}).get("replicas"))
        )
        parts.append(_changed("image", ", ".join(_image_list(previous)), ", ".join(_image_list(body))))
        before_status, after_status = previous.get("status") or {}, body.get("status") or {}
        for key in ("readyReplicas", "updatedReplicas", "numberReady", "succeeded", "failed", "active", "phase"):
            parts.append(_changed(key, before_status.get(key, 0), after_status.get(key, 0)))
        if kind == "Node":
            parts.append(
                _changed("Ready", _condition(previous, "Ready").get("status"), _condition(body, "Ready").get("status"))
            )
        if kind == "Endpoints":
            parts.append(_changed("ready addresses", _address_count(previous), _address_count(body)))
    if before_meta.get("labels") != after_meta.get("labels"):
        parts.append("labels changed")
    said = [p for p in parts if p]
    if said:
        return "; ".join(said)
    changed = sorted(k for k in set(previous) | set(body) if k != "metadata" and previous.get(k) != body.get(k))
    return f"{', '.join(changed)} changed" if changed else "metadata changed"


def _address_count(endpoints: dict) -> int:
    return sum(len(s.get("addresses") or []) for s in endpoints.get("subsets") or [])


def timeline(sandbox: Sandbox, *, after: int = 0, limit: int = 100, include_events: bool = True) -> list[TimelineEntry]:
    """The sandbox's newest changes after `after` (at most `limit`), oldest first, each with who
    wrote it, why, and what it changed (compared with the object's previous version)."""
    rows = Change.objects.filter(sandbox=sandbox, resource_version__gt=after)
    if not include_events:
        rows = rows.exclude(kind="Event")
    window = list(reversed(rows.order_by("-resource_version")[:limit]))
    previous_of = _previous_versions(sandbox, window)
    entries = []
    for row in window:
        key = (row.api_group, row.kind, row.namespace, row.name)
        previous = previous_of.get((key, row.resource_version))
        entries.append(
            TimelineEntry(
                resource_version=row.resource_version,
                at=row.at,
                type=row.type,
                kind=row.kind,
                namespace=row.namespace,
                name=row.name,
                actor=row.actor,
                reason=row.reason,
                summary=change_summary(row.kind, row.type, previous, row.body),
            )
        )
    return entries


def _previous_versions(sandbox: Sandbox, window: list[Change]) -> dict:
    """For each change of the window, the body its object had just before (None if unknown)."""
    found: dict = {}
    latest: dict = {}
    missing = []
    for row in window:
        key = (row.api_group, row.kind, row.namespace, row.name)
        if row.type != Change.ADDED and row.kind != "Event":
            if key in latest:
                found[(key, row.resource_version)] = latest[key]
            else:
                missing.append((key, row.resource_version))
        latest[key] = row.body
    if missing:
        # The objects first seen changing in the window: their newest versions before it, in one
        # query (at most PREVIOUS_LOOKBACK rows; older ones are summarised without a comparison).
        earlier = (
            Change.objects.filter(
                sandbox=sandbox,
                name__in={key[3] for key, _ in missing},
                resource_version__lt=window[0].resource_version,
            )
            .order_by("-resource_version")
            .values_list("api_group", "kind", "namespace", "name", "body")[:PREVIOUS_LOOKBACK]
        )
        before: dict = {}
        for api_group, kind, namespace, name, body in earlier:
            before.setdefault((api_group, kind, namespace, name), body)
        for key, version in missing:
            found[(key, version)] = before.get(key)
    return found


# --- container logs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LogTail:
    container: str
    restart: int
    lines: tuple[str, ...]
    last_id: int  # pass as `after_id` to read only what came since


def pod_log(
    sandbox: Sandbox,
    *,
    namespace: str,
    pod: str,
    container: str | None = None,
    tail: int = 200,
    after_id: int = 0,
) -> LogTail:
    """The current run's output of a pod's container (the only one, or `container`), brought up to
    what it wrote by now (`logs.log_refresh`)."""
    body = (
        StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="Pod", namespace=namespace, name=pod)
        .values_list("body", flat=True)
        .first()
    )
    if body is None:
        raise SnapshotError(f'pod "{pod}" not found in namespace "{namespace}"')
    try:
        name = logs.choose_container(body, container)
        restart = logs.log_run(body, name, previous=False)
    except errors.ApiError as error:
        raise SnapshotError(error.message) from None
    logs.log_refresh(sandbox=sandbox, pod=body)
    rows = logs.log_lines(pod=body, container=name, restart=restart, after_id=after_id, tail=None if after_id else tail)
    last = rows[-1].id if rows else after_id
    return LogTail(container=name, restart=restart, lines=tuple(r.line for r in rows), last_id=last)


def pod_phases(sandbox_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """How many pods each sandbox has in each phase (Pending, Running, Succeeded, Failed), in one
    query that reads no bodies: what a page listing many sandboxes shows of each."""
    counts: dict[int, dict[str, int]] = {}
    rows = (
        StoredObject.objects.filter(sandbox_id__in=list(sandbox_ids), api_group="", kind="Pod")
        .values("sandbox_id", phase=KT("body__status__phase"))
        .annotate(pods=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts.setdefault(row["sandbox_id"], {})[row["phase"] or "Pending"] = row["pods"]
    return counts


# Who writes on the learner's behalf: the pages ("page: apply", …) and their kubectl commands.
LEARNER_ACTORS = ("page:", "kubectl")


@dataclass(frozen=True)
class LearnerWrite:
    """An object as the learner last wrote it: what they applied, with how and when."""

    at: datetime
    actor: str
    type: str  # ADDED, MODIFIED, DELETED
    kind: str
    namespace: str
    name: str
    reason: str
    body: dict = field(hash=False)


def learner_writes(sandbox: Sandbox, *, limit: int = 10) -> list[LearnerWrite]:
    """The newest writes the learner made (not the controllers'), newest first."""
    rows = Change.objects.filter(sandbox=sandbox).exclude(kind="Event")
    chosen = Q()
    for prefix in LEARNER_ACTORS:
        chosen |= Q(actor__startswith=prefix)
    return [
        LearnerWrite(row.at, row.actor, row.type, row.kind, row.namespace, row.name, row.reason, row.body)
        for row in rows.filter(chosen).order_by("-resource_version")[:limit]
    ]


def changes_count(sandbox: Sandbox, *, actor: str, kind: str, change_type: str, name_prefix: str = "") -> int:
    """How many changes of `kind` and type the change log holds by `actor` (a name, or a prefix
    ending in "/" such as "kubelet/" for every node's kubelet), to objects named `name_prefix`…"""
    rows = Change.objects.filter(sandbox=sandbox, kind=kind, type=change_type, name__startswith=name_prefix)
    rows = rows.filter(actor__startswith=actor) if actor.endswith("/") else rows.filter(actor=actor)
    return rows.count()


def sandbox_of(*, owner, name: str) -> Sandbox | None:
    """The owner's sandbox of that name, or None."""
    if not owner.is_authenticated:
        return None
    return Sandbox.objects.filter(owner=owner, name=name).first()
