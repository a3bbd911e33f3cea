"""CPU an idle class costs: 50 sandboxes with nothing changing, worker and beat measured from /proc.

A whole stack (web, worker, beat as `make run` starts them) serves 50 simulated sandboxes, each
seeded as a new sandbox is (two Ready nodes, namespaces, ...) and given a small Deployment (2
replicas of busybox `sleep 3600`; --replicas 0 for none). Once every pod is Running and Ready
and things have settled (the burst's leftover wake-ups drained), the CPU time (utime + stime
from /proc/<pid>/stat, with every descendant process) of the worker, beat and web processes is
read over a window, as a share of one core. What still happens while idle: every few seconds,
kubelets renew their nodes' leases (TUTOR_NODE_HEARTBEAT_SECONDS), beat looks for due work
(TUTOR_RESYNC_INTERVAL), the node monitor looks for expired leases and the worker heartbeat is
sent; every five minutes, each node reports its status (TUTOR_NODE_STATUS_REPORT_SECONDS) and
every sandbox is resynced whole (TUTOR_FULL_RESYNC_INTERVAL), a burst of one run per key. The
window is 300 s by default, one whole period of both five-minute duties, so it holds each exactly
once whenever it starts: the figure is the average an idle class costs. A shorter window (the
suite's quick run) holds a burst or not by chance. The tasks run in the window are counted.

Target: the worker and beat each below 5 % of one core.

Usage: .venv/bin/python bench/idle_cpu.py [--sandboxes 50] [--replicas 2] [--seconds 300] [--settle 60]
       [--broker redis|embedded]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

from harness import (
    Api,
    MachineLoad,
    ReadyPoller,
    add_stack_options,
    bench_stack,
    cpu_seconds,
    database_for,
    stack_env,
)


def deployment(replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "idle"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "idle"}},
            "template": {
                "metadata": {"labels": {"app": "idle"}},
                "spec": {"containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}]},
            },
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sandboxes", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=2, help="pods of each sandbox's Deployment (0: none)")
    parser.add_argument(
        "--seconds", type=float, default=300.0, help="the measured window (300: one period of the 5-minute duties)"
    )
    parser.add_argument("--settle", type=float, default=60.0, help="seconds to wait once every pod is Ready")
    add_stack_options(parser)
    options = parser.parse_args()
    database = database_for(options.database, options.broker)

    env = stack_env(options, TUTOR_RUNTIME="simulated")
    keep = options.keep or options.trace or options.profile
    with bench_stack(database=database, broker=options.broker, extra_env=env, keep=keep, trace=options.trace) as bench:
        prefixes = bench.sandboxes_create(options.sandboxes, runtime="simulated")
        bench.start(workers=options.workers, concurrency=options.concurrency)
        workers = bench.worker_processes()
        ready = ReadyPoller(bench.stack, interval=0.5)
        ready.start()
        if options.replicas:
            for prefix in prefixes:
                Api(bench.port, prefix).call(
                    "POST", "/apis/apps/v1/namespaces/default/deployments", deployment(options.replicas)
                )
        wanted = options.sandboxes * options.replicas
        if not ready.wait_for(wanted, timeout=600):
            raise SystemExit(f"only {len(ready.ready)} of {wanted} pods became Ready")
        ready.stop()
        time.sleep(options.settle)

        processes = {name: process.pid for name, process in bench.stack.processes}
        tasks_before = bench.task_count()
        if options.profile:
            bench.profile_start("worker", wall=options.profile == "wall")
        load = MachineLoad()
        before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        started = time.monotonic()
        time.sleep(options.seconds)
        used = {name: cpu_seconds(pid) - before[name] for name, pid in processes.items()}
        elapsed = time.monotonic() - started
        machine = load.report()
        if options.profile:
            bench.profile_stop()
        tasks = bench.task_count() - tasks_before

    percent = {name: round(100 * seconds / elapsed, 2) for name, seconds in used.items()}
    print(
        json.dumps(
            {
                "benchmark": "idle_cpu",
                "runtime": "simulated",
                "broker": options.broker,
                "database": database,
                "sandboxes": options.sandboxes,
                "pods": wanted,
                "worker": {"processes": workers, "pool": "threads", "concurrency": options.concurrency},
                "window_seconds": round(elapsed, 1),
                "cpu_percent_of_one_core": percent,
                "worker_tasks_per_second": round(tasks / elapsed, 1),
                "settings": {k: v for k, v in env.items() if k != "TUTOR_RUNTIME"},
                "machine": machine,
                "targets": {
                    "worker_lt_5_percent": sum(v for k, v in percent.items() if k.startswith("worker")) < 5,
                    "beat_lt_5_percent": percent.get("beat", 0) < 5,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
