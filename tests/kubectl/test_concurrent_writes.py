"""Concurrent writers against a live API server with several processes, on PostgreSQL and SQLite.

- 100 updates (PUT) of one object sent at once with the same resourceVersion: exactly one lands,
  the other 99 are 409 Conflict with upstream's words, and the object holds the winner's data,
  written once (one change-log entry, one new resourceVersion);
- the real kubectl applying the same manifest ten times: only the first writes; the other nine
  say `unchanged` and leave the resourceVersion, the generation and the change log as they were.

The server is uvicorn with four worker processes (a single process would hand every request to
its one database thread, one after the other), so the writes meet in the database itself. SQLite
runs too: the embedded setup writes from the web, the worker and beat at once (WAL mode,
IMMEDIATE transactions), so it claims concurrent writes as well.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests import services
from tests.kubectl.conftest import Kubectl
from tests.system.stack import ScratchPostgres, Stack, free_port, wait_for

WRITERS = 100
WEB_PROCESSES = 4
CONFLICT = (
    'Operation cannot be fulfilled on configmaps "shared": the object has been modified; '
    "please apply your changes to the latest version and try again"
)
FIGURES = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "concurrency.json"


@dataclass
class Server:
    backend: str
    url: str
    stack: Stack
    database_url: str
    kubeconfig: Path

    def changes(self, namespace: str, name: str) -> list[tuple[int, str]]:
        """The change log's entries for one object: (resourceVersion, type), oldest first."""
        query = (
            "SELECT resource_version, type FROM clusters_change WHERE namespace = %s AND name = %s "
            "ORDER BY resource_version"
        )
        if self.backend == "postgresql":
            with psycopg.connect(self.database_url) as conn:
                return [tuple(row) for row in conn.execute(query, (namespace, name)).fetchall()]
        with sqlite3.connect(self.stack.var_dir / "db.sqlite3") as conn:
            return [tuple(row) for row in conn.execute(query.replace("%s", "?"), (namespace, name)).fetchall()]


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def server(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"concurrent-{request.param}")
    scratch = ScratchPostgres(services.postgres_url()) if request.param == "postgresql" else None
    stack = Stack(root=root, database_url=scratch.url if scratch else "", extra_env={"TUTOR_RUNTIME": "simulated"})
    try:
        for command in (("migrate", "--noinput"), ("sandbox", "create", "--owner", "alice")):
            done = stack.manage(*command)
            assert done.returncode == 0, done.stderr
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        config = stack.manage("sandbox", "kubeconfig", "--owner", "alice", "--server", url)
        assert config.returncode == 0, config.stderr
        kubeconfig = root / "kubeconfig"
        kubeconfig.write_text(config.stdout)
        uvicorn = str(Path(sys.executable).with_name("uvicorn"))
        options = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(WEB_PROCESSES)]
        stack.start("web", [uvicorn, "tutor.asgi:application", "--ws", "wsproto", *options])
        wait_for(
            lambda: stack.log("web").count("Application startup complete") >= WEB_PROCESSES,
            timeout=90,
            what=f"{WEB_PROCESSES} uvicorn workers",
        )
        yield Server(request.param, url, stack, scratch.url if scratch else "", kubeconfig)
    finally:
        stack.stop_all()
        if scratch:
            scratch.drop()


def api_for(server: Server) -> client.ApiClient:
    base, token = re.search(r"server: (\S+)", server.kubeconfig.read_text()).group(1).split("/t/")
    configuration = client.Configuration(host=base)
    configuration.api_key = {"BearerToken": token}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    configuration.connection_pool_maxsize = WRITERS
    return client.ApiClient(configuration)


@pytest.fixture
def core(server):
    with api_for(server) as api:
        yield client.CoreV1Api(api)


@pytest.fixture
def namespace(core):
    name = f"race-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def record(backend: str, figures: dict) -> None:
    """Keep the measured figures for people to read (var/artifacts/concurrency.json)."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    kept = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    kept[backend] = {**kept.get(backend, {}), **figures}
    FIGURES.write_text(json.dumps(kept, indent=2) + "\n")


def test_100_updates_with_one_resource_version_give_one_success_and_99_conflicts(server, core, namespace):
    created = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="shared"), data={"writer": "none"})
    )
    version = created.metadata.resource_version
    # Every writer connects first and then waits at the barrier, so the PUTs leave together.
    start = threading.Barrier(WRITERS)

    def put(writer: int) -> tuple[int, int, str, float]:
        body = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="shared", resource_version=version), data={"writer": str(writer)}
        )
        start.wait()
        began = time.perf_counter()
        try:
            core.replace_namespaced_config_map("shared", namespace, body)
            return writer, 200, "", began
        except ApiException as error:
            return writer, error.status, json.loads(error.body).get("message", ""), began

    core.read_namespaced_config_map("shared", namespace)  # warm the connection pool's first socket
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        answers = list(pool.map(put, range(WRITERS)))
    elapsed = time.perf_counter() - min(began for *_, began in answers)

    statuses = [status for _, status, _, _ in answers]
    assert statuses.count(200) == 1, sorted(set(statuses))
    assert statuses.count(409) == WRITERS - 1, sorted(set(statuses))
    assert {message for _, status, message, _ in answers if status == 409} == {CONFLICT}
    winner = next(writer for writer, status, _, _ in answers if status == 200)
    final = core.read_namespaced_config_map("shared", namespace)
    assert final.data == {"writer": str(winner)}
    assert int(final.metadata.resource_version) > int(version)
    assert server.changes(namespace, "shared") == [
        (int(version), "ADDED"),
        (int(final.metadata.resource_version), "MODIFIED"),
    ]
    record(
        server.backend,
        {"updates": WRITERS, "succeeded": 1, "conflicts": WRITERS - 1, "race_seconds": round(elapsed, 3)},
    )
    print(f"{server.backend}: {WRITERS} concurrent PUTs, 1 got 200 and {WRITERS - 1} got 409 in {elapsed:.2f} s")


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: steady
  labels: {app: steady}
spec:
  replicas: 2
  selector:
    matchLabels: {app: steady}
  template:
    metadata:
      labels: {app: steady}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{containerPort: 80}]
"""


def test_applying_one_manifest_ten_times_changes_nothing_after_the_first(server, namespace, tmp_path):
    kubectl = Kubectl(kubeconfig=server.kubeconfig, home=tmp_path, namespace=namespace)
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(DEPLOYMENT)
    said = [kubectl("apply", "-n", namespace, "-f", str(manifest)).stdout.strip() for _ in range(10)]
    assert said == ["deployment.apps/steady created"] + ["deployment.apps/steady unchanged"] * 9
    stored = kubectl.json("get", "-n", namespace, "deployment", "steady")
    # No worker runs here, so nothing but the applies writes: the one creation is all there is.
    assert stored["metadata"]["generation"] == 1
    assert server.changes(namespace, "steady") == [(int(stored["metadata"]["resourceVersion"]), "ADDED")]
    # … and after a change, once more: one write, then unchanged again.
    manifest.write_text(DEPLOYMENT.replace("replicas: 2", "replicas: 3"))
    again = [kubectl("apply", "-n", namespace, "-f", str(manifest)).stdout.strip() for _ in range(3)]
    assert again == ["deployment.apps/steady configured"] + ["deployment.apps/steady unchanged"] * 2
    changed = kubectl.json("get", "-n", namespace, "deployment", "steady")
    assert changed["metadata"]["generation"] == 2
    assert [kind for _, kind in server.changes(namespace, "steady")] == ["ADDED", "MODIFIED"]


def test_the_server_logged_no_error(server):
    """Whatever the writers met (locks, a busy SQLite), no request ended in a server error."""
    log = server.stack.log("web")
    assert " 500 " not in log
    assert "Traceback" not in log
