"""A deleted Docker sandbox leaves nothing in the engine: its pods' containers, its volumes and its
network go with it (a worker removes them once the deletion commits)."""

from __future__ import annotations

import urllib.parse

import pytest
import yaml

from clusters.runtime.docker import engine_client
from tests.kubectl.conftest import Kubectl
from tests.orchestrator.conftest import running_cluster
from tests.orchestrator.helpers import eventually

pytestmark = pytest.mark.docker

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: keeper}
spec:
  containers:
  - {name: main, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: scratch, mountPath: /scratch}]}
  volumes: [{name: scratch, emptyDir: {}}]
"""


def engine_objects(uid: str) -> dict[str, int]:
    client = engine_client()
    label = {"label": [f"kube-tutor.sandbox={uid}"]}
    return {
        "containers": len(client.api.containers(all=True, filters=label)),
        "volumes": len(client.api.volumes(filters=label).get("Volumes") or []),
        "networks": len(client.api.networks(filters=label)),
    }


def test_deleting_a_docker_sandbox_removes_what_the_engine_ran_for_it(tmp_path):
    with running_cluster(tmp_path, "docker") as (stack, alice):
        created = stack.manage("sandbox", "create", "--owner", "bob", "--runtime", "docker")
        assert created.returncode == 0, created.stderr
        port = urllib.parse.urlsplit(yaml.safe_load(alice.read_text())["clusters"][0]["cluster"]["server"]).port
        config = stack.manage("sandbox", "kubeconfig", "--owner", "bob", "--server", f"http://127.0.0.1:{port}")
        (tmp_path / "bob").write_text(config.stdout)
        kubectl = Kubectl(kubeconfig=tmp_path / "bob", home=tmp_path, namespace="default")
        kubectl("apply", "-f", "-", input=POD)
        kubectl("wait", "--for=condition=Ready", "pod/keeper", "--timeout=90s", timeout=120)
        code = "from clusters.models import Sandbox; print(Sandbox.objects.get(owner__username='bob').uid.hex)"
        listed = stack.manage("shell", "--no-imports", "-c", code)
        uid = listed.stdout.split()[-1]
        made = engine_objects(uid)
        assert made["containers"] >= 2, made  # the pod's pause and main containers
        assert made["networks"] >= 1, made

        deleted = stack.manage("sandbox", "delete", "--owner", "bob")
        assert deleted.returncode == 0, deleted.stderr

        eventually(lambda: engine_objects(uid) == {"containers": 0, "volumes": 0, "networks": 0}, timeout=60)
