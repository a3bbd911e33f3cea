"""Which runtime the sandboxes use: TUTOR_RUNTIME, with `auto` meaning Docker when it answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RuntimeStatus:
    kind: str  # "docker" or "simulated"
    state: str  # "ok", or "unavailable" when Docker was asked for and does not answer
    detail: str


def runtime_choose(setting: str, engine: tuple[bool, str]) -> RuntimeStatus:
    """Decide the runtime from the setting and the result of pinging the engine."""
    answers, detail = engine
    if setting == "simulated":
        return RuntimeStatus("simulated", "ok", "simulated runtime (TUTOR_RUNTIME=simulated)")
    if setting == "docker":
        return RuntimeStatus("docker", "ok" if answers else "unavailable", detail)
    if answers:
        return RuntimeStatus("docker", "ok", detail)
    return RuntimeStatus("simulated", "ok", f"simulated runtime ({detail})")


def runtime_status(ping: Callable[[], tuple[bool, str]] | None = None) -> RuntimeStatus:
    if settings.TUTOR_RUNTIME == "simulated":
        return runtime_choose("simulated", (False, "not asked"))
    if ping is None:
        # Imported here: the Docker SDK loads only in processes that use a Docker engine.
        from clusters.runtime.docker import engine_ping as ping
    return runtime_choose(settings.TUTOR_RUNTIME, ping())
