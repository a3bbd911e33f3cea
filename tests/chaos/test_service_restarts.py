"""The shared services faulted: the broker (Redis) killed and restarted during a burst of writes,
and the database (PostgreSQL) stopped and started again. Both are private servers of this module
(tests/chaos/private.py); the stack runs the simulated runtime, since what is faulted here is the
control plane, not the containers.

What must hold: every write that got a 2xx is stored afterwards and the cluster converges on it;
while the database is down, every answer is a clear error (a 503 Status with words, never a
stack trace or a dropped connection), and afterwards everything works again."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.chaos import figures
from tests.chaos.cluster import Cluster, chaos_cluster, converge_time, ready
from tests.chaos.private import PrivatePostgres, PrivateRedis

PODS = "/api/v1/namespaces/default/pods"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
# Two nodes take 110 pods each: three bursts and the PostgreSQL trial's pods stay well under that.
PODS_PER_BURST = 25


def pod(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "burst"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    }


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    root = tmp_path_factory.mktemp("chaos-servers")
    redis, postgres = PrivateRedis(root / "redis"), PrivatePostgres()
    redis.start()
    postgres.start()
    try:
        postgres.create_role_and_database()
        yield redis, postgres
    finally:
        redis.stop()
        postgres.remove()


@pytest.fixture(scope="module")
def cluster(servers, tmp_path_factory):
    redis, postgres = servers
    with chaos_cluster(
        tmp_path_factory.mktemp("chaos-services"),
        runtime="simulated",
        database_url=postgres.url,
        redis_url=redis.url,
    ) as running:
        yield running


def pods_faults(cluster: Cluster, names: set[str], configmaps: set[str] = frozenset()) -> list[str]:
    """What keeps the pods `names` from all being stored, Running and Ready, and `configmaps`
    from all being stored."""
    answer = cluster.call("GET", f"{PODS}?labelSelector=app%3Dburst")
    stored = cluster.call("GET", f"{CONFIGMAPS}?labelSelector=app%3Dburst")
    if answer.status != 200 or stored.status != 200:
        return [f"GET pods: {answer.status}, configmaps: {stored.status}"]
    found = {p["metadata"]["name"]: p for p in answer.body["items"]}
    faults = [f"LOST: {name}" for name in sorted(names - set(found))]
    faults += [f"LOST: {name}" for name in sorted(configmaps - {c["metadata"]["name"] for c in stored.body["items"]})]
    return faults + [f"{name} not ready" for name in sorted(names & set(found)) if not ready(found[name])]


class Burst(threading.Thread):
    """Creates objects one after another, as fast as the API answers, until stopped — a pod every
    fourth write up to PODS_PER_BURST, ConfigMaps between and after — and remembers what each got."""

    def __init__(self, cluster: Cluster, prefix: str):
        super().__init__(daemon=True)
        self.cluster, self.prefix = cluster, prefix
        self.answers: dict[str, int] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        index = 0
        while not self.stopped.is_set():
            name = f"{self.prefix}-{index}"
            if index % 4 == 0 and index < 4 * PODS_PER_BURST:
                body, path = pod(name), PODS
            else:
                body, path = {"metadata": {"name": f"{name}-cm", "labels": {"app": "burst"}}}, CONFIGMAPS
            self.answers[body["metadata"]["name"]] = self.cluster.call("POST", path, body, timeout=30).status
            index += 1

    def accepted(self) -> set[str]:
        return {name for name, status in self.answers.items() if 200 <= status < 300}


def test_redis_killed_during_a_burst_of_writes_loses_no_accepted_write(cluster, servers):
    redis, _ = servers
    trials, times, lost, failed, outage, total = 3, [], [], {}, [], 0
    for trial in range(trials):
        burst = Burst(cluster, f"burst{trial}")
        burst.start()
        time.sleep(1.5)
        down_at = time.monotonic()
        redis.stop()  # SIGKILL: every queued message is gone
        time.sleep(2)
        redis.start()
        outage.append(time.monotonic() - down_at)
        time.sleep(1.5)
        burst.stopped.set()
        burst.join(timeout=60)
        accepted = burst.accepted()
        assert accepted, burst.answers
        total += len(accepted)
        for status in burst.answers.values():
            if not 200 <= status < 300:
                failed[status] = failed.get(status, 0) + 1
        pods = {name for name in accepted if not name.endswith("-cm")}
        configmaps = accepted - pods

        def converged(pods=pods, configmaps=configmaps) -> list[str]:
            return pods_faults(cluster, pods, configmaps)

        try:
            times.append(converge_time(converged, since=down_at, timeout=90, what="after redis", cluster=cluster))
        finally:
            lost += [fault for fault in converged() if fault.startswith("LOST")]
    figures.record(
        "redis_restart_during_burst",
        {
            "runtime": "simulated",
            "trials": trials,
            "faults_injected": trials,
            "redis_outage_seconds": figures.seconds(outage),
            "writes_accepted": total,
            "writes_not_accepted_by_status": failed,
            "converge_seconds": figures.seconds(times),
            "lost": lost,
        },
    )
    assert not lost


def _error_is_clear(answer) -> str:
    """'' when the answer is a 503 Status that says what is wrong; what is wrong with it otherwise."""
    if answer.status != 503:
        return f"{answer.status}: {str(answer.body)[:200]}"
    body = answer.body
    if not isinstance(body, dict) or body.get("kind") != "Status" or not body.get("message"):
        return f"503 without a Status: {str(body)[:200]}"
    if "Traceback" in body["message"] or 'File "' in body["message"]:
        return f"a stack trace: {body['message'][:200]}"
    return ""


def test_postgres_restarted_gives_clear_errors_meanwhile_then_recovers_with_nothing_lost(cluster, servers):
    _, postgres = servers
    trials, recovered, converged, unclear, messages = 3, [], [], [], set()
    kept: dict[str, str] = {}
    answers_during_outage = 0
    for trial in range(trials):
        name = f"before-{trial}"
        answer = cluster.call("POST", CONFIGMAPS, {"metadata": {"name": name}, "data": {"trial": str(trial)}})
        assert answer.status == 201, answer.body
        kept[name] = str(trial)
        down_at = time.monotonic()
        postgres.stop("immediate")
        requests = [
            ("GET", PODS, None),
            ("POST", CONFIGMAPS, {"metadata": {"name": f"during-{trial}"}}),
            ("GET", f"{CONFIGMAPS}/{name}", None),
        ]
        try:
            # At once: each waits for the connection pool's timeout (10 s) before its answer.
            with ThreadPoolExecutor(len(requests)) as pool:
                answers = list(pool.map(lambda r: cluster.call(*r, timeout=30), requests))
        finally:
            postgres.start()
        for (method, path, _), answer in zip(requests, answers, strict=True):
            answers_during_outage += 1
            if problem := _error_is_clear(answer):
                unclear.append(f"{method} {path}: {problem}")
            else:
                messages.add(answer.body["message"])

        def api_answers(name=name):
            return [] if cluster.call("GET", f"{CONFIGMAPS}/{name}").status == 200 else ["the API does not answer yet"]

        recovered.append(converge_time(api_answers, since=down_at, timeout=60, interval=0.1))
        # The control loop works again: a pod written now runs.
        after = f"after-{trial}"
        answer = cluster.call("POST", PODS, pod(after))
        assert answer.status == 201, answer.body
        converged.append(
            converge_time(lambda a=after: pods_faults(cluster, {a}), since=down_at, timeout=90, cluster=cluster)
        )
    stored = {item["metadata"]["name"]: item.get("data", {}).get("trial") for item in cluster.items(CONFIGMAPS)}
    lost = sorted(name for name, value in kept.items() if stored.get(name) != value)
    figures.record(
        "postgres_restart",
        {
            "runtime": "simulated",
            "trials": trials,
            "faults_injected": trials,
            "requests_during_outage": answers_during_outage,
            "unclear_answers": unclear,
            "messages_during_outage": sorted(messages),
            "recovered_seconds": figures.seconds(recovered),
            "converge_seconds": figures.seconds(converged),
            "lost": lost,
        },
    )
    assert not unclear
    assert not lost
