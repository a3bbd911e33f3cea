"""What the end-to-end tests ask the cluster through kubectl, and how they wait for it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import textwrap
import time
import uuid
from datetime import datetime

from tests.kubectl.conftest import KUBECTL

# Three web pods behind a readiness probe: what most tests start from.
DEPLOYMENT = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: web
            image: nginx:1.27
            ports: [{containerPort: 80, name: http}]
            readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
    """
)


# A pod that runs and does nothing: something to exec into, or to kill.
SLEEPER = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata: {name: sleeper}
    spec:
      containers:
      - {name: main, image: "busybox:1.36", command: [sleep, "3600"]}
    """
)


def pods(kubectl, selector: str = "app=web") -> list[dict]:
    return json.loads(kubectl("get", "pods", "-l", selector, "-o", "json").stdout)["items"]


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def eventually(check, timeout: float = 60, interval: float = 0.3):
    """Poll `check` until it returns something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {check.__doc__ or check}")
        time.sleep(interval)


def pod(kubectl, name: str) -> dict:
    return json.loads(kubectl("get", "pod", name, "-o", "json").stdout)


def names(kubectl, kind: str, selector: str | None = None) -> set[str]:
    """Names of the objects of `kind` in the test's namespace (with a label selector, if given)."""
    args = ["get", kind, "-o", "json", *(["-l", selector] if selector else [])]
    return {item["metadata"]["name"] for item in json.loads(kubectl(*args).stdout)["items"]}


def moment(text: str) -> datetime:
    """An RFC 3339 timestamp as the API writes it (`2026-01-01T10:00:00Z`)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def containers_without_pod(stack, *, node: str = "") -> list[str]:
    """Docker containers of the stack's sandbox (on `node`, if given) whose pod no longer exists."""
    labels = "f'kube-tutor.sandbox={sandbox}'" + (f", 'kube-tutor.node={node}'" if node else "")
    found = stack.manage(
        "shell",
        "--no-imports",
        "-c",
        "from clusters.models import Sandbox, StoredObject; from clusters.runtime.docker import engine_client; "
        "live = set(str(u) for u in StoredObject.objects.filter(kind='Pod').values_list('uid', flat=True)); "
        "sandbox = Sandbox.objects.get().uid.hex; "
        f"containers = engine_client().api.containers(all=True, filters={{'label': [{labels}]}}); "
        "print('\\n'.join(c['Names'][0].lstrip('/') for c in containers "
        "if c['Labels'].get('io.kubernetes.pod.uid') not in live | {None}))",
    )
    assert found.returncode == 0, found.stderr
    return found.stdout.split()


def pod_containers(stack, namespace: str) -> list[str]:
    """Docker containers (pause containers too) of the stack's sandbox for pods of `namespace`."""
    found = stack.manage(
        "shell",
        "--no-imports",
        "-c",
        "from clusters.models import Sandbox; from clusters.runtime.docker import engine_client; "
        "sandbox = Sandbox.objects.get().uid.hex; "
        "containers = engine_client().api.containers(all=True, filters={'label': ["
        f"f'kube-tutor.sandbox={{sandbox}}', 'io.kubernetes.pod.namespace={namespace}']}}); "
        "print('\\n'.join(c['Names'][0].lstrip('/') for c in containers))",
    )
    assert found.returncode == 0, found.stderr
    return found.stdout.split()


def engine_container(namespace: str, pod_name: str, container: str = "") -> dict:
    """The engine's inspect of a pod's (newest) container, or its pause container."""
    from clusters.runtime import docker as runtime  # the Docker SDK, for Docker tests only

    labels = [f"{runtime.POD_NAMESPACE}={namespace}", f"{runtime.POD_NAME}={pod_name}"]
    labels.append(f"{runtime.CONTAINER_NAME}={container or runtime.SANDBOX_CONTAINER}")
    client = runtime.engine_client()
    try:
        listed = client.api.containers(all=True, filters={"label": labels})
        newest = max(listed, key=lambda item: int(item["Labels"].get(runtime.RUN, "0")))
        return client.api.inspect_container(newest["Id"])
    finally:
        client.close()


def engine_kill(namespace: str, pod_name: str, container: str) -> None:
    """SIGKILL a pod's running container through the engine, behind the cluster's back (a crash)."""
    from clusters.runtime import docker as runtime

    running = engine_container(namespace, pod_name, container)
    assert running["State"]["Running"], running["State"]
    client = runtime.engine_client()
    try:
        client.api.kill(running["Id"], signal="SIGKILL")
    finally:
        client.close()


@contextlib.contextmanager
def watching(kubectl, *args: str, events: bool = False):
    """`kubectl get <args> --watch -o json` in the background: yields a function that returns every
    version of the objects the watch has delivered so far, oldest first (with `events`, the watch
    events instead: {"type": "ADDED" | "MODIFIED" | "DELETED", "object": …})."""
    path = kubectl.home / f"watch-{uuid.uuid4().hex[:8]}.json"
    command = [KUBECTL, "--kubeconfig", str(kubectl.kubeconfig), "--cache-dir", str(kubectl.home / "cache")]
    with path.open("w") as sink:
        process = subprocess.Popen(
            [*command, "get", *args, "--watch", "-o", "json", *(["--output-watch-events"] if events else [])],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "HOME": str(kubectl.home)},
        )

    def seen() -> list[dict]:
        text, decoder, objects, at = path.read_text(), json.JSONDecoder(), [], 0
        while (at := len(text) - len(text[at:].lstrip())) < len(text):
            try:
                found, at = decoder.raw_decode(text, at)
            except json.JSONDecodeError:  # the last object is still being written
                break
            objects.append(found)
        return objects

    try:
        yield seen
    finally:
        process.terminate()
        process.wait(timeout=10)


# Nodes that fail fast, for the tests that silence a kubelet: NotReady after 4 s, evicted 3 s later.
SHORT_NODE_TIMINGS = {
    "TUTOR_NODE_HEARTBEAT_SECONDS": "1",
    "TUTOR_NODE_GRACE_SECONDS": "4",
    "TUTOR_POD_EVICTION_SECONDS": "3",
}


def node_ready(kubectl, name: str) -> str:
    """The status of a node's Ready condition: True, False or Unknown."""
    conditions = json.loads(kubectl("get", "node", name, "-o", "json").stdout)["status"]["conditions"]
    return next(c["status"] for c in conditions if c["type"] == "Ready")
