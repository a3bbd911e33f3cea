"""A pod that asks for the node (admitted in a `privileged` namespace) is told, in a Warning
Event when its sandbox is made, what it does not get: hostPath is a private empty volume, host
namespaces, privileged mode and added capabilities are not granted."""

from clusters.controllers.containment import REASON, host_access_notes
from tests.unit.controllers.test_kubelet import World, container, pod

HOSTILE_SPEC = {
    "hostNetwork": True,
    "hostPID": True,
    "hostIPC": True,
    "volumes": [
        {"name": "root", "hostPath": {"path": "/"}},
        {"name": "docker", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
        {"name": "scratch", "emptyDir": {}},
    ],
    "containers": [
        {
            "name": "shell",
            "securityContext": {
                "privileged": True,
                "capabilities": {"add": ["SYS_ADMIN", "CAP_NET_ADMIN", "NET_BIND_SERVICE"]},
            },
            "ports": [{"containerPort": 80, "hostPort": 8080}],
        }
    ],
}


def test_every_host_access_asked_for_is_named():
    assert host_access_notes(HOSTILE_SPEC) == [
        "hostPath volume \"root\" is an empty volume of the pod's own: the node's / is never mounted",
        'hostPath volume "docker" is an empty volume of the pod\'s own: '
        "the node's /var/run/docker.sock is never mounted",
        "hostNetwork: the pod keeps a network namespace of its own, not the node's",
        "hostPID: the pod keeps a process (PID) namespace of its own, not the node's",
        "hostIPC: the pod keeps an IPC namespace of its own, not the node's",
        'container "shell": privileged is not granted',
        'container "shell": capabilities NET_ADMIN, SYS_ADMIN are not added (only NET_BIND_SERVICE is kept)',
        'container "shell": hostPort 8080 is never published beyond 127.0.0.1',
    ]


def test_a_pod_that_asks_nothing_of_the_node_gets_no_note():
    spec = {
        "volumes": [{"name": "data", "emptyDir": {}}],
        "containers": [{"name": "web", "ports": [{"containerPort": 80}]}],
    }
    assert host_access_notes(spec) == []


def test_the_kubelet_warns_once_when_it_makes_the_sandbox():
    hostile = pod(
        containers=[container(securityContext={"privileged": True})],
        volumes=[{"name": "etc", "hostPath": {"path": "/etc"}}],
    )
    world = World(hostile)
    world.settle()
    warnings = [(kind, message) for _, kind, reason, message in world.events if reason == REASON]
    assert warnings == [
        (
            "Warning",
            'This sandbox does not give pods the node: hostPath volume "etc" is an empty volume of the pod\'s '
            'own: the node\'s /etc is never mounted; container "web": privileged is not granted',
        )
    ]
    assert world.state() == ("running", None, 0)


def test_a_plain_pod_gets_no_warning():
    world = World(pod())
    world.settle()
    assert not [event for event in world.events if event[2] == REASON]
