"""Refused creates: what each controller records (pure), and when an owner asks again."""

from datetime import UTC, datetime, timedelta

from clusters.controllers import job, refusals, replicaset, statefulset
from clusters.controllers.actions import Create, Event, Patch, ref
from clusters.controllers.state import ClusterState

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
QUOTA_MESSAGE = 'pods "web-x" is forbidden: exceeded quota: pod-demo, requested: pods=1, used: pods=2, limited: pods=2'


def replica_set(replicas=3, status=None, **metadata):
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "ns", "uid": "rs-uid", "generation": 1, **metadata},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}},
        },
        "status": status or {"replicas": 0},
    }


def owned_pod(name, owner):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"uid-{name}",
            "labels": {"app": "web"},
            "ownerReferences": [
                {"kind": owner["kind"], "name": "web", "uid": owner["metadata"]["uid"], "controller": True}
            ],
        },
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Running"},
    }


def quota(version="1"):
    return {"kind": "ResourceQuota", "metadata": {"name": "pod-demo", "namespace": "ns", "resourceVersion": version}}


# --- what the controllers record ----------------------------------------------------------------


def test_a_replica_set_records_failed_create_and_a_replica_failure_condition():
    rs = replica_set()
    creates = [a for a in replicaset.plan(ClusterState.of([rs]), now=NOW) if isinstance(a, Create)]
    recorded = creates[0].refused(QUOTA_MESSAGE)
    assert recorded == [
        Event(ref(rs), "FailedCreate", f"Error creating: {QUOTA_MESSAGE}", "Warning", "replicaset-controller"),
        Patch(
            "apps/v1",
            "ReplicaSet",
            "ns",
            "web",
            {
                "status": {
                    "conditions": [
                        {
                            "type": "ReplicaFailure",
                            "status": "True",
                            "lastTransitionTime": "2026-11-26T12:00:00Z",
                            "reason": "FailedCreate",
                            "message": QUOTA_MESSAGE,
                        }
                    ]
                }
            },
            subresource="status",
        ),
    ]


def test_a_replica_set_with_the_condition_already_records_only_the_event():
    failure = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "earlier"}
    rs = replica_set(status={"replicas": 0, "conditions": [failure]})
    creates = [a for a in replicaset.plan(ClusterState.of([rs]), now=NOW) if isinstance(a, Create)]
    assert [type(a) for a in creates[0].refused(QUOTA_MESSAGE)] == [Event]


def test_a_held_replica_set_creates_nothing_but_keeps_its_failure_while_pods_are_missing():
    failure = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": QUOTA_MESSAGE}
    rs = replica_set(status={"replicas": 2, "conditions": [failure]})
    pods = [owned_pod("web-a", rs), owned_pod("web-b", rs)]
    actions = replicaset.plan(ClusterState.of([rs, *pods]), now=NOW, held=frozenset({"rs-uid"}))
    assert not [a for a in actions if isinstance(a, Create)]
    [status] = [a for a in actions if isinstance(a, Patch)]  # the counts, and nothing of the condition
    assert status.patch == {"status": {"fullyLabeledReplicas": 2, "terminatingReplicas": 0, "observedGeneration": 1}}


def test_the_failure_condition_goes_once_the_replica_set_has_its_pods():
    failure = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": QUOTA_MESSAGE}
    rs = replica_set(replicas=2, status={"replicas": 2, "observedGeneration": 1, "conditions": [failure]})
    pods = [owned_pod("web-a", rs), owned_pod("web-b", rs)]
    [patch] = [a for a in replicaset.plan(ClusterState.of([rs, *pods]), now=NOW) if isinstance(a, Patch)]
    assert patch.patch["status"]["conditions"] is None


def test_a_job_records_failed_create():
    batch_job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "ns", "uid": "job-uid", "generation": 1},
        "spec": {
            "completions": 1,
            "parallelism": 1,
            "backoffLimit": 6,
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c"}]}},
        },
    }
    [create] = [a for a in job.plan(ClusterState.of([batch_job]), now=NOW) if isinstance(a, Create)]
    assert create.refused(QUOTA_MESSAGE) == [
        Event(ref(batch_job), "FailedCreate", f"Error creating: {QUOTA_MESSAGE}", "Warning", "job-controller")
    ]
    held = job.plan(ClusterState.of([batch_job]), now=NOW, held=frozenset({"job-uid"}))
    assert not [a for a in held if isinstance(a, Create)]


def test_a_stateful_set_says_which_pod_or_claim_it_failed_to_create():
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "ns", "uid": "sts-uid", "generation": 1},
        "spec": {
            "replicas": 1,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}},
            "volumeClaimTemplates": [
                {"metadata": {"name": "www"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}
            ],
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate"},
        },
    }
    claim, pod = [a for a in statefulset.plan(ClusterState.of([sts]), now=NOW) if isinstance(a, Create)]
    assert claim.owner == pod.owner == ref(sts)
    [event] = claim.refused("no room")
    assert event.message == "create Claim www-web-0 for Pod web-0 in StatefulSet web failed error: no room"
    [event] = pod.refused("no room")
    assert (event.reason, event.type) == ("FailedCreate", "Warning")
    assert event.message == "create Pod web-0 in StatefulSet web failed error: no room"


# --- when an owner asks again -------------------------------------------------------------------


def test_an_owner_is_held_until_its_back_off_ends():
    rs = replica_set()
    state = ClusterState.of([rs, quota()])
    first = refusals.refused_again(None, ref(rs), state, NOW)
    assert refusals.held([first], state, NOW + timedelta(milliseconds=900)) == {"rs-uid"}
    assert refusals.held([first], state, NOW + timedelta(seconds=1)) == frozenset()
    again = refusals.refused_again(first, ref(rs), state, NOW)
    assert again.retry_at == NOW + timedelta(seconds=2)
    many = first
    for _ in range(40):
        many = refusals.refused_again(many, ref(rs), state, NOW)
    assert many.retry_at == NOW + timedelta(minutes=5)


def test_a_changed_quota_or_owner_spec_ends_the_hold_at_once():
    rs = replica_set()
    refusal = refusals.refused_again(None, ref(rs), ClusterState.of([rs, quota("1")]), NOW)
    assert refusals.held([refusal], ClusterState.of([rs, quota("2")]), NOW) == frozenset()
    respecified = replica_set(generation=2)
    assert refusals.held([refusal], ClusterState.of([respecified, quota("1")]), NOW) == frozenset()


def test_a_held_owners_creates_and_their_events_leave_any_plan():
    rs = replica_set()
    mine = Create(owned_pod("web-x", rs))
    other = Create({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}})
    said = Event(ref(rs), "SuccessfulCreate", "Created pod: web-x")
    unrelated = Event({"uid": "other"}, "Scheduled", "…")
    plan = [mine, said, unrelated, other, Event(ref(rs), "Note", "kept: after another write")]
    assert refusals.without_held(plan, frozenset({"rs-uid"})) == [unrelated, other, plan[-1]]
    assert refusals.without_held(plan, frozenset()) == plan
