"""The pod predicates and ownership helpers every planner shares."""

from datetime import UTC, datetime, timedelta

import pytest

from clusters.controllers.pods import (
    claim,
    controller_ref,
    counted,
    format_time,
    is_active,
    is_available,
    is_being_deleted,
    is_controlled_by,
    is_failed,
    is_ready,
    is_running_and_ready,
    is_succeeded,
    is_terminal,
    is_terminating,
    listed,
    merge_patch,
    parse_time,
    pod_from_template,
    pod_phase,
    released_owner_references,
    shortened,
)
from clusters.objects.selectors import selector_from_match_labels

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
OWNER = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "metadata": {"name": "web-7d9f8c6b5", "namespace": "shop", "uid": "rs-uid"},
}
OWNER_REF = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "name": "web-7d9f8c6b5",
    "uid": "rs-uid",
    "controller": True,
    "blockOwnerDeletion": True,
}


def pod(name="web-abc12", *, ready=None, since=NOW, phase="Running", deleting=False, labels=None, owners=None) -> dict:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}", "labels": labels or {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        "status": {"phase": phase},
    }
    if ready is not None:
        condition = {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": format_time(since)}
        body["status"]["conditions"] = [condition]
    if deleting:
        body["metadata"]["deletionTimestamp"] = format_time(NOW)
    if owners is not None:
        body["metadata"]["ownerReferences"] = owners
    return body


def test_times_read_and_write_as_the_api_does():
    assert parse_time("2025-03-01T12:00:00Z") == NOW
    assert parse_time(None) is None
    assert format_time(NOW + timedelta(microseconds=999_999)) == "2025-03-01T12:00:00Z"


def test_a_pod_is_ready_only_with_a_true_ready_condition():
    assert is_ready(pod(ready=True))
    assert not is_ready(pod(ready=False))
    assert not is_ready(pod())


@pytest.mark.parametrize(
    ("ready_for", "min_ready_seconds", "available"),
    [
        (timedelta(0), 0, True),
        (timedelta(seconds=10), 10, False),  # upstream wants strictly longer
        (timedelta(seconds=11), 10, True),
        (timedelta(seconds=5), 10, False),
    ],
)
def test_a_pod_is_available_once_ready_for_longer_than_min_ready_seconds(ready_for, min_ready_seconds, available):
    assert is_available(pod(ready=True, since=NOW - ready_for), min_ready_seconds, NOW) is available


def test_a_pod_that_is_not_ready_is_never_available():
    assert not is_available(pod(ready=False, since=NOW - timedelta(hours=1)), 0, NOW)


@pytest.mark.parametrize(
    ("phase", "deleting", "active", "terminating"),
    [
        ("Pending", False, True, False),
        ("Running", False, True, False),
        ("Succeeded", False, False, False),
        ("Failed", False, False, False),
        ("Running", True, False, True),
        ("Failed", True, False, False),
    ],
)
def test_only_unfinished_pods_not_being_deleted_are_active(phase, deleting, active, terminating):
    subject = pod(phase=phase, deleting=deleting)
    assert is_active(subject) is active
    assert is_terminating(subject) is terminating


def test_a_pods_phase_is_empty_until_a_kubelet_reports_one():
    unreported = pod()
    del unreported["status"]
    assert pod_phase(unreported) == ""
    assert not is_terminal(unreported)
    assert is_active(unreported)


@pytest.mark.parametrize(
    ("phase", "succeeded", "failed"), [("Succeeded", True, False), ("Failed", False, True), ("Running", False, False)]
)
def test_a_pod_has_succeeded_or_failed_only_in_that_phase(phase, succeeded, failed):
    subject = pod(phase=phase)
    assert (is_succeeded(subject), is_failed(subject), is_terminal(subject)) == (succeeded, failed, succeeded or failed)


@pytest.mark.parametrize(
    ("phase", "deleting", "being_deleted", "terminating"),
    [
        ("Running", False, False, False),
        ("Running", True, True, True),
        ("Pending", True, True, True),
        ("Succeeded", True, True, False),  # finished: the StatefulSet still waits for it to go
        ("Failed", True, True, False),
    ],
)
def test_being_deleted_and_terminating_differ_only_for_a_finished_pod(phase, deleting, being_deleted, terminating):
    subject = pod(phase=phase, deleting=deleting)
    assert is_being_deleted(subject) is being_deleted  # the StatefulSet controller's isTerminating
    assert is_terminating(subject) is terminating  # upstream IsPodTerminating, as Jobs and ReplicaSets count


@pytest.mark.parametrize(
    ("phase", "ready", "running_and_ready"),
    [("Running", True, True), ("Running", False, False), ("Pending", True, False), ("Succeeded", True, False)],
)
def test_running_and_ready_needs_both_while_ready_needs_only_the_condition(phase, ready, running_and_ready):
    subject = pod(phase=phase, ready=ready)
    assert is_running_and_ready(subject) is running_and_ready
    assert is_ready(subject) is ready


def test_a_ready_pod_without_a_transition_time_is_available_only_without_min_ready_seconds():
    subject = pod(ready=True)
    del subject["status"]["conditions"][0]["lastTransitionTime"]
    assert is_available(subject, 0, NOW)
    assert not is_available(subject, 5, NOW)


def test_an_owner_controls_only_what_names_it_in_the_controller_reference():
    other = {**OWNER_REF, "uid": "someone-else"}
    plain = {**OWNER_REF, "controller": False}
    assert is_controlled_by(pod(owners=[OWNER_REF]), OWNER)
    assert not is_controlled_by(pod(owners=[other]), OWNER)
    assert not is_controlled_by(pod(owners=[plain]), OWNER), "an owner that is not the controller"
    assert not is_controlled_by(pod(), OWNER)


def test_a_pod_from_a_template_carries_its_labels_annotations_spec_and_a_controller_reference():
    template = {
        "metadata": {"labels": {"app": "web"}, "annotations": {"note": "hi"}, "finalizers": ["example.com/keep"]},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}], "restartPolicy": "Always"},
    }
    created = pod_from_template(template, OWNER, name="web-7d9f8c6b5-x2k4q")
    assert created == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "web-7d9f8c6b5-",
            "name": "web-7d9f8c6b5-x2k4q",
            "namespace": "shop",
            "labels": {"app": "web"},
            "annotations": {"note": "hi"},
            "finalizers": ["example.com/keep"],
            "ownerReferences": [OWNER_REF],
        },
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}], "restartPolicy": "Always"},
    }
    created["metadata"]["labels"]["app"] = "changed"
    assert template["metadata"]["labels"] == {"app": "web"}, "the template is copied, not shared"


def test_claiming_adopts_matching_orphans_releases_what_no_longer_matches_and_leaves_others_alone():
    ours = pod("ours", owners=[OWNER_REF])
    ours_relabelled = pod("relabelled", labels={"app": "debug"}, owners=[OWNER_REF])
    orphan = pod("orphan")
    orphan_elsewhere = pod("other-app", labels={"app": "db"})
    orphan_deleting = pod("orphan-deleting", deleting=True)
    foreign = pod("foreign", owners=[{**OWNER_REF, "uid": "someone-else"}])
    selector = selector_from_match_labels({"matchLabels": {"app": "web"}})

    claimed, adopt, release = claim(
        OWNER, selector, [ours, ours_relabelled, orphan, orphan_elsewhere, orphan_deleting, foreign]
    )

    assert [p["metadata"]["name"] for p in claimed] == ["ours", "orphan"]
    assert [p["metadata"]["name"] for p in adopt] == ["orphan"]
    assert [p["metadata"]["name"] for p in release] == ["relabelled"]


def test_an_owner_being_deleted_neither_adopts_nor_releases():
    deleting_owner = {**OWNER, "metadata": {**OWNER["metadata"], "deletionTimestamp": format_time(NOW)}}
    selector = selector_from_match_labels({"matchLabels": {"app": "web"}})
    ours = pod("ours", owners=[OWNER_REF])
    claimed, adopt, release = claim(
        deleting_owner, selector, [ours, pod("orphan"), pod("gone", labels={"app": "x"}, owners=[OWNER_REF])]
    )
    assert (claimed, adopt, release) == ([ours], [], [])


def test_releasing_keeps_other_owners_and_removes_the_field_when_none_remain():
    other = {"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg", "uid": "cm-uid"}
    assert released_owner_references(pod(owners=[other, OWNER_REF]), OWNER) == [other]
    assert released_owner_references(pod(owners=[OWNER_REF]), OWNER) is None


def test_the_controller_reference_is_the_one_marked_controller():
    plain = {"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg", "uid": "cm-uid"}
    assert controller_ref(pod(owners=[plain, OWNER_REF])) == OWNER_REF
    assert controller_ref(pod(owners=[plain])) is None


def test_a_merge_patch_carries_only_what_changed_and_nulls_what_went():
    old = {"spec": {"replicas": 3, "paused": True}, "metadata": {"labels": {"a": "1", "b": "2"}}, "x": [1, 2]}
    new = {"spec": {"replicas": 5}, "metadata": {"labels": {"a": "1", "c": "3"}}, "x": [1, 2]}
    assert merge_patch(old, new) == {
        "spec": {"paused": None, "replicas": 5},
        "metadata": {"labels": {"b": None, "c": "3"}},
    }
    assert merge_patch(new, new) == {}
    assert merge_patch({"x": [1, 2]}, {"x": [2]}) == {"x": [2]}, "lists are replaced whole"


# --- words ------------------------------------------------------------------------------------


def test_counts_lists_and_long_sentences_read_as_a_beginner_reads_them():
    assert (counted(1, "pod"), counted(0, "pod"), counted(3, "pod")) == ("1 pod", "0 pods", "3 pods")
    assert listed(["a"]) == "a"
    assert listed(["a", "b"]) == "a and b"
    assert listed(["a", "b", "c"]) == "a, b and c"
    assert listed(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"
    assert shortened("x" * 150) == "x" * 150
    long = shortened("pod web fits no node: " + "1 Insufficient cpu, " * 20)
    assert (len(long), long[-1]) == (200, "…")
