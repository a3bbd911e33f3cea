"""The simulated runtime's model of HTTP clients: the requests a looping wget sends a Service's
pods, and the CPU a web server spends answering them (the HorizontalPodAutoscaler walkthrough)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clusters.runtime import modelled_usage
from clusters.runtime.modelled_traffic import ClientLoop, client_loop, served_rates

LOAD = "while sleep 0.01; do wget -q -O- http://php-apache; done"
PHP_APACHE = {
    "name": "php-apache",
    "image": "registry.k8s.io/hpa-example",
    "resources": {"limits": {"cpu": "500m"}, "requests": {"cpu": "200m"}},
}


def a_pod(name: str, container: dict, *, ip: str, phase: str = "Running") -> dict:
    return {
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
        "spec": {"containers": [container]},
        "status": {"phase": phase, "podIP": ip},
    }


def load_generator(*, phase: str = "Running") -> dict:
    container = {"name": "load-generator", "image": "busybox:1.28", "args": ["/bin/sh", "-c", LOAD]}
    return a_pod("load-generator", container, ip="10.244.0.9", phase=phase)


SERVICE = {"metadata": {"name": "php-apache", "namespace": "default"}, "spec": {"clusterIP": "10.96.0.50"}}


def endpoints(*pods: str) -> dict:
    addresses = [{"ip": "10.244.0.2", "targetRef": {"kind": "Pod", "uid": f"uid-{name}"}} for name in pods]
    return {"metadata": {"name": "php-apache", "namespace": "default"}, "subsets": [{"addresses": addresses}]}


def test_it_reads_the_url_and_the_pause_of_a_load_generator_loop():
    container = {"name": "c", "image": "busybox", "command": ["/bin/sh", "-c", LOAD]}
    assert client_loop(container) == ClientLoop("php-apache", 80, 0.01)


@pytest.mark.parametrize(
    "script",
    ["wget -q -O- http://php-apache", "while true; do sleep 5; done", "sleep 3600"],
)
def test_a_single_fetch_or_a_loop_without_one_is_no_client(script):
    assert client_loop({"name": "c", "image": "busybox", "command": ["sh", "-c", script]}) is None


def test_a_closed_loop_client_sends_one_request_per_round_spread_over_the_ready_pods():
    servers = [a_pod(f"php-{index}", PHP_APACHE, ip=f"10.244.1.{index}") for index in range(2)]
    rates = served_rates([load_generator(), *servers], [SERVICE], [endpoints("php-0", "php-1")])
    # A round: 10 ms of sleep, 5 ms of wget, and 60 millicore-seconds at the 500m limit: 120 ms.
    assert rates == pytest.approx({"uid-php-0": 1 / 0.135 / 2, "uid-php-1": 1 / 0.135 / 2})


def test_a_client_that_is_not_running_sends_nothing():
    server = a_pod("php-0", PHP_APACHE, ip="10.244.1.1")
    assert served_rates([load_generator(phase="Pending"), server], [SERVICE], [endpoints("php-0")]) == {}


def test_the_hpa_example_under_one_load_generator_uses_its_whole_cpu_limit_or_near():
    rate = 1 / 0.135
    millicores, _ = modelled_usage.usage(PHP_APACHE, served_rate=rate)
    assert millicores == pytest.approx(2 + rate * 60)
    assert 400 < millicores <= 500


def test_cpu_time_accrues_at_the_new_rate_from_the_last_sample():
    started = datetime(2026, 3, 1, tzinfo=UTC)
    idle = modelled_usage.container_usage(
        "uid-php", PHP_APACHE, restart=0, started_at=started, now=started + timedelta(seconds=60)
    )
    busy = modelled_usage.container_usage(
        "uid-php",
        PHP_APACHE,
        restart=0,
        started_at=started,
        now=started + timedelta(seconds=75),
        served_rate=5,
        accrued=(idle.cpu_nanoseconds, idle.at),
    )
    rate = (busy.cpu_nanoseconds - idle.cpu_nanoseconds) / 15 / 1_000_000
    assert rate == pytest.approx(2 + 5 * 60)
