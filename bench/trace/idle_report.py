"""What a traced stack's worker did in its last `--seconds`: task runs per key kind, CPU, and how
many were published with an eta (planned wake-ups) or at once.

Usage: .venv/bin/python bench/trace/idle_report.py <folder> [--seconds 60]
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seconds", type=float, default=60.0)
    options = parser.parse_args()
    records = [json.loads(line) for line in (options.folder / "trace.jsonl").read_text().splitlines()]
    end = max(r.get("end") or r.get("t") for r in records)
    start = end - options.seconds
    runs = [r for r in records if r["e"] == "run" and r["start"] >= start]
    published = {r["id"]: r for r in records if r["e"] == "pub"}
    table = collections.defaultdict(lambda: {"runs": 0, "cpu_s": 0.0, "from_eta": 0, "idle_runs": 0})
    for run in runs:
        key = run["args"][1].split("/")[0] if run["task"].endswith("run_work") else run["task"].rsplit(".", 1)[-1]
        row = table[key]
        row["runs"] += 1
        row["cpu_s"] += run["cpu"]
        row["from_eta"] += bool(published.get(run["id"], {}).get("eta"))
        row["idle_runs"] += run["cpu"] < 0.004
    for key, row in sorted(table.items()):
        row["cpu_s"] = round(row["cpu_s"], 2)
        print(key, row)
    print("runs", len(runs), "task cpu s", round(sum(r["cpu"] for r in runs), 2), "over", options.seconds, "s")


if __name__ == "__main__":
    main()
