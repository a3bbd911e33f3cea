import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.system.stack import REPO, Stack, free_port, wait_for

# Playwright's sync API runs an event loop in the test's thread; the test's own database calls
# (seeding accounts) are still plain synchronous calls, so Django's async-safety guard is lifted.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are kept for people to look at (var/artifacts/screenshots)."""
    folder = REPO / "var" / "artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Site:
    """The whole app as `make run` starts it (web, worker, beat), on a database of its own."""

    url: str
    stack: Stack

    def learner(self, username: str) -> tuple[str, str]:
        """A new learner account; returns its username and password."""
        password = f"{username}-pass-1"
        self.shell(
            f"from django.contrib.auth.models import User; User.objects.create_user({username!r}, {None}, {password!r})"
        )
        return username, password

    def shell(self, code: str) -> str:
        done = self.stack.manage("shell", "-c", code)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A running site on the simulated runtime, for the learner's pages."""
    root = tmp_path_factory.mktemp("site")
    settings = {"TUTOR_RUNTIME": "simulated", "TUTOR_FAST_BACKOFF": "1", "TUTOR_RESYNC_INTERVAL": "5"}
    stack = Stack(root=root, extra_env=settings)
    for command in (("migrate", "--noinput"), ("collectstatic", "--noinput", "-v", "0")):
        done = stack.manage(*command)
        assert done.returncode == 0, done.stderr
    port = free_port()
    uvicorn = str(Path(sys.executable).with_name("uvicorn"))
    stack.start("web", [uvicorn, "tutor.asgi:application", "--ws", "wsproto", "--port", str(port)])
    stack.start_worker()
    stack.start_beat()
    wait_for(lambda: "Uvicorn running" in stack.log("web"), timeout=60, what="uvicorn")
    wait_for(lambda: " ready." in stack.log("worker"), timeout=60, what="the worker")
    try:
        yield Site(url=f"http://127.0.0.1:{port}", stack=stack)
    finally:
        stack.stop_all()
