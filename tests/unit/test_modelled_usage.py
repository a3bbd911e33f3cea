"""What a simulated container uses: the model's figures, and the simulated runtime reporting them."""

from datetime import timedelta

import pytest

from clusters.runtime import modelled_usage
from clusters.runtime.base import PodRef
from clusters.runtime.simulated import ManualClock, SimulatedRuntime

MI = 2**20


def shell(script: str, **resources) -> dict:
    container = {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}
    if resources:
        container["resources"] = {"limits": resources}
    return container


@pytest.mark.parametrize(
    "script",
    [
        "while true; do :; done",
        "while true; do echo tick; done",
        "yes > /dev/null",
        "md5sum /dev/zero",
        "dd if=/dev/zero of=/dev/null",
    ],
)
def test_a_busy_loop_spins_a_whole_core(script):
    assert modelled_usage.usage(shell(script)) == (1000.0, MI)


@pytest.mark.parametrize("script", ["sleep 3600", "echo started; sleep infinity", "tail -f /dev/null"])
def test_a_process_that_only_waits_uses_no_cpu(script):
    assert modelled_usage.usage(shell(script)) == (0.0, MI)


def test_a_loop_that_sleeps_wakes_now_and_then():
    assert modelled_usage.usage(shell("while true; do date; sleep 5; done")) == (1.0, MI)


def test_a_loop_that_fetches_without_sleeping_waits_on_the_network_half_the_time():
    millicores, _ = modelled_usage.usage(shell("while true; do wget -q -O- http://web; done"))
    assert millicores == 500.0


def test_a_dd_with_a_count_ends_and_does_not_spin():
    assert modelled_usage.usage(shell("dd if=/dev/zero of=/tmp/x bs=1M count=5; sleep 3600"))[0] == 0.0


def test_a_cpu_limit_throttles_a_busy_loop():
    assert modelled_usage.usage(shell("while true; do :; done", cpu="250m")) == (250.0, MI)


def test_a_server_idles_at_a_few_millicores_with_its_images_working_set():
    assert modelled_usage.usage({"name": "web", "image": "nginx:1.27"}) == (2.0, 8 * MI)
    assert modelled_usage.usage({"name": "db", "image": "redis:7"}) == (5.0, 4 * MI)
    assert modelled_usage.usage({"name": "pause", "image": "registry.k8s.io/pause:3.10"}) == (0.0, MI)


def test_stress_spins_its_workers_and_holds_what_they_allocate():
    container = {
        "name": "stress",
        "image": "polinux/stress",
        "command": ["stress"],
        "args": ["--cpu", "1", "--vm", "2", "--vm-bytes", "64M"],
    }
    assert modelled_usage.usage(container) == (3000.0, MI + 128 * MI)
    container["resources"] = {"limits": {"cpu": "1", "memory": "100Mi"}}
    assert modelled_usage.usage(container) == (1000.0, 100 * MI)


def test_vish_stress_spins_the_cpus_it_is_told_within_its_limit():
    # The CPU lesson of the Kubernetes docs: two threads asked for, one CPU allowed.
    container = {"name": "cpu", "image": "vish/stress", "args": ["-cpus", "2"]}
    assert modelled_usage.usage(container)[0] == 2000.0
    container["resources"] = {"limits": {"cpu": "1"}}
    assert modelled_usage.usage(container)[0] == 1000.0


def test_cpu_time_is_the_rate_times_the_time_running():
    clock = ManualClock()
    started = clock.now
    sample = modelled_usage.container_usage(
        "uid",
        shell("while true; do :; done", cpu="500m"),
        restart=2,
        started_at=started,
        now=started + timedelta(seconds=20),
    )
    assert (sample.cpu_nanoseconds, sample.memory_bytes, sample.restart) == (10 * 10**9, MI, 2)


def test_the_simulated_runtime_reports_its_running_containers_only():
    clock = ManualClock()
    runtime = SimulatedRuntime(clock, node="node-1")
    busy, done = shell("while true; do :; done"), {**shell("exit 0"), "name": "done"}
    pod = PodRef("sandbox", "default", "busy", "uid-1", "node-1")
    spec = {"metadata": {"uid": "uid-1"}, "spec": {"containers": [busy, done]}}
    runtime.pod_sandbox_ensure(pod, hostname="busy", volumes=[])
    for container in (busy, done):
        runtime.image_pull(container["image"], policy="IfNotPresent")
        runtime.container_start(pod, container, restart=0, env={}, volumes=[])
    clock.advance(4)
    [measured] = runtime.usage(node="node-1", pods=[spec])
    assert (measured.pod_uid, measured.name, measured.at) == ("uid-1", "main", clock.now)
    assert measured.cpu_nanoseconds == 4 * 10**9
    assert runtime.usage(node="node-1", pods=[]) == []  # a run of a pod it was not given is left out
    assert runtime.usage(node="node-2", pods=[spec]) == []
