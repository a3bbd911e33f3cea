"""A live API server (uvicorn, in its own process, on its own database) and the real kubectl."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import services
from tests.system.stack import ScratchPostgres, Stack, free_port, wait_for

KUBECTL = str(Path(sys.executable).with_name("kubectl"))


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/kubectl/" in str(item.fspath):
            item.add_marker(pytest.mark.system)


@dataclass
class ApiServer:
    url: str
    stack: Stack
    root: Path

    def kubeconfig(self, owner: str = "alice", name: str = "default", server: str | None = None) -> Path:
        result = self.stack.manage(
            "sandbox", "kubeconfig", "--owner", owner, "--name", name, "--server", server or self.url
        )
        assert result.returncode == 0, result.stderr
        path = self.root / f"kubeconfig-{owner}-{name}-{uuid.uuid4().hex[:6]}"
        path.write_text(result.stdout)
        return path


@pytest.fixture(scope="session")
def api_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("api-server")
    scratch = None
    database_url = ""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        scratch = ScratchPostgres(services.postgres_url())
        database_url = scratch.url
    stack = Stack(root=root, database_url=database_url, extra_env={"TUTOR_RUNTIME": "simulated"})
    migrate = stack.manage("migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr
    for owner in ("alice", "bob"):
        created = stack.manage("sandbox", "create", "--owner", owner)
        assert created.returncode == 0, created.stderr
    port = free_port()
    uvicorn = str(Path(sys.executable).with_name("uvicorn"))
    stack.start(
        "web", [uvicorn, "tutor.asgi:application", "--ws", "wsproto", "--host", "127.0.0.1", "--port", str(port)]
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: "Uvicorn running" in stack.log("web"), timeout=60, what="uvicorn to start")
    yield ApiServer(url=url, stack=stack, root=root)
    stack.stop_all()
    if scratch:
        scratch.drop()


@dataclass
class Kubectl:
    kubeconfig: Path
    home: Path
    namespace: str

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        command = [KUBECTL, "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.home / "cache"), *args]
        result = subprocess.run(
            command,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "HOME": str(self.home), **(env or {})},
            check=False,
        )
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def __call__(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.run(*args, **kwargs)

    def json(self, *args: str) -> dict:
        return json.loads(self.run(*args, "-o", "json").stdout)


@pytest.fixture
def kubectl(api_server, tmp_path):
    """kubectl for alice's sandbox, working in a namespace of this test's own."""
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    tool = Kubectl(kubeconfig=api_server.kubeconfig(), home=tmp_path, namespace=namespace)
    tool("create", "namespace", namespace)
    tool("config", "set-context", "--current", "--namespace", namespace)
    return tool
