"""The API and another learner's sandbox while one learner's pods abuse the machine (Docker).

A whole stack (web, worker, beat as `make run` starts them) serves two Docker sandboxes: an
abusive learner's and a neighbour's. Twice in one run — first quiet, then with the abuser's pods
running a fork bomb, a memory hog (OOMKilled and restarted, over and over), a CPU burner and a log
flood (`yes`), each at its limits — it measures, on the neighbour's sandbox:

- the API's latency: GET of a pod, LIST of the namespace's pods, POST (and DELETE) of a ConfigMap,
  as p50 / p95 / p99 milliseconds;
- apply-to-Running: a pod POSTed until the watch says Running and Ready, one pod at a time.

It also reads what the abuse reached, from the engine: the bomb's pids against its limit, the
hog's OOM kills, the burner's CPU against its limit. The figures of the two phases are
comparable (same run, same machine), with the machine's load alongside; no target is asserted.

Usage:
  .venv/bin/python bench/abuse.py [--rounds 60] [--pods 5] [--abuse bomb,hog,burner,flood]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid

from apply_to_running import PodTimes, pod, reconnect, remove_docker_sandboxes
from harness import Api, MachineLoad, Watch, add_stack_options, bench_stack, database_for, stack_env, summary

NAMESPACE = "/api/v1/namespaces/default"


def abuse_pods() -> list[dict]:
    def one(name: str, command: list[str], cpu: str, memory: str) -> dict:
        container = {"name": name, "image": "busybox:1.36", "command": command}
        container["resources"] = {"limits": {"cpu": cpu, "memory": memory}}
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"containers": [container], "terminationGracePeriodSeconds": 0},
        }

    return [
        one("bomb", ["sh", "-c", "f() { f | f & }; f; sleep 3600"], "200m", "64Mi"),
        one("hog", ["tail", "/dev/zero"], "200m", "48Mi"),
        one("burner", ["sh", "-c", "while :; do :; done"], "200m", "32Mi"),
        one("flood", ["yes"], "100m", "32Mi"),
    ]


def api_latency(api: Api, rounds: int, pod_name: str) -> dict:
    timings: dict[str, list[float]] = {"get": [], "list": [], "post": []}
    for index in range(rounds):
        for verb, call in (
            ("get", lambda: api.call("GET", f"{NAMESPACE}/pods/{pod_name}")),
            ("list", lambda: api.call("GET", f"{NAMESPACE}/pods")),
            (
                "post",
                lambda index=index: api.call(
                    "POST", f"{NAMESPACE}/configmaps", {"metadata": {"name": f"bench-{index}"}, "data": {"k": "v"}}
                ),
            ),
        ):
            started = time.perf_counter()
            call()
            timings[verb].append((time.perf_counter() - started) * 1000)
        api.call("DELETE", f"{NAMESPACE}/configmaps/bench-{index}")
    return {verb: summary(values) for verb, values in timings.items()}


def apply_to_running(api: Api, times: PodTimes, count: int, timeout: float) -> dict:
    seconds = []
    for _ in range(count):
        name = f"p-{uuid.uuid4().hex[:8]}"
        reconnect(api)
        started = time.perf_counter()
        api.call("POST", f"{NAMESPACE}/pods", pod(name, "busybox:1.36"))
        seconds.append(times.wait_ready(name, timeout) - started)
        reconnect(api)  # the wait may have outlasted the server's keep-alive
        api.call("DELETE", f"{NAMESPACE}/pods/{name}")
    return summary([value * 1000 for value in seconds])


def phase(api: Api, times: PodTimes, options) -> dict:
    load = MachineLoad()
    reconnect(api)
    figures = {
        "api_ms": api_latency(api, options.rounds, "steady"),
        "apply_to_running_ms": apply_to_running(api, times, options.pods, options.timeout),
    }
    return figures | {"machine": load.report()}


def abuse_reached(sandbox_api: Api) -> dict:
    """What the abuse reached, from the engine (the abuser's containers only) and the API."""
    from clusters.runtime import docker as runtime

    sandbox = sandbox_api.prefix.split("/k8s/", 1)[1].split("/", 1)[0]

    client = runtime.engine_client()
    reached: dict = {}
    try:
        for name in ("bomb", "burner"):
            listed = client.api.containers(
                filters={
                    "label": [f"{runtime.SANDBOX}={sandbox}", f"{runtime.POD_NAME}={name}", f"{runtime.ROLE}=container"]
                }
            )
            if not listed:
                continue
            first = client.api.stats(listed[0]["Id"], stream=False, one_shot=True)
            started = time.monotonic()
            time.sleep(2)
            second = client.api.stats(listed[0]["Id"], stream=False, one_shot=True)
            elapsed = time.monotonic() - started
            used = second["cpu_stats"]["cpu_usage"]["total_usage"] - first["cpu_stats"]["cpu_usage"]["total_usage"]
            reached[name] = {
                "pids": second["pids_stats"].get("current"),
                "pids_limit": second["pids_stats"].get("limit"),
                "cores": round(used / 1e9 / elapsed, 3),
                "throttled_periods": second["cpu_stats"].get("throttling_data", {}).get("throttled_periods"),
            }
    finally:
        client.close()
    reconnect(sandbox_api)
    hog = sandbox_api.call("GET", f"{NAMESPACE}/pods/hog").get("status", {}).get("containerStatuses") or [{}]
    last = hog[0].get("lastState", {}).get("terminated") or hog[0].get("state", {}).get("terminated") or {}
    reached["hog"] = {"restarts": hog[0].get("restartCount"), "state": hog[0].get("state"), "last": last.get("reason")}
    return reached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=60, help="GET/LIST/POST rounds per phase")
    parser.add_argument("--pods", type=int, default=5, help="pods applied one at a time per phase")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds the abuse runs before measuring")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one pod may take")
    parser.add_argument(
        "--abuse", default="bomb,hog,burner,flood", help="which abusive pods run (comma-separated; default all four)"
    )
    add_stack_options(parser)
    options = parser.parse_args()
    database = database_for(options.database, options.broker)
    env = stack_env(options, TUTOR_RUNTIME="docker", TUTOR_FAST_BACKOFF="1")
    with bench_stack(database=database, broker=options.broker, extra_env=env, keep=options.keep) as bench:
        abuser_prefix, neighbour_prefix = bench.sandboxes_create(2, runtime="docker", owner_prefix="abuse")
        bench.start(workers=options.workers, concurrency=options.concurrency)
        try:
            abuser, neighbour = Api(bench.port, abuser_prefix), Api(bench.port, neighbour_prefix)
            times = PodTimes()
            watch = Watch(bench.port, neighbour_prefix, f"{NAMESPACE}/pods", times.on_event)
            watch.start()
            watch.opened.wait(30)
            neighbour.call("POST", f"{NAMESPACE}/pods", pod("steady", "busybox:1.36"))
            times.wait_ready("steady", options.timeout)
            apply_to_running(neighbour, times, 1, options.timeout)  # warm-up: images, networks
            quiet = phase(neighbour, times, options)
            for body in abuse_pods():
                if body["metadata"]["name"] in options.abuse.split(","):
                    abuser.call("POST", f"{NAMESPACE}/pods", body)
            time.sleep(options.settle)
            reconnect(neighbour)
            abused = phase(neighbour, times, options)
            reached = abuse_reached(abuser)
            watch.close()
        finally:
            remove_docker_sandboxes(bench)

    def ratio(verb: str, key: str = "p95") -> float | None:
        before, during = quiet["api_ms"][verb].get(key), abused["api_ms"][verb].get(key)
        return round(during / before, 2) if before and during else None

    print(
        json.dumps(
            {
                "benchmark": "abuse",
                "database": database,
                "broker": options.broker,
                "abuse_pods": options.abuse.split(","),
                "quiet": quiet,
                "abuse": abused,
                "abuse_reached": reached,
                "p95_ratio_abuse_over_quiet": {verb: ratio(verb) for verb in ("get", "list", "post")},
                "apply_to_running_p50_ratio": round(
                    abused["apply_to_running_ms"]["p50"] / quiet["apply_to_running_ms"]["p50"], 2
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
