from datetime import UTC, datetime, timedelta

import pytest

from clusters.controllers import job as job_controller
from clusters.controllers.actions import Create, Delete, Event, Patch
from clusters.controllers.state import ClusterState
from tests.unit.controllers import world
from tests.unit.controllers.world import stamp

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TRACKING = "batch.kubernetes.io/job-tracking"


class World(world.World):
    """The shared world, with a kubelet that moves pods through their phases."""

    def __init__(self, *objects: dict, now: datetime = NOW, backoff=job_controller.UPSTREAM_POD_FAILURE_BACKOFF):
        super().__init__(*objects, now=now)
        self.backoff = backoff

    def settle(self, limit: int = 40) -> list:
        """Plan and apply until the plan is empty; returns everything that was done."""
        done = []
        for _ in range(limit):
            actions = job_controller.plan(self.state(), now=self.now, backoff=self.backoff)
            if not actions:
                return done
            done += actions
            self.apply(actions)
        raise AssertionError(f"no convergence: still planning {actions}")

    # the kubelet's part
    def run(self, pod: dict, *, restarts: int = 0) -> None:
        pod["spec"]["nodeName"] = "node-1"
        pod["status"] = {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": stamp(self.now)}],
            "containerStatuses": [{"name": "pi", "restartCount": restarts, "state": {"running": {}}}],
        }

    def finish(self, pod: dict, phase: str) -> None:
        exit_code = 0 if phase == "Succeeded" else 1
        terminated = {"exitCode": exit_code, "finishedAt": stamp(self.now)}
        pod["status"] = {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": stamp(self.now)}],
            "containerStatuses": [{"name": "pi", "restartCount": 0, "state": {"terminated": terminated}}],
        }

    def kill_terminating(self) -> None:
        """The kubelet stops deleted pods: they end Failed, and go once no finalizer holds them."""
        for pod in self.pods():
            if pod["metadata"].get("deletionTimestamp"):
                if pod["status"].get("phase") not in ("Succeeded", "Failed"):
                    self.finish(pod, "Failed")
                self.kubelet_done(pod)


def make_job(name: str = "pi", **spec) -> dict:
    uid = f"uid-{name}"
    labels = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    }
    restart_policy = spec.pop("restartPolicy", "Never")
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": uid,
            "resourceVersion": "1",
            "generation": 1,
            "creationTimestamp": stamp(NOW),
            "labels": labels,
        },
        "spec": {
            "parallelism": 1,
            "completions": 1,
            "backoffLimit": 6,
            "completionMode": "NonIndexed",
            "suspend": False,
            "podReplacementPolicy": "TerminatingOrFailed",
            "manualSelector": False,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [{"name": "pi", "image": "perl:5.34", "command": ["perl", "-e", "print 1"]}],
                    "restartPolicy": restart_policy,
                    "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst",
                    "schedulerName": "default-scheduler",
                    "securityContext": {},
                },
            },
        },
    }
    body["spec"].update(spec)
    return body


def creates(actions: list) -> list[dict]:
    return [a.body for a in actions if isinstance(a, Create)]


def reasons(actions: list) -> list[str]:
    return [a.reason for a in actions if isinstance(a, Event)]


def status_of(world: World, name: str = "pi") -> dict:
    return world.get("Job", name)["status"]


def condition_types(world: World, name: str = "pi") -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c.get("reason", "")) for c in status_of(world, name).get("conditions", [])]


# --- creating pods ---------------------------------------------------------------------------


def test_it_creates_pods_from_the_template_with_the_tracking_finalizer_and_starts_the_clock():
    job = make_job(completions=3, parallelism=2)
    actions = job_controller.plan(ClusterState.of([job]), now=NOW)
    first, second = creates(actions)
    assert first["metadata"]["generateName"] == "pi-"
    assert first["metadata"]["name"].startswith("pi-")
    assert len(first["metadata"]["name"]) == 8
    assert first["metadata"]["name"] != second["metadata"]["name"]
    assert first == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "pi-",
            "name": first["metadata"]["name"],
            "namespace": "default",
            "labels": job["spec"]["template"]["metadata"]["labels"],
            "finalizers": [TRACKING],
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": "pi",
                    "uid": "uid-pi",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": job["spec"]["template"]["spec"],
    }
    events = [a for a in actions if isinstance(a, Event)]
    assert [(e.reason, e.message, e.source) for e in events] == [
        ("SuccessfulCreate", f"Created pod: {first['metadata']['name']}", "job-controller"),
        ("SuccessfulCreate", f"Created pod: {second['metadata']['name']}", "job-controller"),
    ]
    assert actions[-1] == Patch(
        "batch/v1",
        "Job",
        "default",
        "pi",
        {"status": {"startTime": stamp(NOW), "active": 2, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}},
        subresource="status",
        resource_version="1",
    )


def test_the_plan_is_the_same_for_the_same_input():
    state = ClusterState.of([make_job(completions=3, parallelism=2)])
    assert job_controller.plan(state, now=NOW) == job_controller.plan(state, now=NOW)


def test_a_job_with_three_completions_and_parallelism_two_completes():
    world = World(make_job(completions=3, parallelism=2))
    world.settle()
    assert len(world.pods()) == 2
    assert status_of(world)["active"] == 2
    for pod in world.pods():
        world.run(pod)
    world.settle()
    assert status_of(world)["ready"] == 2

    first = world.pods()[0]
    world.now += timedelta(seconds=20)
    world.finish(first, "Succeeded")
    world.settle()
    # One more pod for the third completion; never more than the completions still needed.
    assert len(world.pods()) == 3
    assert status_of(world)["succeeded"] == 1
    assert status_of(world)["active"] == 2
    assert first["metadata"].get("finalizers") is None  # counted, so released

    for pod in world.pods():
        if pod["status"]["phase"] != "Succeeded":
            world.finish(pod, "Succeeded")
    world.now += timedelta(seconds=20)
    world.settle()
    status = status_of(world)
    assert status["succeeded"] == 3
    assert "active" not in status
    assert status["uncountedTerminatedPods"] == {}
    assert status["completionTime"] == stamp(world.now)
    assert condition_types(world) == [
        ("SuccessCriteriaMet", "True", "CompletionsReached"),
        ("Complete", "True", "CompletionsReached"),
    ]
    assert all(not p["metadata"].get("finalizers") for p in world.pods())
    assert [e.reason for e in world.events].count("SuccessfulCreate") == 3
    assert [(e.reason, e.message) for e in world.events][-1] == ("Completed", "Job completed")
    assert job_controller.plan(world.state(), now=world.now) == []


def test_a_failing_job_stops_at_the_backoff_limit_and_fails_with_its_pods_gone():
    world = World(make_job(completions=2, parallelism=2, backoffLimit=1))
    world.settle()
    for pod in world.pods():
        world.run(pod)
    failing, survivor = world.pods()

    world.now += timedelta(seconds=5)
    world.finish(failing, "Failed")
    world.settle()
    # One failure is within the limit: the replacement waits out the 10 s backoff.
    assert status_of(world)["failed"] == 1
    assert len(world.pods()) == 2
    assert job_controller.next_wakeup(world.state(), now=world.now) == world.now + timedelta(seconds=10)

    world.now += timedelta(seconds=10)
    world.settle()
    assert len(world.pods()) == 3
    [replacement] = [p for p in world.pods() if p is not failing and p is not survivor]
    world.run(replacement)
    world.now += timedelta(seconds=3)
    world.finish(replacement, "Failed")
    world.settle()
    # Two failures > backoffLimit 1: FailureTarget, the running pod is deleted (and counts as failed).
    assert condition_types(world) == [("FailureTarget", "True", "BackoffLimitExceeded")]
    assert survivor["metadata"].get("deletionTimestamp")
    world.kill_terminating()
    world.settle()
    assert condition_types(world) == [
        ("FailureTarget", "True", "BackoffLimitExceeded"),
        ("Failed", "True", "BackoffLimitExceeded"),
    ]
    status = status_of(world)
    assert status["failed"] == 3
    assert "active" not in status
    assert "completionTime" not in status
    assert not any(p["metadata"].get("deletionTimestamp") for p in world.pods())
    assert all(p["status"]["phase"] == "Failed" for p in world.pods())
    warning = world.events[-1]
    assert (warning.type, warning.reason, warning.message) == (
        "Warning",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    assert "SuccessfulDelete" in [e.reason for e in world.events]
    assert job_controller.plan(world.state(), now=world.now + timedelta(hours=1)) == []


# --- counting --------------------------------------------------------------------------------


def pod_of(job: dict, name: str, phase: str, *, finalizers: tuple = (TRACKING,), **metadata) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "7",
            "creationTimestamp": stamp(NOW),
            "labels": dict(job["spec"]["template"]["metadata"]["labels"]),
            "finalizers": list(finalizers),
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": job["metadata"]["name"],
                    "uid": job["metadata"]["uid"],
                }
                | {"controller": True, "blockOwnerDeletion": True}
            ],
            **metadata,
        },
        "spec": {"nodeName": "node-1", "restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]},
        "status": {"phase": phase},
    }


def running_job(**status) -> dict:
    job = make_job()
    job["status"] = {"startTime": stamp(NOW), "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}, **status}
    return job


def test_a_finished_pod_is_counted_in_three_safe_steps():
    job = running_job(active=1)
    pod = pod_of(job, "pi-abcde", "Succeeded")
    # 1. Its uid is written down as uncounted, and the Job meets its success criteria.
    [write] = job_controller.plan(ClusterState.of([job, pod]), now=NOW)
    assert write.subresource == "status"
    assert write.patch["status"]["uncountedTerminatedPods"] == {"succeeded": ["uid-pi-abcde"]}
    assert write.patch["status"]["active"] is None
    [condition] = write.patch["status"]["conditions"]
    assert condition == {
        "type": "SuccessCriteriaMet",
        "status": "True",
        "lastProbeTime": stamp(NOW),
        "lastTransitionTime": stamp(NOW),
        "reason": "CompletionsReached",
        "message": "Reached expected number of succeeded pods",
    }
    # 2. Once that is stored, the finalizer goes.
    job["status"] = {**job["status"], **write.patch["status"]}
    del job["status"]["active"]
    assert job_controller.plan(ClusterState.of([job, pod]), now=NOW) == [
        Patch("v1", "Pod", "default", "pi-abcde", {"metadata": {"finalizers": None}})
    ]
    # 3. Then the counter moves, and with nothing left uncounted the Job is complete.
    pod["metadata"]["finalizers"] = []
    actions = job_controller.plan(ClusterState.of([job, pod]), now=NOW)
    [write] = [a for a in actions if isinstance(a, Patch)]
    assert write.patch["status"]["succeeded"] == 1
    assert write.patch["status"]["uncountedTerminatedPods"] == {"succeeded": None}
    assert write.patch["status"]["completionTime"] == stamp(NOW)
    assert [c["type"] for c in write.patch["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert reasons(actions) == ["Completed"]


def test_a_running_job_with_nothing_new_needs_nothing():
    job = running_job(active=1, ready=1)
    pod = pod_of(job, "pi-abcde", "Running")
    pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    assert job_controller.plan(ClusterState.of([job, pod]), now=NOW) == []
    assert job_controller.next_wakeup(ClusterState.of([job, pod]), now=NOW) is None


def test_a_deleted_running_pod_counts_as_failed_and_is_replaced():
    world = World(make_job())
    world.settle()
    [pod] = world.pods()
    world.run(pod)
    world.settle()
    world.apply([Delete("v1", "Pod", "default", pod["metadata"]["name"])])  # kubectl delete pod
    world.settle()
    world.kill_terminating()
    world.settle()
    assert status_of(world)["failed"] == 1
    [replacement] = [p for p in world.pods() if p["status"]["phase"] != "Failed"]
    assert replacement["metadata"]["name"] != pod["metadata"]["name"]


def test_with_restart_policy_on_failure_container_restarts_count_towards_the_backoff_limit():
    world = World(make_job(backoffLimit=2, restartPolicy="OnFailure"))
    world.settle()
    [pod] = world.pods()
    world.run(pod, restarts=1)
    world.settle()
    assert condition_types(world) == []
    world.run(pod, restarts=2)
    world.settle()
    assert condition_types(world) == [("FailureTarget", "True", "BackoffLimitExceeded")]
    world.kill_terminating()
    world.settle()
    assert condition_types(world)[-1] == ("Failed", "True", "BackoffLimitExceeded")
    assert status_of(world)["failed"] == 1  # the pod the controller gave up on


def test_pod_creation_backs_off_exponentially_after_consecutive_failures():
    job = running_job(failed=2)
    failures = [
        pod_of(job, "pi-aaaaa", "Failed", finalizers=()),
        pod_of(job, "pi-bbbbb", "Failed", finalizers=()),
    ]
    for pod in failures:
        terminated = {"exitCode": 1, "finishedAt": stamp(NOW)}
        pod["status"]["containerStatuses"] = [{"name": "pi", "state": {"terminated": terminated}}]
    state = ClusterState.of([job, *failures])
    # Two failures since the last success: 20 s after the last one.
    assert creates(job_controller.plan(state, now=NOW + timedelta(seconds=19))) == []
    assert job_controller.next_wakeup(state, now=NOW + timedelta(seconds=19)) == NOW + timedelta(seconds=20)
    assert len(creates(job_controller.plan(state, now=NOW + timedelta(seconds=20)))) == 1
    assert job_controller.next_wakeup(state, now=NOW + timedelta(seconds=20)) is None


UPSTREAM_DELAYS = [(1, 10), (3, 40), (6, 320), (7, 600), (12, 600)]  # 10 s doubling, at most 10 min
FAST_DELAYS = [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (12, 60)]  # 1 s doubling, at most a minute


@pytest.mark.parametrize(
    ("backoff", "failures", "delay"),
    [(job_controller.UPSTREAM_POD_FAILURE_BACKOFF, *case) for case in UPSTREAM_DELAYS]
    + [(job_controller.FAST_POD_FAILURE_BACKOFF, *case) for case in FAST_DELAYS],
)
def test_the_backoff_doubles_from_its_first_delay_and_is_capped(backoff, failures, delay):
    job = running_job(failed=failures)
    pods = [pod_of(job, f"pi-{i:05d}", "Failed", finalizers=()) for i in range(failures)]
    for pod in pods:
        pod["status"]["conditions"] = [{"type": "Ready", "status": "False", "lastTransitionTime": stamp(NOW)}]
    job["spec"]["backoffLimit"] = 20
    state = ClusterState.of([job, *pods])
    assert job_controller.next_wakeup(state, now=NOW, backoff=backoff) == NOW + timedelta(seconds=delay)


def test_with_the_fast_backoff_a_failing_job_retries_after_one_second_then_two():
    world = World(make_job(backoffLimit=6), backoff=job_controller.FAST_POD_FAILURE_BACKOFF)
    world.settle()
    for expected_delay in (1, 2, 4):
        [pod] = [p for p in world.pods() if p["status"]["phase"] == "Pending"]
        world.run(pod)
        world.now += timedelta(seconds=3)
        world.finish(pod, "Failed")
        failed_at, pods_before = world.now, len(world.pods())
        world.settle()
        assert len(world.pods()) == pods_before  # still backing off
        wakeup = job_controller.next_wakeup(world.state(), now=world.now, backoff=world.backoff)
        assert wakeup == failed_at + timedelta(seconds=expected_delay)
        world.now = wakeup - timedelta(milliseconds=1)
        world.settle()
        assert len(world.pods()) == pods_before
        world.now = wakeup
        world.settle()
        assert len(world.pods()) == pods_before + 1
    assert status_of(world)["failed"] == 3


def test_the_default_backoff_is_upstreams_ten_seconds_doubling_to_ten_minutes():
    upstream = job_controller.UPSTREAM_POD_FAILURE_BACKOFF
    assert (upstream.initial, upstream.cap) == (timedelta(seconds=10), timedelta(minutes=10))
    job = running_job(failed=1)
    failed = pod_of(job, "pi-aaaaa", "Failed", finalizers=())
    failed["status"]["conditions"] = [{"type": "Ready", "status": "False", "lastTransitionTime": stamp(NOW)}]
    state = ClusterState.of([job, failed])
    later = NOW + timedelta(seconds=1)
    assert job_controller.next_wakeup(state, now=NOW) == NOW + timedelta(seconds=10)
    assert creates(job_controller.plan(state, now=later)) == []
    fast = job_controller.FAST_POD_FAILURE_BACKOFF
    assert len(creates(job_controller.plan(state, now=later, backoff=fast))) == 1


def test_a_job_past_its_active_deadline_fails_and_the_deadline_is_a_wakeup():
    job = running_job(active=1)
    job["spec"]["activeDeadlineSeconds"] = 60
    pod = pod_of(job, "pi-abcde", "Running")
    state = ClusterState.of([job, pod])
    assert job_controller.plan(state, now=NOW + timedelta(seconds=59)) == []
    assert job_controller.next_wakeup(state, now=NOW + timedelta(seconds=59)) == NOW + timedelta(seconds=60)
    actions = job_controller.plan(state, now=NOW + timedelta(seconds=60))
    assert Delete("v1", "Pod", "default", "pi-abcde", uid="uid-pi-abcde") in actions
    [write] = [a for a in actions if isinstance(a, Patch) and a.kind == "Job"]
    [target] = write.patch["status"]["conditions"]
    assert (target["type"], target["reason"], target["message"]) == (
        "FailureTarget",
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    )


def test_a_suspended_job_deletes_its_pods_without_counting_them_and_resuming_restarts_the_clock():
    world = World(make_job(completions=2, parallelism=2))
    world.settle()
    for pod in world.pods():
        world.run(pod)
    world.get("Job", "pi")["spec"]["suspend"] = True
    actions = world.settle()
    deleted = [a.name for a in actions if isinstance(a, Delete)]
    assert sorted(deleted) == [p["metadata"]["name"] for p in world.pods()]
    assert all(p["metadata"].get("finalizers") is None for p in world.pods())  # released before the delete
    world.kill_terminating()
    world.settle()
    assert world.pods() == []
    status = status_of(world)
    assert "failed" not in status
    assert condition_types(world) == [("Suspended", "True", "JobSuspended")]
    assert [e.reason for e in world.events if e.reason in ("Suspended", "Resumed")] == ["Suspended"]

    world.now += timedelta(minutes=5)
    world.get("Job", "pi")["spec"]["suspend"] = False
    world.settle()
    assert condition_types(world) == [("Suspended", "False", "JobResumed")]
    assert status_of(world)["startTime"] == stamp(world.now)
    assert len(world.pods()) == 2
    assert [e.reason for e in world.events if e.reason in ("Suspended", "Resumed")] == ["Suspended", "Resumed"]


def test_an_indexed_job_runs_one_pod_per_index_and_records_completed_indexes():
    world = World(make_job(completions=3, parallelism=2, completionMode="Indexed"))
    world.settle()
    first, second = sorted(world.pods(), key=lambda p: p["metadata"]["annotations"][job_controller.COMPLETION_INDEX])
    assert first["metadata"]["generateName"] == "pi-0-"
    assert first["metadata"]["annotations"] == {job_controller.COMPLETION_INDEX: "0"}
    assert first["metadata"]["labels"][job_controller.COMPLETION_INDEX] == "0"
    assert first["spec"]["hostname"] == "pi-0"
    assert first["spec"]["containers"][0]["env"] == [
        {
            "name": "JOB_COMPLETION_INDEX",
            "valueFrom": {
                "fieldRef": {
                    "apiVersion": "v1",
                    "fieldPath": "metadata.labels['batch.kubernetes.io/job-completion-index']",
                }
            },
        }
    ]
    assert second["spec"]["hostname"] == "pi-1"
    world.finish(second, "Succeeded")
    world.settle()
    assert status_of(world)["completedIndexes"] == "1"
    [third] = [p for p in world.pods() if p["spec"].get("hostname") == "pi-2"]
    world.finish(first, "Succeeded")
    world.finish(third, "Succeeded")
    world.settle()
    status = status_of(world)
    assert (status["completedIndexes"], status["succeeded"]) == ("0-2", 3)
    assert condition_types(world)[-1] == ("Complete", "True", "CompletionsReached")


def test_pods_of_a_deleted_job_lose_the_tracking_finalizer():
    job = make_job()
    orphan = pod_of(job, "pi-abcde", "Running", deletionTimestamp=stamp(NOW))
    other = pod_of(job, "web-abcde", "Running")
    other["metadata"]["ownerReferences"][0].update(kind="ReplicaSet", apiVersion="apps/v1")
    assert job_controller.plan(ClusterState.of([orphan, other]), now=NOW) == [
        Patch("v1", "Pod", "default", "pi-abcde", {"metadata": {"finalizers": None}})
    ]


def test_a_finished_job_is_left_alone():
    job = running_job(succeeded=1)
    job["status"]["conditions"] = [{"type": "Complete", "status": "True"}]
    pod = pod_of(job, "pi-abcde", "Succeeded", finalizers=())
    assert job_controller.plan(ClusterState.of([job, pod]), now=NOW) == []


# --- why, in words ---------------------------------------------------------------------------


def creates_of(actions: list) -> list[Create]:
    return [a for a in actions if isinstance(a, Create)]


def test_its_creates_say_how_many_completions_are_needed_and_running():
    [create, status] = job_controller.plan(ClusterState.of([make_job()]), now=NOW)[::2]
    assert create.why == "Job pi needs 1 completion, 0 running: creating a pod"
    assert status.why == "Job pi has 1 running, 0 succeeded, 0 failed: status updated"
    parallel = job_controller.plan(ClusterState.of([make_job(completions=5, parallelism=2)]), now=NOW)
    assert {a.why for a in creates_of(parallel)} == {
        "Job pi needs 5 completions (2 at a time), 0 running: creating 2 pods"
    }
    indexed = job_controller.plan(
        ClusterState.of([make_job(completions=2, parallelism=2, completionMode="Indexed")]), now=NOW
    )
    assert {a.why for a in creates_of(indexed)} == {
        "Job pi needs 2 completions, 0 running: creating 2 pods for indexes 0 and 1"
    }


def test_a_failing_job_says_it_passed_its_backoff_limit_when_it_deletes_and_when_it_fails():
    job = running_job(active=1, failed=1)
    job["spec"]["backoffLimit"] = 0
    pod = pod_of(job, "pi-abcde", "Running")
    delete = next(a for a in job_controller.plan(ClusterState.of([job, pod]), now=NOW) if isinstance(a, Delete))
    assert delete.why == "Job pi failed more often than its backoffLimit (0) allows: deleting its 1 running pod"
    job["status"]["conditions"] = [{"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded"}]
    [failed] = [a for a in job_controller.plan(ClusterState.of([job]), now=NOW) if isinstance(a, Patch)]
    assert failed.why == "Job pi failed more often than its backoffLimit (0) allows: marking it Failed"


def test_counting_a_finished_pod_says_why_its_finalizer_goes():
    job = running_job(active=1)
    pod = pod_of(job, "pi-abcde", "Succeeded")
    [write] = job_controller.plan(ClusterState.of([job, pod]), now=NOW)
    assert write.why == "Job pi has 0 running, 0 succeeded, 0 failed, 1 just finished: status updated"
    job["status"] = {**job["status"], **write.patch["status"]}
    del job["status"]["active"]
    [release] = job_controller.plan(ClusterState.of([job, pod]), now=NOW)
    assert release.why == "Job pi has counted pod pi-abcde in its status: removing its Job tracking finalizer"
    assert job_controller.plan(ClusterState.of([pod]), now=NOW)[0].why == (
        "pod pi-abcde's Job pi is gone: removing its Job tracking finalizer"
    )


def test_suspending_says_why_the_pods_go():
    job = running_job(active=1)
    job["spec"]["suspend"] = True
    pod = pod_of(job, "pi-abcde", "Running")
    release, delete = job_controller.plan(ClusterState.of([job, pod]), now=NOW)[:2]
    assert delete.why == "Job pi is suspended: deleting its 1 running pod"
    assert release.why == f"{delete.why}; first its tracking finalizer goes, so it does not count as failed"
