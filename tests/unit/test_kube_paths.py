import pytest

from clusters.kube.paths import parse_path


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("version", "version"),
        ("version/", "version"),
        ("api", "api"),
        ("apis", "apis"),
        ("apis/apps", "group"),
        ("api/v1", "resource_list"),
        ("apis/apps/v1", "resource_list"),
        ("openapi/v3", "openapi_index"),
        ("openapi/v2", "openapi_v2"),
        ("somewhere/else", "unknown"),
    ],
)
def test_it_recognises_the_discovery_paths(path, target):
    assert parse_path(path).target == target


def test_it_reads_a_namespaced_item_with_a_subresource():
    info = parse_path("apis/apps/v1/namespaces/teach/deployments/web/scale")
    assert (info.target, info.namespace, info.name, info.subresource) == ("resource", "teach", "web", "scale")
    assert info.resource.kind == "Deployment"


def test_a_namespace_is_itself_a_cluster_scoped_object():
    info = parse_path("api/v1/namespaces/teach")
    assert (info.resource.kind, info.namespace, info.name) == ("Namespace", None, "teach")
    status = parse_path("api/v1/namespaces/teach/status")
    assert (status.resource.kind, status.name, status.subresource) == ("Namespace", "teach", "status")


def test_it_reads_namespaced_and_cluster_wide_collections():
    assert parse_path("api/v1/namespaces/default/pods").namespace == "default"
    everywhere = parse_path("api/v1/pods")
    assert (everywhere.resource.kind, everywhere.namespace, everywhere.name) == ("Pod", None, None)


def test_an_unknown_plural_has_no_resource():
    info = parse_path("api/v1/namespaces/default/widgets")
    assert info.target == "resource"
    assert info.resource is None
    assert info.plural == "widgets"


def test_the_openapi_document_path_is_kept_whole():
    assert parse_path("openapi/v3/apis/apps/v1").document == "apis/apps/v1"
