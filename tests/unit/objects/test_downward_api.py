"""The downward API's files (upstream's downwardapi.CollectData, fieldpath.FormatMap and
resource.ExtractContainerResourceValue)."""

import pytest

from clusters.objects.downward_api import (
    DownwardAPIError,
    container_resource_value,
    field_path_value,
    format_map,
    item_path,
    resource_field_value,
    volume_files,
)

ALLOCATABLE = {"cpu": "2", "memory": "4Gi", "ephemeral-storage": "20Gi", "pods": "110"}


def example_pod() -> dict:
    """The documentation's dapi-volume.yaml pod, with a second container that sets no limits."""
    return {
        "metadata": {
            "name": "kubernetes-downwardapi-volume-example",
            "namespace": "default",
            "uid": "7d2a1c0e-0000-4000-8000-000000000001",
            "labels": {"zone": "us-est-coast", "cluster": "test-cluster1", "rack": "rack-22"},
            "annotations": {"build": "two", "builder": "john-doe"},
        },
        "spec": {
            "containers": [
                {
                    "name": "client-container",
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "32Mi"},
                        "limits": {"cpu": "500m", "memory": "64Mi"},
                    },
                },
                {"name": "unlimited", "resources": {}},
            ]
        },
    }


def test_labels_and_annotations_are_sorted_key_value_lines_as_the_documentation_shows():
    pod = example_pod()
    assert field_path_value(pod, "metadata.labels") == 'cluster="test-cluster1"\nrack="rack-22"\nzone="us-est-coast"'
    assert field_path_value(pod, "metadata.annotations") == 'build="two"\nbuilder="john-doe"'


def test_values_are_quoted_as_gos_percent_q():
    values = {"b": 'say "hi"', "a": "back\\slash", "c": "line\nbreak\ttab", "d": "한국어", "e": "\x01"}
    assert format_map(values) == ('a="back\\\\slash"\nb="say \\"hi\\""\nc="line\\nbreak\\ttab"\nd="한국어"\ne="\\x01"')
    assert format_map({}) == format_map(None) == ""


def test_single_fields_and_subscripts():
    pod = example_pod()
    assert field_path_value(pod, "metadata.name") == "kubernetes-downwardapi-volume-example"
    assert field_path_value(pod, "metadata.namespace") == "default"
    assert field_path_value(pod, "metadata.uid") == "7d2a1c0e-0000-4000-8000-000000000001"
    assert field_path_value(pod, "metadata.labels['zone']") == "us-est-coast"
    assert field_path_value(pod, "metadata.annotations['builder']") == "john-doe"
    assert field_path_value(pod, "metadata.labels['missing']") == ""


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("spec.nodeName", "unsupported fieldPath: spec.nodeName"),
        ("metadata.name['x']", "fieldPath \"metadata.name['x']\" does not support subscript"),
    ],
)
def test_what_a_volume_cannot_give_is_an_error(path, message):
    with pytest.raises(DownwardAPIError, match=message.replace("[", r"\[").replace("]", r"\]")):
        field_path_value(example_pod(), path)


@pytest.mark.parametrize(
    ("resource", "divisor", "value"),
    [
        ("limits.cpu", None, "1"),  # 500m in whole cores, rounded up
        ("limits.cpu", "1m", "500"),
        ("requests.cpu", "1m", "250"),
        ("requests.cpu", "0", "1"),  # a zero divisor is 1
        ("limits.memory", None, str(64 * 2**20)),
        ("limits.memory", "1Mi", "64"),
        ("requests.memory", "1M", "34"),  # 33554432 / 1000000, rounded up
        ("requests.memory", "1Gi", "1"),
        ("requests.ephemeral-storage", None, "0"),  # unset requests are zero
    ],
)
def test_resources_are_divided_by_the_divisor_and_rounded_up(resource, divisor, value):
    selector = {"resource": resource, **({"divisor": divisor} if divisor is not None else {})}
    assert container_resource_value(selector, example_pod()["spec"]["containers"][0], ALLOCATABLE) == value


def test_an_unset_limit_is_the_nodes_allocatable():
    unlimited = example_pod()["spec"]["containers"][1]
    assert container_resource_value({"resource": "limits.cpu", "divisor": "1m"}, unlimited, ALLOCATABLE) == "2000"
    assert container_resource_value({"resource": "limits.memory", "divisor": "1Mi"}, unlimited, ALLOCATABLE) == "4096"
    assert container_resource_value({"resource": "requests.memory"}, unlimited, ALLOCATABLE) == "0"


def test_a_resource_field_names_its_container():
    pod = example_pod()
    selector = {"containerName": "client-container", "resource": "limits.memory", "divisor": "1Mi"}
    assert resource_field_value(selector, pod, ALLOCATABLE) == "64"
    with pytest.raises(DownwardAPIError, match="container nope not found"):
        resource_field_value({**selector, "containerName": "nope"}, pod, ALLOCATABLE)
    with pytest.raises(DownwardAPIError, match=r"unsupported container resource : limits\.pods"):
        resource_field_value({**selector, "resource": "limits.pods"}, pod, ALLOCATABLE)
    own = pod["spec"]["containers"][1]  # an env var's: its own container
    assert resource_field_value({"resource": "limits.cpu"}, pod, ALLOCATABLE, container=own) == "2"


def test_the_documentations_volume_has_its_two_files():
    source = {
        "items": [
            {"path": "labels", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}},
            {"path": "annotations", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.annotations"}},
        ]
    }
    files, problems = volume_files(source, example_pod(), None)
    assert files == {
        "labels": 'cluster="test-cluster1"\nrack="rack-22"\nzone="us-est-coast"',
        "annotations": 'build="two"\nbuilder="john-doe"',
    }
    assert problems == []


def test_items_in_directories_and_items_that_cannot_be_written():
    source = {
        "items": [
            {"path": "info/./name", "fieldRef": {"fieldPath": "metadata.name"}},
            {"path": "cpu", "resourceFieldRef": {"containerName": "client-container", "resource": "limits.cpu"}},
            {"path": "../escape", "fieldRef": {"fieldPath": "metadata.name"}},
            {"path": "node", "fieldRef": {"fieldPath": "spec.nodeName"}},
        ]
    }
    files, problems = volume_files(source, example_pod(), ALLOCATABLE)
    assert files == {"info/name": "kubernetes-downwardapi-volume-example", "cpu": "1"}
    assert problems == ["invalid path '../escape'", "unsupported fieldPath: spec.nodeName"]


@pytest.mark.parametrize(
    ("path", "cleaned"), [("labels", "labels"), ("a//b/", "a/b"), ("/abs", "abs"), ("..", None), ("", None)]
)
def test_item_paths_are_cleaned(path, cleaned):
    assert item_path(path) == cleaned
