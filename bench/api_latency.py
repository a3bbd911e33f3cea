"""Latency of the sandbox Kubernetes API, end to end over HTTP against a live uvicorn process.

Measures, on the database given (SQLite, or PostgreSQL from TEST_DATABASE_URL):
- single-object write latency (ConfigMap creates, one at a time): p50 / p99
- listing 1,000 pods in a namespace as JSON and as a Table: median of several runs
- write-to-watch-event delivery (a ConfigMap patch until its MODIFIED event arrives): p50 / p99

Usage: .venv/bin/python bench/api_latency.py --database sqlite|postgresql [--writes 300]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import bench_stack

from tests.system.stack import wait_for

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
OWNER_PREFIX = "api-bench"
OWNER = f"{OWNER_PREFIX}000"  # the one sandbox's owner, as BenchStack.sandboxes_create names it


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Api:
    def __init__(self, port: int, prefix: str):
        self.port, self.prefix = port, prefix
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: dict | None = None, accept: str = "application/json", **headers):
        payload = json.dumps(body).encode() if body is not None else None
        self.connection.request(
            method,
            self.prefix + path,
            body=payload,
            headers={"Content-Type": "application/json", "Accept": accept, **headers},
        )
        response = self.connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return data


def configmap(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def pod(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]},
    }


def measure_writes(api: Api, count: int) -> list[float]:
    timings = []
    for index in range(count):
        started = time.perf_counter()
        api.call("POST", "/api/v1/namespaces/default/configmaps", configmap(f"write-{index}"))
        timings.append((time.perf_counter() - started) * 1000)
    return timings


# `pods` pods stored at once in namespace `many` of OWNER's sandbox, as a ReplicaSet's fan-out is:
# only the reads are measured. No scheduler serves their schedulerName, so on a running stack
# they stay Pending, quietly, as upstream's do.
STORE_PODS = """
from clusters import store
from clusters.models import Sandbox
from clusters.objects.resources import resource_for_kind
pod = {pod!r}
pod["spec"]["schedulerName"] = "bench-unscheduled"
bodies = [{{**pod, "metadata": {{**pod["metadata"], "name": f"pod-{{index:04d}}"}}}} for index in range({pods})]
sandbox = Sandbox.objects.get(owner__username={owner!r})
store.objects_create(sandbox=sandbox, resource=resource_for_kind("v1", "Pod"), bodies=bodies, namespace="many")
"""


def measure_lists(api: Api, stack, pods: int, runs: int = 5) -> dict:
    api.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "many"}})
    stored = stack.manage("shell", "-c", STORE_PODS.format(pod=pod("pod"), pods=pods, owner=OWNER))
    assert stored.returncode == 0, stored.stderr[-2000:]
    results = {}
    for label, accept in (("json", "application/json"), ("table", TABLE)):
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            data = api.call("GET", "/api/v1/namespaces/many/pods", accept=accept)
            timings.append((time.perf_counter() - started) * 1000)
        document = json.loads(data)
        assert len(document.get("items", document.get("rows", []))) == pods
        results[label] = round(statistics.median(timings), 1)
    return results


def measure_watch(port: int, prefix: str, count: int) -> list[float]:
    writer = Api(port, prefix)
    writer.call("POST", "/api/v1/namespaces/default/configmaps", configmap("watched"))
    received: dict[str, float] = {}
    opened = threading.Event()

    def follow():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.request(
            "GET",
            prefix + "/api/v1/namespaces/default/configmaps?watch=1&fieldSelector=metadata.name%3Dwatched"
            f"&timeoutSeconds=600&resourceVersion={current_version}",
        )
        response = connection.getresponse()
        opened.set()
        while len(received) < count:
            line = response.readline()
            if not line:
                break
            event = json.loads(line)
            marker = event["object"].get("data", {}).get("seq")
            if marker is not None:
                received[marker] = time.perf_counter()

    current_version = json.loads(writer.call("GET", "/api/v1/namespaces/default/configmaps/watched"))["metadata"][
        "resourceVersion"
    ]
    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    opened.wait(30)
    time.sleep(0.5)
    sent: dict[str, float] = {}
    for index in range(count):
        marker = str(index)
        sent[marker] = time.perf_counter()
        writer.call(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/watched",
            {"data": {"seq": marker}},
            **{"Content-Type": "application/merge-patch+json"},
        )
        time.sleep(0.02)
    thread.join(timeout=60)
    return [(received[m] - sent[m]) * 1000 for m in sent if m in received]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--watch-events", type=int, default=200)
    options = parser.parse_args()

    # No pod limit: the list figure needs 1,000 pods in one sandbox (a learner's limit is lower).
    env = {"TUTOR_RUNTIME": "simulated", "TUTOR_SANDBOX_MAX_PODS": "0"}
    with bench_stack(database=options.database, broker="embedded", extra_env=env) as bench:
        (prefix,) = bench.sandboxes_create(1, runtime="simulated", owner_prefix=OWNER_PREFIX)
        if not bench.shared:  # the web alone: no worker runs the pods written
            uvicorn = str(Path(sys.executable).with_name("uvicorn"))
            port = str(bench.port)
            bench.stack.start(
                "web", [uvicorn, "tutor.asgi:application", "--ws", "wsproto", "--port", port, "--no-access-log"]
            )
            wait_for(lambda: "Uvicorn running" in bench.stack.log("web"), timeout=60, what="uvicorn")
        api = Api(bench.port, prefix)
        writes = measure_writes(api, options.writes)
        lists = measure_lists(api, bench.stack, options.pods)
        watch = measure_watch(bench.port, prefix, options.watch_events)
    print(
        json.dumps(
            {
                "benchmark": "api_latency",
                "database": options.database,
                "write_ms": {"p50": round(percentile(writes, 0.5), 2), "p99": round(percentile(writes, 0.99), 2)},
                "list_1000_pods_ms": lists,
                "watch_delivery_ms": {
                    "p50": round(percentile(watch, 0.5), 2),
                    "p99": round(percentile(watch, 0.99), 2),
                    "events": len(watch),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
