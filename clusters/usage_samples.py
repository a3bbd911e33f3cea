"""The kubelet's record of what its node's containers use, and the rates read from it.

Each kubelet run takes a sample of its runtime's usage (clusters.runtime.base.ContainerUsage) when
the last is SAMPLE_INTERVAL old, and keeps the last two, as metrics-server keeps the last two
scrapes of each kubelet. A reader turns two samples of the same run into what metrics-server
serves (pkg/storage): CPU as the rate between them (nanocores) over a `window`, memory as the
working set of the newer one. A container that started less than a resolution ago, but at least
FRESH_CONTAINER_MIN ago, is measured from its start (it used no CPU before); a younger one, or one
seen once, is not measured yet, and its pod is left out until all its containers are. A node's
usage is the sum of its containers' plus what its own system (kubelet, runtime, OS) uses.

All pure: the record is the JSON kept in NodeRuntimeState.usage, times are passed in.

    {"samples": [older, newer]}, each {"at": <RFC 3339>, "containers": [
        {"pod": <uid>, "name": "web", "restart": 0, "started": <RFC 3339> | null,
         "at": <RFC 3339>, "cpu": <ns of CPU time since the start>, "memory": <bytes>}, …]}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from clusters.objects.times import format_micro_time, parse_time
from clusters.runtime.base import ContainerUsage

# metrics-server's defaults: --metric-resolution=15s, and no rate for a container younger than 10 s.
SAMPLE_INTERVAL = timedelta(seconds=15)
FRESH_CONTAINER_MIN = timedelta(seconds=10)
# A kubelet run a little early for its sample still takes it, rather than waking again at once.
EARLY_SLACK = timedelta(seconds=1)
# A sample that was due and could not be taken (the engine did not answer) is tried again then.
RETRY_AFTER = timedelta(seconds=5)
# Two samples further apart than this give no rate: metrics-server's windows are one resolution.
MAX_WINDOW = 2 * SAMPLE_INTERVAL
# Samples older than this are no longer served, as metrics-server stops serving a node it could
# not scrape: the kubelet is stopped, or nobody asked for a while and it stopped sampling.
STALE_AFTER = 2 * SAMPLE_INTERVAL + timedelta(seconds=5)
# What a node's own system uses besides its pods: kubelet, container runtime, kube-proxy, the OS
# (a kind worker node at rest shows about this).
SYSTEM_NANOCORES = 30_000_000
SYSTEM_MEMORY_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Usage:
    nanocores: int
    memory_bytes: int


@dataclass(frozen=True)
class Measured:
    """Usage over `window`, ending at `at` (metrics-server's `timestamp`)."""

    at: datetime
    window: timedelta
    usage: Usage


@dataclass(frozen=True)
class PodMeasured:
    """A pod's containers' usage (by name); `at` and `window` are those of the earliest-measured one."""

    at: datetime
    window: timedelta
    containers: dict[str, Usage]


# --- recording (the kubelet) -----------------------------------------------------------------


def usage_sample(usages: list[ContainerUsage], *, at: datetime) -> dict:
    """One sample of the node, taken at `at`, from what its runtime reported."""
    return {
        "at": format_micro_time(at),
        "containers": [
            {
                "pod": seen.pod_uid,
                "name": seen.name,
                "restart": seen.restart,
                "started": format_micro_time(seen.started_at) if seen.started_at else None,
                "at": format_micro_time(seen.at),
                "cpu": seen.cpu_nanoseconds,
                "memory": seen.memory_bytes,
            }
            for seen in usages
        ],
    }


def _samples(record: dict | None) -> list[dict]:
    return list((record or {}).get("samples", []))


def _at(sample: dict) -> datetime:
    return parse_time(sample["at"])


def usage_record_add(record: dict | None, sample: dict) -> dict:
    """The record with `sample` as the newest; the one before it stays only if it is recent
    enough to give a rate with it."""
    kept = [old for old in _samples(record)[-1:] if timedelta(0) < _at(sample) - _at(old) <= MAX_WINDOW]
    return {"samples": [*kept, sample]}


def usage_sample_due(record: dict | None, *, now: datetime) -> bool:
    samples = _samples(record)
    return not samples or now - _at(samples[-1]) >= SAMPLE_INTERVAL - EARLY_SLACK


def usage_next_sample(record: dict | None, *, wanted_until: datetime | None, now: datetime) -> datetime | None:
    """When the kubelet should run again to sample: while someone reads metrics, one resolution
    after the last sample; otherwise never for this alone (its other runs sample when due)."""
    if wanted_until is None or wanted_until <= now:
        return None
    samples = _samples(record)
    due = _at(samples[-1]) + SAMPLE_INTERVAL if samples else now
    return due if due > now else now + RETRY_AFTER


def usage_fresh(record: dict | None, *, now: datetime) -> bool:
    """Whether the newest sample is recent enough to serve."""
    samples = _samples(record)
    return bool(samples) and now - _at(samples[-1]) <= STALE_AFTER


# --- reading (the metrics API) -----------------------------------------------------------------


def _rate(last: dict, prev: dict | None) -> Measured | None:
    """metrics-server's resourceUsage: the CPU rate between two points of one run, and the newer
    point's memory; None when there is no earlier point or the two do not make a rate."""
    last_at, started = parse_time(last["at"]), parse_time(last["started"])
    if prev is not None:
        prev_at, prev_cpu = parse_time(prev["at"]), prev["cpu"]
    elif started is not None and FRESH_CONTAINER_MIN <= last_at - started < SAMPLE_INTERVAL:
        prev_at, prev_cpu = started, 0  # a fresh container: measured from its start
    else:
        return None
    window = last_at - prev_at
    if window <= timedelta(0) or last["cpu"] < prev_cpu:
        return None
    nanocores = int((last["cpu"] - prev_cpu) / window.total_seconds())
    return Measured(last_at, window, Usage(nanocores, last["memory"]))


def _key(point: dict) -> tuple[str, str]:
    return point["pod"], point["name"]


def _same_run(point: dict, other: dict) -> bool:
    return (point["restart"], point["started"]) == (other["restart"], other["started"])


def _measured(record: dict | None) -> tuple[dict, list[tuple[dict, Measured | None]]] | None:
    """The newest sample and, for each of its containers, its rate (None when it has none yet)."""
    samples = _samples(record)
    if not samples:
        return None
    last = samples[-1]
    before = {_key(point): point for point in samples[-2]["containers"]} if len(samples) > 1 else {}
    rates = []
    for point in last["containers"]:
        prev = before.get(_key(point))
        rates.append((point, _rate(point, prev if prev is not None and _same_run(point, prev) else None)))
    return last, rates


def pod_usages(record: dict | None) -> dict[str, PodMeasured]:
    """By pod uid, the pods of the node whose every running container has a rate."""
    measured = _measured(record)
    if measured is None:
        return {}
    by_pod: dict[str, list[tuple[str, Measured | None]]] = {}
    for point, rate in measured[1]:
        by_pod.setdefault(point["pod"], []).append((point["name"], rate))
    pods = {}
    for uid, rates in by_pod.items():
        if any(rate is None for _, rate in rates):
            continue  # metrics-server serves a pod only once it has a rate for every container
        earliest = min((rate for _, rate in rates), key=lambda rate: rate.at)
        pods[uid] = PodMeasured(earliest.at, earliest.window, {name: rate.usage for name, rate in rates})
    return pods


def node_usage(record: dict | None) -> Measured | None:
    """The node's usage between its last two samples: its system's own plus every container's
    memory and, of those that have one, CPU rate. None until there are two samples."""
    samples = _samples(record)
    measured = _measured(record)
    if measured is None or len(samples) < 2:
        return None
    last, rates = measured
    nanocores = SYSTEM_NANOCORES + sum(rate.usage.nanocores for _, rate in rates if rate is not None)
    memory = SYSTEM_MEMORY_BYTES + sum(point["memory"] for point, _ in rates)
    return Measured(_at(last), _at(last) - _at(samples[-2]), Usage(nanocores, memory))
