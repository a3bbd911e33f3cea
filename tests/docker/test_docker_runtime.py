"""DockerRuntime against the real engine: pods, volumes, exits, stops, labels, adoption, orphans,
logs, events, probes and images. Every test works in a sandbox of its own and removes everything
made for it by label, even when it fails."""

from __future__ import annotations

import ipaddress
import itertools
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from clusters.runtime import docker as docker_runtime
from clusters.runtime import images
from clusters.runtime.base import PodRef, RuntimeError_, VolumeSpec
from clusters.runtime.docker import (
    OOM_SETTLE_SECONDS,
    SUBNET_POOL,
    APIError,
    DockerRuntime,
    _split_for_pull,
    container_name,
    memory_limit_bytes,
    nano_cpus,
    pause_container_name,
)
from clusters.runtime.kernel_log import KernelOomLog, kernel_oom_log
from tests import services
from tests.docker.hardening import assert_hardened

pytestmark = pytest.mark.docker

NODE = "node-1"


@pytest.fixture
def runtime():
    services.docker_engine()
    made = DockerRuntime(sandbox=f"test{uuid.uuid4().hex[:12]}", node=NODE)
    yield made
    try:
        assert_hardened(made.sandbox)
    finally:
        made.sandbox_remove()


def new_pod(runtime: DockerRuntime, name: str = "pod", namespace: str = "default") -> PodRef:
    return PodRef(runtime.sandbox, namespace, name, uuid.uuid4().hex)


def started(runtime: DockerRuntime, pod: PodRef, *containers: dict, volumes=(), restart: int = 0):
    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=list(volumes))
    return [
        runtime.container_start(pod, container, restart=restart, env={}, volumes=list(volumes))
        for container in containers
    ]


def wait_until(condition, timeout: float = 10.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not true within {timeout} s")


def observed(runtime: DockerRuntime, pod: PodRef, name: str, restart: int = 0):
    for seen in runtime.observe(node=NODE):
        if (seen.pod_uid, seen.name, seen.restart) == (pod.uid, name, restart):
            return seen
    return None


def exited(runtime: DockerRuntime, pod: PodRef, name: str, restart: int = 0, timeout: float = 15.0):
    return wait_until(
        lambda: (seen := observed(runtime, pod, name, restart)) and seen.state == "exited" and seen, timeout
    )


def busybox(name: str, script: str, **extra) -> dict:
    return {"name": name, "image": "busybox", "command": ["sh", "-c", script], **extra}


def lines(runtime: DockerRuntime, pod: PodRef, name: str, restart: int = 0) -> list[str]:
    return [line for _, line in runtime.logs(pod, name, restart=restart, since=None)]


# ---- pods and volumes ----


def test_two_containers_of_a_pod_share_an_emptydir(runtime):
    pod = new_pod(runtime)
    shared = [VolumeSpec("shared", "emptyDir")]
    mount = [{"name": "shared", "mountPath": "/shared"}]

    started(
        runtime,
        pod,
        busybox("writer", "echo hello from the writer > /shared/note; sleep 3600", volumeMounts=mount),
        busybox("reader", "while [ ! -f /shared/note ]; do sleep 0.1; done; cat /shared/note", volumeMounts=mount),
        volumes=shared,
    )

    assert exited(runtime, pod, "reader").reason == "Completed"
    assert lines(runtime, pod, "reader") == ["hello from the writer"]


def test_an_emptydir_is_empty_writable_by_anyone_and_removed_with_the_pod(runtime):
    pod = new_pod(runtime)
    volume = [VolumeSpec("cache", "emptyDir")]
    script = "ls -A /usr/share/nginx/html | wc -l; stat -c %a /usr/share/nginx/html; touch /usr/share/nginx/html/x"
    mount = [{"name": "cache", "mountPath": "/usr/share/nginx/html"}]

    # An image with files at the mount point: an emptyDir still starts empty (no copy-up).
    started(runtime, pod, {**busybox("c", script, volumeMounts=mount), "image": "nginx"}, volumes=volume)

    seen = exited(runtime, pod, "c")
    assert (seen.reason, lines(runtime, pod, "c")) == ("Completed", ["0", "777"])
    assert runtime.api.volumes(filters={"label": [f"io.kubernetes.pod.uid={pod.uid}"]})["Volumes"]
    runtime.pod_remove(pod)
    assert not runtime.api.volumes(filters={"label": [f"io.kubernetes.pod.uid={pod.uid}"]})["Volumes"]


def test_a_persistent_volume_outlives_its_pod(runtime):
    claim = VolumeSpec("data", "persistent", key=uuid.uuid4().hex)
    mount = [{"name": "data", "mountPath": "/data"}]
    first = new_pod(runtime, "db-0")
    started(runtime, first, busybox("db", "echo kept > /data/file", volumeMounts=mount), volumes=[claim])
    exited(runtime, first, "db")
    runtime.pod_remove(first)

    again = new_pod(runtime, "db-0")
    started(runtime, again, busybox("db", "cat /data/file", volumeMounts=mount), volumes=[claim])

    assert exited(runtime, again, "db").reason == "Completed"
    assert lines(runtime, again, "db") == ["kept"]
    with pytest.raises(RuntimeError_, match="volume is in use"):
        runtime.persistent_volume_remove(claim.key)
    runtime.pod_remove(again)
    assert runtime.persistent_volume_remove(claim.key) is True
    assert runtime.persistent_volume_remove(claim.key) is False


def test_configmap_files_are_mounted_read_only_and_follow_updates(runtime):
    pod = new_pod(runtime)
    config = VolumeSpec("config", "files", files={"app.conf": "mode=one\n", "nested/key": "v"})
    mounts = [
        {"name": "config", "mountPath": "/etc/app"},
        {"name": "config", "mountPath": "/etc/single.conf", "subPath": "app.conf"},
        # The image has no /tmp/made: it is made, and /tmp keeps its mode.
        {"name": "config", "mountPath": "/tmp/made/here.conf", "subPath": "app.conf"},
    ]
    script = (
        "cat /etc/app/app.conf /etc/app/nested/key /etc/single.conf /tmp/made/here.conf; stat -c %a /tmp; "
        "(: > /etc/app/new) 2>/dev/null || echo refused"
    )
    started(runtime, pod, busybox("c", script, volumeMounts=mounts), volumes=[config])
    exited(runtime, pod, "c")
    assert lines(runtime, pod, "c") == ["mode=one", "vmode=one", "mode=one", "1777", "refused"]

    updated = VolumeSpec("config", "files", files={"app.conf": "mode=two\n", "nested/key": "v"})
    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[updated])
    runtime.container_start(pod, busybox("c", "cat /etc/app/app.conf"), restart=1, env={}, volumes=[updated])
    runtime.container_start(
        pod, busybox("d", "cat /etc/app/app.conf", volumeMounts=mounts[:1]), restart=0, env={}, volumes=[updated]
    )
    exited(runtime, pod, "d")
    assert lines(runtime, pod, "d") == ["mode=two"]


def test_a_container_gets_its_environment_command_and_args(runtime):
    pod = new_pod(runtime, "envy")
    runtime.pod_sandbox_ensure(pod, hostname="envy", volumes=[])
    container = {"name": "c", "image": "busybox", "command": ["sh", "-c"], "args": ['echo "$GREETING $(hostname)"']}

    runtime.container_start(pod, container, restart=0, env={"GREETING": "hi"}, volumes=[])

    exited(runtime, pod, "c")
    assert lines(runtime, pod, "c") == ["hi envy"]


# ---- exits, stops and start errors ----


@pytest.mark.parametrize(
    ("script", "code", "reason"),
    [("exit 0", 0, "Completed"), ("exit 1", 1, "Error"), ("sleep 60 & kill -KILL $!; wait $!", 137, "Error")],
)
def test_exit_codes_and_reasons(runtime, script, code, reason):
    pod = new_pod(runtime)

    started(runtime, pod, busybox("c", script))

    seen = exited(runtime, pod, "c")
    assert (seen.state, seen.exit_code, seen.reason) == ("exited", code, reason)
    assert seen.finished_at >= seen.started_at


def test_a_container_over_its_memory_limit_is_oomkilled(runtime):
    pod = new_pod(runtime)
    hog = busybox("hog", "tail /dev/zero", resources={"limits": {"memory": "8Mi"}})

    started(runtime, pod, hog)

    exited(runtime, pod, "hog", timeout=30)
    # The engine may record the exit a moment before the OOM event that explains it (seconds, on a
    # loaded machine): the runtime looks again until OOM_SETTLE_SECONDS have passed.
    seen = wait_until(
        lambda: (seen := observed(runtime, pod, "hog")).reason == "OOMKilled" and seen, timeout=OOM_SETTLE_SECONDS
    )
    assert seen.exit_code == 137
    assert kernel_oom_log.killed(seen.container_id.removeprefix("docker://"))  # the kernel's own record


def test_an_oom_kill_the_engine_missed_is_found_in_the_kernels_log_and_the_engines_events(runtime):
    """containerd drops the OOM kill of a container that ended at once when it looks too late, and
    Docker says OOMKilled false (kernel_log.py): the runtime looks at the kernel's log and the
    engine's oom events. The engine's miss is made here by clearing its flag on a real inspect."""
    pod = new_pod(runtime)
    hog = busybox("hog", "tail /dev/zero", resources={"limits": {"memory": "8Mi"}})
    killed = busybox("killed", "sleep 60 & kill -KILL $!; wait $!")
    started(runtime, pod, hog, killed)
    for name in ("hog", "killed"):
        exited(runtime, pod, name, timeout=30)

    def as_if_missed(name: str) -> dict:
        info = runtime.api.inspect_container(container_name(pod, name, 0))
        info["State"]["OOMKilled"] = False
        return info

    hog_info = wait_until(lambda: kernel_oom_log.killed((info := as_if_missed("hog"))["Id"]) and info)
    assert runtime._observation(hog_info).reason == "OOMKilled"
    # A SIGKILL the OOM killer did not send stays an Error: neither source names that container.
    assert runtime._observation(as_if_missed("killed")).reason == "Error"


def test_the_engines_oom_events_alone_are_enough(runtime, monkeypatch):
    """Where the kernel's log cannot be read (another host's engine, not root), the engine's oom
    event, which can come after its exit event, still says why the container ended. The shell
    outlives its OOM-killed child for a second, so the engine has had time to see the kill."""
    monkeypatch.setattr(docker_runtime, "kernel_oom_log", KernelOomLog(path="/nonexistent/kmsg"))
    pod = new_pod(runtime)
    script = "tail /dev/zero; code=$?; sleep 1; exit $code"
    started(runtime, pod, busybox("hog", script, resources={"limits": {"memory": "8Mi"}}))
    exited(runtime, pod, "hog", timeout=30)
    info = runtime.api.inspect_container(container_name(pod, "hog", 0))
    assert info["State"]["OOMKilled"], "the engine saw the kill"
    info["State"]["OOMKilled"] = False  # as when its oom event came after the exit

    assert runtime._observation(info).reason == "OOMKilled"


def test_a_missing_command_is_a_start_error(runtime):
    pod = new_pod(runtime)

    started(runtime, pod, {"name": "c", "image": "busybox", "command": ["no-such-command"]})

    seen = exited(runtime, pod, "c")
    assert (seen.state, seen.reason, seen.exit_code) == ("exited", "StartError", 128)
    # The runtime's own words, as `kubectl describe` shows them on a containerd node.
    assert 'exec: "no-such-command": executable file not found in $PATH' in seen.message


def test_a_failed_run_reports_its_last_lines_when_asked_to(runtime):
    pod = new_pod(runtime)
    failing = busybox("c", "echo one; echo two; exit 3", terminationMessagePolicy="FallbackToLogsOnError")

    started(runtime, pod, failing)

    seen = exited(runtime, pod, "c")
    assert (seen.exit_code, seen.message) == (3, "one\ntwo")


def test_stop_sends_sigterm_and_returns_at_once(runtime):
    """The kubelet's run goes on while a container stops (its grace period can be long)."""
    pod = new_pod(runtime)
    started(runtime, pod, busybox("c", "trap 'exit 143' TERM; sleep 3600 & wait"))

    began = time.monotonic()
    runtime.container_stop(pod, "c", grace_seconds=30)
    took = time.monotonic() - began

    assert took < 10  # far short of the 30 s grace period: the stop goes on without the kubelet
    seen = exited(runtime, pod, "c", timeout=10)
    assert seen.exit_code == 143  # its own handler ran on SIGTERM


def test_a_command_that_handles_no_signal_runs_as_pid_1_and_ignores_sigterm(runtime):
    """As on a real node: `sleep` as PID 1 ignores SIGTERM and is killed when the grace period ends."""
    pod = new_pod(runtime)
    started(runtime, pod, busybox("c", "sleep 3600"))

    began = time.monotonic()
    runtime.container_stop(pod, "c", grace_seconds=1)
    assert time.monotonic() - began < 1
    assert observed(runtime, pod, "c").state == "running"  # SIGTERM changed nothing

    seen = exited(runtime, pod, "c", timeout=5)
    assert seen.exit_code == 137
    assert 0.9 < time.monotonic() - began < 5


def test_the_teaching_web_server_stops_on_sigterm_like_nginx(runtime):
    pod = new_pod(runtime)
    started(runtime, pod, {"name": "web", "image": "nginx:1.27"})

    began = time.monotonic()
    runtime.container_stop(pod, "web", grace_seconds=30)

    assert exited(runtime, pod, "web", timeout=3).exit_code == 0
    assert time.monotonic() - began < 3


def test_restarts_are_new_runs_and_only_the_previous_one_is_kept(runtime):
    pod = new_pod(runtime)
    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[])
    for restart in range(3):
        runtime.container_start(pod, busybox("c", f"echo run {restart}"), restart=restart, env={}, volumes=[])
        exited(runtime, pod, "c", restart)

    runs = [seen.restart for seen in runtime.observe(node=NODE) if seen.pod_uid == pod.uid]

    assert runs == [1, 2]
    assert lines(runtime, pod, "c", restart=1) == ["run 1"]
    assert lines(runtime, pod, "c", restart=0) == []


# ---- names, labels, hardening ----


def test_names_and_labels_follow_the_kubelet(runtime):
    pod = new_pod(runtime, "web-1", "shop")
    container = {"name": "web", "image": "nginx:1.25"}
    ip = runtime.pod_sandbox_ensure(pod, hostname="web-1", volumes=[])
    runtime.container_start(pod, container, restart=0, env={}, volumes=[])

    pause = runtime.api.inspect_container(f"k8s_POD_web-1_shop_{pod.uid}_0")
    web = runtime.api.inspect_container(f"k8s_web_web-1_shop_{pod.uid}_0")

    assert pause_container_name(pod) == pause["Name"].lstrip("/")
    assert container_name(pod, "web", 0) == web["Name"].lstrip("/")
    labels = web["Config"]["Labels"]
    ours = {key: labels[key] for key in labels if key not in ("kube-tutor.spec-hash", "kube-tutor.recipe")}
    assert ours == {
        "io.kubernetes.pod.name": "web-1",
        "io.kubernetes.pod.namespace": "shop",
        "io.kubernetes.pod.uid": pod.uid,
        "io.kubernetes.container.name": "web",
        "io.kubernetes.docker.type": "container",
        "kube-tutor.sandbox": runtime.sandbox,
        "kube-tutor.node": NODE,
        "kube-tutor.run": "0",
        "kube-tutor.role": "container",
        "kube-tutor.image": "nginx:1.25",
        "kube-tutor.port-names": "",
        "kube-tutor.termination-message-policy": "File",
    }
    assert len(labels["kube-tutor.spec-hash"]) == 16
    assert pause["Config"]["Labels"]["io.kubernetes.container.name"] == "POD"
    assert web["HostConfig"]["NetworkMode"] == f"container:{pause['Id']}"
    assert pause["NetworkSettings"]["Networks"][f"kube-tutor-{runtime.sandbox}"]["IPAddress"] == ip
    assert pause["Config"]["Image"] == images.PAUSE


def test_containers_run_hardened_with_limits_from_the_spec(runtime):
    pod = new_pod(runtime)
    limited = {"name": "c", "image": "busybox", "command": ["sleep", "3600"]}
    limited["resources"] = {"limits": {"memory": "64Mi", "cpu": "250m"}}
    limited["volumeMounts"] = [{"name": "host", "mountPath": "/var/log/host"}]
    host_path = VolumeSpec("host", "hostPath")  # never a path of the host: a volume of the pod's own
    started(runtime, pod, limited, {"name": "d", "image": "busybox", "command": ["sleep", "3600"]}, volumes=[host_path])

    for name, memory, cpus in (("c", 64 * 2**20, 250_000_000), ("d", 256 * 2**20, 1_000_000_000)):
        host = runtime.api.inspect_container(container_name(pod, name, 0))["HostConfig"]
        assert host["Privileged"] is False
        assert host["CapDrop"] == ["ALL"]
        assert host["CapAdd"] == ["NET_BIND_SERVICE"]
        assert host["SecurityOpt"] == ["no-new-privileges"]
        assert host["Init"] is False  # the command is PID 1, as on a real node
        assert host["PidsLimit"] == 256
        assert (host["Memory"], host["NanoCpus"]) == (memory, cpus)
        assert not host.get("Binds")
        assert all(mount["Type"] == "volume" for mount in host.get("Mounts") or [])
    mounts = runtime.api.inspect_container(container_name(pod, "c", 0))["Mounts"]
    assert [(mount["Type"], mount["Name"], mount["Destination"]) for mount in mounts] == [
        ("volume", f"kube-tutor_{pod.uid}_host", "/var/log/host")
    ]


def test_a_host_port_is_published_on_loopback_only(runtime):
    pod = new_pod(runtime)
    port = 20000 + uuid.uuid4().int % 20000
    ports = [{"containerPort": 80, "hostPort": port, "protocol": "TCP"}]
    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[], ports=ports)
    runtime.container_start(pod, {"name": "web", "image": "nginx", "ports": ports}, restart=0, env={}, volumes=[])

    bindings = runtime.api.inspect_container(pause_container_name(pod))["HostConfig"]["PortBindings"]
    assert bindings == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert wait_until(lambda: runtime.probe(pod, "web", {"httpGet": {"port": 80}}).success)
    import urllib.request

    body = wait_until(lambda: _fetch_quietly(urllib.request, f"http://127.0.0.1:{port}/"))
    assert f"Hello from {pod.name}" in body


def _fetch_quietly(request_module, url: str) -> str:
    try:
        with request_module.urlopen(url, timeout=2) as response:
            return response.read().decode()
    except OSError:
        return ""


def test_quantities_become_engine_limits():
    assert memory_limit_bytes({"memory": "128Mi"}) == 128 * 2**20
    assert memory_limit_bytes({"memory": "1e9"}) == 10**9
    assert memory_limit_bytes({"memory": "0.5Gi"}) == 2**29
    assert memory_limit_bytes({"memory": "1"}) == 6 * 2**20  # the engine's minimum
    assert memory_limit_bytes({}) == 256 * 2**20
    assert nano_cpus({"cpu": "250m"}) == 250_000_000
    assert nano_cpus({"cpu": 2}) == 2_000_000_000
    with pytest.raises(ValueError, match="quantities must match"):
        memory_limit_bytes({"memory": "lots"})


def test_no_limit_passes_the_nodes_allocatable():
    node = {"cpu": "2", "memory": "4Gi"}
    assert memory_limit_bytes({"memory": "64Gi"}, node) == 4 * 2**30
    assert nano_cpus({"cpu": "64"}, node) == 2_000_000_000
    assert memory_limit_bytes({}, {"memory": "128Mi"}) == 128 * 2**20  # the default too
    assert memory_limit_bytes({"memory": "1Gi"}, node) == 2**30
    assert nano_cpus({"cpu": "500m"}, node) == 500_000_000


def test_a_sandbox_network_gets_a_subnet_of_its_own_when_the_engine_runs_out(runtime, monkeypatch):
    create = runtime.api.create_network

    def exhausted(name, **options):
        if "ipam" not in options:
            raise APIError("could not find an available, non-overlapping IPv4 address pool among the defaults")
        return create(name, **options)

    monkeypatch.setattr(runtime.api, "create_network", exhausted)

    address = runtime.pod_sandbox_ensure(new_pod(runtime), hostname="pod", volumes=[])

    assert ipaddress.ip_address(address) in ipaddress.ip_network(SUBNET_POOL)


def test_a_new_sandbox_claims_its_subnet_in_the_engine_and_passes_over_one_taken_meanwhile(runtime, monkeypatch):
    """Two creations that saw the same subnet free (two databases sharing one engine): the engine
    refuses the second's overlapping pool, and the claim moves on to the next subnet. (Tests on
    other workers share the engine and claim subnets meanwhile: the free ones are listed after
    the first claim, a few of them.)"""
    claimed = docker_runtime.sandbox_network_claim(runtime.sandbox, set(), runtime.client)
    assert claimed is not None
    later = list(itertools.islice(docker_runtime.free_subnets(runtime.client), 3))
    assert claimed not in later
    stale = [claimed, *later]  # as listed before the first claim made its network
    monkeypatch.setattr(docker_runtime, "free_subnets", lambda client=None: iter(stale))
    other = DockerRuntime(sandbox=f"test{uuid.uuid4().hex[:12]}", node=NODE)
    try:
        moved_on = docker_runtime.sandbox_network_claim(other.sandbox, set(), runtime.client)
        assert moved_on in later  # the engine refused `claimed`'s overlapping pool
        [made] = runtime.api.networks(names=[docker_runtime.sandbox_network_name(other.sandbox)])
        assert made["IPAM"]["Config"][0]["Subnet"] == moved_on
        # Every listed subnet given to a sandbox already, the one left taken in the engine: none.
        assert docker_runtime.sandbox_network_claim(f"test{uuid.uuid4().hex[:12]}", set(later), runtime.client) is None
    finally:
        other.sandbox_remove()


def test_a_host_hands_out_pod_addresses_from_its_own_share_and_remakes_an_unused_network_for_it(runtime):
    """Nodes on two hosts (clusters.node_hosts): the network made where the sandbox was created
    hands out the whole pod range; the host's kubelet makes it again with its share while it is
    empty, and pods take addresses from that share. A network in use is kept as it is."""
    # Claimed on the last free subnet (the others passed as taken): tests on the other worker share
    # the engine and claim the first ones. One of them taking this subnet between the remake's
    # removal and its creation holds the gateway's address ("failed to allocate gateway": it failed
    # so in CI).
    *others, last = docker_runtime.free_subnets(runtime.client)
    subnet = docker_runtime.sandbox_network_claim(runtime.sandbox, set(others), runtime.client)
    assert subnet == last
    name = docker_runtime.sandbox_network_name(runtime.sandbox)
    share = str(list(ipaddress.ip_network(subnet).subnets(new_prefix=26))[1])  # the second node's
    on_host = DockerRuntime(sandbox=runtime.sandbox, node=NODE, network=subnet, pod_ip_range=share)

    address = on_host.pod_sandbox_ensure(new_pod(on_host), hostname="pod", volumes=[])

    assert ipaddress.ip_address(address) in ipaddress.ip_network(share)
    [network] = runtime.api.networks(names=[name])
    assert network["IPAM"]["Config"][0]["IPRange"] == share
    elsewhere = DockerRuntime(sandbox=runtime.sandbox, node=NODE, network=subnet, pod_ip_range=None)
    elsewhere._network_ensure(name, internal=True)
    assert [n["Id"] for n in runtime.api.networks(names=[name])] == [network["Id"]]


# ---- adoption, orphans and what is not ours ----


def test_a_new_runtime_object_adopts_what_an_earlier_one_made(runtime):
    pod = new_pod(runtime)
    [first] = started(runtime, pod, busybox("c", "sleep 3600"))

    again = DockerRuntime(sandbox=runtime.sandbox, node=NODE)

    assert [seen.container_id for seen in again.observe(node=NODE)] == [first.container_id]
    same = again.container_start(pod, busybox("c", "sleep 3600"), restart=0, env={}, volumes=[])
    assert same.container_id == first.container_id
    assert again.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[]) == runtime.pod_ip(pod)
    assert again.observe(node="another-node") == []


def test_the_node_of_a_pod_ref_labels_what_is_made_for_it(runtime):
    pod = PodRef(runtime.sandbox, "default", "elsewhere", uuid.uuid4().hex, "node-7")

    started(runtime, pod, busybox("c", "sleep 3600"))

    assert [seen.pod_uid for seen in runtime.observe(node="node-7")] == [pod.uid]
    assert runtime.observe(node=NODE) == []
    assert runtime.orphans_remove(node="node-7", known_pod_uids=set()) == [pod.uid]


def test_orphans_remove_removes_only_unknown_pods_of_its_node(runtime):
    kept, orphan = new_pod(runtime, "kept"), new_pod(runtime, "orphan")
    started(runtime, kept, busybox("c", "sleep 3600"))
    started(runtime, orphan, busybox("c", "sleep 3600"), volumes=[VolumeSpec("tmp", "emptyDir")])
    elsewhere = DockerRuntime(sandbox=runtime.sandbox, node="node-2")
    far = new_pod(elsewhere, "far")
    started(elsewhere, far, busybox("c", "sleep 3600"))

    removed = runtime.orphans_remove(node=NODE, known_pod_uids={kept.uid})

    assert removed == [orphan.uid]
    assert {seen.pod_uid for seen in runtime.observe(node=NODE)} == {kept.uid}
    assert runtime.api.containers(all=True, filters={"label": [f"io.kubernetes.pod.uid={orphan.uid}"]}) == []
    assert runtime.api.volumes(filters={"label": [f"io.kubernetes.pod.uid={orphan.uid}"]})["Volumes"] in ([], None)
    assert [seen.pod_uid for seen in elsewhere.observe(node="node-2")] == [far.uid]
    assert runtime.orphans_remove(node=NODE, known_pod_uids={kept.uid}) == []


def test_nothing_it_did_not_make_is_touched(runtime):
    unrelated = runtime.client.containers.run(
        images.BUSYBOX, ["sleep", "3600"], name=f"unrelated-{uuid.uuid4().hex[:8]}", detach=True, init=True
    )
    neighbour = DockerRuntime(sandbox=f"test{uuid.uuid4().hex[:12]}", node=NODE)
    try:
        neighbours_pod = new_pod(neighbour, "neighbour")
        started(neighbour, neighbours_pod, busybox("c", "sleep 3600"))
        pod = new_pod(runtime)
        started(runtime, pod, busybox("c", "sleep 3600"))

        runtime.orphans_remove(node=NODE, known_pod_uids=set())
        runtime.sandbox_remove()

        unrelated.reload()
        assert unrelated.status == "running"
        assert [seen.pod_uid for seen in neighbour.observe(node=NODE)] == [neighbours_pod.uid]
        assert runtime.observe(node=NODE) == []
    finally:
        unrelated.remove(force=True)
        neighbour.sandbox_remove()


# ---- logs, events, probes, exec ----


def test_logs_are_timestamped_lines_of_one_run_filtered_by_since(runtime):
    pod = new_pod(runtime)
    started(runtime, pod, busybox("c", "echo first; sleep 0.1; echo oops >&2; sleep 1.2; echo later"))
    exited(runtime, pod, "c")

    everything = runtime.logs(pod, "c", restart=0, since=None)

    assert [line for _, line in everything] == ["first", "oops", "later"]
    assert all(when.tzinfo is not None for when, _ in everything)
    cut = everything[1][0] + timedelta(microseconds=1)
    assert [line for _, line in runtime.logs(pod, "c", restart=0, since=cut)] == ["later"]
    assert runtime.logs(pod, "c", restart=5, since=None) == []


def counted(monkeypatch, runtime: DockerRuntime, method: str) -> list:
    """The first argument (or else the keywords) of every call of one engine API method from now on."""
    calls, real = [], getattr(runtime.api, method)

    def count(*args, **kwargs):
        calls.append(args[0] if args else kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime.api, method, count)
    return calls


def test_logs_are_read_again_only_when_the_run_wrote_more(runtime, monkeypatch):
    pod = new_pod(runtime)
    started(runtime, pod, busybox("c", "echo one; while [ ! -f /tmp/go ]; do sleep 0.05; done; echo two; sleep 3600"))
    wait_until(lambda: lines(runtime, pod, "c") == ["one"])
    reads = counted(monkeypatch, runtime, "logs")

    assert lines(runtime, pod, "c") == ["one"]
    assert reads == []  # nothing new: the lines read before
    runtime.command_run(pod, "c", ["touch", "/tmp/go"])
    wait_until(lambda: lines(runtime, pod, "c") == ["one", "two"])
    assert len(reads) >= 1


def test_observe_inspects_a_container_only_when_it_is_new_or_its_state_changed(runtime, monkeypatch):
    monkeypatch.setattr(docker_runtime, "OOM_SETTLE_SECONDS", 0.5)  # shorter than the engine needs, for a short wait
    pod = new_pod(runtime)
    started(runtime, pod, busybox("c", "sleep 3600"))
    inspected = counted(monkeypatch, runtime, "inspect_container")

    assert observed(runtime, pod, "c").state == "running"
    assert DockerRuntime(sandbox=runtime.sandbox, node=NODE).observe(node=NODE)[0].state == "running"
    assert inspected == []  # container_start's own inspect was kept, by every runtime of the process
    runtime.container_stop(pod, "c", grace_seconds=0)
    assert exited(runtime, pod, "c").exit_code == 137
    assert len(inspected) >= 1
    time.sleep(docker_runtime.OOM_SETTLE_SECONDS)  # a fresh SIGKILL is looked at again, in case it was the OOM killer's
    observed(runtime, pod, "c")
    settled = len(inspected)
    observed(runtime, pod, "c")
    assert len(inspected) == settled  # an exited container never changes


def test_a_dying_container_produces_an_event_within_a_second(runtime):
    pod = new_pod(runtime)
    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[])
    received = []
    stream = runtime.events(since=datetime.now(UTC), node=NODE)

    def listen():
        for event in stream:
            received.append((time.monotonic(), event))
            if event.action == "die":
                return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        runtime.container_start(pod, busybox("c", "sleep 0.5; exit 3"), restart=0, env={}, volumes=[])
        seen = exited(runtime, pod, "c")
        noticed_at = time.monotonic()
        listener.join(timeout=5)
    finally:
        stream.close()

    dies = [(at, event) for at, event in received if event.action == "die"]
    assert dies, received
    at, die = dies[0]
    assert (die.pod_uid, die.container, die.restart, die.exit_code) == (pod.uid, "c", 0, 3)
    assert at <= noticed_at
    assert abs((die.time - seen.finished_at).total_seconds()) < 1
    assert [event.action for _, event in received][:1] == ["start"]


def test_probes_exec_http_and_tcp(runtime):
    pod = new_pod(runtime)
    web = {"name": "web", "image": "nginx", "ports": [{"name": "http", "containerPort": 80}]}
    started(runtime, pod, web)
    wait_until(lambda: runtime.probe(pod, "web", {"tcpSocket": {"port": 80}}).success)

    for from_host in (True, False):
        runtime.probe_from_host = from_host
        assert runtime.probe(pod, "web", {"httpGet": {"path": "/", "port": "http"}}).success
        assert not runtime.probe(pod, "web", {"httpGet": {"path": "/missing", "port": 80}}).success
        assert runtime.probe(pod, "web", {"tcpSocket": {"port": "http"}}).success
        assert not runtime.probe(pod, "web", {"tcpSocket": {"port": 81}}).success

    assert runtime.probe(pod, "web", {"exec": {"command": ["test", "-d", "/usr/share/nginx/html"]}}).success
    failed = runtime.probe(pod, "web", {"exec": {"command": ["sh", "-c", "echo broken; exit 1"]}})
    assert (failed.success, failed.message) == (False, "broken\n")
    slow = runtime.probe(pod, "web", {"exec": {"command": ["sleep", "5"]}, "timeoutSeconds": 1})
    assert not slow.success
    assert "timed out" in slow.message
    runtime.probe_from_host = True
    assert runtime.probe(pod, "web", {"httpGet": {"path": "/missing", "port": 80}}).message == (
        "HTTP probe failed with statuscode: 404"
    )
    assert not runtime.probe(pod, "nothing", {"tcpSocket": {"port": 80}}).success


def test_exec_runs_in_the_newest_running_run(runtime):
    pod = new_pod(runtime, "exec-me")
    started(runtime, pod, busybox("c", "sleep 3600"))

    assert runtime.command_run(pod, "c", ["hostname"]) == (0, "exec-me\n")
    assert runtime.command_run(pod, "c", ["sh", "-c", "exit 4"])[0] == 4


# ---- images ----


def test_well_known_images_run_as_stand_ins_and_a_typo_fails_fast(runtime):
    for image in ("nginx", "nginx:1.25-alpine", "httpd:2.4", "busybox:1.36", "alpine", "debian:12", "ubuntu"):
        assert runtime.image_pull(image, policy="Always").ok, image

    began = time.monotonic()
    typo = runtime.image_pull("nginxx:latest", policy="IfNotPresent")
    took = time.monotonic() - began

    assert (typo.ok, typo.reason) == (False, "ErrImagePull")
    assert "pull access denied for nginxx, repository does not exist" in typo.message
    assert took < 15  # no retries with back-off for a name no registry has
    assert _split_for_pull("localhost:5000/app") == ("localhost:5000/app", "latest")
    assert _split_for_pull("nginx:1.25") == ("nginx", "1.25")
    assert _split_for_pull("busybox@sha256:ab") == ("busybox", "sha256:ab")
    never = runtime.image_pull("no-such/image:1", policy="Never")
    assert (never.ok, never.reason) == (False, "ErrImageNeverPull")
    assert runtime.image_pull(images.BUSYBOX, policy="Never").ok


def test_an_image_from_a_registry_the_site_does_not_allow_is_never_pulled(runtime, monkeypatch):
    # As if a registry answered (this machine reaches none), so only the site's list can stop a pull.
    monkeypatch.setattr(docker_runtime, "_registry_checked", (time.monotonic(), True))
    asked: list[str] = []
    runtime.api = _CountingPulls(runtime.api, asked)  # the engine's own API, pulls counted
    refused = runtime.image_pull("ghcr.io/someone/miner:1", policy="Always")
    assert (refused.ok, refused.reason) == (False, "ErrImagePull")
    assert "this site pulls no images from ghcr.io (TUTOR_IMAGE_PULL_REGISTRIES)" in refused.message
    assert runtime.image_pull("nginx:1.27", policy="Always").ok  # a stand-in needs no pull
    assert asked == []
    runtime.pull_registries = ("ghcr.io",)
    assert not runtime.image_pull("ghcr.io/someone/miner:1", policy="Always").ok  # no registry here
    assert asked == ["ghcr.io/someone/miner"]


class _CountingPulls:
    """The engine's API client, with every pull noted before it is made."""

    def __init__(self, api, asked: list[str]) -> None:
        self._api, self._asked = api, asked

    def pull(self, repository, **options):
        self._asked.append(repository)
        return self._api.pull(repository, **options)

    def __getattr__(self, name):
        return getattr(self._api, name)


# ---- how fast ----


def test_a_pod_starts_in_well_under_a_second_and_close_to_a_raw_docker_run(runtime):
    """Measures a pod start (pause + one container) against `docker run -d` of the same image."""
    pods, raws = [], []
    runtime.pod_sandbox_ensure(new_pod(runtime, "warm"), hostname="warm", volumes=[])  # the network exists
    for attempt in range(5):
        pod = new_pod(runtime, f"p{attempt}")
        began = time.monotonic()
        started(runtime, pod, busybox("c", "sleep 3600"))
        pods.append(time.monotonic() - began)
        began = time.monotonic()
        raw = runtime.client.containers.run(
            images.BUSYBOX, ["sleep", "3600"], detach=True, init=True, labels={"kube-tutor.sandbox": runtime.sandbox}
        )
        raws.append(time.monotonic() - began)
        raw.remove(force=True)
    pod_start, raw_run = statistics.median(pods), statistics.median(raws)
    print(f"\npod start (pause + 1 container): median {pod_start:.3f} s; raw docker run -d: {raw_run:.3f} s")

    assert pod_start < 2.0


# ---- what a kubelet pass asks the engine ----


def test_a_pass_makes_a_new_pod_without_looking_up_what_its_look_did_not_list(runtime, monkeypatch):
    """After node_look, a new pod's pause and container are made at once: no inspect of names the
    look did not list, no list of the pod's running containers, no second look at its image or
    pause. The engine's calls are counted, and pass through."""
    started(runtime, new_pod(runtime, "first"), busybox("c", "sleep 3600"))  # the sandbox's network is made
    pod = new_pod(runtime, "second")
    runtime.node_look(node=NODE)
    inspected = counted(monkeypatch, runtime, "inspect_container")
    listed = counted(monkeypatch, runtime, "containers")
    networks = counted(monkeypatch, runtime, "networks")
    images_asked = counted(monkeypatch, runtime, "inspect_image")

    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[])
    runtime.image_pull("busybox", policy="IfNotPresent")
    seen = runtime.container_start(pod, busybox("c", "sleep 3600"), restart=0, env={}, volumes=[])

    assert seen.state == "running"
    # Only the inspects after each start, which give the pod IP and the run's state.
    assert inspected == [pause_container_name(pod), container_name(pod, "c", 0)]
    assert listed == []
    assert networks == []
    assert images_asked == ["busybox"]


def test_a_container_another_maker_made_after_the_look_is_adopted(runtime):
    pod = new_pod(runtime)
    runtime.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[])
    runtime.node_look(node=NODE)
    other = DockerRuntime(sandbox=runtime.sandbox, node=NODE)
    made = other.container_start(pod, busybox("c", "sleep 3600"), restart=0, env={}, volumes=[])

    adopted = runtime.container_start(pod, busybox("c", "sleep 3600"), restart=0, env={}, volumes=[])

    assert adopted.container_id == made.container_id


def test_a_network_removed_behind_the_process_is_made_again(runtime):
    """The process remembers the networks it made; one removed by another process (or a reset
    engine) fails one sandbox's making, then is made again."""
    first = new_pod(runtime, "first")
    started(runtime, first, busybox("c", "sleep 3600"))
    runtime._remove_container(runtime.api.inspect_container(container_name(first, "c", 0))["Id"])
    runtime._remove_container(runtime.api.inspect_container(pause_container_name(first))["Id"])
    network = docker_runtime.sandbox_network_name(runtime.sandbox)
    runtime.api.remove_network(network)

    second = new_pod(runtime, "second")
    with pytest.raises(RuntimeError_, match="not found"):
        runtime.pod_sandbox_ensure(second, hostname=second.name, volumes=[])
    address = runtime.pod_sandbox_ensure(second, hostname=second.name, volumes=[])

    assert ipaddress.ip_address(address)
    assert runtime.api.networks(names=[network])
