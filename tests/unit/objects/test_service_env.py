"""The Service variables a kubelet gives every container (upstream's envvars.FromServices and
getServiceEnvVarMap) and the `$(VAR)` expansion of env values (third_party/forked/golang/expansion)."""

import pytest

from clusters.objects.service_env import (
    env_var_name,
    expand,
    linked_services,
    mapping_for,
    pod_service_env,
    service_env_vars,
)


def service(name: str, namespace: str = "default", ip: str | None = "10.96.0.10", ports=None) -> dict:
    spec = {"ports": ports if ports is not None else [{"port": 80, "protocol": "TCP"}]}
    if ip is not None:
        spec["clusterIP"] = ip
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


KUBERNETES = service("kubernetes", ip="10.96.0.1", ports=[{"name": "https", "port": 443, "targetPort": 6443}])


def test_the_kubernetes_service_gives_the_variables_a_real_pod_has():
    # What `kubectl exec … -- env` prints in a pod of any kind of cluster (kind, minikube, GKE).
    assert service_env_vars([KUBERNETES]) == {
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443",
        "KUBERNETES_PORT": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443",
        "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
    }


def test_every_port_gets_link_variables_and_named_ports_their_own_port_variable():
    ports = [{"port": 53, "protocol": "UDP", "name": "dns"}, {"port": 53, "protocol": "TCP", "name": "dns-tcp"}]
    env = service_env_vars([service("kube-dns", ip="10.96.0.10", ports=ports)])
    assert env["KUBE_DNS_SERVICE_PORT"] == "53"
    assert env["KUBE_DNS_SERVICE_PORT_DNS"] == env["KUBE_DNS_SERVICE_PORT_DNS_TCP"] == "53"
    assert env["KUBE_DNS_PORT"] == "udp://10.96.0.10:53"  # the first port's
    assert env["KUBE_DNS_PORT_53_UDP"] == "udp://10.96.0.10:53"
    assert env["KUBE_DNS_PORT_53_TCP"] == "tcp://10.96.0.10:53"
    assert env["KUBE_DNS_PORT_53_TCP_PROTO"] == "tcp"
    assert len(env) == 13  # host, port, two named ports, the first port's link, 4 links for each of the 2 ports
    unnamed = service_env_vars([service("web", ports=[{"port": 80}, {"port": 81, "name": "admin"}])])
    assert [name for name in unnamed if name.startswith("WEB_SERVICE_PORT")] == [
        "WEB_SERVICE_PORT",
        "WEB_SERVICE_PORT_ADMIN",
    ]


def test_an_unnamed_port_with_no_protocol_is_tcp_and_an_ipv6_address_is_bracketed():
    env = service_env_vars([service("web", ip="fd00::10", ports=[{"port": 8080}])])
    assert env == {
        "WEB_SERVICE_HOST": "fd00::10",
        "WEB_SERVICE_PORT": "8080",
        "WEB_PORT": "tcp://[fd00::10]:8080",
        "WEB_PORT_8080_TCP": "tcp://[fd00::10]:8080",
        "WEB_PORT_8080_TCP_PROTO": "tcp",
        "WEB_PORT_8080_TCP_PORT": "8080",
        "WEB_PORT_8080_TCP_ADDR": "fd00::10",
    }


@pytest.mark.parametrize(("name", "variable"), [("my-db", "MY_DB"), ("web", "WEB"), ("a-b-c", "A_B_C")])
def test_names_are_upper_cased_with_dashes_as_underscores(name, variable):
    assert env_var_name(name) == variable


def test_headless_external_and_unallocated_services_give_nothing():
    services = [service("headless", ip="None"), service("pending", ip=""), service("external", ip=None)]
    assert service_env_vars(services) == {}


def test_a_pod_sees_its_namespaces_services_and_the_clusters_kubernetes_service():
    services = [KUBERNETES, service("web", "shop"), service("other", "elsewhere"), service("db", "default")]
    chosen = linked_services(services, namespace="shop")
    assert [s["metadata"]["name"] for s in chosen] == ["kubernetes", "web"]
    in_default = linked_services(services, namespace="default")
    assert [s["metadata"]["name"] for s in in_default] == ["db", "kubernetes"]


def test_without_service_links_only_the_kubernetes_service_is_left():
    services = [KUBERNETES, service("web", "shop")]
    pod = {"metadata": {"namespace": "shop"}, "spec": {"enableServiceLinks": False}}
    assert set(pod_service_env(pod, services)) == set(service_env_vars([KUBERNETES]))
    linked = {"metadata": {"namespace": "shop"}, "spec": {}}  # the default: true
    assert pod_service_env(linked, services)["WEB_SERVICE_HOST"] == "10.96.0.10"


def test_a_service_called_kubernetes_in_the_pods_namespace_takes_the_clusters_place():
    own = service("kubernetes", "shop", ip="10.96.0.99", ports=[{"port": 8443}])
    for order in ([KUBERNETES, own], [own, KUBERNETES]):
        pod = {"metadata": {"namespace": "shop"}, "spec": {}}
        assert pod_service_env(pod, order)["KUBERNETES_SERVICE_HOST"] == "10.96.0.99"


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("$(HOST):$(PORT)", "10.0.0.1:80"),
        ("$(MISSING) stays", "$(MISSING) stays"),
        ("$$(HOST) is escaped", "$(HOST) is escaped"),
        ("cost: $$5", "cost: $5"),
        ("$HOST is no reference", "$HOST is no reference"),
        ("unclosed $(HOST", "unclosed $(HOST"),
        ("ends with $", "ends with $"),
        ("$()", "$()"),
        ("한국 $(HOST)", "한국 10.0.0.1"),
    ],
)
def test_expansion_replaces_references_as_upstreams_expand_does(text, expanded):
    assert expand(text, mapping_for({"HOST": "10.0.0.1"}, {"PORT": "80", "HOST": "ignored"})) == expanded
