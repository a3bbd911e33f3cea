"""NetworkPolicy on Docker, where only a Service's proxy can filter: kube-proxy's plan lists, per
endpoint, the pods whose connection the policies deny; the proxy reads them from its endpoints
file; each policy gets one Warning Event saying what is not enforced."""

from clusters import workqueue
from clusters.kube_proxy import NOT_ENFORCED, denied_clients, proxy_plan, warnings_plan
from clusters.runtime.docker import proxy_endpoints_file

NAMESPACES = {"default": {"kubernetes.io/metadata.name": "default"}}


def pod(name: str, ip: str, **labels: str) -> dict:
    return {
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": labels},
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "main", "ports": [{"name": "http", "containerPort": 80}]}],
        },
        "status": {"podIP": ip},
    }


NGINX = pod("nginx", "10.1.0.10", app="nginx")
BUSYBOX = pod("busybox", "10.1.0.11")
ALLOWED = pod("allowed", "10.1.0.12", access="true")
ACCESS_NGINX = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "access-nginx", "namespace": "default", "uid": "uid-policy"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "nginx"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"access": "true"}}}]}],
        "policyTypes": ["Ingress"],
    },
}
SERVICE = {"metadata": {"name": "nginx", "namespace": "default"}, "spec": {"ports": [{"port": 80}]}}
ENDPOINTS = {
    "metadata": {"name": "nginx", "namespace": "default"},
    "subsets": [{"addresses": [{"ip": "10.1.0.10"}], "ports": [{"port": 80, "protocol": "TCP"}]}],
}


def test_without_policies_no_endpoint_drops_anyone():
    assert denied_clients([("10.1.0.10", 80, "")], [NGINX, BUSYBOX], [], NAMESPACES) == {}
    plan = proxy_plan([SERVICE], [ENDPOINTS], [], pods=[NGINX, BUSYBOX])
    assert plan.denied == {}


def test_an_endpoint_drops_the_pods_its_ingress_policy_does_not_allow():
    plan = proxy_plan(
        [SERVICE], [ENDPOINTS], [], pods=[NGINX, BUSYBOX, ALLOWED], policies=[ACCESS_NGINX], namespace_labels=NAMESPACES
    )
    # nginx itself may always reach itself, and the labelled pod is allowed.
    assert plan.denied == {("default", "nginx"): {("10.1.0.10", 80): ["10.1.0.11"]}}


def test_a_source_whose_egress_is_denied_is_dropped_too():
    deny_egress = {
        "metadata": {"name": "default-deny-egress", "namespace": "default", "uid": "uid-egress"},
        "spec": {"podSelector": {"matchLabels": {"access": "true"}}, "policyTypes": ["Egress"]},
    }
    denied = denied_clients([("10.1.0.10", 80, "")], [NGINX, BUSYBOX, ALLOWED], [deny_egress], NAMESPACES)
    assert denied == {("10.1.0.10", 80): ["10.1.0.12"]}


def test_the_endpoints_file_names_the_clients_each_endpoint_drops():
    assert proxy_endpoints_file([("10.1.0.10", 80), ("10.1.0.20", 80)], {}) == "10.1.0.10:80\n10.1.0.20:80\n"
    denied = {("10.1.0.20", 80): ["10.1.0.11", "10.1.0.13"]}
    assert proxy_endpoints_file([("10.1.0.10", 80), ("10.1.0.20", 80)], denied) == (
        "10.1.0.10:80\n10.1.0.20:80@10.1.0.11,10.1.0.13\n"
    )


def test_each_policy_is_warned_about_once():
    [event] = warnings_plan([ACCESS_NGINX], warned=set())
    assert (event.type, event.reason, event.source) == ("Warning", NOT_ENFORCED, "kube-proxy")
    assert event.involved["kind"] == "NetworkPolicy"
    assert "does not enforce NetworkPolicy for direct pod-to-pod traffic" in event.message
    assert warnings_plan([ACCESS_NGINX], warned={"uid-policy"}) == []


def test_policies_namespaces_and_pod_addresses_and_labels_wake_kube_proxy_on_docker():
    def keys(kind, previous, body, engine="docker"):
        return workqueue.keys_for_write(kind, previous, body, engine=engine)

    assert "kube-proxy" in keys("NetworkPolicy", None, ACCESS_NGINX)
    assert "kube-proxy" in keys("Namespace", None, {"metadata": {"name": "default"}})
    assert "kube-proxy" not in keys("NetworkPolicy", None, ACCESS_NGINX, engine="simulated")
    addressed = {**BUSYBOX, "status": {"podIP": "10.1.0.11", "phase": "Running"}}
    unaddressed = {**BUSYBOX, "status": {}}
    assert "kube-proxy" in keys("Pod", unaddressed, addressed)
    relabelled = {**addressed, "metadata": {**BUSYBOX["metadata"], "labels": {"access": "true"}}}
    assert "kube-proxy" in keys("Pod", addressed, relabelled)
    # A status change that keeps its address and labels leaves kube-proxy asleep.
    ready = {**addressed, "status": {**addressed["status"], "conditions": [{"type": "Ready", "status": "True"}]}}
    assert "kube-proxy" not in keys("Pod", addressed, ready)
