"""The Job controller's podFailurePolicy and backoffLimitPerIndex/maxFailedIndexes, as upstream's
(pkg/controller/job: pod_failure_policy.go, indexed_job_utils.go, backoff_utils.go)."""

from datetime import timedelta

from clusters.controllers import job as job_controller
from clusters.controllers.actions import Delete, Event, Patch
from clusters.controllers.state import ClusterState
from tests.unit.controllers import test_job
from tests.unit.controllers.test_job import NOW, TRACKING, condition_types, creates, make_job, pod_of, status_of
from tests.unit.controllers.world import stamp

FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
IGNORED_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"

# The documentation's example (content/en/examples/controllers/job-pod-failure-policy-example.yaml),
# with the container called "pi" as the shared Job has it.
FAIL_JOB_ON_42_IGNORE_DISRUPTION = {
    "rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "pi", "operator": "In", "values": [42]}},
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
    ]
}


class World(test_job.World):
    """The Job tests' world, with a kubelet that ends a pod with a chosen exit code or condition."""

    def fail(self, pod: dict, exit_code: int = 1, *, container: str = "pi", condition: str | None = None) -> None:
        terminated = {"exitCode": exit_code, "reason": "Error", "finishedAt": stamp(self.now)}
        conditions = [{"type": "Ready", "status": "False", "lastTransitionTime": stamp(self.now)}]
        if condition:
            conditions.append({"type": condition, "status": "True", "lastTransitionTime": stamp(self.now)})
        pod["status"] = {
            "phase": "Failed",
            "conditions": conditions,
            "containerStatuses": [{"name": container, "restartCount": 0, "state": {"terminated": terminated}}],
        }

    def pending(self) -> list[dict]:
        return [
            p for p in self.pods() if p["status"]["phase"] == "Pending" and not p["metadata"].get("deletionTimestamp")
        ]

    def by_index(self, index: int) -> list[dict]:
        return [p for p in self.pods() if p["metadata"]["annotations"][job_controller.COMPLETION_INDEX] == str(index)]


def policy_job(policy: dict = FAIL_JOB_ON_42_IGNORE_DISRUPTION, **spec) -> dict:
    return make_job(podFailurePolicy=policy, podReplacementPolicy="Failed", **spec)


def events(world: World) -> list[tuple[str, str, str]]:
    return [(e.type, e.reason, e.message) for e in world.events]


# --- podFailurePolicy ------------------------------------------------------------------------


def test_an_exit_code_matching_a_fail_job_rule_fails_the_job_at_once_with_the_failure_target_first():
    world = World(policy_job(completions=12, parallelism=3))
    world.settle()
    first, second, third = world.pods()
    for pod in (first, second, third):
        world.run(pod)
    world.settle()

    world.now += timedelta(seconds=5)
    world.fail(first, 42)
    actions = world.settle()
    message = (
        f"Container pi for pod default/{first['metadata']['name']} failed with exit code 42 "
        "matching FailJob rule at index 0"
    )
    # FailureTarget first, with upstream's message; the others are deleted, nothing new is created.
    assert condition_types(world) == [("FailureTarget", "True", "PodFailurePolicy")]
    assert status_of(world)["conditions"][0]["message"] == message
    assert sorted(a.name for a in actions if isinstance(a, Delete)) == sorted(
        p["metadata"]["name"] for p in (second, third)
    )
    assert creates(actions) == []
    assert [e for e in events(world) if e[1] == "SuccessfulDelete"] == [
        ("Normal", "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}") for p in (second, third)
    ]

    world.kill_terminating()
    world.settle()
    assert condition_types(world) == [
        ("FailureTarget", "True", "PodFailurePolicy"),
        ("Failed", "True", "PodFailurePolicy"),
    ]
    failed = status_of(world)["conditions"][1]
    assert failed["message"] == message
    assert events(world)[-1] == ("Warning", "PodFailurePolicy", message)
    assert status_of(world)["failed"] == 3
    assert [e[1] for e in events(world)].count("SuccessfulCreate") == 3  # none after the failure
    assert not any(p["metadata"].get("finalizers") for p in world.pods())
    assert job_controller.plan(world.state(), now=world.now + timedelta(hours=1)) == []


def test_a_failure_ignored_by_its_rule_does_not_count_towards_the_backoff_limit():
    world = World(policy_job(backoffLimit=0))
    world.settle()
    [pod] = world.pods()
    world.run(pod)
    world.fail(pod, 137, condition="DisruptionTarget")  # e.g. preempted
    actions = world.settle()
    # Not counted, not even as uncounted: the finalizer goes at once.
    assert pod["metadata"].get("finalizers") is None
    release = next(a for a in actions if isinstance(a, Patch) and a.kind == "Pod")
    assert release.why == f"Job pi's podFailurePolicy ignores the failure of pod {pod['metadata']['name']}: " + (
        job_controller.RELEASING
    )
    assert "failed" not in status_of(world)
    assert condition_types(world) == []
    # The replacement still waits out the failure back-off, as upstream's backoff record counts it.
    assert job_controller.next_wakeup(world.state(), now=world.now) == world.now + timedelta(seconds=10)
    world.now += timedelta(seconds=10)
    world.settle()
    assert len(world.pending()) == 1


def test_a_failure_that_matches_no_rule_or_a_count_rule_counts_as_usual():
    policy = {
        "rules": [
            {"action": "Count", "onExitCodes": {"operator": "In", "values": [3]}},
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [3, 42]}},  # never reached for 3
        ]
    }
    for exit_code in (1, 3):
        world = World(policy_job(policy, backoffLimit=0))
        world.settle()
        [pod] = world.pods()
        world.fail(pod, exit_code)
        world.settle()
        assert condition_types(world) == [
            ("FailureTarget", "True", "BackoffLimitExceeded"),
            ("Failed", "True", "BackoffLimitExceeded"),
        ]
        assert status_of(world)["failed"] == 1


def test_not_in_matches_every_other_non_zero_exit_code():
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [1, 2]}}]}
    job = policy_job(policy)
    job["status"] = {"startTime": stamp(NOW), "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}

    def failed_with(code: int) -> dict:
        pod = pod_of(job, "pi-abcde", "Failed")
        terminated = {"exitCode": code, "finishedAt": stamp(NOW)}
        pod["status"]["containerStatuses"] = [{"name": "pi", "state": {"terminated": terminated}}]
        return pod

    for code, fails in ((2, False), (5, True)):
        [write] = [
            a
            for a in job_controller.plan(ClusterState.of([job, failed_with(code)]), now=NOW)
            if isinstance(a, Patch) and a.kind == "Job"
        ]
        conditions = write.patch["status"].get("conditions") or []
        assert bool(conditions) is fails
    [write] = [a for a in job_controller.plan(ClusterState.of([job, failed_with(5)]), now=NOW) if a.kind == "Job"]
    assert write.patch["status"]["conditions"][0]["message"] == (
        "Container pi for pod default/pi-abcde failed with exit code 5 matching FailJob rule at index 0"
    )


def test_a_pod_is_matched_only_once_it_has_failed_and_only_on_the_named_container():
    policy = {
        "rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "sidecar", "operator": "In", "values": [42]}},
            {"action": "FailJob", "onExitCodes": {"containerName": "setup", "operator": "In", "values": [7]}},
        ]
    }
    job = policy_job(policy, backoffLimit=6)
    job["status"] = {"startTime": stamp(NOW), "active": 1, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}
    pod = pod_of(job, "pi-abcde", "Running")
    code_42 = {"state": {"terminated": {"exitCode": 42, "finishedAt": stamp(NOW)}}}
    pod["status"]["containerStatuses"] = [{"name": "pi", **code_42}, {"name": "sidecar", **code_42}]
    # Running: a container's exit code matches, but the pod has not failed.
    assert condition_types_after(job, pod) == []
    pod["status"]["phase"] = "Failed"
    assert condition_types_after(job, pod) == [("FailureTarget", "PodFailurePolicy")]
    # The main container's 42 alone does not match a rule naming the sidecar ...
    pod["status"]["containerStatuses"] = [{"name": "pi", **code_42}]
    assert condition_types_after(job, pod) == []
    # ... and init containers are matched too.
    code_7 = {"state": {"terminated": {"exitCode": 7, "finishedAt": stamp(NOW)}}}
    pod["status"]["initContainerStatuses"] = [{"name": "setup", **code_7}]
    assert condition_types_after(job, pod) == [("FailureTarget", "PodFailurePolicy")]


def condition_types_after(job: dict, *pods: dict) -> list[tuple[str, str]]:
    writes = [a for a in job_controller.plan(ClusterState.of([job, *pods]), now=NOW) if a.kind == "Job"]
    conditions = writes[0].patch["status"].get("conditions") or [] if writes else []
    return [(c["type"], c["reason"]) for c in conditions]


def test_with_a_pod_failure_policy_a_deleted_pod_is_replaced_only_once_it_has_failed():
    world = World(policy_job())
    world.settle()
    [pod] = world.pods()
    world.run(pod)
    world.settle()
    world.apply([Delete("v1", "Pod", "default", pod["metadata"]["name"])])  # kubectl delete pod
    world.settle()
    assert len(world.pods()) == 1  # terminating, not failed: no replacement yet, nothing counted
    assert status_of(world)["terminating"] == 1
    assert "failed" not in status_of(world)
    world.kill_terminating()
    world.now += timedelta(seconds=10)
    world.settle()
    assert status_of(world)["failed"] == 1
    assert len(world.pending()) == 1


def test_a_pod_condition_can_fail_the_job():
    policy = {"rules": [{"action": "FailJob", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]}
    world = World(policy_job(policy))
    world.settle()
    [pod] = world.pods()
    world.fail(pod, 137, condition="DisruptionTarget")
    world.settle()
    [target, failed] = status_of(world)["conditions"]
    assert (target["type"], failed["type"], failed["reason"]) == ("FailureTarget", "Failed", "PodFailurePolicy")
    assert failed["message"] == (
        f"Pod default/{pod['metadata']['name']} has condition DisruptionTarget matching FailJob rule at index 0"
    )


# --- backoffLimitPerIndex and maxFailedIndexes -----------------------------------------------


def per_index_job(**spec) -> dict:
    spec = {"completionMode": "Indexed", "backoffLimitPerIndex": 1, "backoffLimit": 2**31 - 1, **spec}
    return make_job(**spec)


def run_indexed(world: World, fails, *, rounds: int = 40) -> None:
    """Run every pending pod to its end (failing those whose index `fails`), and let the controller
    and the clock go on until the Job has finished."""
    for _ in range(rounds):
        world.settle()
        if any(c[0] in ("Complete", "Failed") for c in condition_types(world)):
            return
        world.kill_terminating()
        for pod in world.pending():
            index = int(pod["metadata"]["annotations"][job_controller.COMPLETION_INDEX])
            world.run(pod)
            if fails(index):
                world.fail(pod)
            else:
                world.finish(pod, "Succeeded")
        world.now += timedelta(seconds=1)
        world.settle()
        wakeup = job_controller.next_wakeup(world.state(), now=world.now)
        if wakeup is not None:
            world.now = wakeup
    raise AssertionError(f"the Job did not finish: {status_of(world)}")


def test_the_documentations_backoff_limit_per_index_example_fails_with_failed_indexes():
    world = World(per_index_job(completions=10, parallelism=3, maxFailedIndexes=5))
    run_indexed(world, lambda index: index % 2 == 0)
    status = status_of(world)
    assert status["completedIndexes"] == "1,3,5,7,9"
    assert status["failedIndexes"] == "0,2,4,6,8"
    assert (status["succeeded"], status["failed"]) == (5, 10)  # two tries of each even index
    [target, failed] = status["conditions"]
    assert (target["type"], target["reason"], target["message"]) == (
        "FailureTarget",
        "FailedIndexes",
        "Job has failed indexes",
    )
    assert (failed["type"], failed["reason"], failed["message"]) == (
        "Failed",
        "FailedIndexes",
        "Job has failed indexes",
    )
    assert events(world)[-1] == ("Warning", "FailedIndexes", "Job has failed indexes")
    # Each index's pods say how often the index had failed before them.
    for index in (0, 2):
        counts = sorted(p["metadata"]["annotations"][FAILURE_COUNT] for p in world.by_index(index))
        assert counts == ["0", "1"]
    assert [p["metadata"]["annotations"][FAILURE_COUNT] for p in world.by_index(1)] == ["0"]
    assert not any(p["metadata"].get("finalizers") for p in world.pods())


def test_more_failed_indexes_than_max_failed_indexes_fail_the_job_and_stop_its_pods():
    world = World(per_index_job(completions=6, parallelism=6, backoffLimitPerIndex=0, maxFailedIndexes=1))
    world.settle()
    for pod in world.pods():
        world.run(pod)
    first, second = world.by_index(0)[0], world.by_index(1)[0]
    world.fail(first)
    world.settle()
    assert status_of(world)["failedIndexes"] == "0"
    assert condition_types(world) == []
    world.fail(second)
    actions = world.settle()
    assert condition_types(world) == [("FailureTarget", "True", "MaxFailedIndexesExceeded")]
    assert status_of(world)["conditions"][0]["message"] == (
        "Job has exceeded the specified maximal number of failed indexes"
    )
    assert len([a for a in actions if isinstance(a, Delete)]) == 4
    world.kill_terminating()
    world.settle()
    assert condition_types(world)[-1] == ("Failed", "True", "MaxFailedIndexesExceeded")
    # Only the indexes that failed: the pods stopped with the Job count as failed pods, not indexes.
    assert status_of(world)["failedIndexes"] == "0,1"
    assert status_of(world)["failed"] == 6


def test_a_failed_index_is_retried_after_its_own_back_off_and_keeps_its_pod_until_then():
    world = World(per_index_job(completions=2, parallelism=2, backoffLimitPerIndex=2))
    world.settle()
    assert status_of(world)["failedIndexes"] == ""  # written as upstream writes it, empty
    [failing] = world.by_index(0)
    world.run(failing)
    world.now += timedelta(seconds=3)
    world.fail(failing)
    world.settle()
    # The failed pod keeps its finalizer (so stays, uncounted) until its replacement exists.
    assert failing["metadata"]["finalizers"] == [TRACKING]
    assert status_of(world)["uncountedTerminatedPods"] == {}
    assert "failed" not in status_of(world)
    assert job_controller.next_wakeup(world.state(), now=world.now) == world.now + timedelta(seconds=10)
    world.now += timedelta(seconds=9)
    world.settle()
    assert len(world.by_index(0)) == 1
    world.now += timedelta(seconds=1)
    world.settle()
    replacement = next(p for p in world.by_index(0) if p is not failing)
    assert replacement["metadata"]["annotations"][FAILURE_COUNT] == "1"
    assert IGNORED_COUNT not in replacement["metadata"]["annotations"]
    # Now the failure is counted and the old pod released; the index is not failed (1 < 2).
    assert failing["metadata"].get("finalizers") is None
    assert status_of(world)["failed"] == 1
    assert status_of(world)["failedIndexes"] == ""
    # A second failure doubles the index's back-off.
    world.run(replacement)
    world.fail(replacement)
    world.settle()
    assert job_controller.next_wakeup(world.state(), now=world.now) == world.now + timedelta(seconds=20)


def test_one_index_backing_off_does_not_hold_up_the_others():
    job = per_index_job(completions=3, parallelism=3, backoffLimitPerIndex=3)
    job["status"] = {"startTime": stamp(NOW), "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}
    failed = pod_of(job, "pi-0-aaaaa", "Failed", annotations={job_controller.COMPLETION_INDEX: "0", FAILURE_COUNT: "0"})
    failed["status"]["conditions"] = [{"type": "Ready", "status": "False", "lastTransitionTime": stamp(NOW)}]
    state = ClusterState.of([job, failed])
    actions = job_controller.plan(state, now=NOW + timedelta(seconds=1))
    assert sorted(p["metadata"]["annotations"][job_controller.COMPLETION_INDEX] for p in creates(actions)) == ["1", "2"]
    assert job_controller.next_wakeup(state, now=NOW + timedelta(seconds=1)) == NOW + timedelta(seconds=10)


def test_a_fail_index_rule_fails_the_index_at_its_first_failure():
    policy = {"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [42]}}]}
    world = World(
        per_index_job(
            completions=2, parallelism=2, backoffLimitPerIndex=5, podFailurePolicy=policy, podReplacementPolicy="Failed"
        )
    )
    world.settle()
    zero, one = world.by_index(0)[0], world.by_index(1)[0]
    world.fail(zero, 42)
    world.finish(one, "Succeeded")
    world.settle()
    status = status_of(world)
    assert (status["failedIndexes"], status["completedIndexes"], status["failed"]) == ("0", "1", 1)
    assert condition_types(world)[-1] == ("Failed", "True", "FailedIndexes")
    assert len(world.pods()) == 2  # index 0 was not retried


def test_an_ignored_failure_is_counted_apart_on_the_replacement():
    policy = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]}
    world = World(
        per_index_job(
            completions=1, parallelism=1, backoffLimitPerIndex=0, podFailurePolicy=policy, podReplacementPolicy="Failed"
        )
    )
    world.settle()
    [first] = world.pods()
    world.fail(first, 137, condition="DisruptionTarget")
    world.now += timedelta(seconds=10)
    world.settle()
    replacement = next(p for p in world.pods() if p is not first)
    annotations = replacement["metadata"]["annotations"]
    assert (annotations[FAILURE_COUNT], annotations[IGNORED_COUNT]) == ("0", "1")
    assert status_of(world)["failedIndexes"] == ""
    assert "failed" not in status_of(world)


def test_failed_indexes_are_kept_in_upstreams_compressed_form():
    job = per_index_job(completions=10, parallelism=1, backoffLimitPerIndex=0)
    job["status"] = {
        "startTime": stamp(NOW),
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "failedIndexes": "1,3-5",
        "failed": 4,
    }
    failed = pod_of(job, "pi-6-aaaaa", "Failed", annotations={job_controller.COMPLETION_INDEX: "6", FAILURE_COUNT: "0"})
    [write] = [a for a in job_controller.plan(ClusterState.of([job, failed]), now=NOW) if isinstance(a, Patch)]
    assert write.patch["status"]["failedIndexes"] == "1,3-6"
    assert write.patch["status"]["uncountedTerminatedPods"] == {"failed": ["uid-pi-6-aaaaa"]}
    assert (
        write.why
        == "Job pi has 1 running, 0 succeeded, 4 failed, 1 just finished, failed indexes 1,3-6: status updated"
    )


def test_jobs_without_backoff_limit_per_index_write_no_failed_indexes():
    world = World(make_job(completions=2, parallelism=2, completionMode="Indexed"))
    world.settle()
    assert "failedIndexes" not in status_of(world)
    assert all(FAILURE_COUNT not in p["metadata"]["annotations"] for p in world.pods())


def test_a_failed_job_says_why_in_words():
    job = policy_job()
    job["status"] = {
        "startTime": stamp(NOW),
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "conditions": [{"type": "FailureTarget", "status": "True", "reason": "PodFailurePolicy", "message": "m"}],
    }
    actions = job_controller.plan(ClusterState.of([job]), now=NOW)
    [write] = [a for a in actions if isinstance(a, Patch)]
    assert write.why == "a failed pod of Job pi matched a FailJob rule of its podFailurePolicy: marking it Failed"
    assert [a for a in actions if isinstance(a, Event)] == [
        Event(
            {"apiVersion": "batch/v1", "kind": "Job", "namespace": "default", "name": "pi", "uid": "uid-pi"},
            "PodFailurePolicy",
            "m",
            "Warning",
            "job-controller",
        )
    ]
