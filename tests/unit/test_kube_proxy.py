"""kube-proxy's decision: which Services get which endpoints, and which proxies go."""

from clusters.kube_proxy import ProxyPlan, proxy_plan, ready_endpoints


def service(name: str, namespace: str = "default") -> dict:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"ports": [{"port": 80}]}}


def endpoints(name: str, ready: list[str], not_ready: list[str] = (), namespace: str = "default") -> dict:
    subset = {
        "addresses": [{"ip": ip} for ip in ready],
        "notReadyAddresses": [{"ip": ip} for ip in not_ready],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
    }
    return {"metadata": {"name": name, "namespace": namespace}, "subsets": [subset]}


def test_only_ready_addresses_and_tcp_ports_receive_traffic():
    found = ready_endpoints(endpoints("web", ["10.0.0.2", "10.0.0.1"], ["10.0.0.3"]))
    assert found == [("10.0.0.1", 8080, "http"), ("10.0.0.2", 8080, "http")]


def test_endpoints_without_subsets_or_missing_mean_no_backends():
    assert ready_endpoints(None) == []
    assert ready_endpoints({"metadata": {"name": "web"}}) == []


def test_every_service_is_synced_with_its_own_endpoints_and_stale_proxies_go():
    plan = proxy_plan(
        [service("web"), service("web", "other"), service("db")],
        [endpoints("web", ["10.0.0.1"]), endpoints("web", ["10.0.1.1"], namespace="other")],
        existing=[("default", "web"), ("default", "gone")],
    )
    synced = {(s["metadata"]["namespace"], s["metadata"]["name"]): backends for s, backends in plan.syncs}
    assert synced == {
        ("default", "web"): [("10.0.0.1", 8080, "http")],
        ("other", "web"): [("10.0.1.1", 8080, "http")],
        ("default", "db"): [],
    }
    assert plan.removals == [("default", "gone")]


def test_the_api_servers_own_service_gets_no_proxy():
    plan = proxy_plan([service("kubernetes")], [endpoints("kubernetes", ["10.0.0.1"])], existing=[])
    assert plan == ProxyPlan()
