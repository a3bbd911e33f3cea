"""The three-way patch of client-side `kubectl apply`, computed without a server.

Each expectation is the patch upstream's CreateThreeWayMergePatch (k8s.io/apimachinery
util/strategicpatch) computes for the same three documents with the same schemas; the last tests
apply the patch with the server's strategic merge and look at the object that results.
"""

import copy
import json

import pytest

from clusters.objects import schema
from clusters.objects.patch import strategic_merge
from clusters.objects.threeway import (
    LAST_APPLIED,
    ThreeWayError,
    go_json,
    last_applied,
    original_configuration,
    three_way_patch,
    with_last_applied,
)

DEPLOYMENT = schema.definition_for("apps/v1", "Deployment")
CONFIGMAP = schema.definition_for("v1", "ConfigMap")
POD = schema.definition_for("v1", "Pod")


def deployment(**spec_changes) -> dict:
    container = {
        "name": "app",
        "image": "nginx:1.27",
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "ports": [{"containerPort": 80}, {"containerPort": 8080}],
    }
    spec = {
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}},
    }
    spec.update(spec_changes)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": spec,
    }


def containers(document: dict) -> list:
    return document["spec"]["template"]["spec"]["containers"]


def stored(manifest: dict, **extra) -> dict:
    """The object as the server keeps it after an apply: annotated, defaulted, with a status."""
    current = with_last_applied(manifest)
    current["metadata"].update(uid="1234", resourceVersion="7", generation=1)
    current["status"] = {"replicas": 1}
    if current["kind"] == "Deployment":
        current["spec"].setdefault("replicas", 1)
        current["spec"]["strategy"].setdefault("rollingUpdate", {}).setdefault("maxUnavailable", "25%")
        for container in containers(current):
            container.setdefault("imagePullPolicy", "IfNotPresent")
            container.setdefault("terminationMessagePath", "/dev/termination-log")
    for key, value in extra.items():
        current[key] = value
    return current


def patch_for(before: dict, after: dict, current: dict | None = None, definition: dict = DEPLOYMENT) -> dict:
    """The patch for re-applying `after` over an object last applied as `before`, without the
    annotation (which changes with every manifest and is checked on its own)."""
    current = stored(before) if current is None else current
    patch = three_way_patch(
        original=original_configuration(current), modified=with_last_applied(after), current=current, schema=definition
    )
    annotations = patch.get("metadata", {}).get("annotations", {})
    annotations.pop(LAST_APPLIED, None)
    if patch.get("metadata", {}).get("annotations") == {}:
        del patch["metadata"]["annotations"]
    if patch.get("metadata") == {}:
        del patch["metadata"]
    return patch


def test_it_sends_nothing_when_the_manifest_is_applied_again_over_defaults_and_status():
    current = stored(deployment())
    patch = three_way_patch(
        original=original_configuration(current),
        modified=with_last_applied(deployment()),
        current=current,
        schema=DEPLOYMENT,
    )
    assert patch == {}


def test_it_sends_the_new_annotation_with_any_change():
    current = stored(deployment())
    changed = deployment()
    containers(changed)[0]["image"] = "nginx:1.28"
    patch = three_way_patch(
        original=original_configuration(current),
        modified=with_last_applied(changed),
        current=current,
        schema=DEPLOYMENT,
    )
    assert patch["metadata"]["annotations"][LAST_APPLIED] == last_applied(changed)
    assert patch["spec"]["template"]["spec"] == {
        "$setElementOrder/containers": [{"name": "app"}],
        "containers": [{"image": "nginx:1.28", "name": "app"}],
    }


def test_it_removes_a_label_removed_from_the_manifest_and_keeps_one_others_added():
    before = deployment()
    before["metadata"]["labels"]["tier"] = "web"
    current = stored(before)
    current["metadata"]["labels"]["team"] = "blue"  # kubectl label
    assert patch_for(before, deployment(), current) == {"metadata": {"labels": {"tier": None}}}


def test_it_keeps_replicas_set_by_scale_when_the_manifest_never_had_them():
    current = stored(deployment())
    current["spec"]["replicas"] = 3  # kubectl scale
    assert patch_for(deployment(), deployment(), current) == {}


def test_it_sets_replicas_back_when_the_manifest_names_them():
    current = stored(deployment(replicas=2))
    current["spec"]["replicas"] = 3
    assert patch_for(deployment(replicas=2), deployment(replicas=2), current) == {"spec": {"replicas": 2}}


def test_it_drops_replicas_the_manifest_stopped_naming():
    assert patch_for(deployment(replicas=2), deployment()) == {"spec": {"replicas": None}}


def test_it_deletes_a_removed_env_var_by_its_merge_key_with_the_element_orders():
    after = deployment()
    containers(after)[0]["env"] = [{"name": "A", "value": "1"}]
    assert patch_for(deployment(), after)["spec"]["template"]["spec"] == {
        "$setElementOrder/containers": [{"name": "app"}],
        "containers": [
            {"$setElementOrder/env": [{"name": "A"}], "env": [{"$patch": "delete", "name": "B"}], "name": "app"}
        ],
    }


def test_it_deletes_a_removed_port_by_its_container_port():
    after = deployment()
    containers(after)[0]["ports"] = [{"containerPort": 80}]
    container_patch = patch_for(deployment(), after)["spec"]["template"]["spec"]["containers"][0]
    assert container_patch == {
        "$setElementOrder/ports": [{"containerPort": 80}],
        "ports": [{"$patch": "delete", "containerPort": 8080}],
        "name": "app",
    }


def test_it_renames_a_container_as_an_added_one_and_a_deleted_one():
    after = deployment()
    containers(after)[0]["name"] = "web"
    spec_patch = patch_for(deployment(), after)["spec"]["template"]["spec"]
    assert spec_patch["$setElementOrder/containers"] == [{"name": "web"}]
    assert spec_patch["containers"] == [containers(after)[0], {"$patch": "delete", "name": "app"}]


def test_it_replaces_a_primitive_list_and_a_list_without_a_merge_key_whole():
    before = deployment()
    containers(before)[0]["args"] = ["-a", "-b"]
    before["spec"]["template"]["spec"]["tolerations"] = [{"key": "a", "operator": "Exists"}, {"key": "b"}]
    after = copy.deepcopy(before)
    containers(after)[0]["args"] = ["-a"]
    after["spec"]["template"]["spec"]["tolerations"] = [{"key": "a", "operator": "Exists"}]
    spec_patch = patch_for(before, after)["spec"]["template"]["spec"]
    assert spec_patch["tolerations"] == [{"key": "a", "operator": "Exists"}]
    assert spec_patch["containers"] == [{"args": ["-a"], "name": "app"}]


def test_it_clears_rolling_update_with_retain_keys_when_the_strategy_becomes_recreate():
    patch = patch_for(deployment(), deployment(strategy={"type": "Recreate"}))
    assert patch == {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": None, "type": "Recreate"}}}


def test_it_sends_retain_keys_when_the_object_has_a_field_the_manifest_never_had_in_a_retain_keys_map():
    # Upstream's quirk, kept: the live rollingUpdate (defaulted) is not in the manifest, so every
    # apply of a bare RollingUpdate strategy sends $retainKeys, and the server defaults it again.
    manifest = deployment(strategy={"type": "RollingUpdate"})
    assert patch_for(manifest, manifest) == {"spec": {"strategy": {"$retainKeys": ["type"]}}}


def test_it_sends_retain_keys_when_a_volume_changes_its_source():
    before = deployment()
    before["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "configMap": {"name": "settings"}}]
    after = copy.deepcopy(before)
    after["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
    assert patch_for(before, after)["spec"]["template"]["spec"] == {
        "$setElementOrder/volumes": [{"name": "data"}],
        "volumes": [{"$retainKeys": ["emptyDir", "name"], "configMap": None, "emptyDir": {}, "name": "data"}],
    }


def test_it_sends_a_whole_list_the_object_lacks():
    after = deployment()
    after["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
    assert patch_for(deployment(), after)["spec"]["template"]["spec"] == {"volumes": [{"name": "data", "emptyDir": {}}]}


def test_it_deletes_from_a_merging_list_of_scalars_with_a_parallel_list():
    before = deployment()
    before["metadata"]["finalizers"] = ["example.com/a", "example.com/b"]
    after = deployment()
    after["metadata"]["finalizers"] = ["example.com/a"]
    assert patch_for(before, after) == {
        "metadata": {
            "$deleteFromPrimitiveList/finalizers": ["example.com/b"],
            "$setElementOrder/finalizers": ["example.com/a"],
        }
    }


def test_it_removes_a_configmap_key_and_changes_another():
    before = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}}
    after = copy.deepcopy(before)
    after["data"] = {"a": "one"}
    assert patch_for(before, after, definition=CONFIGMAP) == {"data": {"a": "one", "b": None}}


def test_it_sends_a_value_whose_type_changed():
    before = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    current = stored(before)
    current["data"]["a"] = 1  # not valid for a ConfigMap, but the diff must not compare 1 with "1"
    assert patch_for(before, before, current, definition=CONFIGMAP) == {"data": {"a": "1"}}


def test_it_sends_the_whole_map_when_the_schema_says_replace():
    budget = schema.definition_for("policy/v1", "PodDisruptionBudget")
    manifest = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "b"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    }
    # As upstream: a replace-strategy map is sent whole at every apply, even unchanged.
    assert patch_for(manifest, manifest, definition=budget) == {"spec": {"selector": {"matchLabels": {"app": "web"}}}}


def test_it_treats_an_object_without_the_annotation_as_never_applied():
    current = stored(deployment())
    del current["metadata"]["annotations"][LAST_APPLIED]
    current["metadata"]["labels"]["created-by"] = "kubectl-create"
    containers(current)[0]["env"].append({"name": "C", "value": "3"})
    assert original_configuration(current) is None
    patch = three_way_patch(original=None, modified=with_last_applied(deployment()), current=current, schema=DEPLOYMENT)
    # Nothing the manifest lacks is deleted: the annotation is added, and the env list, longer on
    # the object, gets the manifest's order (as upstream sends it whenever the lengths differ).
    assert patch == {
        "metadata": {"annotations": {LAST_APPLIED: last_applied(deployment())}},
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "app"}],
                    "containers": [{"$setElementOrder/env": [{"name": "A"}, {"name": "B"}], "name": "app"}],
                }
            }
        },
    }
    result = strategic_merge(current, patch, DEPLOYMENT)
    assert result["metadata"]["labels"]["created-by"] == "kubectl-create"
    assert [env["name"] for env in containers(result)[0]["env"]] == ["A", "B", "C"]


def test_it_sends_the_element_order_when_only_the_order_changed():
    before = deployment()
    after = copy.deepcopy(before)
    containers(after)[0]["env"].reverse()
    container_patch = patch_for(before, after)["spec"]["template"]["spec"]["containers"][0]
    assert container_patch == {"$setElementOrder/env": [{"name": "B"}, {"name": "A"}], "name": "app"}


def test_it_refuses_a_merging_list_element_without_its_merge_key():
    after = deployment()
    containers(after)[0]["env"] = [{"value": "no name"}]
    with pytest.raises(ThreeWayError, match="does not contain declared merge key: name"):
        patch_for(deployment(), after)


def test_the_patch_applied_by_the_server_removes_what_the_manifest_dropped_and_keeps_the_rest():
    before = deployment()
    before["metadata"]["labels"]["tier"] = "web"
    current = stored(before)
    current["spec"]["replicas"] = 3
    current["metadata"]["labels"]["team"] = "blue"
    after = deployment(strategy={"type": "Recreate"})
    containers(after)[0].update(
        name="web", env=[{"name": "A", "value": "1"}], ports=[{"containerPort": 80}], image="nginx:1.28"
    )
    modified = with_last_applied(after)
    patch = three_way_patch(
        original=original_configuration(current), modified=modified, current=current, schema=DEPLOYMENT
    )
    result = strategic_merge(current, json.loads(json.dumps(patch)), DEPLOYMENT)
    assert result["metadata"]["labels"] == {"app": "web", "team": "blue"}
    assert result["metadata"]["annotations"][LAST_APPLIED] == last_applied(after)
    assert result["spec"]["replicas"] == 3
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    assert containers(result) == containers(after)
    assert result["status"] == {"replicas": 1}


def test_the_annotation_is_the_manifest_as_go_writes_json_with_an_empty_annotations_map():
    manifest = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}, "data": {"b": "<&>", "a": "é"}}
    assert last_applied(manifest) == (
        '{"apiVersion":"v1","data":{"a":"é","b":"\\u003c\\u0026\\u003e"},"kind":"ConfigMap",'
        '"metadata":{"annotations":{},"name":"c"}}\n'
    )
    annotated = with_last_applied(manifest)
    assert annotated["metadata"]["annotations"] == {LAST_APPLIED: last_applied(manifest)}
    # The annotation never contains itself, even when the manifest carries an old one.
    assert last_applied(annotated) == last_applied(manifest)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (1.0, "1"),
        (1.5, "1.5"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
    ],
)
def test_numbers_are_written_in_gos_shortest_form(value, written):
    assert go_json(value) == written


def test_an_annotation_that_is_not_json_is_an_error_and_an_empty_one_an_empty_original():
    assert original_configuration({"metadata": {"annotations": {LAST_APPLIED: ""}}}) == {}
    with pytest.raises(ThreeWayError, match="not valid JSON"):
        original_configuration({"metadata": {"annotations": {LAST_APPLIED: "{not json"}}})


def test_a_pod_patch_keeps_the_containers_the_server_added_in_place():
    # A merging list element only the object has (an injected sidecar) is neither sent nor deleted.
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
    }
    current = stored(manifest)
    current["spec"]["containers"].append({"name": "sidecar", "image": "envoy"})
    changed = copy.deepcopy(manifest)
    changed["spec"]["containers"][0]["image"] = "nginx:1.28"
    patch = patch_for(manifest, changed, current, definition=POD)
    assert patch == {
        "spec": {
            "$setElementOrder/containers": [{"name": "app"}],
            "containers": [{"image": "nginx:1.28", "name": "app"}],
        }
    }
    result = strategic_merge(current, patch, POD)
    assert [c["name"] for c in result["spec"]["containers"]] == ["app", "sidecar"]


def test_null_annotations_are_read_as_none_and_annotations_that_are_not_a_mapping_are_refused():
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": None}}
    assert with_last_applied(manifest)["metadata"]["annotations"] == {LAST_APPLIED: last_applied(manifest)}
    assert json.loads(last_applied(manifest))["metadata"]["annotations"] == {}
    manifest["metadata"]["annotations"] = ["a"]
    with pytest.raises(ThreeWayError, match=r'metadata.annotations must be a mapping of strings, not \["a"\]'):
        with_last_applied(manifest)
