"""A Docker sandbox's subnet: pods in its lower half, ClusterIPs in its upper half."""

from clusters import sandbox_network


def test_pods_take_the_lower_half_and_services_the_upper_half():
    assert str(sandbox_network.pod_range("10.213.7.0/24")) == "10.213.7.0/25"
    assert str(sandbox_network.service_range("10.213.7.0/24")) == "10.213.7.128/25"


def test_a_sandbox_without_a_subnet_keeps_the_usual_service_range():
    assert str(sandbox_network.service_range(None)) == "10.96.0.0/12"
    assert sandbox_network.api_service_ip(None) == "10.96.0.1"


def test_the_api_service_takes_the_first_service_address():
    assert sandbox_network.api_service_ip("10.213.7.0/24") == "10.213.7.129"


def test_cluster_ips_skip_the_reserved_addresses_and_those_in_use():
    assert sandbox_network.cluster_ip_choose("10.213.7.0/24", set()) == "10.213.7.139"
    assert sandbox_network.cluster_ip_choose("10.213.7.0/24", {"10.213.7.139"}) == "10.213.7.140"
    assert sandbox_network.cluster_ip_choose(None, set()) == "10.96.0.11"


def test_a_full_service_range_gives_no_address():
    used = {f"10.213.7.{n}" for n in range(128, 256)}
    assert sandbox_network.cluster_ip_choose("10.213.7.0/24", used) is None


def test_the_gateway_is_the_subnets_first_address():
    assert sandbox_network.gateway("10.200.7.0/24") == "10.200.7.1"
