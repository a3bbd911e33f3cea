"""Container output: the runtime appends lines, `kubectl logs` reads them (and follows them).

A node's kubelet copies what its containers wrote into the log each time it runs, and nothing
else makes it run while its pods are quiet. So a reader asks for a copy: `log_refresh` wakes
the pod's kubelet (at most once a second per node and process) and waits briefly for its run,
so `kubectl logs`, `kubectl logs -f` and the pages see output as it is written — the cost falls on
logs someone reads, not on every idle container.

The copy is capped per container run as the kubelet rotates its log files (containerLogMaxSize,
10Mi, and containerLogMaxFiles, 5): lines are counted in "files" of CONTAINER_LOG_MAX_SIZE bytes,
each line as long as it is in a CRI log file, and when a run has more than CONTAINER_LOG_MAX_FILES
of them the oldest goes. So `yes` in a pod keeps the newest ~50Mi, never fills the database.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from clusters import errors, workqueue
from clusters.models import ContainerLog, Sandbox, WorkItem
from clusters.objects.times import format_micro_time, parse_time

SYNC_INTERVAL = timedelta(seconds=1)
SYNC_WAIT_SECONDS = 1.5
SYNC_POLL_SECONDS = 0.03
_sync_asked: dict[tuple[int, str], datetime] = {}


def log_sync_request(*, sandbox: Sandbox, pod: dict) -> str | None:
    """Ask the pod's kubelet to copy its containers' new output; returns the kubelet's key, or
    None when the pod has no node or its kubelet was asked less than SYNC_INTERVAL ago."""
    node = pod.get("spec", {}).get("nodeName")
    if not node:
        return None
    key = workqueue.kubelet_key(node)
    now = timezone.now()
    asked = _sync_asked.get((sandbox.pk, key))
    if asked is not None and now - asked < SYNC_INTERVAL:
        return None
    _sync_asked[(sandbox.pk, key)] = now
    workqueue.work_request(sandbox.pk, [key])
    return key


def log_sync_wait(*, sandbox: Sandbox, key: str, timeout: float = SYNC_WAIT_SECONDS) -> bool:
    """Wait until the kubelet's key is neither due nor running (its run copied the logs), at most
    `timeout` seconds; True when it got there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = WorkItem.objects.filter(sandbox=sandbox, key=key).values("dirty", "leased_until").first()
        if item is None or (not item["dirty"] and item["leased_until"] is None):
            return True
        time.sleep(SYNC_POLL_SECONDS)
    return False


def log_refresh(*, sandbox: Sandbox, pod: dict) -> None:
    """Bring the pod's log up to what its containers wrote by now (see the module's docstring)."""
    key = log_sync_request(sandbox=sandbox, pod=pod)
    if key is not None:
        log_sync_wait(sandbox=sandbox, key=key)


def container_log_append(
    *, sandbox: Sandbox, pod_uid: str, container: str, restart: int, lines: list[str], at: datetime | None = None
) -> None:
    moment = at or timezone.now()
    ContainerLog.objects.bulk_create(
        ContainerLog(sandbox=sandbox, pod_uid=pod_uid, container=container, restart=restart, time=moment, line=line)
        for line in lines
    )


# "2026-01-01T10:00:00.123456789Z stdout F " and the newline: what a CRI log file adds to each line.
LINE_OVERHEAD_BYTES = 41
INSERT_BATCH = 2000


def line_bytes(line: str) -> int:
    """The bytes a line takes in a CRI log file, which is what upstream's rotation counts."""
    return len(line.encode("utf-8", errors="replace")) + LINE_OVERHEAD_BYTES


def lines_after(lines: list[tuple[datetime, str]], cursor: list | None) -> list[tuple[datetime, str]]:
    """The lines (sorted by time) not copied yet: after the cursor's time, or at it beyond the
    first `count` (several lines can share a microsecond). Pure."""
    if not cursor:
        return list(lines)
    last, count = parse_time(cursor[0]), int(cursor[1])
    seen, fresh = 0, []
    for moment, text in lines:
        if moment < last:
            continue
        if moment == last and seen < count:
            seen += 1
            continue
        fresh.append((moment, text))
    return fresh


def container_log_cursor(lines: list[tuple[datetime, str]], cursor: list | None) -> list | None:
    """The cursor once `lines` (the fresh ones, sorted) are copied: the last time and how many
    lines at that time have been copied. Pure."""
    if not lines:
        return cursor
    last = lines[-1][0]
    at_last = sum(1 for moment, _ in lines if moment == last)
    if cursor and parse_time(cursor[0]) == last:
        at_last += int(cursor[1])
    return [format_micro_time(last), at_last]


def newest_within(lines: list[tuple[datetime, str]], budget: int) -> list[tuple[datetime, str]]:
    """The newest lines whose bytes fit in `budget`: older ones would be rotated away at once. Pure."""
    total, start = 0, len(lines)
    while start > 0 and total + line_bytes(lines[start - 1][1]) <= budget:
        start -= 1
        total += line_bytes(lines[start][1])
    return lines[start:]


def files_rotate(
    files: list[list[int]], added: list[tuple[int, int]], *, max_size: int, max_files: int
) -> tuple[list[list[int]], int | None]:
    """A run's log files ([first line id, bytes], oldest first) after lines (id, bytes) were
    appended: a new file starts once the current one has reached `max_size`; when there are more
    than `max_files`, the oldest go. Returns the files and the first id to keep (None: keep all). Pure."""
    files = [list(file) for file in files]
    for line_id, size in added:
        if not files or files[-1][1] >= max_size:
            files.append([line_id, 0])
        files[-1][1] += size
    if len(files) <= max_files:
        return files, None
    files = files[-max_files:]
    return files, files[0][0]


def container_log_copy(
    *, sandbox: Sandbox, pod_uid: str, container: str, restart: int, lines: list[tuple[datetime, str]], state: dict
) -> dict:
    """Append the lines of a run not copied yet (per `state`, the run's cursor and files, as the
    last call returned it) and rotate its log; returns the new state."""
    max_size, max_files = settings.CONTAINER_LOG_MAX_SIZE, settings.CONTAINER_LOG_MAX_FILES
    fresh = lines_after(lines, state.get("after"))
    if not fresh:
        return state
    kept = newest_within(fresh, max_size * max_files)
    rows = ContainerLog.objects.bulk_create(
        (
            ContainerLog(sandbox=sandbox, pod_uid=pod_uid, container=container, restart=restart, time=at, line=text)
            for at, text in kept
        ),
        batch_size=INSERT_BATCH,
    )
    added = [(row.pk, line_bytes(row.line)) for row in rows]
    files, first_kept = files_rotate(state.get("files", []), added, max_size=max_size, max_files=max_files)
    if first_kept is not None:
        ContainerLog.objects.filter(pod_uid=pod_uid, container=container, restart=restart, id__lt=first_kept).delete()
    return {"after": container_log_cursor(fresh, state.get("after")), "files": files}


def format_line(entry: ContainerLog, timestamps: bool) -> str:
    return f"{format_micro_time(entry.time)} {entry.line}\n" if timestamps else entry.line + "\n"


def container_status(pod: dict, container: str) -> dict:
    statuses = pod.get("status", {}).get("containerStatuses", []) + pod.get("status", {}).get(
        "initContainerStatuses", []
    )
    return next((s for s in statuses if s["name"] == container), {})


def choose_container(pod: dict, requested: str | None) -> str:
    """The container `kubectl logs` means, or the API server's error when it cannot tell."""
    name = pod["metadata"]["name"]
    containers = [c["name"] for c in pod["spec"].get("containers", [])]
    every = containers + [c["name"] for c in pod["spec"].get("initContainers", [])]
    if not requested:
        if len(containers) != 1:
            raise errors.BadRequest(
                f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
            )
        requested = containers[0]
    if requested not in every:
        raise errors.BadRequest(f"container {requested} is not valid for pod {name}")
    return requested


def log_run(pod: dict, container: str, previous: bool) -> int:
    """Which run of the container to read: the current one, or the one before it."""
    name = pod["metadata"]["name"]
    status = container_status(pod, container)
    state = status.get("state", {})
    if previous:
        if not status.get("lastState", {}).get("terminated"):
            raise errors.BadRequest(f'previous terminated container "{container}" in pod "{name}" not found')
        return status.get("restartCount", 1) - 1
    if not state or "waiting" in state:
        reason = state.get("waiting", {}).get("reason", "ContainerCreating")
        raise errors.BadRequest(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
    return status.get("restartCount", 0)


def log_lines(
    *,
    pod: dict,
    container: str,
    restart: int,
    after_id: int = 0,
    tail: int | None = None,
    since_seconds: int | None = None,
) -> list[ContainerLog]:
    rows = ContainerLog.objects.filter(
        pod_uid=pod["metadata"]["uid"], container=container, restart=restart, id__gt=after_id
    )
    if since_seconds is not None:
        rows = rows.filter(time__gte=timezone.now() - timedelta(seconds=since_seconds))
    if tail is not None:
        return list(reversed(rows.order_by("-id")[:tail])) if tail > 0 else []
    return list(rows.order_by("id"))
