import ipaddress
import json
import uuid

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusters import errors, sandbox_network, store
from clusters.models import Change, Sandbox, StoredObject
from clusters.objects import selectors
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

PODS = resource_for_kind("v1", "Pod")
DEPLOYMENTS = resource_for_kind("apps/v1", "Deployment")
SERVICES = resource_for_kind("v1", "Service")
CONFIGMAPS = resource_for_kind("v1", "ConfigMap")
NAMESPACES = resource_for_kind("v1", "Namespace")

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox():
    return sandbox_create(owner=User.objects.create(username="alice"))


def pod(name="web", **metadata):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **metadata},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
    }


def deployment(replicas=2):
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}},
        },
    }


def test_a_new_sandbox_has_the_namespaces_nodes_accounts_and_storage_class_of_a_fresh_cluster(sandbox):
    kinds = set(StoredObject.objects.filter(sandbox=sandbox).values_list("kind", "name"))
    for namespace in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert ("Namespace", namespace) in kinds
        assert StoredObject.objects.filter(sandbox=sandbox, kind="ServiceAccount", namespace=namespace).exists()
    assert {("Node", "node-1"), ("Node", "node-2"), ("StorageClass", "standard")} <= kinds
    node = store.object_get(sandbox=sandbox, resource=resource_for_kind("v1", "Node"), namespace="", name="node-1")
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "True"


def test_create_sets_the_server_fields_and_logs_the_change_at_the_same_version(sandbox):
    created = store.object_create(sandbox=sandbox, resource=PODS, body=pod(), namespace="default")
    metadata = created["metadata"]
    assert metadata["uid"]
    assert metadata["creationTimestamp"].endswith("Z")
    assert metadata["generation"] == 1
    assert metadata["namespace"] == "default"
    change = Change.objects.get(resource_version=int(metadata["resourceVersion"]))
    assert (change.type, change.kind, change.name) == ("ADDED", "Pod", "web")
    assert created["spec"]["restartPolicy"] == "Always"
    assert created["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_resource_versions_grow_across_sandboxes(sandbox):
    other = sandbox_create(owner=User.objects.create(username="bob"))
    first = store.object_create(sandbox=sandbox, resource=PODS, body=pod("a"), namespace="default")
    second = store.object_create(sandbox=other, resource=PODS, body=pod("a"), namespace="default")
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])


def test_generate_name_gets_a_random_suffix(sandbox):
    body = pod("")
    body["metadata"] = {"generateName": "web-"}
    created = store.object_create(sandbox=sandbox, resource=PODS, body=body, namespace="default")
    assert created["metadata"]["name"].startswith("web-")
    assert len(created["metadata"]["name"]) == len("web-") + 5


def test_an_invalid_object_is_rejected_with_its_causes_and_nothing_is_stored(sandbox):
    before = Change.objects.count()
    bad = pod("Bad_Name")
    with pytest.raises(errors.Invalid) as caught:
        store.object_create(sandbox=sandbox, resource=PODS, body=bad, namespace="default")
    status = caught.value.status()
    assert status["code"] == 422
    assert status["message"].startswith('Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"')
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    assert Change.objects.count() == before


def test_an_unknown_field_is_a_bad_request_naming_its_path(sandbox):
    typo = pod()
    typo["spec"]["containers"][0]["imagee"] = "x"
    with pytest.raises(errors.BadRequest, match=r'unknown field "spec.containers\[0\].imagee"'):
        store.object_create(sandbox=sandbox, resource=PODS, body=typo, namespace="default")


def test_creating_in_a_missing_namespace_is_not_found(sandbox):
    with pytest.raises(errors.NotFound, match='namespaces "nowhere" not found'):
        store.object_create(sandbox=sandbox, resource=PODS, body=pod(), namespace="nowhere")


def test_a_second_object_of_the_same_name_already_exists(sandbox):
    store.object_create(sandbox=sandbox, resource=PODS, body=pod(), namespace="default")
    with pytest.raises(errors.AlreadyExists, match='pods "web" already exists'):
        store.object_create(sandbox=sandbox, resource=PODS, body=pod(), namespace="default")


def test_an_update_with_a_stale_resource_version_conflicts_and_changes_nothing(sandbox):
    created = store.object_create(sandbox=sandbox, resource=DEPLOYMENTS, body=deployment(), namespace="default")
    fresh = dict(created, spec={**created["spec"], "replicas": 3})
    updated = store.object_update(sandbox=sandbox, resource=DEPLOYMENTS, namespace="default", name="web", body=fresh)
    assert updated["spec"]["replicas"] == 3
    stale = dict(created, spec={**created["spec"], "replicas": 9})
    with pytest.raises(errors.Conflict, match="the object has been modified"):
        store.object_update(sandbox=sandbox, resource=DEPLOYMENTS, namespace="default", name="web", body=stale)
    stored = store.object_get(sandbox=sandbox, resource=DEPLOYMENTS, namespace="default", name="web")
    assert stored["spec"]["replicas"] == 3


def test_generation_follows_the_spec_not_the_metadata(sandbox):
    store.object_create(sandbox=sandbox, resource=DEPLOYMENTS, body=deployment(), namespace="default")

    def patch(body):
        return store.object_patch(
            sandbox=sandbox,
            resource=DEPLOYMENTS,
            namespace="default",
            name="web",
            patch=json.dumps(body).encode(),
            content_type="application/merge-patch+json",
        )

    assert patch({"metadata": {"labels": {"team": "blue"}}})["metadata"]["generation"] == 1
    assert patch({"spec": {"replicas": 4}})["metadata"]["generation"] == 2


def test_a_patch_that_changes_nothing_writes_nothing(sandbox):
    created = store.object_create(
        sandbox=sandbox,
        resource=CONFIGMAPS,
        body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}},
        namespace="default",
    )
    same = store.object_patch(
        sandbox=sandbox,
        resource=CONFIGMAPS,
        namespace="default",
        name="c",
        patch=b'{"data": {"a": "1"}}',
        content_type="application/merge-patch+json",
    )
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_status_is_kept_on_update_and_changed_only_through_the_status_subresource(sandbox):
    created = store.object_create(sandbox=sandbox, resource=DEPLOYMENTS, body=deployment(), namespace="default")
    with_status = dict(created, status={"replicas": 2, "readyReplicas": 2})
    after = store.object_update(
        sandbox=sandbox, resource=DEPLOYMENTS, namespace="default", name="web", body=with_status
    )
    assert after.get("status", {}) == created.get("status", {})
    after = store.object_update(
        sandbox=sandbox,
        resource=DEPLOYMENTS,
        namespace="default",
        name="web",
        body=dict(after, status={"replicas": 2, "readyReplicas": 2}),
        subresource="status",
    )
    assert after["status"] == {"replicas": 2, "readyReplicas": 2}
    assert after["metadata"]["generation"] == 1


def test_services_get_a_cluster_ip_from_the_service_range_and_target_port_from_port(sandbox):
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    first = store.object_create(sandbox=sandbox, resource=SERVICES, body=body, namespace="default")
    body["metadata"]["name"] = "web2"
    second = store.object_create(sandbox=sandbox, resource=SERVICES, body=body, namespace="default")
    service_range = sandbox_network.service_range(sandbox.network)
    assert ipaddress.ip_address(first["spec"]["clusterIP"]) in service_range
    assert first["spec"]["clusterIP"] != second["spec"]["clusterIP"]
    assert first["spec"]["ports"][0]["targetPort"] == 80
    assert first["spec"]["type"] == "ClusterIP"


def test_delete_removes_the_object_and_logs_deleted(sandbox):
    store.object_create(sandbox=sandbox, resource=PODS, body=pod(), namespace="default")
    store.object_delete(sandbox=sandbox, resource=PODS, namespace="default", name="web")
    assert not StoredObject.objects.filter(sandbox=sandbox, kind="Pod").exists()
    assert Change.objects.filter(kind="Pod", name="web").order_by("-resource_version").first().type == "DELETED"


def test_an_object_with_finalizers_waits_for_them_then_goes(sandbox):
    store.object_create(sandbox=sandbox, resource=PODS, body=pod(finalizers=["example.com/hold"]), namespace="default")
    marked = store.object_delete(sandbox=sandbox, resource=PODS, namespace="default", name="web")
    assert marked["metadata"]["deletionTimestamp"]
    assert StoredObject.objects.filter(sandbox=sandbox, kind="Pod").exists()
    store.object_patch(
        sandbox=sandbox,
        resource=PODS,
        namespace="default",
        name="web",
        patch=b'{"metadata": {"finalizers": null}}',
        content_type="application/merge-patch+json",
    )
    assert not StoredObject.objects.filter(sandbox=sandbox, kind="Pod").exists()


def test_foreground_and_orphan_deletion_leave_their_finalizers_for_the_garbage_collector(sandbox):
    store.object_create(sandbox=sandbox, resource=DEPLOYMENTS, body=deployment(), namespace="default")
    marked = store.object_delete(
        sandbox=sandbox, resource=DEPLOYMENTS, namespace="default", name="web", propagation="Foreground"
    )
    assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]


def test_deleting_a_namespace_marks_it_terminating_and_refuses_new_content(sandbox):
    store.object_create(
        sandbox=sandbox,
        resource=NAMESPACES,
        body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "teach"}},
    )
    assert StoredObject.objects.filter(
        sandbox=sandbox, kind="ServiceAccount", namespace="teach", name="default"
    ).exists()
    marked = store.object_delete(sandbox=sandbox, resource=NAMESPACES, namespace="", name="teach")
    assert marked["status"]["phase"] == "Terminating"
    with pytest.raises(errors.Forbidden, match="because it is being terminated"):
        store.object_create(sandbox=sandbox, resource=PODS, body=pod(), namespace="teach")


def test_list_filters_by_labels_and_fields_and_reports_the_current_version(sandbox):
    store.object_create(sandbox=sandbox, resource=PODS, body=pod("a", labels={"app": "web"}), namespace="default")
    store.object_create(sandbox=sandbox, resource=PODS, body=pod("b", labels={"app": "db"}), namespace="default")
    listing = store.object_list(sandbox=sandbox, resource=PODS, namespace="default", label_selector="app=web")
    assert [item["metadata"]["name"] for item in listing.items] == ["a"]
    by_field = store.object_list(sandbox=sandbox, resource=PODS, field_selector="metadata.name=b")
    assert [item["metadata"]["name"] for item in by_field.items] == ["b"]
    assert listing.resource_version == store.current_resource_version()


@pytest.mark.parametrize(
    "selector",
    [
        "spec.nodeName=node-1",
        "spec.nodeName==node-2",
        "spec.nodeName=",
        "spec.nodeName!=node-1",
        "spec.nodeName=node-1,metadata.namespace=default",
        "metadata.name=b",
        "metadata.namespace=teach",
        "metadata.name=b,spec.nodeName=node-2",
    ],
)
def test_a_field_selector_the_database_narrows_lists_what_the_selector_alone_would(sandbox, selector):
    teach = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "teach"}}
    store.object_create(sandbox=sandbox, resource=NAMESPACES, body=teach)
    for name, namespace, node in [("a", "default", "node-1"), ("b", "default", "node-2"), ("c", "teach", "node-1")]:
        body = pod(name)
        body["spec"]["nodeName"] = node
        store.object_create(sandbox=sandbox, resource=PODS, body=body, namespace=namespace)
    store.object_create(sandbox=sandbox, resource=PODS, body=pod("d"), namespace="default")  # not scheduled
    everything = store.object_list(sandbox=sandbox, resource=PODS).items
    requirements = selectors.parse_field_selector(selector)
    expected = [body["metadata"]["name"] for body in everything if selectors.fields_match(requirements, body)]

    listed = store.object_list(sandbox=sandbox, resource=PODS, field_selector=selector).items

    assert [body["metadata"]["name"] for body in listed] == expected


def test_a_read_without_a_version_is_one_statement_and_lists_what_a_listing_does(sandbox):
    for name in "ab":
        store.object_create(sandbox=sandbox, resource=PODS, body=pod(name, labels={"app": name}), namespace="default")
    listed = store.object_list(sandbox=sandbox, resource=PODS, label_selector="app=b")
    with CaptureQueriesContext(connection) as queries:
        read = store.objects_read(sandbox=sandbox, resource=PODS, label_selector="app=b")
    assert read == listed.items
    assert len(queries.captured_queries) == 1


def test_a_kubelets_listing_of_its_node_reads_only_that_nodes_pods(sandbox):
    for name, node in [("a", "node-1"), ("b", "node-2")]:
        body = pod(name)
        body["spec"]["nodeName"] = node
        store.object_create(sandbox=sandbox, resource=PODS, body=body, namespace="default")
    with CaptureQueriesContext(connection) as queries:
        store.object_list(sandbox=sandbox, resource=PODS, field_selector="spec.nodeName=node-1")
    read = [query["sql"] for query in queries.captured_queries if "clusters_storedobject" in query["sql"]]
    assert len(read) == 1, read
    assert "nodeName" in read[0]


def test_compaction_keeps_the_newest_changes_and_moves_the_horizon_forward_only(sandbox):
    for name in "abc":
        store.object_create(
            sandbox=sandbox,
            resource=CONFIGMAPS,
            body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}},
            namespace="default",
        )
    assert store.change_log_compact(keep=2) > 0
    assert Change.objects.count() == 2
    assert store.change_log_compact(keep=2) == 0
    assert store.change_log_compact(keep=10_000) == 0


def test_setting_a_pods_node_once_is_a_binding_and_moving_it_is_refused(sandbox):
    store.object_create(sandbox=sandbox, resource=PODS, body=pod(), namespace="default")

    def bind(node):
        return store.object_patch(
            sandbox=sandbox,
            resource=PODS,
            namespace="default",
            name="web",
            patch=json.dumps({"spec": {"nodeName": node}}).encode(),
            content_type="application/merge-patch+json",
        )

    assert bind("node-1")["spec"]["nodeName"] == "node-1"
    with pytest.raises(errors.Invalid, match="pod updates may not change fields"):
        bind("node-2")


def test_a_namespace_goes_once_its_controller_empties_its_finalizers_taking_its_events_along(sandbox):
    store.object_create(
        sandbox=sandbox,
        resource=NAMESPACES,
        body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "teach"}},
    )
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e1"},
        "involvedObject": {"name": "x"},
        "reason": "Testing",
        "message": "hi",
    }
    store.object_create(sandbox=sandbox, resource=resource_for_kind("v1", "Event"), body=event, namespace="teach")
    store.object_delete(sandbox=sandbox, resource=NAMESPACES, namespace="", name="teach")
    store.object_patch(
        sandbox=sandbox,
        resource=NAMESPACES,
        namespace="",
        name="teach",
        patch=b'{"status": {"conditions": []}}',
        content_type="application/merge-patch+json",
    )
    assert StoredObject.objects.filter(sandbox=sandbox, kind="Namespace", name="teach").exists()
    store.object_patch(
        sandbox=sandbox,
        resource=NAMESPACES,
        namespace="",
        name="teach",
        patch=b'{"spec": {"finalizers": []}}',
        content_type="application/merge-patch+json",
    )
    assert not StoredObject.objects.filter(sandbox=sandbox, namespace="teach").exists()
    assert not StoredObject.objects.filter(sandbox=sandbox, kind="Namespace", name="teach").exists()


def test_foreground_deletion_of_a_kind_without_spec_works(sandbox):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body=body, namespace="default")
    marked = store.object_delete(
        sandbox=sandbox, resource=CONFIGMAPS, namespace="default", name="c", propagation="Foreground"
    )
    assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]


def test_a_batch_create_gives_each_object_its_own_version_and_change(sandbox):
    before = store.current_resource_version()
    created = store.objects_create(sandbox=sandbox, resource=PODS, bodies=[pod("a"), pod("b")], namespace="default")
    versions = [int(body["metadata"]["resourceVersion"]) for body in created]
    assert versions == [before + 1, before + 2]
    assert versions[-1] == store.current_resource_version()
    logged = Change.objects.filter(resource_version__in=versions).order_by("resource_version")
    assert [(c.name, c.type, c.body) for c in logged] == [("a", "ADDED", created[0]), ("b", "ADDED", created[1])]
    stored = store.object_get(sandbox=sandbox, resource=PODS, namespace="default", name="b")
    assert stored == created[1]
    assert stored["status"] == {"phase": "Pending", "qosClass": "BestEffort"}  # admitted like a single create


def test_a_batch_create_is_all_or_none(sandbox):
    store.object_create(sandbox=sandbox, resource=PODS, body=pod("b"), namespace="default")
    with pytest.raises(errors.AlreadyExists):
        store.objects_create(sandbox=sandbox, resource=PODS, bodies=[pod("a"), pod("b")], namespace="default")
    with pytest.raises(errors.AlreadyExists):
        store.objects_create(sandbox=sandbox, resource=PODS, bodies=[pod("c"), pod("c")], namespace="default")
    with pytest.raises(errors.Invalid):
        store.objects_create(sandbox=sandbox, resource=PODS, bodies=[pod("d"), pod("Not_A_Name")], namespace="default")
    names = set(StoredObject.objects.filter(sandbox=sandbox, kind="Pod").values_list("name", flat=True))
    assert names == {"b"}


def test_a_batch_create_refuses_a_missing_namespace_and_kinds_admitted_one_by_one(sandbox):
    with pytest.raises(errors.NotFound):
        store.objects_create(sandbox=sandbox, resource=PODS, bodies=[pod("a")], namespace="nowhere")
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}
    with pytest.raises(ValueError, match="one by one"):
        store.objects_create(sandbox=sandbox, resource=SERVICES, bodies=[service], namespace="default")


def test_a_binding_sets_the_node_and_the_conditions_in_one_write(sandbox):
    created = store.object_create(sandbox=sandbox, resource=PODS, body=pod(), namespace="default")
    version = created["metadata"]["resourceVersion"]
    condition = {"type": "PodScheduled", "status": "True", "lastProbeTime": None}
    bound = store.pod_bind(
        sandbox=sandbox,
        namespace="default",
        name="web",
        node="node-1",
        conditions=[condition],
        resource_version=version,
    )
    assert (bound["spec"]["nodeName"], bound["status"]["conditions"]) == ("node-1", [condition])
    assert Change.objects.filter(sandbox=sandbox, kind="Pod", name="web").count() == 2  # ADDED, then the binding


def test_a_pod_that_changed_is_bound_or_is_leaving_cannot_be_bound(sandbox):
    created = store.object_create(sandbox=sandbox, resource=PODS, body=pod(), namespace="default")
    old_version = created["metadata"]["resourceVersion"]
    patch = json.dumps({"metadata": {"labels": {"tier": "web"}}}).encode()
    changed = store.object_patch(
        sandbox=sandbox,
        resource=PODS,
        namespace="default",
        name="web",
        patch=patch,
        content_type="application/merge-patch+json",
    )

    def bind(version, node="node-1"):
        return store.pod_bind(
            sandbox=sandbox, namespace="default", name="web", node=node, conditions=[], resource_version=version
        )

    with pytest.raises(errors.Conflict, match="has been modified"):
        bind(old_version)
    bind(changed["metadata"]["resourceVersion"])
    with pytest.raises(errors.Conflict, match='already assigned to node "node-1"'):
        bind(None, node="node-2")
    kept = pod("leaving", finalizers=["example.com/keep"])  # held back, so it stays, being deleted
    store.object_create(sandbox=sandbox, resource=PODS, body=kept, namespace="default")
    store.object_delete(sandbox=sandbox, resource=PODS, namespace="default", name="leaving")
    with pytest.raises(errors.Conflict, match="being deleted"):
        store.pod_bind(
            sandbox=sandbox, namespace="default", name="leaving", node="node-1", conditions=[], resource_version=None
        )


def _statements(action) -> int:
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def test_many_bindings_are_one_transaction_of_a_few_statements_and_all_or_none(sandbox):
    names = [f"web-{n}" for n in range(20)]
    store.objects_create(sandbox=sandbox, resource=PODS, bodies=[pod(name) for name in names], namespace="default")

    def bindings(chosen):
        return [store.Binding("default", name, "node-1", [], why=f"{name} fits node-1") for name in chosen]

    one = _statements(lambda: store.pods_bind(sandbox=sandbox, bindings=bindings(names[:1])))
    many = _statements(lambda: store.pods_bind(sandbox=sandbox, bindings=bindings(names[1:])))
    assert many == one  # not one more per pod
    changes = Change.objects.filter(sandbox=sandbox, kind="Pod", type=Change.MODIFIED).order_by("resource_version")
    assert [c.reason for c in changes] == [f"{name} fits node-1" for name in names]
    versions = [c.resource_version for c in changes][1:]
    assert versions == list(range(versions[0], versions[0] + 19))  # one bump of the counter, in order
    assert all(c.body["metadata"]["resourceVersion"] == str(c.resource_version) for c in changes)
    stored = store.object_get(sandbox=sandbox, resource=PODS, namespace="default", name="web-7")
    assert (stored["spec"]["nodeName"], stored["metadata"]["resourceVersion"]) == ("node-1", str(versions[6]))

    store.objects_create(sandbox=sandbox, resource=PODS, bodies=[pod("a"), pod("b")], namespace="default")
    before = Change.objects.count()
    with pytest.raises(errors.Conflict, match="already assigned"):
        store.pods_bind(sandbox=sandbox, bindings=bindings(["a", "web-3", "b"]))
    with pytest.raises(errors.NotFound):
        store.pods_bind(sandbox=sandbox, bindings=bindings(["a", "gone"]))
    assert Change.objects.count() == before
    assert "nodeName" not in store.object_get(sandbox=sandbox, resource=PODS, namespace="default", name="a")["spec"]


def test_many_statuses_are_written_together_skipping_a_pod_that_is_gone(sandbox):
    names = [f"web-{n}" for n in range(10)]
    store.objects_create(sandbox=sandbox, resource=PODS, bodies=[pod(name) for name in names], namespace="default")

    def patches(phase, chosen):
        return [store.StatusPatch("default", name, {"phase": phase}, why=f"{name} is {phase}") for name in chosen]

    with store.writing_as("kubelet/node-1"):
        one = _statements(
            lambda: store.statuses_patch(sandbox=sandbox, resource=PODS, patches=patches("Running", names[:1]))
        )
        written = store.statuses_patch(sandbox=sandbox, resource=PODS, patches=patches("Running", [*names, "gone"]))
        many = _statements(
            lambda: store.statuses_patch(sandbox=sandbox, resource=PODS, patches=patches("Succeeded", names))
        )
    assert many == one
    assert [body["metadata"]["name"] for body in written] == names[1:]  # web-0 was Running already; "gone" is skipped
    for name in names:
        stored = store.object_get(sandbox=sandbox, resource=PODS, namespace="default", name=name)
        assert stored["status"]["phase"] == "Succeeded"
        assert stored["status"]["qosClass"] == "BestEffort"  # merged into the status, not replacing it
    last = Change.objects.filter(sandbox=sandbox, name="web-4").latest("resource_version")
    assert (last.actor, last.reason) == ("kubelet/node-1", "web-4 is Succeeded")

    before = Change.objects.count()
    bad = [*patches("Failed", names[:3]), store.StatusPatch("default", "web-5", {"phase": ["Failed"]})]
    with pytest.raises(errors.BadRequest, match="phase"):
        store.statuses_patch(sandbox=sandbox, resource=PODS, patches=bad)
    assert Change.objects.count() == before
    assert store.object_get(sandbox=sandbox, resource=PODS, namespace="default", name="web-0")["status"]["phase"] == (
        "Succeeded"
    )


def _node_port_service(name: str, node_port: int | None = None) -> dict:
    port = {"port": 80, **({"nodePort": node_port} if node_port else {})}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"type": "NodePort", "ports": [port]},
    }


def test_docker_sandboxes_share_the_hosts_node_ports():
    first = sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated")
    second = sandbox_create(owner=User.objects.create(username="bob"), runtime="simulated")
    Sandbox.objects.filter(pk=first.pk).update(network="10.213.1.0/24")
    Sandbox.objects.filter(pk=second.pk).update(network="10.213.2.0/24")
    first.refresh_from_db()
    second.refresh_from_db()
    made = store.object_create(sandbox=first, resource=SERVICES, body=_node_port_service("web"), namespace="default")
    port = made["spec"]["ports"][0]["nodePort"]
    assert made["spec"]["clusterIP"].startswith("10.213.1.")
    other = store.object_create(sandbox=second, resource=SERVICES, body=_node_port_service("web"), namespace="default")
    assert other["spec"]["ports"][0]["nodePort"] != port
    with pytest.raises(
        errors.Invalid, match=rf"spec.ports\[0\].nodePort: Invalid value: {port}: provided port is already"
    ):
        store.object_create(
            sandbox=second, resource=SERVICES, body=_node_port_service("taken", port), namespace="default"
        )


def test_objects_created_together_are_inserted_row_by_row_and_read_back_whole(sandbox):
    bodies = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}, "data": {"quote": 'say "hi" {x}\\'}}
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as queries:
        store.objects_create(sandbox=sandbox, resource=CONFIGMAPS, bodies=bodies, namespace="default")
    inserts = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("INSERT")]
    # PostgreSQL's UNNEST form would send each body column as one escaped array (models.BodyField).
    assert len(inserts) == 2, inserts
    assert not any("UNNEST" in sql for sql in inserts), inserts
    stored = store.object_list(sandbox=sandbox, resource=CONFIGMAPS, namespace="default").items
    assert [body["data"] for body in stored] == [body["data"] for body in bodies]
    logged = Change.objects.filter(sandbox=sandbox, kind="ConfigMap").order_by("resource_version")
    assert [change.body["data"] for change in logged] == [body["data"] for body in bodies]


@pytest.mark.parametrize(
    "value",
    [
        2**70,  # past orjson's 64 bits: json writes and reads it
        '한국어 — text with quotes " and braces {}',
        1.5e300,
        [None, True, {"nested": ["x"]}],
    ],
)
def test_a_body_reads_back_as_it_was_written(sandbox, value):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "odd"}, "extra": value}
    identity = {"kind": "ConfigMap", "namespace": "default", "name": "odd", "uid": uuid.uuid4()}
    row = StoredObject.objects.create(sandbox=sandbox, **identity, resource_version=1, body=body)
    assert StoredObject.objects.get(pk=row.pk).body == body
    assert list(StoredObject.objects.filter(pk=row.pk).values_list("body", flat=True)) == [body]
