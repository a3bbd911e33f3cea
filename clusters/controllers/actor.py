"""The thin half of every controller: perform planned actions through the store.

A planned action can lose a race (the object changed, vanished or already exists because
another pass got there first). That is normal for level-triggered controllers: the rest of the
plan is dropped too (it may describe or build on the failed write, like the Event after it) and
the next pass plans again from what is stored now. Anything else is an error — except for an
Event the store refuses (say, in a namespace being terminated, where nothing new may be made):
as upstream's event recorder ("Server rejected event (will not retry!)"), it is dropped and the
plan goes on, since an Event only reports what the plan does.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

from django.utils import timezone

from clusters import errors, store
from clusters.controllers.actions import Action, Create, Delete, Event, Patch
from clusters.kube.resources import resource_for_kind
from clusters.models import Sandbox, StoredObject

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


def _events_about(sandbox: Sandbox, namespace: str, uid: str, reason: str) -> list[dict]:
    """The namespace's Events whose involvedObject.uid and reason are these, in name order: what
    the field selector `involvedObject.uid=<uid>,reason=<reason>` lists, with the match done by
    the database, so recording an event does not decode every event of the namespace."""
    if not uid or not reason:  # a missing field matches "" in a field selector: keep its exact semantics
        selector = f"involvedObject.uid={uid},reason={reason}"
        return store.object_list(sandbox=sandbox, resource=EVENTS, namespace=namespace, field_selector=selector).items
    rows = StoredObject.objects.filter(
        sandbox=sandbox,
        api_group=EVENTS.group,
        kind=EVENTS.kind,
        namespace=namespace,
        body__involvedObject__uid=uid,
        body__reason=reason,
    )
    return list(rows.order_by("name").values_list("body", flat=True))


def event_record(sandbox: Sandbox, event: Event) -> None:
    """Record an Event, folding repeats into one object with a count, as the event recorder does."""
    involved = event.involved
    namespace = involved.get("namespace") or "default"
    now = store.rfc3339(timezone.now())
    same = [
        e
        for e in _events_about(sandbox, namespace, involved.get("uid", ""), event.reason)
        if e.get("message") == event.message and e.get("type") == event.type
    ]
    if same:
        existing = same[0]
        patch = {"count": existing.get("count", 1) + 1, "lastTimestamp": now}
        store.object_patch(
            sandbox=sandbox,
            resource=EVENTS,
            namespace=namespace,
            name=existing["metadata"]["name"],
            patch=json.dumps(patch).encode(),
            content_type="application/merge-patch+json",
        )
        return
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        # Named like the event recorder names them: the object's name and a unique suffix.
        "metadata": {"name": f"{involved.get('name', 'object')}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
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
    store.object_create(sandbox=sandbox, resource=EVENTS, body=body, namespace=namespace)


def _perform(sandbox: Sandbox, action: Action) -> None:
    match action:
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
        case Event():
            try:
                event_record(sandbox, action)
            except (errors.Forbidden, errors.Invalid) as rejected:
                log.info("server rejected event %r (will not retry): %s", action, rejected)
        case _:
            raise TypeError(f"not an action: {action!r}")


def actions_apply(sandbox: Sandbox, actions: list[Action]) -> Outcome:
    outcome = Outcome()
    for action in actions:
        try:
            _perform(sandbox, action)
            outcome.applied += 1
        except RACES as race:
            outcome.raced += 1
            log.debug("dropped %r and the rest of the plan: %s", action, race)
            break
    return outcome
