"""Container output: the runtime appends lines, `kubectl logs` reads them (and follows them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from clusters import errors
from clusters.models import ContainerLog, Sandbox


def container_log_append(
    *, sandbox: Sandbox, pod_uid: str, container: str, restart: int, lines: list[str], at: datetime | None = None
) -> None:
    moment = at or timezone.now()
    ContainerLog.objects.bulk_create(
        ContainerLog(sandbox=sandbox, pod_uid=pod_uid, container=container, restart=restart, time=moment, line=line)
        for line in lines
    )


def _rfc3339_nano(moment: datetime) -> str:
    return moment.astimezone(timezone.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_line(entry: ContainerLog, timestamps: bool) -> str:
    return f"{_rfc3339_nano(entry.time)} {entry.line}\n" if timestamps else entry.line + "\n"


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
