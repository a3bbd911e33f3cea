"""How long `make run` takes from a fresh clone to a healthy worker, and a second start after it.

Clones the current commit into a temporary folder (no .venv, no var/), runs `make run` there on a
free port with no service variables set (the embedded defaults), and times until /healthz says
the worker is ok; then stops it with SIGINT and does the same again (the warm start).
Prints JSON.  Usage: .venv/bin/python bench/make_run_startup.py
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVICE_VARIABLES = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DEBUG", "TUTOR_VAR_DIR"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return json.load(response).get("worker") == "ok"
    except OSError:
        return False


def time_to_healthy(checkout: Path, timeout: float = 900) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    started = time.monotonic()
    make = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while not worker_ok(port):
            if time.monotonic() - started > timeout or make.poll() is not None:
                raise SystemExit(f"make run did not become healthy (exit {make.poll()})")
            time.sleep(0.1)
        return time.monotonic() - started
    finally:
        os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=60)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kube-tutor-bench-") as folder:
        checkout = Path(folder) / "kube-tutor"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(checkout)], check=True)
        cold = time_to_healthy(checkout)
        warm = time_to_healthy(checkout)
    print(json.dumps({"benchmark": "make_run_startup", "cold_seconds": round(cold, 1), "warm_seconds": round(warm, 1)}))


if __name__ == "__main__":
    main()
