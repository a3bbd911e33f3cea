"""What every runtime must do, whatever runs the containers.

Each test takes the `runtime` fixture (a RuntimeUnderTest, see conftest.py) and works with pods of
its own. Anything that takes time goes through `runtime.eventually(...)`, so the same test passes
on a jumping test clock and on a real engine. The images are the catalog's names
(clusters/runtime/catalog.py); each runtime makes them behave alike.
"""

from __future__ import annotations

import ipaddress
import uuid

from clusters.runtime.base import ContainerObservation, PodRef, VolumeSpec

WEB = {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}]}
SETTLE = 30  # seconds a state change may take on a real engine


def shell(name: str, script: str) -> dict:
    return {"name": name, "image": "busybox:1.36", "command": ["sh", "-c", script]}


def start(runtime, pod: PodRef, container: dict, *, restart: int = 0) -> ContainerObservation:
    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[])
    assert runtime.image_pull(container["image"], policy="IfNotPresent").ok
    return runtime.container_start(pod, container, restart=restart, env={}, volumes=[])


def runs(runtime, pod: PodRef, name: str | None = None) -> list[ContainerObservation]:
    return [o for o in runtime.observe(node=runtime.node) if o.pod_uid == pod.uid and name in (None, o.name)]


def run(runtime, pod: PodRef, name: str, restart: int = 0) -> ContainerObservation | None:
    return next((o for o in runs(runtime, pod, name) if o.restart == restart), None)


def reaches(runtime, pod: PodRef, name: str, state: str, restart: int = 0) -> ContainerObservation:
    return runtime.eventually(
        lambda: (found := run(runtime, pod, name, restart)) and found.state == state and found,
        within=SETTLE,
        what=f"{name} {state}",
    )


def test_a_sandbox_has_a_stable_ip(runtime):
    pod, other = runtime.pod("web"), runtime.pod("other")
    ip = runtime.pod_sandbox_ensure(pod, hostname="web", volumes=[])
    assert ipaddress.ip_address(ip).version == 4
    assert runtime.pod_sandbox_ensure(pod, hostname="web", volumes=[]) == ip
    assert runtime.pod_sandbox_ensure(other, hostname="other", volumes=[]) not in ("", ip)


def test_a_started_container_is_observed_running(runtime):
    pod = runtime.pod()
    start(runtime, pod, WEB)
    observed = reaches(runtime, pod, "web", "running")
    assert observed.restart == 0
    assert observed.container_id
    assert "nginx" in observed.image
    assert observed.image_id
    assert observed.started_at is not None
    assert (observed.finished_at, observed.exit_code) == (None, None)


def test_a_container_that_exits_reports_its_exit_code_and_reason(runtime):
    pod = runtime.pod()
    start(runtime, pod, shell("failing", "exit 3"))
    start(runtime, pod, shell("done", "true"))
    failing = reaches(runtime, pod, "failing", "exited")
    assert (failing.exit_code, failing.reason) == (3, "Error")
    assert failing.finished_at >= failing.started_at
    done = reaches(runtime, pod, "done", "exited")
    assert (done.exit_code, done.reason) == (0, "Completed")


def test_a_stopped_container_exits_within_its_grace_period(runtime):
    pod = runtime.pod()
    start(runtime, pod, WEB)
    start(runtime, pod, shell("sleeper", "sleep 3600"))
    reaches(runtime, pod, "web", "running")
    reaches(runtime, pod, "sleeper", "running")
    runtime.container_stop(pod, "web", grace_seconds=10)
    runtime.container_stop(pod, "sleeper", grace_seconds=2)
    runtime.container_stop(pod, "sleeper", grace_seconds=2)  # idempotent
    web = runtime.eventually(lambda: run(runtime, pod, "web").state == "exited", within=10 + SETTLE)
    assert web
    sleeper = reaches(runtime, pod, "sleeper", "exited")
    assert sleeper.exit_code in (0, 137, 143)  # its own exit on SIGTERM, or SIGKILL after the grace period
    runtime.container_stop(pod, "sleeper", grace_seconds=2)  # stopping a stopped container is fine


def test_a_killed_container_exits_137_at_once_and_its_pod_mates_run_on(runtime):
    pod = runtime.pod()
    start(runtime, pod, WEB)
    start(runtime, pod, shell("sleeper", "sleep 3600"))
    started = reaches(runtime, pod, "web", "running")
    reaches(runtime, pod, "sleeper", "running")
    runtime.container_kill(pod, "web")
    killed = run(runtime, pod, "web")  # exited when the call returns: no grace period, no waiting
    assert (killed.state, killed.exit_code, killed.reason) == ("exited", 137, "Error")
    assert killed.container_id == started.container_id
    assert killed.started_at <= killed.finished_at
    assert run(runtime, pod, "sleeper").state == "running"
    runtime.container_kill(pod, "web")  # idempotent: nothing runs to kill
    runtime.container_kill(pod, "nobody")
    assert run(runtime, pod, "web").exit_code == 137
    start(runtime, pod, WEB, restart=1)  # the kubelet's restart: the killed run stays observable
    reaches(runtime, pod, "web", "running", restart=1)
    assert run(runtime, pod, "web", 0).exit_code == 137


def test_starting_the_same_run_twice_is_idempotent(runtime):
    pod = runtime.pod()
    first = start(runtime, pod, WEB)
    second = start(runtime, pod, WEB)
    assert second.container_id == first.container_id
    assert [o.restart for o in runs(runtime, pod, "web")] == [0]


def test_a_restarted_container_keeps_its_previous_run_observable(runtime):
    pod = runtime.pod()
    start(runtime, pod, shell("crash", "echo bye; exit 1"))
    previous = reaches(runtime, pod, "crash", "exited")
    start(runtime, pod, shell("crash", "echo bye; exit 1"), restart=1)
    reaches(runtime, pod, "crash", "exited", restart=1)
    assert sorted(o.restart for o in runs(runtime, pod, "crash")) == [0, 1]
    assert run(runtime, pod, "crash", 0).container_id == previous.container_id
    assert run(runtime, pod, "crash", 1).container_id != previous.container_id


def test_logs_come_back_in_order(runtime):
    pod = runtime.pod()
    start(runtime, pod, shell("talker", "echo one; echo two; echo three"))
    reaches(runtime, pod, "talker", "exited")
    lines = runtime.logs(pod, "talker", restart=0, since=None)
    assert [text for _, text in lines] == ["one", "two", "three"]
    assert [at for at, _ in lines] == sorted(at for at, _ in lines)
    assert runtime.logs(pod, "talker", restart=0, since=lines[-1][0])[-1][1] == "three"


def test_an_unknown_image_fails_to_pull_with_err_image_pull(runtime):
    failed = runtime.image_pull("nginxx:1.27", policy="IfNotPresent")
    assert (failed.ok, failed.reason) == (False, "ErrImagePull")
    assert "pull access denied for nginxx, repository does not exist" in failed.message
    assert runtime.image_pull("nginx:1.27", policy="IfNotPresent").ok


def test_probes_succeed_on_a_web_servers_port_and_fail_elsewhere(runtime):
    pod = runtime.pod()
    start(runtime, pod, WEB)
    start(runtime, pod, shell("sidecar", "sleep 3600"))
    reaches(runtime, pod, "web", "running")
    reaches(runtime, pod, "sidecar", "running")
    http = {"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"}, "timeoutSeconds": 1}
    assert runtime.eventually(lambda: runtime.probe(pod, "web", http).success, within=SETTLE)
    assert runtime.probe(pod, "web", {"httpGet": {"path": "/", "port": "http", "scheme": "HTTP"}}).success
    assert runtime.probe(pod, "web", {"tcpSocket": {"port": 80}}).success
    assert runtime.probe(pod, "sidecar", http).success  # one network namespace for the whole pod
    refused = runtime.probe(pod, "web", {"tcpSocket": {"port": 81}, "timeoutSeconds": 1})
    assert not refused.success
    assert refused.message
    assert not runtime.probe(pod, "web", {"httpGet": {"path": "/", "port": 81, "scheme": "HTTP"}}).success
    assert runtime.probe(pod, "sidecar", {"exec": {"command": ["true"]}}).success
    assert not runtime.probe(pod, "sidecar", {"exec": {"command": ["false"]}}).success


def test_removing_a_pod_leaves_nothing_of_it_observed(runtime):
    pod, other = runtime.pod("web"), runtime.pod("other")
    start(runtime, pod, WEB)
    start(runtime, pod, shell("sleeper", "sleep 3600"))
    start(runtime, other, WEB)
    reaches(runtime, pod, "web", "running")
    runtime.pod_remove(pod)
    runtime.pod_remove(pod)  # idempotent
    assert runs(runtime, pod) == []
    assert [o.name for o in runs(runtime, other)] == ["web"]


def test_removing_orphans_removes_only_unknown_pods(runtime):
    kept, orphan = runtime.pod("kept"), runtime.pod("orphan")
    start(runtime, kept, WEB)
    start(runtime, orphan, WEB)
    removed = runtime.orphans_remove(node=runtime.node, known_pod_uids={kept.uid})
    assert removed == [orphan.uid]
    assert runs(runtime, orphan) == []
    assert [o.name for o in runs(runtime, kept)] == ["web"]
    assert runtime.orphans_remove(node=runtime.node, known_pod_uids={kept.uid}) == []


def test_containers_of_a_pod_share_an_empty_dir(runtime):
    pod, shared = runtime.pod("share"), [VolumeSpec("shared", "emptyDir")]
    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=shared)
    assert runtime.image_pull("busybox:1.36", policy="IfNotPresent").ok
    writer = shell("writer", "echo hello > /data/message; sleep 3600")
    reader = shell("reader", "until [ -s /in/message ]; do sleep 1; done; cat /in/message")
    for container, path in ((writer, "/data"), (reader, "/in")):
        container["volumeMounts"] = [{"name": "shared", "mountPath": path}]
        runtime.container_start(pod, container, restart=0, env={}, volumes=shared)
    reaches(runtime, pod, "reader", "exited")
    assert [line for _, line in runtime.logs(pod, "reader", restart=0, since=None)] == ["hello"]


def test_a_persistent_volume_keeps_its_files_after_its_pod_is_gone(runtime):
    claim = [VolumeSpec("data", "persistent", key=uuid.uuid4().hex)]
    assert runtime.image_pull("busybox:1.36", policy="IfNotPresent").ok
    first, second = runtime.pod("first"), runtime.pod("second")
    mounts = [{"name": "data", "mountPath": "/data"}]
    runtime.pod_sandbox_ensure(first, hostname=first.name, volumes=claim)
    writer = {**shell("main", "echo kept > /data/note"), "volumeMounts": mounts}
    runtime.container_start(first, writer, restart=0, env={}, volumes=claim)
    assert reaches(runtime, first, "main", "exited").exit_code == 0
    runtime.pod_remove(first)

    runtime.pod_sandbox_ensure(second, hostname=second.name, volumes=claim)
    reader = {**shell("main", "cat /data/note"), "volumeMounts": mounts}
    runtime.container_start(second, reader, restart=0, env={}, volumes=claim)
    assert reaches(runtime, second, "main", "exited").exit_code == 0
    assert [line for _, line in runtime.logs(second, "main", restart=0, since=None)] == ["kept"]


def test_a_pod_whose_containers_are_removed_keeps_its_empty_dir_for_its_next_sandbox(runtime):
    pod, kept = runtime.pod("rebooted"), [VolumeSpec("cache", "emptyDir")]
    mounts = [{"name": "cache", "mountPath": "/cache"}]
    assert runtime.image_pull("busybox:1.36", policy="IfNotPresent").ok
    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=kept)
    assert pod.uid in runtime.pod_sandboxes(node=runtime.node)
    counter = {**shell("main", "echo run >> /cache/runs; cat /cache/runs"), "volumeMounts": mounts}
    runtime.container_start(pod, counter, restart=0, env={}, volumes=kept)
    assert reaches(runtime, pod, "main", "exited").exit_code == 0

    runtime.pod_containers_remove(pod)  # what a node's reboot leaves: nothing runs, the volume stays
    assert runs(runtime, pod) == []
    assert pod.uid not in runtime.pod_sandboxes(node=runtime.node)
    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=kept)
    runtime.container_start(pod, counter, restart=1, env={}, volumes=kept)
    assert reaches(runtime, pod, "main", "exited", restart=1).exit_code == 0
    assert [line for _, line in runtime.logs(pod, "main", restart=1, since=None)] == ["run", "run"]


def test_the_sandboxes_up_are_the_nodes_pods_with_one(runtime):
    pod, other = runtime.pod("up"), runtime.pod("gone")
    start(runtime, pod, WEB)
    start(runtime, other, WEB)
    assert {pod.uid, other.uid} <= runtime.pod_sandboxes(node=runtime.node)
    runtime.pod_remove(other)
    assert pod.uid in runtime.pod_sandboxes(node=runtime.node)
    assert other.uid not in runtime.pod_sandboxes(node=runtime.node)
    assert runtime.pod_sandboxes(node="a-node-with-nothing") == set()
    assert runtime.node_look(node=runtime.node) == (
        runtime.observe(node=runtime.node),
        runtime.pod_sandboxes(node=runtime.node),
    )
