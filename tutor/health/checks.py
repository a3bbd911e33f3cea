"""Decisions about health, as pure functions: no database, no broker, `now` passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WorkerState:
    state: str  # "ok", "stale" or "missing"
    age_seconds: float | None


def worker_state(last_seen: datetime | None, *, now: datetime, stale_after: float) -> WorkerState:
    """A worker is ok while its newest heartbeat is younger than `stale_after` seconds."""
    if last_seen is None:
        return WorkerState("missing", None)
    age = max(0.0, (now - last_seen).total_seconds())
    return WorkerState("ok" if age <= stale_after else "stale", round(age, 3))


def overall_status(parts: dict[str, str]) -> str:
    return "ok" if all(value == "ok" for value in parts.values()) else "degraded"
