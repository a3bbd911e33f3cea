"""Whether NetworkPolicies allow a connection, with the Kubernetes documentation's example policies
(content/en/examples/service/networking/*.yaml, the concept page "Network Policies" and the task
"Declare Network Policy") as an enforcing network plugin applies them."""

import textwrap

import pytest
import yaml

from clusters.objects.network_policy import (
    ContainerPort,
    Endpoint,
    connection_allowed,
    egress_allowed,
    ingress_allowed,
    isolating_policies,
    pod_endpoint,
    policy_types,
)


def policy(text: str, namespace: str = "default") -> dict:
    """A documentation example, placed in `namespace` (as `kubectl apply -n` would)."""
    body = yaml.safe_load(textwrap.dedent(text))
    body["metadata"].setdefault("namespace", namespace)
    return body


DEFAULT_DENY_INGRESS = """\
    {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: default-deny-ingress},
     spec: {podSelector: {}, policyTypes: [Ingress]}}
    """
ALLOW_ALL_INGRESS = """\
    {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: allow-all-ingress},
     spec: {podSelector: {}, ingress: [{}], policyTypes: [Ingress]}}
    """
DEFAULT_DENY_EGRESS = """\
    {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: default-deny-egress},
     spec: {podSelector: {}, policyTypes: [Egress]}}
    """
ALLOW_ALL_EGRESS = """\
    {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: allow-all-egress},
     spec: {podSelector: {}, egress: [{}], policyTypes: [Egress]}}
    """
DEFAULT_DENY_ALL = """\
    {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: default-deny-all},
     spec: {podSelector: {}, policyTypes: [Ingress, Egress]}}
    """
ALLOW_EGRESS_DENY_INGRESS = """\
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: allow-egress-deny-ingress
    spec:
      podSelector: {}
      policyTypes:
        - Egress
        - Ingress
      egress:
        - {}
      ingress: []
    """
# networkpolicy.yaml: the concept page's example with every kind of peer.
TEST_NETWORK_POLICY = """\
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: test-network-policy
      namespace: default
    spec:
      podSelector:
        matchLabels:
          role: db
      policyTypes:
        - Ingress
        - Egress
      ingress:
        - from:
            - ipBlock:
                cidr: 172.17.0.0/16
                except:
                  - 172.17.1.0/24
            - namespaceSelector:
                matchLabels:
                  project: myproject
            - podSelector:
                matchLabels:
                  role: frontend
          ports:
            - protocol: TCP
              port: 6379
      egress:
        - to:
            - ipBlock:
                cidr: 10.0.0.0/24
          ports:
            - protocol: TCP
              port: 5978
    """
MULTI_PORT_EGRESS = """\
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: multi-port-egress
      namespace: default
    spec:
      podSelector:
        matchLabels:
          role: db
      policyTypes:
      - Egress
      egress:
      - to:
        - ipBlock:
            cidr: 10.0.0.0/24
        ports:
        - protocol: TCP
          port: 32000
          endPort: 32768
    """
# nginx-policy.yaml, from the task "Declare Network Policy".
ACCESS_NGINX = """\
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

NAMESPACES = {
    "default": {"kubernetes.io/metadata.name": "default"},
    "other": {"kubernetes.io/metadata.name": "other", "project": "myproject"},
    "alice": {"kubernetes.io/metadata.name": "alice", "user": "alice"},
    "kube-system": {"kubernetes.io/metadata.name": "kube-system"},
}


def pod(name: str, ip: str, namespace: str = "default", node: str = "node-1", **labels: str) -> Endpoint:
    return Endpoint(ip=ip, namespace=namespace, name=name, labels=labels, node=node)


NGINX = Endpoint(
    ip="10.244.0.10", namespace="default", name="nginx", labels={"app": "nginx"}, node="node-1",
    ports=(ContainerPort("http", 80),),
)  # fmt: skip
BUSYBOX = pod("busybox", "10.244.0.11")
LABELLED_BUSYBOX = pod("busybox-access", "10.244.0.12", access="true")
DB = pod("db", "10.244.1.5", node="node-2", role="db")
FRONTEND = pod("frontend", "10.244.0.20", role="frontend")
OTHER_PROJECT = pod("client", "10.244.0.30", namespace="other")
OTHER_FRONTEND = pod("frontend", "10.244.0.31", namespace="other", role="frontend")
ALICE_CLIENT = pod("client", "10.244.0.40", namespace="alice", role="client")
ALICE_OTHER = pod("other", "10.244.0.41", namespace="alice")
NODE_1 = Endpoint(ip="172.18.0.2", node="node-1", host=True)
NODE_2 = Endpoint(ip="172.18.0.3", node="node-2", host=True)


def allowed(policies: list[str], source: Endpoint, destination: Endpoint, port: int = 80, protocol: str = "TCP"):
    return connection_allowed([policy(p) for p in policies], NAMESPACES, source, destination, port, protocol)


def external(ip: str) -> Endpoint:
    return Endpoint(ip=ip)


# --- isolation ------------------------------------------------------------------------------------


def test_without_policies_every_pod_accepts_and_sends_everything():
    assert allowed([], BUSYBOX, NGINX)
    assert allowed([], external("203.0.113.9"), DB, 6379)
    assert allowed([], DB, external("203.0.113.9"), 443, "UDP")


def test_default_deny_ingress_isolates_every_pod_of_its_namespace_for_ingress_only():
    assert not allowed([DEFAULT_DENY_INGRESS], BUSYBOX, NGINX)
    assert not allowed([DEFAULT_DENY_INGRESS], OTHER_PROJECT, NGINX)
    assert not allowed([DEFAULT_DENY_INGRESS], external("203.0.113.9"), NGINX)
    # Egress is not isolated: pods of the namespace still reach pods elsewhere.
    assert allowed([DEFAULT_DENY_INGRESS], NGINX, OTHER_PROJECT)


def test_a_policy_isolates_only_the_pods_of_its_own_namespace():
    assert allowed([DEFAULT_DENY_INGRESS], BUSYBOX, OTHER_PROJECT)
    assert isolating_policies([policy(DEFAULT_DENY_INGRESS)], OTHER_PROJECT, "Ingress") == []


def test_allow_all_ingress_wins_over_default_deny_ingress():
    assert allowed([DEFAULT_DENY_INGRESS, ALLOW_ALL_INGRESS], BUSYBOX, NGINX)
    assert allowed([ALLOW_ALL_INGRESS, DEFAULT_DENY_INGRESS], external("203.0.113.9"), NGINX, 9999, "UDP")


def test_default_deny_egress_stops_every_connection_the_namespace_starts():
    assert not allowed([DEFAULT_DENY_EGRESS], BUSYBOX, NGINX)
    assert not allowed([DEFAULT_DENY_EGRESS], BUSYBOX, OTHER_PROJECT)
    assert not allowed([DEFAULT_DENY_EGRESS], BUSYBOX, external("203.0.113.9"), 443)
    # Ingress stays open: a pod elsewhere still reaches the namespace's pods.
    assert allowed([DEFAULT_DENY_EGRESS], OTHER_PROJECT, NGINX)


def test_allow_all_egress_wins_over_default_deny_egress():
    assert allowed([DEFAULT_DENY_EGRESS, ALLOW_ALL_EGRESS], BUSYBOX, external("203.0.113.9"), 53, "UDP")


def test_default_deny_all_stops_both_directions():
    assert not allowed([DEFAULT_DENY_ALL], BUSYBOX, OTHER_PROJECT)
    assert not allowed([DEFAULT_DENY_ALL], OTHER_PROJECT, NGINX)


def test_allow_egress_deny_ingress_example():
    assert allowed([ALLOW_EGRESS_DENY_INGRESS], BUSYBOX, OTHER_PROJECT)
    assert not allowed([ALLOW_EGRESS_DENY_INGRESS], OTHER_PROJECT, NGINX)


def test_both_the_source_egress_and_the_destination_ingress_must_allow():
    # The destination allows everything in, but the source may send nothing out.
    assert not allowed([ALLOW_ALL_INGRESS, DEFAULT_DENY_EGRESS], BUSYBOX, NGINX)
    assert ingress_allowed([policy(ALLOW_ALL_INGRESS)], NAMESPACES, BUSYBOX, NGINX, 80)
    assert not egress_allowed([policy(DEFAULT_DENY_EGRESS)], NAMESPACES, BUSYBOX, NGINX, 80)


def test_policy_types_default_as_the_api_server_defaults_them():
    assert policy_types({"podSelector": {}}) == ["Ingress"]
    assert policy_types({"podSelector": {}, "egress": [{}]}) == ["Ingress", "Egress"]
    assert policy_types({"podSelector": {}, "policyTypes": ["Egress"]}) == ["Egress"]
    # A policy stored without policyTypes but with egress rules isolates for egress too.
    no_types = policy("{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: p}, "
                      "spec: {podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/24}}]}]}}")  # fmt: skip
    assert isolating_policies([no_types], BUSYBOX, "Egress") == [no_types]
    assert isolating_policies([no_types], BUSYBOX, "Ingress") == [no_types]


# --- the "Declare Network Policy" walkthrough ------------------------------------------------------


def test_access_nginx_lets_only_pods_labelled_access_true_reach_nginx():
    assert allowed([], BUSYBOX, NGINX)
    assert not allowed([ACCESS_NGINX], BUSYBOX, NGINX)
    assert allowed([ACCESS_NGINX], LABELLED_BUSYBOX, NGINX)
    # podSelector in `from` selects pods of the policy's own namespace only.
    assert not allowed([ACCESS_NGINX], pod("busybox", "10.244.0.50", namespace="other", access="true"), NGINX)
    # Pods the policy does not select stay open.
    assert allowed([ACCESS_NGINX], BUSYBOX, LABELLED_BUSYBOX)


# --- the concept page's example with every kind of peer ------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (FRONTEND, True),  # podSelector: role=frontend in the policy's namespace
        (OTHER_FRONTEND, True),  # namespaceSelector: project=myproject
        (OTHER_PROJECT, True),
        (BUSYBOX, False),  # neither
        (ALICE_CLIENT, False),
        (external("172.17.0.5"), True),  # ipBlock
        (external("172.17.2.200"), True),
        (external("172.17.1.9"), False),  # excepted
        (external("172.18.0.9"), False),
    ],
)
def test_test_network_policy_ingress_peers(source, expected):
    assert allowed([TEST_NETWORK_POLICY], source, DB, 6379) is expected


def test_test_network_policy_ingress_allows_only_tcp_6379():
    assert not allowed([TEST_NETWORK_POLICY], FRONTEND, DB, 6380)
    assert not allowed([TEST_NETWORK_POLICY], FRONTEND, DB, 6379, "UDP")


def test_test_network_policy_egress_allows_only_tcp_5978_to_its_block():
    assert allowed([TEST_NETWORK_POLICY], DB, external("10.0.0.7"), 5978)
    assert not allowed([TEST_NETWORK_POLICY], DB, external("10.0.0.7"), 5979)
    assert not allowed([TEST_NETWORK_POLICY], DB, external("10.0.1.7"), 5978)
    # The egress list names no pod: db cannot reach frontend, though frontend reaches db.
    assert not allowed([TEST_NETWORK_POLICY], DB, FRONTEND, 80)


def test_pods_the_policy_does_not_select_are_left_alone():
    assert allowed([TEST_NETWORK_POLICY], BUSYBOX, FRONTEND)


def test_end_port_allows_the_whole_range():
    assert allowed([MULTI_PORT_EGRESS], DB, external("10.0.0.1"), 32000)
    assert allowed([MULTI_PORT_EGRESS], DB, external("10.0.0.1"), 32768)
    assert not allowed([MULTI_PORT_EGRESS], DB, external("10.0.0.1"), 32769)
    assert not allowed([MULTI_PORT_EGRESS], DB, external("10.0.0.1"), 31999)


# --- namespaceSelector and podSelector: one peer or two ------------------------------------------

ONE_PEER = """\
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: alice-clients}
    spec:
      podSelector: {}
      ingress:
      - from:
        - namespaceSelector:
            matchLabels:
              user: alice
          podSelector:
            matchLabels:
              role: client
    """
TWO_PEERS = """\
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: alice-or-clients}
    spec:
      podSelector: {}
      ingress:
      - from:
        - namespaceSelector:
            matchLabels:
              user: alice
        - podSelector:
            matchLabels:
              role: client
    """
LOCAL_CLIENT = pod("local-client", "10.244.0.60", role="client")


def test_both_selectors_in_one_peer_select_pods_matching_both():
    assert allowed([ONE_PEER], ALICE_CLIENT, NGINX)
    assert not allowed([ONE_PEER], ALICE_OTHER, NGINX)
    assert not allowed([ONE_PEER], LOCAL_CLIENT, NGINX)


def test_two_peers_select_the_local_clients_or_every_pod_of_alices_namespaces():
    assert allowed([TWO_PEERS], ALICE_CLIENT, NGINX)
    assert allowed([TWO_PEERS], ALICE_OTHER, NGINX)
    assert allowed([TWO_PEERS], LOCAL_CLIENT, NGINX)
    assert not allowed([TWO_PEERS], BUSYBOX, NGINX)


def test_a_namespace_can_be_selected_by_its_name_label():
    by_name = """\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: from-other}
        spec:
          podSelector: {}
          ingress:
          - from:
            - namespaceSelector:
                matchExpressions:
                - {key: kubernetes.io/metadata.name, operator: In, values: [other]}
        """
    assert allowed([by_name], OTHER_PROJECT, NGINX)
    assert not allowed([by_name], ALICE_CLIENT, NGINX)
    # An empty namespaceSelector selects every namespace.
    everywhere = """\
        {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: from-everywhere},
         spec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}]}}
        """
    assert allowed([everywhere], ALICE_CLIENT, NGINX)
    assert not allowed([everywhere], external("203.0.113.9"), NGINX)


def test_selectors_never_match_addresses_that_are_no_pod():
    assert not allowed([TWO_PEERS], external("10.244.0.41"), NGINX)


# --- ports ----------------------------------------------------------------------------------------

NAMED_PORT = """\
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: http-only}
    spec:
      podSelector: {matchLabels: {app: nginx}}
      ingress:
      - ports:
        - port: http
    """


def test_a_named_port_is_the_destination_pods_container_port_of_that_name():
    assert allowed([NAMED_PORT], BUSYBOX, NGINX, 80)
    assert not allowed([NAMED_PORT], BUSYBOX, NGINX, 8080)
    assert not allowed([NAMED_PORT], BUSYBOX, NGINX, 80, "UDP")


def test_a_named_port_in_an_egress_rule_is_the_destinations_port_too():
    egress = NAMED_PORT.replace("podSelector: {matchLabels: {app: nginx}}", "podSelector: {}").replace(
        "ingress:", "policyTypes: [Egress]\n      egress:"
    )
    assert allowed([egress], BUSYBOX, NGINX, 80)
    assert not allowed([egress], BUSYBOX, external("203.0.113.9"), 80)


def test_a_rule_with_ports_but_no_peers_allows_every_peer_on_those_ports():
    assert allowed([NAMED_PORT], external("203.0.113.9"), NGINX, 80)


# --- what plugins leave alone ---------------------------------------------------------------------


def test_a_pod_can_always_reach_itself():
    assert allowed([DEFAULT_DENY_ALL], NGINX, NGINX)


def test_traffic_from_the_pods_own_node_is_always_allowed():
    assert allowed([DEFAULT_DENY_INGRESS], NODE_1, NGINX)
    # Another node is just an address: only an ipBlock could let it in.
    assert not allowed([DEFAULT_DENY_INGRESS], NODE_2, NGINX)
    assert allowed([TEST_NETWORK_POLICY], Endpoint(ip="172.17.0.9", node="node-1", host=True), DB, 6379)


def test_traffic_to_the_pods_own_node_is_always_allowed():
    assert allowed([DEFAULT_DENY_EGRESS], BUSYBOX, NODE_1, 10250)
    assert not allowed([DEFAULT_DENY_EGRESS], BUSYBOX, NODE_2, 10250)


def test_host_network_pods_are_treated_as_their_node():
    host_pod = Endpoint(ip="172.18.0.2", namespace="default", name="agent", labels={"role": "frontend"},
                        node="node-1", host=True)  # fmt: skip
    # Selectors ignore it: the policy's podSelector (role=frontend) does not let it into db...
    assert not allowed([TEST_NETWORK_POLICY], host_pod, DB, 6379)
    # ...and no policy isolates it: a default deny does not stop what it sends or receives.
    assert allowed([DEFAULT_DENY_ALL], host_pod, OTHER_PROJECT)
    assert allowed([DEFAULT_DENY_ALL], OTHER_PROJECT, host_pod)
    # As its node's traffic it reaches the pods of its node.
    assert allowed([DEFAULT_DENY_ALL], host_pod, BUSYBOX)


def test_a_stored_pod_becomes_an_endpoint_with_its_named_ports():
    stored = {
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "web", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 9090}]}],
        },
        "status": {"podIP": "10.244.0.7"},
    }
    endpoint = pod_endpoint(stored)
    assert endpoint == Endpoint(
        ip="10.244.0.7", namespace="default", name="web", labels={"app": "web"}, node="node-1",
        ports=(ContainerPort("http", 80, "TCP"),),
    )  # fmt: skip
    assert endpoint.is_pod
    assert not pod_endpoint({**stored, "spec": {**stored["spec"], "hostNetwork": True}}).is_pod
