"""The orchestrator's work queue, kept in the database; Celery messages only wake it up.

Keys are per sandbox: "controllers" (every controller of the sandbox, like one
kube-controller-manager), "kubelet/<node>" (one node's kubelet, on that node's own queue) and,
for sandboxes on Docker, "kube-proxy" (wires Services to their ready endpoints).
A write marks keys dirty; a task claims a key with a lease (compare-and-set, so two workers
never reconcile one key at once), runs it, and releases it — requeueing itself when the key got
dirty meanwhile, when the reconcile asked to be woken later, or with backoff after an error.
Duplicated messages are harmless: a task that finds nothing due, or the key leased, just ends.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import operator
import threading
import time
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from clusters import node_hosts
from clusters.models import Sandbox, StoredObject, WorkItem

log = logging.getLogger(__name__)

CONTROLLERS = "controllers"
KUBE_PROXY = "kube-proxy"
# What kube-proxy follows: a Service's ports and the addresses of its ready endpoints; and, for the
# NetworkPolicies its proxies enforce, the policies, namespaces' labels and pods (a pod only when
# its address, its labels or its deletion change what a policy can match: see _proxy_follows).
PROXY_KINDS = ("Service", "Endpoints", "NetworkPolicy", "Namespace", "Pod")
# A run holds its key's lease, renewed while it lasts (a real image pull can take minutes), so a
# worker killed mid-run frees its keys within LEASE; the resync sends them again. The fault trials
# (tests/chaos) shorten it with TUTOR_WORK_LEASE_SECONDS; renewals come three times per lease.
LEASE = timedelta(seconds=settings.WORK_LEASE_SECONDS)
RENEW_EVERY_SECONDS = min(5.0, settings.WORK_LEASE_SECONDS / 3)
# A run that takes longer than this is taken to be stuck: its lease runs out, another worker may
# take the key.
MAX_RUN = timedelta(minutes=10)
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 60.0
# The task that runs a key (clusters.tasks.run_work), sent by name: the tasks sit on top of
# everything they run, this queue included, so the queue does not import them.
RUN_WORK = "clusters.tasks.run_work"


def kubelet_key(node: str) -> str:
    return f"kubelet/{node}"


def queue_for(key: str) -> str:
    """Controllers run on the default queue, which every worker consumes; each kubelet on its
    node's own queue, consumed by the worker of the node's host (clusters.node_hosts); kube-proxy
    on the queue of the host that runs the sandbox's Service proxies."""
    if key.startswith("kubelet/"):
        return node_hosts.kubelet_queue(key.split("/", 1)[1])
    if key == KUBE_PROXY:
        return node_hosts.host_queue(node_hosts.proxy_host(settings.NODE_HOSTS))
    return "celery"


def _unversioned(obj: dict) -> dict:
    """The object without its resourceVersion, which every write changes."""
    metadata = {k: v for k, v in obj.get("metadata", {}).items() if k != "resourceVersion"}
    return {**obj, "metadata": metadata}


def _without_heartbeats(node: dict) -> dict:
    conditions = node.get("status", {}).get("conditions", [])
    beats = [{k: v for k, v in c.items() if k != "lastHeartbeatTime"} for c in conditions]
    return {**_unversioned(node), "status": {**node.get("status", {}), "conditions": beats}}


def _status_only(previous: dict | None, body: dict) -> bool:
    def without_status(obj: dict) -> dict:
        return {k: v for k, v in _unversioned(obj).items() if k != "status"}

    return previous is not None and without_status(previous) == without_status(body)


def keys_for_write(kind: str, previous: dict | None, body: dict, *, engine: str) -> list[str]:
    """The keys one stored write makes due. Events wake nobody (no controller plans from them);
    a kubelet heartbeat that changes nothing but heartbeat times wakes nobody either (the node
    lifecycle controller comes back by itself when a heartbeat would be overdue), so idle
    sandboxes cost little. A pod's status wakes the controllers but not its kubelet, which
    plans from the spec and what its runtime shows, and wrote that status itself."""
    if kind == "Event":
        return []
    if kind == "Node" and previous is not None and _without_heartbeats(previous) == _without_heartbeats(body):
        return []
    keys = [CONTROLLERS]
    if kind == "Pod" and body.get("spec", {}).get("nodeName") and not _status_only(previous, body):
        keys.append(kubelet_key(body["spec"]["nodeName"]))
    if kind == "Node":
        # A new node's kubelet starts at once; one marked NotReady answers if it still lives.
        keys.append(kubelet_key(body["metadata"]["name"]))
    if engine == "docker" and _proxy_follows(kind, previous, body):
        keys.append(KUBE_PROXY)
    return keys


def _proxy_follows(kind: str, previous: dict | None, body: dict) -> bool:
    """Whether kube-proxy looks again after this write: one of its kinds, but of a Pod only a
    write that changes what NetworkPolicies match (its address, its labels) or marks it deleted.
    A pod without an address is nothing a policy can match, as if it did not exist: creating one
    wakes nobody (on Docker that run came just when the controllers bind a new pod, and took a
    core of two from them); the kubelet's write of its address does."""
    if kind != "Pod":
        return kind in PROXY_KINDS

    def matched(pod: dict | None) -> tuple | None:
        address = (pod or {}).get("status", {}).get("podIP")
        if not address:
            return None
        metadata = pod.get("metadata", {})
        return address, metadata.get("labels"), "deletionTimestamp" in metadata

    return matched(previous) != matched(body)


def retry_delay(failures: int) -> float:
    """Exponential backoff for a key whose reconcile failed: 0.5 s doubling, at most a minute."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, failures - 1))


def _send(sandbox_id: int, key: str, at: datetime | None = None) -> None:
    """Wake a worker for the key. The message is only a wake-up: the key is due in the database
    already, so when the broker cannot be reached (Redis restarting) the resync sends it later,
    and the write that made it due has succeeded all the same (it must not answer 500)."""
    options = {"queue": queue_for(key)}
    if at is not None:
        options["eta"] = at
    try:
        current_app.send_task(RUN_WORK, (sandbox_id, key), **options)
    except BrokerUnreachable as error:
        log.warning("broker unreachable, %s of sandbox %s left to the resync: %s", key, sandbox_id, error)


class Leases:
    """The keys this process is running, whose leases one thread of its own renews every few
    seconds for as long as their runs last (up to MAX_RUN)."""

    def __init__(self) -> None:
        self._held: dict[tuple[int, str], datetime] = {}  # key → when its run began
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, sandbox_id: int, key: str, *, since: datetime) -> None:
        with self._lock:
            self._held[(sandbox_id, key)] = since

    def renew_in_background(self) -> None:
        """Start the renewing thread, once per process."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._renew_forever, name="work-leases", daemon=True)
                self._thread.start()

    def release(self, sandbox_id: int, key: str) -> None:
        with self._lock:
            self._held.pop((sandbox_id, key), None)

    def renew(self, *, now: datetime) -> int:
        """Extend the leases of the runs going on (not those past MAX_RUN); how many were."""
        with self._lock:
            held = [item for item, since in self._held.items() if now - since < MAX_RUN]
        if not held:
            return 0
        rows = functools.reduce(operator.or_, (Q(sandbox_id=sandbox_id, key=key) for sandbox_id, key in held))
        # A lease already released stays released: its run ended while this one was under way.
        return WorkItem.objects.filter(rows, leased_until__isnull=False).update(leased_until=now + LEASE)

    def _renew_forever(self) -> None:
        while True:
            time.sleep(RENEW_EVERY_SECONDS)
            try:
                self.renew(now=timezone.now())
            except Exception:
                log.exception("renewing the work leases failed")
            finally:
                connection.close()  # this thread's own connection: not held between renewals


leases = Leases()
_running = threading.local()


@contextlib.contextmanager
def running(sandbox_id: int, key: str):
    """Mark this thread as running `key`, whose lease it holds: the lease is renewed until the run
    ends, and a reconcile's own writes do not make its key due again, because it plans again from
    them itself before it ends (it returns `now` as its wake-up when it stops with work left)."""
    _running.key = (sandbox_id, key)
    leases.renew_in_background()
    leases.hold(sandbox_id, key, since=timezone.now())
    try:
        yield
    finally:
        leases.release(sandbox_id, key)
        _running.key = None


def work_request(sandbox_id: int, keys: list[str], *, send_always: bool = False) -> None:
    """Mark keys dirty and, once the surrounding transaction commits, wake a worker for each key
    that was clean. A key already dirty has a message on its way, or a running reconcile that
    sends one when it finishes (work_done), so a burst of writes sends one message per key, not
    one per write. `send_always` (the resync) sends regardless, in case a message was lost."""
    woken, rechecked = [], []
    own = getattr(_running, "key", None)
    for key in keys:
        if (sandbox_id, key) == own:
            continue
        turned_dirty = _mark_dirty(sandbox_id, key)
        if not turned_dirty:
            _, created = WorkItem.objects.get_or_create(sandbox_id=sandbox_id, key=key, defaults={"dirty": True})
            turned_dirty = created
        if turned_dirty or send_always:
            woken.append(key)
        elif connection.in_atomic_block:
            rechecked.append(key)
    if woken:
        transaction.on_commit(lambda: [_send(sandbox_id, key) for key in woken])
    if rechecked:
        _Recheck.of(sandbox_id).keys.update(rechecked)


class _Recheck:
    """After a commit whose writes found their keys dirty already (and so sent nothing): a key
    that is clean now was claimed before the writes committed, and its run planned from a state
    without them, so it is due once more. (Turning a key dirty locks its row until the commit,
    which holds a claim back; finding it dirty takes no lock, hence this look after the commit.)
    A key claimed just after the commit runs once more for nothing, which is harmless. One look
    per sandbox and transaction, however many of its writes found a key dirty."""

    def __init__(self, sandbox_id: int) -> None:
        self.sandbox_id = sandbox_id
        self.keys: set[str] = set()
        self.done = False

    @classmethod
    def of(cls, sandbox_id: int) -> _Recheck:
        """The transaction's look for the sandbox, registered with it once. One registered within
        a savepoint that rolls back goes with it; so do the writes it was for."""
        for _, callback, _ in connection.run_on_commit:
            if isinstance(callback, cls) and callback.sandbox_id == sandbox_id and not callback.done:
                return callback
        recheck = cls(sandbox_id)
        transaction.on_commit(recheck)
        return recheck

    def __call__(self) -> None:
        self.done = True
        for key in sorted(self.keys):
            if _mark_dirty(self.sandbox_id, key):
                _send(self.sandbox_id, key)


def _mark_dirty(sandbox_id: int, key: str) -> int:
    """Turn a clean key dirty (1), or leave a dirty or missing one as it is (0)."""
    return WorkItem.objects.filter(sandbox_id=sandbox_id, key=key, dirty=False).update(
        dirty=True, dirty_since=timezone.now()
    )


def work_claim(sandbox_id: int, key: str, *, now: datetime) -> bool:
    """Lease the key if work is due and nobody holds it. True when this caller should run it."""
    due = Q(dirty=True) | Q(wake_at__lte=now)
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    claimed = WorkItem.objects.filter(due & free, sandbox_id=sandbox_id, key=key).update(
        dirty=False, wake_at=None, leased_until=now + LEASE
    )
    return claimed == 1


def work_done(sandbox_id: int, key: str, *, wake_at: datetime | None) -> None:
    rows = WorkItem.objects.filter(sandbox_id=sandbox_id, key=key)
    earlier = {}
    if wake_at is not None:  # the earlier of the planned wake-up and one asked for meanwhile
        sooner = Q(wake_at__isnull=True) | Q(wake_at__gt=wake_at)
        earlier["wake_at"] = Case(When(sooner, then=Value(wake_at)), default=F("wake_at"))
    rows.update(leased_until=None, failures=0, last_error="", **earlier)
    # Read `dirty` only now that the lease is released: a write that made the key dirty while it
    # ran had its message dropped (the key was leased), so this is the message that runs it again.
    item = rows.values_list("pk", "dirty", "wake_at", "wake_sent_for").first()
    if item is None:
        return  # the sandbox was deleted meanwhile
    pk, dirty, due_at, sent_for = item
    if dirty:
        _send(sandbox_id, key)
    elif due_at is not None and (due_at != sent_for or due_at <= timezone.now()):
        # One delayed message per moment; but a moment already past may have had its message
        # dropped while this run held the lease, so it gets a new one.
        _send(sandbox_id, key, at=due_at)
        WorkItem.objects.filter(pk=pk).update(wake_sent_for=due_at)


def work_failed(sandbox_id: int, key: str, *, error: str, now: datetime) -> float:
    item = WorkItem.objects.filter(sandbox_id=sandbox_id, key=key).first()
    if item is None:
        return 0.0
    item.failures += 1
    delay = retry_delay(item.failures)
    item.leased_until = None
    item.wake_at = now + timedelta(seconds=delay)
    item.last_error = error[:2000]
    item.save(update_fields=["failures", "leased_until", "wake_at", "last_error"])
    _send(sandbox_id, key, at=item.wake_at)
    return delay


def keys_for_sandbox(sandbox: Sandbox) -> list[str]:
    nodes = StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="Node").values_list("name", flat=True)
    proxy = [KUBE_PROXY] if sandbox.engine == "docker" else []
    return [CONTROLLERS, *(kubelet_key(node) for node in nodes), *proxy]


def resync_all(*, now: datetime | None = None) -> int:
    """What a controller's periodic resync does: every key of every sandbox is due again. Run
    every few minutes, it is what makes the system converge whatever happened. A paused sandbox
    (clusters.idle) is left out: nothing of it runs, and it converges when it is used again."""
    count = 0
    for sandbox in Sandbox.objects.exclude(activity__paused_at__isnull=False):
        keys = keys_for_sandbox(sandbox)
        with transaction.atomic():
            work_request(sandbox.pk, keys, send_always=True)
        count += len(keys)
    return count


def resync_due(*, now: datetime) -> int:
    """Send a message for every key that is due but may have none: its message was lost, or it
    was leased by a worker that died (the lease has run out; what it was doing is due again).
    Cheap (two queries when nothing is due), so it runs every few seconds."""
    WorkItem.objects.filter(leased_until__lt=now).update(dirty=True, dirty_since=now, leased_until=None)
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    due = WorkItem.objects.filter(free & (Q(dirty=True) | Q(wake_at__lte=now)))
    keys = list(due.order_by("sandbox_id", "key").values_list("sandbox_id", "key"))
    for sandbox_id, key in keys:
        _send(sandbox_id, key)
    return len(keys)
