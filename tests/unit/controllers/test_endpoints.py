"""The endpoints planner: Endpoints and EndpointSlices follow the pods a Service selects."""

from __future__ import annotations

import copy
import functools
from datetime import UTC, datetime

from clusters.controllers import endpoints
from clusters.controllers.actions import Create, Delete, Patch
from clusters.controllers.state import ClusterState
from tests.unit.controllers.world import applied, controller_of, stored

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SLICE = "discovery.k8s.io/v1"


def service(name="web", *, selector=None, ports=None, labels=None, **spec):
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-svc-{name}", "resourceVersion": "5"},
        "spec": {
            "clusterIP": "10.96.0.20",
            "type": "ClusterIP",
            "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}] if ports is None else ports,
            **spec,
        },
    }
    if selector is not False:
        body["spec"]["selector"] = selector or {"app": "web"}
    if labels:
        body["metadata"]["labels"] = labels
    return body


def pod(name, ip, *, ready=True, node="node-1", labels=None, phase="Running", ports=None, **metadata):
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "9",
            "labels": labels or {"app": "web"},
            **metadata,
        },
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx", "ports": ports or []}]},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }
    if ip:
        body["status"]["podIP"] = ip
        body["status"]["podIPs"] = [{"ip": ip}]
    return body


def target(name):
    return {"kind": "Pod", "namespace": "default", "name": name, "uid": f"uid-{name}"}


def owner(name="web"):
    return controller_of(service(name))


def slice_labels(name="web", **extra):
    return {
        "kubernetes.io/service-name": name,
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        **extra,
    }


def endpoint(name, ip, *, ready=True, serving=True, terminating=False, node="node-1"):
    return {
        "addresses": [ip],
        "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
        "targetRef": target(name),
        "nodeName": node,
    }


# --- plans applied as the store would (the shared world) ----------------------------------------


apply = functools.partial(applied, now=NOW)


def slice_creates(actions):
    return [a.body for a in actions if isinstance(a, Create) and a.body["kind"] == "EndpointSlice"]


# --- creating ----------------------------------------------------------------------------------------


def test_it_creates_endpoints_and_a_slice_for_a_service_with_a_selector():
    state = ClusterState.of(
        [
            service(),
            pod("web-b", "10.244.1.12"),
            pod("web-a", "10.244.0.7", node="node-2"),
            pod("web-c", "10.244.1.13", ready=False),
            pod("db", "10.244.1.20", labels={"app": "db"}),
        ]
    )

    assert endpoints.plan(state, now=NOW) == [
        Create(
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": "web", "namespace": "default"},
                "subsets": [
                    {
                        "addresses": [
                            {"ip": "10.244.0.7", "nodeName": "node-2", "targetRef": target("web-a")},
                            {"ip": "10.244.1.12", "nodeName": "node-1", "targetRef": target("web-b")},
                        ],
                        "notReadyAddresses": [
                            {"ip": "10.244.1.13", "nodeName": "node-1", "targetRef": target("web-c")},
                        ],
                        "ports": [{"port": 8080, "protocol": "TCP"}],
                    }
                ],
            }
        ),
        Create(
            {
                "apiVersion": SLICE,
                "kind": "EndpointSlice",
                "metadata": {
                    "namespace": "default",
                    "labels": slice_labels(),
                    "ownerReferences": [owner()],
                    "name": "web-whhrn",
                },
                "addressType": "IPv4",
                "endpoints": [
                    endpoint("web-a", "10.244.0.7", node="node-2"),
                    endpoint("web-b", "10.244.1.12"),
                    endpoint("web-c", "10.244.1.13", ready=False, serving=False),
                ],
                "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
            }
        ),
    ]


def test_it_has_nothing_to_do_once_endpoints_and_slices_are_written():
    state = ClusterState.of([service(), pod("web-a", "10.244.0.7"), pod("web-b", "10.244.1.12", ready=False)])

    state = apply(state, endpoints.plan(state, now=NOW))

    assert endpoints.plan(state, now=NOW) == []


def test_it_resolves_a_named_target_port_in_each_pod():
    named = service(ports=[{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}])
    with_port = pod("web-a", "10.244.0.7", ports=[{"name": "web", "containerPort": 8081, "protocol": "TCP"}])
    without = pod("web-b", "10.244.0.8")
    state = ClusterState.of([named, with_port, without])

    actions = endpoints.plan(state, now=NOW)

    assert actions[0].body["subsets"] == [
        {
            "addresses": [{"ip": "10.244.0.7", "nodeName": "node-1", "targetRef": target("web-a")}],
            "ports": [{"name": "http", "port": 8081, "protocol": "TCP"}],
        }
    ]
    # The slice controller keeps the pod that resolves no port, in a slice of its own.
    assert [(s["ports"], [e["targetRef"]["name"] for e in s["endpoints"]]) for s in slice_creates(actions)] == [
        ([{"name": "http", "port": 8081, "protocol": "TCP"}], ["web-a"]),
        ([], ["web-b"]),
    ]


def test_it_leaves_out_pods_without_an_ip_or_that_finished():
    state = ClusterState.of(
        [service(), pod("starting", None), pod("done", "10.244.0.9", phase="Succeeded"), pod("web", "10.244.0.7")]
    )

    actions = endpoints.plan(state, now=NOW)

    assert [a["targetRef"]["name"] for a in actions[0].body["subsets"][0]["addresses"]] == ["web"]
    assert [e["targetRef"]["name"] for e in slice_creates(actions)[0]["endpoints"]] == ["web"]


def test_it_marks_a_terminating_pod_in_slices_and_drops_it_from_endpoints():
    going = pod("going", "10.244.0.8", deletionTimestamp="2025-03-01T11:59:00Z")
    state = ClusterState.of([service(), pod("web", "10.244.0.7"), going])

    actions = endpoints.plan(state, now=NOW)

    assert [a["targetRef"]["name"] for a in actions[0].body["subsets"][0]["addresses"]] == ["web"]
    assert slice_creates(actions)[0]["endpoints"] == [
        endpoint("web", "10.244.0.7"),
        endpoint("going", "10.244.0.8", ready=False, serving=True, terminating=True),
    ]


def test_it_publishes_not_ready_addresses_when_asked():
    state = ClusterState.of([service(publishNotReadyAddresses=True), pod("web", "10.244.0.7", ready=False)])

    actions = endpoints.plan(state, now=NOW)

    assert actions[0].body["subsets"][0]["addresses"][0]["ip"] == "10.244.0.7"
    assert slice_creates(actions)[0]["endpoints"] == [endpoint("web", "10.244.0.7", ready=True, serving=True)]


def test_it_gives_a_headless_service_without_ports_its_addresses():
    headless = service(ports=[], clusterIP="None", labels={"tier": "db"})
    member = pod("db-0", "10.244.0.7", hostname="db-0", subdomain="web")
    member["spec"]["hostname"] = "db-0"
    member["spec"]["subdomain"] = "web"
    state = ClusterState.of([headless, member])

    actions = endpoints.plan(state, now=NOW)

    assert actions[0] == Create(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "labels": {"tier": "db", "service.kubernetes.io/headless": ""},
            },
            "subsets": [
                {
                    "addresses": [
                        {"ip": "10.244.0.7", "nodeName": "node-1", "targetRef": target("db-0"), "hostname": "db-0"}
                    ]
                }
            ],
        }
    )
    created = slice_creates(actions)[0]
    assert created["metadata"]["labels"] == slice_labels(tier="db", **{"service.kubernetes.io/headless": ""})
    assert created["ports"] == []
    assert created["endpoints"][0]["hostname"] == "db-0"


def test_it_keeps_an_empty_endpoints_and_a_placeholder_slice_for_a_service_without_pods():
    actions = endpoints.plan(ClusterState.of([service()]), now=NOW)

    assert actions[0] == Create(
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"}}
    )
    assert slice_creates(actions)[0]["endpoints"] == []
    assert slice_creates(actions)[0]["ports"] == []


def test_it_leaves_services_without_a_selector_and_external_names_alone():
    manual = service(selector=False)
    external = service("ext", type="ExternalName", externalName="example.com")
    handmade = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-ep"},
        "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 80, "protocol": "TCP"}]}],
    }
    state = ClusterState.of([manual, external, handmade, pod("web", "10.244.0.7")])

    assert endpoints.plan(state, now=NOW) == []


def test_it_gives_several_slices_when_pods_resolve_different_ports():
    named = service(ports=[{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}])
    old = pod("old", "10.244.0.7", ports=[{"name": "web", "containerPort": 8080, "protocol": "TCP"}])
    new = pod("new", "10.244.0.8", ports=[{"name": "web", "containerPort": 9090, "protocol": "TCP"}])
    state = ClusterState.of([named, old, new])

    actions = endpoints.plan(state, now=NOW)

    assert [(s["metadata"]["name"], s["ports"][0]["port"]) for s in slice_creates(actions)] == [
        ("web-whhrn", 9090),
        ("web-mcb24", 8080),
    ]
    assert actions[0].body["subsets"] == [
        {
            "addresses": [{"ip": "10.244.0.7", "nodeName": "node-1", "targetRef": target("old")}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        },
        {
            "addresses": [{"ip": "10.244.0.8", "nodeName": "node-1", "targetRef": target("new")}],
            "ports": [{"name": "http", "port": 9090, "protocol": "TCP"}],
        },
    ]
    assert endpoints.plan(apply(state, actions), now=NOW) == []


# --- updating -----------------------------------------------------------------------------------------


def test_it_updates_only_what_changed_when_a_pod_becomes_ready():
    state = apply(
        ClusterState.of([service(), pod("web-a", "10.244.0.7"), pod("web-b", "10.244.0.8", ready=False)]),
        endpoints.plan(
            ClusterState.of([service(), pod("web-a", "10.244.0.7"), pod("web-b", "10.244.0.8", ready=False)]),
            now=NOW,
        ),
    )
    ready_now = ClusterState.of(
        [
            *state.by_kind["Service"],
            *state.by_kind["Endpoints"],
            *state.by_kind["EndpointSlice"],
            pod("web-a", "10.244.0.7"),
            pod("web-b", "10.244.0.8"),
        ]
    )

    assert endpoints.plan(ready_now, now=NOW) == [
        Patch(
            "v1",
            "Endpoints",
            "default",
            "web",
            {
                "subsets": [
                    {
                        "addresses": [
                            {"ip": "10.244.0.7", "nodeName": "node-1", "targetRef": target("web-a")},
                            {"ip": "10.244.0.8", "nodeName": "node-1", "targetRef": target("web-b")},
                        ],
                        "ports": [{"port": 8080, "protocol": "TCP"}],
                    }
                ]
            },
        ),
        Patch(
            SLICE,
            "EndpointSlice",
            "default",
            "web-whhrn",
            {"endpoints": [endpoint("web-a", "10.244.0.7"), endpoint("web-b", "10.244.0.8")]},
        ),
    ]


def test_it_ignores_the_resource_version_a_stored_target_ref_carries():
    state = apply(
        ClusterState.of([service(), pod("web", "10.244.0.7")]),
        endpoints.plan(ClusterState.of([service(), pod("web", "10.244.0.7")]), now=NOW),
    )
    stored = copy.deepcopy(state.get("Endpoints", "default", "web"))
    stored["subsets"][0]["addresses"][0]["targetRef"]["resourceVersion"] = "9"
    others = [o for kind, items in state.by_kind.items() if kind != "Endpoints" for o in items]

    assert endpoints.plan(ClusterState.of([*others, stored]), now=NOW) == []


def test_it_follows_a_change_of_the_services_labels():
    state = apply(
        ClusterState.of([service(labels={"team": "a"})]),
        endpoints.plan(ClusterState.of([service(labels={"team": "a"})]), now=NOW),
    )
    relabelled = [o for kind, items in state.by_kind.items() if kind != "Service" for o in items]

    actions = endpoints.plan(ClusterState.of([*relabelled, service(labels={"tier": "web"})]), now=NOW)

    assert actions == [
        Patch(
            "v1",
            "Endpoints",
            "default",
            "web",
            {"subsets": None, "metadata": {"labels": {"team": None, "tier": "web"}}},
        ),
        Patch(SLICE, "EndpointSlice", "default", "web-whhrn", {"metadata": {"labels": {"team": None, "tier": "web"}}}),
    ]


# --- deleting -----------------------------------------------------------------------------------------


def test_it_deletes_the_endpoints_of_a_deleted_service_and_leaves_slices_to_the_garbage_collector():
    state = apply(
        ClusterState.of([service(), pod("web", "10.244.0.7")]),
        endpoints.plan(ClusterState.of([service(), pod("web", "10.244.0.7")]), now=NOW),
    )
    without_service = ClusterState.of([o for kind, items in state.by_kind.items() if kind != "Service" for o in items])

    uid = stored(state, "Endpoints", "web")["metadata"]["uid"]
    assert endpoints.plan(without_service, now=NOW) == [Delete("v1", "Endpoints", "default", "web", uid=uid)]


def test_it_spares_a_leader_election_record():
    leader = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "kube-scheduler",
            "namespace": "kube-system",
            "uid": "uid-leader",
            "annotations": {"control-plane.alpha.kubernetes.io/leader": "{}"},
        },
    }

    assert endpoints.plan(ClusterState.of([leader]), now=NOW) == []


def test_it_replaces_a_slice_owned_by_an_earlier_service_of_the_same_name():
    state = apply(ClusterState.of([service()]), endpoints.plan(ClusterState.of([service()]), now=NOW))
    recreated = service()
    recreated["metadata"]["uid"] = "uid-svc-web-2"
    rest = [o for kind, items in state.by_kind.items() if kind != "Service" for o in items]

    actions = endpoints.plan(ClusterState.of([*rest, recreated]), now=NOW)

    assert [type(a).__name__ for a in actions] == ["Create", "Delete"]
    assert actions[0].body["metadata"]["ownerReferences"][0]["uid"] == "uid-svc-web-2"
    assert actions[1] == Delete(SLICE, "EndpointSlice", "default", "web-whhrn", uid="uid-web-whhrn")


def test_it_creates_nothing_in_a_terminating_namespace():
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "default", "uid": "uid-ns", "deletionTimestamp": "2025-03-01T11:00:00Z"},
    }

    assert endpoints.plan(ClusterState.of([namespace, service(), pod("web", "10.244.0.7")]), now=NOW) == []


# --- why, in words ------------------------------------------------------------------------------------


def test_its_writes_say_how_many_pods_the_service_selects_and_how_many_are_ready():
    pods = [pod("web-a", "10.244.0.7"), pod("web-b", "10.244.0.8", ready=False), pod("web-c", "")]
    create_endpoints, create_slice = endpoints.plan(ClusterState.of([service(), *pods]), now=NOW)
    assert create_endpoints.why == "Service web selects 3 pods, 1 ready: creating its Endpoints"
    assert create_slice.why == "Service web selects 3 pods, 1 ready: creating EndpointSlice web-whhrn"

    state = apply(ClusterState.of([service(), *pods]), [create_endpoints, create_slice])
    ready_now = [o for kind in ("Service", "Endpoints", "EndpointSlice") for o in state.by_kind[kind]]
    patches = endpoints.plan(
        ClusterState.of([*ready_now, pod("web-a", "10.244.0.7"), pod("web-b", "10.244.0.8")]), now=NOW
    )
    assert [a.why for a in patches] == [
        "Service web selects 2 pods, 2 ready: endpoints updated",
        "Service web selects 2 pods, 2 ready: EndpointSlice updated",
    ]


def test_deleting_says_the_service_is_gone_or_needs_the_slice_no_more():
    state = apply(ClusterState.of([service()]), endpoints.plan(ClusterState.of([service()]), now=NOW))
    rest = [o for kind, items in state.by_kind.items() if kind != "Service" for o in items]
    [orphan] = endpoints.plan(ClusterState.of(rest), now=NOW)
    assert orphan.why == "Service web is gone: deleting its Endpoints"
    recreated = service()
    recreated["metadata"]["uid"] = "uid-svc-web-2"
    _, stale = endpoints.plan(ClusterState.of([*rest, recreated]), now=NOW)
    assert stale.why == "Service web no longer needs EndpointSlice web-whhrn: deleting it"
