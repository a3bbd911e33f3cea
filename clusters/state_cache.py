"""The controllers' and kubelets' copy of each sandbox's objects, kept up to date from the change log.

As an informer's cache: the first run of a sandbox in a process lists its objects; the next ones
read only the changes written since (the newest resourceVersion, then the few new rows of the
change log), where every body was read and decoded again, twice a controllers run (3.4 ms at 100
pods) and at every kubelet run (its node's pods). The change log holds every write in commit
order (the resourceVersion counter's row lock orders the writers), so replaying it from the
copy's version gives exactly what a list would. The copy is listed again when the log was
compacted past it, when the log went back (a restored database), and every RELIST_SECONDS
whatever happened, as informers relist.

Readers get the cached bodies themselves: they must not change them. Planners are pure and do
not, nor does the kubelet; with settings.STATE_CACHE_VERIFY (the tests), every read is compared
with a fresh list, so a reader that did, or a write that left no change, fails there.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from clusters.models import Change, ResourceVersionCounter, Sandbox, StoredObject

RELIST_SECONDS = 300.0
# Kinds no reader plans from (the many Events): leaving them out keeps the copy small.
LEFT_OUT = ("Event",)
# Bodies kept per process, over every sandbox, the least recently read sandboxes going first: a
# decoded body takes about 7 KB (a pod 9), so at most ~40 MB, a class of 50 with 100 objects each.
MAX_OBJECTS = 5_000

Key = tuple[str, str, str, str]  # api group, kind, namespace, name


@dataclass(frozen=True)
class _Copy:
    version: int  # every change up to this resourceVersion is in `objects`
    objects: dict[Key, dict]
    listed_at: float  # time.monotonic() of the list it started from


_copies: OrderedDict[tuple[int, str], _Copy] = OrderedDict()
_lock = threading.Lock()


class StateCacheMismatch(AssertionError):
    """The copy differs from the store (settings.STATE_CACHE_VERIFY)."""


def sandbox_objects(sandbox: Sandbox) -> list[dict]:
    """The sandbox's stored bodies but those of the LEFT_OUT kinds, as a list would read them now."""
    # By uid as well: a test database rolled back gives a sandbox's pk to the next one made.
    key = (sandbox.pk, sandbox.uid.hex)
    with _lock:
        copy = _copies.get(key)
    newest, compacted = _log_horizon()
    stale = (
        copy is None
        or newest < copy.version
        or compacted > copy.version
        or time.monotonic() - copy.listed_at > RELIST_SECONDS
    )
    copy = _listed(sandbox, newest) if stale else _replayed(sandbox, copy, newest)
    _keep(key, copy)
    if settings.STATE_CACHE_VERIFY:
        _verify(sandbox, copy)
    return list(copy.objects.values())


def forget_all() -> None:
    with _lock:
        _copies.clear()


def _log_horizon() -> tuple[int, int]:
    # Plain SQL: read at every controllers run, where the ORM's query building costs more.
    with connection.cursor() as cursor:
        table = ResourceVersionCounter._meta.db_table
        cursor.execute(f"SELECT value, compacted_through FROM {table} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def _identity(row) -> Key:
    return (row[0], row[1], row[2], row[3])


def _listed(sandbox: Sandbox, newest: int) -> _Copy:
    """A copy from a list. Read after the horizon: changes it already holds are replayed again
    next time, which ends on the same bodies (in order, each replaces the whole object)."""
    rows = StoredObject.objects.filter(sandbox=sandbox).exclude(kind__in=LEFT_OUT)
    objects = {_identity(row): row[4] for row in rows.values_list("api_group", "kind", "namespace", "name", "body")}
    return _Copy(version=newest, objects=objects, listed_at=time.monotonic())


def _replayed(sandbox: Sandbox, copy: _Copy, newest: int) -> _Copy:
    """The copy with the changes after its version. Every resourceVersion up to `newest` is
    committed (the counter is read first): the copy reaches at least that far."""
    if newest == copy.version:
        return copy
    changes = (
        Change.objects.filter(sandbox=sandbox, resource_version__gt=copy.version)
        .exclude(kind__in=LEFT_OUT)
        .order_by("resource_version")
        .values_list("api_group", "kind", "namespace", "name", "body", "type", "resource_version")
    )
    objects, version = dict(copy.objects), newest
    for row in changes:
        if row[5] == Change.DELETED:
            objects.pop(_identity(row), None)
        else:
            objects[_identity(row)] = row[4]
        version = max(version, row[6])
    return _Copy(version=version, objects=objects, listed_at=copy.listed_at)


def _keep(key: tuple[int, str], copy: _Copy) -> None:
    with _lock:
        _copies[key] = copy
        _copies.move_to_end(key)
        kept = sum(len(c.objects) for c in _copies.values())
        while kept > MAX_OBJECTS and len(_copies) > 1:
            _, dropped = _copies.popitem(last=False)
            kept -= len(dropped.objects)


def _verify(sandbox: Sandbox, copy: _Copy) -> None:
    """Compare the copy with a fresh list, but for the objects written since the copy's version
    (by other processes, meanwhile): those it cannot hold yet."""
    fresh = _listed(sandbox, copy.version).objects
    written_since = {
        _identity(row)
        for row in Change.objects.filter(sandbox=sandbox, resource_version__gt=copy.version).values_list(
            "api_group", "kind", "namespace", "name"
        )
    }
    differing = sorted(
        key for key in (fresh.keys() | copy.objects.keys()) - written_since if fresh.get(key) != copy.objects.get(key)
    )
    if differing:
        raise StateCacheMismatch(f"sandbox {sandbox.pk}: cached objects differ from the store's: {differing[:10]}")
