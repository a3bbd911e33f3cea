"""The Deployment controller's planner (upstream `pkg/controller/deployment`).

A Deployment runs its pods through ReplicaSets named `<deployment>-<pod-template-hash>`, one per
pod template it has had. The newest template's ReplicaSet is the *new* one; the rest are *old*.
For every Deployment of a sandbox, one pass follows upstream's `syncDeployment`:

1. claim ReplicaSets: adopt orphans that match the selector, release those that no longer do;
2. note pausing and resuming in the `Progressing` condition (`DeploymentPaused`/`DeploymentResumed`);
3. paused, or a scaling event (`spec.replicas` differs from the `desired-replicas` annotation of an
   active ReplicaSet): scale only — the one active ReplicaSet, or all of them in proportion to
   their size (upstream's proportional scaling, `deployment.kubernetes.io/max-replicas` as base);
4. otherwise roll out: `RollingUpdate` creates or finds the new ReplicaSet and scales it up within
   `maxSurge` (percent rounds up), then scales old ones down as far as `maxUnavailable` (percent
   rounds down; both 0 means 1) and the availability of their pods allow, unhealthy pods first;
   `Recreate` scales every old ReplicaSet to 0, waits until their pods are gone, then creates or
   scales up the new one;
5. once complete (or while paused), delete the oldest ReplicaSets with no pods beyond
   `revisionHistoryLimit`;
6. write the status — replicas, updatedReplicas, readyReplicas, availableReplicas,
   unavailableReplicas, terminatingReplicas, observedGeneration, collisionCount — and the conditions
   `Available` and `Progressing` (which times out after `progressDeadlineSeconds`).

Upstream writes as it goes and re-reads between steps. Here every step works on copies of the
ReplicaSets, so one pass ends with one write per ReplicaSet (a merge patch with a resourceVersion
precondition), its `ScalingReplicaSet` Events, the deletions, one status patch and the revision
annotation. Planning again after those writes, with the pods unchanged, plans nothing.

Revisions: the new ReplicaSet gets `deployment.kubernetes.io/revision` one above the highest old
one, and the Deployment carries the same annotation. A rollback (`kubectl rollout undo` patches the
template back to an old ReplicaSet's) finds that ReplicaSet by its template, gives it the next
revision (the one it had goes to `revision-history`) and scales it up instead of creating one.
Deployments being deleted are left to the garbage collector.
"""

from __future__ import annotations

import copy
import json
import math
import struct
from datetime import datetime, timedelta

from clusters.controllers.actions import Action, Create, Delete, Event, Patch, owner_reference, ref
from clusters.controllers.pods import (
    adopted_owner_references,
    claim,
    claim_why,
    controller_ref,
    counted,
    format_time,
    is_terminal,
    listed,
    merge_patch,
    parse_time,
    released_owner_references,
    shortened,
)
from clusters.controllers.state import ClusterState
from clusters.objects.selectors import labels_match, selector_from_match_labels

SOURCE = "deployment-controller"
UNIQUE_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
# Annotations a Deployment does not pass on to its new ReplicaSet.
NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED_REPLICAS,
        MAX_REPLICAS,
        "deprecated.deployment.rollback.to",
    }
)
MAX_REVISION_HISTORY_CHARS = 2000
# Rolling steps alternate scaling up and down; with the pods' state fixed they end within a few.
MAX_STEPS_PER_PASS = 20
MAX_INT32 = 2**31 - 1
DNS1123_SUBDOMAIN_MAX = 253
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # upstream's rand.SafeEncodeString alphabet

# Condition types and reasons (upstream deployment_util.go).
AVAILABLE, PROGRESSING, REPLICA_FAILURE = "Available", "Progressing", "ReplicaFailure"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"
NEW_REPLICA_SET_CREATED = "NewReplicaSetCreated"
FOUND_NEW_REPLICA_SET = "FoundNewReplicaSet"
REPLICA_SET_UPDATED = "ReplicaSetUpdated"
NEW_REPLICA_SET_AVAILABLE = "NewReplicaSetAvailable"
PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
DEPLOYMENT_PAUSED = "DeploymentPaused"
DEPLOYMENT_RESUMED = "DeploymentResumed"

# How much a ReplicaSet write's `why` says: a later, stronger reason replaces a weaker one, since
# one pass ends with one write per ReplicaSet (its size says what the last scaling decided).
NOTE, CLAIM, SCALE = 0, 1, 2


def plan(state: ClusterState, *, now: datetime) -> list[Action]:
    """Everything the Deployment controller would do in this sandbox right now."""
    actions: list[Action] = []
    deployments = sorted(
        state.objects("Deployment"), key=lambda d: (d["metadata"].get("namespace", ""), d["metadata"]["name"])
    )
    for deployment in deployments:
        actions.extend(plan_deployment(state, deployment, now=now))
    return actions


def plan_deployment(state: ClusterState, deployment: dict, *, now: datetime) -> list[Action]:
    if deployment["metadata"].get("deletionTimestamp"):
        return []
    return _Sync(state, deployment, now).run()


# --- pure helpers -----------------------------------------------------------------------------


def pod_template_hash(template: dict, collision_count: int | None = None) -> str:
    """A stable hash of a pod template, shaped like upstream's `ComputeHash`: FNV-32a over the
    template (canonical JSON here, Go's object dump upstream) and the collision count as 8
    little-endian bytes, its decimal digits mapped onto the safe alphabet."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += struct.pack("<Q", collision_count & 0xFFFFFFFF)
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(HASH_ALPHABET[ord(digit) % len(HASH_ALPHABET)] for digit in str(value))


def replica_set_name(deployment_name: str, template_hash: str) -> str:
    """`<deployment>-<hash>`, the deployment name shortened to keep within 253 characters."""
    room = DNS1123_SUBDOMAIN_MAX - 1 - len(template_hash)
    return f"{deployment_name[:room]}-{template_hash}"


def scaled_value(value: int | str | None, total: int, *, round_up: bool) -> int:
    """An IntOrString: an int as is, a percentage of `total` rounded up or down."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        share = int(value[:-1]) * total
        return -(-share // 100) if round_up else share // 100
    return 0


def resolve_fenceposts(max_surge: int | str | None, max_unavailable: int | str | None, desired: int) -> tuple[int, int]:
    """maxSurge rounds up, maxUnavailable down; both 0 would never progress, so unavailable is 1."""
    surge = scaled_value(max_surge, desired, round_up=True)
    unavailable = scaled_value(max_unavailable, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def equal_ignore_hash(template_a: dict, template_b: dict) -> bool:
    """Whether two pod templates are the same apart from the pod-template-hash label."""
    return _without_hash(template_a) == _without_hash(template_b)


def _without_hash(template: dict) -> dict:
    template = copy.deepcopy(template or {})
    metadata = template.get("metadata") or {}
    labels = metadata.get("labels")
    if isinstance(labels, dict):
        labels.pop(UNIQUE_LABEL, None)
        if not labels:
            metadata.pop("labels")
    return template


def template_change(old: dict, new: dict) -> str:
    """What changed from one pod template to the next, in words: `image nginx:1.27 → nginx:1.28`,
    `env of container web`, `container log added`, `volumes`, `labels`."""
    old, new = _without_hash(old), _without_hash(new)
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    old_containers = {c.get("name"): c for c in old_spec.get("containers") or []}
    new_containers = {c.get("name"): c for c in new_spec.get("containers") or []}
    changes: list[str] = []
    for name, container in new_containers.items():
        before = old_containers.get(name)
        if before is None:
            changes.append(f"container {name} added")
        elif before.get("image") != container.get("image"):
            changes.append(f"image {before.get('image')} → {container.get('image')}")
        elif before != container:
            fields = sorted(key for key in {*before, *container} if before.get(key) != container.get(key))
            changes.append(f"{listed(fields)} of container {name}")
    changes += [f"container {name} removed" for name in old_containers if name not in new_containers]
    changes += sorted(key for key in {*old_spec, *new_spec} - {"containers"} if old_spec.get(key) != new_spec.get(key))
    old_metadata, new_metadata = old.get("metadata") or {}, new.get("metadata") or {}
    changes += sorted(key for key in {*old_metadata, *new_metadata} if old_metadata.get(key) != new_metadata.get(key))
    return listed(changes)


def revision_of(rs: dict) -> int | None:
    """The revision annotation as a number; 0 when missing, None when it is not a number."""
    value = (rs["metadata"].get("annotations") or {}).get(REVISION)
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        return None


def _replicas(rs: dict) -> int:
    return rs["spec"].get("replicas", 1)


def _status(rs: dict | None, key: str) -> int:
    return ((rs or {}).get("status") or {}).get(key, 0)


def _annotation_int(rs: dict, key: str) -> int | None:
    """A non-negative int32 annotation, or None."""
    value = (rs["metadata"].get("annotations") or {}).get(key)
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number <= MAX_INT32 else None


def _pods_are(count: int) -> str:
    return "pod is" if count == 1 else "pods are"


def _active(replica_sets: list[dict | None]) -> list[dict]:
    return [rs for rs in replica_sets if rs is not None and _replicas(rs) > 0]


def get_condition(status: dict, kind: str) -> dict | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def set_condition(status: dict, condition: dict) -> None:
    """Upstream `SetDeploymentCondition`: nothing when status and reason are unchanged; the
    transition time kept when only the reason changes; the condition moves to the end."""
    current = get_condition(status, condition["type"])
    if (
        current is not None
        and current.get("status") == condition["status"]
        and current.get("reason") == condition["reason"]
    ):
        return
    if current is not None and current.get("status") == condition["status"]:
        condition["lastTransitionTime"] = current.get("lastTransitionTime")
    remove_condition(status, condition["type"])
    status["conditions"] = [*status.get("conditions", []), condition]


def remove_condition(status: dict, kind: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


# --- one Deployment, one pass -----------------------------------------------------------------


class _Sync:
    """Upstream's syncDeployment for one Deployment, on copies; `actions()` turns them into writes."""

    def __init__(self, state: ClusterState, deployment: dict, now: datetime) -> None:
        self.state = state
        self.d = deployment
        self.now = now
        self.name = deployment["metadata"]["name"]
        self.namespace = deployment["metadata"].get("namespace", "")
        self.spec = deployment["spec"]
        self.replicas = self.spec.get("replicas", 1)
        self.stored_status = deployment.get("status") or {}
        # d.Status as the current step reads it: the stored status, then what each step wrote.
        self.status = copy.deepcopy(self.stored_status)
        self.step_status: dict | None = None  # what the current step writes
        self.revision = (deployment["metadata"].get("annotations") or {}).get(REVISION)
        self.rs_list: list[dict] = []
        self.released: list[dict] = []
        self.originals: dict[str, dict] = {}
        self.created: set[str] = set()
        self.spec_changed: set[str] = set()
        self.changed_order: list[str] = []
        self.events: dict[str, list[Event]] = {}
        self.deletions: dict[str, Delete] = {}
        self.whys: dict[str, tuple[int, str]] = {}  # each changed ReplicaSet's strongest reason

    # --- the pass ---

    def run(self) -> list[Action]:
        self.rs_list = self.claim_replica_sets()
        pod_map = self.pod_map()
        self.check_paused_conditions()
        # Upstream takes one step per sync and is synced again at once by the writes it made
        # (a ReplicaSet scaled, its own status); with nothing else changed, that next sync reads
        # what these copies hold. Taking the steps here until one changes nothing leaves the next
        # pass nothing to do.
        for _ in range(MAX_STEPS_PER_PASS):
            before = (self.sizes(), copy.deepcopy(self.status), list(self.deletions))
            self.step(pod_map)
            if (self.sizes(), self.status, list(self.deletions)) == before:
                break
        return self.actions()

    def step(self, pod_map: dict[str, list[dict]]) -> None:
        """One upstream `syncDeployment` after the claim and the paused conditions."""
        self.step_status = None
        if self.spec.get("paused") or self.is_scaling_event():
            self.sync()
        elif self.strategy == "Recreate":
            self.rollout_recreate(pod_map)
        else:
            self.rollout_rolling()
        if self.step_status is not None:
            self.status = self.step_status

    def sizes(self) -> list[tuple[str, int]]:
        return [(rs["metadata"]["name"], _replicas(rs)) for rs in self.rs_list]

    def actions(self) -> list[Action]:
        actions: list[Action] = []
        working = {rs["metadata"]["name"]: rs for rs in [*self.rs_list, *self.released]}
        for name in self.changed_order:
            if name in self.created:
                actions.append(Create(working[name], why=self.created_why(working[name])))
                actions.extend(self.events.get(name, []))
                continue
            original = self.originals[name]
            patch = merge_patch(original, working[name])
            if patch:
                actions.append(
                    Patch(
                        "apps/v1",
                        "ReplicaSet",
                        self.namespace,
                        name,
                        patch,
                        resource_version=original["metadata"].get("resourceVersion"),
                        why=self.whys[name][1],
                    )
                )
            actions.extend(self.events.get(name, []))
        actions.extend(self.deletions.values())
        final = self.status
        if final != self.stored_status:
            actions.append(
                Patch(
                    "apps/v1",
                    "Deployment",
                    self.namespace,
                    self.name,
                    {"status": merge_patch(self.stored_status, final)},
                    subresource="status",
                    resource_version=self.d["metadata"].get("resourceVersion"),
                    why=self.status_why(final),
                )
            )
        stored_revision = (self.d["metadata"].get("annotations") or {}).get(REVISION)
        if self.revision is not None and self.revision != stored_revision:
            actions.append(
                Patch(
                    "apps/v1",
                    "Deployment",
                    self.namespace,
                    self.name,
                    {"metadata": {"annotations": {REVISION: self.revision}}},
                    why=f"Deployment {self.name}'s pod template is now revision {self.revision}",
                )
            )
        return actions

    # --- why, in words ---

    def template_news(self) -> str | None:
        """`Deployment web: new pod template (image nginx:1.27 → nginx:1.28)`, against the
        template of the latest old ReplicaSet; None when there is no old one."""
        template = self.spec.get("template") or {}
        old = [rs for rs in self.rs_list if not equal_ignore_hash(rs["spec"].get("template") or {}, template)]
        if not old:
            return None
        latest = max(old, key=lambda rs: (revision_of(rs) or 0, *self.by_creation(rs)))
        change = template_change(latest["spec"].get("template") or {}, template)
        return f"Deployment {self.name}: new pod template" + (f" ({change})" if change else "")

    def created_why(self, rs: dict) -> str:
        size = f"{rs['metadata']['name']} with {counted(_replicas(rs), 'pod')}"
        news = self.template_news()
        if news is None:
            return shortened(f"Deployment {self.name} has no ReplicaSet for its pod template: creating {size}")
        return shortened(f"{news}: creating ReplicaSet {size}")

    def wants(self) -> str:
        """`Deployment web wants 3 pods` (`… (paused)` while paused)."""
        paused = " (paused)" if self.spec.get("paused") else ""
        return f"Deployment {self.name} wants {counted(self.replicas, 'pod')}{paused}"

    def explain(self, rs: dict, why: str, strength: int) -> None:
        name = rs["metadata"]["name"]
        if strength >= self.whys.get(name, (NOTE, ""))[0]:
            self.whys[name] = (strength, shortened(why))

    def status_why(self, status: dict) -> str:
        progressing = get_condition(status, PROGRESSING) or {}
        stored = get_condition(self.stored_status, PROGRESSING) or {}
        if progressing.get("reason") == PROGRESS_DEADLINE_EXCEEDED != stored.get("reason"):
            deadline = self.spec.get("progressDeadlineSeconds")
            return f"Deployment {self.name} made no progress for {deadline} s: marking it ProgressDeadlineExceeded"
        counts = (
            f"{counted(status.get('replicas', 0), 'pod')}, {status.get('updatedReplicas', 0)} updated, "
            f"{status.get('availableReplicas', 0)} available"
        )
        return f"Deployment {self.name} has {counts}: status updated"

    @property
    def strategy(self) -> str:
        return (self.spec.get("strategy") or {}).get("type") or "RollingUpdate"

    @property
    def rolling_update(self) -> dict:
        return (self.spec.get("strategy") or {}).get("rollingUpdate") or {}

    def max_surge(self) -> int:
        if self.strategy != "RollingUpdate":
            return 0
        return resolve_fenceposts(
            self.rolling_update.get("maxSurge"), self.rolling_update.get("maxUnavailable"), self.replicas
        )[0]

    def max_unavailable(self) -> int:
        if self.strategy != "RollingUpdate" or self.replicas == 0:
            return 0
        unavailable = resolve_fenceposts(
            self.rolling_update.get("maxSurge"), self.rolling_update.get("maxUnavailable"), self.replicas
        )[1]
        return min(unavailable, self.replicas)

    def has_progress_deadline(self) -> bool:
        return self.spec.get("progressDeadlineSeconds") not in (None, MAX_INT32)

    def new_condition(self, kind: str, status: str, reason: str, message: str) -> dict:
        moment = format_time(self.now)
        return {
            "type": kind,
            "status": status,
            "lastUpdateTime": moment,
            "lastTransitionTime": moment,
            "reason": reason,
            "message": message,
        }

    def by_creation(self, rs: dict) -> tuple:
        return (parse_time(rs["metadata"].get("creationTimestamp")) or self.now, rs["metadata"]["name"])

    # --- bookkeeping of the copies ---

    def mark_changed(self, rs: dict, why: str, strength: int, *, spec: bool = False) -> None:
        name = rs["metadata"]["name"]
        self.explain(rs, why, strength)
        if name not in self.changed_order:
            self.changed_order.append(name)
        if spec:
            self.spec_changed.add(name)

    def record_event(self, rs: dict, message: str) -> None:
        self.events.setdefault(rs["metadata"]["name"], []).append(
            Event(ref(self.d), "ScalingReplicaSet", message, source=SOURCE)
        )

    # --- claiming ---

    def claim_replica_sets(self) -> list[dict]:
        """Upstream `getReplicaSetsForDeployment`: copies of the ReplicaSets this Deployment controls."""
        selector = selector_from_match_labels(self.spec.get("selector"))
        candidates = sorted(self.state.objects("ReplicaSet", self.namespace), key=self.by_creation)
        claimed, to_adopt, to_release = claim(self.d, selector, candidates)
        adopted = {rs["metadata"]["uid"] for rs in to_adopt}
        working = []
        for rs in claimed:
            self.originals[rs["metadata"]["name"]] = rs
            copied = copy.deepcopy(rs)
            if rs["metadata"]["uid"] in adopted:
                copied["metadata"]["ownerReferences"] = adopted_owner_references(rs, self.d)
                self.mark_changed(copied, claim_why(rs, self.d, adopting=True), CLAIM)
            working.append(copied)
        for rs in to_release:
            self.originals[rs["metadata"]["name"]] = rs
            copied = copy.deepcopy(rs)
            references = released_owner_references(rs, self.d)
            if references:
                copied["metadata"]["ownerReferences"] = references
            else:
                copied["metadata"].pop("ownerReferences")
            self.released.append(copied)
            self.mark_changed(copied, claim_why(rs, self.d, adopting=False), CLAIM)
        return working

    def pod_map(self) -> dict[str, list[dict]]:
        """Upstream `getPodMapForDeployment`: the Deployment's pods by the uid of their ReplicaSet."""
        selector = selector_from_match_labels(self.spec.get("selector"))
        pods: dict[str, list[dict]] = {rs["metadata"]["uid"]: [] for rs in self.rs_list}
        for pod in self.state.objects("Pod", self.namespace):
            owner = controller_ref(pod)
            if owner and owner.get("uid") in pods and labels_match(selector, pod["metadata"].get("labels")):
                pods[owner["uid"]].append(pod)
        return pods

    # --- pausing and scaling ---

    def check_paused_conditions(self) -> None:
        if not self.has_progress_deadline():
            return
        condition = get_condition(self.status, PROGRESSING)
        if condition is not None and condition.get("reason") == PROGRESS_DEADLINE_EXCEEDED:
            return  # a reported lack of progress is not overwritten
        paused_noted = condition is not None and condition.get("reason") == DEPLOYMENT_PAUSED
        if self.spec.get("paused") and not paused_noted:
            set_condition(
                self.status, self.new_condition(PROGRESSING, "Unknown", DEPLOYMENT_PAUSED, "Deployment is paused")
            )
        elif not self.spec.get("paused") and paused_noted:
            set_condition(
                self.status, self.new_condition(PROGRESSING, "Unknown", DEPLOYMENT_RESUMED, "Deployment is resumed")
            )

    def is_scaling_event(self) -> bool:
        new_rs, old = self.get_all_replica_sets(create=False)
        for rs in _active([*old, new_rs]):
            desired = _annotation_int(rs, DESIRED_REPLICAS)
            if desired is not None and desired != self.replicas:
                return True
        return False

    def sync(self) -> None:
        """Paused or a scaling event: scale, clean up while paused, write the counts."""
        new_rs, old = self.get_all_replica_sets(create=False)
        self.scale(new_rs, old)
        if self.spec.get("paused"):
            self.cleanup(old)
        self.step_status = self.calculate_status([*old, new_rs], new_rs)

    def scale(self, new_rs: dict | None, old: list[dict]) -> None:
        latest = self.find_active_or_latest(new_rs, old)
        if latest is not None:
            if _replicas(latest) != self.replicas:
                self.scale_and_record(latest, self.replicas, self.wants())
            return
        if self.is_saturated(new_rs):
            available = f"new ReplicaSet {new_rs['metadata']['name']} has all {counted(self.replicas, 'pod')} available"
            for rs in _active(old):
                self.scale_and_record(rs, 0, f"Deployment {self.name}'s {available}", "old")
            return
        if self.strategy != "RollingUpdate":
            return
        self.scale_proportionally(_active([*old, new_rs]))

    def scale_proportionally(self, active: list[dict]) -> None:
        """Share added or removed replicas among the active ReplicaSets in proportion to their size
        (against the `max-replicas` they were sized for); what rounding leaves goes to the largest."""
        allowed = self.replicas + self.max_surge() if self.replicas > 0 else 0
        to_add = allowed - sum(_replicas(rs) for rs in active)
        if to_add > 0:  # largest first, newer first among equals
            active.sort(key=lambda rs: self.by_creation(rs), reverse=True)
            active.sort(key=_replicas, reverse=True)
        elif to_add < 0:  # largest first, older first among equals
            active.sort(key=self.by_creation)
            active.sort(key=_replicas, reverse=True)
        added = 0
        sizes: dict[str, int] = {}
        for rs in active:
            proportion = self.proportion(rs, to_add, added) if to_add else 0
            sizes[rs["metadata"]["name"]] = _replicas(rs) + proportion
            added += proportion
        for index, rs in enumerate(active):
            name = rs["metadata"]["name"]
            if index == 0 and to_add:
                sizes[name] = max(sizes[name] + to_add - added, 0)
            self.scale_replica_set(rs, sizes[name], f"{self.wants()} mid-rollout, shared in proportion")

    def proportion(self, rs: dict, to_add: int, added: int) -> int:
        """Upstream `GetReplicaSetProportion`."""
        if _replicas(rs) == 0 or to_add == added:
            return 0
        fraction = self.fraction(rs)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    def fraction(self, rs: dict) -> int:
        if self.replicas == 0:
            return -_replicas(rs)
        sized_for = _annotation_int(rs, MAX_REPLICAS) or self.status.get("replicas", 0)
        if not sized_for:
            return 0
        # Go's math.Round: halves away from zero.
        size = math.floor(_replicas(rs) * (self.replicas + self.max_surge()) / sized_for + 0.5)
        return size - _replicas(rs)

    def find_active_or_latest(self, new_rs: dict | None, old: list[dict]) -> dict | None:
        if new_rs is None and not old:
            return None
        newest_first = sorted(old, key=self.by_creation, reverse=True)
        active = _active([*newest_first, new_rs])
        if not active:
            return new_rs if new_rs is not None else newest_first[0]
        return active[0] if len(active) == 1 else None

    def is_saturated(self, rs: dict | None) -> bool:
        if rs is None:
            return False
        desired = _annotation_int(rs, DESIRED_REPLICAS)
        return desired == self.replicas == _replicas(rs) and _status(rs, "availableReplicas") == self.replicas

    def scale_and_record(self, rs: dict, new_scale: int, cause: str, role: str = "") -> bool:
        """Upstream `scaleReplicaSetAndRecordEvent`: nothing when the size is already right."""
        if _replicas(rs) == new_scale:
            return False
        return self.scale_replica_set(rs, new_scale, cause, role)

    def scale_replica_set(self, rs: dict, new_scale: int, cause: str, role: str = "") -> bool:
        """Set the size and the replicas annotations; an Event when the size changes. The write
        says why: `<cause>: scaling <role> ReplicaSet web-7d9f down to 1`."""
        old_scale = _replicas(rs)
        annotations_changed = self.set_replicas_annotations(rs)
        direction = "up" if old_scale < new_scale else "down"
        subject = f"{role} ReplicaSet" if role else "ReplicaSet"
        if old_scale == new_scale:
            if annotations_changed:
                self.mark_changed(rs, f"{cause}: noting it on {subject} {rs['metadata']['name']}", NOTE)
            return False
        rs["spec"]["replicas"] = new_scale
        self.mark_changed(
            rs, f"{cause}: scaling {subject} {rs['metadata']['name']} {direction} to {new_scale}", SCALE, spec=True
        )
        self.record_event(
            rs, f"Scaled {direction} replica set {rs['metadata']['name']} from {old_scale} to {new_scale}"
        )
        return True

    def set_replicas_annotations(self, rs: dict) -> bool:
        annotations = rs["metadata"].setdefault("annotations", {})
        wanted = {DESIRED_REPLICAS: str(self.replicas), MAX_REPLICAS: str(self.replicas + self.max_surge())}
        changed = any(annotations.get(key) != value for key, value in wanted.items())
        annotations.update(wanted)
        return changed

    # --- the new ReplicaSet and revisions ---

    def find_new_replica_set(self) -> dict | None:
        template = self.spec.get("template") or {}
        for rs in sorted(self.rs_list, key=self.by_creation):
            if equal_ignore_hash(rs["spec"].get("template") or {}, template):
                return rs
        return None

    def get_all_replica_sets(self, *, create: bool) -> tuple[dict | None, list[dict]]:
        """Upstream `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (created when asked and
        missing) with its revision brought up to date, and the old ones."""
        new_rs = self.find_new_replica_set()
        old = [rs for rs in self.rs_list if rs is not new_rs]
        known = [r for r in (revision_of(rs) for rs in old) if r is not None]
        new_revision = str(max(known, default=0) + 1)
        if new_rs is not None:
            revision = (new_rs["metadata"].get("annotations") or {}).get(REVISION)
            changed = self.set_new_replica_set_annotations(new_rs, new_revision, exists=True)
            subject = f"Deployment {self.name}'s pod template is ReplicaSet {new_rs['metadata']['name']}'s"
            min_ready_seconds = self.spec.get("minReadySeconds", 0)
            if new_rs["spec"].get("minReadySeconds", 0) != min_ready_seconds:
                if min_ready_seconds:
                    new_rs["spec"]["minReadySeconds"] = min_ready_seconds
                else:
                    new_rs["spec"].pop("minReadySeconds")
                why = f"{subject}: setting its minReadySeconds to {min_ready_seconds}, as the Deployment's"
                self.mark_changed(new_rs, why, NOTE, spec=True)
            elif changed and (new_rs["metadata"].get("annotations") or {}).get(REVISION) != revision:
                self.mark_changed(new_rs, f"{subject}: making it revision {new_revision}", NOTE)
            elif changed:
                self.mark_changed(new_rs, f"{subject}: copying the Deployment's annotations to it", NOTE)
            self.revision = (new_rs["metadata"].get("annotations") or {}).get(REVISION, self.revision)
            if self.has_progress_deadline() and get_condition(self.status, PROGRESSING) is None:
                message = f'Found new replica set "{new_rs["metadata"]["name"]}"'
                set_condition(self.status, self.new_condition(PROGRESSING, "True", FOUND_NEW_REPLICA_SET, message))
            return new_rs, old
        if not create:
            return None, old
        return self.create_new_replica_set(old, new_revision), old

    def create_new_replica_set(self, old: list[dict], new_revision: str) -> dict:
        template = copy.deepcopy(self.spec.get("template") or {})
        template_hash = pod_template_hash(template, self.status.get("collisionCount"))
        name = replica_set_name(self.name, template_hash)
        while self.state.get("ReplicaSet", self.namespace, name) is not None:
            # Taken by a ReplicaSet with another template (or not ours): a hash collision. Upstream
            # bumps collisionCount and fails the sync; the retry hashes with the new count.
            self.status["collisionCount"] = self.status.get("collisionCount", 0) + 1
            template_hash = pod_template_hash(template, self.status["collisionCount"])
            name = replica_set_name(self.name, template_hash)
        labels = {**((template.get("metadata") or {}).get("labels") or {}), UNIQUE_LABEL: template_hash}
        template.setdefault("metadata", {})["labels"] = labels
        selector = copy.deepcopy(self.spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), UNIQUE_LABEL: template_hash}
        spec: dict = {"replicas": 0}
        if self.spec.get("minReadySeconds"):
            spec["minReadySeconds"] = self.spec["minReadySeconds"]
        spec.update(selector=selector, template=template)
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": dict(labels),
                "annotations": {},
                "ownerReferences": [owner_reference(self.d)],
            },
            "spec": spec,
        }
        rs["spec"]["replicas"] = self.new_rs_new_replicas([*old, rs], rs)
        self.set_new_replica_set_annotations(rs, new_revision, exists=False)
        self.created.add(name)
        self.rs_list.append(rs)
        self.mark_changed(rs, "", NOTE)  # a Create says why from its final size: `created_why`
        if rs["spec"]["replicas"] > 0:
            self.record_event(rs, f"Scaled up replica set {name} from 0 to {rs['spec']['replicas']}")
        self.revision = new_revision
        if self.has_progress_deadline():
            message = f'Created new replica set "{name}"'
            set_condition(self.status, self.new_condition(PROGRESSING, "True", NEW_REPLICA_SET_CREATED, message))
        return rs

    def set_new_replica_set_annotations(self, rs: dict, new_revision: str, *, exists: bool) -> bool:
        """Upstream `SetNewReplicaSetAnnotations`: copy the Deployment's annotations, raise the
        revision (keeping the one it replaces in `revision-history`), size annotations on creation."""
        annotations = dict(rs["metadata"].get("annotations") or {})
        changed = self._updated_annotations(annotations, new_revision)
        if changed:
            rs["metadata"]["annotations"] = annotations
        if not exists and self.set_replicas_annotations(rs):
            changed = True
        return changed

    def _updated_annotations(self, annotations: dict, new_revision: str) -> bool:
        changed = False
        for key, value in (self.d["metadata"].get("annotations") or {}).items():
            if key not in NOT_COPIED and annotations.get(key) != value:
                annotations[key] = value
                changed = True
        old_revision = annotations.get(REVISION)
        try:
            old_number = int(old_revision) if old_revision else 0
        except ValueError:
            return False
        if old_number < int(new_revision):
            annotations[REVISION] = new_revision
            changed = True
            if old_revision is not None:
                self.append_revision_history(annotations, old_revision)
        return changed

    @staticmethod
    def append_revision_history(annotations: dict, old_revision: str) -> None:
        history = annotations.get(REVISION_HISTORY, "")
        if not history:
            annotations[REVISION_HISTORY] = old_revision
            return
        revisions = history.split(",")
        total = len(history) + len(old_revision) + 1
        start = 0
        while total > MAX_REVISION_HISTORY_CHARS and start < len(revisions):
            total -= len(revisions[start]) + 1
            start += 1
        if total <= MAX_REVISION_HISTORY_CHARS:
            annotations[REVISION_HISTORY] = ",".join([*revisions[start:], old_revision])

    def new_rs_new_replicas(self, all_rs: list[dict], new_rs: dict) -> int:
        """Upstream `NewRSNewReplicas`: as far up as maxSurge allows (Recreate: all at once)."""
        if self.strategy != "RollingUpdate":
            return self.replicas
        surge = scaled_value(self.rolling_update.get("maxSurge"), self.replicas, round_up=True)
        current = sum(_replicas(rs) for rs in all_rs)
        most = self.replicas + surge
        if current >= most:
            return _replicas(new_rs)
        return _replicas(new_rs) + min(most - current, self.replicas - _replicas(new_rs))

    # --- rolling update ---

    def rollout_rolling(self) -> None:
        new_rs, old = self.get_all_replica_sets(create=True)
        all_rs = [*old, new_rs]
        if self.reconcile_new_replica_set(all_rs, new_rs):
            self.sync_rollout_status(all_rs, new_rs)
            return
        if self.reconcile_old_replica_sets(all_rs, _active(old), new_rs):
            self.sync_rollout_status(all_rs, new_rs)
            return
        if self.deployment_complete(self.status):
            self.cleanup(old)
        self.sync_rollout_status(all_rs, new_rs)

    def reconcile_new_replica_set(self, all_rs: list[dict], new_rs: dict) -> bool:
        if _replicas(new_rs) == self.replicas:
            return False
        if _replicas(new_rs) > self.replicas:
            return self.scale_and_record(new_rs, self.replicas, self.wants(), "new")
        cause = self.template_news() or self.wants()
        return self.scale_and_record(new_rs, self.new_rs_new_replicas(all_rs, new_rs), cause, "new")

    def reconcile_old_replica_sets(self, all_rs: list[dict], old: list[dict], new_rs: dict) -> bool:
        """Scale old ReplicaSets down without going below `replicas - maxUnavailable` available
        pods, counting the new ReplicaSet's unavailable pods as lost already."""
        if sum(_replicas(rs) for rs in old) == 0:
            return False
        min_available = self.replicas - self.max_unavailable()
        new_unavailable = _replicas(new_rs) - _status(new_rs, "availableReplicas")
        max_scaled_down = sum(_replicas(rs) for rs in all_rs) - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        cleaned = self.cleanup_unhealthy_replicas(old, max_scaled_down)
        scaled = self.scale_down_old_replica_sets(new_rs, old)
        return cleaned + scaled > 0

    def cleanup_unhealthy_replicas(self, old: list[dict], most: int) -> int:
        """Scale away old pods that are not available anyway (not ready, crash-looping, …)."""
        total = 0
        for rs in sorted(old, key=self.by_creation):
            if total >= most:
                break
            unhealthy = _replicas(rs) - _status(rs, "availableReplicas")
            if _replicas(rs) == 0 or unhealthy <= 0:
                continue
            count = min(most - total, unhealthy)
            cause = f"rolling update of Deployment {self.name}: {unhealthy} old {_pods_are(unhealthy)} not ready"
            self.scale_and_record(rs, _replicas(rs) - count, cause, "old")
            total += count
        return total

    def scale_down_old_replica_sets(self, new_rs: dict, old: list[dict]) -> int:
        min_available = self.replicas - self.max_unavailable()
        available = sum(_status(rs, "availableReplicas") for rs in [*old, new_rs])
        if available <= min_available:
            return 0
        wanted = available - min_available
        total = 0
        for rs in sorted(old, key=self.by_creation):
            if total >= wanted:
                break
            if _replicas(rs) == 0:
                continue
            count = min(_replicas(rs), wanted - total)
            counts = (
                f"{_status(new_rs, 'availableReplicas')} of {self.replicas} new pods ready, "
                f"{available} available ({min_available} must stay)"
            )
            cause = f"rolling update of Deployment {self.name}: {counts}"
            self.scale_and_record(rs, _replicas(rs) - count, cause, "old")
            total += count
        return total

    # --- recreate ---

    def rollout_recreate(self, pod_map: dict[str, list[dict]]) -> None:
        new_rs, old = self.get_all_replica_sets(create=False)
        all_rs = [*old, new_rs]
        scaled_down = False
        cause = f"{self.template_news() or self.wants()}, strategy Recreate"
        for rs in _active(old):
            scaled_down = self.scale_and_record(rs, 0, cause, "old") or scaled_down
        if scaled_down or self.old_pods_running(new_rs, old, pod_map):
            self.sync_rollout_status(all_rs, new_rs)
            return
        if new_rs is None:
            new_rs, old = self.get_all_replica_sets(create=True)
            all_rs = [*old, new_rs]
        self.scale_and_record(new_rs, self.replicas, f"{self.wants()} and its old pods are gone (Recreate)", "new")
        if self.deployment_complete(self.status):
            self.cleanup(old)
        self.sync_rollout_status(all_rs, new_rs)

    @staticmethod
    def old_pods_running(new_rs: dict | None, old: list[dict], pod_map: dict[str, list[dict]]) -> bool:
        """Whether any old ReplicaSet reports pods, or any of its pods has not finished (terminating
        pods included: Recreate waits until they are gone)."""
        if sum(_status(rs, "replicas") for rs in old) > 0:
            return True
        new_uid = (new_rs or {}).get("metadata", {}).get("uid")
        return any(not is_terminal(pod) for uid, pods in pod_map.items() if uid != new_uid for pod in pods)

    # --- history ---

    def cleanup(self, old: list[dict]) -> None:
        """Delete the oldest ReplicaSets beyond `revisionHistoryLimit`, only those with no pods
        whose latest spec their controller has seen."""
        limit = self.spec.get("revisionHistoryLimit")
        if limit is None or limit == MAX_INT32:
            return
        alive = [rs for rs in old if not rs["metadata"].get("deletionTimestamp")]
        excess = len(alive) - limit
        if excess <= 0:
            return
        alive.sort(key=lambda rs: (revision_of(rs) or 0, *self.by_creation(rs)))
        kept = (
            f"Deployment {self.name} keeps {counted(limit, 'old ReplicaSet')} (revisionHistoryLimit), has {len(alive)}"
        )
        for rs in alive[:excess]:
            generation = rs["metadata"].get("generation", 0) + (1 if rs["metadata"]["name"] in self.spec_changed else 0)
            if _status(rs, "replicas") or _replicas(rs) or generation > _status(rs, "observedGeneration"):
                continue
            metadata = rs["metadata"]
            self.deletions[metadata["name"]] = Delete(
                "apps/v1",
                "ReplicaSet",
                self.namespace,
                metadata["name"],
                uid=metadata["uid"],
                propagation="Background",
                why=f"{kept}: deleting {metadata['name']} (revision {revision_of(rs)}, no pods)",
            )

    # --- status ---

    def deployment_complete(self, status: dict) -> bool:
        return (
            status.get("updatedReplicas", 0) == self.replicas
            and status.get("replicas", 0) == self.replicas
            and status.get("availableReplicas", 0) == self.replicas
            and status.get("observedGeneration", 0) >= self.d["metadata"].get("generation", 0)
        )

    def calculate_status(self, all_rs: list[dict | None], new_rs: dict | None) -> dict:
        """Upstream `calculateStatus`, as the API serialises it (zero counts omitted)."""
        replica_sets = [rs for rs in all_rs if rs is not None]
        available = sum(_status(rs, "availableReplicas") for rs in replica_sets)
        counts = {
            "observedGeneration": self.d["metadata"].get("generation", 0),
            "replicas": sum(_status(rs, "replicas") for rs in replica_sets),
            "updatedReplicas": _status(new_rs, "replicas"),
            "readyReplicas": sum(_status(rs, "readyReplicas") for rs in replica_sets),
            "availableReplicas": available,
            "unavailableReplicas": max(sum(_replicas(rs) for rs in replica_sets) - available, 0),
        }
        status: dict = {key: value for key, value in counts.items() if value}
        terminating = self.terminating_replicas(replica_sets)
        if terminating is not None:
            status["terminatingReplicas"] = terminating
        if self.status.get("conditions"):
            status["conditions"] = copy.deepcopy(self.status["conditions"])
        if self.status.get("collisionCount") is not None:
            status["collisionCount"] = self.status["collisionCount"]
        if available >= self.replicas - self.max_unavailable():
            condition = self.new_condition(
                AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE, "Deployment has minimum availability."
            )
        else:
            condition = self.new_condition(
                AVAILABLE, "False", MINIMUM_REPLICAS_UNAVAILABLE, "Deployment does not have minimum availability."
            )
        set_condition(status, condition)
        return status

    @staticmethod
    def terminating_replicas(replica_sets: list[dict]) -> int | None:
        """The sum of the ReplicaSets' terminatingReplicas; a ReplicaSet not yet seen by its
        controller counts 0, one seen but not reporting it makes the sum unknown."""
        total = 0
        for rs in replica_sets:
            status = rs.get("status") or {}
            if "terminatingReplicas" in status:
                total += status["terminatingReplicas"]
            elif status.get("observedGeneration"):
                return None
        return total

    def sync_rollout_status(self, all_rs: list[dict | None], new_rs: dict | None) -> None:
        """Upstream `syncRolloutStatus`: the counts, then the Progressing condition — complete,
        progressing (the condition's lastUpdateTime moves), or timed out."""
        status = self.calculate_status(all_rs, new_rs)
        if not self.has_progress_deadline():
            remove_condition(status, PROGRESSING)
        current = get_condition(self.status, PROGRESSING)
        complete = (
            status.get("replicas", 0) == status.get("updatedReplicas", 0)
            and current is not None
            and current.get("reason") == NEW_REPLICA_SET_AVAILABLE
        )
        if self.has_progress_deadline() and not complete:
            subject = f'ReplicaSet "{new_rs["metadata"]["name"]}"' if new_rs else f'Deployment "{self.name}"'
            if self.deployment_complete(status):
                message = f"{subject} has successfully progressed."
                set_condition(status, self.new_condition(PROGRESSING, "True", NEW_REPLICA_SET_AVAILABLE, message))
            elif self.progressing(status):
                condition = self.new_condition(PROGRESSING, "True", REPLICA_SET_UPDATED, f"{subject} is progressing.")
                if current is not None:
                    if current.get("status") == "True":
                        condition["lastTransitionTime"] = current.get("lastTransitionTime")
                    remove_condition(status, PROGRESSING)
                set_condition(status, condition)
            elif self.timed_out(status):
                message = f"{subject} has timed out progressing."
                set_condition(status, self.new_condition(PROGRESSING, "False", PROGRESS_DEADLINE_EXCEEDED, message))
        failure = self.replica_failure([rs for rs in all_rs if rs is not None], new_rs)
        if failure is not None:
            set_condition(status, failure)
        else:
            remove_condition(status, REPLICA_FAILURE)
        self.step_status = status

    def progressing(self, status: dict) -> bool:
        """Any progress since the status last written: more updated, fewer old, more ready or available."""
        old = self.status
        return (
            status.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
            or status.get("replicas", 0) - status.get("updatedReplicas", 0)
            < old.get("replicas", 0) - old.get("updatedReplicas", 0)
            or status.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or status.get("availableReplicas", 0) > old.get("availableReplicas", 0)
        )

    def timed_out(self, status: dict) -> bool:
        condition = get_condition(status, PROGRESSING)
        if condition is None or condition.get("reason") == NEW_REPLICA_SET_AVAILABLE:
            return False
        if condition.get("reason") == PROGRESS_DEADLINE_EXCEEDED:
            return True
        since = parse_time(condition.get("lastUpdateTime"))
        deadline = timedelta(seconds=self.spec["progressDeadlineSeconds"])
        return since is not None and since + deadline < self.now

    @staticmethod
    def replica_failure(all_rs: list[dict], new_rs: dict | None) -> dict | None:
        """A ReplicaSet's ReplicaFailure condition (the new one's first), as a Deployment condition."""
        for rs in [new_rs, *all_rs] if new_rs is not None else all_rs:
            for condition in (rs.get("status") or {}).get("conditions") or []:
                if condition.get("type") == REPLICA_FAILURE:
                    return {
                        "type": REPLICA_FAILURE,
                        "status": condition.get("status"),
                        "lastUpdateTime": condition.get("lastTransitionTime"),
                        "lastTransitionTime": condition.get("lastTransitionTime"),
                        "reason": condition.get("reason"),
                        "message": condition.get("message"),
                    }
        return None
