"""The thin half of every controller: perform planned actions through the store.

A planned action can lose a race (the object changed, vanished or already exists because
another pass got there first). That is normal for level-triggered controllers: the rest of the
plan is dropped too (it may describe or build on the failed write, like the Event after it) and
the next pass plans again from what is stored now. A Create the API server refuses (403 from an
admission plugin: a ResourceQuota used up, a LimitRange's bounds; or 422) is no race either:
the controller records it as upstream's does — the action's `refused` says how (a FailedCreate
Event, a ReplicaFailure condition), else a `FailedCreate` "Error creating: …" Event about its
owner — and the plan goes on without the Events that describe that create, the owner's later
creates and its other writes (they assumed the create). The outcome names the refused owners, so
that the manager holds their creates back (clusters.controllers.refusals). A refusal because the
namespace is being terminated is recorded by nobody, as upstream. Anything else is an error —
except for an Event the store refuses (say, in a namespace being terminated, where nothing new
may be made): as upstream's event recorder ("Server rejected event (will not retry!)"), it is
dropped and the plan goes on, since an Event only reports what the plan does. The Events are
recorded after the plan's writes, one batch per namespace, and runs of Creates of one kind (the
Events between them aside) go to the store together.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from dataclasses import dataclass, field

from django.utils import timezone

from clusters import errors, store
from clusters.controllers.actions import Action, Bind, Create, Delete, Event, Patch
from clusters.controllers.refusals import owner_of
from clusters.models import Sandbox, StoredObject
from clusters.objects.resources import resource_for_kind
from clusters.objects.times import format_time

log = logging.getLogger(__name__)
EVENTS = resource_for_kind("v1", "Event")
RACES = (errors.Conflict, errors.NotFound, errors.AlreadyExists)
# What the API server answers an object it will not take (admission plugins, validation).
REFUSALS = (errors.Forbidden, errors.Invalid)


@dataclass
class Outcome:
    applied: int = 0
    raced: int = 0
    # The owners (involvedObject references) whose create the API server refused.
    refused: list[dict] = field(default_factory=list)
    # The uids of the owners a create landed for.
    created_for: set[str] = field(default_factory=set)


def _resource(api_version: str, kind: str):
    resource = resource_for_kind(api_version, kind)
    if resource is None:
        raise ValueError(f"a planner asked for an unserved kind {api_version}/{kind}")
    return resource


def _stored_events(sandbox: Sandbox, namespace: str, uids: set[str]) -> list[dict]:
    """The namespace's Events about the objects with these uids, in name order; the match is done
    by the database, so recording an event does not decode every event of the namespace. An
    empty uid matches an involvedObject without one, as the field selector would."""
    if "" in uids:
        return store.objects_read(sandbox=sandbox, resource=EVENTS, namespace=namespace)
    rows = StoredObject.objects.filter(
        sandbox=sandbox,
        api_group=EVENTS.group,
        kind=EVENTS.kind,
        namespace=namespace,
        body__involvedObject__uid__in=sorted(uids),
    )
    return list(rows.order_by("name").values_list("body", flat=True))


_stamp_lock = threading.Lock()
_last_stamp = 0


def _event_stamp() -> int:
    """The event recorder's suffix: the time in nanoseconds, so that a name sorts as its Event
    happened (`kubectl get events` lists them by name); strictly increasing in this process."""
    global _last_stamp
    with _stamp_lock:
        _last_stamp = max(time.time_ns(), _last_stamp + 1)
        return _last_stamp


def _event_body(event: Event, namespace: str, now: str) -> dict:
    involved = event.involved
    return {
        "apiVersion": "v1",
        "kind": "Event",
        # Named as upstream's recorder names them: the object's name and the time in hex nanoseconds.
        "metadata": {"name": f"{involved.get('name', 'object')}.{_event_stamp():x}", "namespace": namespace},
        "involvedObject": involved,
        "reason": event.reason,
        "message": event.message,
        "type": event.type,
        "source": {"component": event.source} if event.source else {},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "reportingComponent": event.source,
        "reportingInstance": "",
    }


def _event_namespace(event: Event) -> str:
    return event.involved.get("namespace") or "default"


def events_record(sandbox: Sandbox, events: list[Event]) -> None:
    """Record Events of one namespace, folding each repeat into one object with a count, as the
    event recorder does; the new ones are created together. An Event the store refuses is
    dropped, as upstream's recorder does ("Server rejected event (will not retry!)")."""
    namespace = _event_namespace(events[0])
    now = format_time(timezone.now())
    stored: dict[tuple, dict] = {}
    for body in _stored_events(sandbox, namespace, {e.involved.get("uid", "") for e in events}):
        involved_uid = body["involvedObject"].get("uid", "")
        # The first in name order is the one a repeat folds into.
        stored.setdefault((involved_uid, body.get("reason"), body.get("message"), body.get("type")), body)
    new: dict[tuple, dict] = {}
    for event in events:
        key = (event.involved.get("uid", ""), event.reason, event.message, event.type)
        if key in new:
            new[key]["count"] += 1
        elif key in stored:
            existing = stored[key]
            patch = {"count": existing.get("count", 1) + 1, "lastTimestamp": now}
            stored[key] = store.object_patch(
                sandbox=sandbox,
                resource=EVENTS,
                namespace=namespace,
                name=existing["metadata"]["name"],
                patch=json.dumps(patch).encode(),
                content_type="application/merge-patch+json",
            )
        else:
            new[key] = _event_body(event, namespace, now)
    try:
        store.objects_create(sandbox=sandbox, resource=EVENTS, bodies=list(new.values()), namespace=namespace)
    except (errors.Forbidden, errors.Invalid) as rejected:
        if len(new) == 1:
            log.info("server rejected event %r (will not retry): %s", next(iter(new.values())), rejected)
            return
        for body in new.values():  # one refused Event does not take the others with it
            try:
                store.object_create(sandbox=sandbox, resource=EVENTS, body=body, namespace=namespace)
            except (errors.Forbidden, errors.Invalid) as one_rejected:
                log.info("server rejected event %r (will not retry): %s", body, one_rejected)


def _batch_key(action: Action) -> tuple | None:
    """Writes with one key, in a row but for the Events between them, go to the store together:
    Creates of one kind in one namespace whose admission does not read the store, by one writer
    for one reason; a scheduler pass's Binds."""
    match action:
        case Create(body=body) if body["kind"] not in store.ADMITTED_ONE_BY_ONE:
            namespace = body["metadata"].get("namespace")
            return ("Create", body["apiVersion"], body["kind"], namespace, action.by, action.why)
        case Bind():
            # Each binding keeps its own reason; those without one take the writer's.
            return ("Bind", action.by, bool(action.why))
    return None


def _batches(writes: list[tuple[int, Action]]):
    """Runs of (position in the plan, write) with one batch key; every other write alone."""
    batch: list[tuple[int, Action]] = []
    for position, action in writes:
        key = _batch_key(action)
        if batch and (key is None or key != _batch_key(batch[0][1])):
            yield batch
            batch = []
        batch.append((position, action))
    if batch:
        yield batch


def _perform(sandbox: Sandbox, batch: list[Action]) -> None:
    """One batch, attributed to the component that planned it (or, when the action does not say,
    to whoever is writing around it: a kubelet run)."""
    action = batch[0]
    ambient = store.current_writer()
    with store.writing_as(action.by or ambient.actor, action.why or ambient.reason):
        _perform_as_is(sandbox, batch)


def _perform_as_is(sandbox: Sandbox, batch: list[Action]) -> None:
    action = batch[0]
    match action:
        case Create(body=body) if len(batch) > 1:
            store.objects_create(
                sandbox=sandbox,
                resource=_resource(body["apiVersion"], body["kind"]),
                bodies=[a.body for a in batch],
                namespace=body["metadata"].get("namespace"),
            )
        case Create(body=body):
            resource = _resource(body["apiVersion"], body["kind"])
            store.object_create(
                sandbox=sandbox, resource=resource, body=body, namespace=body["metadata"].get("namespace")
            )
        case Patch():
            patch = dict(action.patch)
            if action.resource_version:
                patch["metadata"] = {**patch.get("metadata", {}), "resourceVersion": action.resource_version}
            store.object_patch(
                sandbox=sandbox,
                resource=_resource(action.api_version, action.kind),
                namespace=action.namespace,
                name=action.name,
                patch=json.dumps(patch).encode(),
                content_type="application/merge-patch+json",
                subresource=action.subresource,
            )
        case Bind():
            reason = store.current_writer().reason
            bindings = [
                store.Binding(a.namespace, a.name, a.node, list(a.conditions), a.resource_version, a.why or reason)
                for a in batch
            ]
            store.pods_bind(sandbox=sandbox, bindings=bindings)
        case Delete():
            store.object_delete(
                sandbox=sandbox,
                resource=_resource(action.api_version, action.kind),
                namespace=action.namespace,
                name=action.name,
                propagation=action.propagation,
                grace_period=action.grace_period,
                preconditions={"uid": action.uid} if action.uid else None,
            )
        case _:
            raise TypeError(f"not an action: {action!r}")


def _event_writer(source: str) -> str:
    """Events are written by their source; a kubelet's by its node's kubelet ("kubelet/node-2")."""
    ambient = store.current_writer().actor
    return ambient if not source or ambient.startswith(f"{source}/") else source


class _Plan:
    """The bookkeeping of one plan's refusals: the owners whose later writes wait, and the Events
    (by position) that describe writes that did not happen."""

    def __init__(self, actions: list[Action]) -> None:
        self.actions = actions
        self.waiting: dict[str, dict] = {}  # owner uid -> owner
        self.silenced: set[int] = set()
        self.follow_up_events: list[Event] = []

    def _silence_after(self, position: int, uid: str | None) -> None:
        for later in range(position + 1, len(self.actions)):
            action = self.actions[later]
            if not isinstance(action, Event):
                return
            if uid is None or action.involved.get("uid") == uid:
                self.silenced.add(later)

    def waits(self, position: int, action: Action) -> bool:
        """Whether the write is for (or to) an owner refused earlier in this plan; if so, its
        Events are silenced too."""
        if not self.waiting:
            return False
        if isinstance(action, Create):
            owner = owner_of(action)
            uid = owner.get("uid") if owner is not None else None
            if uid not in self.waiting:
                return False
        else:
            target = None if isinstance(action, Bind) else (action.kind, action.namespace, action.name)
            owners = {(o.get("kind"), o.get("namespace", ""), o.get("name")): u for u, o in self.waiting.items()}
            uid = owners.get(target)
            if uid is None:
                return False
        self._silence_after(position, uid)
        return True

    def refuse(self, position: int, owner: dict | None) -> None:
        self._silence_after(position, owner.get("uid") if owner is not None else None)
        if owner is not None:
            self.waiting[owner["uid"]] = owner


def _terminating_namespace(refusal: errors.ApiError) -> bool:
    causes = (refusal.details or {}).get("causes") or []
    return any(cause.get("reason") == store.NAMESPACE_TERMINATING for cause in causes)


def _refusal_recorded(sandbox: Sandbox, action: Create, owner: dict | None, refusal: errors.ApiError) -> list[Event]:
    """What the controller records about a refused create: the action's `refused`, or the usual
    FailedCreate Event about its owner. Its writes are made now (a lost race there only means the
    next pass writes it); its Events are returned, to be recorded with the plan's."""
    if _terminating_namespace(refusal):
        return []  # upstream records nothing: every create there fails, and the namespace goes
    if action.refused is not None:
        follow_ups = action.refused(refusal.message)
    elif owner is not None:
        follow_ups = [Event(owner, "FailedCreate", f"Error creating: {refusal.message}", "Warning", action.by)]
    else:
        follow_ups = []
    for write in (a for a in follow_ups if not isinstance(a, Event)):
        try:
            _perform(sandbox, [dataclasses.replace(write, by=write.by or action.by, why=write.why or action.why)])
        except RACES as race:
            log.debug("dropped %r after a refused create: %s", write, race)
    return [a for a in follow_ups if isinstance(a, Event)]


def _landed(batch: list[tuple[int, Action]], outcome: Outcome) -> None:
    outcome.applied += len(batch)
    for _, action in batch:
        if isinstance(action, Create) and (owner := owner_of(action)) is not None:
            outcome.created_for.add(owner["uid"])


def _one_by_one(sandbox: Sandbox, batch: list[tuple[int, Action]], plan: _Plan, outcome: Outcome) -> int | None:
    """Perform a batch's writes one at a time after the batch was refused as a whole, recording
    each refusal; the position of a write that lost a race (the plan stops there), else None."""
    for position, action in batch:
        if plan.waits(position, action):
            continue
        try:
            _perform(sandbox, [action])
            _landed([(position, action)], outcome)
        except RACES as race:
            outcome.raced += 1
            log.debug("dropped %r and the rest of the plan: %s", action, race)
            return position
        except REFUSALS as refusal:
            if not isinstance(action, Create):
                raise
            owner = owner_of(action)
            log.info("%s refused %s: %s", action.by or "a controller", action.body["kind"], refusal.message)
            plan.refuse(position, owner)
            plan.follow_up_events += _refusal_recorded(sandbox, action, owner, refusal)
            if owner is not None:
                outcome.refused.append(owner)
    return None


def actions_apply(sandbox: Sandbox, actions: list[Action]) -> Outcome:
    """Perform the writes in order until one loses a race; then record the Events planned before
    it (those after it describe writes that did not happen), one batch per namespace. A refused
    create is recorded and the plan goes on without what depended on it."""
    outcome = Outcome()
    plan = _Plan(actions)
    writes = [(position, action) for position, action in enumerate(actions) if not isinstance(action, Event)]
    reached = len(actions)
    for batch in _batches(writes):
        batch = [(position, action) for position, action in batch if not plan.waits(position, action)]
        if not batch:
            continue
        try:
            _perform(sandbox, [action for _, action in batch])
            _landed(batch, outcome)
        except RACES as race:
            if len(batch) > 1 and isinstance(batch[0][1], Bind):
                # Binds land in order until one loses its race, as when they were written one by one.
                lost = _one_by_one(sandbox, batch, plan, outcome)
                if lost is None:
                    continue
                reached = lost
                break
            outcome.raced += 1
            log.debug("dropped %r and the rest of the plan: %s", batch[0][1], race)
            reached = batch[0][0]  # a batch of creates is all or none
            break
        except REFUSALS:
            if len(batch) == 1 and not isinstance(batch[0][1], Create):
                raise
            lost = _one_by_one(sandbox, batch, plan, outcome)
            if lost is not None:
                reached = lost
                break
    events: dict[str, list[Event]] = {}
    planned = [e for p, e in enumerate(actions[:reached]) if isinstance(e, Event) and p not in plan.silenced]
    for event in planned + plan.follow_up_events:
        events.setdefault(_event_namespace(event), []).append(event)
    for batch in events.values():
        try:
            with store.writing_as(_event_writer(batch[0].source)):
                events_record(sandbox, batch)
            outcome.applied += len(batch)
        except RACES as race:  # say, the namespace is gone
            outcome.raced += 1
            log.debug("dropped the events %r: %s", batch, race)
    return outcome
