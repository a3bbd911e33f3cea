"""The burst's growth curve: bench/pod_burst.py at 100, 500, 1,000, 2,000 and 5,000 pods.

Each size is a class of sandboxes with 20 pods each (5 to 250 sandboxes), run as pod_burst runs
it: a fresh stack as `make run` starts it (web, one worker process with four threads, beat;
PostgreSQL and Redis), a Deployment of 20 replicas written to every sandbox, timed until every
pod is Running and Ready. For each size it keeps the time, the peak memory of web, worker and
beat, and the CPU each used; then the seconds per 1,000 pods at each size, against the smallest
class's. Growth is called linear while that rate stays within 25 % of the smallest class's: past
that, something grows with the class (the answer says which process's CPU per pod grew most).

Writes bench/results/growth.json and bench/results/growth.png (time and peak memory against
pods) and prints the JSON object.

Usage: .venv/bin/python bench/growth.py [--sizes 100,500,1000,2000,5000] (the test services up)
"""

from __future__ import annotations

import argparse
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


def burst(pods: int) -> dict:
    sandboxes = max(1, pods // PODS_PER_SANDBOX)
    args = ["--sandboxes", str(sandboxes), "--pods-per-sandbox", str(PODS_PER_SANDBOX), "--timeout", "1200"]
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
    """Where the seconds per 1,000 pods leave the smallest class's rate by more than 25 %."""
    base = points[0]
    rates = [(p["pods"], p["seconds_per_1000_pods"]) for p in points if p["seconds_per_1000_pods"]]
    beyond = [pods for pods, rate in rates if rate > base["seconds_per_1000_pods"] * LINEAR_WITHIN]
    answer = {"base_seconds_per_1000_pods": base["seconds_per_1000_pods"], "linear_up_to_pods": None}
    linear = [pods for pods, _ in rates if not beyond or pods < beyond[0]]
    answer["linear_up_to_pods"] = linear[-1] if linear else None
    if beyond:
        first = next(p for p in points if p["pods"] == beyond[0])
        grew = {
            name: round(first["cpu_ms_per_pod"][name] / max(base["cpu_ms_per_pod"][name], 0.1), 2)
            for name in first["cpu_ms_per_pod"]
        }
        answer["first_beyond_pods"] = beyond[0]
        answer["cpu_per_pod_growth_there"] = grew
    return answer


def plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    pods = [p["pods"] for p in points]
    figure, time_axis = pyplot.subplots(figsize=(8, 4.5))
    time_axis.plot(pods, [p["seconds"] for p in points], "o-", color="tab:blue", label="seconds to all Ready")
    time_axis.plot(
        pods,
        [points[0]["seconds_per_1000_pods"] * n / 1000 for n in pods],
        ":",
        color="tab:blue",
        label="linear from the smallest class",
    )
    time_axis.set_xlabel("pods (20 per sandbox)")
    time_axis.set_ylabel("seconds")
    memory_axis = time_axis.twinx()
    memory_axis.plot(pods, [p["peak_memory_mb"] for p in points], "s--", color="tab:red", label="peak memory (MB)")
    memory_axis.set_ylabel("MB (web + worker + beat)")
    lines = time_axis.get_legend_handles_labels()
    more = memory_axis.get_legend_handles_labels()
    time_axis.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left")
    time_axis.set_title("Simulated burst: time and peak memory against pods")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def main() -> None:
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
    }
    plot(points, PLOT)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
