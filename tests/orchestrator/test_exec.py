"""`kubectl exec`, `kubectl cp` and `kubectl port-forward` with the real kubectl, over WebSocket,
on both runtimes: output, exit codes, stdin, an interactive shell on a pseudo-terminal, copies
both ways, a Service reached from this machine, and the errors kubectl prints."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import subprocess
import textwrap
import time
import urllib.request

import pytest

from tests.kubectl.conftest import KUBECTL
from tests.orchestrator.helpers import eventually, pod, pods, ready
from tests.system.stack import free_port

SHELL_POD = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata: {name: web-0, labels: {app: shell}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        env: [{name: GREETING, value: hello from the spec}]
        command: [sh, -c, "echo started; sleep 3600"]
        readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
      - name: side
        image: busybox:1.36
        command: [sh, -c, "sleep 3600"]
    """
)


@pytest.fixture
def shell_pod(kubectl):
    kubectl("apply", "-f", "-", input=SHELL_POD)
    eventually(lambda: ready(pod(kubectl, "web-0")), timeout=120)
    return "web-0"


def test_exec_prints_the_output_of_a_command_run_in_the_pod(kubectl, shell_pod):
    assert kubectl("exec", shell_pod, "-c", "main", "--", "cat", "/etc/hostname").stdout == "web-0\n"
    assert (
        kubectl("exec", shell_pod, "-c", "main", "--", "sh", "-c", "echo $GREETING").stdout == "hello from the spec\n"
    )


SERVICE_LINKS = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Service
    metadata: {name: my-db}
    spec: {selector: {app: db}, ports: [{name: sql, port: 5432}]}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: linked}
    spec:
      containers:
      - {name: main, image: busybox:1.36, command: [sh, -c, "sleep 3600"], env: [{name: DB, value: $(MY_DB_PORT)/db}]}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: unlinked}
    spec:
      enableServiceLinks: false
      containers:
      - {name: main, image: busybox:1.36, command: [sh, -c, "sleep 3600"]}
    """
)


def test_containers_get_the_service_variables_and_exec_sees_them(kubectl):
    """The kubelet gives every container the variables of its namespace's Services (not with
    enableServiceLinks: false) and of default/kubernetes (always); an env value may refer to them."""
    kubectl("apply", "-f", "-", input=SERVICE_LINKS)
    eventually(lambda: ready(pod(kubectl, "linked")) and ready(pod(kubectl, "unlinked")), timeout=120)
    jsonpath = "jsonpath={.spec.clusterIP}"
    api = kubectl("get", "service", "kubernetes", "-n", "default", "-o", jsonpath).stdout
    db = kubectl("get", "service", "my-db", "-o", jsonpath).stdout
    script = "echo $KUBERNETES_SERVICE_HOST $KUBERNETES_PORT $MY_DB_SERVICE_PORT_SQL $DB"
    assert (
        kubectl("exec", "linked", "--", "sh", "-c", script).stdout == f"{api} tcp://{api}:443 5432 tcp://{db}:5432/db\n"
    )
    unlinked = kubectl("exec", "unlinked", "--", "env").stdout.splitlines()
    assert f"KUBERNETES_PORT_443_TCP_ADDR={api}" in unlinked
    assert not [line for line in unlinked if line.startswith("MY_DB")]


def test_exec_carries_stderr_and_the_exit_code(kubectl, shell_pod):
    result = kubectl("exec", shell_pod, "-c", "main", "--", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert result.returncode == 3
    assert result.stdout == "out\n"
    assert "err\n" in result.stderr
    assert "command terminated with exit code 3" in result.stderr


def test_exec_feeds_stdin_to_the_process_until_it_ends(kubectl, shell_pod):
    text = "first line\nsecond line\n"
    result = kubectl("exec", "-i", shell_pod, "-c", "main", "--", "wc", "-l", input=text)
    assert result.stdout.split()[0] == "2"


def test_exec_names_the_pod_and_container_that_are_not_there(kubectl, shell_pod):
    missing = kubectl("exec", "nope", "--", "true", check=False)
    assert missing.returncode == 1
    assert 'pods "nope" not found' in missing.stderr
    wrong = kubectl("exec", shell_pod, "-c", "nope", "--", "true", check=False)
    assert wrong.returncode == 1
    assert "container nope is not valid for pod web-0" in wrong.stderr


def test_exec_it_runs_an_interactive_shell_on_a_terminal(kubectl, shell_pod):
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(kubectl.kubeconfig), "exec", "-it", shell_pod, "-c", "main", "--", "sh"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, "HOME": str(kubectl.home)},
        close_fds=True,
    )
    os.close(secondary)
    try:
        os.write(primary, b"echo sum=$((40+2))\n")
        assert "sum=42" in _read_until(primary, "sum=42")
        os.write(primary, b"exit 7\n")
        assert process.wait(timeout=30) == 7
    finally:
        process.kill()
        os.close(primary)


def test_cp_copies_a_file_into_the_pod_and_back_byte_for_byte(kubectl, shell_pod, tmp_path):
    original = tmp_path / "data.bin"
    original.write_bytes(bytes(range(256)) * 64 + "한국어 text\n".encode())
    kubectl("cp", str(original), f"{kubectl.namespace}/{shell_pod}:/tmp/data.bin", "-c", "main")
    assert kubectl("exec", shell_pod, "-c", "main", "--", "wc", "-c", "/tmp/data.bin").stdout.split()[0] == str(
        original.stat().st_size
    )
    back = tmp_path / "back.bin"
    kubectl("cp", f"{kubectl.namespace}/{shell_pod}:/tmp/data.bin", str(back), "-c", "main")
    assert back.read_bytes() == original.read_bytes()


def test_a_closed_connection_ends_the_process(kubectl, shell_pod, runtime):
    if runtime == "simulated":
        pytest.skip("the simulated runtime's processes end with their exec session by construction")
    process = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(kubectl.kubeconfig), "exec", shell_pod, "-c", "main", "--", "sleep", "313"],
        env={**os.environ, "HOME": str(kubectl.home)},
    )

    def sleeping() -> bool:
        """`sleep 313` runs in the container"""
        return "sleep 313" in kubectl("exec", shell_pod, "-c", "main", "--", "ps").stdout

    eventually(sleeping, timeout=30)
    process.kill()
    process.wait()
    eventually(lambda: not sleeping(), timeout=30)


def _read_until(fd: int, text: str, timeout: float = 30) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{text!r} not seen; the terminal showed {seen.decode(errors='replace')!r}")
        ready_fds, _, _ = select.select([fd], [], [], remaining)
        if ready_fds:
            seen += os.read(fd, 4096)
    return seen.decode(errors="replace")


WEB = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: web
            image: nginx:1.27
            ports: [{containerPort: 80, name: http}]
            readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports: [{port: 8080, targetPort: http}]
    """
)


@contextlib.contextmanager
def port_forward(kubectl, target: str, ports: str):
    """`kubectl port-forward <target> <ports>` running until the block ends."""
    process = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(kubectl.kubeconfig), "port-forward", target, ports],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HOME": str(kubectl.home)},
    )
    try:
        lines = []
        while not (line := process.stdout.readline()).startswith("Forwarding from") and line:
            lines.append(line)
        assert line.startswith("Forwarding from 127.0.0.1:"), "".join(lines)
        yield process
    finally:
        process.kill()
        process.wait()


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=15) as response:
        return response.status, response.read().decode()


def test_port_forward_to_a_service_reaches_a_pod_behind_it(kubectl):
    kubectl("apply", "-f", "-", input=WEB)
    eventually(lambda: len([p for p in pods(kubectl) if ready(p)]) == 2, timeout=120)
    local = free_port()
    with port_forward(kubectl, "svc/web", f"{local}:8080"):
        for _ in range(3):  # one forwarded connection after another over the same tunnel
            status, body = _get(f"http://127.0.0.1:{local}/")
            assert status == 200
            assert "nginx" in body.lower() or "hello" in body.lower()


def test_port_forward_to_a_closed_port_tells_why(kubectl):
    kubectl("apply", "-f", "-", input=WEB)
    eventually(lambda: len([p for p in pods(kubectl) if ready(p)]) == 2, timeout=120)
    name = pods(kubectl)[0]["metadata"]["name"]
    local = free_port()
    with port_forward(kubectl, f"pod/{name}", f"{local}:81") as process:
        with pytest.raises(OSError, match=r"closed|reset|Remote end"):
            _get(f"http://127.0.0.1:{local}/")
        lines = []
        while "error" not in (line := process.stdout.readline()) and line:
            lines.append(line)
        assert "error forwarding port 81" in line, lines
        assert "connection refused" in line.lower(), line


TICKER = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata: {name: ticker}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: [sh, -c, "i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done"]
    """
)


def test_attach_shows_what_the_container_writes_from_now_on(kubectl):
    kubectl("apply", "-f", "-", input=TICKER)
    eventually(lambda: pod(kubectl, "ticker")["status"].get("phase") == "Running", timeout=120)
    process = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(kubectl.kubeconfig), "attach", "ticker", "-c", "main"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HOME": str(kubectl.home)},
    )
    try:
        # kubectl says first that the session is recorded and how to get a prompt.
        ticks = (line for line in iter(process.stdout.readline, "") if line.startswith("tick "))
        first, second = (int(next(ticks).split()[1]) for _ in range(2))
        assert second == first + 1
    finally:
        process.kill()
        process.wait()
    # Leaving the attach leaves the container running.
    assert pod(kubectl, "ticker")["status"]["containerStatuses"][0]["restartCount"] == 0
    assert "running" in pod(kubectl, "ticker")["status"]["containerStatuses"][0]["state"]
