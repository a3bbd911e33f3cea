"""NetworkPolicy, as the task "Declare Network Policy" walks through it (an nginx Deployment behind
a Service, a busybox client with and without `access: "true"`), with the real kubectl on both
runtimes. The simulated runtime enforces policies for what `kubectl exec` reaches; Docker, with no
policy-capable network plugin, enforces them only for traffic through a Service's proxy, and says
so with a Warning Event on each policy (README, "The orchestrator")."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.orchestrator.helpers import eventually, pod, ready

# nginx-policy.yaml from the task, for the label `kubectl create deployment nginx` gives its pods.
ACCESS_NGINX = textwrap.dedent(
    """\
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: access-nginx
    spec:
      podSelector:
        matchLabels:
          app: nginx
      ingress:
      - from:
        - podSelector:
            matchLabels:
              access: "true"
    """
)
DEFAULT_DENY_INGRESS = textwrap.dedent(
    """\
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: default-deny-ingress
    spec:
      podSelector: {}
      policyTypes:
      - Ingress
    """
)


@pytest.fixture
def nginx(kubectl) -> str:
    """The task's first steps: an nginx Deployment exposed as Service `nginx`, and two clients,
    `busybox` and `access` (labelled access=true); the nginx pod's address."""
    assert kubectl("create", "deployment", "nginx", "--image=nginx").stdout.strip() == "deployment.apps/nginx created"
    assert kubectl("expose", "deployment", "nginx", "--port=80").stdout.strip() == "service/nginx exposed"
    kubectl("run", "busybox", "--image=busybox:1.36", "--", "sleep", "3600")
    kubectl("run", "access", "--labels=access=true", "--image=busybox:1.36", "--", "sleep", "3600")
    kubectl("rollout", "status", "deployment/nginx", "--timeout=90s", timeout=120)
    for name in ("busybox", "access"):
        eventually(lambda name=name: ready(pod(kubectl, name)), timeout=120)
    [server] = json.loads(kubectl("get", "pods", "-l", "app=nginx", "-o", "json").stdout)["items"]
    return server["status"]["podIP"]


def fetch(kubectl, runtime: str, client: str, url: str):
    """wget from a client pod, giving up after 2 s. The Docker runtime's busybox crashes on `wget -T`
    (Debian's build), so `timeout` bounds it there."""
    command = ["timeout", "3", "wget", "-qO-", url] if runtime == "docker" else ["wget", "-qO-", "-T", "2", url]
    return kubectl("exec", client, "--", *command, check=False, timeout=30)


def answered(kubectl, runtime: str, client: str, url: str) -> bool:
    got = fetch(kubectl, runtime, client, url)
    return got.returncode == 0 and "nginx" in got.stdout.lower()


def test_the_policy_is_printed_and_described_as_upstream(kubectl):
    listed = kubectl("api-resources", "--api-group=networking.k8s.io").stdout.splitlines()
    assert ["networkpolicies", "netpol", "networking.k8s.io/v1", "true", "NetworkPolicy"] in [
        line.split() for line in listed
    ]
    assert kubectl("apply", "-f", "-", input=ACCESS_NGINX).stdout.strip() == (
        "networkpolicy.networking.k8s.io/access-nginx created"
    )
    [header, row] = kubectl("get", "netpol").stdout.splitlines()
    assert header.split() == ["NAME", "POD-SELECTOR", "AGE"]
    assert row.split()[:2] == ["access-nginx", "app=nginx"]
    stored = json.loads(kubectl("get", "networkpolicy", "access-nginx", "-o", "json").stdout)
    assert stored["spec"]["policyTypes"] == ["Ingress"]
    described = kubectl("describe", "networkpolicy", "access-nginx").stdout
    for line in ("PodSelector:     app=nginx", "Allowing ingress traffic:", "PodSelector: access=true"):
        assert line in described, described
    assert "Policy Types: Ingress" in described, described


def test_a_bad_policy_is_refused_in_upstreams_words(kubectl):
    bad = ACCESS_NGINX + "    ports:\n    - port: 80\n      endPort: 70\n"
    refused = kubectl("apply", "-f", "-", input=bad, check=False)
    assert refused.returncode == 1
    assert (
        'The NetworkPolicy "access-nginx" is invalid: spec.ingress[0].ports[0].endPort: '
        "Invalid value: 70: must be greater than or equal to `port`"
    ) in refused.stderr


def test_simulated_default_deny_then_access_label_as_the_task_walks_through(kubectl, runtime, nginx):
    if runtime != "simulated":
        pytest.skip("the Docker runtime does not filter pod-to-pod traffic: see the next test")
    assert answered(kubectl, runtime, "busybox", "http://nginx/")

    kubectl("apply", "-f", "-", input=DEFAULT_DENY_INGRESS)
    for url in ("http://nginx/", f"http://{nginx}/"):  # through the Service, and to the pod itself
        denied = fetch(kubectl, runtime, "busybox", url)
        assert denied.returncode == 1
        assert "wget: download timed out" in denied.stderr
    assert not answered(kubectl, runtime, "access", "http://nginx/")

    kubectl("apply", "-f", "-", input=ACCESS_NGINX)
    assert answered(kubectl, runtime, "access", "http://nginx/")
    assert answered(kubectl, runtime, "access", f"http://{nginx}/")
    assert not answered(kubectl, runtime, "busybox", "http://nginx/")
    # The task's own check, word for word.
    spider = kubectl("exec", "access", "--", "wget", "--spider", "--timeout=1", "nginx", check=False)
    assert spider.returncode == 0
    assert spider.stderr.splitlines()[-1] == "remote file exists"


def test_docker_filters_service_traffic_only_and_says_so(kubectl, runtime, nginx):
    if runtime != "docker":
        pytest.skip("the simulated runtime filters every connection an exec makes: see the test before")
    eventually(lambda: answered(kubectl, runtime, "busybox", "http://nginx/"), timeout=60)

    kubectl("apply", "-f", "-", input=ACCESS_NGINX)

    def warned():
        """the policy's Warning Event says what is not enforced"""
        listed = kubectl("get", "events", "--field-selector", "involvedObject.name=access-nginx", "-o", "json")
        return [e for e in json.loads(listed.stdout)["items"] if e["reason"] == "NotEnforced"]

    [event] = eventually(warned, timeout=60)
    assert event["type"] == "Warning"
    assert event["involvedObject"]["kind"] == "NetworkPolicy"
    assert "does not enforce NetworkPolicy for direct pod-to-pod traffic" in event["message"]

    # Through the Service's proxy: the unlabelled client gets no answer, the labelled one does.
    eventually(lambda: not answered(kubectl, runtime, "busybox", "http://nginx/"), timeout=60)
    denied = fetch(kubectl, runtime, "busybox", "http://nginx/")
    assert denied.returncode != 0
    assert denied.stdout == ""
    assert answered(kubectl, runtime, "access", "http://nginx/")
    # Straight to the pod's address the bridge network carries it: not enforced, as the Event says.
    assert answered(kubectl, runtime, "busybox", f"http://{nginx}/")
