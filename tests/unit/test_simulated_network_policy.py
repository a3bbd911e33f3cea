"""NetworkPolicy on the simulated runtime's network: a connection the policies deny goes unanswered,
and busybox's wget, curl and nc wait and fail as they do behind an enforcing network plugin."""

import json
from datetime import timedelta

import pytest

from clusters import kubelet, store
from clusters.objects.resources import resource_for_kind
from clusters.runtime import catalog
from clusters.runtime.shell import DROPPED, Answer, Container, probe_run, timeline
from tests.unit.test_simulated_exec import clock, finish, pod, pod_body, sandbox, start  # noqa: F401 - fixtures

PODS = resource_for_kind("v1", "Pod")
SERVICES = resource_for_kind("v1", "Service")
NETWORK_POLICIES = resource_for_kind("networking.k8s.io/v1", "NetworkPolicy")


class Network:
    """`web` answers; `db` is behind a policy that drops every packet."""

    nameserver = "10.96.0.10"

    def lookup(self, name):
        return {"web": [("web.default.svc.cluster.local", "10.96.0.20")],
                "db": [("db.default.svc.cluster.local", "10.96.0.30")]}.get(name, [])  # fmt: skip

    def http_get(self, address, port, path, *, at=None):
        return {"10.96.0.20": Answer(200, "hello\n"), "10.96.0.30": DROPPED}.get(address)


def busybox(image: str = "busybox") -> Container:
    return Container(entry=catalog.IMAGES[image], env={}, hostname="client", network=Network())


def run(script: str, image: str = "busybox") -> tuple[int | None, str]:
    return probe_run(["sh", "-c", script], busybox(image))


# -- the shell ---------------------------------------------------------------------------------------


def test_wget_with_a_timeout_gives_up_as_busybox_does():
    assert run("wget --spider --timeout=1 db") == (1, "Connecting to db (10.96.0.30:80)\nwget: download timed out\n")
    assert run("wget -qO- -T 2 http://db/") == (1, "wget: download timed out\n")


def test_wget_without_a_timeout_waits_for_the_kernel_to_give_up_connecting():
    assert run("wget -qO- http://db/") == (1, "wget: can't connect to remote host (10.96.0.30): Connection timed out\n")


def test_wget_spider_says_the_remote_file_exists_where_traffic_is_allowed():
    assert run("wget --spider --timeout=1 web") == (0, "Connecting to web (10.96.0.20:80)\nremote file exists\n")
    assert run("cd /tmp; wget -q --spider web; ls") == (0, "")  # quiet, and nothing saved


def test_curl_times_out_with_its_own_words_and_exit_code_28():
    def curl(script):
        return run(script, "curlimages/curl")

    assert curl("curl -m 2 http://db/") == (28, "curl: (28) Connection timed out after 2001 milliseconds\n")
    assert curl("curl --connect-timeout 1 -m 5 http://db/") == (
        28,
        "curl: (28) Connection timed out after 1001 milliseconds\n",
    )
    assert curl("curl http://db/") == (
        28,
        "curl: (28) Failed to connect to db port 80 after 127001 ms: Couldn't connect to server\n",
    )


def test_nc_zero_io_scan_fails_on_a_dropped_port():
    assert run("nc -z -w 1 db 80; echo $?; nc -z -w 1 web 80; echo $?") == (0, "1\n0\n")


def test_a_containers_command_waits_out_the_timeout_on_its_own_clock():
    played = timeline(["sh", "-c", "wget -qO- -T 3 http://db/ || echo gave up; sleep 3600"], busybox())
    assert [(offset, payload) for offset, kind, payload in played.effects if kind == "log"] == [
        (3.0, "wget: download timed out"),
        (3.0, "gave up"),
    ]


# -- the sandbox's network, from kubectl exec -------------------------------------------------------

WEB = {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80, "name": "http"}]}
DENY_INGRESS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "default-deny-ingress"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}
ACCESS_WEB = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "access-web"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"access": "true"}}}], "ports": [{"port": "http"}]}],
    },
}


@pytest.fixture
def web(sandbox, clock, pod):  # noqa: F811 - the fixtures imported above
    """A web server on the client pod's node; its address once it serves."""
    body = pod_body("web", [WEB])
    body["metadata"]["labels"] = {"app": "web"}
    store.object_create(sandbox=sandbox, resource=PODS, body=body, namespace="default")
    for _ in range(3):
        kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
        clock.now += timedelta(seconds=5)
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    return store.object_get(sandbox=sandbox, resource=PODS, namespace="default", name="web")["status"]["podIP"]


def fetch(sandbox, pod, address):  # noqa: F811
    code, out, err = finish(start(sandbox, pod, ["wget", "-qO-", "-T", "1", f"http://{address}/"]))
    return code, out.decode(), err.decode()


def label_client_for_access(sandbox):  # noqa: F811
    """`kubectl label pod demo access=true`."""
    patch = json.dumps({"metadata": {"labels": {"access": "true"}}}).encode()
    store.object_patch(
        sandbox=sandbox, resource=PODS, namespace="default", name="demo", patch=patch,
        content_type="application/merge-patch+json",
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_default_deny_ingress_policy_makes_the_web_pod_unreachable(sandbox, pod, web):  # noqa: F811
    code, page, _ = fetch(sandbox, pod, web)
    assert code == 0
    assert "nginx" in page.lower()
    store.object_create(sandbox=sandbox, resource=NETWORK_POLICIES, body=DENY_INGRESS, namespace="default")
    assert fetch(sandbox, pod, web) == (1, "", "wget: download timed out\n")


@pytest.mark.django_db(transaction=True)
def test_a_policy_lets_pods_labelled_access_true_through_on_the_named_port(sandbox, pod, web):  # noqa: F811
    store.object_create(sandbox=sandbox, resource=NETWORK_POLICIES, body=ACCESS_WEB, namespace="default")
    assert fetch(sandbox, pod, web)[0] == 1
    label_client_for_access(sandbox)
    assert fetch(sandbox, pod, web)[0] == 0
    # The rule names port http (80) only.
    code, _, err = finish(start(sandbox, pod, ["wget", "-qO-", "-T", "1", f"http://{web}:8080/"]))
    assert (code, err) == (1, b"wget: download timed out\n")


@pytest.mark.django_db(transaction=True)
def test_traffic_through_a_service_is_filtered_at_the_pod_behind_it(sandbox, pod, web):  # noqa: F811
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 8080, "targetPort": "http"}]},
    }
    store.object_create(sandbox=sandbox, resource=SERVICES, body=service, namespace="default")
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "web"},
        "subsets": [{"addresses": [{"ip": web}], "ports": [{"port": 80}]}],
    }
    store.object_create(sandbox=sandbox, resource=resource_for_kind("v1", "Endpoints"), body=endpoints,
                        namespace="default")  # fmt: skip
    store.object_create(sandbox=sandbox, resource=NETWORK_POLICIES, body=ACCESS_WEB, namespace="default")
    code, _, err = finish(start(sandbox, pod, ["wget", "-qO-", "-T", "1", "http://web:8080/"]))
    assert (code, err) == (1, b"wget: download timed out\n")
    label_client_for_access(sandbox)
    assert finish(start(sandbox, pod, ["wget", "-qO-", "-T", "1", "http://web:8080/"]))[0] == 0
