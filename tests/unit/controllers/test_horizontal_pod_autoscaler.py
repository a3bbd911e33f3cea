"""The HorizontalPodAutoscaler planner: upstream's replica calculation, stabilization, scaling
policies, conditions and Events, over the shared test world and a clock of the test's own."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from clusters.controllers import horizontal_pod_autoscaler as hpa_controller
from clusters.controllers.actions import Event, Patch
from clusters.controllers.horizontal_pod_autoscaler import Memory, PodMetric, Recommendation
from clusters.objects.defaults import apply_defaults
from clusters.objects.resources import resource_for_kind
from tests.unit.controllers.world import World, stamp

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SYNC = timedelta(seconds=15)
HPA_RESOURCE = resource_for_kind("autoscaling/v2", "HorizontalPodAutoscaler")
INVOLVED = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "namespace": "default",
    "name": "web",
    "uid": "uid-hpa",
}


def deployment(replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-web", "resourceVersion": "10", "generation": 1},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": {}},
    }


def autoscaler(*, minimum: int = 1, maximum: int = 10, target: int = 50, behavior: dict | None = None) -> dict:
    """An autoscaler as the store keeps it: defaulted, made an hour ago."""
    body = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "uid-hpa",
            "resourceVersion": "20",
            "creationTimestamp": stamp(T0 - timedelta(hours=1)),
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": minimum,
            "maxReplicas": maximum,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}},
                }
            ],
        },
    }
    if behavior is not None:
        body["spec"]["behavior"] = behavior
    return apply_defaults(body, HPA_RESOURCE)


def pod(name: str, *, phase: str = "Running", ready: bool = True, started: datetime = T0 - timedelta(hours=1)) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": "200m"}}}]},
        "status": {
            "phase": phase,
            "startTime": stamp(started),
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": stamp(started + timedelta(seconds=5)),
                }
            ],
        },
    }


def usage(millicores: int, *, at: datetime = T0) -> PodMetric:
    return PodMetric(
        timestamp=at, window=timedelta(seconds=15), containers={"app": {"cpu": millicores, "memory": 10**9}}
    )


def plan(*objects: dict, metrics: dict, now: datetime = T0, memory: dict | None = None) -> list:
    world = World(*objects, now=now)
    return hpa_controller.plan(world.state(), now=now, metrics=metrics, memory=memory or {})


def event(reason: str, message: str, kind: str = "Normal") -> Event:
    return Event(INVOLVED, reason, message, kind, "horizontal-pod-autoscaler")


def scale_to(actions: list) -> int | None:
    patches = [a for a in actions if isinstance(a, Patch) and a.subresource == "scale"]
    return patches[0].patch["spec"]["replicas"] if patches else None


def status_of(actions: list) -> dict:
    patches = [a for a in actions if isinstance(a, Patch) and a.subresource == "status"]
    return patches[0].patch["status"] if patches else {}


def conditions(actions: list) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status_of(actions).get("conditions", [])}


def pods(count: int) -> list[dict]:
    return [pod(f"web-{index}") for index in range(count)]


def test_it_scales_up_by_the_ratio_of_usage_to_target_and_says_why():
    # Two pods at 100 % of their request, against a 50 % target: twice as many pods.
    actions = plan(deployment(2), autoscaler(), *pods(2), metrics={"uid-web-0": usage(200), "uid-web-1": usage(200)})
    assert scale_to(actions) == 4
    assert (
        event("SuccessfulRescale", "New size: 4; reason: cpu resource utilization (percentage of request) above target")
        in actions
    )
    status = status_of(actions)
    assert status["currentReplicas"] == 2
    assert status["desiredReplicas"] == 4
    assert status["lastScaleTime"] == stamp(T0)
    assert status["currentMetrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "current": {"averageValue": "200m", "averageUtilization": 100}},
        }
    ]
    assert conditions(actions) == {
        "AbleToScale": ("True", "SucceededRescale"),
        "ScalingActive": ("True", "ValidMetricFound"),
        "ScalingLimited": ("False", "DesiredWithinRange"),
    }


def test_a_change_within_the_tolerance_leaves_the_size_alone():
    # 55 % against 50 % is a ratio of 1.1: within the 0.1 tolerance.
    actions = plan(deployment(2), autoscaler(), *pods(2), metrics={"uid-web-0": usage(110), "uid-web-1": usage(110)})
    assert scale_to(actions) is None
    assert status_of(actions)["desiredReplicas"] == 2
    assert conditions(actions)["AbleToScale"] == ("True", "ReadyForNewScale")


def test_without_a_behavior_one_step_at_most_doubles_or_reaches_four():
    # One pod at 250 % wants 5; the default limit from 1 pod is 4.
    actions = plan(deployment(1), autoscaler(), pod("web-0"), metrics={"uid-web-0": usage(500)})
    assert scale_to(actions) == 4
    assert conditions(actions)["ScalingLimited"] == ("True", "ScaleUpLimit")


def test_the_stabilization_window_holds_a_scale_down_until_it_has_passed():
    idle = {f"uid-web-{index}": usage(0) for index in range(4)}
    remembered = {
        "uid-hpa": Memory(synced_at=T0 - SYNC, recommendations=(Recommendation(4, T0 - timedelta(seconds=100)),))
    }
    held = plan(deployment(4), autoscaler(), *pods(4), metrics=idle, memory=remembered)
    assert scale_to(held) is None
    assert conditions(held)["AbleToScale"] == ("True", "ScaleDownStabilized")
    later = T0 + timedelta(seconds=201)  # the recommendation of 4 is now 301 s old
    remembered_later = {
        "uid-hpa": Memory(synced_at=later - SYNC, recommendations=(Recommendation(4, T0 - timedelta(seconds=100)),))
    }
    actions = plan(deployment(4), autoscaler(), *pods(4), metrics=idle, now=later, memory=remembered_later)
    assert scale_to(actions) == 1
    assert event("SuccessfulRescale", "New size: 1; reason: All metrics below target") in actions


def test_a_behavior_with_a_short_scale_down_window_scales_down_after_it():
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 30}}
    idle = {f"uid-web-{index}": usage(0) for index in range(4)}
    world = World(deployment(4), autoscaler(behavior=behavior), *pods(4), now=T0)
    memory: dict = {}
    sizes = []
    for step in range(4):
        now = T0 + step * SYNC
        state = world.state()
        actions = hpa_controller.plan(state, now=now, metrics=idle, memory=memory)
        memory = hpa_controller.remember(state, now=now, metrics=idle, memory=memory)
        world.apply(actions)
        sizes.append(world.get("Deployment", "web")["spec"]["replicas"])
    # The first sync records 4 (the size it found); 30 s later that recommendation has left the window.
    assert sizes == [4, 4, 1, 1]


def test_a_scaling_policy_limits_each_step_within_its_period():
    behavior = {"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
    busy = {f"uid-web-{index}": usage(400) for index in range(4)}
    world = World(deployment(2), autoscaler(behavior=behavior), *pods(4), now=T0)
    memory: dict = {}
    sizes = []
    for step in range(3):
        now = T0 + step * SYNC
        state = world.state()
        actions = hpa_controller.plan(state, now=now, metrics=busy, memory=memory)
        memory = hpa_controller.remember(state, now=now, metrics=busy, memory=memory)
        world.apply(actions)
        sizes.append(world.get("Deployment", "web")["spec"]["replicas"])
    # One pod per 60 s: 2 → 3, and no further within the minute.
    assert sizes == [3, 3, 3]
    assert world.get("HorizontalPodAutoscaler", "web")["status"]["conditions"][-1]["reason"] == "ScaleUpLimit"


def test_the_size_stays_between_min_and_max():
    behavior = {"scaleUp": {"policies": [{"type": "Percent", "value": 900, "periodSeconds": 15}]}}
    busy = {f"uid-web-{index}": usage(1000) for index in range(2)}
    actions = plan(deployment(2), autoscaler(maximum=5, behavior=behavior), *pods(2), metrics=busy)
    assert scale_to(actions) == 5
    assert conditions(actions)["ScalingLimited"] == ("True", "TooManyReplicas")
    below = plan(deployment(1), autoscaler(minimum=3), pod("web-0"), metrics={"uid-web-0": usage(100)})
    assert scale_to(below) == 3
    assert event("SuccessfulRescale", "New size: 3; reason: Current number of replicas below Spec.MinReplicas") in below


def test_a_pod_without_metrics_counts_as_idle_on_a_scale_up():
    # web-0 at 200 %, web-1 unmeasured: counted at 0 %, the average is 100 %: 2 * 100 / 50 = 4.
    actions = plan(deployment(2), autoscaler(), *pods(2), metrics={"uid-web-0": usage(400)})
    assert scale_to(actions) == 4


def test_a_pod_without_metrics_counts_as_fully_used_on_a_scale_down():
    # web-0 at 10 %, web-1 unmeasured: counted at 100 %, the average is 55 %: within the tolerance.
    actions = plan(deployment(2), autoscaler(), *pods(2), metrics={"uid-web-0": usage(20)})
    assert scale_to(actions) is None
    assert status_of(actions)["desiredReplicas"] == 2


def test_pods_not_yet_ready_are_counted_as_idle_on_a_scale_up():
    # web-0 at 100 %, web-1 still pending: counted at 0 %, the average is 50 %, the target.
    actions = plan(
        deployment(2),
        autoscaler(),
        pod("web-0"),
        pod("web-1", phase="Pending", ready=False),
        metrics={"uid-web-0": usage(200)},
    )
    assert scale_to(actions) is None


def test_a_pod_measured_before_it_became_ready_is_left_out_while_it_starts():
    # web-1 started a minute ago and became ready 5 s later; its sample ends before a window after that.
    starting = pod("web-1", started=T0 - timedelta(seconds=60))
    metrics = {"uid-web-0": usage(100), "uid-web-1": usage(400, at=T0 - timedelta(seconds=50))}
    actions = plan(deployment(2), autoscaler(), pod("web-0"), starting, metrics=metrics)
    assert status_of(actions)["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 50


def test_without_any_metrics_it_reports_why_and_does_not_scale():
    actions = plan(deployment(1), autoscaler(), pod("web-0"), metrics={})
    assert scale_to(actions) is None
    failure = (
        "failed to get cpu utilization: unable to get metrics for resource cpu: "
        "no metrics returned from resource metrics API"
    )
    assert event("FailedGetResourceMetric", failure, "Warning") in actions
    assert (
        event(
            "FailedComputeMetricsReplicas",
            f"invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: {failure}",
            "Warning",
        )
        in actions
    )
    status = status_of(actions)
    assert status["currentMetrics"] == [{"type": ""}]
    scaling_active = next(c for c in status["conditions"] if c["type"] == "ScalingActive")
    assert scaling_active["message"] == f"the HPA was unable to compute the replica count: {failure}"


def test_a_container_without_a_request_cannot_be_measured_as_utilization():
    unrequested = pod("web-0")
    unrequested["spec"]["containers"][0]["resources"] = {}
    actions = plan(deployment(1), autoscaler(), unrequested, metrics={"uid-web-0": usage(100)})
    assert scale_to(actions) is None
    assert (
        event(
            "FailedGetResourceMetric",
            "failed to get cpu utilization: missing request for cpu in container app of Pod web-0",
            "Warning",
        )
        in actions
    )


def test_an_average_value_target_compares_the_pods_average_usage():
    hpa = autoscaler()
    hpa["spec"]["metrics"] = [
        {
            "type": "Resource",
            "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}},
        }
    ]
    heavy = PodMetric(T0, timedelta(seconds=15), {"app": {"cpu": 1, "memory": 300 * 2**20 * 1000}})
    actions = plan(deployment(1), hpa, pod("web-0"), metrics={"uid-web-0": heavy})
    assert scale_to(actions) == 3
    assert status_of(actions)["currentMetrics"] == [
        # A milli-quantity in decimal SI, as upstream writes it (`kubectl get hpa` shows 314572800/100Mi).
        {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "314572800"}}}
    ]
    assert event("SuccessfulRescale", "New size: 3; reason: memory resource above target") in actions


def test_a_missing_target_is_reported_as_upstream_words_it():
    actions = plan(autoscaler(), metrics={})
    assert event("FailedGetScale", 'deployments.apps "web" not found', "Warning") in actions
    assert conditions(actions) == {"AbleToScale": ("False", "FailedGetScale")}


def test_it_syncs_once_per_period_and_a_new_autoscaler_waits_one_period():
    fresh = autoscaler()
    fresh["metadata"]["creationTimestamp"] = stamp(T0)
    world = World(deployment(1), fresh, pod("web-0"), now=T0)
    metrics = {"uid-web-0": usage(100)}
    assert hpa_controller.plan(world.state(), now=T0, metrics=metrics) == []
    assert hpa_controller.next_wakeup(world.state(), now=T0) == T0 + SYNC
    memory = hpa_controller.remember(world.state(), now=T0 + SYNC, metrics=metrics)
    assert memory["uid-hpa"].synced_at == T0 + SYNC
    assert (
        hpa_controller.plan(world.state(), now=T0 + SYNC + timedelta(seconds=5), metrics=metrics, memory=memory) == []
    )
    assert hpa_controller.next_wakeup(world.state(), now=T0 + SYNC, memory=memory) == T0 + 2 * SYNC


def test_an_unchanged_status_is_not_written_again():
    world = World(deployment(2), autoscaler(), *pods(2), now=T0)
    metrics = {"uid-web-0": usage(100), "uid-web-1": usage(100)}
    world.apply(hpa_controller.plan(world.state(), now=T0, metrics=metrics))
    later = T0 + SYNC
    assert hpa_controller.plan(world.state(), now=later, metrics=metrics, memory={"uid-hpa": Memory(T0)}) == []


@pytest.mark.parametrize(
    ("ratio_pods", "expected"),
    [
        ([200, 200, 200], 6),  # 100 % against 50 %
        ([50, 50, 50], 2),  # 25 % against 50 %: ceil(3 * 0.5)
    ],
)
def test_the_proposal_is_the_ceiling_of_current_times_the_ratio(ratio_pods, expected):
    memory = {"uid-hpa": Memory(synced_at=T0 - SYNC, recommendations=(Recommendation(3, T0 - timedelta(hours=1)),))}
    metrics = {f"uid-web-{index}": usage(value) for index, value in enumerate(ratio_pods)}
    behavior = {"scaleUp": {"policies": [{"type": "Percent", "value": 900, "periodSeconds": 15}]}}
    actions = plan(
        deployment(3), autoscaler(behavior=copy.deepcopy(behavior)), *pods(3), metrics=metrics, memory=memory
    )
    assert scale_to(actions) == expected
