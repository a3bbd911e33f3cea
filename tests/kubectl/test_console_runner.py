"""The console's runner: the real kubectl against a live server, with the console's own kubeconfig.

The kubeconfig comes from clusters.sandboxes.console_kubeconfig, called in the live server's own
process environment (its database), exactly as the web process will call it.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.event_loops import run_apart
from tests.kubectl.conftest import KUBECTL
from tutor.sandboxes import console
from tutor.sandboxes.console import Chunk, CommandRefused, EndReason, console_run, run_kubectl


def issue_console_kubeconfig(api_server, *, server: str, folder: Path, owner: str = "alice") -> Path:
    code = (
        "from pathlib import Path\n"
        "from clusters.models import Sandbox\n"
        "from clusters.sandboxes import console_kubeconfig\n"
        f"sandbox = Sandbox.objects.get(owner__username={owner!r}, name='default')\n"
        f"print(console_kubeconfig(sandbox=sandbox, server={server!r}, folder=Path({str(folder)!r})))\n"
    )
    result = api_server.stack.manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


@dataclass
class Outcome:
    chunks: list[Chunk]

    @property
    def stdout(self) -> str:
        return "".join(chunk.text for chunk in self.chunks if chunk.stream == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(chunk.text for chunk in self.chunks if chunk.stream == "stderr")

    @property
    def notices(self) -> list[str]:
        return [chunk.text for chunk in self.chunks if chunk.stream == "notice"]

    @property
    def end(self) -> Chunk:
        assert self.chunks[-1].final, self.chunks
        return self.chunks[-1]


def collect(run) -> Outcome:
    async def go():
        return [chunk async for chunk in run]

    return Outcome(run_apart(go()))


def process_gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@dataclass
class Console:
    kubeconfig: Path
    home: Path
    namespace: str

    def run(self, *argv: str, **options) -> Outcome:
        return collect(run_kubectl(list(argv), kubeconfig=self.kubeconfig, home=self.home, **options))

    def line(self, line: str, stdin: str | None = None) -> Outcome:
        return collect(console_run(line, kubeconfig=self.kubeconfig, home=self.home, stdin=stdin))


@pytest.fixture(scope="module")
def console_folder(api_server, tmp_path_factory):
    """The console's folder for alice's sandbox, shared by this module's tests (a warm cache)."""
    folder = tmp_path_factory.mktemp("console") / "alice-default"
    issue_console_kubeconfig(api_server, server=api_server.url, folder=folder)
    return folder


@pytest.fixture
def sandbox_console(api_server, console_folder):
    """The console for alice's sandbox, working in a namespace of this test's own."""
    namespace = f"c-{uuid.uuid4().hex[:8]}"
    tool = Console(kubeconfig=console_folder / "kubeconfig", home=console_folder, namespace=namespace)
    created = tool.run("create", "namespace", namespace)
    assert created.end.exit_code == 0, created.stderr
    return tool


def test_get_nodes_prints_both_nodes_and_exits_zero(sandbox_console):
    outcome = sandbox_console.line("kubectl get nodes")
    assert re.search(r"^node-1\s+Ready", outcome.stdout, re.M), outcome.stdout
    assert re.search(r"^node-2\s+Ready", outcome.stdout, re.M), outcome.stdout
    assert outcome.end == Chunk("end", exit_code=0, reason=EndReason.EXIT)
    assert outcome.stderr == ""


def test_a_refused_command_never_starts_a_process(sandbox_console, monkeypatch):
    started = []
    real_exec = asyncio.create_subprocess_exec

    async def recording_exec(*args, **kwargs):
        started.append(args)
        return await real_exec(*args, **kwargs)

    monkeypatch.setattr(console.asyncio, "create_subprocess_exec", recording_exec)
    for line in ("kubectl config view", "kubectl get pods --kubeconfig=/etc/passwd", "kubectl evil", "kubectl edit"):
        with pytest.raises(CommandRefused):
            sandbox_console.line(line)
    assert started == []
    sandbox_console.line("kubectl version --client")  # the same path does start kubectl for an accepted line
    assert len(started) == 1


def test_apply_from_the_editor_text_creates_a_config_map(sandbox_console):
    namespace = sandbox_console.namespace
    manifest = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {namespace}}}\n"
    manifest += "data: {colour: blue}\n"
    applied = sandbox_console.line("kubectl apply -f -", stdin=manifest)
    assert applied.stdout == "configmap/settings created\n", applied.stderr
    assert applied.end.exit_code == 0
    read = sandbox_console.line(f"kubectl get configmap settings -n {sandbox_console.namespace} -o jsonpath={{.data}}")
    assert read.stdout == '{"colour":"blue"}'
    with pytest.raises(CommandRefused, match="none to read"):
        sandbox_console.line("kubectl apply -f -", stdin="  \n")


def test_the_time_limit_ends_a_watch(sandbox_console):
    started = time.monotonic()
    outcome = sandbox_console.run("get", "pods", "-w", "-n", sandbox_console.namespace, timeout=2)
    elapsed = time.monotonic() - started
    assert outcome.end.reason is EndReason.TIMEOUT
    assert outcome.end.exit_code != 0
    assert outcome.notices == ["kubectl was stopped after 2 s, the time limit for this command."]
    assert 2 <= elapsed < 20, elapsed


def test_the_output_limit_stops_a_flood(sandbox_console):
    run = run_kubectl(
        ["explain", "pods", "--recursive"],
        kubeconfig=sandbox_console.kubeconfig,
        home=sandbox_console.home,
        max_output_bytes=4096,
    )
    outcome = collect(run)
    assert run.output_bytes == 4096
    assert len(outcome.stdout.encode()) + len(outcome.stderr.encode()) <= 4096
    assert "FIELDS:" in outcome.stdout
    assert outcome.notices[0].startswith("output stopped at 4 KB")
    assert outcome.end.reason is EndReason.OUTPUT_LIMIT
    assert process_gone(run.pid)


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])  # uvicorn runs the web process on uvloop
def test_cancelling_the_task_kills_kubectl(sandbox_console, loop):
    async def scenario():
        run = run_kubectl(
            ["get", "pods", "-w", "-n", sandbox_console.namespace],
            kubeconfig=sandbox_console.kubeconfig,
            home=sandbox_console.home,
            timeout=60,
        )

        async def consume():
            async for _ in run:
                pass

        task = asyncio.create_task(consume())
        while run.pid is None:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)  # the watch is open
        assert not process_gone(run.pid)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return run

    loop_factory = pytest.importorskip("uvloop").new_event_loop if loop == "uvloop" else None
    run = run_apart(scenario(), loop_factory)
    assert process_gone(run.pid)
    assert run.end.reason is EndReason.CANCELLED


@pytest.mark.parametrize("how", ["async with", "break"])
def test_leaving_the_iteration_kills_kubectl(sandbox_console, how):
    async def scenario():
        run = run_kubectl(
            ["get", "nodes", "-w"], kubeconfig=sandbox_console.kubeconfig, home=sandbox_console.home, timeout=60
        )
        if how == "async with":
            async with run:
                async for chunk in run:
                    assert chunk.stream == "stdout"
                    break  # the tab was closed
            assert process_gone(run.pid)
        else:
            async for chunk in run:
                assert chunk.stream == "stdout"
                break  # the generator is dropped: asyncio closes it
            for _ in range(50):
                if process_gone(run.pid):
                    break
                await asyncio.sleep(0.1)
        return run

    run = run_apart(scenario())
    assert process_gone(run.pid)
    assert run.end.reason is EndReason.CANCELLED


def test_kubectl_runs_with_an_empty_path_so_a_plugin_on_the_outer_path_never_runs(
    sandbox_console, tmp_path, monkeypatch
):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    marker = tmp_path / "plugin-ran"
    plugin = plugins / "kubectl-evil"
    plugin.write_text(f"#!/bin/sh\ntouch {marker}\necho evil ran\n")
    plugin.chmod(0o755)
    outer_path = f"{plugins}{os.pathsep}{os.environ.get('PATH', '')}"
    # The control: kubectl with the outer PATH does run it.
    subprocess.run([KUBECTL, "evil"], env={**os.environ, "PATH": outer_path}, check=True, capture_output=True)
    assert marker.exists()
    marker.unlink()

    monkeypatch.setenv("PATH", outer_path)
    outcome = sandbox_console.run("evil")  # past the policy, which refuses it
    assert not marker.exists()
    assert 'unknown command "evil" for "kubectl"' in outcome.stderr
    assert outcome.end.exit_code == 1


def test_kubectl_gets_only_the_consoles_environment(sandbox_console, monkeypatch):
    for name, value in [("HTTPS_PROXY", "http://203.0.113.1:3128"), ("KUBECTL_EXTERNAL_DIFF", "/bin/sh")]:
        monkeypatch.setenv(name, value)

    async def scenario():
        async with run_kubectl(
            ["get", "pods", "-w", "-n", sandbox_console.namespace],
            kubeconfig=sandbox_console.kubeconfig,
            home=sandbox_console.home,
            timeout=30,
        ) as run:
            iteration = aiter(run)
            waiting = asyncio.ensure_future(anext(iteration))
            while run.pid is None:
                await asyncio.sleep(0.02)
            environ = Path(f"/proc/{run.pid}/environ").read_bytes()
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
            await iteration.aclose()
            return dict(entry.split("=", 1) for entry in environ.decode().split("\0") if entry)

    environment = run_apart(scenario())
    assert environment == {
        "KUBECONFIG": str(sandbox_console.kubeconfig),
        "HOME": str(sandbox_console.home),
        "PATH": str(sandbox_console.home / "empty-path"),
        "LANG": "C.UTF-8",
        "KUBERC": "off",
    }
    assert list((sandbox_console.home / "empty-path").iterdir()) == []


def test_a_bad_command_line_gets_kubectls_own_error(sandbox_console):
    outcome = sandbox_console.line("kubectl get pods --no-such-flag")
    assert outcome.stderr.startswith("error: unknown flag: --no-such-flag")
    assert outcome.end == Chunk("end", exit_code=1, reason=EndReason.EXIT)
    missing = sandbox_console.line(f"kubectl get configmap nothing-here -n {sandbox_console.namespace}")
    assert 'configmaps "nothing-here" not found' in missing.stderr
    assert missing.end.exit_code == 1


def test_stdout_and_stderr_arrive_tagged(sandbox_console):
    outcome = sandbox_console.line("kubectl get nodes node-1 no-such-node")
    assert "node-1" in outcome.stdout
    assert 'nodes "no-such-node" not found' in outcome.stderr
    assert outcome.end.exit_code == 1


def test_the_consoles_token_never_shows_in_the_output(sandbox_console):
    token = re.search(r"/t/(\S+)", sandbox_console.kubeconfig.read_text()).group(1)
    info = sandbox_console.line("kubectl cluster-info")
    assert re.search(r"running at http://127\.0\.0\.1:\d+/k8s/[0-9a-f]{32}/t/\*\*\*\n", info.stdout), info.stdout
    verbose = sandbox_console.line("kubectl -v=6 get namespaces")
    assert "/t/***/api/v1/namespaces" in verbose.stderr
    for outcome in (info, verbose):
        assert token not in outcome.stdout + outcome.stderr


def test_a_token_split_across_reads_is_hidden_too():
    text = console._StreamText(["kt_secret"])
    pieces = [text.feed(piece.encode()) for piece in ["url http://h/t/k", "t_se", "cret/api", " and k"]]
    assert pieces == ["url http://h/t/", "", "***/api", " and "]
    assert text.feed(b"", final=True) == "k"


def test_the_console_kubeconfig_is_reused_and_reissued_when_the_server_changes(api_server, tmp_path):
    folder = tmp_path / "console"
    path = issue_console_kubeconfig(api_server, server=api_server.url, folder=folder)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    server = yaml.safe_load(first)["clusters"][0]["cluster"]["server"]
    assert re.fullmatch(rf"{api_server.url}/k8s/[0-9a-f]{{32}}/t/kt_\S+", server), server
    assert issue_console_kubeconfig(api_server, server=api_server.url, folder=folder).read_text() == first

    old = tmp_path / "old-kubeconfig"
    old.write_text(first)
    moved = issue_console_kubeconfig(api_server, server=api_server.url.replace("127.0.0.1", "localhost"), folder=folder)
    assert moved.read_text() != first
    works = collect(run_kubectl(["get", "nodes"], kubeconfig=moved, home=tmp_path / "home"))
    assert works.end.exit_code == 0, works.stderr
    revoked = collect(run_kubectl(["get", "nodes"], kubeconfig=old, home=tmp_path / "home"))
    assert "You must be logged in to the server" in revoked.stderr
    assert revoked.end.exit_code == 1

    path.unlink()
    again = issue_console_kubeconfig(api_server, server=api_server.url, folder=folder)
    assert collect(run_kubectl(["get", "nodes"], kubeconfig=again, home=tmp_path / "home")).end.exit_code == 0


# The policy reads command lines with a table of kubectl's flags; it must be kubectl's own.


def help_flags(*command: str) -> set[str]:
    text = subprocess.run([KUBECTL, *command], capture_output=True, text=True, check=True).stdout
    words = set()
    for short, name, default in re.findall(r"^    (?:-(\w), )?--([\w-]+)=(.*):$", text, re.M):
        kind = "" if default in ("true", "false") else ("?" if name in ("dry-run", "validate", "cascade") else "=")
        words.add(f"{short}:{name}{kind}" if short else f"{name}{kind}")
    return words


def encoded(command: str) -> set[str]:
    suffix = {"value": "=", "optional": "?", "bool": ""}
    return {
        (f"{flag.short}:" if flag.short else "") + flag.name + suffix[flag.arity]
        for flag in console._parse_flag_words(console._FLAG_TABLE[command])
    }


def test_the_policy_flag_table_is_kubectls_own():
    assert encoded("") == help_flags("options")
    for command in console._FLAG_TABLE:
        if command and command not in ("help", "options"):
            assert encoded(command) == help_flags(*command.split(), "--help"), command
