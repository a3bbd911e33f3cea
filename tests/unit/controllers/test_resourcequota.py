from datetime import UTC, datetime, timedelta

from clusters.controllers import resourcequota
from clusters.controllers.actions import Patch
from clusters.controllers.state import ClusterState

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def quota(hard, status=None, name="compute"):
    body = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name, "namespace": "ns", "uid": "q-uid", "resourceVersion": "7"},
        "spec": {"hard": hard},
    }
    if status is not None:
        body["status"] = status
    return body


def pod(name, memory="600Mi", phase="Running", **metadata):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}", **metadata},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"memory": memory}}}]},
        "status": {"phase": phase},
    }


def test_it_writes_hard_and_used_when_the_status_says_otherwise():
    hard = {"pods": "2", "requests.memory": "1Gi"}
    state = ClusterState.of([quota(hard), pod("a"), pod("b", memory="200Mi")])
    assert resourcequota.plan(state, now=NOW) == [
        Patch(
            "v1",
            "ResourceQuota",
            "ns",
            "compute",
            {"status": {"hard": hard, "used": {"pods": "2", "requests.memory": "800Mi"}}},
            subresource="status",
            resource_version="7",
        )
    ]


def test_nothing_to_do_when_the_status_holds_the_same_amounts_however_written():
    hard = {"requests.memory": "1Gi"}
    status = {"hard": {"requests.memory": "1024Mi"}, "used": {"requests.memory": "629145600"}}
    assert resourcequota.plan(ClusterState.of([quota(hard, status), pod("a")]), now=NOW) == []


def test_a_deleted_or_finished_pod_frees_its_share():
    hard = {"pods": "2"}
    state = ClusterState.of([quota(hard, {"hard": hard, "used": {"pods": "2"}}), pod("a"), pod("b", phase="Succeeded")])
    [patch] = resourcequota.plan(state, now=NOW)
    assert patch.patch == {"status": {"used": {"pods": "1"}}}


def test_a_pod_being_deleted_counts_until_its_grace_period_has_passed_twice_and_the_planner_comes_back_then():
    hard = {"pods": "2"}
    deleting = pod("a", deletionTimestamp=stamp(NOW + timedelta(seconds=30)), deletionGracePeriodSeconds=30)
    state = ClusterState.of([quota(hard, {"hard": hard, "used": {"pods": "1"}}), deleting])
    assert resourcequota.plan(state, now=NOW) == []
    assert resourcequota.next_wakeup(state, now=NOW) == NOW + timedelta(seconds=61)
    [patch] = resourcequota.plan(state, now=NOW + timedelta(seconds=61))
    assert patch.patch == {"status": {"used": {"pods": "0"}}}


def test_an_event_count_is_kept_as_admission_counted_it():
    hard = {"count/events": "100"}
    state = ClusterState.of([quota(hard, {"hard": hard, "used": {"count/events": "12"}})])
    assert resourcequota.plan(state, now=NOW) == []


def test_no_quota_no_work():
    assert resourcequota.plan(ClusterState.of([pod("a")]), now=NOW) == []
    assert resourcequota.next_wakeup(ClusterState.of([pod("a")]), now=NOW) is None
