"""Watch streams over HTTP against the live server: 410 after compaction, watch-list bookmarks."""

import json
import re
import urllib.error
import urllib.request
import uuid

import pytest

from clusters import store


@pytest.fixture
def base(api_server):
    server = re.search(r"server: (\S+)", api_server.kubeconfig("alice").read_text()).group(1)
    return server


def create_configmap(base: str, name: str) -> dict:
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/namespaces/default/configmaps", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def first_lines(url: str, count: int) -> list[dict]:
    with urllib.request.urlopen(url, timeout=20) as response:
        return [json.loads(response.readline()) for _ in range(count)]


def test_a_watch_from_a_compacted_version_gets_410_expired(api_server, base):
    prefix = uuid.uuid4().hex[:6]
    first = create_configmap(base, f"{prefix}-a")
    create_configmap(base, f"{prefix}-b")
    create_configmap(base, f"{prefix}-c")
    # Resuming from "a" needs the change that made "b", which compaction drops.
    compacted = api_server.stack.manage(
        "shell", "-c", f"from {store.__name__} import change_log_compact; print(change_log_compact(keep=1))"
    )
    assert compacted.returncode == 0, compacted.stderr
    old = first["metadata"]["resourceVersion"]
    [event] = first_lines(f"{base}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={old}", 1)
    assert event["type"] == "ERROR"
    assert (event["object"]["code"], event["object"]["reason"]) == (410, "Expired")


def test_watch_list_sends_the_objects_then_the_initial_events_end_bookmark(base):
    name = f"wl-{uuid.uuid4().hex[:6]}"
    create_configmap(base, name)
    url = (
        f"{base}/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&fieldSelector=metadata.name%3D{name}"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=5"
    )
    added, bookmark = first_lines(url, 2)
    assert (added["type"], added["object"]["metadata"]["name"]) == ("ADDED", name)
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_send_initial_events_without_not_older_than_is_invalid(base):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true")
    assert refused.value.code == 422


def test_many_open_watches_leave_connections_for_other_requests(base):
    """More watches than the web process's database pool (8) holds: each still gets its events
    and ordinary requests are still answered, because a watch borrows a connection per trip."""
    name = f"many-{uuid.uuid4().hex[:6]}"
    watches = [
        urllib.request.urlopen(
            f"{base}/api/v1/namespaces/default/configmaps?watch=1&fieldSelector=metadata.name%3D{name}"
            "&timeoutSeconds=30",
            timeout=20,
        )
        for _ in range(12)
    ]
    try:
        created = create_configmap(base, name)
        with urllib.request.urlopen(f"{base}/api/v1/namespaces/default/configmaps/{name}", timeout=10) as response:
            assert json.loads(response.read())["metadata"]["uid"] == created["metadata"]["uid"]
        for watch in watches:
            event = json.loads(watch.readline())
            assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", name)
    finally:
        for watch in watches:
            watch.close()
