"""The fault trials' figures: var/artifacts/chaos.json, one entry per trial, written as each trial
ends (and printed), so a run that stops half-way still says what it measured.

    .venv/bin/python -m tests.chaos.figures --check    fails unless every trial is there, run
                                                       this time, with nothing lost
"""

from __future__ import annotations

import calendar
import json
import os
import statistics
import sys
import time
from pathlib import Path

ARTIFACT = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "chaos.json"
# Every trial `make chaos` must have run; the check refuses a file that lacks one.
TRIALS = (
    "worker_kill_mid_reconcile",
    "steady_state_restarts",
    "redis_restart_during_burst",
    "docker_engine_restart",
    "container_removed",
    "pod_sandbox_removed",
    "postgres_restart",
)


def seconds(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "max": round(ordered[-1], 2),
        "min": round(ordered[0], 2),
        "n": len(ordered),
    }


def record(trial: str, figures: dict) -> None:
    """Add (or replace) one trial's figures, and print them."""
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    current[trial] = {**figures, "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    temporary = ARTIFACT.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    temporary.replace(ARTIFACT)
    print(f"\nchaos {trial}: {json.dumps(figures, sort_keys=True)}", flush=True)


def check(*, since: float) -> list[str]:
    """What is wrong with the figures: a trial missing or older than `since` (epoch seconds), a
    trial with nothing injected, or anything lost."""
    if not ARTIFACT.exists():
        return [f"{ARTIFACT} does not exist: no trial ran"]
    current = json.loads(ARTIFACT.read_text())
    problems = []
    for trial in TRIALS:
        figures = current.get(trial)
        if figures is None:
            problems.append(f"{trial}: no figures")
            continue
        at = calendar.timegm(time.strptime(figures["recorded_at"], "%Y-%m-%dT%H:%M:%SZ"))
        if at < since:
            problems.append(f"{trial}: its figures are from an earlier run ({figures['recorded_at']})")
        if not figures.get("faults_injected"):
            problems.append(f"{trial}: no fault injected")
        if figures.get("lost"):
            problems.append(f"{trial}: lost {figures['lost']}")
    return problems


def main() -> None:
    since = float(sys.argv[sys.argv.index("--since") + 1]) if "--since" in sys.argv else 0.0
    problems = check(since=since)
    if ARTIFACT.exists():
        print(ARTIFACT.read_text())
    for problem in problems:
        print(f"chaos: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
