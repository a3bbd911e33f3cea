"""The controllers' copy of a sandbox's objects: what a list would read, from the change log."""

import json

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusters import state_cache, store
from clusters.models import StoredObject
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

pytestmark = pytest.mark.django_db
CONFIGMAPS = resource_for_kind("v1", "ConfigMap")


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    state_cache.forget_all()
    settings.STATE_CACHE_VERIFY = False  # these tests compare for themselves
    yield
    state_cache.forget_all()


@pytest.fixture
def sandbox():
    return sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated")


def listed(sandbox) -> dict:
    rows = StoredObject.objects.filter(sandbox=sandbox).exclude(kind__in=state_cache.LEFT_OUT)
    rows = rows.values_list("kind", "name", "body")
    return {(kind, name): body for kind, name, body in rows}


def cached(sandbox) -> dict:
    bodies = state_cache.sandbox_objects(sandbox)
    return {(body["kind"], body["metadata"]["name"]): body for body in bodies}


def config_map(name: str, value: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"value": value}}


def patch(sandbox, name: str, value: str) -> None:
    store.object_patch(
        sandbox=sandbox,
        resource=CONFIGMAPS,
        namespace="default",
        name=name,
        patch=json.dumps({"data": {"value": value}}).encode(),
        content_type="application/merge-patch+json",
    )


def test_creates_changes_and_deletes_since_the_list_read_as_a_new_list_would(sandbox):
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body=config_map("kept", "1"), namespace="default")
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body=config_map("gone", "1"), namespace="default")
    assert cached(sandbox) == listed(sandbox)

    patch(sandbox, "kept", "2")
    patch(sandbox, "kept", "3")
    store.object_delete(sandbox=sandbox, resource=CONFIGMAPS, namespace="default", name="gone")
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body=config_map("new", "1"), namespace="default")

    assert cached(sandbox) == listed(sandbox)
    assert cached(sandbox)[("ConfigMap", "kept")]["data"] == {"value": "3"}
    assert ("ConfigMap", "gone") not in cached(sandbox)


def test_a_read_after_the_first_takes_the_new_changes_only(sandbox):
    cached(sandbox)
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body=config_map("settings", "1"), namespace="default")

    with CaptureQueriesContext(connection) as queries:
        state_cache.sandbox_objects(sandbox)
    assert len(queries) == 2  # the log's horizon, then its rows since the copy
    assert "clusters_storedobject" not in queries[1]["sql"]
    with CaptureQueriesContext(connection) as queries:
        state_cache.sandbox_objects(sandbox)
    assert len(queries) == 1  # nothing written since: the horizon only


def test_another_sandboxs_writes_do_not_show(sandbox):
    other = sandbox_create(owner=User.objects.create(username="bob"), runtime="simulated")
    cached(sandbox)
    store.object_create(sandbox=other, resource=CONFIGMAPS, body=config_map("bobs", "1"), namespace="default")
    assert ("ConfigMap", "bobs") not in cached(sandbox)
    assert cached(sandbox) == listed(sandbox)


def test_a_log_compacted_past_the_copy_or_gone_back_means_a_new_list(sandbox):
    cached(sandbox)
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body=config_map("one", "1"), namespace="default")
    store.change_log_compact(keep=0)  # the change above is no longer in the log
    assert cached(sandbox) == listed(sandbox)
    assert ("ConfigMap", "one") in cached(sandbox)


def test_verification_catches_a_reader_that_changed_a_cached_body(sandbox, settings):
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body=config_map("shared", "1"), namespace="default")
    cached(sandbox)[("ConfigMap", "shared")]["data"]["value"] = "changed by a reader"
    settings.STATE_CACHE_VERIFY = True
    with pytest.raises(state_cache.StateCacheMismatch, match="ConfigMap"):
        state_cache.sandbox_objects(sandbox)
