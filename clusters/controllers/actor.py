"""The thin half of every controller: perform planned actions through the store.

A planned action can lose a race (the object changed, vanished or already exists because
another pass got there first). That is normal for level-triggered controllers: the rest of the
plan is dropped too (it may describe or build on the failed write, like the Event after it) and
the next pass plans again from what is stored now. Anything else is an error — except for an
Event the store refuses (say, in a namespace being terminated, where nothing new may be made):
as upstream's event recorder ("Server rejected event (will not retry!)"), it is dropped and the
plan goes on, since an Event only reports what the plan does. The Events are recorded after the
plan's writes, one batch per namespace, and runs of Creates of one kind (the Events between them
aside) go to the store together.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass

from django.utils import timezone

from clusters import errors, store
from clusters.controllers.actions import Action, Bind, Create, Delete, Event, Patch
from clusters.models import Sandbox, StoredObject
from clusters.objects.resources import resource_for_kind
from clusters.objects.times import format_time

log = logging.getLogger(__name__)
EVENTS = resource_for_kind("v1", "Event")
RACES = (errors.Conflict, errors.NotFound, errors.AlreadyExists)


@dataclass
class Outcome:
    applied: int = 0
    raced: int = 0


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
        return store.object_list(sandbox=sandbox, resource=EVENTS, namespace=namespace).items
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
    for one reason."""
    match action:
        case Create(body=body) if body["kind"] not in store.ADMITTED_ONE_BY_ONE:
            namespace = body["metadata"].get("namespace")
            return ("Create", body["apiVersion"], body["kind"], namespace, action.by, action.why)
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
            store.pod_bind(
                sandbox=sandbox,
                namespace=action.namespace,
                name=action.name,
                node=action.node,
                conditions=list(action.conditions),
                resource_version=action.resource_version,
            )
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


def actions_apply(sandbox: Sandbox, actions: list[Action]) -> Outcome:
    """Perform the writes in order until one loses a race; then record the Events planned before
    it (those after it describe writes that did not happen), one batch per namespace."""
    outcome = Outcome()
    writes = [(position, action) for position, action in enumerate(actions) if not isinstance(action, Event)]
    reached = len(actions)
    for batch in _batches(writes):
        try:
            _perform(sandbox, [action for _, action in batch])
            outcome.applied += len(batch)
        except RACES as race:
            outcome.raced += 1
            log.debug("dropped %r and the rest of the plan: %s", batch[0][1], race)
            reached = batch[0][0]  # a batch is all or none
            break
    events: dict[str, list[Event]] = {}
    for event in actions[:reached]:
        if isinstance(event, Event):
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
