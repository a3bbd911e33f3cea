"""The Docker engine restarted under a running sandbox (a private engine: tests/chaos/private.py).
Stopping an engine stops every container it runs; when it is back, the pods come back as their
restart policy says — the Deployment's (Always) run again, a pod with restartPolicy Never stays
finished and runs nothing — and every container is either adopted or made again, never twice."""

from __future__ import annotations

import time

import pytest

from tests.chaos import figures
from tests.chaos.cluster import Cluster, chaos_cluster, converge_time, engine_faults, ready
from tests.chaos.private import PrivateDockerd
from tests.chaos.test_docker_faults import DEPLOYMENTS, deployment, web_faults

PODS = "/api/v1/namespaces/default/pods"
ONCE = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "once"},
    "spec": {
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 2,
        "containers": [{"name": "web", "image": "nginx:1.27"}],
    },
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    private = PrivateDockerd(tmp_path_factory.mktemp("chaos-engine"))
    private.start()
    try:
        yield private
    finally:
        private.remove()


@pytest.fixture(scope="module")
def cluster(engine, tmp_path_factory):
    from tests import services

    with chaos_cluster(
        tmp_path_factory.mktemp("chaos-engine-stack"),
        runtime="docker",
        database_server=services.postgres_url(),
        docker_host=engine.host,
    ) as running:
        yield running


def once_state(cluster: Cluster) -> dict:
    return cluster.get(f"{PODS}/once")


def test_restarting_the_docker_engine_brings_pods_back_by_their_restart_policy(cluster, engine):
    assert cluster.call("POST", DEPLOYMENTS, deployment(2, "nginx:1.27")).status == 201
    assert cluster.call("POST", PODS, ONCE).status == 201
    converge_time(lambda: web_faults(cluster, 2, "nginx:1.27"), since=time.monotonic(), timeout=180, cluster=cluster)
    converge_time(lambda: [] if ready(once_state(cluster)) else ["once not ready"], since=time.monotonic(), timeout=60)
    trials, times, stopped_for, faults_seen = 3, [], [], []
    for trial in range(trials):
        before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in cluster.items("/api/v1/pods")}
        down_at = time.monotonic()
        engine.stop()
        stopped_for.append(time.monotonic() - down_at)
        engine.start()

        def converged(trial=trial) -> list[str]:
            faults = web_faults(cluster, 2, "nginx:1.27")
            once = once_state(cluster)
            if trial == 0 and once["status"].get("phase") == "Running":
                faults.append("once still Running")
            running_once = [
                c
                for c in cluster.containers()
                if c["Labels"].get("io.kubernetes.pod.uid") == once["metadata"]["uid"] and c["State"] == "running"
            ]
            if running_once:
                faults.append(f"once (restartPolicy Never) runs again: {[c['Names'] for c in running_once]}")
            return faults

        times.append(
            converge_time(converged, since=down_at, timeout=120, what=f"engine restart {trial + 1}", cluster=cluster)
        )
        after = {p["metadata"]["name"]: p["metadata"]["uid"] for p in cluster.items("/api/v1/pods")}
        # The same pods (the kubelet restarted their containers), none replaced by the ReplicaSet.
        assert after == before, (before, after)
        faults_seen += engine_faults(cluster, cluster.items("/api/v1/pods"))
    once = once_state(cluster)
    restarts = {
        p["metadata"]["name"]: [s["restartCount"] for s in p["status"].get("containerStatuses", [])]
        for p in cluster.items("/api/v1/pods")
    }
    figures.record(
        "docker_engine_restart",
        {
            "runtime": "docker (a private engine)",
            "trials": trials,
            "faults_injected": trials,
            "engine_stop_seconds": figures.seconds(stopped_for),
            "converge_seconds": figures.seconds(times),
            "restart_counts_after": restarts,
            "never_pod_phase": once["status"].get("phase"),
            "duplicated_or_orphaned": faults_seen,
            "lost": [],
        },
    )
    assert once["status"]["phase"] in ("Succeeded", "Failed")
    assert not faults_seen
