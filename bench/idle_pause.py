"""What pausing idle sandboxes frees, and how long one takes to come back (clusters.idle).

A whole stack (web, worker, beat) serves N sandboxes on one runtime, each with a Deployment
(R replicas of nginx:1.27 behind a readiness probe), a Service in front of it, and a pod that
keeps a file in a claim. Once every pod is Ready, the sandboxes' containers are counted and their
memory measured (Docker's one-shot stats: usage less inactive file pages, what `kubectl top`
calls the working set). `sandbox pause-idle --minutes 0` then pauses them all, as beat does after
TUTOR_IDLE_STOP_MINUTES; once every kubelet has stopped, the same is measured again. Then each
sandbox is used again in turn: how long its first request takes to answer (it resumes the
sandbox and answers from the stored objects) and how long until every pod of it is Ready again.

Usage: .venv/bin/python bench/idle_pause.py [--runtime docker|simulated] [--sandboxes 3] [--replicas 3]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

from harness import Api, add_stack_options, bench_stack, database_for, pod_ready, stack_env, summary

PAUSED_NODES = (
    "from clusters.models import NodeRuntimeState; "
    "print(NodeRuntimeState.objects.filter(node__startswith='node-', state__has_key='paused').count())"
)


def work(replicas: int) -> list[tuple[str, dict]]:
    labels = {"app": "web"}
    return [
        (
            "/api/v1/namespaces/default/persistentvolumeclaims",
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "notes"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Mi"}}},
            },
        ),
        (
            "/apis/apps/v1/namespaces/default/deployments",
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "containers": [
                                {
                                    "name": "web",
                                    "image": "nginx:1.27",
                                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1},
                                }
                            ]
                        },
                    },
                },
            },
        ),
        (
            "/api/v1/namespaces/default/services",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web"},
                "spec": {"selector": labels, "ports": [{"port": 80}]},
            },
        ),
        (
            "/api/v1/namespaces/default/pods",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "keeper"},
                "spec": {
                    "volumes": [{"name": "notes", "persistentVolumeClaim": {"claimName": "notes"}}],
                    "containers": [
                        {
                            "name": "main",
                            "image": "busybox:1.36",
                            "command": ["sh", "-c", "date > /notes/started; sleep 3600"],
                            "volumeMounts": [{"name": "notes", "mountPath": "/notes"}],
                        }
                    ],
                },
            },
        ),
    ]


def all_ready(api: Api, count: int, *, restarts: int = 0) -> bool:
    """Every pod of the sandbox Ready, each container on run `restarts` or later (on a new
    connection: uvicorn closes idle ones after 5 s)."""
    pods = Api(api.port, api.prefix).call("GET", "/api/v1/namespaces/default/pods")["items"]
    runs = [s["restartCount"] for pod in pods for s in pod.get("status", {}).get("containerStatuses", [])]
    return len(pods) == count and all(pod_ready(pod) for pod in pods) and min(runs, default=0) >= restarts


def wait(predicate, *, timeout: float, what: str, interval: float = 0.2) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - started


def engine_footprint(sandboxes: list[str]) -> dict:
    """Containers the engine runs for these sandboxes (uids, hex), and their working set in MiB."""
    import docker

    client = docker.from_env()
    containers = [
        container
        for sandbox in sandboxes
        for container in client.containers.list(filters={"label": [f"kube-tutor.sandbox={sandbox}"]})
    ]
    memory = 0
    for container in containers:
        stats = client.api.stats(container.id, stream=False, one_shot=True)["memory_stats"]
        inactive = stats.get("stats", {}).get("inactive_file", stats.get("stats", {}).get("total_inactive_file", 0))
        memory += max(0, stats.get("usage", 0) - inactive)
    return {"containers": len(containers), "memory_mib": round(memory / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtime", choices=["docker", "simulated"], default="docker")
    parser.add_argument("--sandboxes", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=3)
    add_stack_options(parser)
    options = parser.parse_args()
    database = database_for(options.database, options.broker)
    env = stack_env(options, TUTOR_RUNTIME=options.runtime, TUTOR_FAST_BACKOFF="1")
    pods = options.replicas + 1
    with bench_stack(database=database, broker=options.broker, extra_env=env, keep=options.keep) as bench:
        prefixes = bench.sandboxes_create(options.sandboxes, runtime=options.runtime)
        uids = [prefix.split("/")[2] for prefix in prefixes]  # /k8s/<uid>/t/<token>

        def footprint() -> dict:
            return engine_footprint(uids) if options.runtime == "docker" else {}

        try:
            figures = measure(bench, options, prefixes, footprint)
        finally:
            if options.runtime == "docker":  # leave the engine as found; the stack stops first
                bench.stack.stop_all()
                bench.stack.manage("sandbox", "clean-engine")
    print(
        json.dumps(
            {
                "benchmark": "idle_pause",
                "runtime": options.runtime,
                "broker": options.broker,
                "database": database,
                "sandboxes": options.sandboxes,
                "pods_per_sandbox": pods,
                **figures,
            }
        )
    )


def measure(bench, options, prefixes: list[str], footprint) -> dict:
    """Start the stack, give each sandbox its work, pause them all, then use each again."""
    pods = options.replicas + 1
    bench.start(workers=options.workers, concurrency=options.concurrency)
    apis = [Api(bench.port, prefix) for prefix in prefixes]
    for api in apis:
        for path, body in work(options.replicas):
            api.call("POST", path, body)
    for api in apis:
        wait(lambda api=api: all_ready(api, pods), timeout=600, what="every pod Ready")
    running = footprint()

    started = time.monotonic()
    paused = bench.stack.manage("sandbox", "pause-idle", "--minutes", "0")
    if paused.returncode != 0:
        raise SystemExit(paused.stderr)

    def stopped() -> bool:
        found = bench.stack.manage("shell", "--no-imports", "-c", PAUSED_NODES)
        return found.stdout.strip() == str(2 * options.sandboxes)

    wait(stopped, timeout=300, interval=0.5, what="every kubelet to stop")
    stop_seconds = time.monotonic() - started
    if options.runtime == "docker":
        wait(lambda: footprint()["containers"] == 0, timeout=120, what="no container left")
    idle = footprint()

    first, restored = [], []
    for api in apis:
        began = time.monotonic()
        listed = Api(api.port, api.prefix).call("GET", "/api/v1/namespaces/default/pods")["items"]
        first.append(time.monotonic() - began)
        assert len(listed) == pods
        wait(lambda api=api: all_ready(api, pods, restarts=1), timeout=300, what="every pod Ready again")
        restored.append(time.monotonic() - began)
    back = footprint()

    return {
        "running": running,
        "paused": idle,
        "restored": back,
        "pause_to_all_stopped_seconds": round(stop_seconds, 1),
        "first_request_seconds": summary(first, 3),
        "until_every_pod_ready_seconds": summary(restored, 2),
    }


if __name__ == "__main__":
    main()
