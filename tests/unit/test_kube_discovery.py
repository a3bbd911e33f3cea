"""The `/version` and discovery documents, checked against resources.py and client-go's rules.

What the real kubectl does with these documents (api-resources over both formats) is covered in
test_kube_openapi.py, next to the fake server it shares with explain and apply.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clusters.kube import discovery
from clusters.objects.resources import (
    KUBE_VERSION,
    METRICS_GROUP,
    RESOURCES,
    Resource,
    group_versions,
    served_group_versions,
)

KUBECTL_137 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
KUBECTL_135 = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


def legacy_entry(resource_list: dict, name: str) -> dict:
    matches = [entry for entry in resource_list["resources"] if entry["name"] == name]
    assert len(matches) == 1, f"{name} appears {len(matches)} times"
    return matches[0]


# --- /version ------------------------------------------------------------------------------------


def test_version_reports_the_served_minor_version():
    info = discovery.version_info()
    major, minor, _ = KUBE_VERSION.split(".")
    assert (info["major"], info["minor"], info["gitVersion"]) == (major, minor, f"v{KUBE_VERSION}")
    assert (info["emulationMajor"], info["emulationMinor"]) == (major, minor)
    assert info["platform"] == "linux/amd64"
    assert info["compiler"] == "gc"
    expected = {"gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"}
    assert expected <= info.keys()
    assert all(isinstance(value, str) for value in info.values())


def test_version_minor_matches_the_shipped_kubectl_so_there_is_no_skew_warning():
    kubectl = Path(sys.executable).parent / "kubectl"
    if not kubectl.exists():
        kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("no kubectl binary next to the interpreter or on PATH")
    output = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, check=True, timeout=30)
    client = json.loads(output.stdout)["clientVersion"]
    assert client["major"] == discovery.version_info()["major"]
    assert client["minor"] == discovery.version_info()["minor"]


# --- legacy discovery ------------------------------------------------------------------------------


def test_api_versions_lists_the_core_version_and_echoes_the_server_address():
    body = discovery.api_versions("127.0.0.1:8443")
    assert body["kind"] == "APIVersions"
    assert body["versions"] == ["v1"]
    assert body["serverAddressByClientCIDRs"] == [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:8443"}]


def test_api_group_list_has_every_non_core_group_and_its_versions():
    body = discovery.api_group_list()
    assert (body["kind"], body["apiVersion"]) == ("APIGroupList", "v1")
    served = {(group, version) for group, version in served_group_versions() if group}
    listed = {
        (group["name"], version["version"])
        for group in body["groups"]
        for version in group["versions"]
        if version["groupVersion"] == f"{group['name']}/{version['version']}"
    }
    assert listed == served
    names = [group["name"] for group in body["groups"]]
    assert "" not in names
    assert len(names) == len(set(names))
    for group in body["groups"]:
        assert group["preferredVersion"] == group["versions"][0]


def test_api_group_list_puts_apps_first_as_the_aggregator_priority_does():
    names = [group["name"] for group in discovery.api_group_list()["groups"]]
    assert names[0] == "apps"
    assert names.index("batch") < names.index("storage.k8s.io") < names.index("discovery.k8s.io")


def test_api_group_answers_a_served_group_and_none_otherwise():
    group = discovery.api_group("apps")
    assert (group["kind"], group["name"]) == ("APIGroup", "apps")
    assert group["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    assert discovery.api_group("nope.example.com") is None
    assert discovery.api_group("") is None


@pytest.mark.parametrize("group_version", group_versions(), ids=lambda gv: "/".join(filter(None, gv)))
def test_api_resource_list_shape(group_version):
    group, version = group_version
    body = discovery.api_resource_list(group, version)
    assert (body["kind"], body["apiVersion"]) == ("APIResourceList", "v1")
    assert body["groupVersion"] == (f"{group}/{version}" if group else version)
    names = [entry["name"] for entry in body["resources"]]
    assert len(names) == len(set(names))


def test_api_resource_list_is_none_for_a_group_version_not_served():
    assert discovery.api_resource_list("apps", "v1beta1") is None
    assert discovery.api_resource_list("", "v2") is None
    assert discovery.api_resource_list("nope.example.com", "v1") is None


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.key)
def test_every_resource_is_in_its_resource_list_as_in_the_table(resource: Resource):
    entry = legacy_entry(discovery.api_resource_list(resource.group, resource.version), resource.plural)
    assert entry["singularName"] == resource.singular_name
    assert entry["namespaced"] is resource.namespaced
    assert entry["kind"] == resource.kind
    assert entry["verbs"] == sorted(resource.verbs)
    assert entry.get("shortNames", []) == list(resource.short_names)
    assert entry.get("categories", []) == list(resource.categories)
    # The kind's own group-version is implied; naming it is reserved for subresources like scale.
    assert "group" not in entry
    assert "version" not in entry


@pytest.mark.parametrize(
    ("resource", "sub"), [(r, s) for r in RESOURCES for s in r.subresources], ids=lambda v: getattr(v, "key", v)
)
def test_every_subresource_is_a_separate_entry(resource: Resource, sub: str):
    entry = legacy_entry(discovery.api_resource_list(resource.group, resource.version), f"{resource.plural}/{sub}")
    assert entry["namespaced"] is resource.namespaced
    assert entry["singularName"] == ""
    assert entry["verbs"] == sorted(discovery.SUBRESOURCES[sub].verbs)


def test_every_subresource_in_the_table_has_discovery_metadata():
    for resource in RESOURCES:
        for sub in resource.subresources:
            assert sub in discovery.SUBRESOURCES, f"{resource.plural}/{sub}"
    with pytest.raises(ValueError, match="ephemeralcontainers"):
        discovery.subresource("ephemeralcontainers")


def test_scale_subresources_answer_autoscaling_v1_scale():
    apps = discovery.api_resource_list("apps", "v1")
    for name in ("deployments/scale", "replicasets/scale", "statefulsets/scale"):
        entry = legacy_entry(apps, name)
        assert (entry["group"], entry["version"], entry["kind"]) == ("autoscaling", "v1", "Scale")
        assert entry["verbs"] == ["get", "patch", "update"]


def test_status_and_log_subresources_answer_the_parent_kind():
    apps = discovery.api_resource_list("apps", "v1")
    status = legacy_entry(apps, "deployments/status")
    assert status == {
        "name": "deployments/status",
        "singularName": "",
        "namespaced": True,
        "kind": "Deployment",
        "verbs": ["get", "patch", "update"],
    }
    core = discovery.api_resource_list("", "v1")
    assert legacy_entry(core, "pods/log") == {
        "name": "pods/log",
        "singularName": "",
        "namespaced": True,
        "kind": "Pod",
        "verbs": ["get"],
    }
    assert legacy_entry(core, "pods/status")["kind"] == "Pod"
    assert legacy_entry(core, "namespaces/status")["namespaced"] is False


def test_short_names_and_categories_match_upstream_for_the_common_kinds():
    core = discovery.api_resource_list("", "v1")
    apps = discovery.api_resource_list("apps", "v1")
    assert legacy_entry(core, "pods")["shortNames"] == ["po"]
    assert legacy_entry(core, "pods")["categories"] == ["all"]
    assert legacy_entry(core, "services")["shortNames"] == ["svc"]
    assert legacy_entry(apps, "deployments")["shortNames"] == ["deploy"]
    assert "shortNames" not in legacy_entry(core, "secrets")
    assert "categories" not in legacy_entry(core, "configmaps")


# --- aggregated discovery --------------------------------------------------------------------------


def split_groups_and_resources(aggregated: dict) -> tuple[list[dict], dict[str, list[dict]]]:
    """client-go's SplitGroupsAndResources: the legacy view kubectl derives from aggregated discovery."""
    groups, resources = [], {}
    for item in aggregated["items"]:
        name = item["metadata"].get("name", "")
        versions = []
        for version in item["versions"]:
            if version.get("freshness") == "Stale":
                continue
            group_version = f"{name}/{version['version']}" if name else version["version"]
            versions.append({"groupVersion": group_version, "version": version["version"]})
            entries = resources.setdefault(group_version, [])
            for resource in version["resources"]:
                kind = resource.get("responseKind") or {}
                parent = {
                    "name": resource["resource"],
                    "singularName": resource.get("singularResource", ""),
                    "namespaced": resource["scope"] == "Namespaced",
                    "group": kind.get("group", ""),
                    "version": kind.get("version", ""),
                    "kind": kind.get("kind", ""),
                    "verbs": resource.get("verbs", []),
                    "shortNames": resource.get("shortNames", []),
                    "categories": resource.get("categories", []),
                }
                if parent["kind"]:  # client-go drops a resource without a kind
                    entries.append(parent)
                for sub in resource.get("subresources", []):
                    sub_kind = sub.get("responseKind") or {}
                    if not sub_kind.get("kind"):
                        continue
                    entries.append(
                        {
                            "name": f"{parent['name']}/{sub['subresource']}",
                            "singularName": parent["singularName"],
                            "namespaced": parent["namespaced"],
                            "group": sub_kind.get("group", ""),
                            "version": sub_kind.get("version", ""),
                            "kind": sub_kind["kind"],
                            "verbs": sub.get("verbs", []),
                            "shortNames": [],
                            "categories": [],
                        }
                    )
        groups.append({"name": name, "versions": versions})
    return groups, resources


def normalized_legacy(group: str, version: str) -> list[dict]:
    """The legacy list with the implied group/version spelled out, comparable with the split view."""
    entries = []
    for entry in discovery.api_resource_list(group, version)["resources"]:
        entries.append(
            {
                "name": entry["name"],
                "namespaced": entry["namespaced"],
                "group": entry.get("group", group),
                "version": entry.get("version", version),
                "kind": entry["kind"],
                "verbs": entry["verbs"],
                "shortNames": entry.get("shortNames", []),
                "categories": entry.get("categories", []),
            }
        )
    return entries


def test_aggregated_core_is_one_unnamed_group():
    body = discovery.aggregated_discovery(core=True)
    assert (body["kind"], body["apiVersion"]) == ("APIGroupDiscoveryList", "apidiscovery.k8s.io/v2")
    assert len(body["items"]) == 1
    assert "name" not in body["items"][0]["metadata"]
    assert [v["version"] for v in body["items"][0]["versions"]] == ["v1"]


def test_aggregated_groups_are_the_legacy_groups_in_the_same_order():
    body = discovery.aggregated_discovery(core=False)
    names = [item["metadata"]["name"] for item in body["items"]]
    assert names == [group["name"] for group in discovery.api_group_list()["groups"]]


def test_aggregated_entries_carry_scope_kind_and_freshness():
    for core in (True, False):
        for item in discovery.aggregated_discovery(core)["items"]:
            for version in item["versions"]:
                assert version["freshness"] == "Current"
                for resource in version["resources"]:
                    assert resource["scope"] in ("Namespaced", "Cluster")
                    assert resource["responseKind"]["kind"]
                    # metrics-server's kinds declare no singular name; every stored kind has one.
                    assert resource["singularResource"] or resource["responseKind"]["group"] == METRICS_GROUP
                    assert resource["verbs"]
                    for sub in resource.get("subresources", []):
                        assert sub["responseKind"]["kind"]
                        assert sub["verbs"]


def test_aggregated_deployment_entry():
    apps = next(i for i in discovery.aggregated_discovery(False)["items"] if i["metadata"]["name"] == "apps")
    deployments = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deployments["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert deployments["scope"] == "Namespaced"
    assert deployments["shortNames"] == ["deploy"]
    assert deployments["categories"] == ["all"]
    subresources = {sub["subresource"]: sub for sub in deployments["subresources"]}
    assert subresources["scale"]["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert subresources["status"]["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert subresources["scale"]["verbs"] == ["get", "patch", "update"]


def test_aggregated_and_legacy_formats_describe_the_same_resources():
    """Whichever format the server answers, kubectl ends up with the same resource lists."""
    core_groups, core_resources = split_groups_and_resources(discovery.aggregated_discovery(True))
    groups, resources = split_groups_and_resources(discovery.aggregated_discovery(False))
    assert core_groups == [{"name": "", "versions": [{"groupVersion": "v1", "version": "v1"}]}]
    assert groups == [
        {"name": group["name"], "versions": group["versions"]} for group in discovery.api_group_list()["groups"]
    ]
    resources |= core_resources
    assert set(resources) == {f"{g}/{v}" if g else v for g, v in served_group_versions()}
    for group, version in served_group_versions():
        split = resources[f"{group}/{version}" if group else version]
        for entry in split:
            del entry["singularName"]  # legacy subresources leave it empty; client-go copies the parent's
        assert split == normalized_legacy(group, version)


# --- content negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "aggregated"),
    [
        (KUBECTL_137, True),
        (KUBECTL_135, True),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer," + KUBECTL_137, True),
        ("application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io", True),
        ("application/json;q=0.5,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", True),
        ("application/json", False),  # the Python clients
        ("application/json, */*", False),
        ("", False),
        (None, False),
        ("*/*", False),
        ("application/json,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", False),
        ("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json", False),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0,application/json", False),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=other", False),
        ("application/vnd.kubernetes.protobuf,application/json", False),
    ],
)
def test_wants_aggregated(accept, aggregated):
    assert discovery.wants_aggregated(accept) is aggregated


def test_aggregated_content_type_is_what_client_go_recognises():
    # client-go ContentTypeIsGVK: base type application/json and g/v/as parameters, in any order.
    base, *params = discovery.AGGREGATED_CONTENT_TYPE.split(";")
    assert base == "application/json"
    assert dict(param.split("=") for param in params) == {
        "g": "apidiscovery.k8s.io",
        "v": "v2",
        "as": "APIGroupDiscoveryList",
    }
    assert discovery.wants_aggregated(discovery.AGGREGATED_CONTENT_TYPE)
