"""What the orchestrator benchmarks share: a whole stack as `make run` starts it (web, worker and
beat as separate processes, from tests/system/stack.py) on a chosen database and broker,
sandboxes made in bulk, the sandbox Kubernetes API over plain HTTP with watches, CPU time read
from /proc, and the machine's load, so every figure says what else the machine was doing.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.system.stack import ScratchPostgres, Stack, free_port, wait_for

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- figures -------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: list[float], digits: int = 1) -> dict:
    """p50 / p90 / p95 / p99 / mean / min / max of milliseconds (or seconds), and how many."""
    if not values:
        return {"n": 0}
    return {
        "p50": round(percentile(values, 0.5), digits),
        "p90": round(percentile(values, 0.9), digits),
        "p95": round(percentile(values, 0.95), digits),
        "p99": round(percentile(values, 0.99), digits),
        "mean": round(statistics.fmean(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "n": len(values),
    }


# --- CPU time and machine load --------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and of its reaped children)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
    return int(fields[1]), sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def process_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            parents[int(entry)] = stat[0]
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def resident_kb(roots: list[int]) -> int:
    """Resident memory (VmRSS) of the processes and all their descendants, in KiB."""
    total = 0
    for root in roots:
        for pid in process_tree(root):
            try:
                with open(f"/proc/{pid}/status") as status:
                    found = re.search(r"^VmRSS:\s+(\d+) kB", status.read(), re.MULTILINE)
            except OSError:
                continue
            total += int(found.group(1)) if found else 0
    return total


class PeakMemory(threading.Thread):
    """The highest resident memory of some process trees, sampled every `interval` seconds."""

    def __init__(self, roots: list[int], interval: float = 0.5):
        super().__init__(daemon=True)
        self.roots, self.interval, self.peak_kb = roots, interval, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_kb = max(self.peak_kb, resident_kb(self.roots))
            self._stop_event.wait(self.interval)

    def stop(self) -> int:
        self._stop_event.set()
        self.join(timeout=5)
        return self.peak_kb


def cpu_seconds(root: int) -> float:
    """utime + stime of a process and every descendant, with the children they already reaped."""
    return sum(stat[1] for pid in process_tree(root) if (stat := _stat(pid)) is not None)


def _machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) over all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


def _own_cpu_seconds() -> float:
    """CPU seconds of this benchmark and its children, and of bench/suite.py's stack when the
    benchmark runs on it (that stack is no child of this process)."""
    shared = os.environ.get(SHARED_STACK)
    pids = json.loads(Path(shared).read_text())["processes"].values() if shared else []
    return cpu_seconds(os.getpid()) + sum(cpu_seconds(pid) for pid in pids)


@dataclass
class MachineLoad:
    """The machine around a measurement: load averages, and how busy every CPU was, split into
    this benchmark's own processes (the bench and the stack it started) and everything else
    (the database and broker servers count as 'else', and so does other work on the machine)."""

    started: float = field(default_factory=time.monotonic)
    loadavg_before: tuple[float, ...] = field(default_factory=os.getloadavg)
    busy_before: tuple[float, float] = field(default_factory=_machine_busy)
    own_before: float = field(default_factory=_own_cpu_seconds)

    def report(self) -> dict:
        elapsed = time.monotonic() - self.started
        busy, total = _machine_busy()
        busy -= self.busy_before[0]
        own = _own_cpu_seconds() - self.own_before
        return {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "loadavg_before": [round(value, 2) for value in self.loadavg_before],
            "loadavg_after": [round(value, 2) for value in os.getloadavg()],
            "seconds": round(elapsed, 1),
            "busy_percent_of_machine": round(100 * busy / max(total - self.busy_before[1], 1e-9), 1),
            "bench_and_stack_cores": round(own / elapsed, 2),
            "everything_else_cores": round(max(0.0, busy - own) / elapsed, 2),
            "code": code_version(),
        }


def code_version() -> dict:
    """The commit measured, and how many tracked files differed from it (the working tree is shared)."""
    repo = Path(__file__).resolve().parent.parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True)
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo, capture_output=True, text=True
    )
    return {"commit": commit.stdout.strip(), "modified_files": len(changed.stdout.splitlines())}


# --- the sandbox API ------------------------------------------------------------------------------


class Api:
    """One keep-alive HTTP connection to a sandbox's API prefix (`/k8s/<uid>/t/<token>`)."""

    def __init__(self, port: int, prefix: str):
        self.port, self.prefix = port, prefix
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: dict | None = None, **headers) -> dict:
        payload = json.dumps(body).encode() if body is not None else None
        self.connection.request(
            method,
            self.prefix + path,
            body=payload,
            headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
        )
        response = self.connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return json.loads(data) if data else {}

    def resource_version(self, path: str) -> str:
        return self.call("GET", path)["metadata"]["resourceVersion"]


class Watch(threading.Thread):
    """A watch stream read on its own thread; `on_event(event, at)` gets every event with the
    perf_counter moment its line arrived."""

    def __init__(self, port: int, prefix: str, path: str, on_event: Callable[[dict, float], None]):
        super().__init__(daemon=True)
        self.port, self.prefix, self.path, self.on_event = port, prefix, path, on_event
        self.opened = threading.Event()
        self.error: BaseException | None = None
        self.connection: http.client.HTTPConnection | None = None

    def run(self) -> None:
        try:
            api = Api(self.port, self.prefix)
            version = api.resource_version(self.path)
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600)
            separator = "&" if "?" in self.path else "?"
            self.connection.request(
                "GET", f"{self.prefix}{self.path}{separator}watch=1&timeoutSeconds=3600&resourceVersion={version}"
            )
            response = self.connection.getresponse()
            if response.status != 200:
                raise RuntimeError(f"watch {self.path}: {response.status} {response.read()[:300]!r}")
            self.opened.set()
            while line := response.readline():
                self.on_event(json.loads(line), time.perf_counter())
        except BaseException as error:  # reported to the main thread
            self.error = error
            self.opened.set()

    def close(self) -> None:
        if self.connection is not None and self.connection.sock is not None:
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(2)


def pod_ready(pod: dict) -> bool:
    status = pod.get("status", {})
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", []))
    return status.get("phase") == "Running" and ready


READY_PODS_POSTGRESQL = """
    SELECT sandbox_id, namespace, name FROM clusters_storedobject
    WHERE api_group = '' AND kind = 'Pod' AND body -> 'status' ->> 'phase' = 'Running'
      AND body -> 'status' -> 'conditions' @> '[{"type": "Ready", "status": "True"}]'
"""
READY_PODS_SQLITE = """
    SELECT sandbox_id, namespace, name FROM clusters_storedobject
    WHERE api_group = '' AND kind = 'Pod' AND json_extract(body, '$.status.phase') = 'Running'
      AND EXISTS (SELECT 1 FROM json_each(body, '$.status.conditions') AS c
                  WHERE json_extract(c.value, '$.type') = 'Ready' AND json_extract(c.value, '$.status') = 'True')
"""


class ReadyPoller(threading.Thread):
    """Pods stored Running with Ready=True in any sandbox, read straight from the database every
    `interval` seconds, with the moment each was first seen: what the API would report, without
    a watch per sandbox (one web process serves only as many concurrent watches as its
    database pool has connections). At most a fifth of the time is spent reading."""

    def __init__(self, stack: Stack, interval: float = 0.1):
        super().__init__(daemon=True)
        self.stack, self.interval = stack, interval
        self.ready: dict[tuple, float] = {}
        self.stopped = threading.Event()
        self.error: BaseException | None = None

    def _connect(self):
        if self.stack.database_url:
            import psycopg

            return psycopg.connect(self.stack.database_url, autocommit=True), READY_PODS_POSTGRESQL
        import sqlite3

        path = self.stack.var_dir / "db.sqlite3"
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20, isolation_level=None), READY_PODS_SQLITE

    def run(self) -> None:
        try:
            connection, query = self._connect()
            while not self.stopped.is_set():
                started = time.perf_counter()
                rows = connection.execute(query).fetchall()
                now = time.perf_counter()
                for row in rows:
                    self.ready.setdefault(tuple(row), now)
                # The read scans every pod: with thousands it would take a good part of a core
                # from the stack it measures, so it waits at least four times its own length.
                self.stopped.wait(max(self.interval, 4 * (now - started)))
            connection.close()
        except BaseException as error:  # reported to the main thread
            self.error = error

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.ready) < count:
            if self.error is not None:
                raise self.error
            if time.monotonic() > deadline:
                return False
            time.sleep(self.interval / 2)
        return True

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


def event_counts(stack: Stack, reasons: tuple[str, ...]) -> dict[str, int]:
    """How many times Events with these reasons were recorded (their counts summed), every sandbox."""
    poller = ReadyPoller(stack)
    connection, _ = poller._connect()
    reason = "body ->> 'reason'" if stack.database_url else "json_extract(body, '$.reason')"
    count = "(body ->> 'count')::int" if stack.database_url else "json_extract(body, '$.count')"
    marks = ", ".join("%s" if stack.database_url else "?" for _ in reasons)
    rows = connection.execute(
        f"SELECT {reason}, SUM({count}) FROM clusters_storedobject WHERE kind = 'Event' AND {reason} IN ({marks})"  # noqa: S608
        f" GROUP BY {reason}",
        reasons,
    ).fetchall()
    connection.close()
    return dict.fromkeys(reasons, 0) | {name: int(total) for name, total in rows}


# --- the stack ------------------------------------------------------------------------------------


# Set by bench/suite.py: the path of a JSON file describing a stack it already started, for every
# benchmark to measure on, instead of each migrating and starting a stack of its own.
SHARED_STACK = "KUBE_TUTOR_BENCH_STACK"


@dataclass
class Running:
    """A process of a stack another program started: as much of a Popen as the benchmarks use
    (its pid; they never stop it)."""

    pid: int


@dataclass
class BenchStack:
    stack: Stack
    port: int
    database: str
    broker: str
    workers: list = field(default_factory=list)
    profilers: list = field(default_factory=list)
    shared: bool = False

    def describe(self) -> dict:
        """What a benchmark needs to measure on this stack from another process (see SHARED_STACK)."""
        return {
            "root": str(self.stack.root),
            "database_url": self.stack.database_url,
            "redis_url": self.stack.redis_url,
            "extra_env": self.stack.extra_env,
            "broker_key_prefix": self.stack.broker_key_prefix,
            "port": self.port,
            "database": self.database,
            "broker": self.broker,
            "processes": {name: process.pid for name, process in self.stack.processes},
        }

    @classmethod
    def attached(cls, description: dict, wanted_env: dict[str, str]) -> BenchStack:
        differing = {k: v for k, v in wanted_env.items() if description["extra_env"].get(k) != v}
        if differing:
            print(f"bench: measuring on a shared stack without the settings {differing}", file=sys.stderr)
        stack = Stack(
            root=Path(description["root"]),
            database_url=description["database_url"],
            redis_url=description["redis_url"],
            extra_env=description["extra_env"],
            broker_key_prefix=description["broker_key_prefix"],
            processes=[(name, Running(pid)) for name, pid in description["processes"].items()],
        )
        port, database, broker = description["port"], description["database"], description["broker"]
        return cls(stack=stack, port=port, database=database, broker=broker, shared=True)

    def sandboxes_create(self, count: int, *, runtime: str, owner_prefix: str = "bench") -> list[str]:
        """Create `count` sandboxes (one per new owner) in one process; return their API prefixes."""
        servers = [
            config["clusters"][0]["cluster"]["server"]
            for config in self.kubeconfigs_create(count, runtime=runtime, owner_prefix=owner_prefix)
        ]
        return [server.split(f":{self.port}", 1)[1] for server in servers]

    def kubeconfigs_create(self, count: int, *, runtime: str, owner_prefix: str = "bench") -> list[dict]:
        """Create `count` sandboxes (owners `owner_prefix` 000, 001, ...) in one process (a Django
        start costs a second on a busy machine); return their kubeconfigs, parsed."""
        code = (
            "import json, yaml\n"
            "from django.contrib.auth import get_user_model\n"
            "from clusters.sandboxes import kubeconfig_render, sandbox_create\n"
            "configs = []\n"
            f"for index in range({count}):\n"
            f"    owner, _ = get_user_model().objects.get_or_create(username=f'{owner_prefix}{{index:03d}}')\n"
            f"    sandbox = sandbox_create(owner=owner, runtime={runtime!r})\n"
            f"    configs.append(yaml.safe_load(kubeconfig_render(sandbox=sandbox, server='http://127.0.0.1:{self.port}')))\n"
            "print('KUBECONFIGS=' + json.dumps(configs))\n"
        )
        created = self.stack.manage("shell", "-c", code, timeout=600)
        if created.returncode != 0:
            raise RuntimeError(f"creating sandboxes failed: {created.stderr[-2000:]}")
        line = next(line for line in created.stdout.splitlines() if line.startswith("KUBECONFIGS="))
        return json.loads(line.removeprefix("KUBECONFIGS="))

    def static_collect(self) -> None:
        """The pages' scripts and styles for the web to serve (DEBUG is off); under bench/suite.py
        they were collected once for every benchmark."""
        if not self.shared:
            _manage(self.stack, *COLLECT_STATIC)

    def start(self, *, workers: int = 1, concurrency: int = 4, pool: str = "threads") -> None:
        if self.shared:  # already running, as bench/suite.py started it
            return
        uvicorn = str(Path(sys.executable).with_name("uvicorn"))
        self.stack.start(
            "web", [uvicorn, "tutor.asgi:application", "--ws", "wsproto", "--port", str(self.port), "--no-access-log"]
        )
        for index in range(workers):
            name = "worker" if index == 0 else f"worker{index + 1}"
            self.workers.append(self.stack.start_worker(name=name, pool=pool, concurrency=concurrency))
        self.stack.start_beat()
        wait_for(lambda: "Uvicorn running" in self.stack.log("web"), timeout=60, what="uvicorn")
        for index in range(workers):
            name = "worker" if index == 0 else f"worker{index + 1}"
            wait_for(lambda name=name: " ready." in self.stack.log(name), timeout=60, what=name)

    def profile_start(self, name: str = "worker", *, wall: bool = False) -> None:
        """Sample a process with py-spy (pip install py-spy) into <folder>/<name>.pyspy.txt, as
        collapsed stacks, until profile_stop(): by default only the thread holding the GIL (where
        CPU goes); with `wall`, every thread including waits (where time goes: Docker, the database)."""
        spy = str(Path(sys.executable).with_name("py-spy"))
        output = self.stack.root / f"{name}.pyspy.txt"
        pid = str(self.stack.process(name).pid)
        mode = ["--idle", "--threads"] if wall else ["--gil"]
        args = [spy, "record", "--pid", pid, "--rate", "250", "--format", "raw", *mode, "-o", str(output)]
        self.profilers.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def profile_stop(self) -> None:
        for profiler in self.profilers:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
        self.profilers.clear()

    def worker_processes(self) -> int:
        """Worker processes of the stack measured: as started here, or as the suite started them."""
        return sum(1 for name, _ in self.stack.processes if "worker" in name)

    def task_count(self) -> int:
        """Tasks the workers finished so far (Celery logs one 'succeeded' line per task at INFO)."""
        return sum(self.stack.log(n).count(" succeeded in ") for n, _ in self.stack.processes if "worker" in n)

    def wait_quiet(self, *, still: float = 0.5, timeout: float = 10.0) -> None:
        """Wait until the workers have finished no task for `still` seconds: what a new sandbox set
        off (its nodes' first runs) is done, and will not be measured with what comes next."""
        deadline = time.monotonic() + timeout
        count, since = self.task_count(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.task_count()
            if now != count:
                count, since = now, time.monotonic()
            elif time.monotonic() - since >= still:
                return


COLLECT_STATIC = ("collectstatic", "--noinput", "-v", "0")


def _manage(stack: Stack, *command: str) -> None:
    """`manage.py <command>` for the stack, which must succeed."""
    done = stack.manage(*command)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr[-2000:]}")


@contextlib.contextmanager
def bench_stack(
    *,
    database: str,
    broker: str,
    extra_env: dict[str, str] | None = None,
    keep: bool = False,
    trace: bool = False,
    static: bool = False,
) -> Iterator[BenchStack]:
    """A migrated stack with nothing started yet. database: sqlite | postgresql (a scratch
    database on TEST_DATABASE_URL's server); broker: embedded (the filesystem transport) |
    redis (TEST_REDIS_URL, under a key prefix of its own). With `trace`, every process of the
    stack appends its Celery task timings to <folder>/trace.jsonl (see bench/trace/). Under
    bench/suite.py (SHARED_STACK set): the suite's running stack, as it is."""
    extra_env = dict(extra_env or {})
    if shared := os.environ.get(SHARED_STACK):
        yield BenchStack.attached(json.loads(Path(shared).read_text()), extra_env)
        return
    root = Path(tempfile.mkdtemp(prefix="kube-tutor-bench-"))
    if trace:
        extra_env["PYTHONPATH"] = str(Path(__file__).resolve().parent / "trace")
        extra_env["KUBE_TUTOR_BENCH_TRACE"] = str(root / "trace.jsonl")
    for needed, wanted in (("TEST_DATABASE_URL", database == "postgresql"), ("TEST_REDIS_URL", broker == "redis")):
        if wanted and not os.environ.get(needed):
            raise SystemExit(f"{needed} is not set: run scripts/test-services up, then source its env file")
    scratch = ScratchPostgres(os.environ["TEST_DATABASE_URL"]) if database == "postgresql" else None
    redis_url = os.environ["TEST_REDIS_URL"] if broker == "redis" else ""
    stack = Stack(root=root, database_url=scratch.url if scratch else "", redis_url=redis_url, extra_env=extra_env)
    # Beat keeps its schedule under var/; with PostgreSQL and Redis nothing else creates it.
    stack.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        # With `static`, the pages' files are collected meanwhile: neither needs the other.
        with ThreadPoolExecutor(max_workers=2) as pool:
            commands = [("migrate", "--noinput")] + [COLLECT_STATIC] * static
            list(pool.map(lambda command: _manage(stack, *command), commands))
        yield BenchStack(stack=stack, port=free_port(), database=database, broker=broker)
    finally:
        stack.stop_all()
        if not keep:
            if scratch:
                scratch.drop()
            import shutil

            shutil.rmtree(root, ignore_errors=True)
        else:
            kept = f" and its database {scratch.url} (drop it afterwards)" if scratch else ""
            print(f"kept the stack's folder {root}{kept}", file=sys.stderr)


def stack_env(options, **settings: str) -> dict[str, str]:
    """The settings a benchmark gives its stack, with the --env ones on top."""
    return {**settings, **dict(item.split("=", 1) for item in options.env)}


def database_for(choice: str, broker: str) -> str:
    """`auto`: what the deployments use — PostgreSQL with Redis (docker-compose), SQLite with the
    embedded broker (`make run`)."""
    if choice != "auto":
        return choice
    return "postgresql" if broker == "redis" else "sqlite"


def add_stack_options(parser) -> None:
    parser.add_argument("--broker", choices=["redis", "embedded"], default="redis")
    parser.add_argument(
        "--database",
        choices=["auto", "sqlite", "postgresql"],
        default="auto",
        help="auto: PostgreSQL with --broker redis, SQLite with --broker embedded (as deployed)",
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1, as the Procfile)")
    parser.add_argument("--concurrency", type=int, default=4, help="threads per worker (default 4, as the Procfile)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the stack, e.g. TUTOR_RESYNC_INTERVAL=300",
    )
    parser.add_argument("--keep", action="store_true", help="keep the stack's folder (logs) and database afterwards")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="cpu",
        choices=["cpu", "wall"],
        help="sample the worker (and, where the benchmark says so, the web) with py-spy into "
        "<folder>/<process>.pyspy.txt: cpu (GIL holder) or wall (every thread)",
    )
    parser.add_argument(
        "--trace", action="store_true", help="record every task's timings in <folder>/trace.jsonl (implies --keep)"
    )


def docker_answers() -> bool:
    """Whether a Docker engine answers (DOCKER_HOST, or the local socket)."""
    try:
        import docker

        return bool(docker.from_env(timeout=5).ping())
    except Exception:
        return False
