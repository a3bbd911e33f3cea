"""Read a traced benchmark folder (trace.jsonl, pods.jsonl) and show, pod by pod, which tasks ran
between its write and its Ready event: key, queue wait (published → started), run time and CPU;
and the calls made to the Docker engine meanwhile (with --sql, and a trace recorded with
KUBE_TUTOR_BENCH_TRACE_SQL=1, the database queries too).

Usage: .venv/bin/python bench/trace/analyze.py <folder> [--pods 5] [--sql]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path


def load(folder: Path):
    published, runs, calls = {}, [], []
    for line in (folder / "trace.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["e"] in ("docker", "sql"):
            calls.append(record)
        elif record["e"] == "pub":
            published.setdefault(record["id"], record)
        elif record["start"] is not None:
            runs.append(record)
    pods = (
        [json.loads(line) for line in (folder / "pods.jsonl").read_text().splitlines()]
        if (folder / "pods.jsonl").exists()
        else []
    )
    return published, sorted(runs, key=lambda r: r["start"]), sorted(calls, key=lambda c: c["start"]), pods


def span(record: dict, pod: dict) -> str:
    """When a task run or an engine call began and ended, in ms after the pod's write."""
    return f"+{(record['start'] - pod['post']) * 1000:7.1f} .. +{(record['end'] - pod['post']) * 1000:7.1f} ms"


def label(run: dict) -> str:
    args = run["args"]
    return f"{run['task'].rsplit('.', 1)[-1]}({', '.join(map(str, args))})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--pods", type=int, default=5)
    parser.add_argument("--sql", action="store_true", help="show the database queries as well")
    options = parser.parse_args()
    published, runs, calls, pods = load(options.folder)
    per_key = defaultdict(list)
    for run in runs:
        key = run["args"][1] if run["task"].endswith("run_work") else run["task"]
        per_key[key.split("/")[0]].append(run)
    print("key: runs, median run ms, median cpu ms, median queue wait ms")
    for key, items in sorted(per_key.items()):
        waits = [
            (r["start"] - published[r["id"]]["t"]) * 1000
            for r in items
            if r["id"] in published and published[r["id"]].get("eta") is None
        ]
        print(
            f"  {key}: {len(items)}, {statistics.median((r['end'] - r['start']) * 1000 for r in items):.1f}, "
            f"{statistics.median(r['cpu'] * 1000 for r in items):.1f}, "
            f"{statistics.median(waits) if waits else 0:.1f}"
        )
    for pod in pods[-options.pods :]:
        print(f"\n{pod['pod']}: {(pod['ready'] - pod['post']) * 1000:.0f} ms")
        for run in runs:
            if run["end"] >= pod["post"] and run["start"] <= pod["ready"]:
                pub = published.get(run["id"], {}).get("t")
                wait = f"queued {(run['start'] - pub) * 1000:6.1f}" if pub else "queued    ?  "
                print(f"  {span(run, pod)} {wait} cpu {run['cpu'] * 1000:5.1f}  {label(run)}")
        for call in calls:
            if not pod["post"] <= call["start"] <= pod["ready"]:
                continue
            if call["e"] == "docker":
                print(f"  {span(call, pod)} docker {call['m']} {call['p']}")
            elif options.sql:
                print(f"  {span(call, pod)} sql[{call['pid']}:{call['thread'] % 1000:03d}] {call['q']}")


if __name__ == "__main__":
    main()
