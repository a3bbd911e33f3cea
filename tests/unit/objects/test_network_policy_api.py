"""networking.k8s.io/v1 NetworkPolicy as a 1.37 apiserver serves it: the resource, its defaults,
its validation (message for message) and the table `kubectl get networkpolicy` prints."""

import copy
from datetime import UTC, datetime

import pytest

from clusters.kube.tables import build_table
from clusters.objects.defaults import apply_defaults
from clusters.objects.resources import resource_for_kind, resource_for_path
from clusters.objects.validation import decode_errors, invalid_status_message, validate

NETWORK_POLICY = resource_for_kind("networking.k8s.io/v1", "NetworkPolicy")
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
PORT_RANGE = "must be between 1 and 65535, inclusive"


def policy(spec: dict, name: str = "test-network-policy") -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def stored(spec: dict) -> dict:
    return apply_defaults(policy(spec), NETWORK_POLICY)


def causes(spec: dict, old_spec: dict | None = None) -> list[str]:
    old = stored(old_spec) if old_spec is not None else None
    return [str(cause) for cause in validate(stored(spec), NETWORK_POLICY, old=old)]


def test_it_is_served_as_upstream_lists_it():
    assert resource_for_path("networking.k8s.io", "v1", "networkpolicies") is NETWORK_POLICY
    assert NETWORK_POLICY.short_names == ("netpol",)
    assert NETWORK_POLICY.namespaced
    assert NETWORK_POLICY.singular_name == "networkpolicy"
    assert NETWORK_POLICY.subresources == ()  # no status since 1.28


# --- defaults -------------------------------------------------------------------------------------


def test_policy_types_default_to_ingress():
    assert stored({"podSelector": {}})["spec"]["policyTypes"] == ["Ingress"]
    assert stored({"podSelector": {}, "ingress": [{}]})["spec"]["policyTypes"] == ["Ingress"]


def test_policy_types_gain_egress_when_egress_rules_are_given():
    assert stored({"podSelector": {}, "egress": [{}]})["spec"]["policyTypes"] == ["Ingress", "Egress"]
    # Given policyTypes are kept as they are; an empty list counts as none.
    assert stored({"podSelector": {}, "egress": [{}], "policyTypes": ["Egress"]})["spec"]["policyTypes"] == ["Egress"]
    assert stored({"podSelector": {}, "egress": [{}], "policyTypes": []})["spec"]["policyTypes"] == [
        "Ingress",
        "Egress",
    ]


def test_every_port_defaults_to_tcp_and_a_missing_pod_selector_to_empty():
    spec = stored(
        {
            "ingress": [{"ports": [{"port": 6379}, {"protocol": "UDP", "port": 53}]}],
            "egress": [{"ports": [{"port": "dns"}]}],
        }
    )["spec"]
    assert spec["podSelector"] == {}
    assert spec["ingress"][0]["ports"] == [{"port": 6379, "protocol": "TCP"}, {"protocol": "UDP", "port": 53}]
    assert spec["egress"][0]["ports"] == [{"port": "dns", "protocol": "TCP"}]


def test_defaulting_twice_changes_nothing():
    once = stored({"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]})
    assert apply_defaults(copy.deepcopy(once), NETWORK_POLICY) == once


# --- validation -----------------------------------------------------------------------------------


def test_the_documentation_examples_are_valid():
    concept = {
        "podSelector": {"matchLabels": {"role": "db"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {
                "from": [
                    {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                    {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                    {"podSelector": {"matchLabels": {"role": "frontend"}}},
                ],
                "ports": [{"protocol": "TCP", "port": 6379}],
            }
        ],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 5978}]}],
    }
    multi_port = {
        "podSelector": {"matchLabels": {"role": "db"}},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"port": 32000, "endPort": 32768}]}],
    }
    assert causes(concept) == []
    assert causes(multi_port) == []
    assert causes({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}) == []
    assert decode_errors(policy(concept), NETWORK_POLICY) == []


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        ({"port": 0}, [f"spec.ingress[0].ports[0].port: Invalid value: 0: {PORT_RANGE}"]),
        (
            {"port": 80, "endPort": 70},
            ["spec.ingress[0].ports[0].endPort: Invalid value: 70: must be greater than or equal to `port`"],
        ),
        ({"port": 80, "endPort": 70000}, [f"spec.ingress[0].ports[0].endPort: Invalid value: 70000: {PORT_RANGE}"]),
        (
            {"port": "http", "endPort": 90},
            ["spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric"],
        ),
        (
            {"endPort": 90},
            ["spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is not specified"],
        ),
        (
            {"port": "8080"},
            ['spec.ingress[0].ports[0].port: Invalid value: "8080": must contain at least one letter (a-z)'],
        ),
        (
            {"protocol": "ICMP", "port": 80},
            ['spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'],
        ),
    ],
)
def test_bad_ports_are_reported_as_upstream_words_them(port, expected):
    assert causes({"podSelector": {}, "ingress": [{"ports": [port]}]}) == expected


@pytest.mark.parametrize(
    ("cidr", "detail"),
    [
        ("172.17.0.0", "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"),
        ("172.17.0.0/33", "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"),
        ("172.17.0.1/16", "must not have bits set beyond the prefix length"),
        ("172.017.0.0/16", "must not have leading 0s in IP or prefix length"),
        ("172.17.0.0/016", "must not have leading 0s in IP or prefix length"),
        ("::ffff:172.17.0.0/112", "must not have an IPv4-mapped IPv6 address"),
    ],
)
def test_bad_cidrs_are_reported_as_upstream_words_them(cidr, detail):
    spec = {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": cidr}}]}]}
    assert causes(spec) == [f'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "{cidr}": {detail}']


def test_an_except_must_lie_strictly_inside_the_cidr():
    block = {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24", "10.0.0.0/8", "172.17.0.0/16", "2001:db8::/64"]}
    assert causes({"podSelector": {}, "egress": [{"to": [{"ipBlock": block}]}]}) == [
        'spec.egress[0].to[0].ipBlock.except[1]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
        'spec.egress[0].to[0].ipBlock.except[2]: Invalid value: "172.17.0.0/16": must be a strict subset of `cidr`',
        'spec.egress[0].to[0].ipBlock.except[3]: Invalid value: "2001:db8::/64": must be a strict subset of `cidr`',
    ]


def test_peers_need_one_kind_and_ip_block_stands_alone():
    spec = {
        "podSelector": {},
        "ingress": [{"from": [{}, {"ipBlock": {"cidr": ""}}, {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}],
    }
    assert causes(spec) == [
        "spec.ingress[0].from[0]: Required value: must specify a peer",
        "spec.ingress[0].from[1].ipBlock.cidr: Required value",
        "spec.ingress[0].from[2]: Forbidden: may not specify both ipBlock and another peer",
    ]
    both_selectors = {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}, "namespaceSelector": {}}]}]}
    assert causes(both_selectors) == []


def test_selectors_are_checked_as_label_selectors():
    spec = {
        "podSelector": {"matchLabels": {"role": "db!"}},
        "egress": [{"to": [{"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In"}]}}]}],
    }
    found = causes(spec)
    assert found[0].startswith('spec.podSelector.matchLabels: Invalid value: "db!": a valid label must be')
    assert found[1] == (
        "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].values: "
        "Required value: must be specified when `operator` is 'In' or 'NotIn'"
    )


def test_policy_types_are_ingress_or_egress_and_at_most_two():
    assert causes({"podSelector": {}, "policyTypes": ["Ingress", "ingress"]}) == [
        'spec.policyTypes[1]: Unsupported value: "ingress": supported values: "Ingress", "Egress"'
    ]
    assert causes({"podSelector": {}, "policyTypes": ["Ingress", "Egress", "Ingress"]}) == [
        'spec.policyTypes: Invalid value: ["Ingress","Egress","Ingress"]: may not specify more than two policyTypes'
    ]


def test_the_name_is_a_dns_subdomain_and_the_message_names_the_kind():
    body = stored({"podSelector": {}})
    body["metadata"]["name"] = "Access_Nginx"
    found = validate(body, NETWORK_POLICY)
    assert [cause.field for cause in found] == ["metadata.name"]
    assert invalid_status_message(NETWORK_POLICY, "Access_Nginx", found).startswith(
        'NetworkPolicy.networking.k8s.io "Access_Nginx" is invalid: metadata.name: Invalid value: "Access_Nginx": '
        "a lowercase RFC 1123 subdomain"
    )


def test_an_update_may_change_the_rules():
    old = {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}
    assert causes({"podSelector": {"matchLabels": {"app": "web"}}}, old) == []
    bad = {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.1/8"}}]}]}
    detail = 'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.1/8": must not have bits set beyond'
    found = causes(bad, old)
    assert found
    assert all(cause.startswith(detail) for cause in found)


def test_unknown_fields_are_strict_decoding_errors():
    assert decode_errors(policy({"podSelector": {}, "ingres": []}), NETWORK_POLICY) == ['unknown field "spec.ingres"']


# --- the table ------------------------------------------------------------------------------------


def test_the_table_prints_name_pod_selector_and_age():
    selected = stored({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "nginx"}}})
    everything = apply_defaults(policy({"podSelector": {}}, name="default-deny-ingress"), NETWORK_POLICY)
    expressions = stored(
        {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]}}
    )
    for obj in (selected, everything, expressions):
        obj["metadata"]["creationTimestamp"] = "2025-06-01T11:55:00Z"
    table = build_table("NetworkPolicy", [selected, everything, expressions], now=NOW)
    assert [column["name"] for column in table["columnDefinitions"]] == ["Name", "Pod-Selector", "Age"]
    assert [row["cells"] for row in table["rows"]] == [
        ["test-network-policy", "app.kubernetes.io/name=nginx", "5m"],
        ["default-deny-ingress", "<none>", "5m"],
        ["test-network-policy", "tier in (api,web)", "5m"],
    ]
