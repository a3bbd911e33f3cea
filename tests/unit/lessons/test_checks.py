"""Lesson checks judge a snapshot of a sandbox and say why they fail, in English and Korean."""

import pytest
from django.utils import translation

from clusters.snapshot import Snapshot
from tutor.lessons.checks import CheckSpecError, Observation, parse_check


def pod(
    name,
    *,
    labels=None,
    node="node-1",
    phase="Running",
    ready=True,
    reason="",
    restarts=0,
    image="nginx",
    containers=1,
    deleting=False,
    namespace="default",
    owner=None,
):
    statuses = []
    for index in range(containers):
        state = {"running": {"startedAt": "2026-12-04T10:00:00Z"}} if not reason else {"waiting": {"reason": reason}}
        statuses.append(
            {
                "name": f"c{index}",
                "ready": ready and not reason,
                "restartCount": restarts,
                "state": state,
                "image": image,
            }
        )
    metadata = {"name": name, "namespace": namespace, "uid": f"uid-{name}", "labels": labels or {}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-04T10:00:00Z"
    if owner:
        metadata["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "uid": "o", "controller": True}]
    all_ready = ready and not reason
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"nodeName": node, "containers": [{"name": f"c{i}", "image": image} for i in range(containers)]},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if all_ready else "False"}],
            "containerStatuses": statuses,
        },
    }


def observe(*objects, logs=None, history=None):
    return Observation(
        snapshot=Snapshot.of(objects),
        logs=(lambda namespace, name, container: (logs or {}).get(name, ())),
        history=history or (lambda actor, kind, change, name: 0),
    )


def check(spec):
    return parse_check(spec, "test")


WEB = {"app": "web"}


def test_it_passes_when_exactly_the_wanted_pods_are_running_and_ready():
    result = check({"pods": {"selector": "app=web", "count": 2}}).evaluate(
        observe(pod("web-1", labels=WEB), pod("web-2", labels=WEB), pod("other", labels={"app": "db"}))
    )
    assert result.passed
    assert result.message == "exactly 2 pods labelled app=web are Running and Ready"


def test_it_names_the_pod_that_keeps_the_count_short_and_why():
    result = check({"pods": {"selector": "app=web", "count": 3}}).evaluate(
        observe(
            pod("web-1", labels=WEB),
            pod("web-2", labels=WEB),
            pod("web-7d9f-x2k", labels=WEB, reason="CrashLoopBackOff", restarts=4),
        )
    )
    assert not result.passed
    assert result.message == (
        "expected 3 pods labelled app=web to be Running and Ready, found 2: web-7d9f-x2k is in CrashLoopBackOff"
    )


def test_it_explains_in_korean_when_korean_is_active():
    with translation.override("ko"):
        result = check({"pods": {"selector": "app=web", "count": 1}}).evaluate(observe())
    assert not result.passed
    assert "app=web" in result.message
    assert "파드" in result.message


def test_a_pod_running_but_not_ready_is_said_so():
    result = check({"pods": {"name": "cache"}}).evaluate(observe(pod("cache", ready=False)))
    assert result.message == "cache is Running but not ready (0/1)"


def test_at_least_counts_and_terminating_pods_do_not_count():
    spec = {"pods": {"selector": "app=web", "min": 2}}
    assert check(spec).evaluate(observe(*(pod(f"w{i}", labels=WEB) for i in range(3)))).passed
    result = check(spec).evaluate(observe(pod("w1", labels=WEB), pod("w2", labels=WEB, deleting=True)))
    assert not result.passed
    assert "w2 is terminating" in result.message


def test_restarts_containers_image_and_spread_are_each_required():
    restarted = check({"pods": {"name": "cache", "restarts": 1}})
    assert not restarted.evaluate(observe(pod("cache"))).passed
    assert restarted.evaluate(observe(pod("cache", restarts=1))).passed
    assert "has restarted 0 times, expected at least 1" in restarted.evaluate(observe(pod("cache"))).message
    two = check({"pods": {"name": "duo", "containers": 2}})
    assert not two.evaluate(observe(pod("duo"))).passed
    assert two.evaluate(observe(pod("duo", containers=2))).passed
    image = check({"pods": {"selector": "app=web", "count": 1, "image": "nginx:1.28"}})
    assert not image.evaluate(observe(pod("w", labels=WEB, image="nginx:1.27"))).passed
    spread = check({"pods": {"selector": "app=web", "count": 2, "nodes": 2}})
    same_node = observe(pod("a", labels=WEB), pod("b", labels=WEB))
    assert spread.evaluate(same_node).message == "the pods run on 1 node(s) (node-1), expected at least 2"
    assert spread.evaluate(observe(pod("a", labels=WEB), pod("b", labels=WEB, node="node-2"))).passed


def test_pod_states_other_than_ready():
    crashing = pod("c", reason="CrashLoopBackOff")
    assert check({"pods": {"name": "c", "state": "crashloop"}}).evaluate(observe(crashing)).passed
    pulling = pod("p", reason="ImagePullBackOff")
    assert check({"pods": {"name": "p", "state": "image-error"}}).evaluate(observe(pulling)).passed
    done = pod("j", phase="Succeeded", ready=False)
    assert check({"pods": {"name": "j", "state": "succeeded"}}).evaluate(observe(done)).passed


def service(name, selector=None):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "uid": "s"},
        "spec": {"selector": selector or {}, "type": "ClusterIP"},
    }


def endpoints(name, ready, not_ready=()):
    def address(pod_name):
        return {"ip": f"10.0.0.{len(pod_name)}", "targetRef": {"kind": "Pod", "name": pod_name}}

    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": name, "namespace": "default"},
        "subsets": [{"addresses": [address(p) for p in ready], "notReadyAddresses": [address(p) for p in not_ready]}],
    }


def test_a_service_check_counts_ready_endpoints_and_names_the_not_ready_ones():
    spec = {"service": {"name": "web", "endpoints": 3}}
    three = observe(service("web", WEB), endpoints("web", ["a", "bb", "ccc"]))
    assert check(spec).evaluate(three).passed
    assert check(spec).evaluate(three).message == "Service web has 3 ready endpoints"
    two = check(spec).evaluate(observe(service("web", WEB), endpoints("web", ["a", "bb"], ["dddd"])))
    assert two.message == "Service web has 2 ready endpoints, expected 3: not ready: dddd"
    missing = check(spec).evaluate(observe())
    assert missing.message == "Service web does not exist in namespace default"


def deployment(name, *, image="nginx:1.27", replicas=3, ready=3, updated=3, available=3, revision="1"):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": "d",
            "generation": 2,
            "annotations": {"deployment.kubernetes.io/revision": revision},
        },
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "web", "image": image}]}}},
        "status": {
            "observedGeneration": 2,
            "replicas": replicas,
            "readyReplicas": ready,
            "updatedReplicas": updated,
            "availableReplicas": available,
        },
    }


def test_a_deployment_check_waits_for_the_rollout_to_finish():
    spec = {"deployment": {"name": "web", "image": "nginx:1.28", "revision": 2}}
    done = observe(deployment("web", image="nginx:1.28", revision="2"))
    assert check(spec).evaluate(done).passed
    rolling = check(spec).evaluate(observe(deployment("web", image="nginx:1.28", revision="2", updated=1)))
    assert rolling.message == (
        'the rollout is not finished: Waiting for deployment "web" rollout to finish: '
        "1 out of 3 new replicas have been updated..."
    )
    old = check(spec).evaluate(observe(deployment("web")))
    assert old.message == "Deployment web runs nginx:1.27, expected nginx:1.28"


def test_absent_tells_a_terminating_namespace_from_a_present_one():
    spec = {"absent": {"kind": "Namespace", "name": "team-a"}}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
    assert check(spec).evaluate(observe(namespace)).message == "Namespace team-a still exists"
    terminating = {**namespace, "metadata": {"name": "team-a", "deletionTimestamp": "2026-12-04T10:00:00Z"}}
    assert check(spec).evaluate(observe(terminating)).message == "Namespace team-a is being deleted (Terminating)"
    assert check(spec).evaluate(observe()).passed


def test_object_fields_and_condition_statuses():
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-2"},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]},
    }
    assert (
        check({"object": {"kind": "Node", "name": "node-2", "fields": {"conditions.Ready": "Unknown"}}})
        .evaluate(observe(node))
        .passed
    )
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "status": {"phase": "Pending"},
    }
    result = check(
        {
            "object": {
                "kind": "PersistentVolumeClaim",
                "name": "data",
                "namespace": "default",
                "fields": {"status.phase": "Bound"},
            }
        }
    ).evaluate(observe(claim))
    assert result.message == "PersistentVolumeClaim data has status.phase = Pending, expected Bound"


def test_log_history_and_event_checks_read_what_the_observation_gives():
    log = check({"log": {"pod": "duo", "contains": "hello"}})
    assert log.evaluate(observe(logs={"duo": ["hello there"]})).passed
    assert not log.evaluate(observe(logs={"duo": ["nothing"]})).passed
    history = check({"history": {"actor": "default-scheduler", "kind": "Pod", "change": "MODIFIED", "min": 2}})
    assert history.evaluate(observe(history=lambda actor, kind, change, name: 2)).passed
    assert history.evaluate(observe(history=lambda actor, kind, change, name: 1)).message == (
        "default-scheduler has changed 1 Pod objects so far, expected 2"
    )
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e", "namespace": "default"},
        "reason": "Scheduled",
        "involvedObject": {"kind": "Pod", "name": "web-1"},
    }
    assert check({"event": {"reason": "Scheduled", "kind": "Pod", "name": "web"}}).evaluate(observe(event)).passed
    assert not check({"event": {"reason": "Killing"}}).evaluate(observe(event)).passed


def test_all_explains_with_its_first_failing_check():
    spec = {"all": [{"pods": {"name": "a"}}, {"absent": {"kind": "Pod", "name": "b", "namespace": "default"}}]}
    result = check(spec).evaluate(observe(pod("a"), pod("b")))
    assert result.message == "Pod b still exists"


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"pods": {"selector": "app=web"}}, "give either count or min"),
        ({"pods": {"count": 1}}, "give a selector or a name"),
        ({"pods": {"name": "x", "state": "sleeping"}}, "state must be one of"),
        ({"pods": {"name": "x", "colour": "red"}}, "has no option colour"),
        ({"pods": {"selector": "app in (", "count": 1}}, "selector"),
        ({"pod": {"name": "x"}}, "unknown check `pod`"),
        ({"pods": {"name": "x"}, "service": {"name": "y"}}, "one key"),
        ({"service": {}}, "missing 1 required"),
        ({"all": []}, "takes a list"),
        ({"log": {"contains": "x"}}, "give either pod or selector"),
        ({"history": {"actor": "x", "kind": "Pod", "change": "CREATED"}}, "change must be"),
    ],
)
def test_a_check_that_cannot_be_understood_is_refused_with_the_reason(spec, problem):
    with pytest.raises(CheckSpecError, match="test") as raised:
        parse_check(spec, "test")
    assert problem in str(raised.value)


def test_object_and_absent_look_in_default_unless_the_kind_is_cluster_scoped():
    cache = pod("cache")
    assert check({"object": {"kind": "Pod", "name": "cache"}}).evaluate(observe(cache)).passed
    assert not check({"absent": {"kind": "Pod", "name": "cache"}}).evaluate(observe(cache)).passed
    elsewhere = pod("cache", namespace="team-a")
    assert check({"absent": {"kind": "Pod", "name": "cache"}}).evaluate(observe(elsewhere)).passed
    assert (
        check({"object": {"kind": "Pod", "name": "cache", "namespace": "team-a"}}).evaluate(observe(elsewhere)).passed
    )
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}}
    assert check({"object": {"kind": "Node", "name": "node-1"}}).evaluate(observe(node)).passed


def test_values_are_worded_as_yaml_writes_them():
    suspended = check({"object": {"kind": "CronJob", "name": "ticker", "fields": {"spec.suspend": True}}})
    assert suspended.describe() == "CronJob ticker has spec.suspend = true"
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "ticker", "namespace": "default"},
        "spec": {"suspend": False},
    }
    assert suspended.evaluate(observe(cron)).message == ("CronJob ticker has spec.suspend = false, expected true")


def test_history_can_be_narrowed_to_names_that_start_with_a_prefix():
    asked = []

    def history(actor, kind, change, name):
        asked.append((actor, kind, change, name))
        return 3

    spec = {"history": {"actor": "replicaset-controller", "kind": "Pod", "min": 3, "name": "relay-"}}
    assert check(spec).evaluate(observe(history=history)).passed
    assert asked == [("replicaset-controller", "Pod", "ADDED", "relay-")]
    assert check(spec).describe() == "replicaset-controller has created at least 3 Pod relay-… objects"
