"""Nodes on several worker hosts (clusters.node_hosts): the configuration, the queues a worker
consumes, where each engine hands out pod addresses, and where kube-proxy runs."""

import ipaddress
from types import SimpleNamespace

import pytest

from clusters import node_hosts, workqueue
from clusters.kube_proxy import proxy_nodes, proxy_plan, ready_endpoints
from clusters.kubelet import host_pod_ip_range
from clusters.node_hosts import NodeHostsError, node_hosts_parse, pod_ip_range, worker_queues
from clusters.runtime.docker import subnet_interfaces
from tests.unit.test_settings import read_setting
from tutor.celery import consume_host_queues

SPLIT = {"node-1": "host-a", "node-2": "host-b"}
ONE_HOST = {"node-1": "local", "node-2": "local"}


def test_with_nothing_set_every_node_is_on_one_host():
    assert node_hosts_parse("") == ONE_HOST
    assert node_hosts.hosts(node_hosts_parse("")) == ["local"]


def test_each_node_goes_to_the_host_named_for_it_and_the_rest_stay_on_the_default_host():
    assert node_hosts_parse("node-1=host-a, node-2=host-b") == SPLIT
    assert node_hosts_parse("node-2=host-b") == {"node-1": "local", "node-2": "host-b"}
    assert node_hosts.hosts(SPLIT) == ["host-a", "host-b"]
    assert node_hosts.host_nodes({"node-1": "a", "node-2": "a", "node-3": "b"}, "a") == ["node-1", "node-2"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("node-1", "is not node=host"),
        ("node-1=", "is not node=host"),
        ("node-9=host-a", "there is no node 'node-9'"),
        ("node-1=a,node-1=b", "given twice"),
        ("node-1=Host_A", "is not a host name"),
    ],
)
def test_a_wrong_mapping_is_refused_with_what_is_wrong(text, says):
    with pytest.raises(NodeHostsError, match=says):
        node_hosts_parse(text)


def test_a_wrong_mapping_stops_the_settings_from_loading(tmp_path):
    result = read_setting("NODE_HOSTS", tmp_path, DEBUG="1", TUTOR_NODE_HOSTS="node-7=somewhere")
    assert result.returncode != 0
    assert "there is no node 'node-7'" in result.stderr
    result = read_setting("WORKER_HOST", tmp_path, DEBUG="1", TUTOR_WORKER_HOST="host-b")
    assert result.stdout.strip() == "host-b"


def test_a_worker_adds_its_hosts_queue_and_its_nodes_kubelet_queues():
    assert worker_queues(ONE_HOST, "local", ["celery"]) == ["host.local", "kubelet.node-1", "kubelet.node-2"]
    assert worker_queues(SPLIT, "host-b", ["celery"]) == ["host.host-b", "kubelet.node-2"]


def test_a_worker_told_its_kubelet_queues_on_the_command_line_serves_exactly_those():
    assert worker_queues(ONE_HOST, "local", ["celery", "kubelet.node-1"]) == ["host.local"]
    assert worker_queues(ONE_HOST, "local", ["celery", "kubelet.node-1", "host.local"]) == []


def test_a_worker_that_hosts_no_node_adds_only_its_hosts_queue():
    assert worker_queues(SPLIT, "host-c", ["celery"]) == ["host.host-c"]


def test_the_worker_start_signal_adds_the_queues(settings):
    settings.NODE_HOSTS, settings.WORKER_HOST = SPLIT, "host-a"
    added = []
    queues = SimpleNamespace(consume_from={"celery": object()}, select_add=added.append)
    consume_host_queues(instance=SimpleNamespace(app=SimpleNamespace(amqp=SimpleNamespace(queues=queues))))
    assert added == ["host.host-a", "kubelet.node-1"]


def test_one_host_hands_out_the_whole_pod_range_as_before():
    assert pod_ip_range("10.213.4.0/24", ONE_HOST, "local") == "10.213.4.0/25"


def test_two_hosts_hand_out_disjoint_shares_of_the_pod_range():
    a, b = (ipaddress.ip_network(pod_ip_range("10.213.4.0/24", SPLIT, host)) for host in ("host-a", "host-b"))
    assert (str(a), str(b)) == ("10.213.4.0/26", "10.213.4.64/26")
    assert not a.overlaps(b)
    services = ipaddress.ip_network("10.213.4.128/25")
    assert not a.overlaps(services)
    assert not b.overlaps(services)


def test_shares_stay_disjoint_for_three_nodes_on_three_hosts():
    mapping = {"node-1": "a", "node-2": "b", "node-3": "c"}
    shares = [ipaddress.ip_network(pod_ip_range("10.213.4.0/24", mapping, host)) for host in "abc"]
    assert all(not x.overlaps(y) for i, x in enumerate(shares) for y in shares[i + 1 :])
    # A host of two nodes out of three hands out its first node's share.
    assert pod_ip_range("10.213.4.0/24", {"node-1": "a", "node-2": "b", "node-3": "b"}, "b") == "10.213.4.32/27"


def test_a_host_without_nodes_has_no_pod_range():
    with pytest.raises(NodeHostsError, match="runs none of the nodes"):
        pod_ip_range("10.213.4.0/24", SPLIT, "host-c")


def test_kube_proxy_runs_on_the_host_of_the_first_node(settings):
    assert node_hosts.proxy_host(SPLIT) == "host-a"
    settings.NODE_HOSTS = SPLIT
    assert workqueue.queue_for(workqueue.KUBE_PROXY) == "host.host-a"
    assert workqueue.queue_for("kubelet/node-2") == "kubelet.node-2"
    assert workqueue.queue_for(workqueue.CONTROLLERS) == "celery"


ENDPOINTS = {
    "metadata": {"namespace": "default", "name": "web"},
    "subsets": [
        {
            "addresses": [
                {"ip": "10.213.4.2", "nodeName": "node-1"},
                {"ip": "10.213.4.66", "nodeName": "node-2"},
            ],
            "ports": [{"port": 80, "name": "http"}],
        }
    ],
}
SERVICE = {"metadata": {"namespace": "default", "name": "web"}, "spec": {"ports": [{"port": 80}]}}


def test_a_proxy_sends_traffic_only_to_the_endpoints_its_engine_reaches():
    assert ready_endpoints(ENDPOINTS) == [("10.213.4.2", 80, "http"), ("10.213.4.66", 80, "http")]
    assert ready_endpoints(ENDPOINTS, ["node-1"]) == [("10.213.4.2", 80, "http")]
    plan = proxy_plan([SERVICE], [ENDPOINTS], [], nodes=["node-1"])
    assert plan.syncs == [(SERVICE, [("10.213.4.2", 80, "http")])]


def test_the_route_table_tells_which_bridges_carry_a_subnet(tmp_path):
    table = tmp_path / "route"
    header = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
    # 10.213.4.0/24 on two bridges (two engines on one machine), 10.213.5.0/24 on one.
    rows = [
        "br-aaaaaaaaaaaa\t0004D50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
        "br-bbbbbbbbbbbb\t0004D50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
        "br-cccccccccccc\t0005D50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
    ]
    table.write_text(header + "\n".join(rows) + "\n")
    assert subnet_interfaces("10.213.4.0/24", str(table)) == ["br-aaaaaaaaaaaa", "br-bbbbbbbbbbbb"]
    assert subnet_interfaces("10.213.5.0/24", str(table)) == ["br-cccccccccccc"]
    assert subnet_interfaces("10.213.6.0/24", str(table)) == []


def test_a_kubelet_and_kube_proxy_use_their_hosts_share(settings):
    sandbox = SimpleNamespace(network="10.213.4.0/24")
    settings.NODE_HOSTS = SPLIT
    assert host_pod_ip_range(sandbox, "host-b") == "10.213.4.64/26"
    assert host_pod_ip_range(sandbox, "host-c") is None  # no node there: the engine's default
    assert host_pod_ip_range(SimpleNamespace(network=None), "host-a") is None  # made before subnets
    assert proxy_nodes() == ["node-1"]
    settings.NODE_HOSTS = ONE_HOST
    assert host_pod_ip_range(sandbox, "local") == "10.213.4.0/25"
    assert proxy_nodes() is None


def test_the_web_reaches_each_hosts_pods_through_the_engine_named_for_that_host():
    known = ["host-a", "host-b"]
    assert node_hosts.host_engines_parse("", known) == {}
    assert node_hosts.host_engines_parse(" host-b=tcp://10.0.0.2:2375 ", known) == {"host-b": "tcp://10.0.0.2:2375"}
    refusals = {
        "host-b": "is not host=url",
        "host-c=tcp://10.0.0.3:2375": "'host-c' runs no node",
        "host-b=tcp://a:1,host-b=tcp://b:1": "host 'host-b' is given twice",
        "host-b=10.0.0.2:2375": "must start with unix://, tcp://, ssh://",
        "host-b=tcp://": "must start with unix://, tcp://, ssh://",
    }
    for text, says in refusals.items():
        with pytest.raises(NodeHostsError, match="TUTOR_HOST_ENGINES") as refused:
            node_hosts.host_engines_parse(text, known)
        assert says in str(refused.value), text


def test_exec_goes_to_the_engine_of_the_host_of_the_pods_node(settings, monkeypatch):
    from clusters import pod_exec
    from clusters.runtime import docker as docker_runtime

    asked: list[str] = []
    monkeypatch.setattr(
        docker_runtime, "shared_engine_client", lambda url="": asked.append(url) or SimpleNamespace(api=None)
    )
    settings.NODE_HOSTS = SPLIT
    settings.HOST_ENGINES = {"host-b": "tcp://10.0.0.2:2375"}
    ref = SimpleNamespace(sandbox="s", node="node-2")
    assert pod_exec._docker_runtime(ref).node == "node-2"
    pod_exec._docker_runtime(SimpleNamespace(sandbox="s", node="node-1"))
    assert asked == ["tcp://10.0.0.2:2375", ""]  # node-1's host has none named: the web's own DOCKER_HOST
