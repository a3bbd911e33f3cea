"""A sandbox's network joined across worker hosts (clusters.host_links): the configuration, the
VXLAN id and device each host works out, and what kube-proxy's proxies reach once hosts are linked.
The links themselves are made for real by tests/system/test_multihost.py."""

from types import SimpleNamespace

import pytest

from clusters.host_links import Endpoint, host_link, host_links_parse, vxlan_id
from clusters.kube_proxy import proxy_nodes
from clusters.kubelet import host_network_link
from clusters.node_hosts import NodeHostsError
from tests.unit.test_settings import read_setting

HOSTS = ["host-a", "host-b"]


def test_each_host_gets_its_address_and_the_standard_port_unless_it_names_one():
    assert host_links_parse("", HOSTS) == {}
    assert host_links_parse(" host-a=10.0.0.1 , host-b=10.0.0.2:4790 ", HOSTS) == {
        "host-a": Endpoint("10.0.0.1", 4789),
        "host-b": Endpoint("10.0.0.2", 4790),
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("host-a", "is not host=address[:port]"),
        ("host-a=10.0.0.1,host-c=10.0.0.3", "'host-c' runs no node; the hosts in TUTOR_NODE_HOSTS are host-a, host-b"),
        ("host-a=10.0.0.1,host-a=10.0.0.2", "host 'host-a' is given twice"),
        ("host-a=10.0.0.1", "no address for host-b; every host needs one"),
        ("host-a=db.example,host-b=10.0.0.2", "'db.example' is not an IPv4 address"),
        ("host-a=10.0.0.1:0,host-b=10.0.0.2", "the port must be a number from 1 to 65535"),
        ("host-a=10.0.0.1:x,host-b=10.0.0.2", "the port must be a number from 1 to 65535"),
        ("host-a=127.0.0.1,host-b=127.0.0.1", "two hosts on one address need different ports"),
    ],
)
def test_a_setting_that_cannot_be_right_is_refused_saying_what_is_wrong(text, says):
    with pytest.raises(NodeHostsError, match="TUTOR_HOST_LINKS") as refused:
        host_links_parse(text, HOSTS)
    assert says in str(refused.value)


def test_every_host_works_out_the_same_vxlan_id_for_a_subnet_and_each_subnet_its_own():
    assert vxlan_id("10.213.0.0/24") == 0x0AD500
    assert vxlan_id("10.213.7.0/24") == 0x0AD507
    assert len({vxlan_id(f"10.213.{i}.0/24") for i in range(256)}) == 256
    assert vxlan_id("10.213.255.0/24") < 2**24  # VXLAN ids are 24 bits


def test_a_hosts_link_sends_to_every_other_host_and_learns_only_when_all_share_its_port():
    links = host_links_parse("host-a=10.0.0.1,host-b=10.0.0.2", HOSTS)
    link = host_link("10.213.7.0/24", links, "host-a")
    assert link.vni == 0x0AD507
    assert link.device == "ktvx0ad50712b5"  # 4789 in hex; 14 characters, the kernel takes 15
    assert link.local == Endpoint("10.0.0.1")
    assert link.peers == (Endpoint("10.0.0.2"),)
    assert link.mtu == 1450
    assert link.learning
    # Two hosts on one machine (the tests): each on its own port, so neither may learn.
    same_machine = host_links_parse("host-a=127.0.0.1:4789,host-b=127.0.0.1:4790", HOSTS)
    on_b = host_link("10.213.7.0/24", same_machine, "host-b")
    assert on_b.device == "ktvx0ad50712b6"
    assert on_b.peers == (Endpoint("127.0.0.1", 4789),)
    assert not on_b.learning


def test_nothing_is_linked_without_links_a_subnet_or_a_second_host():
    links = host_links_parse("host-a=10.0.0.1,host-b=10.0.0.2", HOSTS)
    assert host_link("10.213.7.0/24", {}, "host-a") is None
    assert host_link(None, links, "host-a") is None  # a sandbox made before sandboxes had subnets
    assert host_link("10.213.7.0/24", links, "host-c") is None
    assert host_link("10.213.7.0/24", {"local": Endpoint("10.0.0.1")}, "local") is None


def test_once_hosts_are_linked_the_proxies_reach_the_pods_of_every_node(settings):
    settings.NODE_HOSTS = {"node-1": "host-a", "node-2": "host-b"}
    settings.HOST_LINKS = {}
    assert proxy_nodes() == ["node-1"]
    assert host_network_link(SimpleNamespace(network="10.213.7.0/24"), "host-a") is None
    settings.HOST_LINKS = host_links_parse("host-a=10.0.0.1,host-b=10.0.0.2", HOSTS)
    assert proxy_nodes() is None
    assert host_network_link(SimpleNamespace(network="10.213.7.0/24"), "host-b").local == Endpoint("10.0.0.2")


def test_the_setting_is_read_at_start_and_a_wrong_one_stops_start_up(tmp_path):
    env = {"DEBUG": "1", "TUTOR_NODE_HOSTS": "node-1=host-a,node-2=host-b"}
    good = read_setting("HOST_LINKS", tmp_path, **env, TUTOR_HOST_LINKS="host-a=10.0.0.1,host-b=10.0.0.2")
    assert good.returncode == 0, good.stderr
    assert "host-b" in good.stdout
    assert "10.0.0.2" in good.stdout
    bad = read_setting("HOST_LINKS", tmp_path, **env, TUTOR_HOST_LINKS="host-a=10.0.0.1")
    assert bad.returncode != 0
    assert "TUTOR_HOST_LINKS: no address for host-b" in bad.stderr
