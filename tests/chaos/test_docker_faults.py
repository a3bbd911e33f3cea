"""Faults on a Docker stack (the shared engine; PostgreSQL and Redis as deployed): a worker
killed with SIGKILL in the middle of a reconcile, twenty times; web, worker and beat restarted
in steady state; managed containers removed behind the kubelet's back.

Builds on tests/orchestrator/test_worker_crash.py (one kill during a rollout, watched for
over-running ReplicaSets): here the kill lands while a work-queue lease is held, again and
again, with a write accepted before each, and after each the engine is compared with the pods."""

from __future__ import annotations

import random
import signal
import subprocess
import time

import pytest

from tests import services
from tests.chaos import figures
from tests.chaos.cluster import Cluster, chaos_cluster, converge_time, engine_faults, ready

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
KILLS = 20


def deployment(replicas: int, image: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "terminationGracePeriodSeconds": 5,
                    "containers": [
                        {
                            "name": "web",
                            "image": image,
                            "ports": [{"containerPort": 80}],
                            "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1},
                        }
                    ],
                },
            },
        },
    }


def web_faults(cluster: Cluster, replicas: int, image: str) -> list[str]:
    """What keeps the sandbox from being converged on `replicas` ready pods of `image`."""
    answer = cluster.call("GET", f"{DEPLOYMENTS}/web")
    if answer.status != 200:
        return [f"GET deployment: {answer.status}"]
    found = answer.body
    spec, status = found["spec"], found.get("status", {})
    faults = []
    if spec["replicas"] != replicas or spec["template"]["spec"]["containers"][0]["image"] != image:
        faults.append(f"LOST WRITE: deployment spec is {spec['replicas']} x {spec['template']['spec']['containers']}")
    if status.get("observedGeneration") != found["metadata"]["generation"]:
        faults.append("deployment not observed")
    for field in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"):
        if status.get(field, 0) != replicas:
            faults.append(f"status.{field} = {status.get(field, 0)}")
    pods = cluster.items("/api/v1/pods")
    web = [p for p in pods if p["metadata"].get("labels", {}).get("app") == "web"]
    if len(web) != replicas:
        faults.append(f"{len(web)} web pods")
    faults += [f"{p['metadata']['name']} not ready" for p in web if not ready(p)]
    faults += [f"{p['metadata']['name']} runs {p['spec']['containers'][0]['image']}" for p in web]
    faults = [f for f in faults if not f.endswith(f" runs {image}")]
    return faults + engine_faults(cluster, pods)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    services.docker_engine()
    with chaos_cluster(
        tmp_path_factory.mktemp("chaos-docker"), runtime="docker", database_server=services.postgres_url()
    ) as running:
        answer = running.call("POST", DEPLOYMENTS, deployment(3, "nginx:1.27"))
        assert answer.status == 201, answer.body
        converge_time(lambda: web_faults(running, 3, "nginx:1.27"), since=time.monotonic(), timeout=120)
        yield running


def test_a_worker_killed_mid_reconcile_twenty_times_loses_nothing(cluster):
    rng = random.Random(13)  # noqa: S311 (when to kill, not a secret)
    replicas, image = 3, "nginx:1.27"
    accepted: dict[str, str] = {}  # ConfigMap name → its value, for every create that got a 2xx
    times, keys_held, refused = [], [], 0
    for trial in range(KILLS):
        # A write to the Deployment (a scale or a new image: a rollout), and one more object.
        if trial % 2 == 0:
            wanted = {"spec": {"replicas": 2 + (replicas - 1) % 3}}
        else:
            other = "nginx:1.28" if image == "nginx:1.27" else "nginx:1.27"
            wanted = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": other}]}}}}
        answer = cluster.call("PATCH", f"{DEPLOYMENTS}/web", wanted)
        assert answer.status == 200, answer.body
        replicas = answer.body["spec"]["replicas"]
        image = answer.body["spec"]["template"]["spec"]["containers"][0]["image"]
        name, value = f"ledger-{trial}", f"{trial}-{rng.random()}"
        created = cluster.call("POST", CONFIGMAPS, {"metadata": {"name": name}, "data": {"value": value}})
        if 200 <= created.status < 300:
            accepted[name] = value
        else:
            refused += 1

        # Kill the worker while it holds a lease: in the middle of a reconcile.
        deadline = time.monotonic() + 10
        while not (held := cluster.leased_keys()) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.2))
        keys_held.append(held)
        killed_at = time.monotonic()
        cluster.stack.stop(cluster.process("worker"), sig=signal.SIGKILL)
        cluster.start("worker")
        times.append(
            converge_time(
                lambda r=replicas, i=image: web_faults(cluster, r, i),
                since=killed_at,
                timeout=90,
                what=f"kill {trial + 1} (holding {held})",
                cluster=cluster,
            )
        )

    kept = {
        item["metadata"]["name"]: item["data"]["value"]
        for item in cluster.items(CONFIGMAPS)
        if item["metadata"]["name"].startswith("ledger-")
    }
    lost = sorted(name for name, value in accepted.items() if kept.get(name) != value)
    figures.record(
        "worker_kill_mid_reconcile",
        {
            "runtime": "docker",
            "trials": KILLS,
            "faults_injected": KILLS,
            "killed_while_holding_a_lease": sum(1 for held in keys_held if held),
            "keys_held_when_killed": sorted({key for held in keys_held for key in held}),
            "writes_accepted": len(accepted) + KILLS,
            "writes_refused": refused,
            "converge_seconds": figures.seconds(times),
            "lost": lost,
            "duplicated_or_orphaned_containers": 0,  # every trial converged to engine_faults() == []
        },
    )
    assert not lost
    assert not refused
    # Most kills must land mid-reconcile, or the trial did not test what it says.
    assert sum(1 for held in keys_held if held) >= KILLS * 3 // 4, keys_held


def _pod_state(cluster: Cluster) -> dict[str, tuple]:
    """Per pod: its containers' ids and restart counts as stored, and the running engine ids."""
    state = {}
    for pod in cluster.items("/api/v1/pods"):
        statuses = pod.get("status", {}).get("containerStatuses", [])
        state[pod["metadata"]["name"]] = tuple((s["name"], s.get("containerID"), s["restartCount"]) for s in statuses)
    running = sorted(c["Id"] for c in cluster.containers() if c["State"] == "running")
    return {"pods": state, "engine": running}


def test_restarting_web_worker_and_beat_in_steady_state_churns_no_container(cluster):
    rounds, times, churn = 2, [], []
    replicas, image = _current(cluster)
    converge_time(lambda: web_faults(cluster, replicas, image), since=time.monotonic(), timeout=90)
    for _ in range(rounds):
        before = _pod_state(cluster)
        began = time.monotonic()
        for role in ("web", "worker", "beat"):
            cluster.restart(role)
        worker = f"worker-{cluster.generation['worker']}"
        # Long enough for beat's full resync (every key of the sandbox reconciled) to come round
        # twice under the new worker.
        time.sleep(2 * float(cluster.stack.extra_env["TUTOR_FULL_RESYNC_INTERVAL"]) + 1)
        reconciles = cluster.stack.log(worker).count("clusters.tasks.run_work")
        assert reconciles > 0, f"the new worker reconciled nothing: {cluster.stack.log(worker)[-2000:]}"
        times.append(converge_time(lambda: web_faults(cluster, replicas, image), since=began, timeout=60))
        after = _pod_state(cluster)
        churn += [name for name in before["pods"] if before["pods"][name] != after["pods"].get(name)]
        churn += sorted(set(before["engine"]) ^ set(after["engine"]))
    figures.record(
        "steady_state_restarts",
        {
            "runtime": "docker",
            "trials": rounds,
            "faults_injected": 3 * rounds,
            "pods": len(before["pods"]),
            "running_containers": len(before["engine"]),
            "converge_seconds": figures.seconds(times),
            "containers_churned": churn,
            "lost": [],
        },
    )
    assert not churn


def _current(cluster: Cluster) -> tuple[int, str]:
    spec = cluster.get(f"{DEPLOYMENTS}/web")["spec"]
    return spec["replicas"], spec["template"]["spec"]["containers"][0]["image"]


def _remove_and_time(cluster: Cluster, role: str) -> tuple[float, float]:
    """`docker rm -f` one running container of `role` (container, pod-sandbox); seconds until a new
    one runs in its place, and until the sandbox is converged again."""
    replicas, image = _current(cluster)
    victim = next(
        c for c in cluster.containers() if c["State"] == "running" and c["Labels"].get("kube-tutor.role") == role
    )
    uid = victim["Labels"]["io.kubernetes.pod.uid"]
    name = victim["Labels"].get("io.kubernetes.container.name", "POD")
    removed_at = time.monotonic()
    docker = ["docker", *(["-H", cluster.docker_host] if cluster.docker_host else []), "rm", "-f", victim["Id"]]
    subprocess.run(docker, check=True, capture_output=True)

    def back() -> list[str]:
        for c in cluster.containers():
            labels = c["Labels"]
            mine = (
                labels.get("io.kubernetes.pod.uid") == uid and labels.get("io.kubernetes.container.name", "POD") == name
            )
            if mine and c["State"] == "running" and c["Id"] != victim["Id"]:
                return []
        return [f"no new running {name} for pod {uid}"]

    replaced = converge_time(back, since=removed_at, timeout=30, interval=0.05, what=f"rm -f {role}", cluster=cluster)
    converged = converge_time(
        lambda: web_faults(cluster, replicas, image), since=removed_at, timeout=60, what="after rm -f", cluster=cluster
    )
    return replaced, converged


def _removal_trials(cluster: Cluster, role: str, trials: int, figure: str) -> None:
    """`trials` removals of a `role` container, each replaced in the same pod, recorded as `figure`
    with the resync interval and the seconds each took."""
    resync = float(cluster.stack.extra_env["TUTOR_RESYNC_INTERVAL"])
    replaced, converged = zip(*(_remove_and_time(cluster, role) for _ in range(trials)), strict=True)
    figures.record(
        figure,
        {
            "runtime": "docker",
            "trials": trials,
            "faults_injected": trials,
            "resync_interval_seconds": resync,
            "replaced_seconds": figures.seconds(list(replaced)),
            "converge_seconds": figures.seconds(list(converged)),
            "lost": [],
        },
    )


def test_a_managed_container_removed_with_docker_rm_is_replaced_in_its_pod(cluster):
    # Each one is back within converge_time's deadline; how soon is a figure, not a test (bench/).
    _removal_trials(cluster, "container", 6, "container_removed")


def test_a_removed_pod_sandbox_is_made_again_and_its_pod_restarted_in_it(cluster):
    """Upstream's kubelet sees the sandbox gone, says SandboxChanged, and restarts the pod's
    containers in a new one: the old ones are cut off from the pod's address."""
    trials = 3
    _removal_trials(cluster, "pod-sandbox", trials, "pod_sandbox_removed")
    events = cluster.call("GET", "/api/v1/namespaces/default/events").body["items"]
    # One Event per pod, its count raised when the same pod's sandbox goes again (upstream's aggregation).
    assert sum(e.get("count", 1) for e in events if e["reason"] == "SandboxChanged") >= trials
