"""The three PATCH flavours, fed the bodies the real kubectl 1.37 sends.

The patch bodies below are what kubectl 1.37.1 sent to a recording fake server for apply, edit,
set image, set env, label, annotate, scale and patch. The expected results were cross-checked
against upstream apimachinery's strategicpatch and json-patch v4, except where a test says why not.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from clusters.objects import schema as kube_schema
from clusters.objects.patch import (
    GENERIC_INVALID_MESSAGE,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    PatchError,
    UnsupportedPatchType,
    apply_patch,
    strategic_merge,
)

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def pod() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "0b8f6c1e-1d2a-4c3b-9e8f-7a6b5c4d3e2f",
            "resourceVersion": "41",
            "labels": {"app": "web", "tier": "frontend"},
            "annotations": {LAST_APPLIED: '{"apiVersion":"v1","kind":"Pod"}\n'},
            "finalizers": ["example.com/a", "example.com/b", "example.com/c"],
        },
        "spec": {
            "containers": [
                {
                    "name": "nginx",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}],
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                },
                {"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "3600"]},
            ],
            "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}],
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}],
            "restartPolicy": "Always",
        },
        "status": {"phase": "Running"},
    }


def deployment() -> dict:
    template_spec = copy.deepcopy(pod()["spec"])
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "generation": 3,
            "labels": {"app": "web", "tier": "frontend"},
            "annotations": {LAST_APPLIED: '{"apiVersion":"apps/v1","kind":"Deployment"}\n'},
            "finalizers": ["example.com/a", "example.com/b", "example.com/c"],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            # What the API server stores after defaulting, whether or not the manifest said it.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": template_spec},
        },
        "status": {
            "observedGeneration": 3,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    }


def smp(original: dict, patch: dict) -> dict:
    return apply_patch(original, json.dumps(patch), STRATEGIC_MERGE_PATCH)


def names(items: list[dict]) -> list[str]:
    return [item["name"] for item in items]


def container(obj: dict, name: str) -> dict:
    spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else obj["spec"]
    return next(c for c in spec["containers"] if c["name"] == name)


def directive_keys(value: Any) -> list[str]:
    """Every `$…` key anywhere in a document."""
    if isinstance(value, dict):
        found = [key for key in value if key.startswith("$")]
        return found + [key for item in value.values() for key in directive_keys(item)]
    if isinstance(value, list):
        return [key for item in value for key in directive_keys(item)]
    return []


# --- strategic merge patch: what kubectl apply / edit / set send ---------------------------------


def test_it_changes_one_container_image_and_keeps_the_others():
    # The body kubectl apply sends for a Pod whose manifest changed nginx:1.27 to nginx:1.28.
    body = {
        "metadata": {"annotations": {LAST_APPLIED: '{"apiVersion":"v1","kind":"Pod","spec":{}}\n'}},
        "spec": {
            "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
            "containers": [{"image": "nginx:1.28", "name": "nginx"}],
        },
    }
    before = pod()
    after = smp(before, body)

    assert container(after, "nginx")["image"] == "nginx:1.28"
    expected = pod()
    expected["spec"]["containers"][0]["image"] = "nginx:1.28"
    expected["metadata"]["annotations"][LAST_APPLIED] = '{"apiVersion":"v1","kind":"Pod","spec":{}}\n'
    assert after == expected  # ports, env, mounts, the sidecar, volumes, status: all as they were
    assert names(after["spec"]["containers"]) == ["nginx", "sidecar"]


def test_kubectl_set_image_on_a_deployment_changes_only_the_template_container():
    body = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                    "containers": [{"image": "nginx:1.29", "name": "nginx"}],
                }
            }
        }
    }
    after = smp(deployment(), body)

    expected = deployment()
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.29"
    assert after == expected


def test_kubectl_edit_adds_a_label_and_changes_the_image_in_one_patch():
    body = {
        "metadata": {"annotations": {LAST_APPLIED: "{}\n"}, "labels": {"edited": "yes"}},
        "spec": {
            "$setElementOrder/containers": [{"name": "nginx"}],
            "containers": [{"image": "nginx:1.29", "name": "nginx"}],
        },
    }
    after = smp(pod(), body)

    assert after["metadata"]["labels"] == {"app": "web", "tier": "frontend", "edited": "yes"}
    assert container(after, "nginx")["image"] == "nginx:1.29"
    # The order lists only nginx, but the sidecar is on the server only: it stays, after nginx.
    assert names(after["spec"]["containers"]) == ["nginx", "sidecar"]


def test_apply_adding_a_container_puts_it_where_set_element_order_says():
    body = {
        "spec": {
            "$setElementOrder/containers": [{"name": "nginx"}, {"name": "logger"}, {"name": "sidecar"}],
            "containers": [{"image": "fluent-bit:3", "name": "logger"}],
        }
    }
    after = smp(pod(), body)

    assert names(after["spec"]["containers"]) == ["nginx", "logger", "sidecar"]
    assert container(after, "logger") == {"image": "fluent-bit:3", "name": "logger"}
    assert container(after, "nginx") == pod()["spec"]["containers"][0]


def test_a_container_only_the_server_knows_stays_after_the_ones_apply_orders():
    # An injected sidecar is not in the manifest, so kubectl's order names the others only.
    stored = pod()
    stored["spec"]["containers"].append({"name": "istio-proxy", "image": "istio/proxyv2:1.27"})
    body = {
        "spec": {
            "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}, {"name": "logger"}],
            "containers": [{"image": "fluent-bit:3", "name": "logger"}],
        }
    }
    after = smp(stored, body)

    assert names(after["spec"]["containers"]) == ["nginx", "sidecar", "logger", "istio-proxy"]


def test_a_patch_adding_a_container_without_an_order_puts_it_first_as_upstream_does():
    after = smp(pod(), {"spec": {"containers": [{"name": "logger", "image": "fluent-bit:3"}]}})

    assert names(after["spec"]["containers"]) == ["logger", "nginx", "sidecar"]


def test_apply_removing_a_container_sends_patch_delete_and_only_that_container_goes():
    body = {
        "spec": {
            "$setElementOrder/containers": [{"name": "nginx"}],
            "containers": [{"$patch": "delete", "name": "sidecar"}],
        }
    }
    after = smp(pod(), body)

    assert after["spec"]["containers"] == [pod()["spec"]["containers"][0]]


def test_patch_delete_of_an_element_that_is_not_there_changes_nothing():
    after = smp(pod(), {"spec": {"containers": [{"$patch": "delete", "name": "no-such-container"}]}})

    assert after == pod()


def test_the_full_apply_of_a_changed_deployment_matches_the_new_manifest():
    # kubectl apply after editing the manifest: new image, env C added and A removed, port 443
    # added, a logger container, volume `cache` gone, finalizer b gone, label tier gone, and the
    # strategy switched to Recreate. This is the body kubectl 1.37 sent, verbatim.
    body = {
        "metadata": {
            "$deleteFromPrimitiveList/finalizers": ["example.com/b"],
            "$setElementOrder/finalizers": ["example.com/a", "example.com/c"],
            "annotations": {LAST_APPLIED: '{"kind":"Deployment"}\n'},
            "labels": {"tier": None},
        },
        "spec": {
            "strategy": {"$retainKeys": ["type"], "rollingUpdate": None, "type": "Recreate"},
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}, {"name": "logger"}],
                    "$setElementOrder/volumes": [{"name": "data"}],
                    "containers": [
                        {
                            "$setElementOrder/env": [{"name": "B"}, {"name": "C"}],
                            "$setElementOrder/ports": [{"containerPort": 80}, {"containerPort": 443}],
                            "env": [{"name": "C", "value": "3"}, {"$patch": "delete", "name": "A"}],
                            "image": "nginx:1.28",
                            "name": "nginx",
                            "ports": [{"containerPort": 443}],
                        },
                        {"image": "fluent-bit:3", "name": "logger"},
                    ],
                    "volumes": [{"$patch": "delete", "name": "cache"}],
                }
            },
        },
    }
    stored = deployment()
    stored["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "protocol": "TCP"}]
    after = smp(stored, body)

    assert after["metadata"]["finalizers"] == ["example.com/a", "example.com/c"]
    assert after["metadata"]["labels"] == {"app": "web"}
    assert after["spec"]["strategy"] == {"type": "Recreate"}
    spec = after["spec"]["template"]["spec"]
    assert names(spec["containers"]) == ["nginx", "sidecar", "logger"]
    assert spec["containers"][0] == {
        "name": "nginx",
        "image": "nginx:1.28",
        "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}],
        "env": [{"name": "B", "value": "2"}, {"name": "C", "value": "3"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    assert spec["containers"][1] == deployment()["spec"]["template"]["spec"]["containers"][1]
    assert spec["volumes"] == [{"name": "data", "emptyDir": {}}]
    assert after["status"] == deployment()["status"]
    assert directive_keys(after) == []


def test_kubectl_set_env_adds_a_variable_to_every_container():
    body = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                    "containers": [
                        {
                            "$setElementOrder/env": [{"name": "A"}, {"name": "B"}, {"name": "D"}],
                            "env": [{"name": "D", "value": "4"}],
                            "name": "nginx",
                        },
                        {"env": [{"name": "D", "value": "4"}], "name": "sidecar"},
                    ],
                }
            }
        }
    }
    after = smp(deployment(), body)

    assert container(after, "nginx")["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "2"},
        {"name": "D", "value": "4"},
    ]
    assert container(after, "sidecar")["env"] == [{"name": "D", "value": "4"}]
    assert container(after, "sidecar")["args"] == ["sleep", "3600"]


def test_kubectl_set_env_with_a_trailing_dash_removes_the_variable():
    body = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                    "containers": [
                        {
                            "$setElementOrder/env": [{"name": "A"}],
                            "env": [{"$patch": "delete", "name": "B"}],
                            "name": "nginx",
                        }
                    ],
                }
            }
        }
    }
    after = smp(deployment(), body)

    assert container(after, "nginx")["env"] == [{"name": "A", "value": "1"}]


def test_an_env_var_changes_its_value_in_place():
    after = smp(pod(), {"spec": {"containers": [{"name": "nginx", "env": [{"name": "A", "value": "changed"}]}]}})

    assert container(after, "nginx")["env"] == [{"name": "A", "value": "changed"}, {"name": "B", "value": "2"}]


def test_ports_merge_by_container_port():
    # kubectl apply dropping port 443 and changing an env value.
    body = {
        "spec": {
            "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
            "containers": [
                {
                    "$setElementOrder/ports": [{"containerPort": 80}, {"containerPort": 8080}],
                    "name": "nginx",
                    "ports": [{"containerPort": 8080}, {"$patch": "delete", "containerPort": 443}],
                }
            ],
        }
    }
    after = smp(pod(), body)

    assert container(after, "nginx")["ports"] == [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 8080}]


def test_a_volume_that_changes_its_source_keeps_only_the_retained_keys():
    # kubectl apply turning an emptyDir volume into a configMap volume (volumes: merge,retainKeys).
    body = {
        "spec": {
            "$setElementOrder/volumes": [{"name": "data"}, {"name": "cache"}],
            "volumes": [
                {
                    "$retainKeys": ["configMap", "name"],
                    "configMap": {"name": "settings"},
                    "emptyDir": None,
                    "name": "data",
                }
            ],
        }
    }
    after = smp(pod(), body)

    assert after["spec"]["volumes"] == [
        {"name": "data", "configMap": {"name": "settings"}},
        {"name": "cache", "emptyDir": {}},
    ]


def test_a_new_volume_and_mount_are_added_next_to_the_existing_ones():
    body = {
        "spec": {
            "$setElementOrder/volumes": [{"name": "data"}, {"name": "cache"}, {"name": "secrets"}],
            "volumes": [{"name": "secrets", "secret": {"secretName": "web-tls"}}],
            "containers": [
                {
                    "name": "nginx",
                    "$setElementOrder/volumeMounts": [{"mountPath": "/data"}, {"mountPath": "/tls"}],
                    "volumeMounts": [{"name": "secrets", "mountPath": "/tls", "readOnly": True}],
                }
            ],
        }
    }
    after = smp(pod(), body)

    assert names(after["spec"]["volumes"]) == ["data", "cache", "secrets"]
    assert container(after, "nginx")["volumeMounts"] == [
        {"name": "data", "mountPath": "/data"},
        {"name": "secrets", "mountPath": "/tls", "readOnly": True},
    ]


def test_null_deletes_a_label_and_keeps_the_others():
    after = smp(pod(), {"metadata": {"labels": {"tier": None}}})

    assert after["metadata"]["labels"] == {"app": "web"}


def test_strategy_switch_to_recreate_with_retain_keys_drops_rolling_update():
    # kubectl apply when the manifest had `strategy: {type: RollingUpdate}` and now says Recreate;
    # rollingUpdate came from server defaulting, so only $retainKeys can clear it.
    after = smp(deployment(), {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})

    assert after["spec"]["strategy"] == {"type": "Recreate"}
    assert after["spec"]["replicas"] == 2


def test_strategy_switch_without_retain_keys_keeps_the_defaulted_rolling_update():
    # kubectl apply when the manifest had no strategy before: it sends no $retainKeys, and on a real
    # cluster validation then rejects the Deployment (rollingUpdate with type Recreate).
    after = smp(deployment(), {"spec": {"strategy": {"type": "Recreate"}}})

    assert after["spec"]["strategy"] == {
        "type": "Recreate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }


def test_retain_keys_must_list_every_field_the_patch_sets():
    body = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {"maxSurge": 1}}}}

    with pytest.raises(PatchError) as raised:
        smp(deployment(), body)
    assert str(raised.value) == "invalid patch format of retainKeys"
    assert raised.value.code == 400


def test_delete_from_primitive_list_removes_a_finalizer_and_keeps_the_order():
    body = {
        "metadata": {
            "$deleteFromPrimitiveList/finalizers": ["example.com/b"],
            "$setElementOrder/finalizers": ["example.com/a", "example.com/c"],
        }
    }
    after = smp(pod(), body)

    assert after["metadata"]["finalizers"] == ["example.com/a", "example.com/c"]


def test_finalizers_merge_as_a_set():
    after = smp(pod(), {"metadata": {"finalizers": ["example.com/b", "example.com/d"]}})

    assert sorted(after["metadata"]["finalizers"]) == [
        "example.com/a",
        "example.com/b",
        "example.com/c",
        "example.com/d",
    ]


def test_set_element_order_alone_reorders_a_list():
    after = smp(
        pod(), {"metadata": {"$setElementOrder/finalizers": ["example.com/c", "example.com/b", "example.com/a"]}}
    )

    assert after["metadata"]["finalizers"] == ["example.com/c", "example.com/b", "example.com/a"]


def test_an_empty_merging_list_changes_nothing_but_null_clears_it():
    unchanged = smp(pod(), {"metadata": {"finalizers": []}, "spec": {"containers": []}})
    cleared = smp(pod(), {"metadata": {"finalizers": None}})

    assert unchanged == pod()
    assert "finalizers" not in cleared["metadata"]


def test_a_list_without_a_merge_strategy_is_replaced_whole():
    toleration = {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}
    after = smp(pod(), {"spec": {"tolerations": [toleration], "containers": [{"name": "sidecar", "args": ["sh"]}]}})

    assert after["spec"]["tolerations"] == [toleration]
    assert container(after, "sidecar")["args"] == ["sh"]  # args is atomic too


def test_patch_replace_on_a_list_replaces_it_instead_of_merging():
    body = {"spec": {"containers": [{"name": "only", "image": "nginx:1.28"}, {"$patch": "replace"}]}}
    after = smp(pod(), body)

    assert after["spec"]["containers"] == [{"name": "only", "image": "nginx:1.28"}]


def test_patch_replace_on_a_map_replaces_it_instead_of_merging():
    after = smp(pod(), {"metadata": {"labels": {"$patch": "replace", "app": "api"}}})

    assert after["metadata"]["labels"] == {"app": "api"}


def test_patch_delete_on_a_map_empties_it_as_upstream_does():
    # Upstream's handleDirectiveInMergeMap answers an empty map, not no map (kubectl patch --local
    # prints `rollingUpdate: {}`); the API server's typed decoding then defaults it.
    after = smp(deployment(), {"spec": {"strategy": {"rollingUpdate": {"$patch": "delete"}}}})

    assert after["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {}}


def test_status_conditions_merge_by_type():
    body = {
        "status": {"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}
    }
    after = smp(deployment(), body)

    assert after["status"]["conditions"] == [
        {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"},
    ]


def test_a_new_field_loses_its_nulls_and_patch_maps_but_keeps_other_directives_as_upstream():
    # Upstream's mergeMap takes a field the original lacks through discardNullValuesFromPatch and
    # removeDirectives, which drops only maps carrying `$patch`; the typed decoding after it
    # reports what is left (`$setElementOrder/env` here) as an unknown field.
    body = {
        "spec": {
            "initContainers": [
                {
                    "name": "init",
                    "image": "busybox",
                    "command": None,
                    "$setElementOrder/env": [{"name": "X"}],
                    "env": [{"name": "X", "value": "1"}],
                }
            ],
            "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
            "containers": [{"name": "sidecar", "$retainKeys": ["name", "image"], "image": "busybox:1.37"}],
        }
    }
    after = smp(pod(), body)

    assert directive_keys(after) == ["$setElementOrder/env"]
    assert after["spec"]["initContainers"] == [
        {
            "name": "init",
            "image": "busybox",
            "$setElementOrder/env": [{"name": "X"}],
            "env": [{"name": "X", "value": "1"}],
        }
    ]
    assert container(after, "sidecar") == {"name": "sidecar", "image": "busybox:1.37"}


def test_a_new_element_of_a_merged_list_is_taken_as_written_as_upstream_does():
    # mergeSliceWithoutSpecialElements appends the patch element itself, nulls included.
    after = smp(pod(), {"spec": {"containers": [{"name": "new", "image": "x", "command": None}]}})

    assert container(after, "new") == {"name": "new", "image": "x", "command": None}


def test_an_element_without_its_merge_key_is_rejected_with_upstreams_message():
    with pytest.raises(PatchError) as raised:
        smp(pod(), {"spec": {"containers": [{"image": "nginx:1.28"}]}})
    assert str(raised.value) == "map: map[image:nginx:1.28] does not contain declared merge key: name"
    assert raised.value.code == 422


def test_a_patch_list_out_of_step_with_set_element_order_is_rejected():
    body = {
        "spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}],
            "containers": [{"name": "nginx", "image": "a"}, {"name": "sidecar", "image": "b"}],
        }
    }
    with pytest.raises(PatchError) as raised:
        smp(pod(), body)
    assert str(raised.value) == (
        "The order in patch list:\n[map[image:a name:nginx] map[image:b name:sidecar]]\n"
        " doesn't match $setElementOrder list:\n[map[name:sidecar] map[name:nginx]]\n"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"metadata": {"labels": {"$patch": "merge"}}}, "unknown patch type: merge in map: map[$patch:merge]"),
        ({"spec": {"containers": [{"$patch": "merge"}]}}, "merging lists cannot yet be specified in the patch"),
        (
            {"spec": {"containers": [{"$patch": "bogus", "name": "x"}]}},
            "unknown patch type: bogus in map: map[$patch:bogus name:x]",
        ),
        ({"metadata": {"$deleteFromPrimitiveList": ["example.com/a"]}}, "invalid patch format of primitive list"),
        ({"spec": {"$setElementOrder": []}}, "invalid patch format of setElementOrder list"),
    ],
)
def test_malformed_directives_are_rejected_as_upstream_words_them(body, message):
    with pytest.raises(PatchError) as raised:
        smp(pod(), body)
    assert str(raised.value) == message


def test_without_a_schema_it_behaves_like_a_json_merge_patch():
    # Unknown kinds have no patch strategies: every list is replaced, null deletes, maps merge.
    custom = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "spec": {"sizes": [1, 2], "items": [{"name": "a"}], "x": 1},
    }
    body = {"spec": {"items": [{"name": "b"}], "x": None, "y": {"z": 2}}, "$setElementOrder/items": [{"name": "b"}]}

    assert strategic_merge(custom, body, None) == {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "spec": {"sizes": [1, 2], "items": [{"name": "b"}], "y": {"z": 2}},
    }
    assert apply_patch(custom, json.dumps(body), STRATEGIC_MERGE_PATCH) == strategic_merge(custom, body, None)


def test_strategic_merge_reads_the_strategies_from_the_schema_it_is_given():
    schema = kube_schema.definition_for("v1", "Pod")
    body = {"spec": {"containers": [{"name": "logger", "image": "fluent-bit:3"}]}}

    assert names(strategic_merge(pod(), body, schema)["spec"]["containers"]) == ["logger", "nginx", "sidecar"]
    assert names(strategic_merge(pod(), body, None)["spec"]["containers"]) == ["logger"]


# --- JSON merge patch: kubectl label / annotate / scale / patch --type=merge ------------------


def test_kubectl_scale_merge_patch_sets_replicas_and_keeps_everything_else():
    after = apply_patch(deployment(), b'{"spec":{"replicas":3}}', MERGE_PATCH)

    expected = deployment()
    expected["spec"]["replicas"] = 3
    assert after == expected


def test_kubectl_label_adds_a_label():
    after = apply_patch(pod(), b'{"metadata":{"labels":{"env":"prod"}}}', MERGE_PATCH)

    assert after["metadata"]["labels"] == {"app": "web", "tier": "frontend", "env": "prod"}


def test_kubectl_label_with_a_trailing_dash_sends_null_and_the_label_goes():
    after = apply_patch(pod(), b'{"metadata":{"labels":{"tier":null}}}', MERGE_PATCH)

    assert after["metadata"]["labels"] == {"app": "web"}


def test_kubectl_annotate_keeps_the_last_applied_configuration():
    after = apply_patch(pod(), b'{"metadata":{"annotations":{"note":"hello"}}}', MERGE_PATCH)

    assert after["metadata"]["annotations"] == {
        LAST_APPLIED: pod()["metadata"]["annotations"][LAST_APPLIED],
        "note": "hello",
    }


def test_a_merge_patch_replaces_lists_whole_unlike_a_strategic_one():
    body = b'{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}'

    assert apply_patch(pod(), body, MERGE_PATCH)["spec"]["containers"] == [{"name": "nginx", "image": "nginx:1.28"}]
    assert names(apply_patch(pod(), body, STRATEGIC_MERGE_PATCH)["spec"]["containers"]) == ["nginx", "sidecar"]


def test_a_merge_patch_drops_nulls_inside_values_it_adds():
    body = b'{"spec":{"securityContext":{"runAsUser":1000,"runAsGroup":null}},"metadata":{"nope":null}}'
    after = apply_patch(pod(), body, MERGE_PATCH)

    assert after["spec"]["securityContext"] == {"runAsUser": 1000}
    assert "nope" not in after["metadata"]


def test_a_merge_patch_that_is_not_an_object_is_rejected():
    with pytest.raises(PatchError) as raised:
        apply_patch(pod(), b'"replicas"', MERGE_PATCH)
    assert str(raised.value) == "Invalid JSON Patch"
    assert raised.value.code == 400


# --- JSON patch: kubectl patch --type=json ---------------------------------------------------------


def json_patch(original: dict, operations: list) -> dict:
    return apply_patch(original, json.dumps(operations), JSON_PATCH)


def test_json_patch_replace_add_and_remove():
    after = json_patch(
        deployment(),
        [
            {"op": "replace", "path": "/spec/replicas", "value": 6},
            {"op": "add", "path": "/metadata/labels/env", "value": "prod"},
            {"op": "add", "path": "/spec/template/spec/containers/1/args/-", "value": "--verbose"},
            {"op": "remove", "path": "/metadata/labels/tier"},
            {"op": "remove", "path": "/spec/template/spec/volumes/1"},
        ],
    )

    assert after["spec"]["replicas"] == 6
    assert after["metadata"]["labels"] == {"app": "web", "env": "prod"}
    assert container(after, "sidecar")["args"] == ["sleep", "3600", "--verbose"]
    assert names(after["spec"]["template"]["spec"]["volumes"]) == ["data"]


def test_json_patch_addresses_label_keys_with_slashes_by_escaping_them():
    original = pod()
    original["metadata"]["labels"]["app.kubernetes.io/name"] = "web"
    after = json_patch(original, [{"op": "remove", "path": "/metadata/labels/app.kubernetes.io~1name"}])

    assert after["metadata"]["labels"] == {"app": "web", "tier": "frontend"}


def test_json_patch_with_a_passing_test_applies_the_rest():
    after = json_patch(
        deployment(),
        [{"op": "test", "path": "/spec/replicas", "value": 2}, {"op": "replace", "path": "/spec/replicas", "value": 5}],
    )

    assert after["spec"]["replicas"] == 5


def test_json_patch_with_a_failing_test_is_rejected_as_the_api_server_does():
    with pytest.raises(PatchError) as raised:
        json_patch(
            deployment(),
            [
                {"op": "test", "path": "/spec/replicas", "value": 3},
                {"op": "replace", "path": "/spec/replicas", "value": 5},
            ],
        )
    assert str(raised.value) == "testing value /spec/replicas failed: test failed"
    assert raised.value.code == 422
    # What a real API server puts in its Status: the reason is dropped.
    assert (
        raised.value.status_message
        == GENERIC_INVALID_MESSAGE
        == "the server rejected our request due to an error in our request"
    )


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"op": "remove", "path": "/metadata/labels/nope"},
            "error in remove for path: '/metadata/labels/nope': Unable to remove nonexistent key: nope: missing value",
        ),
        (
            {"op": "add", "path": "/spec/nope/x", "value": 1},
            'add operation does not apply: doc is missing path: "/spec/nope/x": missing value',
        ),
        (
            {"op": "replace", "path": "/spec/nope/x", "value": 1},
            "replace operation does not apply: doc is missing path: /spec/nope/x: missing value",
        ),
        (
            {"op": "replace", "path": "/spec/template/spec/containers/5/image", "value": "x"},
            "replace operation does not apply: doc is missing path: "
            "/spec/template/spec/containers/5/image: missing value",
        ),
        (
            {"op": "test", "path": "/spec/nope/x", "value": 1},
            "test operation does not apply: is missing path: /spec/nope/x: missing value",
        ),
        (
            {"op": "add", "path": "/spec/template/spec/containers/9", "value": {}},
            "error in add for path: '/spec/template/spec/containers/9': "
            "Unable to access invalid index: 9: invalid index referenced",
        ),
        ({"op": "bogus", "path": "/spec"}, "Unexpected kind: bogus"),
    ],
)
def test_json_patch_on_a_path_that_does_not_exist_is_rejected(operation, message):
    with pytest.raises(PatchError) as raised:
        json_patch(deployment(), [operation])
    assert str(raised.value) == message
    assert raised.value.code == 422


def test_json_patch_replace_of_a_missing_member_adds_it_as_the_api_server_does():
    # Not RFC 6902: the API server's json-patch (v4) reverted the check, so this succeeds there.
    after = json_patch(pod(), [{"op": "replace", "path": "/metadata/labels/env", "value": "prod"}])

    assert after["metadata"]["labels"]["env"] == "prod"


def test_a_json_patch_that_is_not_a_list_is_a_bad_request():
    with pytest.raises(PatchError) as raised:
        apply_patch(pod(), b'{"op":"add","path":"/spec/x","value":1}', JSON_PATCH)
    assert str(raised.value) == "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
    assert raised.value.code == 400


# --- dispatch, decoding, purity ------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/apply-patch+yaml", "application/json", "text/plain"])
def test_other_media_types_are_unsupported(content_type):
    with pytest.raises(UnsupportedPatchType) as raised:
        apply_patch(pod(), b'{"spec":{}}', content_type)
    assert raised.value.code == 415
    assert str(raised.value) == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"
    )
    assert isinstance(raised.value, PatchError)


def test_a_charset_parameter_on_the_content_type_is_ignored():
    after = apply_patch(pod(), '{"metadata":{"labels":{"env":"prod"}}}', "application/merge-patch+json; charset=utf-8")

    assert after["metadata"]["labels"]["env"] == "prod"


@pytest.mark.parametrize("content_type", [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH])
@pytest.mark.parametrize("body", [b"{not json", b"", b'{"spec":{"replicas":NaN}}', b"\xff\xfe"])
def test_malformed_json_is_a_bad_request(content_type, body):
    with pytest.raises(PatchError) as raised:
        apply_patch(pod(), body, content_type)
    assert str(raised.value) == "invalid JSON patch"
    assert raised.value.code == 400


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (
            STRATEGIC_MERGE_PATCH,
            '{"metadata":{"labels":{"tier":null},"$deleteFromPrimitiveList/finalizers":["example.com/a"]},'
            '"spec":{"containers":[{"name":"nginx","image":"x","env":[{"$patch":"delete","name":"A"}]}]}}',
        ),
        (MERGE_PATCH, '{"metadata":{"labels":{"tier":null}},"spec":{"containers":[]}}'),
        (
            JSON_PATCH,
            '[{"op":"remove","path":"/metadata/labels/tier"},{"op":"add","path":"/spec/containers/0/env/-","value":{"name":"C"}}]',
        ),
    ],
)
def test_the_original_is_never_changed(content_type, body):
    original = pod()
    after = apply_patch(original, body, content_type)

    assert original == pod()
    assert after != original


def test_the_patch_is_not_changed_either():
    patch = {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"], "labels": {"$patch": "replace"}},
        "spec": {
            "$setElementOrder/containers": [{"name": "nginx"}],
            "containers": [{"$patch": "delete", "name": "sidecar"}, {"name": "nginx", "$retainKeys": ["name"]}],
        },
    }
    kept = copy.deepcopy(patch)
    strategic_merge(pod(), patch, kube_schema.definition_for("v1", "Pod"))

    assert patch == kept


def test_the_result_shares_nothing_with_the_patch():
    patch = {"spec": {"containers": [{"name": "new", "image": "x", "env": [{"name": "A", "value": "1"}]}]}}
    after = strategic_merge(pod(), patch, kube_schema.definition_for("v1", "Pod"))
    container(after, "new")["env"][0]["value"] = "changed"

    assert patch["spec"]["containers"][0]["env"][0]["value"] == "1"
