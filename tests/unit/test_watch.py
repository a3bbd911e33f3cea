"""Watch streams through Django's async test client, in-process (the live ones are in tests/kubectl)."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import AsyncClient

from clusters import store
from clusters.kube.resources import resource_for_kind
from clusters.models import AccessToken
from clusters.sandboxes import sandbox_create

CONFIGMAPS = resource_for_kind("v1", "ConfigMap")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox_url():
    sandbox = sandbox_create(owner=User.objects.create(username="alice"))
    _, key = AccessToken.issue(user=sandbox.owner)
    return sandbox, f"/k8s/{sandbox.uid.hex}/t/{key}"


def configmap(sandbox, name):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    return store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body=body, namespace="default")


async def read_lines(response, count):
    lines = []
    async for chunk in response.streaming_content:
        lines.extend(line for line in chunk.decode().splitlines() if line)
        if len(lines) >= count:
            break
    return [json.loads(line) for line in lines]


async def test_a_watch_from_a_compacted_version_gets_410_expired(sandbox_url):
    from asgiref.sync import sync_to_async

    sandbox, url = sandbox_url
    first = await sync_to_async(configmap)(sandbox, "a")
    await sync_to_async(configmap)(sandbox, "b")
    await sync_to_async(configmap)(sandbox, "c")
    # Resuming from "a" needs the change that made "b", which compaction has dropped.
    await sync_to_async(store.change_log_compact)(keep=1)
    old = first["metadata"]["resourceVersion"]
    response = await AsyncClient().get(f"{url}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={old}")
    [event] = await read_lines(response, 1)
    assert event["type"] == "ERROR"
    assert (event["object"]["code"], event["object"]["reason"]) == (410, "Expired")


async def test_watch_list_sends_the_current_objects_then_the_initial_events_end_bookmark(sandbox_url):
    from asgiref.sync import sync_to_async

    sandbox, url = sandbox_url
    await sync_to_async(configmap)(sandbox, "a")
    response = await AsyncClient().get(
        f"{url}/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=5"
    )
    added, bookmark = await read_lines(response, 2)
    assert (added["type"], added["object"]["metadata"]["name"]) == ("ADDED", "a")
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


async def test_send_initial_events_without_not_older_than_is_invalid(sandbox_url):
    _, url = sandbox_url
    response = await AsyncClient().get(f"{url}/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true")
    assert response.status_code == 422


def test_compaction_keeps_the_newest_changes_and_moves_the_horizon_forward_only(sandbox_url):
    sandbox, _ = sandbox_url
    for name in "abc":
        configmap(sandbox, name)
    assert store.change_log_compact(keep=2) > 0
    assert store.change_log_compact(keep=2) == 0
    assert store.change_log_compact(keep=10_000) == 0
