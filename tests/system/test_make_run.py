"""The README's first command, for real: `make run` on embedded defaults, then Ctrl-C."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.system.stack import OUTER_SERVICE_VARIABLES, REPO, free_port, wait_for
from tutor.lessons.loader import load_catalog


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def healthz(port: int) -> dict:
    status, body = fetch(f"http://127.0.0.1:{port}/healthz")
    return json.loads(body) if status == 200 else {}


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "\nState:\tZ" not in status.read()
    except FileNotFoundError:
        return False


def readme_blocks(section: str) -> list[str]:
    """The command lines of the README's shell blocks in one section, comments dropped."""
    text = (REPO / "README.md").read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", body, re.DOTALL):
        lines += [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]
    return lines


def readme_commands_run(tmp_path, env: dict, port: int) -> None:
    """The README's commands, exactly as written, each in a fresh shell, while `make run` serves:
    in a folder of their own that holds the checkout's .venv, manage.py and scripts (so the
    kubeconfig they write lands there), with make run's var/ and port."""
    folder = tmp_path / "newcomer"
    folder.mkdir()
    for name in (".venv", "manage.py", "scripts"):
        (folder / name).symlink_to(REPO / name)
    shell_env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TUTOR_VAR_DIR": env["TUTOR_VAR_DIR"],
        "PORT": str(port),
    }
    commands = readme_blocks("Sandboxes and kubectl") + readme_blocks("Learning with Kube Tutor")
    assert len(commands) >= 7, commands
    outputs = {}
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command], cwd=folder, env=shell_env, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, f"`{command}` failed: {done.stdout}\n{done.stderr}"
        outputs[command] = done.stdout
    nodes = next(out for command, out in outputs.items() if "kubectl get nodes" in command)
    assert re.search(r"node-1\s+Ready", nodes), nodes
    assert re.search(r"node-2\s+Ready", nodes), nodes
    checked = next(out for command, out in outputs.items() if "lessons check" in command)
    assert f"{len(load_catalog().lessons)} lessons, all valid" in checked


@pytest.fixture
def run_env(tmp_path):
    """`make run`'s environment, with a var/ of its own. With an engine, `make run`'s sandboxes run
    on it (TUTOR_RUNTIME=auto) and stay, as they would for the next `make run`; this one's var/
    goes with tmp_path, so afterwards their containers go too, whether the test passed or not."""
    env = {k: v for k, v in os.environ.items() if k not in {*OUTER_SERVICE_VARIABLES, "SECRET_KEY", "DEBUG"}}
    env.update(TUTOR_VAR_DIR=str(tmp_path / "var"), TUTOR_HEARTBEAT_INTERVAL="1", TUTOR_RUNTIME="auto")
    yield env
    if not (tmp_path / "var" / "db.sqlite3").exists():
        return  # `make run` never made its database: no sandbox, nothing on the engine
    cleaned = subprocess.run(
        [sys.executable, "manage.py", "sandbox", "clean-engine"],
        cwd=REPO,
        env={**env, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert cleaned.returncode == 0, cleaned.stderr


def test_make_run_serves_a_healthy_stack_on_embedded_defaults_and_ctrl_c_stops_it(tmp_path, run_env):
    port = free_port()
    env = run_env
    log_path = tmp_path / "make-run.log"
    with log_path.open("w") as log:
        make = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        health = wait_for(
            lambda: (h := healthz(port)) and h.get("worker") == "ok" and h,
            timeout=180,
            interval=0.25,
            what=f"/healthz to report the worker ok; log: {log_path}",
        )
        assert (health["database"], health["broker"]) == ("ok", "ok")
        assert (health["database_vendor"], health["broker_transport"]) == ("sqlite", "filesystem")

        # Beat is ticking (every second here): the heartbeat keeps getting younger than the one
        # the worker sent itself when it started.
        first_ok = time.monotonic()
        wait_for(
            lambda: time.monotonic() - first_ok > 3 and healthz(port).get("worker_heartbeat_age_seconds", 99) < 2,
            timeout=30,
            what="beat to keep the heartbeat fresh",
        )

        status, page = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert "Kube Tutor" in page
        assert fetch(f"http://127.0.0.1:{port}/static/css/tutor.css")[0] == 200
        output = log_path.read_text()
        assert re.search(r"learner\s+learner1\s+password learner-demo", output)
        assert (tmp_path / "var" / "secret-key").exists()
        children = {name: int(pid) for name, pid in re.findall(r"(\w+)\.1 started \(pid=(\d+)\)", output)}
        assert set(children) == {"web", "worker", "beat"}, output
        readme_commands_run(tmp_path, env, port)
    finally:
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        make.wait(timeout=60)

    assert not [name for name, pid in children.items() if pid_alive(pid)]
    assert fetch(f"http://127.0.0.1:{port}/healthz")[0] == 0

    again = subprocess.run(
        ["make", "setup", f"PORT={port}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "learner1     password learner-demo  (exists)" in again.stdout
