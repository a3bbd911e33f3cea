"""docs/operations.md's backup and restore, done as written: `pg_dump` of a running stack's
PostgreSQL database, a loss (a Deployment and a ConfigMap deleted, their containers gone from the
Docker engine), the stack stopped, `pg_restore`, the stack started again: the restored objects
are what the API serves and the worker makes their containers again, with nothing else left."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import services
from tests.kubectl.conftest import Kubectl
from tests.system.stack import ScratchPostgres, Stack, free_port, wait_for

pytestmark = [pytest.mark.system, pytest.mark.docker]

WORK = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {colour: blue}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"""


def postgres_tool(name: str) -> str:
    """pg_dump or pg_restore of the newest PostgreSQL installed (the server's own version)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parent.parent.name))
    return str(found[-1]) if found else services.command(name)


def web_containers(stack: Stack) -> list[str]:
    """The app containers (not pause containers) of the sandbox's `web` pods in the engine."""
    listed = stack.manage(
        "shell",
        "--no-imports",
        "-c",
        "from clusters.models import Sandbox; from clusters.runtime.docker import engine_client; "
        "sandbox = Sandbox.objects.get().uid.hex; "
        "found = engine_client().api.containers(filters={'label': [f'kube-tutor.sandbox={sandbox}', "
        "'io.kubernetes.container.name=web']}); "
        "print(' '.join(sorted(c['Labels']['io.kubernetes.pod.name'] for c in found)))",
    )
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.split()


def started(stack: Stack, port: int) -> tuple:
    uvicorn = str(Path(sys.executable).with_name("uvicorn"))
    web = stack.start("web", [uvicorn, "tutor.asgi:application", "--ws", "wsproto", "--port", str(port)])
    worker, beat = stack.start_worker(), stack.start_beat()
    wait_for(lambda: "Uvicorn running" in stack.log("web"), timeout=60, what="uvicorn")
    wait_for(lambda: " ready." in stack.log("worker"), timeout=60, what="the worker")
    return web, worker, beat


@pytest.fixture
def stack(tmp_path):
    services.docker_engine()
    database = ScratchPostgres(services.postgres_url())
    made = Stack(
        root=tmp_path,
        database_url=database.url,
        redis_url=services.redis_url(),
        extra_env={"TUTOR_RUNTIME": "docker", "TUTOR_RESYNC_INTERVAL": "5"},
    )
    try:
        assert made.manage("migrate", "--noinput").returncode == 0
        created = made.manage("sandbox", "create", "--owner", "alice", "--runtime", "docker")
        assert created.returncode == 0, created.stderr
        yield made, database
    finally:
        made.stop_all()
        made.manage("sandbox", "clean-engine")
        database.drop()


def test_a_restored_database_is_served_and_its_containers_are_made_again(stack, tmp_path):
    stack, database = stack
    port = free_port()
    processes = started(stack, port)
    config = stack.manage("sandbox", "kubeconfig", "--owner", "alice", "--server", f"http://127.0.0.1:{port}")
    (tmp_path / "kubeconfig").write_text(config.stdout)
    kubectl = Kubectl(kubeconfig=tmp_path / "kubeconfig", home=tmp_path, namespace="default")
    kubectl("apply", "-f", "-", input=WORK)
    kubectl("rollout", "status", "deployment/web", "--timeout=120s", timeout=150)
    pods = sorted(p["metadata"]["name"] for p in kubectl.json("get", "pods", "-l", "app=web")["items"])
    assert web_containers(stack) == pods

    backup = tmp_path / "backup.dump"
    dumped = subprocess.run(
        [postgres_tool("pg_dump"), "--format=custom", f"--file={backup}", database.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dumped.returncode == 0, dumped.stderr

    # The loss: what the backup holds is deleted, and the kubelets remove its containers.
    kubectl("delete", "deployment/web", "configmap/settings", "--wait=true", timeout=120)
    wait_for(lambda: web_containers(stack) == [], timeout=90, what="the web containers to be removed")

    for process in reversed(processes):
        stack.stop(process)
    restored = subprocess.run(
        [postgres_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", f"--dbname={database.url}", str(backup)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert restored.returncode == 0, restored.stderr
    started(stack, port)

    # What the backup held is what the API serves, and the worker runs it again.
    assert kubectl.json("get", "configmap", "settings")["data"] == {"colour": "blue"}
    assert sorted(p["metadata"]["name"] for p in kubectl.json("get", "pods", "-l", "app=web")["items"]) == pods
    wait_for(lambda: web_containers(stack) == pods, timeout=90, what="the restored pods' containers")
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    statuses = json.loads(kubectl("get", "pods", "-l", "app=web", "-o", "json").stdout)["items"]
    assert all(c["ready"] for p in statuses for c in p["status"]["containerStatuses"]), statuses
