"""The persistent volumes of a simulated sandbox, kept in the database and shared by its nodes."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from clusters.models import NodeRuntimeState
from clusters.runtime.base import PodRef, VolumeSpec
from clusters.runtime.simulated import ManualClock, SimulatedRuntime
from clusters.sandboxes import sandbox_create
from clusters.simulated_volumes import SandboxVolumes

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox():
    return sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated")


def test_a_claim_written_on_one_node_is_read_on_the_other(sandbox):
    clock = ManualClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    claim = VolumeSpec("data", "persistent", key="claim-uid")
    mounts = [{"name": "data", "mountPath": "/data"}]
    for node, script in (("node-1", "echo kept > /data/note"), ("node-2", "cat /data/note")):
        runtime = SimulatedRuntime(clock, node=node, volumes=SandboxVolumes(sandbox))
        pod = PodRef(sandbox.uid.hex, "default", f"on-{node}", f"uid-{node}", node)
        runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[claim])
        runtime.image_pull("busybox:1.36", policy="IfNotPresent")
        container = {"name": "c", "image": "busybox:1.36", "command": ["sh", "-c", script], "volumeMounts": mounts}
        runtime.container_start(pod, container, restart=0, env={}, volumes=[claim])
        logs = [text for _, text in runtime.logs(pod, "c", restart=0, since=None)]
        runtime.pod_remove(pod)
    assert logs == ["kept"]
    assert SandboxVolumes(sandbox).files("claim-uid") == {"note": "kept\n"}


def test_writes_change_one_file_at_a_time(sandbox):
    one, other = SandboxVolumes(sandbox), SandboxVolumes(sandbox)
    one.write("claim-uid", "a", "from one\n")
    other.write("claim-uid", "b", "from the other\n")
    one.write("claim-uid", "a", None)
    assert other.files("claim-uid") == {"b": "from the other\n"}
    assert SandboxVolumes(sandbox).files("another-claim") == {}
    assert NodeRuntimeState.objects.filter(sandbox=sandbox, node="volume:claim-uid").count() == 1
