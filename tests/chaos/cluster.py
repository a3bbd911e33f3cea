"""A whole stack for the fault trials — web, worker and beat as `make run` starts them — on
PostgreSQL and Redis (the deployed setup), with one sandbox, seen three ways: through its
Kubernetes API (what a learner was told), in the database (what is stored and leased), and in
the Docker engine (what runs)."""

from __future__ import annotations

import contextlib
import http.client
import json
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests import services
from tests.system.stack import ScratchPostgres, Stack, free_port, wait_for

# Settings that make the control loop's own clocks short enough to fault it many times in a few
# minutes: due work is re-sent every second, a dead worker's lease runs out in 3 s.
FAST_LOOP = {
    "TUTOR_RESYNC_INTERVAL": "1",
    "TUTOR_FULL_RESYNC_INTERVAL": "6",
    "TUTOR_WORK_LEASE_SECONDS": "3",
    "TUTOR_FAST_BACKOFF": "1",
}


@dataclass
class Answer:
    status: int  # 0: no answer at all (connection refused or reset)
    body: dict | str
    headers: dict = field(default_factory=dict)


@dataclass
class Cluster:
    stack: Stack
    port: int
    prefix: str  # /k8s/<sandbox uid>/t/<token>
    sandbox: str  # the sandbox's uid, hex, as the engine's labels carry it
    database_url: str
    docker_host: str = ""
    generation: Counter = field(default_factory=Counter)

    # --- the processes ---------------------------------------------------------------------------

    def process(self, role: str):
        """The newest process started for `role` (web, worker, beat)."""
        return [process for name, process in self.stack.processes if name.split("-")[0] == role][-1]

    def start(self, role: str) -> None:
        self.generation[role] += 1
        name = f"{role}-{self.generation[role]}"
        if role == "web":
            uvicorn = str(Path(sys.executable).with_name("uvicorn"))
            args = [uvicorn, "tutor.asgi:application", "--ws", "wsproto", "--port", str(self.port), "--no-access-log"]
            self.stack.start(name, args)
            wait_for(lambda: "Uvicorn running" in self.stack.log(name), timeout=60, what=name)
        elif role == "worker":
            self.stack.start_worker(name=name)
            wait_for(lambda: " ready." in self.stack.log(name), timeout=60, what=name)
        else:
            celery = str(Path(sys.executable).with_name("celery"))
            self.stack.start(name, [celery, "-A", "tutor", "beat", "--loglevel", "INFO"])

    def restart(self, role: str, sig: int = signal.SIGTERM) -> None:
        self.stack.stop(self.process(role), sig=sig)
        self.start(role)

    # --- the sandbox's API -----------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict | None = None, *, timeout: float = 20, **headers) -> Answer:
        """One request on a connection of its own; never raises for an answer or for no answer."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
        try:
            connection.request(
                method,
                self.prefix + path,
                body=json.dumps(body).encode() if body is not None else None,
                headers={"Content-Type": content_type, "Accept": "application/json", **headers},
            )
            response = connection.getresponse()
            data = response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as error:
            return Answer(0, f"{type(error).__name__}: {error}")
        finally:
            connection.close()
        try:
            parsed: dict | str = json.loads(data) if data else {}
        except ValueError:
            parsed = data
        return Answer(response.status, parsed, dict(response.getheaders()))

    def get(self, path: str) -> dict:
        answer = self.call("GET", path)
        assert answer.status == 200, (path, answer.status, answer.body)
        return answer.body

    def items(self, path: str) -> list[dict]:
        return self.get(path)["items"]

    def dump(self, why: str) -> Path:
        """Save what the API says about the sandbox, for a trial that failed; where it went."""
        path = self.stack.root / f"dump-{int(time.time())}.json"
        paths = ("/api/v1/pods", "/apis/apps/v1/replicasets", "/apis/apps/v1/deployments", "/api/v1/events")
        found = {p: self.call("GET", p).body for p in paths}
        found["engine"] = self.containers() if self.stack.extra_env.get("TUTOR_RUNTIME") == "docker" else []
        path.write_text(json.dumps({"why": why, **found}, indent=1, default=str))
        return path

    # --- the database ----------------------------------------------------------------------------

    def leased_keys(self) -> list[str]:
        """The work-queue keys some worker holds a live lease on right now."""
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute("SELECT key FROM clusters_workitem WHERE leased_until > now()").fetchall()
        return [row[0] for row in rows]

    # --- the engine ------------------------------------------------------------------------------

    def engine(self):
        import docker

        return docker.DockerClient(base_url=self.docker_host or "unix:///var/run/docker.sock", timeout=30)

    def containers(self) -> list[dict]:
        """Every container of the sandbox on the engine, as `docker ps -a` lists them."""
        client = self.engine()
        try:
            return client.api.containers(all=True, filters={"label": f"kube-tutor.sandbox={self.sandbox}"})
        finally:
            client.close()


def engine_faults(cluster: Cluster, pods: list[dict]) -> list[str]:
    """What is wrong between the engine and the stored pods: a container of a pod that no longer
    exists (orphaned), more than one running container for one pod's sandbox or one of its
    containers (duplicated), a pod stored Running whose containers do not all run (missing)."""
    live = {p["metadata"]["uid"]: p for p in pods}
    running: Counter = Counter()
    faults = []
    for container in cluster.containers():
        labels = container["Labels"]
        uid = labels.get("io.kubernetes.pod.uid")
        if uid is None:
            continue  # a Service's proxy
        if uid not in live:
            faults.append(f"orphaned: {container['Names'][0]} ({container['State']})")
        elif container["State"] == "running":
            running[(uid, labels.get("io.kubernetes.container.name", "POD"))] += 1
    faults += [f"duplicated: {n} running for pod {uid} {name}" for (uid, name), n in running.items() if n > 1]
    for uid, pod in live.items():
        if pod.get("status", {}).get("phase") != "Running" or pod["metadata"].get("deletionTimestamp"):
            continue
        for name in ["POD", *(c["name"] for c in pod["spec"]["containers"])]:
            if running[(uid, name)] == 0:
                faults.append(f"missing: pod {pod['metadata']['name']} has no running {name}")
    return faults


def ready(pod: dict) -> bool:
    status = pod.get("status", {})
    conditions = status.get("conditions", [])
    return status.get("phase") == "Running" and any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


@contextlib.contextmanager
def chaos_cluster(
    root: Path,
    *,
    runtime: str,
    database_server: str | None = None,
    database_url: str | None = None,
    redis_url: str | None = None,
    docker_host: str = "",
    env: dict[str, str] | None = None,
) -> Iterator[Cluster]:
    """A stack on `runtime` with alice's sandbox. The database is a scratch one on
    `database_server` (dropped afterwards), or `database_url` as it is; the broker is Redis at
    `redis_url`, under a key prefix of the stack's own."""
    settings = {"TUTOR_RUNTIME": runtime, **FAST_LOOP, **(env or {})}
    if docker_host:
        settings["DOCKER_HOST"] = docker_host
    scratch = ScratchPostgres(database_server) if database_server else None
    url = scratch.url if scratch else database_url or services.postgres_url()
    stack = Stack(root=root, database_url=url, redis_url=redis_url or services.redis_url(), extra_env=settings)
    stack.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        migrated = stack.manage("migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        created = stack.manage("sandbox", "create", "--owner", "alice", "--runtime", runtime)
        assert created.returncode == 0, created.stderr[-3000:]
        port = free_port()
        config = stack.manage("sandbox", "kubeconfig", "--owner", "alice", "--server", f"http://127.0.0.1:{port}")
        assert config.returncode == 0, config.stderr
        (root / "kubeconfig").write_text(config.stdout)
        server = next(line.split("server:", 1)[1].strip() for line in config.stdout.splitlines() if "server:" in line)
        prefix = server.split(f":{port}", 1)[1]
        cluster = Cluster(
            stack=stack,
            port=port,
            prefix=prefix,
            sandbox=prefix.split("/")[2],
            database_url=url,
            docker_host=docker_host,
        )
        for role in ("web", "worker", "beat"):
            cluster.start(role)
        yield cluster
    finally:
        stack.stop_all()
        if runtime == "docker":
            removed = stack.manage("sandbox", "clean-engine")
            assert removed.returncode == 0, removed.stderr
        if scratch:
            scratch.drop()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def converge_time(
    check, *, since: float, timeout: float, interval: float = 0.2, what: str = "", cluster: Cluster | None = None
) -> float:
    """Seconds from `since` (a monotonic moment) until `check()` is true; fail after `timeout`
    with what check() last said was wrong (it returns a list of faults, empty when converged),
    and, given the cluster, where its state was saved."""
    deadline = time.monotonic() + timeout
    faults: list = ["never checked"]
    while time.monotonic() < deadline:
        faults = check()
        if not faults:
            return time.monotonic() - since
        time.sleep(interval)
    saved = f" (saved in {cluster.dump(what)})" if cluster is not None else ""
    raise AssertionError(f"{what}: not converged within {timeout} s: {faults[:10]}{saved}")
