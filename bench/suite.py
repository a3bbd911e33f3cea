"""`make bench`: the whole product measured in one run, printed as one JSON object.

One stack, as deployed (web, two worker processes and beat, PostgreSQL and Redis from
scripts/test-services, the Docker engine when one answers, Chromium for the pages), started once;
each benchmark of bench/ then runs as its own program against it (harness.SHARED_STACK), and
every sandbox and user it made is deleted before the next one starts, so each measures an empty
stack. The figures are gathered under the keys docs/performance.md explains; the object is also
written to bench/results/latest.json, and the apply-to-Running distributions of both runtimes
drawn to bench/results/apply_to_running.png.

BENCH_QUICK=1 runs each with fewer samples and smaller classes (the same keys; `quick` says so,
and each figure's `n` says how many samples it has); the targets are judged on full runs only
where the size is part of the target (1,000 pods, 50 sandboxes). A figure that could not be
measured is null, and `unmeasured` says why: never a made-up number. A benchmark that fails
makes the suite fail (after printing what it has); no Docker engine only leaves Docker's null.
BENCH_ONLY=name,name runs only those (RUNS below); BENCH_KEEP=1 keeps the stack's folder (its
processes' logs) and its database.

Usage: .venv/bin/python bench/suite.py (make bench runs it with the services up).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "latest.json"
PLOT = BENCH / "results" / "apply_to_running.png"

# The shared stack's settings: the union of what the benchmarks ask of theirs. No pod limit (the
# list figure needs 1,000 pods in one sandbox); quick retries, as a class's lesson speed has them.
SHARED_ENV = {"TUTOR_RUNTIME": "simulated", "TUTOR_SANDBOX_MAX_PODS": "0", "TUTOR_FAST_BACKOFF": "1"}
# Worker processes, as docker-compose.yml deploys them (one per core of a two-core machine).
DEPLOYED_WORKERS = 2

# name → (arguments of a full run, arguments of a quick run, needs Docker)
RUNS: dict[str, tuple[list[str], list[str], bool]] = {
    "sandbox_cost": (["--sandboxes", "50"], ["--sandboxes", "10", "--settle", "1"], False),
    "api_latency": (
        ["--database", "postgresql", "--writes", "300", "--pods", "1000", "--watch-events", "200"],
        ["--database", "postgresql", "--writes", "40", "--pods", "1000", "--watch-events", "30"],
        False,
    ),
    "apply_simulated": (
        ["--runtime", "simulated", "--pods", "100"],
        ["--runtime", "simulated", "--pods", "20", "--warmup", "1", "--gap", "0.1"],
        False,
    ),
    "pod_burst": (
        ["--sandboxes", "50", "--pods-per-sandbox", "20"],
        ["--sandboxes", "10", "--pods-per-sandbox", "20", "--settle", "1"],
        False,
    ),
    "apply_docker": (
        ["--runtime", "docker", "--pods", "20"],
        ["--runtime", "docker", "--pods", "5", "--warmup", "1", "--gap", "0.1", "--floor-only"],
        True,
    ),
    "exec_round_trip": (["--samples", "30"], ["--samples", "6"], True),
    "idle_cpu": (
        ["--sandboxes", "50", "--seconds", "300", "--settle", "30"],  # 300: one full-resync period
        ["--sandboxes", "10", "--seconds", "6", "--settle", "1"],
        False,
    ),
    "learner_pages": ([], ["--page-loads", "10", "--writes", "5", "--commands", "2"], False),
    "dashboard": (
        [],
        ["--learners", "5", "--page-loads", "10", "--draws", "3", "--trials", "2", "--settle", "1"],
        False,
    ),
}
PROGRAMS = {"apply_simulated": "apply_to_running", "apply_docker": "apply_to_running"}


def run(name: str, quick: bool, env: dict[str, str]) -> tuple[dict | None, str]:
    """One benchmark's JSON, or None and why not."""
    full, short, _ = RUNS[name]
    program = BENCH / f"{PROGRAMS.get(name, name)}.py"
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(program), *(short if quick else full)],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return None, f"{program.name} did not finish within 30 minutes"
    seconds = round(time.monotonic() - started, 1)
    print(f"bench: {name} took {seconds} s", file=sys.stderr)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"{program.name} failed: {last[:300]}"
    text = done.stdout[done.stdout.find("{") :]
    try:
        result = json.loads(text)
    except ValueError:
        return None, f"{program.name} printed no JSON object"
    result["bench_seconds"] = seconds
    return result, ""


def pick(result: dict | None, *path: str) -> dict | float | None:
    for key in path:
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result


def percentiles(figure: dict | None, *names: str) -> dict | None:
    if not isinstance(figure, dict):
        return None
    return {name: figure[name] for name in (*names, "n") if name in figure}


def ratio(numerator: dict | None, denominator: dict | None) -> float | None:
    if not numerator or not denominator or not denominator.get("p50"):
        return None
    return round(numerator["p50"] / denominator["p50"], 2)


def figures(results: dict[str, dict | None]) -> dict:
    """The suite's keys from the benchmarks' own figures (pure)."""
    cost, api, simulated, burst = (
        results.get(n) for n in ("sandbox_cost", "api_latency", "apply_simulated", "pod_burst")
    )
    docker, execs, idle = (results.get(n) for n in ("apply_docker", "exec_round_trip", "idle_cpu"))
    pages, dashboard = results.get("learner_pages"), results.get("dashboard")
    docker_apply = pick(docker, "apply_to_running_ms")
    raw_run, floor = pick(docker, "raw_docker_run_ms"), pick(docker, "raw_pod_on_internal_network_ms")
    page_times = pick(pages, "page_server_time_ms") or {}
    idle_percent = pick(idle, "cpu_percent_of_one_core")
    return {
        "sandbox_create_ms": percentiles(pick(cost, "sandbox_create_ms"), "p50", "p99"),
        "api": {
            "write_ms": pick(api, "write_ms"),
            "list_1000_ms": pick(api, "list_1000_pods_ms"),
            "watch_delivery_ms": pick(api, "watch_delivery_ms"),
        },
        "simulated": {
            "apply_to_running_ms": percentiles(pick(simulated, "apply_to_running_ms"), "p50", "p99"),
            "burst": None
            if burst is None
            else {
                "pods": burst["pods"],
                "sandboxes": burst["sandboxes"],
                "seconds": burst["seconds_to_all_running"],
                "peak_memory_mb": burst.get("peak_memory_mb"),
            },
        },
        "docker": {
            "apply_to_running_ms": percentiles(docker_apply, "p50", "p99"),
            "raw_docker_run_ms": percentiles(raw_run, "p50", "p99"),
            "raw_pod_floor_ms": percentiles(floor, "p50", "p99"),
            "overhead_ratio": ratio(docker_apply, raw_run),
            "floor_ratio": ratio(docker_apply, floor),
        },
        "exec_ms": percentiles(pick(execs, "exec_ms"), "p50", "p95"),
        "web": {
            "lesson_page_ms": percentiles(page_times.get("/lessons/pods/"), "p50", "p95"),
            "sandbox_page_ms": percentiles(page_times.get("/sandboxes/default/"), "p50", "p95"),
            "dashboard_50x20_ms": percentiles(pick(dashboard, "dashboard_ms"), "p50", "p95"),
            "live_update_ms": percentiles(pick(pages, "api_write_to_dom_ms"), "p50", "p95"),
        },
        "idle": {
            "worker_beat_cpu_pct": None
            if idle_percent is None
            else round(sum(v for k, v in idle_percent.items() if k.startswith(("worker", "beat"))), 2),
            "memory_per_sandbox_kb": pick(cost, "memory_per_sandbox_kb"),
        },
    }


def targets(keys: dict, results: dict[str, dict | None], quick: bool) -> dict:
    """Each target of docs/performance.md: met (true/false), or null when its figure is missing
    or (quick) measured at a size other than the target's (pure)."""

    def judged(value, test, *, sized: bool = True):
        if value is None or (quick and not sized):
            return None
        return bool(test(value))

    burst, idle = keys["simulated"]["burst"], results.get("idle_cpu")
    return {
        "sandbox_create_p50_le_100_ms": judged(keys["sandbox_create_ms"], lambda v: v["p50"] <= 100),
        "simulated_apply_p50_le_60_ms": judged(keys["simulated"]["apply_to_running_ms"], lambda v: v["p50"] <= 60),
        "simulated_apply_p99_le_200_ms": judged(keys["simulated"]["apply_to_running_ms"], lambda v: v["p99"] <= 200),
        "burst_1000_pods_50_sandboxes_le_10_s": judged(
            burst,
            lambda v: v["seconds"] is not None and v["seconds"] <= 10,
            sized=bool(burst and burst["pods"] == 1000),
        ),
        "docker_p50_le_1_2_x_raw_pod_floor": judged(keys["docker"]["floor_ratio"], lambda v: v <= 1.2),
        "idle_cpu_le_2_pct_with_50_sandboxes": judged(
            keys["idle"]["worker_beat_cpu_pct"], lambda v: v <= 2, sized=bool(idle and idle.get("sandboxes") == 50)
        ),
        "pod_start_p99_le_5_s_slo": judged(keys["docker"]["apply_to_running_ms"], lambda v: v["p99"] <= 5000),
    }


def cpu_reference_ms() -> float:
    """A fixed pure-Python workload's time, best of three: how fast one core of this machine is
    now, so that runs made on machines (or days) of different speed can be told apart."""

    def once() -> float:
        started = time.perf_counter()
        sum(i * i for i in range(2_000_000))
        return (time.perf_counter() - started) * 1000

    return round(min(once() for _ in range(3)), 1)


def machine() -> dict:
    memory_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.machine(),
    )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(memory_kb / 2**20, 1),
        "python": platform.python_version(),
        "commit": commit.stdout.strip(),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "cpu_reference_ms": cpu_reference_ms(),
    }


def stack_empty() -> None:
    """Delete what a benchmark made: its sandboxes the way a learner's go (a worker removes a
    Docker one's containers), then every user with their classrooms and progress. In this
    process, on the stack's database (django_attach)."""
    from django.contrib.auth import get_user_model

    from clusters.models import Sandbox
    from clusters.sandboxes import sandbox_delete

    for sandbox in Sandbox.objects.all():
        sandbox_delete(sandbox=sandbox)
    get_user_model().objects.all().delete()


def django_attach(env: dict[str, str]) -> None:
    """This process on the stack's database and broker, as its own processes are."""
    from tests.system.stack import OUTER_SERVICE_VARIABLES

    for name in OUTER_SERVICE_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(env, DJANGO_SETTINGS_MODULE="tutor.settings")
    import django

    django.setup()


def measure_all(bench, quick: bool, docker: bool) -> tuple[dict[str, dict | None], dict[str, str]]:
    """Every benchmark against the running stack `bench`, emptied after each."""
    from harness import SHARED_STACK

    description = bench.stack.root / "stack.json"
    description.write_text(json.dumps(bench.describe()))
    env = {**os.environ, SHARED_STACK: str(description)}
    results: dict[str, dict | None] = {}
    unmeasured: dict[str, str] = {}
    only = [name for name in os.environ.get("BENCH_ONLY", "").split(",") if name]
    for name, (_, _, needs_docker) in RUNS.items():
        if only and name not in only:
            continue
        if needs_docker and not docker:
            results[name] = None
            unmeasured[name] = "no Docker engine answers (scripts/test-services up starts one as root)"
            continue
        results[name], reason = run(name, quick, env)
        if reason:
            unmeasured[name] = reason
        stack_empty()
    return results, unmeasured


def plot(results: dict[str, dict | None], path: Path) -> bool:
    """The apply-to-Running samples of both runtimes, one histogram each, as a PNG."""
    samples = {
        runtime: pick(results.get(name), "apply_to_running_samples_ms")
        for runtime, name in (("simulated", "apply_simulated"), ("docker", "apply_docker"))
    }
    samples = {runtime: values for runtime, values in samples.items() if values}
    if not samples:
        return False
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, len(samples), figsize=(5 * len(samples), 3.5), squeeze=False)
    for axis, (runtime, values) in zip(axes[0], samples.items(), strict=True):
        axis.hist(values, bins=min(30, max(5, len(values) // 2)), color="#326ce5")
        ordered = sorted(values)
        p50 = ordered[len(ordered) // 2]
        axis.axvline(p50, color="black", linestyle="--", label=f"p50 {p50:.0f} ms")
        axis.set_title(f"{runtime}: apply to Running ({len(values)} pods)")
        axis.set_xlabel("milliseconds")
        axis.set_ylabel("pods")
        axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return True


def main() -> None:
    from harness import bench_stack, docker_answers

    quick = os.environ.get("BENCH_QUICK") == "1"
    started = time.monotonic()
    docker = docker_answers()
    keep = os.environ.get("BENCH_KEEP") == "1"
    # With the pages' scripts and styles collected, served by the web as deployed (DEBUG off).
    with bench_stack(database="postgresql", broker="redis", extra_env=SHARED_ENV, keep=keep, static=True) as bench:
        bench.start(workers=DEPLOYED_WORKERS)
        django_attach(bench.stack.env)
        print(f"bench: the stack started in {round(time.monotonic() - started, 1)} s", file=sys.stderr)
        results, unmeasured = measure_all(bench, quick, docker)
    keys = figures(results)
    drawn = plot(results, PLOT)
    report = {
        "quick": quick,
        **keys,
        "targets": targets(keys, results, quick),
        "unmeasured": unmeasured,
        "seconds": round(time.monotonic() - started, 1),
        "plot": str(PLOT.relative_to(BENCH.parent)) if drawn else None,
        "machine": machine(),
        "details": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
    failed = {name: why for name, why in unmeasured.items() if not why.startswith("no Docker engine")}
    if failed:
        raise SystemExit(f"bench: {len(failed)} benchmark(s) failed: {failed}")


if __name__ == "__main__":
    main()
