"""What a learner's pod can do to the machine stays in its container (Docker runtime, real engine).

- Asking for the node: a pod in a namespace whose Pod Security level is `privileged` (admitted,
  as upstream admits it) with hostPath to /, /etc and the Docker socket, hostNetwork, hostPID,
  hostIPC, privileged mode, added capabilities, a hostPort and huge limits gets none of it: its
  volumes are empty volumes of its own, its namespaces its own, its capabilities NET_BIND_SERVICE
  alone, its port on 127.0.0.1 only, its limits the node's allocatable; a Warning Event says so.
  A pod asking for more than a node has stays Pending.
- Abuse: a fork bomb stops at the pids limit, a memory hog is OOMKilled at its limit (as kubectl
  shows it), a CPU burner is throttled to its limit (the engine's stats say so), while another
  learner's Deployment converges. How fast the API answers meanwhile is bench/abuse.py's to say.
- A log flood (`yes`) keeps only the newest lines, within the rotation's cap.

The stack's containers are audited by tests/docker/hardening.py when the module ends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import yaml

from clusters.logs import line_bytes
from clusters.runtime import docker as runtime
from clusters.runtime.kernel_log import kernel_oom_log
from tests.docker.hardening import assert_hardened, kubeconfig_sandbox, sandbox_audit, stack_audit
from tests.kubectl.conftest import Kubectl
from tests.orchestrator.conftest import running_cluster
from tests.orchestrator.helpers import DEPLOYMENT, engine_container, eventually, moment, pod, pods, ready
from tests.system.stack import free_port

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("abuse")]  # one stack for the module

LOG_MAX_SIZE, LOG_MAX_FILES = 16 * 1024, 2


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    settings = {"TUTOR_CONTAINER_LOG_MAX_SIZE": str(LOG_MAX_SIZE), "TUTOR_CONTAINER_LOG_MAX_FILES": str(LOG_MAX_FILES)}
    with running_cluster(tmp_path_factory.mktemp("abuse"), "docker", env=settings) as running:
        yield running


def engine_stats(container_id: str) -> dict:
    client = runtime.engine_client()
    try:
        return client.api.stats(container_id, stream=False, one_shot=True)
    finally:
        client.close()


def in_pod(kubectl, name: str, script: str) -> str:
    return kubectl("exec", name, "--", "sh", "-c", script).stdout


HOSTILE = """\
apiVersion: v1
kind: Pod
metadata: {{name: hostile}}
spec:
  hostNetwork: true
  hostPID: true
  hostIPC: true
  containers:
  - name: shell
    image: busybox:1.36
    command: [sleep, "3600"]
    ports: [{{containerPort: {port}, hostPort: {port}}}]
    securityContext:
      privileged: true
      allowPrivilegeEscalation: true
      capabilities: {{add: [SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE]}}
    resources:
      requests: {{cpu: 100m, memory: 64Mi}}
      limits: {{cpu: "64", memory: 64Gi}}
    volumeMounts:
    - {{name: root, mountPath: /host}}
    - {{name: etc, mountPath: /host-etc}}
    - {{name: docker, mountPath: /var/run/docker.sock}}
  volumes:
  - {{name: root, hostPath: {{path: /}}}}
  - {{name: etc, hostPath: {{path: /etc, type: Directory}}}}
  - {{name: docker, hostPath: {{path: /var/run/docker.sock, type: Socket}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: greedy}}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, "3600"]
    resources: {{requests: {{cpu: "64", memory: 64Gi}}}}
"""


def test_a_pod_that_asks_for_the_node_gets_none_of_it(cluster, kubectl):
    stack, kubeconfig = cluster
    # What only the instructor may do: a learner relabelling their namespace looser is refused.
    relaxed = stack.manage("sandbox", "pod-security", "--owner", "alice", "--level", "privileged")
    assert relaxed.returncode == 0, relaxed.stderr
    port = free_port()
    kubectl("apply", "-f", "-", input=HOSTILE.format(port=port))
    kubectl("wait", "--for=condition=Ready", "pod/hostile", "--timeout=90s")

    # hostPath: empty volumes of the pod's own, never the node's /, /etc or Docker socket.
    assert in_pod(kubectl, "hostile", "ls -A /host /host-etc /var/run/docker.sock") == (
        "/host:\n\n/host-etc:\n\n/var/run/docker.sock:\n"
    )
    # Its own PID namespace (the command is PID 1, nothing of the host's shows), its own network.
    assert in_pod(kubectl, "hostile", "cat /proc/1/comm") == "sleep\n"
    assert len(in_pod(kubectl, "hostile", "ls -d /proc/[0-9]*").split()) < 10
    devices = in_pod(kubectl, "hostile", "cat /proc/net/dev").splitlines()[2:]  # two header lines
    assert {line.split(":")[0].strip() for line in devices} <= {"lo", "eth0", "eth1"}  # no docker0, no veths
    # Not privileged, no capability but NET_BIND_SERVICE (bit 10), no new privileges.
    status = dict(
        line.split(":\t", 1)
        for line in in_pod(kubectl, "hostile", "cat /proc/self/status").splitlines()
        if ":\t" in line
    )
    assert int(status["CapEff"], 16) == 1 << 10
    assert int(status["CapBnd"], 16) == 1 << 10
    assert status["NoNewPrivs"].strip() == "1"
    assert kubectl("exec", "hostile", "--", "mount", "-t", "tmpfs", "none", "/tmp", check=False).returncode != 0

    # The engine agrees: limits cut to the node's allocatable, the hostPort on 127.0.0.1 only.
    shell = engine_container(kubectl.namespace, "hostile", "shell")
    assert shell["HostConfig"]["Memory"] == 4 * 2**30
    assert shell["HostConfig"]["NanoCpus"] == 2 * 10**9
    pause = engine_container(kubectl.namespace, "hostile")
    assert pause["HostConfig"]["PortBindings"] == {f"{port}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    sandbox = kubeconfig_sandbox(kubeconfig)
    audited, findings = sandbox_audit(sandbox, pods=kubectl.json("get", "pods")["items"])
    assert audited >= 2
    assert findings == []

    # The learner is told, and the pod that asks for more than a node has stays Pending.
    events = kubectl.json("get", "events", "--field-selector", "involvedObject.name=hostile")["items"]
    [warning] = [event for event in events if event["reason"] == "HostAccessNotGranted"]
    assert warning["type"] == "Warning"
    assert 'hostPath volume "docker" is an empty volume of the pod\'s own' in warning["message"]
    assert 'container "shell": privileged is not granted' in warning["message"]

    def unschedulable():
        events = kubectl.json("get", "events", "--field-selector", "involvedObject.name=greedy")["items"]
        return [event["message"] for event in events if event["reason"] == "FailedScheduling"]

    assert "Insufficient cpu" in eventually(unschedulable, timeout=30)[0]
    assert pod(kubectl, "greedy")["status"]["phase"] == "Pending"
    kubectl("delete", "pod", "hostile", "greedy", "--grace-period=0", "--force", "--wait=false")


ABUSE = """\
apiVersion: v1
kind: Pod
metadata: {name: bomb}
spec:
  containers:
  - name: bomb
    image: busybox:1.36
    command: [sh, -c, "f() { f | f & }; f; sleep 3600"]
    resources: {limits: {cpu: 200m, memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: busybox:1.36
    command: [tail, /dev/zero]
    resources: {limits: {cpu: 200m, memory: 48Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: burner}
spec:
  containers:
  - name: burner
    image: busybox:1.36
    command: [sh, -c, "while :; do :; done"]
    resources: {limits: {cpu: 200m, memory: 32Mi}}
"""


@pytest.fixture(scope="module")
def neighbour(cluster, tmp_path_factory) -> Iterator[Kubectl]:
    """kubectl for another learner's Docker sandbox on the same stack."""
    stack, kubeconfig = cluster
    created = stack.manage("sandbox", "create", "--owner", "bob", "--runtime", "docker")
    assert created.returncode == 0, created.stderr
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    base = server.split("/k8s/")[0]
    config = stack.manage("sandbox", "kubeconfig", "--owner", "bob", "--server", base)
    assert config.returncode == 0, config.stderr
    home = tmp_path_factory.mktemp("bob")
    path = home / "kubeconfig"
    path.write_text(config.stdout)
    yield Kubectl(kubeconfig=path, home=home, namespace="default")
    stack_audit(path)  # the other learner's containers too, before the stack's cleanup removes them


def test_a_fork_bomb_a_memory_hog_and_a_cpu_burner_stay_in_their_containers(cluster, kubectl, neighbour):
    kubectl("apply", "-f", "-", input=ABUSE)
    kubectl("wait", "--for=condition=Ready", "pod/bomb", "pod/burner", "--timeout=90s")
    neighbour("apply", "-f", "-", input=DEPLOYMENT)

    # The fork bomb runs into its pids limit and never past it. The kernel refusing a fork (EAGAIN,
    # which the shell logs) is the proof it hit the limit: the count itself may settle a few below
    # the limit once every shell left is waiting on its children, so it is bounded, not matched.
    bomb = engine_container(kubectl.namespace, "bomb", "bomb")
    limit = bomb["HostConfig"]["PidsLimit"]
    seen = []

    def bomb_refused_a_fork():
        seen.append(engine_stats(bomb["Id"])["pids_stats"].get("current", 0))
        return "can't fork: Resource temporarily unavailable" in kubectl("logs", "bomb", "--tail=50").stdout

    # Its 200m of CPU ramps it up slowly on a busy machine.
    try:
        eventually(bomb_refused_a_fork, timeout=120)
    except AssertionError:
        status = pod(kubectl, "bomb").get("status")
        raise AssertionError(f"no refused fork; pids seen {seen[-20:]}; pod {status}") from None
    assert limit == 256
    assert limit * 0.75 <= max(seen) <= limit, (seen, pod(kubectl, "bomb").get("status"))

    # The memory hog is killed by the kernel at its limit, and kubectl says OOMKilled.
    def hog_terminated():
        state = (pod(kubectl, "hog").get("status", {}).get("containerStatuses") or [{}])[0].get("state", {})
        return state.get("terminated")

    try:
        terminated = eventually(hog_terminated, timeout=90)
    except AssertionError:
        raise AssertionError(f"the hog did not end: {pod(kubectl, 'hog').get('status')}") from None
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)
    hog = engine_container(kubectl.namespace, "hog", "hog")
    # The kernel's own record: the engine's flag can miss a kill (clusters/runtime/kernel_log.py).
    assert kernel_oom_log.killed(hog["Id"])
    assert hog["HostConfig"]["Memory"] == 48 * 2**20
    assert pod(kubectl, "hog")["status"]["phase"] == "Failed"

    # The CPU burner gets its 200m and is throttled for the rest (the engine's CFS figures).
    burner = engine_container(kubectl.namespace, "burner", "burner")
    before = engine_stats(burner["Id"])["cpu_stats"]
    started = time.monotonic()
    time.sleep(3)
    after = engine_stats(burner["Id"])["cpu_stats"]
    cores = (
        (after["cpu_usage"]["total_usage"] - before["cpu_usage"]["total_usage"]) / 1e9 / (time.monotonic() - started)
    )
    assert cores <= 0.2 * 1.25
    assert after["throttling_data"]["throttled_periods"] > before["throttling_data"]["throttled_periods"]

    # Meanwhile another learner's Deployment converges.
    def neighbour_ready():
        return len([item for item in pods(neighbour) if ready(item)]) == 3

    eventually(neighbour_ready, timeout=120)
    assert assert_hardened(kubeconfig_sandbox(neighbour.kubeconfig), pods=pods(neighbour)) >= 6
    kubectl("delete", "pod", "bomb", "hog", "burner", "--grace-period=0", "--force", "--wait=false")
    neighbour("delete", "deployment", "web", "--wait=false")


FLOOD = """\
apiVersion: v1
kind: Pod
metadata: {name: flood}
spec:
  containers:
  - name: flood
    image: busybox:1.36
    command: ["yes"]
    resources: {limits: {cpu: 50m, memory: 32Mi}}
"""


def test_a_log_flood_keeps_only_the_newest_lines_within_the_cap(kubectl):
    kubectl("apply", "-f", "-", input=FLOOD)
    kubectl("wait", "--for=condition=Ready", "pod/flood", "--timeout=90s")
    started = moment(pod(kubectl, "flood")["status"]["containerStatuses"][0]["state"]["running"]["startedAt"])

    def rotated():
        lines = kubectl("logs", "flood", "--timestamps").stdout.splitlines()
        return lines if lines and moment(lines[0].split()[0]) > started + timedelta(seconds=2) else None

    lines = eventually(rotated, timeout=60, interval=1)
    texts = [line.split(" ", 1)[1] for line in lines]
    assert set(texts) == {"y"}
    assert sum(line_bytes(text) for text in texts) <= LOG_MAX_FILES * (LOG_MAX_SIZE + line_bytes("y"))
    newest = moment(kubectl("logs", "flood", "--timestamps", "--tail=1").stdout.split()[0])
    assert newest > moment(lines[-1].split()[0]) - timedelta(seconds=1)  # the copy goes on
    flood = engine_container(kubectl.namespace, "flood", "flood")
    assert flood["HostConfig"]["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "2", "max-size": "5m"}}
    kubectl("delete", "pod", "flood", "--grace-period=0", "--force", "--wait=false")
