"""What a simulated container uses of CPU and memory: a model, since nothing runs.

The figures are what the same container shows in `kubectl top` on a real node, rounded, so a
lesson reads the same on both runtimes. They are a pure function of the container's spec, its
image and how long it has run — the same every time they are asked, as a test needs them:

- A process that only waits (`sleep`, `tail -f`, a shell on an open stdin) uses no CPU.
- A shell loop that sleeps between rounds wakes now and then: about 1m.
- A server idles at a few millicores (web servers 2m, databases 5m, agents and pause 0). A web
  server also spends its cost per request (`REQUEST_MILLICORE_SECONDS`: the HorizontalPodAutoscaler
  walkthrough's hpa-example tens of milliseconds of a core, a static server half a millisecond)
  times the requests a second the sandbox's looping clients send it (clusters.runtime.
  modelled_traffic, given as `served_rate`).
- A busy loop — `while`/`until` with no `sleep` in the script, `yes`, hashing or copying
  `/dev/zero` or `/dev/urandom` — spins one core; `stress --cpu N --vm M` spins N + M, vish/stress
  `-cpus N` spins N. A loop that fetches with `wget`, `curl` or `nc` and no `sleep` waits on the
  network about half the time: half a core. A CPU limit caps all of these (the CFS quota
  throttles the rest); the node's own size does not (several busy containers on one node are
  not made to share it).
- Memory is the image's working set (the catalog's `memory`), plus what stress allocates
  (`--vm N --vm-bytes B`: N times B; vish/stress `-mem-total`), at most the memory limit (past it
  the run is OOMKilled).

The CPU time reported is the rate times the time the run has been running, so the rate a reader
computes between two samples is the model's rate. A rate that changes (a client starts or stops)
accrues from the previous sample on (`accrued`), so that a reader sees the new rate, not a jump.
"""

from __future__ import annotations

import re
from datetime import datetime

from clusters.objects.quantity import QuantityError, quantity_from_json
from clusters.runtime import catalog
from clusters.runtime.base import ContainerUsage

NANOCORES_PER_MILLICORE = 1_000_000
CORE = 1000  # millicores
MEBIBYTE = 2**20
DEFAULT_MEMORY_BYTES = MEBIBYTE  # an image the catalog gives no figure for
SLEEPING_LOOP_MILLICORES = 1.0
NETWORK_LOOP_MILLICORES = CORE / 2
# What an image's own server spends at rest, by the catalog's kind: timers and housekeeping.
SERVER_MILLICORES = {"web": 2.0, "database": 5.0, "idle": 0.0}
# What a web server spends on one request, in millicore-seconds (a millicore for a second, or a
# core for a millisecond); images not named here serve static pages.
REQUEST_MILLICORE_SECONDS = {"registry.k8s.io/hpa-example": 60.0}
STATIC_REQUEST_MILLICORE_SECONDS = 0.5

_LOOP = re.compile(r"\b(while|until)\b")
_SLEEP = re.compile(r"\bsleep\b")
_NETWORK_CLIENT = re.compile(r"\b(wget|curl|nc)\b")
_BURNER = re.compile(
    r"(^|[\s;&|(])yes(\s|$|[;&|>)])"  # `yes`, which prints as fast as it can
    r"|\b(md5sum|sha1sum|sha256sum|sha512sum|cksum|cat)\s+/dev/(zero|u?random)\b"
    r"|\bdd\b(?![^;&|]*\bcount=)[^;&|]*\bif=/dev/(zero|u?random)\b"  # a dd with no end
)


def _bytes(quantity: object) -> int | None:
    try:
        return int(quantity_from_json(quantity).value) if quantity is not None else None
    except QuantityError:
        return None


def _millicores(quantity: object) -> float | None:
    try:
        return float(quantity_from_json(quantity).value * CORE) if quantity is not None else None
    except QuantityError:
        return None


def _options(args: list[str]) -> dict[str, str]:
    """`--vm 2`, `-cpus 2` and `-cpus=2` alike, by name without dashes."""
    options, pending = {}, None
    for arg in args:
        if arg.startswith("-"):
            name, _, value = arg.lstrip("-").partition("=")
            options[name], pending = value, (None if value else name)
        elif pending:
            options[pending], pending = arg, None
    return options


def _stress(argv: list[str]) -> tuple[int, int]:
    """(cores spun, bytes allocated) of polinux's `stress --cpu N --vm M --vm-bytes B` or of
    vish/stress's `/stress -cpus N -mem-total Q`."""
    options = _options(argv[1:])

    def count(name: str) -> int:
        value = options.get(name, "")
        return int(value) if value.isdigit() else 0

    if argv[0].startswith("/"):  # vish/stress: Go flags and quantities
        return count("cpus"), _bytes(options.get("mem-total", "0")) or 0
    size = _bytes(options.get("vm-bytes", "256M").replace("M", "Mi").replace("G", "Gi")) or 0
    return count("cpu") + count("vm"), count("vm") * size


def request_cost(container: dict) -> float | None:
    """Millicore-seconds the container's web server spends on one request; None when it runs no
    web server."""
    entry = catalog.image_entry(container.get("image", ""))
    if entry is None:
        return None
    argv = catalog.argv_for(entry, container)
    if not catalog.is_server(entry, argv) or catalog.server_entry(entry, argv)["kind"] != "web":
        return None
    repository = catalog.image_ref(container.get("image", "")).repository
    return REQUEST_MILLICORE_SECONDS.get(catalog.ALIASES.get(repository, repository), STATIC_REQUEST_MILLICORE_SECONDS)


def cpu_limit(container: dict) -> float | None:
    """The container's CPU limit in millicores, if it has one."""
    return _millicores(((container.get("resources") or {}).get("limits") or {}).get("cpu"))


def demand(container: dict, served_rate: float = 0.0) -> tuple[float, int]:
    """(millicores, working set bytes) the container's program would use, before its limits,
    serving `served_rate` requests a second if it is a web server."""
    entry = catalog.image_entry(container.get("image", "")) or catalog.IMAGES["busybox"]
    argv = catalog.argv_for(entry, container)
    memory = _bytes(entry.get("memory")) or DEFAULT_MEMORY_BYTES
    if entry["kind"] == "stress" and catalog.is_server(entry, argv):
        cores, allocated = _stress(argv)
        return float(cores * CORE), memory + allocated
    if catalog.is_server(entry, argv):
        serving = served_rate * (request_cost(container) or 0.0)
        return SERVER_MILLICORES.get(catalog.server_entry(entry, argv)["kind"], 0.0) + serving, memory
    script = " ".join(argv)
    if _BURNER.search(script) or (_LOOP.search(script) and not _SLEEP.search(script)):
        return (NETWORK_LOOP_MILLICORES if _NETWORK_CLIENT.search(script) else float(CORE)), memory
    return (SLEEPING_LOOP_MILLICORES if _LOOP.search(script) else 0.0), memory


def usage(container: dict, served_rate: float = 0.0) -> tuple[float, int]:
    """(millicores, working set bytes) the container uses: its demand within its limits."""
    millicores, memory = demand(container, served_rate)
    limits = (container.get("resources") or {}).get("limits") or {}
    cpu_limit, memory_limit = _millicores(limits.get("cpu")), _bytes(limits.get("memory"))
    if cpu_limit is not None:
        millicores = min(millicores, cpu_limit)
    if memory_limit is not None:
        memory = min(memory, memory_limit)
    return millicores, memory


def container_usage(
    pod_uid: str,
    container: dict,
    *,
    restart: int,
    started_at: datetime,
    now: datetime,
    served_rate: float = 0.0,
    accrued: tuple[int, datetime] | None = None,
) -> ContainerUsage:
    """The sample a running run of `container` gives at `now`: its CPU time since `started_at`,
    at today's rate since the last sample (`accrued`: its CPU time then, and when) or since the start."""
    millicores, memory = usage(container, served_rate)
    before, since = accrued if accrued is not None else (0, started_at)
    running = max((now - since).total_seconds(), 0.0)
    return ContainerUsage(
        pod_uid=pod_uid,
        name=container["name"],
        restart=restart,
        at=now,
        cpu_nanoseconds=before + round(millicores * NANOCORES_PER_MILLICORE * running),
        memory_bytes=memory,
        started_at=started_at,
    )
