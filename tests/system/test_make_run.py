"""The README's first command, for real: `make run` on embedded defaults, then Ctrl-C."""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request

from tests.system.stack import OUTER_SERVICE_VARIABLES, REPO, free_port, wait_for


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


def test_make_run_serves_a_healthy_stack_on_embedded_defaults_and_ctrl_c_stops_it(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {*OUTER_SERVICE_VARIABLES, "SECRET_KEY", "DEBUG"}}
    env.update(TUTOR_VAR_DIR=str(tmp_path / "var"), TUTOR_HEARTBEAT_INTERVAL="1", TUTOR_RUNTIME="auto")
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
