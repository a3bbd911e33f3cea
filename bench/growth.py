"""The burst's growth curve: bench/pod_burst.py at 100, 500, 1,000, 2,000 and 5,000 pods.

Each size is a class of sandboxes with 20 pods each (5 to 250 sandboxes), run as pod_burst runs
it: a fresh stack as docker-compose.yml deploys it (web, two worker processes of four threads,
beat; PostgreSQL and Redis), a Deployment of 20 replicas written to every sandbox, timed until every
pod is Running and Ready. For each size it keeps the time, the peak memory of web, worker and
beat, and the CPU each used; then the marginal cost, seconds per 1,000 more pods from one size
to the next. Growth is called linear while that stays within 25 % of the first step's: past
that, something grows with the class (the answer shows each process's CPU per pod on both sides).

Writes bench/results/growth.json and bench/results/growth.png (time and peak memory against
pods) and prints the JSON object.

Usage: .venv/bin/python bench/growth.py [--sizes 100,500,1000,2000,5000] (the test services up)
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "growth.json"
PLOT = BENCH / "results" / "growth.png"
PODS_PER_SANDBOX = 20
LINEAR_WITHIN = 1.25
WORKERS = 2  # as docker-compose.yml deploys the worker, and bench/suite.py measures it


def burst(pods: int) -> dict:
    sandboxes = max(1, pods // PODS_PER_SANDBOX)
    args = ["--sandboxes", str(sandboxes), "--pods-per-sandbox", str(PODS_PER_SANDBOX), "--timeout", "1200"]
    args += ["--workers", str(WORKERS)]
    done = subprocess.run(
        [sys.executable, str(BENCH / "pod_burst.py"), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"pod_burst at {pods} pods failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout[done.stdout.find("{") :])


def point(result: dict) -> dict:
    seconds = result["seconds_to_all_running"]
    pods = result["pods"]
    cpu = result["cpu_seconds"]
    return {
        "pods": pods,
        "sandboxes": result["sandboxes"],
        "seconds": seconds,
        "all_ready": result["all_ready"],
        "peak_memory_mb": result["peak_memory_mb"],
        "seconds_per_1000_pods": round(seconds / pods * 1000, 2) if seconds else None,
        "cpu_ms_per_pod": {name: round(value / pods * 1000, 1) for name, value in cpu.items()},
        "worker_tasks_per_pod": round(result["worker_tasks"] / pods, 2),
        "busy_percent_of_machine": result["machine"]["busy_percent_of_machine"],
    }


def linearity(points: list[dict]) -> dict:
    """The marginal cost, seconds per 1,000 more pods from one size to the next, and the first
    size where it exceeds the first step's by more than 25 % (the smallest class carries the
    stack's fixed costs, so rates are compared step to step, not against it), with how much each
    process's CPU per pod grew there against the size before."""
    steps = []
    for before, after in itertools.pairwise(points):
        if before["seconds"] is None or after["seconds"] is None:
            break
        rate = (after["seconds"] - before["seconds"]) / (after["pods"] - before["pods"]) * 1000
        steps.append({"from_pods": before["pods"], "to_pods": after["pods"], "seconds_per_1000_more": round(rate, 1)})
    answer = {"steps": steps, "linear_up_to_pods": steps[-1]["to_pods"] if steps else None}
    if not steps:
        return answer
    first = steps[0]["seconds_per_1000_more"]
    beyond = next((step for step in steps if step["seconds_per_1000_more"] > first * LINEAR_WITHIN), None)
    if beyond is not None:
        answer["linear_up_to_pods"] = beyond["from_pods"]
        before = next(p for p in points if p["pods"] == beyond["from_pods"])
        after = next(p for p in points if p["pods"] == beyond["to_pods"])
        answer["cpu_ms_per_pod_there"] = {
            name: [before["cpu_ms_per_pod"][name], after["cpu_ms_per_pod"][name]] for name in after["cpu_ms_per_pod"]
        }
        answer["worker_tasks_per_pod_there"] = [before["worker_tasks_per_pod"], after["worker_tasks_per_pod"]]
    return answer


def plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    pods = [p["pods"] for p in points]
    figure, time_axis = pyplot.subplots(figsize=(8, 4.5))
    time_axis.plot(pods, [p["seconds"] for p in points], "o-", color="tab:blue", label="seconds to all Ready")
    steps = linearity(points)["steps"]
    if steps:
        first, rate = points[0], steps[0]["seconds_per_1000_more"] / 1000
        time_axis.plot(
            pods,
            [first["seconds"] + rate * (n - first["pods"]) for n in pods],
            ":",
            color="tab:blue",
            label="linear at the first step's rate",
        )
    time_axis.set_xlabel("pods (20 per sandbox)")
    time_axis.set_ylabel("seconds")
    memory_axis = time_axis.twinx()
    memory_axis.plot(pods, [p["peak_memory_mb"] for p in points], "s--", color="tab:red", label="peak memory (MB)")
    memory_axis.set_ylabel("MB (web + worker + beat)")
    memory_axis.set_ylim(0, max(p["peak_memory_mb"] for p in points) * 1.2)  # from zero: a flat line reads flat
    lines = time_axis.get_legend_handles_labels()
    more = memory_axis.get_legend_handles_labels()
    time_axis.legend(lines[0] + more[0], lines[1] + more[1], loc="lower right")
    time_axis.set_title("Simulated burst: time and peak memory against pods")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def main() -> None:
    from suite import machine  # a sibling script's, as this one runs from bench/

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,500,1000,2000,5000", help="pods per run, comma-separated")
    options = parser.parse_args()
    started = time.monotonic()
    points = []
    for pods in sorted(int(size) for size in options.sizes.split(",")):
        points.append(point(burst(pods)))
        print(f"growth: {pods} pods in {points[-1]['seconds']} s", file=sys.stderr)
    report = {
        "benchmark": "growth",
        "points": points,
        "linearity": linearity(points),
        "seconds": round(time.monotonic() - started, 1),
        "plot": str(PLOT.relative_to(BENCH.parent)),
        "machine": machine(),  # with the commit and cpu_reference_ms: curves of other days compare
    }
    plot(points, PLOT)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
