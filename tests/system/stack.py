"""Real processes for system tests: a scratch database, a broker, and the app's own commands.

A Stack is one isolated deployment: its own var/ folder, its own database (a SQLite file or a
fresh PostgreSQL database), its own broker (the embedded filesystem broker, or Redis under a key
prefix of its own). Processes it starts run in their own process groups and are stopped, then
killed, when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

REPO = Path(__file__).resolve().parents[2]
# Variables that would point a stack at the outer test run's services.
# What a stack does not inherit from the test process: its services, and the runtime the test
# process defaults to (tests/environment.py); a stack's extra_env names its own.
OUTER_SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "TUTOR_BROKER_KEY_PREFIX", "TUTOR_RUNTIME")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str):
    """Poll until predicate() returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class ScratchPostgres:
    """A fresh database on the test PostgreSQL server, dropped afterwards."""

    def __init__(self, server_url: str):
        self.name = f"tutor_sys_{uuid.uuid4().hex[:10]}"
        parts = urlsplit(server_url)
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        """Drop the database, its sessions closed by force. An autovacuum worker on it belongs to
        the server, not to this role, and cannot be closed: then try again once it has finished."""
        deadline = time.monotonic() + 30
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while True:
                try:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                    return
                except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)


# As the Procfile: no Celery event heartbeats or gossip (nothing here reads worker events; the
# health checks use a task and `inspect ping`) and no mingle (a second's wait at start).
WORKER_QUIET = ["--without-heartbeat", "--without-gossip", "--without-mingle"]


@dataclass
class Stack:
    root: Path
    database_url: str = ""
    redis_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    broker_key_prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in OUTER_SERVICE_VARIABLES}
        env.update(
            TUTOR_VAR_DIR=str(self.var_dir),
            SECRET_KEY="system-tests-secret-key",
            DEBUG="0",
            PYTHONUNBUFFERED="1",
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
            env["TUTOR_BROKER_KEY_PREFIX"] = f"{self.broker_key_prefix}:"
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = (self.root / f"{name}.log").open("w")
        process = subprocess.Popen(
            args,
            cwd=REPO,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes.append((name, process))
        return process

    def start_worker(
        self,
        *,
        name: str = "worker",
        pool: str = "threads",
        concurrency: int = 4,
        loglevel: str = "INFO",
        queues: str = "celery,kubelet.node-1,kubelet.node-2",
    ) -> subprocess.Popen:
        """A worker as the Procfile starts it (a thread pool of 4, every queue); benchmarks vary it,
        and a worker without a node's queue is a node whose kubelet has stopped."""
        celery = str(Path(sys.executable).with_name("celery"))
        options = ["--loglevel", loglevel, "--pool", pool, "--concurrency", str(concurrency)]
        options += [
            "--queues",
            queues,
            "--hostname",
            f"{'celery' if name == 'worker' else name}@%h",
            *WORKER_QUIET,
        ]
        return self.start(name, [celery, "-A", "tutor", "worker", *options])

    def start_beat(self) -> subprocess.Popen:
        celery = str(Path(sys.executable).with_name("celery"))
        return self.start("beat", [celery, "-A", "tutor", "beat", "--loglevel", "INFO"])

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the process group, wait, and kill it if it does not stop in time."""
        try:
            os.killpg(process.pid, sig)
            return process.wait(timeout=timeout)
        except ProcessLookupError:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            raise

    def process(self, name: str) -> subprocess.Popen:
        """The one process started under `name`."""
        [process] = [process for label, process in self.processes if label == name]
        return process

    @contextlib.contextmanager
    def frozen(self, name: str):
        """The named process's group stopped (SIGSTOP) for the block, then continued: what it
        would have done meanwhile waits, so a test can see the moment before it deterministically."""
        process = self.process(name)
        os.killpg(process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(process.pid, signal.SIGCONT)

    def stop_all(self) -> None:
        for _, process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.stop(process)
