"""A burst of pods: 1,000 pods across 50 sandboxes (20 each) until every one is Running and Ready.

A whole stack (web, worker, beat as `make run` starts them) serves 50 simulated sandboxes. Once
they have settled, every sandbox gets a Deployment of 20 replicas (busybox `sleep 3600`: no pull
wait, no readiness probe), written through its Kubernetes API one sandbox after another
(`--mode pods`: 20 bare pods each instead). The bench reads, every 0.1 s, which pods the database
stores as Running with Ready=True (what the API reports; one watch per sandbox would need more
database connections than a web process's pool has). The time runs from the first write to the last
pod Ready; the moments a quarter, half, ... of the pods were Ready are shown too, with the CPU
the worker, beat and web processes used meanwhile and the worker configuration.

Target: all 1,000 Running within 60 s (aim: 20 s) on the Procfile's worker
(`celery worker --pool threads --concurrency 4`, one process).

Usage: .venv/bin/python bench/pod_burst.py [--sandboxes 50] [--pods-per-sandbox 20]
       [--mode deployment|pods] [--broker redis|embedded] [--workers 1] [--concurrency 4]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

from harness import (
    Api,
    MachineLoad,
    PeakMemory,
    ReadyPoller,
    add_stack_options,
    bench_stack,
    cpu_seconds,
    database_for,
    event_counts,
    stack_env,
)

CONTAINER = {"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}


def deployment(replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "burst"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "burst"}},
            "template": {"metadata": {"labels": {"app": "burst"}}, "spec": {"containers": [CONTAINER]}},
        },
    }


def pod(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "burst"}},
        "spec": {"containers": [CONTAINER]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sandboxes", type=int, default=50)
    parser.add_argument("--pods-per-sandbox", type=int, default=20)
    parser.add_argument("--mode", choices=["deployment", "pods"], default="deployment")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to let the new sandboxes settle first")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every pod")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between reads of the pods' status")
    add_stack_options(parser)
    options = parser.parse_args()
    database = database_for(options.database, options.broker)
    total = options.sandboxes * options.pods_per_sandbox

    env = stack_env(options, TUTOR_RUNTIME="simulated")
    keep = options.keep or options.trace or options.profile
    with bench_stack(database=database, broker=options.broker, extra_env=env, keep=keep, trace=options.trace) as bench:
        prefixes = bench.sandboxes_create(options.sandboxes, runtime="simulated")
        bench.start(workers=options.workers, concurrency=options.concurrency)
        workers = bench.worker_processes()
        time.sleep(options.settle)
        counter = ReadyPoller(bench.stack, interval=options.poll)
        counter.start()
        processes = {name: process.pid for name, process in bench.stack.processes}
        cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        tasks_before = bench.task_count()
        if options.profile:
            bench.profile_start("worker", wall=options.profile == "wall")
        load = MachineLoad()
        memory = PeakMemory(list(processes.values()))
        memory.start()
        started = time.perf_counter()
        for prefix in prefixes:
            api = Api(bench.port, prefix)
            if options.mode == "deployment":
                api.call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment(options.pods_per_sandbox))
            else:
                for index in range(options.pods_per_sandbox):
                    api.call("POST", "/api/v1/namespaces/default/pods", pod(f"burst-{index:03d}"))
        written = time.perf_counter() - started
        done = counter.wait_for(total, options.timeout)
        elapsed = time.perf_counter() - started
        counter.stop()
        peak_kb = memory.stop()
        if options.profile:
            bench.profile_stop()
        machine = load.report()
        cpu = {name: round(cpu_seconds(pid) - cpu_before[name], 1) for name, pid in processes.items()}
        tasks = bench.task_count() - tasks_before
        events = event_counts(bench.stack, ("NodeNotReady", "FailedScheduling", "TaintManagerEviction"))

    moments = sorted(counter.ready.values())
    milestones = {
        f"{int(fraction * 100)}%": round(moments[int(fraction * total) - 1] - started, 2)
        for fraction in (0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
        if int(fraction * total) <= len(moments)
    }
    seconds = round(elapsed, 2) if done else None
    # The last pods to be Ready, to follow up a straggler in the stack's logs (--keep).
    last = sorted(counter.ready.items(), key=lambda item: item[1])[-3:]
    stragglers = [
        {"sandbox_id": row[0], "pod": f"{row[1]}/{row[2]}", "seconds": round(at - started, 2)} for row, at in last
    ]
    print(
        json.dumps(
            {
                "benchmark": "pod_burst",
                "runtime": "simulated",
                "broker": options.broker,
                "database": database,
                "mode": options.mode,
                "sandboxes": options.sandboxes,
                "pods": total,
                "worker": {
                    "processes": workers,
                    "pool": "threads",
                    "concurrency": options.concurrency,
                    "queues": "celery,kubelet.node-1,kubelet.node-2",
                },
                "all_ready": done,
                "ready": len(moments),
                "seconds_to_all_running": seconds,
                "seconds_writing": round(written, 2),
                "seconds_to_fraction_ready": milestones,
                "last_ready": stragglers,
                "pods_per_second": round(len(moments) / elapsed, 1),
                # web, worker and beat with their children (the database and broker servers apart)
                "peak_memory_mb": round(peak_kb / 1024, 1),
                "cpu_seconds": cpu,
                "worker_tasks": tasks,
                "events": events,
                "machine": machine,
                "targets": {"le_60_s": bool(done and elapsed <= 60), "aim_le_20_s": bool(done and elapsed <= 20)},
            }
        )
    )


if __name__ == "__main__":
    main()
