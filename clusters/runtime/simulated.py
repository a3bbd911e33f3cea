"""The simulated runtime: containers whose lives are written as data and played by a clock.

Every run of a container gets a table of stages, as kwok writes a pod's lifecycle: each stage has a
guard (the state the run must be in), the state it leads to, a delay, and what happens then — log
lines, files written or removed, a port that starts (or stops) answering, HTTP answers that change,
an exit code. The table is built from the image catalog (`clusters.runtime.catalog`) and the
container's command, so `nginx` serves, `busybox` running `sleep 5` exits 0 after five seconds and
`sh -c 'while true; do date; sleep 5; done'` logs forever.

Nothing sleeps and nothing runs in the background: every call first brings the runs up to the
clock's `now`. A test drives time with `ManualClock.advance()`. The whole state is one plain,
JSON-ready dict (`to_json()` / `from_json()`), so the orchestrator keeps it in the database
between kubelet runs.

Commands run in the simulated shell (`clusters.runtime.shell`: busybox sh and its applets, and the
language runtimes of the catalog's images). A loop whose state repeats runs forever; a loop that
never repeats (a counter) is played for its first 500 effects, then goes quiet. A loop with output
but no sleep is played at one round a second.

`kubectl exec` (`container_exec`, and clusters.simulated_exec from the API) runs the shell over the
run's files, with its environment and the kubelet's /etc/hostname, /etc/hosts and /etc/resolv.conf.
What an exec writes lands in the container's own files or its volumes; every running container that
sees a changed file is played again from its start with the write at its moment, and goes on from
now with what it does from then on (`_replan`), so a `cat` in its loop reads it, as on a real node.

Volumes: a file a run writes under a volume's mount lands in the volume when the clock reaches
the write. The pod's containers that start later read it from an emptyDir; later pods read it
from a persistent volume, whose files a volume store keeps by the claim's uid after the pod is
gone. A run reads the files as they were when it started, plus its own writes and those of execs:
a reader that is to see another container's file starts after it (it is listed after it, as the
kubelet starts containers in order). The network a container's own command sees is its pod's
(servers of the pod on localhost, pods of the node by address); an exec from the API sees the
sandbox's Services and DNS names.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import pickle
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from clusters.objects.quantity import QuantityError, quantity_from_json
from clusters.objects.times import format_micro_time, parse_time
from clusters.runtime import catalog, interpreters, modelled_usage, shell
from clusters.runtime.base import (
    ContainerNotRunning,
    ContainerObservation,
    ContainerUsage,
    ExecProcess,
    PodRef,
    ProbeResult,
    PullResult,
    RuntimeError_,
    VolumeSpec,
)

MAX_LOG_LINES = 1000
MAX_INJECTED = 500  # writes from execs a run keeps for replays; past that its future is left as planned
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
TERMINATION_MESSAGE_BYTES = 4096
TERMINATION_LOG_LINES = 80
TERMINATION_LOG_BYTES = 2048
CLUSTER_DNS = "10.96.0.10"
PROBE_AGENT = "kube-probe/1.37"
HTTP_BODY_SIZES = {200: 615, 404: 153, 500: 177, 503: 190}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ManualClock:
    """A clock that moves only when told: `clock()` is now, `clock.advance(5)` is five seconds later."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# ---------------------------------------------------------------------------------------------
# Stages: a run's life as data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """When a run is in state `when`, `after` seconds later it moves to `then`, and this happens."""

    when: str
    then: str
    after: float = 0.0
    logs: tuple[str, ...] = ()
    files: tuple[tuple[str, str | None], ...] = ()  # written (text) or removed (None)
    appends: tuple[tuple[str, str], ...] = ()  # text added at the end of a file (`>>`), after `files`
    listen: bool | None = None  # the run's ports start (True) or stop (False) answering
    paths: tuple[tuple[str, int], ...] = ()  # HTTP answers that change from here on
    exit_code: int | None = None  # set when `then` is "exited"
    reason: str = ""
    message: str = ""

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value not in ((), None, "") or key == "after"}

    @classmethod
    def from_dict(cls, data: dict) -> Stage:
        return cls(
            **{
                **data,
                "logs": tuple(data.get("logs", ())),
                "files": tuple(tuple(pair) for pair in data.get("files", ())),
                "appends": tuple(tuple(pair) for pair in data.get("appends", ())),
                "paths": tuple(tuple(pair) for pair in data.get("paths", ())),
            }
        )


def _exited(when: str, after: float, code: int, *, reason: str = "", logs: tuple[str, ...] = (), message=""):
    return Stage(when, "exited", after, logs=logs, exit_code=code, reason=reason or _exit_reason(code), message=message)


def _exit_reason(code: int) -> str:
    return "Completed" if code == 0 else "Error"


# ---------------------------------------------------------------------------------------------
# Programs: what a container's stages are
# ---------------------------------------------------------------------------------------------


@dataclass
class Program:
    """The stages of one run, and how the process treats SIGTERM ("exit" at once, or "ignore" it
    like a shell running as PID 1, until SIGKILL at the end of the grace period)."""

    stages: list[Stage]
    ports: list[int] = field(default_factory=list)
    paths: dict[str, int] = field(default_factory=dict)
    sigterm: str = "ignore"
    network: bool = False  # what it does depends on the servers it reached: played again when one starts


def _memory_bytes(quantity: object) -> int | None:
    try:
        return quantity_from_json(quantity).int_value() if quantity is not None else None
    except QuantityError:
        return None


def _chain(effects: list, ending: tuple, server_for: Callable[[list[str]], Program]) -> Program:
    """Timed effects (offset, kind, payload) and how the script ended, as a chain of stages;
    `server_for(argv)` is the program of the image's server a script hands over to."""
    groups: list[tuple[float, list]] = [(0.0, [])]
    for offset, kind, payload in effects:
        if offset > groups[-1][0]:
            groups.append((offset, []))
        groups[-1][1].append((kind, payload))
    stages, state, at = [], "created", 0.0
    for index, (offset, group) in enumerate(groups):
        then = "running" if index == 0 else f"running-{index}"
        stages.append(_stage(state, then, offset - at, group))
        state, at = then, offset
    match ending:
        case ("exit", code, offset) if offset == at and len(stages) > 1:
            # What the script does at the moment it ends belongs to the exit itself.
            last = stages.pop()
            stages.append(replace(last, then="exited", exit_code=code, reason=_exit_reason(code)))
        case ("exit", code, offset):
            stages.append(_exited(state, offset - at, code))
        case ("loop", start, period, looped):
            offsets = sorted({offset for offset, _, _ in looped} | {0.0})
            by_offset = {o: [(k, p) for offset, k, p in looped if offset == o] for o in offsets}
            stages.append(_stage(state, "loop-0", start - at, by_offset[0.0]))
            for index, offset in enumerate(offsets[1:], 1):
                stages.append(
                    _stage(f"loop-{index - 1}", f"loop-{index}", offset - offsets[index - 1], by_offset[offset])
                )
            stages.append(_stage(f"loop-{len(offsets) - 1}", "loop-0", period - offsets[-1], by_offset[0.0]))
        case ("server", offset, argv):
            server = server_for(argv)

            def renamed(state: str) -> str:
                return state if state == "exited" else f"server-{state}"

            stages.append(Stage(state, renamed("created"), offset - at))
            stages += [replace(s, when=renamed(s.when), then=renamed(s.then)) for s in server.stages]
            return Program(stages, server.ports, server.paths, server.sigterm)
    return Program(stages)


def _stage(when: str, then: str, after: float, group: list) -> Stage:
    """One moment's effects as a stage; a file's writes and appends at that moment are merged."""
    logs = tuple(payload for kind, payload in group if kind == "log")
    written: dict[str, str | None] = {}
    appended: dict[str, str] = {}
    for kind, payload in group:
        if kind == "file":
            path, text = payload
            written[path] = text
            appended.pop(path, None)
        elif kind == "append":
            path, text = payload
            if path in written and written[path] is not None:
                written[path] = shell.file_encode(shell.file_decode(written[path]) + shell.file_decode(text))
            else:
                appended[path] = shell.file_encode(shell.file_decode(appended.get(path, "")) + shell.file_decode(text))
    return Stage(when, then, after, logs=logs, files=tuple(written.items()), appends=tuple(appended.items()))


START_ERROR = (
    "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
    'failed: unable to start container process: exec: "{name}": executable file not found in $PATH: unknown'
)


def _shell_program(
    argv: list[str], view: shell.Container, *, events: tuple = (), resume: float | None = None
) -> Program | None:
    """A command run by the shell, as stages; None when a replay could not reach `resume`."""
    if not shell.program_exists(argv[0], view.entry, view.files):
        return Program([_exited("created", 0, 128, reason="StartError", message=START_ERROR.format(name=argv[0]))])
    played = shell.timeline(argv, view, events=events, record_from=resume)
    if played.ending == ("unreached",):
        return None
    effects, ending = _from_moment(played.effects, played.ending, resume)
    program = _chain(effects, ending, lambda server: _server_program(view.entry, view, server))
    return replace(program, network=played.network_used)


def _from_moment(effects: list, ending: tuple, moment: float | None) -> tuple[list, tuple]:
    """A replayed timeline counted from `moment` (a replan's now) instead of from the start."""
    if moment is None:
        return effects, ending
    effects = [(max(offset - moment, 0.0), kind, payload) for offset, kind, payload in effects]
    match ending:
        case ("exit", code, offset):
            ending = ("exit", code, max(offset - moment, 0.0))
        case ("server", offset, argv):
            ending = ("server", max(offset - moment, 0.0), argv)
        case ("loop", start, period, looped):
            if start < moment:  # the rounds before the moment have been played already
                start += math.ceil((moment - start) / period) * period
            ending = ("loop", start - moment, period, looped)
    return effects, ending


def _fill(line: str, view: shell.Container) -> str:
    return line.replace("{hostname}", view.hostname).replace("{ip}", view.ip or "127.0.0.1")


def _server_program(image: dict, view: shell.Container, argv: list[str]) -> Program:
    entry = catalog.server_entry(image, argv)
    env = view.env
    start_logs = tuple(_fill(line, view) for line in entry.get("start_logs", ()))
    if entry["kind"] == "unknown-subcommand":
        logs = (f'Error: unknown command "{entry["subcommand"]}" for "app"', "Run 'app --help' for usage.")
        return Program([_exited("created", 0, 1, logs=logs)])
    if entry["kind"] == "web":
        tutor = image is catalog.IMAGES["kube-tutor/web"]  # the teaching image takes knobs from its env
        port = int(env.get("PORT", entry["port"])) if tutor else entry["port"]
        if entry.get("port_from_args"):
            found = next(
                (re.search(entry["port_from_args"], arg) for arg in argv if re.search(entry["port_from_args"], arg)),
                None,
            )
            port = int(found.group(1)) if found else port
        paths = dict(entry.get("paths", {}))
        stages = [Stage("created", "running", logs=start_logs, listen=True)]
        changes = [(float(seconds), path, status) for seconds, path, status in entry.get("changes", ())]
        if tutor:
            for name, path, status in (("READY_AFTER", "/ready", 200), ("FAIL_AFTER", "/healthz", 500)):
                if name in env:
                    changes.append((float(env[name]), path, status))
                    if name == "READY_AFTER":
                        paths["/ready"] = 503
        state, at = "running", 0.0
        for index, (seconds, path, status) in enumerate(sorted(changes), 1):
            stages.append(Stage(state, f"running-{index}", max(seconds - at, 0.0), paths=((path, status),)))
            state, at = f"running-{index}", seconds
        return Program(stages, [port], paths, "exit")
    if entry["kind"] == "database":
        required = entry.get("requires_env")
        if required and not any(env.get(name) for name in required["any_of"]):
            failing = [
                Stage("created", "running", logs=start_logs),
                _exited("running", 0, 1, logs=tuple(required["logs"])),
            ]
            return Program(failing, [entry["port"]], sigterm="exit")
        ready_logs = tuple(_fill(line, view) for line in entry.get("ready_logs", ()))
        stages = [
            Stage("created", "running", logs=start_logs, listen=False),
            Stage("running", "ready", entry.get("ready_after", 0), logs=ready_logs, listen=True),
        ]
        return Program(stages, [entry["port"]], sigterm="exit")
    if entry["kind"] == "idle":
        return Program([Stage("created", "running", logs=start_logs)], sigterm="exit")
    return Program([Stage("created", "running", logs=start_logs)])


def _stress_program(entry: dict, argv: list[str]) -> tuple[Program, int]:
    """polinux/stress `--vm N --vm-bytes SIZE [--timeout T]` and vish/stress `-cpus N`: the program
    and the memory it takes."""
    args = argv[1:]
    if entry.get("stress") == "cpu":  # vish/stress: Go flags, CPU only
        cpus = next((args[i + 1] for i, arg in enumerate(args[:-1]) if arg in ("-cpus", "--cpus")), "0")
        logs = ('I0101 00:00:00.000000       1 main.go:26] Allocating "0" memory, in "4Ki" chunks, '
                "with a 1ms sleep between allocations",)  # fmt: skip
        logs += tuple("I0101 00:00:00.000000       1 main.go:39] Spawning a thread to consume CPU" for _ in
                      range(int(cpus) if cpus.isdigit() else 0))  # fmt: skip
        return Program([Stage("created", "running", logs=logs)]), 0
    options = dict(zip(args[::2], args[1::2], strict=False))
    workers = int(options.get("--vm", "0") or 0)
    size = _memory_bytes(options.get("--vm-bytes", "256M").replace("M", "Mi").replace("G", "Gi")) or 0
    logs = (f"stress: info: [1] dispatching hogs: 0 cpu, 0 io, {workers} vm, 0 hdd",)
    stages = [Stage("created", "running", logs=logs)]
    timeout = shell.sleep_seconds(options["--timeout"].rstrip("s")) if "--timeout" in options else None
    if timeout is not None:
        done = (f"stress: info: [1] successful run completed in {int(timeout)}s",)
        stages.append(_exited("running", timeout, 0, logs=done))
    return Program(stages), workers * size


def command_of(container: dict, env: dict[str, str]) -> list[str]:
    """The argv a container runs: its image's entrypoint and CMD as `command` and `args` leave
    them, with `$(VAR)` references to its environment expanded, as the kubelet does."""
    argv = catalog.argv_for(catalog.image_entry(container.get("image", "")) or catalog.IMAGES["busybox"], container)
    return [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(0)[2:-1], m.group(0)), a) for a in argv]


def container_view(container: dict, **fields: object) -> shell.Container:
    """What a container gives its processes (`fields`: env, hostname, files, system, …)."""
    entry = catalog.image_entry(container.get("image", "")) or catalog.IMAGES["busybox"]
    security = container.get("securityContext") or {}
    uid = security.get("runAsUser", 0) or 0
    gid = security.get("runAsGroup", 0 if uid == 0 else uid) or 0
    defaults = {
        "entry": entry,
        "env": {},
        "hostname": "",
        "image": container.get("image", ""),
        "user": (int(uid), int(gid), ()),
        "workdir": container.get("workingDir") or "/",
        "stdin_open": bool(container.get("stdin")),
    }
    return shell.Container(**{**defaults, **fields})


def program_for(
    container: dict,
    *,
    env: dict[str, str],
    files: dict[str, str],
    hostname: str,
    events: tuple = (),
    resume: float | None = None,
    **fields: object,
) -> Program | None:
    """The stages of a run of `container` (a pod spec's container dict), from the catalog and its
    command. With `events` (writes from outside, at offsets), the program played again with them,
    from `resume` seconds into the run on; None when the replay cannot get there."""
    argv = command_of(container, env)
    view = container_view(
        container, env=env, files=files, hostname=hostname, processes=((1, " ".join(argv)),), **fields
    )
    entry = view.entry
    if not argv:
        message = "failed to create containerd task: OCI runtime create failed: no command specified: unknown"
        return Program([_exited("created", 0, 128, reason="StartError", message=message)])
    need = _memory_bytes(entry.get("memory"))
    if entry["kind"] == "stress" and catalog.is_server(entry, argv):
        program, need = _stress_program(entry, argv)
    elif catalog.is_server(entry, argv):
        program = _server_program(entry, view, argv)
    else:
        program = _shell_program(argv, view, events=events, resume=resume)
        if program is None:
            return None
    limit = _memory_bytes(container.get("resources", {}).get("limits", {}).get("memory"))
    if limit is not None and need is not None and need > limit and program.stages[0].then != "exited":
        # The kernel's OOM killer ends the process once it has allocated past its cgroup's limit.
        program = Program([program.stages[0], _exited(program.stages[0].then, 1.0, 137, reason="OOMKilled")])
    return program


# ---------------------------------------------------------------------------------------------
# The runtime
# ---------------------------------------------------------------------------------------------


def _render_file(text: str, moment: datetime) -> str:
    """A file written at `moment`: the dates the shell wrote as placeholders filled in."""
    if "{time:" not in text:
        return text
    return shell.file_encode(_render(shell.file_decode(text), moment))


def _render(line: str, moment: datetime, **fields: object) -> str:
    line = re.sub(r"\{time:([^}]*)\}", lambda m: moment.strftime(m.group(1)), line)
    for name, value in fields.items():
        line = line.replace("{" + name + "}", str(value))
    return line


def exec_write(pod_uid: str, container: str, changes: dict[str, str | None], *, at: datetime) -> dict:
    """The file writes of an exec, as SimulatedRuntime.exec_writes_apply applies them (and
    clusters.simulated_exec keeps them until the node's state surely holds them)."""
    return {
        "id": uuid.uuid4().hex,
        "pod": pod_uid,
        "container": container,
        "at": format_micro_time(at),
        "files": changes,
    }


def _system_files(sandbox: dict) -> dict[str, str]:
    """The files the kubelet gives every container of a pod: its hostname, hosts and resolver."""
    hostname, ip = sandbox["hostname"], sandbox["ip"]
    namespace, subdomain = sandbox.get("namespace", "default"), sandbox.get("subdomain", "")
    me = f"{ip}\t{hostname}.{subdomain}.{namespace}.svc.cluster.local\t{hostname}" if subdomain else f"{ip}\t{hostname}"
    hosts = (
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
        f"{me}\n"
    )
    resolver = (
        f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
        f"nameserver {CLUSTER_DNS}\noptions ndots:5\n"
    )
    return {
        "/etc/hostname": hostname + "\n",
        "/etc/hosts": hosts,
        "/etc/resolv.conf": resolver,
        TERMINATION_MESSAGE_PATH: "",
    }


_REASONS = {200: "OK", 302: "Found", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
            503: "Service Unavailable"}  # fmt: skip


def _web_answer(entry: dict, files: dict[str, str], paths: dict, path: str, hostname: str, image: str) -> shell.Answer:
    """A web server's answer to GET `path`: a file under its document root, or its own page."""
    bare = path.split("?", 1)[0] or "/"
    version = interpreters.version_for("1.0.0", catalog.image_ref(image).tag.lstrip("v"))
    if entry.get("docroot"):
        layer = {**shell.image_layer(entry), **files}
        name = entry["docroot"].rstrip("/") + bare
        if name.endswith("/") or f"{name}/" in layer or any(p.startswith(name + "/") for p in layer):
            name = name.rstrip("/") + "/index.html"
        text = layer.get(name)
        if text is None or text.endswith("/"):
            page = catalog.NGINX_ERROR.format(status=404, reason="Not Found")
            return shell.Answer(404, page)
        return shell.Answer(200, shell.file_decode(text))
    status = paths.get(bare, 404)
    if entry.get("echo"):
        body = (f"\n\nHostname: {hostname}\n\nRequest Information:\n\tclient_address=\n\tmethod=GET\n"
                f"\treal path={bare}\n\tquery=\n\trequest_version=1.1\n\trequest_scheme=http\n\n")  # fmt: skip
        return shell.Answer(200, body)
    template = entry.get("bodies", {}).get(bare, entry.get("body", ""))
    if status >= 400:
        template = f"{status} {_REASONS.get(status, '')}\n"
    body = template.replace("{hostname}", hostname).replace("{version}", version)
    return shell.Answer(status, body)


class _NodeNetwork:
    """The network as a container of this node sees it in the simulated runtime: its own pod's
    servers on localhost and its address, and the other pods of this node by address. Services
    and names of other pods are the cluster's DNS, which only an exec from the API reaches
    (clusters.simulated_exec)."""

    nameserver = CLUSTER_DNS

    def __init__(self, runtime: SimulatedRuntime, pod_uid: str, started: datetime | None = None) -> None:
        """`started`: when the asking container started, from which a timeline's `at` counts."""
        self.runtime, self.pod_uid, self.started = runtime, pod_uid, started
        self.settles_at: float | None = None  # (offset) when the last answer will change, if it will

    def lookup(self, name: str) -> list[tuple[str, str]]:
        sandbox = self.runtime.state["pods"].get(self.pod_uid, {})
        if name == "localhost":
            return [("localhost", "127.0.0.1")]
        if name == sandbox.get("hostname"):
            return [(name, sandbox["ip"])]
        return []

    def http_get(self, address: str, port: int, path: str, *, at: float | None = None) -> shell.Answer | None:
        pod = self.pod_uid if address in ("127.0.0.1", "localhost") else self.runtime.pod_of_address(address)
        moment = self.started + timedelta(seconds=at) if at is not None and self.started else None
        self.settles_at = None
        if pod is None:
            return None
        if moment is not None:  # a timeline asks ahead: it hears, too, when the answer will change
            change = self.runtime.listen_change(pod, port, moment)
            self.settles_at = (change - self.started).total_seconds() if change else None
        return self.runtime.http_answer(pod, port, path, moment=moment)


class VolumeStore(Protocol):
    """Where persistent volumes keep their files: path (relative to the volume) → text, by key;
    and the file writes of execs that a node's state may not hold yet."""

    def files(self, key: str) -> dict[str, str]: ...

    def write(self, key: str, path: str, text: str | None) -> None:
        """Write a file (None removes it)."""

    def exec_writes(self, node: str) -> list[dict]:
        """The writes of execs into the node's containers (`exec_write`), oldest first, that were
        made outside the node's state: a runtime loaded from a state older than one of them
        applies it (once: they carry ids)."""


class StateVolumes:
    """Persistent volumes kept in a runtime's own state, under "persistent_volumes": they outlive
    the pods that mount them, as a Docker volume does."""

    def __init__(self, state: dict) -> None:
        self.state = state

    def files(self, key: str) -> dict[str, str]:
        return dict(self.state.get("persistent_volumes", {}).get(key, {}))

    def write(self, key: str, path: str, text: str | None) -> None:
        files = self.state.setdefault("persistent_volumes", {}).setdefault(key, {})
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text

    def exec_writes(self, node: str) -> list[dict]:
        return []  # execs into this runtime apply their writes to its state at once


def _deep_copy(state: dict) -> dict:
    """copy.deepcopy for plain data, four times faster: every kubelet run loads and saves the state."""
    return pickle.loads(pickle.dumps(state, pickle.HIGHEST_PROTOCOL))  # noqa: S301 - our own bytes


class SimulatedRuntime:
    """Implements `clusters.runtime.base.Runtime` for one node, with the lifecycle as data."""

    kind = "simulated"

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        node: str = "",
        pod_cidr: str = "10.244.0.0/24",
        state: dict | None = None,
        volumes: VolumeStore | None = None,
        traffic: Callable[[], Mapping[str, float]] | None = None,
    ) -> None:
        """`volumes` keeps the files of persistent volumes; by default this node's own state does,
        and a caller whose nodes share storage passes one store to every node's runtime.
        `traffic` tells, by pod uid, how many requests a second the sandbox's clients send each
        server (clusters.runtime.modelled_traffic); by default none do."""
        self.clock = clock
        self.traffic = traffic
        self.state = state or {"node": node, "pod_cidr": pod_cidr, "ids": 0, "images": [], "pods": {}, "runs": {}}
        self.volumes = volumes if volumes is not None else StateVolumes(self.state)
        # Each stage as a Stage, by the id of its dict in a run's "stages", which is kept beside it
        # (so the id is not reused while cached): a run's stages are replaced, never edited, and a
        # kubelet run reads every container's stages at each of its passes.
        self._stages: dict[int, tuple[dict, Stage]] = {}

    # -- persistence --------------------------------------------------------------------------

    def to_json(self) -> dict:
        """The whole state as a JSON-ready dict (what NodeRuntimeState.runtime keeps): a copy, as
        the runtime may go on changing its own."""
        return _deep_copy(self.state)

    @classmethod
    def from_json(
        cls,
        data: dict | str,
        *,
        clock: Callable[[], datetime],
        node: str = "",
        volumes: VolumeStore | None = None,
        traffic: Callable[[], Mapping[str, float]] | None = None,
    ) -> SimulatedRuntime:
        """The runtime `to_json` saved. A dict is taken over, not copied: it is the one its
        caller has just read (a kubelet run reads the state afresh each time)."""
        state = json.loads(data) if isinstance(data, str) else data
        runtime = cls(clock, node=node, state=state or None, volumes=volumes, traffic=traffic)
        runtime.state["node"] = runtime.state.get("node") or node
        for write in runtime.volumes.exec_writes(runtime.state["node"]) if runtime.state["pods"] else ():
            runtime.exec_writes_apply(write)
        return runtime

    # -- sandboxes and images -----------------------------------------------------------------

    def pod_sandbox_ensure(
        self, pod: PodRef, *, hostname: str, volumes: list[VolumeSpec], subdomain: str = "", ports: tuple = ()
    ) -> str:
        """`subdomain` and `ports` name the pod on a network and publish its hostPorts: the
        simulated runtime has no network, so it only hands out an address."""
        pods = self.state["pods"]
        if not pods.get(pod.uid, {}).get("up", True):
            pods[pod.uid]["up"] = True  # after pod_containers_remove: its volumes and address again
        if pod.uid not in pods:
            self._cut_off_kill(pod.uid)
            pods[pod.uid] = {
                "namespace": pod.namespace,
                "name": pod.name,
                "sandbox": pod.sandbox,
                "node": pod.node or self.state["node"],
                "ip": self._free_ip(),
                "hostname": hostname,
                "volumes": {},
            }
        pods[pod.uid]["subdomain"] = subdomain
        self._volumes_record(pods[pod.uid], volumes)
        return pods[pod.uid]["ip"]

    @staticmethod
    def _volumes_record(sandbox: dict, volumes: list[VolumeSpec]) -> None:
        """ConfigMap and Secret files are written (again); an emptyDir keeps what it holds for as
        long as the pod lives; a persistent volume's files are in the volume store, under its key."""
        for volume in volumes:
            if volume.kind == "files":
                sandbox["volumes"][volume.name] = {"kind": "files", "files": dict(volume.files)}
            elif volume.kind == "persistent":
                sandbox["volumes"][volume.name] = {"kind": "persistent", "key": volume.key}
            else:
                sandbox["volumes"].setdefault(volume.name, {"kind": volume.kind, "files": {}})

    def _free_ip(self) -> str:
        network = ipaddress.ip_network(self.state["pod_cidr"], strict=False)
        taken = {p["ip"] for p in self.state["pods"].values()}
        hosts = list(network.hosts())[1:]  # the first address is the bridge's gateway
        start = self.state.setdefault("next_host", 0)
        for step in range(len(hosts)):
            candidate = str(hosts[(start + step) % len(hosts)])
            if candidate not in taken:
                self.state["next_host"] = (start + step + 1) % len(hosts)
                return candidate
        raise RuntimeError_(f"no free pod IP left in {self.state['pod_cidr']}")

    def image_pull(self, image: str, *, policy: str) -> PullResult:
        entry = catalog.image_entry(image)
        present = image in self.state["images"]
        if policy == "Never" and not present:
            message = f'Container image "{image}" is not present with pull policy of Never'
            return PullResult(False, "ErrImageNeverPull", message)
        if present and policy != "Always":
            return PullResult(True)
        if entry is None:
            return PullResult(False, "ErrImagePull", catalog.pull_error(image))
        if not present:
            self.state["images"].append(image)
        return PullResult(True, pulled=True, size=entry["size"], seconds=entry["pull_seconds"])

    # -- containers ---------------------------------------------------------------------------

    def container_start(
        self, pod: PodRef, container: dict, *, restart: int, env: dict[str, str], volumes: list[VolumeSpec]
    ) -> ContainerObservation:
        sandbox = self.state["pods"].get(pod.uid)
        if sandbox is None:
            raise RuntimeError_(f"no sandbox for pod {pod.namespace}/{pod.name}: ensure it first")
        key = f"{pod.uid}/{container['name']}/{restart}"
        if key in self.state["runs"]:
            return self._observe_run(self.state["runs"][key], self.clock())
        if container["image"] not in self.state["images"]:
            raise RuntimeError_(f'image "{container["image"]}" is not present; pull it first')
        self._volumes_record(sandbox, volumes)
        now = self.clock()
        for other in [r for r in self.state["runs"].values() if r["pod"] == pod.uid]:
            self._advance(other, now)  # what the pod's other containers wrote by now is there to read
        full_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        full_env |= {"HOSTNAME": sandbox["hostname"], **env, "HOME": "/root"}
        files = self._mounted_files(sandbox, container)
        mounts = [
            [m["mountPath"].rstrip("/"), m["name"], m.get("subPath", ""), bool(m.get("readOnly"))]
            for m in container.get("volumeMounts", [])
        ]
        fields = self._view_fields(pod.uid, mounts, started=now)
        program = program_for(container, env=full_env, files=files, hostname=sandbox["hostname"], **fields)
        entry = catalog.image_entry(container["image"]) or catalog.IMAGES["busybox"]
        argv = command_of(container, full_env)
        ref = catalog.image_ref(container["image"])
        self.state["ids"] += 1
        run = {
            "pod": pod.uid,
            "name": container["name"],
            "restart": restart,
            "image": ref.name,
            "image_id": ref.image_id,
            "container_id": "simulated://" + hashlib.sha256(f"{key}/{self.state['ids']}".encode()).hexdigest(),
            "stages": [stage.to_dict() for stage in program.stages],
            "ports": program.ports,
            "named_ports": {p["name"]: p["containerPort"] for p in container.get("ports", []) if p.get("name")},
            "paths": program.paths,
            "sigterm": program.sigterm,
            "listening": False,
            "files": files,
            "mounts": mounts,
            "env": full_env,
            # What a replay after an exec's write needs (see _replan): the spec, the files the run
            # started with, and the writes from outside since.
            "spec": container,
            "files_at_start": dict(files),
            "command": " ".join(argv),
            "replayable": not catalog.is_server(entry, argv),
            "network": program.network,
            "state": "created",
            "since": format_micro_time(now),
            "started_at": None,
            "finished_at": None,
            "exit_code": None,
            "reason": "",
            "message": "",
            "stop": None,
            "logs": [],
        }
        self.state["runs"][key] = run
        self._forget_old_runs(pod.uid, container["name"], restart)
        self._advance(run, now)
        if program.ports:
            # A server of the pod starts: what its pod-mates asked of the network before is asked again.
            for other in self.state["runs"].values():
                if other["pod"] == pod.uid and other is not run and other.get("network"):
                    self._replan(other, now)
        return self._observe_run(run, now)

    def _mounted_files(self, sandbox: dict, container: dict) -> dict[str, str]:
        files = {}
        for mount in container.get("volumeMounts", []):
            base, sub = mount["mountPath"].rstrip("/"), mount.get("subPath", "").strip("/")
            for name, text in self._volume_files(sandbox.get("volumes", {}).get(mount["name"], {})).items():
                if not sub:
                    files[f"{base}/{name}"] = text
                elif name == sub:
                    files[base] = text
                elif name.startswith(sub + "/"):
                    files[f"{base}/{name[len(sub) + 1 :]}"] = text
        return files

    def _volume_files(self, volume: dict) -> dict[str, str]:
        if volume.get("kind") == "persistent":
            return self.volumes.files(volume.get("key", ""))
        return volume.get("files", {})

    def _volume_write(self, run: dict, path: str, text: str | None, *, append: bool = False) -> None:
        """A file a run wrote (or removed, or appended to) under one of its mounts lands in the
        volume, where the pod's other containers, and a persistent volume's later pods, read it."""
        sandbox = self.state["pods"].get(run["pod"])
        found = self._mount_of(run, path)
        if sandbox is None or found is None:
            return
        name, relative, read_only = found
        volume = sandbox["volumes"].get(name)
        if volume is None or read_only or volume["kind"] == "files":
            return  # a read-only file system: the write stays the run's own
        if append and text is not None:
            current = self._volume_files(volume).get(relative, "")
            text = shell.file_encode(shell.file_decode(current) + shell.file_decode(text))
        if volume["kind"] == "persistent":
            self.volumes.write(volume.get("key", ""), relative, text)
        elif text is None:
            volume["files"].pop(relative, None)
        else:
            volume["files"][relative] = text

    @staticmethod
    def _mount_of(run: dict, path: str) -> tuple[str, str, bool] | None:
        """The volume a path of a run is on: (volume name, path within the volume, read-only)."""
        for base, name, sub, read_only in run.get("mounts", ()):
            if path != base and not path.startswith(base + "/"):
                continue
            rest = path[len(base) + 1 :]
            return name, "/".join(part for part in (sub.strip("/"), rest) if part), read_only
        return None

    def _forget_old_runs(self, pod_uid: str, name: str, newest: int) -> None:
        """Keep the newest run and the one before it, as the kubelet's container GC does."""
        runs = self.state["runs"]
        for key in [k for k, r in runs.items() if r["pod"] == pod_uid and r["name"] == name]:
            if runs[key]["restart"] < newest - 1:
                del runs[key]

    def container_stop(self, pod: PodRef, name: str, *, grace_seconds: int) -> None:
        now = self.clock()
        for run in self._runs(pod.uid, name):
            self._advance(run, now)
            if run["state"] == "exited":
                continue
            stop = run["stop"]
            deadline = now + timedelta(seconds=max(grace_seconds, 0))
            if stop is None or deadline < parse_time(stop["at"]) + timedelta(seconds=stop["grace"]):
                run["stop"] = {"at": format_micro_time(now), "grace": max(grace_seconds, 0)}
            self._advance(run, now)

    def container_kill(self, pod: PodRef, name: str) -> None:
        """SIGKILL from outside, now: the run ends as one the kernel killed (137, "Error") — its
        program never gets to handle it, and no stop of the kubelet's is pending."""
        self._kill([run for run in self.state["runs"].values() if (run["pod"], run["name"]) == (pod.uid, name)])

    def _cut_off_kill(self, pod_uid: str) -> None:
        """Runs left from a sandbox that was lost end as Docker's do when a new one is made: killed."""
        self._kill([run for run in self.state["runs"].values() if run["pod"] == pod_uid])

    def _kill(self, runs: list[dict]) -> None:
        now = self.clock()
        for run in runs:
            self._advance(run, now)
            if run["state"] != "exited":
                self._apply(run, _exited(run["state"], 0, 137), now)

    def pod_remove(self, pod: PodRef) -> None:
        self._forget_pod(pod.uid)

    def pod_containers_remove(self, pod: PodRef) -> None:
        """Every run of the pod goes, its sandbox's volumes (emptyDirs too) and address stay: what
        a node reboot leaves. The next pod_sandbox_ensure finds them again."""
        for key in [k for k, r in self.state["runs"].items() if r["pod"] == pod.uid]:
            del self.state["runs"][key]
        if pod.uid in self.state["pods"]:
            self.state["pods"][pod.uid]["up"] = False

    def pod_sandboxes(self, *, node: str) -> set[str]:
        pods = self.state["pods"]
        return {uid for uid in pods if pods[uid].get("up", True) and self._on_node(uid, node)}

    def _forget_pod(self, uid: str) -> None:
        self.state["pods"].pop(uid, None)
        for key in [k for k, r in self.state["runs"].items() if r["pod"] == uid]:
            del self.state["runs"][key]

    def orphans_remove(self, *, node: str, known_pod_uids: set[str]) -> list[str]:
        here = {uid for uid in self.state["pods"] if self._on_node(uid, node)}
        strangers = (here | {r["pod"] for r in self.state["runs"].values() if self._on_node(r["pod"], node)}) - set(
            known_pod_uids
        )
        for uid in strangers:
            self._forget_pod(uid)
        return sorted(strangers)

    def _on_node(self, pod_uid: str, node: str) -> bool:
        pod = self.state["pods"].get(pod_uid)
        return not node or (pod["node"] if pod else self.state["node"]) in (node, "")

    # -- observing ----------------------------------------------------------------------------

    def observe(self, *, node: str) -> list[ContainerObservation]:
        now = self.clock()
        observations = []
        for run in self.state["runs"].values():
            if not self._on_node(run["pod"], node):
                continue
            self._advance(run, now)
            observations.append(self._observe_run(run, now))
        return sorted(observations, key=lambda o: (o.pod_uid, o.name, -o.restart))

    def node_look(self, *, node: str) -> tuple[list[ContainerObservation], set[str]]:
        return self.observe(node=node), self.pod_sandboxes(node=node)

    def next_change(self, *, node: str) -> datetime | None:
        """The earliest moment a run's state will change on its own (an exit, a SIGKILL)."""
        moments = [o.changes_at for o in self.observe(node=node) if o.changes_at]
        return min(moments, default=None)

    def logs(self, pod: PodRef, name: str, *, restart: int, since: datetime | None) -> list[tuple[datetime, str]]:
        run = self.state["runs"].get(f"{pod.uid}/{name}/{restart}")
        if run is None:
            return []
        self._advance(run, self.clock())
        lines = [(parse_time(at), line) for at, line in run["logs"]]
        return [(at, line) for at, line in lines if since is None or at >= since]

    def _runs(self, pod_uid: str, name: str) -> list[dict]:
        return [r for r in self.state["runs"].values() if r["pod"] == pod_uid and r["name"] == name]

    def _observe_run(self, run: dict, now: datetime) -> ContainerObservation:
        state = run["state"] if run["state"] in ("created", "exited") else "running"
        return ContainerObservation(
            pod_uid=run["pod"],
            name=run["name"],
            restart=run["restart"],
            state=state,
            image=run["image"],
            image_id=run["image_id"],
            container_id=run["container_id"],
            started_at=parse_time(run["started_at"]),
            finished_at=parse_time(run["finished_at"]),
            exit_code=run["exit_code"],
            reason=run["reason"],
            message=run["message"],
            changes_at=self._changes_at(run),
        )

    # -- the clock's work ---------------------------------------------------------------------

    def _stage_from(self, run: dict, state: str) -> Stage | None:
        data = next((s for s in run["stages"] if s["when"] == state), None)
        if data is None:
            return None
        cached = self._stages.get(id(data))
        if cached is None:  # the cache holds `data` itself, so no other dict takes its id meanwhile
            cached = self._stages[id(data)] = (data, Stage.from_dict(data))
        return cached[1]

    def _kill_at(self, run: dict) -> tuple[datetime, int, str] | None:
        """When a requested stop ends the run, with which exit code and reason."""
        stop = run["stop"]
        if stop is None:
            return None
        at = parse_time(stop["at"])
        if run["sigterm"] == "exit" and stop["grace"] > 0:
            return at, 0, "Completed"
        return at + timedelta(seconds=stop["grace"]), 137, "Error"

    def _changes_at(self, run: dict) -> datetime | None:
        """The next moment this run exits on its own or is killed; log-only stages do not count."""
        if run["state"] == "exited":
            return None
        kill = self._kill_at(run)
        moment, state, seen = parse_time(run["since"]), run["state"], set()
        while (stage := self._stage_from(run, state)) is not None and state not in seen:
            seen.add(state)
            moment += timedelta(seconds=stage.after)
            if stage.exit_code is not None:
                return min(moment, kill[0]) if kill else moment
            state = stage.then
        return kill[0] if kill else None

    def _advance(self, run: dict, now: datetime) -> None:
        """Apply every stage (and a pending kill) due at or before `now`, in order."""
        self._skip_repeated_rounds(run, now)
        while run["state"] != "exited":
            stage = self._stage_from(run, run["state"])
            due = parse_time(run["since"]) + timedelta(seconds=stage.after) if stage else None
            kill = self._kill_at(run)
            if kill and kill[0] <= now and (due is None or kill[0] <= due):
                at, code, reason = kill
                self._apply(run, _exited(run["state"], 0, code, reason=reason), at)
                return
            if due is None or due > now:
                return
            self._apply(run, stage, due)

    def _skip_repeated_rounds(self, run: dict, now: datetime) -> None:
        """A loop that has gone round many times since the last look: jump over the rounds whose
        output would be trimmed anyway, instead of playing them one by one."""
        state, period, seen, lines = run["state"], 0.0, set(), 0
        while (stage := self._stage_from(run, state)) is not None and state not in seen:
            if stage.exit_code is not None or stage.listen is not None or stage.paths:
                return
            seen.add(state)
            period += stage.after
            lines += len(stage.logs)
            state = stage.then
        if state != run["state"] or period <= 0:
            return  # not a cycle back to where the run is
        kill = self._kill_at(run)
        horizon = min(now, kill[0]) if kill else now
        rounds = int((horizon - parse_time(run["since"])).total_seconds() // period)
        keep = MAX_LOG_LINES // max(lines, 1) + 1
        if rounds > keep:
            run["since"] = format_micro_time(parse_time(run["since"]) + timedelta(seconds=period * (rounds - keep)))

    def _apply(self, run: dict, stage: Stage, at: datetime) -> None:
        if run["state"] == "created":
            run["started_at"] = format_micro_time(EPOCH if stage.reason == "StartError" else at)
        for line in stage.logs:
            run["logs"].append([format_micro_time(at), _render(line, at)])
        del run["logs"][:-MAX_LOG_LINES]
        for path, text in stage.files:
            if text is None:
                run["files"].pop(path, None)
            else:
                text = _render_file(text, at)
                run["files"][path] = text
            self._volume_write(run, path, text)
        for path, text in stage.appends:
            text = _render_file(text, at)
            run["files"][path] = shell.file_encode(
                shell.file_decode(run["files"].get(path, "")) + shell.file_decode(text)
            )
            self._volume_write(run, path, text, append=True)
        if stage.listen is not None:
            run["listening"] = stage.listen
        run["paths"].update(dict(stage.paths))
        run["state"], run["since"] = stage.then, format_micro_time(at)
        if stage.exit_code is not None:
            run.update(
                finished_at=format_micro_time(at),
                exit_code=stage.exit_code,
                reason=stage.reason,
                message=stage.message or self._termination_message(run, stage.exit_code),
                listening=False,
            )

    @staticmethod
    def _termination_message(run: dict, code: int) -> str:
        """What the container left at its terminationMessagePath (4096 bytes at most), or, for a
        failure under FallbackToLogsOnError with nothing there, its last lines of output."""
        spec = run.get("spec") or {}
        path = spec.get("terminationMessagePath") or TERMINATION_MESSAGE_PATH
        text = shell.file_decode(run["files"].get(path, ""))
        if text:
            return shell.bytes_of(text)[:TERMINATION_MESSAGE_BYTES].decode("utf-8", errors="ignore")
        if code and spec.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            lines = "\n".join(line for _, line in run["logs"][-TERMINATION_LOG_LINES:])
            return lines.encode()[-TERMINATION_LOG_BYTES:].decode("utf-8", errors="ignore")
        return ""

    # -- probes -------------------------------------------------------------------------------

    def probe(self, pod: PodRef, name: str, probe: dict) -> ProbeResult:
        now = self.clock()
        sandbox = self.state["pods"].get(pod.uid)
        runs = [r for r in self.state["runs"].values() if r["pod"] == pod.uid]
        for run in runs:
            self._advance(run, now)
        live = [r for r in runs if r["state"] not in ("created", "exited")]
        mine = max((r for r in live if r["name"] == name), key=lambda r: r["restart"], default=None)
        if sandbox is None or mine is None:
            return ProbeResult(False, f"container {name} is not running")
        if "exec" in probe:
            return self._probe_exec(mine, probe["exec"].get("command", []))
        action = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc") or {}
        port = action.get("port")
        port = mine["named_ports"].get(port, port) if isinstance(port, str) and not port.isdigit() else int(port or 0)
        host = action.get("host") or sandbox["ip"]
        server = next((r for r in live if r["listening"] and port in r["ports"]), None)
        if "httpGet" in probe:
            return self._probe_http(server, host, port, action, now)
        if server is None:
            if "grpc" in probe:
                return ProbeResult(False, f'timeout: failed to connect service "{host}:{port}" within 1s')
            return ProbeResult(False, f"dial tcp {host}:{port}: connect: connection refused")
        return ProbeResult(True)

    def _probe_http(self, server: dict | None, host: str, port: int, action: dict, now: datetime) -> ProbeResult:
        path = action.get("path", "/") or "/"
        path = path if path.startswith("/") else f"/{path}"
        scheme = action.get("scheme", "HTTP").lower()
        url = f"{scheme}://{host}:{port}{path}"
        if server is None:
            return ProbeResult(False, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused')
        if not server["paths"]:
            return ProbeResult(
                False, f'Get "{url}": net/http: HTTP/1.x transport connection broken: malformed HTTP response'
            )
        status = server["paths"].get(path.split("?", 1)[0], 404)
        entry = catalog.image_entry(server["image"]) or {}
        if entry.get("access_log"):
            gateway = str(next(ipaddress.ip_network(self.state["pod_cidr"], strict=False).hosts()))
            line = _render(
                entry["access_log"],
                now,
                client=gateway,
                method="GET",
                path=path,
                status=status,
                size=HTTP_BODY_SIZES.get(status, 0),
                agent=PROBE_AGENT,
            )
            server["logs"].append([format_micro_time(now), line])
            del server["logs"][:-MAX_LOG_LINES]
        if 200 <= status < 400:
            return ProbeResult(True)
        return ProbeResult(False, f"HTTP probe failed with statuscode: {status}")

    def _probe_exec(self, run: dict, command: list[str]) -> ProbeResult:
        if not command:
            return ProbeResult(False, "no command")
        view = self._exec_view(run, command)
        if not shell.program_exists(command[0], view.entry, view.files):
            return ProbeResult(False, shell.EXEC_NOT_FOUND.format(name=command[0]))
        status, output = shell.probe_run(command, view, clock=self.clock)
        if status is None:
            return ProbeResult(False, f"command {command!r} timed out")
        return ProbeResult(status == 0, output.rstrip("\n") if status != 0 else "")

    # -- what a container's processes see -------------------------------------------------------

    def _view_fields(self, pod_uid: str, mounts: list, started: datetime | None = None) -> dict:
        """The kubelet-managed files, read-only mounts, address and network of a pod's container
        (`started`: when the container started, for a timeline's questions to the network)."""
        sandbox = self.state["pods"][pod_uid]
        read_only = []
        for base, name, _, flagged in mounts:
            volume = sandbox["volumes"].get(name, {})
            if flagged or volume.get("kind") == "files":  # ConfigMaps and Secrets are mounted read-only
                read_only.append(base)
        return {
            "system": _system_files(sandbox),
            "mounts": tuple(mount[0] for mount in mounts),
            "read_only": tuple(read_only),
            "ip": sandbox["ip"],
            "network": _NodeNetwork(self, pod_uid, started),
        }

    def _current_files(self, run: dict) -> dict[str, str]:
        """A run's files as they are now: its own, with its volumes as they hold now (what the
        pod's other containers and execs wrote since it started)."""
        files = dict(run["files"])
        sandbox = self.state["pods"].get(run["pod"])
        if sandbox is None:
            return files
        bases = [mount[0] for mount in run.get("mounts", ())]
        for path in [p for p in files if any(p == b or p.startswith(b + "/") for b in bases)]:
            del files[path]
        spec = run.get("spec") or {}
        return files | self._mounted_files(sandbox, spec)

    def _exec_view(self, run: dict, command: list[str], network: shell.Network | None = None) -> shell.Container:
        sandbox = self.state["pods"][run["pod"]]
        fields = self._view_fields(run["pod"], run.get("mounts", []))
        if network is not None:
            fields["network"] = network
        spec = run.get("spec") or {"name": run["name"], "image": run["image"]}
        main = run.get("command") or " ".join(catalog.argv_for(catalog.image_entry(run["image"]) or {}, spec))
        return container_view(
            spec,
            env=run["env"],
            hostname=sandbox["hostname"],
            files=self._current_files(run),
            processes=((1, main), (7, " ".join(command))),
            ready=run["listening"],
            **fields,
        )

    def _running_run(self, pod_uid: str, name: str) -> dict | None:
        now = self.clock()
        for run in self._runs(pod_uid, name):
            self._advance(run, now)
        live = [r for r in self._runs(pod_uid, name) if r["state"] not in ("created", "exited")]
        return max(live, key=lambda r: r["restart"], default=None)

    # -- exec ----------------------------------------------------------------------------------

    def container_exec(self, pod: PodRef, name: str, command: list[str], *, tty: bool, stdin: bool) -> ExecProcess:
        """`command` run by the simulated shell over the run's files; what it writes lands in
        this runtime's state (the container's own files, the pod's volumes)."""
        return self.exec_start(pod, name, command, tty=tty, stdin=stdin)

    def exec_start(
        self,
        pod: PodRef,
        name: str,
        command: list[str],
        *,
        tty: bool,
        stdin: bool,
        network: shell.Network | None = None,
        commit: Callable[[dict[str, str | None]], None] | None = None,
        refresh: Callable[[], dict[str, str] | None] | None = None,
    ) -> shell.ShellProcess:
        """The process of an exec; `commit(changes)` receives its file writes (path → stored
        text, None for a removal) as it makes them, and `refresh()` tells the container's files as
        they are now. By default both use this runtime (exec_writes_apply, `container_files`); a
        caller keeping the state elsewhere passes its own."""
        run = self._running_run(pod.uid, name)
        if run is None:
            raise ContainerNotRunning(f'container not found ("{name}")')
        view = self._exec_view(run, command, network)
        if commit is None:

            def commit(changes: dict[str, str | None]) -> None:
                self.exec_writes_apply(exec_write(pod.uid, name, changes, at=self.clock()))

        if refresh is None:

            def refresh() -> dict[str, str] | None:
                return self.container_files(pod.uid, name)

        return shell.ShellProcess(command, view, tty=tty, stdin=stdin, clock=self.clock, commit=commit, refresh=refresh)

    def container_files(self, pod_uid: str, name: str) -> dict[str, str] | None:
        """The files of a container's running run as they are now (None when it does not run)."""
        run = self._running_run(pod_uid, name)
        return self._current_files(run) if run is not None else None

    def exec_writes_apply(self, write: dict) -> bool:
        """Apply an exec's file writes (see `exec_write`) to the container it ran in: on its
        volumes, where the pod's other containers read them, and in the container's own files.
        Each running container that sees a changed file is played again from now with the
        write in it, so its own program (a `cat` in its loop) reads it as on a real container.
        Idempotent by the write's id; False when it was applied before or its pod is gone."""
        sandbox = self.state["pods"].get(write["pod"])
        if sandbox is None or write["id"] in sandbox.get("exec_writes", []):
            return False
        now = self.clock()
        at = min(parse_time(write["at"]), now)
        runs = [r for r in self.state["runs"].values() if r["pod"] == write["pod"]]
        for run in runs:
            self._advance(run, now)
        live = [r for r in runs if r["state"] not in ("created", "exited")]
        own = max((r for r in live if r["name"] == write["container"]), key=lambda r: r["restart"], default=None)
        # The container's mounts: a run that has ended since the exec began still says where its
        # volumes were (they outlive it); its own files went with it.
        newest = max((r for r in runs if r["name"] == write["container"]), key=lambda r: r["restart"], default=None)
        touched: list[dict] = []
        for path, text in write["files"].items():
            found = self._mount_of(newest, path) if newest else None
            volume = sandbox["volumes"].get(found[0]) if found else None
            if found and volume is not None and volume["kind"] != "files" and not found[2]:
                if volume["kind"] == "persistent":
                    self.volumes.write(volume.get("key", ""), found[1], text)
                elif text is None:
                    volume["files"].pop(found[1], None)
                else:
                    volume["files"][found[1]] = text
                for run in live:
                    for their_path in self._paths_of(run, found[0], found[1]):
                        touched.append(self._inject(run, their_path, text, at))
            elif own is not None:
                touched.append(self._inject(own, path, text, at))
        for run in {id(r): r for r in touched}.values():
            self._replan(run, now)
        applied = sandbox.setdefault("exec_writes", [])
        applied.append(write["id"])
        del applied[:-MAX_INJECTED]
        return True

    @staticmethod
    def _paths_of(run: dict, volume: str, relative: str) -> list[str]:
        """Where a run sees a file of a volume (none, one, or one per mount of it)."""
        paths = []
        for base, name, sub, _ in run.get("mounts", ()):
            sub = sub.strip("/")
            if name != volume:
                continue
            if not sub:
                paths.append(f"{base}/{relative}")
            elif relative == sub:
                paths.append(base)
            elif relative.startswith(sub + "/"):
                paths.append(f"{base}/{relative[len(sub) + 1 :]}")
        return paths

    def _inject(self, run: dict, path: str, text: str | None, at: datetime) -> dict:
        started = parse_time(run["started_at"]) or at
        injected = run.setdefault("injected", [])
        if len(injected) < MAX_INJECTED:
            injected.append([max((at - started).total_seconds(), 0.0), path, text])
        else:
            run["spec"] = None  # too many to replay: its program goes on as planned
        if text is None:
            run["files"].pop(path, None)
        else:
            run["files"][path] = text
        return run

    def _replan(self, run: dict, now: datetime) -> None:
        """Play a running shell program again from its start with the writes from outside in it,
        and carry on from `now` with what it does from then on."""
        spec, started = run.get("spec"), parse_time(run["started_at"])
        if not spec or started is None or run["state"] in ("created", "exited") or not run.get("replayable"):
            return
        sandbox = self.state["pods"][run["pod"]]
        resume = (now - started).total_seconds()
        events = tuple(tuple(event) for event in run.get("injected", ()))
        program = program_for(
            spec,
            env=run["env"],
            files=run.get("files_at_start", {}),
            hostname=sandbox["hostname"],
            events=events,
            resume=resume,
            **self._view_fields(run["pod"], run.get("mounts", []), started=started),
        )
        if program is None:
            return  # the replay cannot get that far: the run goes on as it was planned
        generation = run.get("generation", 0) + 1
        prefix = f"g{generation}:"

        def renamed(state: str) -> str:
            return state if state == "exited" else prefix + state

        run["stages"] = [replace(stage, when=renamed(stage.when), then=renamed(stage.then)).to_dict()
                         for stage in program.stages]  # fmt: skip
        run.update(
            state=renamed("created"), since=format_micro_time(now), generation=generation, network=program.network
        )
        self._advance(run, now)

    # -- the network as a pod on this node sees it ----------------------------------------------

    def http_answer(self, pod_uid: str, port: int, path: str, *, moment: datetime | None = None) -> shell.Answer | None:
        """What the pod answers on `port` for GET `path` (at `moment`, later than now, as its
        servers' stages say it will; now by default); None when nothing listens there."""
        now = self.clock()
        runs = [r for r in self.state["runs"].values() if r["pod"] == pod_uid]
        for run in runs:
            self._advance(run, now)
        server = next((r for r in runs if port in r["ports"] and self._listening_at(r, moment or now)), None)
        if server is None:
            return None
        image = catalog.image_entry(server["image"]) or {}
        entry = catalog.server_entry(image, (server.get("command") or "").split())
        sandbox = self.state["pods"][pod_uid]
        if entry.get("kind") != "web":
            return shell.Answer(0, "")  # listening, but not HTTP
        return _web_answer(
            entry, self._current_files(server), server["paths"], path, sandbox["hostname"], server["image"]
        )

    def listen_change(self, pod_uid: str, port: int, after: datetime) -> datetime | None:
        """The next moment after `after` at which what listens on a pod's port changes, as its
        servers' stages say (a database that becomes ready); None when nothing is to change."""
        moments = []
        for run in self.state["runs"].values():
            if run["pod"] != pod_uid or port not in run["ports"] or run["state"] == "exited":
                continue
            moment, state, seen = parse_time(run["since"]), run["state"], set()
            while (stage := self._stage_from(run, state)) is not None and state not in seen:
                seen.add(state)
                moment += timedelta(seconds=stage.after)
                if stage.listen is not None and moment > after:
                    moments.append(moment)
                    break
                state = stage.then
        return min(moments, default=None)

    def _listening_at(self, run: dict, moment: datetime) -> bool:
        if moment <= self.clock():
            return run["listening"]
        ahead = _deep_copy(run)  # played forward on a copy: the run itself stays at now, and no file lands
        ahead["logs"], ahead["files"], ahead["mounts"] = [], {}, []
        self._advance(ahead, moment)
        return ahead["listening"]

    def pod_of_address(self, address: str) -> str | None:
        return next((uid for uid, pod in self.state["pods"].items() if pod["ip"] == address), None)

    # -- resource usage -----------------------------------------------------------------------

    def usage(self, *, node: str, pods: list[dict]) -> list[ContainerUsage]:
        """What each running run of the node uses, modelled from its container's spec in `pods`
        (see clusters.runtime.modelled_usage); a run whose pod is not in `pods` is left out."""
        now = self.clock()
        specs = {
            (pod["metadata"]["uid"], container["name"]): container
            for pod in pods
            for container in [*pod["spec"].get("initContainers", []), *pod["spec"].get("containers", [])]
        }
        found = []
        rates = self.traffic() if self.traffic is not None and self.state["runs"] else {}
        for run in self.state["runs"].values():
            spec = specs.get((run["pod"], run["name"]))
            if spec is None or not self._on_node(run["pod"], node):
                continue
            self._advance(run, now)
            started = parse_time(run["started_at"])
            if run["state"] not in ("created", "exited") and started is not None:
                accrued = run.get("cpu_accrued")  # [CPU ns, at] of the last sample: a rate accrues from there
                sample = modelled_usage.container_usage(
                    run["pod"],
                    spec,
                    restart=run["restart"],
                    started_at=started,
                    now=now,
                    served_rate=rates.get(run["pod"], 0.0),
                    accrued=(accrued[0], parse_time(accrued[1])) if accrued else None,
                )
                run["cpu_accrued"] = [sample.cpu_nanoseconds, format_micro_time(now)]
                found.append(sample)
        return found
