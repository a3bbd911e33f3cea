"""Docker's event stream wakes kubelets: when a container of a sandbox dies or runs out of memory,
that node's kubelet is made due at once, instead of at its next planned wake-up. A start wakes
nobody: only the kubelet starts containers (the engine restarts none, their restart policy is
"no"), and it knows what it started; waking it again cost every new pod two runs of each worker's
follower, and a run of the kubelet, just as its next engine call was due.

Upstream's kubelet learns the same through its PLEG (pod lifecycle event generator), relisting
the runtime every second; an event stream is the cheaper equivalent. Nothing depends on it for
correctness, but promptness does: on Docker a running pod plans no wake-up of its own (the
simulated runtime's containers do, through `changes_at`), so without the events a container that
dies by itself is seen at the full resync, minutes later (FULL_RESYNC_INTERVAL).
Runs as one thread in each worker process (started from clusters/tasks.py when an engine answers).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import datetime

from django.db import close_old_connections, transaction

from clusters import workqueue
from clusters.models import Sandbox

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 2.0


def kubelet_to_wake(event) -> tuple[str, str] | None:
    """(sandbox uid, work key) of the kubelet an engine event concerns; None for a start (the
    kubelet's own doing) and for containers that belong to no node (a Service's proxy)."""
    if event.action == "start" or not event.sandbox or not event.node:
        return None
    return event.sandbox, workqueue.kubelet_key(event.node)


def _wake(sandbox_uid: str, key: str) -> None:
    try:
        uid = uuid.UUID(hex=sandbox_uid)
    except ValueError:
        return  # labelled by something else than a sandbox of this app (a test run of the runtime)
    close_old_connections()
    sandbox_id = Sandbox.objects.filter(uid=uid).values_list("pk", flat=True).first()
    if sandbox_id is not None:
        with transaction.atomic():
            workqueue.work_request(sandbox_id, [key])


def follow(stop: threading.Event, *, wake: Callable[[str, str], None] = _wake, events=None) -> None:
    """Wake kubelets from the engine's events until `stop` is set; reconnect (without missing
    what happened meanwhile) when the engine goes away. `events` opens a stream (for tests)."""
    # Imported here: the Docker SDK loads only in processes that use a Docker engine.
    from clusters.runtime import docker as engine

    events = events or engine.engine_events
    since: datetime | None = None
    while not stop.is_set():
        try:
            stream = events(since=since)
        except Exception as error:  # the engine is away: try again shortly
            log.info("engine events unavailable (%s); retrying", error)
            stop.wait(RECONNECT_SECONDS)
            continue
        finished = threading.Event()
        threading.Thread(target=_close_on_stop, args=(stream, stop, finished), daemon=True).start()
        try:
            for event in stream:
                since = event.time
                target = kubelet_to_wake(event)
                if target is not None:
                    try:
                        wake(*target)
                    except Exception:
                        log.exception("waking %s of sandbox %s failed", target[1], target[0])
        finally:
            finished.set()
        stop.wait(RECONNECT_SECONDS)


def _close_on_stop(stream, stop: threading.Event, finished: threading.Event) -> None:
    """A blocked read only ends when its stream is closed: close it once `stop` is set."""
    while not finished.wait(0.5):
        if stop.is_set():
            stream.close()
            return


def follow_in_background() -> threading.Event:
    """Start `follow` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=follow, args=(stop,), name="engine-watch", daemon=True).start()
    return stop
