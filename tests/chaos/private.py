"""Private servers the fault trials may stop and start at will: a redis-server, a PostgreSQL
cluster and a Docker engine of their own, each on its own port or socket and data folder, so the
shared services of the test run (and of everyone else on the machine) are never touched.

Each is started by PID and stopped by that PID only."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests import services
from tests.system.stack import free_port, wait_for


def _alive(pid: int) -> bool:
    """A PID is live when /proc knows it and it is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not any(line.startswith("State:") and "Z" in line.split(":", 1)[1][:3] for line in status.splitlines())


def _stop_pid(pid: int, timeout: float = 30) -> None:
    if not _alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class PrivateRedis:
    """redis-server on a free port of its own, no persistence: a restart forgets every message."""

    def __init__(self, root: Path):
        self.binary = services.command("redis-server")
        self.root = root
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = (self.root / "redis.log").open("a")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._answers, timeout=10, interval=0.02, what="the private redis-server")

    def _answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)  # as a crash: no chance to hand anything over
            self.process.wait(timeout=10)
            self.process = None


class PrivatePostgres:
    """A PostgreSQL cluster initdb'd into a folder of its own, served on a free port."""

    def __init__(self):
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not found:
            services.service_missing("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = found[-1]
        # A folder of its own under /tmp: the server's user must reach it (pytest's are root's, 0700).
        self.root = Path(tempfile.mkdtemp(prefix="kube-tutor-chaos-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgres://tutor:tutor@127.0.0.1:{self.port}/tutor"
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._as_owner(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _as_owner(self, *args: str) -> subprocess.CompletedProcess:
        command = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        return result

    def start(self) -> None:
        # Durable, as a deployment's server is: the test services' server turns fsync and
        # synchronous commits off, and a crash there forgets the last commits it acknowledged.
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=100"
        log = str(self.root / "server.log")
        self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", log, "-w", "-o", options, "start")

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash as far as clients see: every session is cut at once."""
        self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(AssertionError):
            self.stop("fast")
        shutil.rmtree(self.root, ignore_errors=True)

    def create_role_and_database(self) -> None:
        psql = [str(self.bin / "psql"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        for statement in ("CREATE ROLE tutor LOGIN CREATEDB PASSWORD 'tutor'", "CREATE DATABASE tutor OWNER tutor"):
            result = subprocess.run([*psql, "-c", statement], capture_output=True, text=True, check=False)
            assert result.returncode == 0, result.stderr


# Where the private engine's own bridge lives: a range no sandbox network is given (those come
# from 10.213.0.0/16) and, on these machines, no other interface uses.
PRIVATE_BRIDGE = "ktchaos0"
PRIVATE_BRIDGE_ADDRESS = "172.31.254.1/24"


class PrivateDockerd:
    """A Docker engine of its own: its own socket, data root, exec root (and so its own
    containerd), pid file and bridge. `--iptables=false`: an engine that sets up its iptables
    chains at start would flush the shared engine's; this one's sandboxes need none (their pods
    talk over their own network namespaces, and the trials publish no ports)."""

    def __init__(
        self,
        root: Path,
        *,
        bridge: str = PRIVATE_BRIDGE,
        bridge_address: str = PRIVATE_BRIDGE_ADDRESS,
        name: str = "chaos",
        address_pool: str = "",
    ):
        """`bridge` and `bridge_address`: the engine's default bridge, which must not overlap any
        other engine's; `address_pool`, where the engine takes the subnets of networks made
        without one (`base=172.30.0.0/16,size=24`; empty: the engine's defaults); `name` keeps
        the sockets of two private engines of one process apart."""
        self.binary = services.command("dockerd")
        if os.geteuid() != 0:
            services.service_missing("a private Docker engine needs root")
        self.bridge, self.bridge_address, self.address_pool = bridge, bridge_address, address_pool
        # Unix sockets take paths up to 107 bytes: keep the socket's short.
        self.root = root
        self.socket = Path(f"/run/kt-{name}-{os.getpid()}.sock")
        self.host = f"unix://{self.socket}"
        self.pidfile = root / "dockerd.pid"
        self.process: subprocess.Popen | None = None

    def _bridge(self) -> None:
        if subprocess.run(["ip", "link", "show", self.bridge], capture_output=True, check=False).returncode == 0:
            return
        for args in (
            ["ip", "link", "add", self.bridge, "type", "bridge"],
            ["ip", "addr", "add", self.bridge_address, "dev", self.bridge],
            ["ip", "link", "set", self.bridge, "up"],
        ):
            subprocess.run(args, check=True, capture_output=True)

    def start(self) -> float:
        """Start the engine; how many seconds it took to answer."""
        self._bridge()
        self.root.mkdir(parents=True, exist_ok=True)
        # After a SIGKILL the pid files name dead processes, and the engine refuses to start.
        for pidfile in (self.pidfile, self.root / "exec" / "containerd" / "containerd.pid"):
            if pidfile.exists() and not _alive(int(pidfile.read_text().strip() or 0)):
                pidfile.unlink()
        log = (self.root / "dockerd.log").open("a")
        began = time.monotonic()
        self.process = subprocess.Popen(
            [
                self.binary,
                "--host",
                self.host,
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.pidfile),
                "--bridge",
                self.bridge,
                "--iptables=false",
                "--ip-masq=false",
                "--log-level",
                "warn",
                *(["--default-address-pool", self.address_pool] if self.address_pool else []),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(self._answers, timeout=60, interval=0.1, what="the private Docker engine")
        return time.monotonic() - began

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the private dockerd exited: {(self.root / 'dockerd.log').read_text()[-2000:]}")
        return (
            subprocess.run(
                ["docker", "-H", self.host, "version"], capture_output=True, timeout=10, check=False
            ).returncode
            == 0
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the engine (TERM: as `systemctl restart docker` does; KILL: a crash), and wait
        until it and its containerd are gone."""
        if self.process is None:
            return
        containerd = self.root / "exec" / "containerd" / "containerd.pid"
        containerd_pid = int(containerd.read_text().strip() or 0) if containerd.exists() else 0
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        if containerd_pid:
            _stop_pid(containerd_pid)

    def remove(self) -> None:
        """Stop the engine after removing every container, volume and network it holds, and
        delete its folders; the bridge goes too."""
        if self.process is not None:
            ids = subprocess.run(
                ["docker", "-H", self.host, "ps", "-aq"], capture_output=True, text=True, check=False
            ).stdout.split()
            if ids:
                subprocess.run(["docker", "-H", self.host, "rm", "-f", *ids], capture_output=True, check=False)
            subprocess.run(["docker", "-H", self.host, "network", "prune", "-f"], capture_output=True, check=False)
            subprocess.run(["docker", "-H", self.host, "volume", "prune", "-f"], capture_output=True, check=False)
            self.stop()
        # The data root holds overlay mounts only while containers run; none do now.
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        self.socket.unlink(missing_ok=True)
