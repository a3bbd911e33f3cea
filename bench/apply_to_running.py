"""Apply-to-Running latency of one pod: from the API write to the pod reported Running and Ready.

A whole stack (web, worker, beat as `make run` starts them) serves one sandbox. Pods are created
one at a time through the sandbox's Kubernetes API (plain HTTP, the kubeconfig's token URL); a
watch on the namespace's pods, opened before the first write, notes the moment each pod's first
event with `spec.nodeName` arrives (scheduled) and the moment one says phase Running with
Ready=True. The clock starts just before the POST is sent. Watch delivery itself polls the
change log every 25 ms (clusters/kube/feed.py), which is part of what a client sees.

Targets:
- simulated runtime (busybox `sleep 3600`: no pull wait, no readiness probe, no stage delays),
  with --broker redis and with --broker embedded: p50 <= 100 ms, p99 <= 500 ms;
- --runtime docker: the orchestrator's apply-to-Running over a raw `docker run -d` of the same
  image (Docker SDK, measured in the same run, interleaved), ratio of medians <= 1.5. Also shown:
  a raw pod equivalent (a pause container plus the container joined to its network namespace, on
  Docker's default network and on an internal network like a sandbox's: the engine's own floor),
  and the runtime alone: DockerRuntime called directly, as the kubelet calls it for a new pod
  (sandbox, image, container) in a sandbox of the benchmark's own. The orchestrator's time less
  the runtime's is what the API, the controllers, the kubelet's passes and the watch add.

Usage:
  .venv/bin/python bench/apply_to_running.py [--broker redis|embedded] [--pods 50]
  .venv/bin/python bench/apply_to_running.py --runtime docker [--pods 15] [--floor-only]
(--floor-only, as the suite's quick run has it: of the raw comparisons, `docker run` and the
internal-network floor only.)
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from harness import (
    Api,
    MachineLoad,
    Watch,
    add_stack_options,
    bench_stack,
    database_for,
    pod_ready,
    stack_env,
    summary,
)

DEFAULT_PODS = {"simulated": 50, "docker": 15}


def pod(name: str, image: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {
            "containers": [{"name": "main", "image": image, "command": ["sleep", "3600"]}],
            "terminationGracePeriodSeconds": 0,
        },
    }


class PodTimes:
    """What the watch saw of each pod: when it was first seen scheduled, and Running and Ready."""

    def __init__(self) -> None:
        self.scheduled: dict[str, float] = {}
        self.ready: dict[str, float] = {}
        self.changed = threading.Condition()

    def on_event(self, event: dict, at: float) -> None:
        body = event.get("object", {})
        name = body.get("metadata", {}).get("name")
        if event.get("type") not in ("ADDED", "MODIFIED") or not name:
            return
        with self.changed:
            if body.get("spec", {}).get("nodeName"):
                self.scheduled.setdefault(name, at)
            if pod_ready(body) and name not in self.ready:
                self.ready[name] = at
                self.changed.notify_all()

    def wait_ready(self, name: str, timeout: float) -> float:
        with self.changed:
            if not self.changed.wait_for(lambda: name in self.ready, timeout=timeout):
                raise TimeoutError(f"pod {name} was not Running and Ready within {timeout:g} s")
            return self.ready[name]


class RawDocker:
    """`docker run -d` of the image, and of a pod's worth of containers, through the Docker SDK:
    on Docker's default network, and on an internal network of its own as a sandbox's pods run
    (the engine sets up its DNS for every container there, which a default-network one skips)."""

    def __init__(self, image: str):
        import docker

        self.client = docker.from_env()
        self.image = image
        self.label = {"kube-tutor.bench": uuid.uuid4().hex[:8]}
        self.network = self.client.networks.create(f"kube-tutor-bench-{self.label['kube-tutor.bench']}", internal=True)

    def run(self) -> float:
        started = time.perf_counter()
        self.client.containers.run(self.image, ["sleep", "3600"], detach=True, labels=self.label)
        return (time.perf_counter() - started) * 1000

    def run_pod_equivalent(self, pause_image: str, *, network: str | None = None) -> float:
        started = time.perf_counter()
        pause = self.client.containers.run(pause_image, detach=True, labels=self.label, network=network)
        self.client.containers.run(
            self.image, ["sleep", "3600"], detach=True, labels=self.label, network_mode=f"container:{pause.id}"
        )
        return (time.perf_counter() - started) * 1000

    def clean(self) -> None:
        label = "=".join(next(iter(self.label.items())))
        containers = self.client.containers.list(all=True, filters={"label": label})
        with ThreadPoolExecutor(max_workers=8) as pool:  # a removal mostly waits on the engine
            list(pool.map(lambda container: container.remove(force=True), containers))
        self.network.remove()


class DirectRuntime:
    """DockerRuntime's own calls for a new pod, without the orchestrator around them."""

    def __init__(self, image: str):
        from clusters.runtime.docker import DockerRuntime

        self.runtime = DockerRuntime(sandbox=f"bench{uuid.uuid4().hex[:12]}", node="node-1")
        self.container = {"name": "main", "image": image, "command": ["sleep", "3600"]}

    def run_pod(self) -> float:
        from clusters.runtime.base import PodRef

        pod = PodRef(self.runtime.sandbox, "default", f"direct-{uuid.uuid4().hex[:8]}", str(uuid.uuid4()), "node-1")
        started = time.perf_counter()
        self.runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[])
        self.runtime.image_pull(self.container["image"], policy="IfNotPresent")
        self.runtime.container_start(pod, self.container, restart=0, env={}, volumes=[])
        return (time.perf_counter() - started) * 1000

    def clean(self) -> None:
        self.runtime.sandbox_remove()


def reconnect(api: Api) -> None:
    """Open the API's connection anew, before the clock starts: the Docker runs between pods can
    keep it idle past the server's keep-alive timeout (5 s) on a busy machine, and the next write
    would then meet a closed connection."""
    api.connection.close()
    api.connection.connect()


def remove_docker_sandboxes(bench) -> None:
    """Leave the engine as found: every container, volume and network of the benchmark's sandboxes.
    The stack stops first: its kubelets would start the pods' containers again. On bench/suite.py's
    stack, the suite deletes the sandboxes, and a worker their containers."""
    if bench.shared:
        return
    bench.stack.stop_all()
    bench.stack.manage("sandbox", "clean-engine")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtime", choices=["simulated", "docker"], default="simulated")
    parser.add_argument("--pods", type=int, default=None, help="pods measured (default 50 simulated, 15 docker)")
    parser.add_argument("--warmup", type=int, default=3, help="pods created first and not counted")
    parser.add_argument("--image", default="busybox:1.36")
    parser.add_argument(
        "--gap",
        type=float,
        default=0.2,
        help="seconds between one pod Ready and the next write (and 0-50 ms more at random)",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one pod may take")
    parser.add_argument(
        "--floor-only",
        action="store_true",
        help="docker: of the raw comparisons, only `docker run` and the pod floor (the suite's keys; a quick run)",
    )
    add_stack_options(parser)
    options = parser.parse_args()
    count = options.pods or DEFAULT_PODS[options.runtime]
    database = database_for(options.database, options.broker)

    env = stack_env(options, TUTOR_RUNTIME=options.runtime)
    with bench_stack(
        database=database,
        broker=options.broker,
        extra_env=env,
        keep=options.keep or options.trace or options.profile,
        trace=options.trace,
    ) as bench:
        prefix = bench.sandboxes_create(1, runtime=options.runtime)[0]
        bench.start(workers=options.workers, concurrency=options.concurrency)
        workers = bench.worker_processes()
        raw = direct = None
        if options.runtime == "docker":
            from clusters.runtime import images

            raw = RawDocker(images.stand_in_for(options.image) or options.image)
            direct = None if options.floor_only else DirectRuntime(options.image)
            pause_image = images.PAUSE
        try:
            api = Api(bench.port, prefix)
            times = PodTimes()
            watch = Watch(bench.port, prefix, "/api/v1/namespaces/default/pods", times.on_event)
            watch.start()
            watch.opened.wait(30)
            if watch.error:
                raise watch.error
            bench.wait_quiet()  # let the workers finish what the new sandbox started
            if options.profile:
                for process in ("worker", "web"):  # the write's half and the pod's
                    bench.profile_start(process, wall=options.profile == "wall")
            load = MachineLoad()
            tasks_before = bench.task_count()
            total, scheduled, post, raw_runs, raw_pods, network_pods, direct_pods = [], [], [], [], [], [], []
            timeline, wall = [], time.time() - time.perf_counter()

            def raw_compare() -> None:
                """The engine alone, between two counted pods (see the module's docstring)."""
                raw_runs.append(raw.run())
                network_pods.append(raw.run_pod_equivalent(pause_image, network=raw.network.name))
                if direct is not None:
                    raw_pods.append(raw.run_pod_equivalent(pause_image))
                    direct_pods.append(direct.run_pod())

            for index in range(options.warmup + count):
                counted = index >= options.warmup
                # The raw runs compare with counted pods only: a warm-up pod goes alone.
                if raw is not None and counted and index % 2 == 1:
                    raw_compare()
                name = f"bench-{index:03d}"
                if raw is not None:
                    reconnect(api)
                started = time.perf_counter()
                api.call("POST", "/api/v1/namespaces/default/pods", pod(name, options.image))
                posted = time.perf_counter()
                ready = times.wait_ready(name, options.timeout)
                if options.trace:
                    timeline.append({"pod": name, "post": started + wall, "ready": ready + wall})
                if counted:
                    total.append((ready - started) * 1000)
                    post.append((posted - started) * 1000)
                    scheduled.append((times.scheduled.get(name, ready) - started) * 1000)
                if raw is not None and counted and index % 2 == 0:
                    raw_compare()
                # A random part, so that writes do not lock into step with the broker's and the
                # watch feed's polling and measure one phase of them only.
                time.sleep(options.gap + random.uniform(0, 0.05))  # noqa: S311
            tasks = bench.task_count() - tasks_before
            if options.profile:
                bench.profile_stop()
            if options.trace:
                with (bench.stack.root / "pods.jsonl").open("w") as out:
                    out.writelines(json.dumps(entry) + "\n" for entry in timeline)
            machine = load.report()
            watch.close()
        finally:
            if raw is not None:
                raw.clean()
                if direct is not None:
                    direct.clean()
                remove_docker_sandboxes(bench)

    result = {
        "benchmark": "apply_to_running",
        "runtime": options.runtime,
        "broker": options.broker,
        "database": database,
        "image": options.image,
        "pods": count,
        "worker": {"processes": workers, "pool": "threads", "concurrency": options.concurrency},
        "apply_to_running_ms": summary(total),
        "apply_to_running_samples_ms": [round(value, 1) for value in total],
        "apply_to_scheduled_seen_ms": summary(scheduled),
        "api_post_ms": summary(post),
        "worker_tasks_per_pod": round(tasks / (options.warmup + count), 1),
        "machine": machine,
    }
    if options.runtime == "simulated":
        result["targets"] = {
            "p50_le_100_ms": result["apply_to_running_ms"]["p50"] <= 100,
            "p99_le_500_ms": result["apply_to_running_ms"]["p99"] <= 500,
        }
    else:
        raw_summary = summary(raw_runs[-count:])
        result["raw_docker_run_ms"] = raw_summary
        result["raw_pod_on_internal_network_ms"] = summary(network_pods[-count:])
        ratio = result["apply_to_running_ms"]["p50"] / raw_summary["p50"]
        result["ratio_p50_to_raw_docker_run"] = round(ratio, 2)
        # What the engine alone takes for a pod as the issue has it (a pause on the sandbox's own
        # network, the container in its namespace): no orchestrator can come in under this.
        result["ratio_engine_floor_to_raw_docker_run"] = round(
            result["raw_pod_on_internal_network_ms"]["p50"] / raw_summary["p50"], 2
        )
        if not options.floor_only:
            result["raw_pod_equivalent_ms"] = summary(raw_pods[-count:])
            result["runtime_direct_ms"] = summary(direct_pods[-count:])
            result["ratio_p50_to_raw_pod_equivalent"] = round(
                result["apply_to_running_ms"]["p50"] / result["raw_pod_equivalent_ms"]["p50"], 2
            )
            result["ratio_runtime_direct_to_raw_docker_run"] = round(
                result["runtime_direct_ms"]["p50"] / raw_summary["p50"], 2
            )
        result["targets"] = {"ratio_le_1_5": ratio <= 1.5}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
