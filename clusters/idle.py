"""Idle sandboxes: paused after TUTOR_IDLE_STOP_MINUTES without use, brought back on the next use.

Use is what the learner does with a sandbox: its Kubernetes API (kubectl, the page's console), its
pages and their streams. `sandbox_seen` records it — one read per request, at most one write a
minute per sandbox — and brings a paused sandbox back. Beat's `sandboxes_idle_pause` pauses those
unused for longer than the limit.

Pausing keeps every stored object (the desired state) and stops what runs: each node's kubelet,
at its next run, removes its pods' containers (clusters.kubelet.kubelet_pause) and starts over
with no memory; on Docker kube-proxy removes the Services' proxies; the controllers stand still.
Nothing is written while paused, so nothing wakes it: its work queue is quiet. Its node leases go
on being renewed with every other sandbox's (one UPDATE per node name), so its nodes stay Ready
and nothing is evicted, then or on its return.

Resuming clears the mark, records what a kubelet records when it starts again after a reboot
(`Starting kubelet.` on each node, `SandboxChanged` on each pod that ran) and makes every key due:
each kubelet recreates its pods' containers from the stored pods (restartCount goes up by one),
the controllers carry on. Requests never wait for it: the objects were in the store all along.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from clusters import store, workqueue
from clusters.controllers.actions import Event, ref
from clusters.controllers.actor import actions_apply
from clusters.controllers.kubelet import SANDBOX_CHANGED
from clusters.models import NodeRuntimeState, Sandbox, SandboxActivity, StoredObject

# Activity is written at most this often per sandbox (less when the limit is shorter than twice it).
TOUCH_EVERY = timedelta(seconds=60)
# What a node's runtime state holds once its kubelet has stopped its pods for a pause, until the
# kubelet's first run after the return has started them again: {"at", "pods": {uid: [ns, name]}}.
PAUSED_MARK = "paused"


@dataclass(frozen=True)
class IdleState:
    """What the pages say about a sandbox that is paused or coming back."""

    state: str  # "paused" (its containers are stopped) or "restoring" (they are starting again)
    idle_minutes: int  # how long it had been idle when it was paused
    paused_at: datetime | None


def idle_limit() -> timedelta | None:
    """How long a sandbox may go unused before it is paused; None: never."""
    minutes = settings.IDLE_STOP_MINUTES
    return timedelta(minutes=minutes) if minutes > 0 else None


def touch_interval(limit: timedelta | None) -> timedelta:
    return TOUCH_EVERY if limit is None else min(TOUCH_EVERY, limit / 2)


def is_idle(*, last_active_at: datetime, now: datetime, limit: timedelta | None) -> bool:
    """Whether a sandbox last used at `last_active_at` is to be paused at `now`."""
    return limit is not None and now - last_active_at >= limit


def idle_minutes(*, last_active_at: datetime, now: datetime) -> int:
    return max(0, int((now - last_active_at).total_seconds() // 60))


# ---------------------------------------------------------------------------------------------
# Use, and the return
# ---------------------------------------------------------------------------------------------


def sandbox_seen(*, sandbox: Sandbox, now: datetime | None = None) -> bool:
    """The sandbox is being used: record it (a write only when the last is TOUCH_EVERY old) and,
    when it is paused, bring it back. True when this call brought it back."""
    seen = SandboxActivity.objects.filter(sandbox_id=sandbox.pk).values_list("last_active_at", "paused_at").first()
    return sandbox_seen_as_read(sandbox=sandbox, seen=seen, now=now)


def sandbox_seen_as_read(
    *, sandbox: Sandbox, seen: tuple[datetime, datetime | None] | None, now: datetime | None = None
) -> bool:
    """sandbox_seen, with its activity (last_active_at, paused_at; None: no row) read by the caller
    along with the sandbox, in the same query."""
    now = now or timezone.now()
    if seen is not None and seen[1] is None:
        if now - seen[0] >= touch_interval(idle_limit()):
            SandboxActivity.objects.filter(sandbox_id=sandbox.pk, paused_at=None).update(last_active_at=now)
        return False
    if seen is None:
        _, created = SandboxActivity.objects.get_or_create(sandbox_id=sandbox.pk, defaults={"last_active_at": now})
        if created:
            return False
    return sandbox_resume(sandbox=sandbox, now=now)


def sandbox_resume(*, sandbox: Sandbox, now: datetime) -> bool:
    """Bring a paused sandbox back; whether it was paused."""
    with transaction.atomic(), store.writing_as("kube-tutor: sandbox used again"):
        row = SandboxActivity.objects.select_for_update().filter(sandbox_id=sandbox.pk).first()
        if row is None or row.paused_at is None:
            return False
        row.paused_at, row.resumed_at, row.last_active_at = None, now, now
        row.save(update_fields=["paused_at", "resumed_at", "last_active_at"])
        actions_apply(sandbox, _restart_events(sandbox))
        workqueue.work_request(sandbox.pk, workqueue.keys_for_sandbox(sandbox), send_always=True)
    return True


def _restart_events(sandbox: Sandbox) -> list[Event]:
    """What each kubelet that stopped its pods says as it starts again: upstream's words."""
    events = []
    stopped = NodeRuntimeState.objects.filter(sandbox=sandbox, state__has_key=PAUSED_MARK)
    nodes = {row.name: row.body for row in StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="Node")}
    for node, state in stopped.values_list("node", "state"):
        if node in nodes:
            events.append(Event(ref(nodes[node]), "Starting", "Starting kubelet.", "Normal", "kubelet"))
        for uid, (namespace, name) in sorted(state[PAUSED_MARK].get("pods", {}).items()):
            involved = {"apiVersion": "v1", "kind": "Pod", "namespace": namespace, "name": name, "uid": uid}
            events.append(Event(involved, "SandboxChanged", SANDBOX_CHANGED, "Normal", "kubelet"))
    return events


# ---------------------------------------------------------------------------------------------
# Pausing
# ---------------------------------------------------------------------------------------------


def sandboxes_idle_pause(*, now: datetime, limit: timedelta | None = None) -> list[int]:
    """Pause every running sandbox unused for `limit` (the setting, when not given); their ids."""
    limit = limit if limit is not None else idle_limit()
    if limit is None:
        return []
    candidates = (
        Sandbox.objects.annotate(last_used=Coalesce("activity__last_active_at", "created_at"))
        .filter(last_used__lte=now - limit)
        .filter(Q(activity__isnull=True) | Q(activity__paused_at__isnull=True))
        .order_by("pk")
    )
    return [sandbox.pk for sandbox in candidates if sandbox_pause(sandbox=sandbox, now=now, limit=limit)]


def sandbox_pause(*, sandbox: Sandbox, now: datetime, limit: timedelta) -> bool:
    """Pause the sandbox if it is still unused for `limit` (looked at again under a row lock, so a
    use that came meanwhile wins); make its kubelets (and kube-proxy) due to stop what they run."""
    SandboxActivity.objects.get_or_create(sandbox_id=sandbox.pk, defaults={"last_active_at": sandbox.created_at})
    with transaction.atomic():
        row = SandboxActivity.objects.select_for_update().get(sandbox_id=sandbox.pk)
        if row.paused_at is not None or not is_idle(last_active_at=row.last_active_at, now=now, limit=limit):
            return False
        row.paused_at = now
        row.idle_minutes = idle_minutes(last_active_at=row.last_active_at, now=now)
        row.save(update_fields=["paused_at", "idle_minutes"])
        keys = [key for key in workqueue.keys_for_sandbox(sandbox) if key != workqueue.CONTROLLERS]
        workqueue.work_request(sandbox.pk, keys, send_always=True)
    return True


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def sandbox_paused(sandbox: Sandbox) -> bool:
    return SandboxActivity.objects.filter(sandbox_id=sandbox.pk, paused_at__isnull=False).exists()


def sandbox_for_work(sandbox_id: int) -> tuple[Sandbox, bool] | None:
    """The sandbox a work run is for and whether it is paused, in one query (every run asks both),
    or None when it is gone."""
    sandbox = Sandbox.objects.annotate(pause_began=F("activity__paused_at")).filter(pk=sandbox_id).first()
    return None if sandbox is None else (sandbox, sandbox.pause_began is not None)


def sandbox_idle_state(sandbox: Sandbox) -> IdleState | None:
    """ "paused", "restoring" (back, its kubelets not all started again yet), or None (running)."""
    row = SandboxActivity.objects.filter(sandbox_id=sandbox.pk).first()
    if row is None:
        return None
    if row.paused_at is not None:
        return IdleState("paused", row.idle_minutes, row.paused_at)
    # A kubelet the learner stopped (clusters.faults) starts nothing until started: not "restoring".
    stopping = NodeRuntimeState.objects.filter(sandbox_id=sandbox.pk, state__has_key=PAUSED_MARK, kubelet_stopped=False)
    if stopping.exists():
        return IdleState("restoring", row.idle_minutes, None)
    return None


def restore_wait(
    *,
    sandbox: Sandbox,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Wait until a sandbox coming back has its containers started again (at most `timeout`
    seconds): a stream to a container (exec, attach, port-forward) waits for it rather than
    failing on a container that is being recreated. Whether it is back."""
    deadline = clock() + timeout
    while sandbox_idle_state(sandbox) is not None:
        if clock() >= deadline:
            return False
        sleep(0.25)
    return True


def sandboxes_paused(sandbox_ids) -> set[int]:
    """Which of these sandboxes are paused (one query, for the instructor's grid)."""
    paused = SandboxActivity.objects.filter(sandbox_id__in=list(sandbox_ids), paused_at__isnull=False)
    return set(paused.values_list("sandbox_id", flat=True))
