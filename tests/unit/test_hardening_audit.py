"""The hardening audit (tests/docker/hardening.py) can fail: each rule, broken in an inspect as the
engine would answer it, is reported in words. No engine needed."""

import copy

import pytest

from tests.docker.hardening import container_findings, quota_findings

SANDBOX = "abc123"
PAUSE_ID = "f" * 64
ALLOCATABLE = {"cpu": "2", "memory": "4Gi"}


def inspect() -> dict:
    """A pod container as the Docker runtime makes it."""
    return {
        "Id": "c" * 64,
        "Name": "/k8s_web_web_default_uid-1_0",
        "Config": {
            "Labels": {
                "kube-tutor.sandbox": SANDBOX,
                "kube-tutor.role": "container",
                "kube-tutor.node": "node-1",
                "io.kubernetes.pod.uid": "uid-1",
                "io.kubernetes.pod.name": "web",
                "io.kubernetes.pod.namespace": "default",
                "io.kubernetes.container.name": "web",
            }
        },
        "State": {"Running": True},
        "HostConfig": {
            "Privileged": False,
            "CapDrop": ["ALL"],
            "CapAdd": ["NET_BIND_SERVICE"],
            "SecurityOpt": ["no-new-privileges"],
            "MaskedPaths": ["/proc/kcore"],
            "PidsLimit": 256,
            "Memory": 128 * 2**20,
            "MemorySwap": 128 * 2**20,
            "NanoCpus": 500_000_000,
            "NetworkMode": f"container:{PAUSE_ID}",
            "IpcMode": f"container:{PAUSE_ID}",
            "CgroupnsMode": "private",
            "Mounts": [{"Type": "volume", "Source": "kube-tutor_uid-1_data", "Target": "/data"}],
        },
        "Mounts": [{"Type": "volume", "Name": "kube-tutor_uid-1_data", "Destination": "/data"}],
        "NetworkSettings": {"Networks": {}, "Ports": {}},
    }


POD = {
    "metadata": {"uid": "uid-1"},
    "spec": {"containers": [{"name": "web", "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}]},
}
VOLUMES = {"kube-tutor_uid-1_data": {"Labels": {"kube-tutor.sandbox": SANDBOX}}}


def findings(info: dict, pod: dict | None = POD) -> list[str]:
    return container_findings(
        info, sandbox=SANDBOX, pod=pod, allocatable=ALLOCATABLE, volumes=VOLUMES, pauses={"uid-1": PAUSE_ID}
    )


def test_a_container_made_as_documented_has_no_finding():
    assert findings(inspect()) == []


@pytest.mark.parametrize(
    ("where", "value", "words"),
    [
        (("HostConfig", "Privileged"), True, "runs privileged"),
        (("HostConfig", "CapDrop"), [], "does not drop every capability"),
        (("HostConfig", "CapAdd"), ["SYS_ADMIN"], "adds capabilities ['SYS_ADMIN']"),
        (("HostConfig", "SecurityOpt"), [], "lacks no-new-privileges"),
        (("HostConfig", "PidsLimit"), 0, "pids limit 0"),
        (("HostConfig", "Memory"), 8 * 2**30, "not within the node's allocatable 4Gi"),
        (("HostConfig", "MemorySwap"), -1, "may swap beyond its memory limit"),
        (("HostConfig", "NanoCpus"), 1_000_000_000, "is not the pod's 500m"),
        (("HostConfig", "Binds"), ["/:/host"], "bind-mounts host paths ['/:/host']"),
        (("HostConfig", "NetworkMode"), "host", "is not its pod's pause container"),
        (("HostConfig", "PidMode"), "host", "PidMode host"),
        (("HostConfig", "CgroupnsMode"), "host", "CgroupnsMode host"),
        (("HostConfig", "PortBindings"), {"80/tcp": [{"HostIp": "", "HostPort": "80"}]}, "on every address"),
        (("Mounts",), [{"Type": "bind", "Source": "/etc", "Destination": "/etc"}], "mounts bind /etc at /etc"),
        (("Config", "Labels", "io.kubernetes.pod.uid"), "", "label io.kubernetes.pod.uid is missing"),
    ],
)
def test_each_broken_rule_is_reported(where, value, words):
    info = inspect()
    target = info
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert any(words in found for found in findings(info)), findings(info)


def test_a_volume_of_another_sandbox_is_reported():
    info = inspect()
    info["Mounts"][0]["Name"] = "kube-tutor_other_data"
    assert findings(info) == [
        "k8s_web_web_default_uid-1_0: mounts volume kube-tutor_other_data, which is not the sandbox's"
    ]


def test_a_quota_overrun_is_reported():
    quota = {"metadata": {"namespace": "default"}, "spec": {"hard": {"limits.memory": "200Mi", "limits.cpu": "4"}}}
    second = copy.deepcopy(inspect())
    assert quota_findings([inspect()], [quota], {"uid-1": POD}) == []
    assert quota_findings([inspect(), second], [quota], {"uid-1": POD}) == [
        "namespace default: containers' memory limits add up to more than its quota 200Mi"
    ]
