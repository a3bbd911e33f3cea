"""The change log as a stream: one reader per web process, fanned out to every open watch.

Writers may be any process (web, worker), so the database change log is the channel: one query
reads the new Changes for all watchers at once, however many there are. On PostgreSQL every
write transaction notifies a channel at commit, and the reader wakes on it (with a slow tick in
case a notification is lost); on SQLite it polls. Each watcher first catches up from the log on
its own, then takes events from the feed, skipping what it has already sent, so nothing is
missed between the two.
"""

from __future__ import annotations

import asyncio
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection

from clusters.models import Change, ResourceVersionCounter
from clusters.store import CHANGES_CHANNEL

# SQLite: a tick reads the resourceVersion counter, then the new changes if it moved. A change
# reaches the watches ~12 ms after its commit on average, for ~2.5 % of a core (on these machines
# a timer tick alone costs 0.25 ms) while any watch is open.
POLL_SECONDS = 0.025
# PostgreSQL: woken by the writers' notifications; a tick without one, in case one was lost.
NOTIFIED_TICK_SECONDS = 1.0
BATCH = 500


def released(fn):
    """`fn` as a coroutine function that gives its database connection back when it returns.

    Watches and log follows live for minutes; a connection held for their life would drain the
    web process's small pool, so each trip to the database borrows one and returns it.
    """

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    return sync_to_async(call, thread_sensitive=False)


@dataclass(frozen=True)
class Event:
    resource_version: int
    sandbox_id: int
    api_group: str
    kind: str
    namespace: str
    name: str
    type: str
    body: dict


def _to_events(rows) -> list[Event]:
    return [
        Event(r.resource_version, r.sandbox_id, r.api_group, r.kind, r.namespace, r.name, r.type, r.body) for r in rows
    ]


def changes_after(resource_version: int, *, sandbox_id: int | None = None, limit: int = BATCH) -> list[Event]:
    rows = Change.objects.filter(resource_version__gt=resource_version)
    if sandbox_id is not None:
        rows = rows.filter(sandbox_id=sandbox_id)
    return _to_events(rows.order_by("resource_version")[:limit])


def _newest_version() -> int:
    # Plain SQL: read at every tick, where the ORM's query building would cost 15 times more.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {ResourceVersionCounter._meta.db_table} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else 0


def _changes_since(resource_version: int) -> list[Event]:
    try:
        if _newest_version() <= resource_version:
            return []
        return changes_after(resource_version)
    except DatabaseError:
        connection.close()  # a broken connection is replaced on the next tick
        return []


class _Waker:
    """Blocks the feed's thread until the change log may have grown."""

    def __init__(self) -> None:
        self._listener: psycopg.Connection | None = None

    def wait(self) -> None:
        if connection.vendor != "postgresql":
            time.sleep(POLL_SECONDS)
            return
        try:
            self._listener = self._listener or self._listen()
            for _ in self._listener.notifies(timeout=NOTIFIED_TICK_SECONDS, stop_after=1):
                pass
            for _ in self._listener.notifies(timeout=0):
                pass  # the rest of a burst: one read serves them all
        except psycopg.Error:
            if self._listener is not None:
                self._listener.close()
            self._listener = None  # listen again next time; meanwhile, poll
            time.sleep(POLL_SECONDS)

    @staticmethod
    def _listen() -> psycopg.Connection:
        db = connection.settings_dict
        listener = psycopg.connect(
            dbname=db["NAME"],
            user=db["USER"],
            password=db["PASSWORD"],
            host=db["HOST"],
            port=db["PORT"] or None,
            autocommit=True,
        )
        listener.execute(f"LISTEN {CHANGES_CHANNEL}")
        return listener


def log_horizon() -> tuple[int, int]:
    """(the newest resourceVersion, the newest one compacted away)."""
    counter = ResourceVersionCounter.objects.filter(pk=1).first()
    return (counter.value, counter.compacted_through) if counter else (0, 0)


class ChangeFeed:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue] = set()
        self._task: asyncio.Task | None = None
        self._last = 0
        # Its own thread keeps its connections: opening one per read costs more than the read.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="change-feed")
        self._waker = _Waker()

    async def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._last, _ = await released(log_horizon)()
            self._subscribers = set()  # queues of another (finished) event loop are no use here
            self._task = loop.create_task(self._run())
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._subscribers:
            events = await loop.run_in_executor(self._thread, self._next, self._last)
            for event in events:
                for queue in self._subscribers:
                    queue.put_nowait(event)
            if events:
                self._last = events[-1].resource_version

    def _next(self, last: int) -> list[Event]:
        """In the feed's thread: the changes after `last`, once there are any or a tick passed."""
        events = _changes_since(last)
        if not events:
            self._waker.wait()
            events = _changes_since(last)
        return events


FEED = ChangeFeed()
