"""Exec round trip: `kubectl exec <pod> -- true` against `docker exec <container> true` of the same
container, interleaved in the same run.

A whole stack (web, worker, beat) on the Docker runtime serves one sandbox with one busybox pod.
Each sample times the whole command as a learner meets it: the process start, the API's pod
lookup, the WebSocket upgrade (v5.channel.k8s.io), the engine's exec and the exit status. The
baseline is the Docker CLI's own `docker exec` when it is installed, else the Docker SDK's
exec_create + exec_start (what `docker exec` does over the engine's API), and kubectl's own
client-side cost is shown apart: `kubectl exec` of a pod that does not exist (one GET, no exec).

Target: p50 of kubectl exec / p50 of docker exec <= 1.5. The two clients start at very different
costs (kubectl's Go binary takes several times the Docker CLI's to start), so the run also
measures both clients' bare start (`kubectl version --client`, `docker --version`) and gives the
`client_floor_ratio`: the ratio if this server cost nothing, that is kubectl's client-only run
plus the engine's share of `docker exec` (docker exec minus the Docker CLI's start), over docker
exec. A ratio target below that floor cannot be met by the server.

Usage:
  .venv/bin/python bench/exec_round_trip.py [--samples 30] [--broker redis|embedded]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from harness import MachineLoad, add_stack_options, bench_stack, database_for, pod_ready, stack_env, summary

KUBECTL = str(Path(sys.executable).with_name("kubectl"))
POD = """\
apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  containers:
  - {name: main, image: 'busybox:1.36', command: [sleep, '3600']}
"""


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=30)
    add_stack_options(parser)
    options = parser.parse_args()
    database = database_for(options.database, options.broker)
    env = stack_env(options, TUTOR_RUNTIME="docker", TUTOR_RESYNC_INTERVAL="5")
    with bench_stack(database=database, broker=options.broker, extra_env=env) as bench:
        bench.start(workers=options.workers, concurrency=options.concurrency)
        (config,) = bench.kubeconfigs_create(1, runtime="docker")
        kubeconfig = bench.stack.root / "kubeconfig"
        kubeconfig.write_text(json.dumps(config))  # YAML reads JSON
        kubectl = [KUBECTL, "--kubeconfig", str(kubeconfig)]
        try:
            subprocess.run([*kubectl, "apply", "-f", "-"], input=POD, text=True, check=True, capture_output=True)
            deadline = time.monotonic() + 180
            while True:
                got = subprocess.run([*kubectl, "get", "pod", "shell", "-o", "json"], capture_output=True, text=True)
                if got.returncode == 0 and pod_ready(json.loads(got.stdout)):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("the pod did not become Ready within 180 s")
                time.sleep(0.5)
            container = json.loads(got.stdout)["status"]["containerStatuses"][0]["containerID"].split("//", 1)[1]
            docker_cli = shutil.which("docker")
            baseline = [docker_cli, "exec", container, "true"] if docker_cli else None
            load = MachineLoad()
            kubectl_ms, docker_ms, client_ms, kubectl_start_ms, docker_start_ms = [], [], [], [], []
            for _ in range(options.samples):
                kubectl_ms.append(_timed([*kubectl, "exec", "shell", "--", "true"]))
                docker_ms.append(_timed(baseline) if baseline else _sdk_exec_ms(container))
                client_ms.append(_timed([*kubectl, "exec", "nope", "--", "true"]))
                kubectl_start_ms.append(_timed([KUBECTL, "version", "--client"]))
                if docker_cli:
                    docker_start_ms.append(_timed([docker_cli, "--version"]))
            kubectl_summary, docker_summary = summary(kubectl_ms), summary(docker_ms)
            client_summary = summary(client_ms)
            ratio = round(kubectl_summary["p50"] / docker_summary["p50"], 2)
            docker_start = summary(docker_start_ms) if docker_start_ms else None
            engine_share = docker_summary["p50"] - (docker_start["p50"] if docker_start else 0)
            floor = round((client_summary["p50"] + engine_share) / docker_summary["p50"], 2)
            server_ms = round(kubectl_summary["p50"] - client_summary["p50"] - engine_share, 1)
            print(
                json.dumps(
                    {
                        "benchmark": "exec_round_trip",
                        "database": database,
                        "broker": options.broker,
                        "samples": options.samples,
                        "exec_ms": kubectl_summary,
                        "docker_exec_ms": docker_summary,
                        "baseline": "docker CLI" if baseline else "Docker SDK exec_create + exec_start",
                        "kubectl_client_only_ms": client_summary,
                        "kubectl_start_ms": summary(kubectl_start_ms),
                        "docker_cli_start_ms": docker_start,
                        "ratio_p50": ratio,
                        "client_floor_ratio": floor,
                        "server_overhead_ms_p50": server_ms,
                        "target": {"ratio_p50_max": 1.5, "met": ratio <= 1.5, "reachable": floor <= 1.5},
                        "machine": load.report(),
                    },
                    indent=2,
                )
            )
        finally:
            if not bench.shared:  # on bench/suite.py's stack, the suite deletes the sandbox
                bench.stack.manage("sandbox", "clean-engine")


def _sdk_exec_ms(container: str) -> float:
    import docker

    client = docker.from_env()
    started = time.perf_counter()
    execution = client.api.exec_create(container, ["true"])
    client.api.exec_start(execution["Id"])
    elapsed = (time.perf_counter() - started) * 1000
    client.close()
    return elapsed


if __name__ == "__main__":
    main()
