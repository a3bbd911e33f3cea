"""`kubectl logs` and `logs -f` read what the runtime recorded for a container's current run.

The runtime is played here by the test: it marks the container running through the status
subresource (as a kubelet does) and appends output lines through the same service a runtime uses.
"""

import json
import subprocess

from tests.kubectl.conftest import KUBECTL

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  containers: [{name: main, image: busybox:1.36, command: [sh, -c, "echo hello"]}]
"""


def set_state(kubectl, state: dict, restarts: int = 0):
    status = {
        "phase": "Running" if "running" in state else "Succeeded",
        "containerStatuses": [
            {
                "name": "main",
                "image": "busybox:1.36",
                "imageID": "",
                "ready": "running" in state,
                "restartCount": restarts,
                "state": state,
            }
        ],
    }
    kubectl("patch", "pod", "talker", "--subresource=status", "--type=merge", "-p", json.dumps({"status": status}))


def append(api_server, kubectl, *lines: str):
    pod = kubectl.json("get", "pod", "talker")
    code = (
        "from clusters.models import Sandbox; from clusters.logs import container_log_append; "
        "container_log_append(sandbox=Sandbox.objects.get(owner__username='alice'), "
        f"pod_uid='{pod['metadata']['uid']}', container='main', restart=0, lines={list(lines)!r})"
    )
    result = api_server.stack.manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr


def test_logs_wait_for_the_container_then_show_its_lines_and_tail(api_server, kubectl):
    kubectl("apply", "-f", "-", input=POD)
    waiting = kubectl("logs", "talker", check=False)
    assert 'container "main" in pod "talker" is waiting to start: ContainerCreating' in waiting.stderr
    set_state(kubectl, {"running": {"startedAt": "2026-11-26T12:00:00Z"}})
    append(api_server, kubectl, "hello", "world")
    assert kubectl("logs", "talker").stdout == "hello\nworld\n"
    assert kubectl("logs", "talker", "--tail=1").stdout == "world\n"
    assert kubectl("logs", "talker", "-c", "main", "--timestamps").stdout.count("Z hello") == 1


def test_logs_follow_streams_new_lines_and_ends_when_the_container_stops(api_server, kubectl):
    kubectl("apply", "-f", "-", input=POD)
    set_state(kubectl, {"running": {"startedAt": "2026-11-26T12:00:00Z"}})
    append(api_server, kubectl, "first")
    follower = subprocess.Popen(
        [
            KUBECTL,
            "--kubeconfig",
            str(kubectl.kubeconfig),
            "--cache-dir",
            str(kubectl.home / "cache"),
            "logs",
            "-f",
            "talker",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"HOME": str(kubectl.home), "PATH": "/usr/bin:/bin"},
    )
    try:
        assert follower.stdout.readline() == "first\n"
        append(api_server, kubectl, "second")
        assert follower.stdout.readline() == "second\n"
        set_state(kubectl, {"terminated": {"exitCode": 0, "reason": "Completed"}})
        assert follower.wait(timeout=20) == 0
    finally:
        follower.kill()
