"""The Deployment planner: exact plans for one pass, and whole rollouts driven step by step in the
in-test world of `test_replicaset` (Deployment and ReplicaSet controllers, scheduler, kubelets)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from clusters.controllers import deployment, replicaset
from clusters.controllers.actions import Create, Delete, Event, Patch
from clusters.controllers.pods import format_time, is_ready
from clusters.controllers.state import ClusterState
from tests.unit.controllers.test_replicaset import T0, TEMPLATE, World
from tests.unit.controllers.world import controller_of

CONTROLLERS = [deployment.plan, replicaset.plan]
V1, V2, V3 = "nginx:1.27", "nginx:1.28", "nginx:1.29"
HASH_CHARACTERS = "456789bcdf"  # what upstream's safe encoding makes of decimal digits
REVISION = "deployment.kubernetes.io/revision"


def a_deployment(
    name="web", *, replicas=3, image=V1, strategy: dict | None = None, annotations=None, **spec_fields
) -> dict:
    """A Deployment as the API server stores it: defaulted, with uid, resourceVersion, generation."""
    template = copy.deepcopy(TEMPLATE)
    template["spec"]["containers"][0]["image"] = image
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "web"}},
        "template": template,
        "strategy": strategy
        or {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
        **spec_fields,
    }
    metadata = {
        "name": name,
        "namespace": "default",
        "uid": f"uid-deployment-{name}",
        "resourceVersion": "5",
        "generation": 1,
        "creationTimestamp": format_time(T0 - timedelta(hours=1)),
    }
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}


def dep_event(message: str) -> Event:
    involved = {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "default", "name": "web"}
    return Event(
        {**involved, "uid": "uid-deployment-web"}, "ScalingReplicaSet", message, source="deployment-controller"
    )


def condition(kind, status, reason, message, updated=T0, transition=None) -> dict:
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": format_time(updated),
        "lastTransitionTime": format_time(transition or updated),
        "reason": reason,
        "message": message,
    }


def rs_name(image: str = V1, collision_count: int | None = None) -> str:
    template = copy.deepcopy(TEMPLATE)
    template["spec"]["containers"][0]["image"] = image
    return f"web-{deployment.pod_template_hash(template, collision_count)}"


def image_of(pod: dict) -> str:
    return pod["spec"]["containers"][0]["image"]


def set_image(world: World, image: str) -> None:
    containers = [{**TEMPLATE["spec"]["containers"][0], "image": image}]
    world.apply(
        [Patch("apps/v1", "Deployment", "default", "web", {"spec": {"template": {"spec": {"containers": containers}}}})]
    )


def set_spec(world: World, **fields) -> None:
    world.apply([Patch("apps/v1", "Deployment", "default", "web", {"spec": fields})])


def rollout_finished(d: dict) -> bool:
    """What `kubectl rollout status` waits for."""
    status = d.get("status") or {}
    replicas = d["spec"]["replicas"]
    return (
        status.get("observedGeneration", 0) >= d["metadata"]["generation"]
        and status.get("updatedReplicas", 0) == replicas
        and status.get("replicas", 0) == status.get("updatedReplicas", 0)
        and status.get("availableReplicas", 0) == status.get("updatedReplicas", 0)
    )


def settle(world: World, **options) -> int:
    """Run both controllers to rest; the Deployment planner must leave itself nothing to do."""
    return world.settle(CONTROLLERS, steady=(deployment.plan,), **options)


def settled_world(*objects: dict, **options) -> World:
    world = World(*objects)
    settle(world, **options)
    return world


def scaling_messages(world: World) -> list[str]:
    return [e.message for e in world.events if e.reason == "ScalingReplicaSet"]


def get_progressing(status: dict) -> dict:
    return next(c for c in status["conditions"] if c["type"] == "Progressing")


def rolling_limits(replicas: int, surge: int, unavailable: int) -> Callable[[World], None]:
    """After every write: never more pods than replicas + maxSurge (terminating ones do not count,
    as upstream), never fewer ready than replicas - maxUnavailable."""

    def check(world: World) -> None:
        pods = world.active_pods()
        assert len(pods) <= replicas + surge, "more pods than replicas + maxSurge"
        assert sum(rs["spec"]["replicas"] for rs in world.all("ReplicaSet")) <= replicas + surge
        available = sum(1 for p in pods if is_ready(p))
        assert available >= replicas - unavailable, "fewer available pods than replicas - maxUnavailable"

    return check


# --- pure pieces ------------------------------------------------------------------------------


def test_the_pod_template_hash_is_stable_and_shaped_like_upstreams():
    template = copy.deepcopy(TEMPLATE)
    # Pinned: a different hash after an upgrade would roll out every Deployment again.
    assert deployment.pod_template_hash(template) == "7cbbcd896c"
    assert deployment.pod_template_hash(copy.deepcopy(template)) == "7cbbcd896c"
    assert deployment.pod_template_hash(template, 1) != "7cbbcd896c"
    assert deployment.pod_template_hash(template, 0) != deployment.pod_template_hash(template)
    changed = copy.deepcopy(template)
    changed["spec"]["containers"][0]["image"] = V2
    other = deployment.pod_template_hash(changed)
    assert other != "7cbbcd896c"
    assert re.fullmatch(f"[{HASH_CHARACTERS}]{{1,10}}", other)


def test_long_deployment_names_are_cut_to_keep_the_replica_set_name_valid():
    name = deployment.replica_set_name("x" * 260, "7cbbcd896c")
    assert len(name) == 253
    assert name.endswith("x-7cbbcd896c")


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        ("25%", "25%", 3, (1, 0)),
        ("25%", "25%", 4, (1, 1)),
        ("25%", "25%", 10, (3, 2)),
        ("39%", "39%", 10, (4, 3)),
        (0, 0, 5, (0, 1)),
        ("0%", "0%", 0, (0, 1)),
        (2, "50%", 5, (2, 2)),
    ],
)
def test_max_surge_rounds_up_and_max_unavailable_down(surge, unavailable, desired, expected):
    assert deployment.resolve_fenceposts(surge, unavailable, desired) == expected


# --- one pass, exactly ----------------------------------------------------------------------------


def test_a_new_deployment_creates_its_replica_set_and_says_so():
    d = a_deployment(
        annotations={"kubernetes.io/change-cause": "first", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
    )
    actions = deployment.plan(ClusterState.of([d]), now=T0)

    name = rs_name()
    labels = {"app": "web", "pod-template-hash": name.removeprefix("web-")}
    assert actions == [
        Create(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": name,
                    "namespace": "default",
                    "labels": labels,
                    "annotations": {
                        "kubernetes.io/change-cause": "first",
                        REVISION: "1",
                        "deployment.kubernetes.io/desired-replicas": "3",
                        "deployment.kubernetes.io/max-replicas": "4",
                    },
                    "ownerReferences": [controller_of(d)],
                },
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": d["spec"]["template"]["spec"]},
                },
            }
        ),
        dep_event(f"Scaled up replica set {name} from 0 to 3"),
        Patch(
            "apps/v1",
            "Deployment",
            "default",
            "web",
            {
                "status": {
                    "observedGeneration": 1,
                    "unavailableReplicas": 3,
                    "terminatingReplicas": 0,
                    "conditions": [
                        condition("Progressing", "True", "NewReplicaSetCreated", f'Created new replica set "{name}"'),
                        condition(
                            "Available",
                            "False",
                            "MinimumReplicasUnavailable",
                            "Deployment does not have minimum availability.",
                        ),
                    ],
                }
            },
            subresource="status",
            resource_version="5",
        ),
        Patch("apps/v1", "Deployment", "default", "web", {"metadata": {"annotations": {REVISION: "1"}}}),
    ]


def test_planning_again_after_the_writes_plans_nothing():
    world = World(a_deployment())
    world.apply(deployment.plan(world.state(), now=world.now))
    assert deployment.plan(world.state(), now=world.now + timedelta(seconds=5)) == []


def test_a_deployment_being_deleted_is_left_to_the_garbage_collector():
    d = a_deployment()
    d["metadata"]["deletionTimestamp"] = format_time(T0)
    assert deployment.plan(ClusterState.of([d]), now=T0) == []


def test_it_adopts_an_orphan_replica_set_with_its_template():
    d = a_deployment()
    orphan = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "web-handmade",
            "namespace": "default",
            "uid": "uid-handmade",
            "resourceVersion": "9",
            "generation": 1,
            "labels": {"app": "web"},
            "creationTimestamp": format_time(T0 - timedelta(minutes=5)),
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": copy.deepcopy(d["spec"]["template"]),
        },
    }
    actions = deployment.plan(ClusterState.of([d, orphan]), now=T0)
    assert actions[0] == Patch(
        "apps/v1",
        "ReplicaSet",
        "default",
        "web-handmade",
        {"metadata": {"ownerReferences": [controller_of(d)], "annotations": {REVISION: "1"}}},
        resource_version="9",
    )
    assert not any(isinstance(a, Create) for a in actions), "the adopted ReplicaSet is the new one"
    status = actions[1].patch["status"]
    assert status["conditions"][0] == condition(
        "Progressing", "True", "FoundNewReplicaSet", 'Found new replica set "web-handmade"'
    )


def test_it_releases_a_replica_set_that_no_longer_matches_its_selector():
    d = a_deployment()
    stray = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "web-stray",
            "namespace": "default",
            "uid": "uid-stray",
            "resourceVersion": "9",
            "generation": 1,
            "labels": {"app": "debug"},
            "ownerReferences": [controller_of(d)],
        },
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "debug"}}, "template": TEMPLATE},
    }
    actions = deployment.plan(ClusterState.of([d, stray]), now=T0)
    assert actions[0] == Patch(
        "apps/v1", "ReplicaSet", "default", "web-stray", {"metadata": {"ownerReferences": None}}, resource_version="9"
    )
    assert isinstance(actions[1], Create), "with nothing left it controls, it creates its ReplicaSet"


def test_a_taken_replica_set_name_bumps_the_collision_count_and_hashes_again():
    squatter = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": rs_name(),
            "namespace": "default",
            "uid": "uid-squatter",
            "resourceVersion": "4",
            "generation": 1,
            "labels": {"app": "squatter"},
        },
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "squatter"}}, "template": TEMPLATE},
    }
    world = World(a_deployment(), squatter)
    first = deployment.plan(world.state(), now=world.now)
    assert first[0].body["metadata"]["name"] == rs_name(collision_count=1)
    assert first[2].subresource == "status"
    assert first[2].patch["status"]["collisionCount"] == 1

    settle(world)
    d = world.get("Deployment", "web")
    assert d["status"]["collisionCount"] == 1
    assert {rs["metadata"]["name"] for rs in world.all("ReplicaSet")} == {rs_name(), rs_name(collision_count=1)}
    assert world.get("ReplicaSet", rs_name())["metadata"]["labels"] == {"app": "squatter"}, "left alone"
    assert rollout_finished(d)


def test_pausing_and_resuming_is_noted_in_the_progressing_condition():
    world = settled_world(a_deployment())
    set_spec(world, paused=True)
    [paused] = deployment.plan(world.state(), now=world.now)
    conditions = paused.patch["status"]["conditions"]
    assert conditions[-1] == condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", world.now)
    assert paused.patch["status"]["observedGeneration"] == 2

    world.apply([paused])
    assert deployment.plan(world.state(), now=world.now) == []
    set_spec(world, paused=False)
    later = world.now + timedelta(seconds=1)
    [resumed] = deployment.plan(world.state(), now=later)
    # Resumed (Unknown), then at once complete again: one write, the last word True.
    assert get_progressing(resumed.patch["status"]) == condition(
        "Progressing", "True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name()}" has successfully progressed.', later
    )


def test_scaling_mid_rollout_shares_the_new_replicas_in_proportion():
    # Upstream's documented example: 10 replicas, maxSurge 3, maxUnavailable 2, stuck on a bad
    # image with 8 old and 5 new; scaled to 15, the 5 extra go 3 to the old and 2 to the new.
    d = a_deployment(
        replicas=15,
        image=V2,
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}},
        annotations={REVISION: "2"},
    )
    d["metadata"]["generation"] = 3
    d["status"] = {"observedGeneration": 2, "replicas": 13, "updatedReplicas": 5, "availableReplicas": 8}

    def rs(image: str, replicas: int, revision: str, available: int, age: timedelta) -> dict:
        template = copy.deepcopy(d["spec"]["template"])
        template["spec"]["containers"][0]["image"] = image
        name = rs_name(image)
        template["metadata"]["labels"]["pod-template-hash"] = name.removeprefix("web-")
        return {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": f"uid-{name}",
                "resourceVersion": "20",
                "generation": 2,
                "creationTimestamp": format_time(T0 - age),
                "labels": template["metadata"]["labels"],
                "annotations": {
                    REVISION: revision,
                    "deployment.kubernetes.io/desired-replicas": "10",
                    "deployment.kubernetes.io/max-replicas": "13",
                },
                "ownerReferences": [controller_of(d)],
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": template["metadata"]["labels"]},
                "template": template,
            },
            "status": {
                "replicas": replicas,
                "availableReplicas": available,
                "readyReplicas": available,
                "terminatingReplicas": 0,
                "observedGeneration": 2,
            },
        }

    old, new = rs(V1, 8, "1", 8, timedelta(hours=2)), rs(V2, 5, "2", 0, timedelta(minutes=5))
    actions = deployment.plan(ClusterState.of([d, old, new]), now=T0)

    sizes = {"deployment.kubernetes.io/desired-replicas": "15", "deployment.kubernetes.io/max-replicas": "18"}
    assert actions[:4] == [
        Patch(
            "apps/v1",
            "ReplicaSet",
            "default",
            rs_name(V1),
            {"metadata": {"annotations": sizes}, "spec": {"replicas": 11}},
            resource_version="20",
        ),
        dep_event(f"Scaled up replica set {rs_name(V1)} from 8 to 11"),
        Patch(
            "apps/v1",
            "ReplicaSet",
            "default",
            rs_name(V2),
            {"metadata": {"annotations": sizes}, "spec": {"replicas": 7}},
            resource_version="20",
        ),
        dep_event(f"Scaled up replica set {rs_name(V2)} from 5 to 7"),
    ]
    [status] = actions[4:]
    assert status.subresource == "status"
    assert status.patch["status"]["observedGeneration"] == 3
    assert status.patch["status"]["unavailableReplicas"] == 10  # 18 wanted, 8 available


def test_cleanup_deletes_the_oldest_empty_replica_sets_beyond_the_history_limit():
    world = settled_world(a_deployment(revisionHistoryLimit=1))
    for image in (V2, V3):
        set_image(world, image)
        settle(world)
    names = {rs["metadata"]["name"] for rs in world.all("ReplicaSet")}
    assert names == {rs_name(V2), rs_name(V3)}
    assert {rs["metadata"]["annotations"][REVISION] for rs in world.all("ReplicaSet")} == {"2", "3"}


def test_cleanup_plans_a_background_delete_with_the_uid():
    world = settled_world(a_deployment(revisionHistoryLimit=0))
    set_image(world, V2)
    deletes: list[Delete] = []

    def planner(state, *, now):
        actions = deployment.plan(state, now=now)
        deletes.extend(a for a in actions if isinstance(a, Delete))
        return actions

    uid = world.get("ReplicaSet", rs_name(V1))["metadata"]["uid"]
    world.settle([planner, replicaset.plan], steady=(planner,))
    assert deletes == [Delete("apps/v1", "ReplicaSet", "default", rs_name(V1), uid=uid, propagation="Background")]
    assert [rs["metadata"]["name"] for rs in world.all("ReplicaSet")] == [rs_name(V2)]


@pytest.mark.parametrize(
    ("old_status", "deleted"),
    [
        pytest.param({"replicas": 1}, False, id="its-pods-not-gone-yet"),
        pytest.param({"observedGeneration": 3}, False, id="its-controller-not-caught-up"),
        pytest.param({}, True, id="empty-and-observed"),
    ],
)
def test_cleanup_only_deletes_replica_sets_with_no_pods_whose_spec_was_observed(old_status, deleted):
    world = settled_world(a_deployment())
    set_image(world, V2)
    settle(world)
    # Paused, a Deployment cleans up whatever its rollout's state: only the guards decide.
    set_spec(world, revisionHistoryLimit=0, paused=True)
    old = world.get("ReplicaSet", rs_name(V1))
    # Scaled 3 → 2 → 1 → 0: generation 4, and its controller has seen it.
    assert (old["spec"]["replicas"], old["metadata"]["generation"], old["status"]["observedGeneration"]) == (0, 4, 4)
    old["status"].update(old_status)

    actions = deployment.plan(world.state(), now=world.now)

    expected = Delete(
        "apps/v1", "ReplicaSet", "default", rs_name(V1), uid=old["metadata"]["uid"], propagation="Background"
    )
    assert (expected in actions) is deleted


# --- whole rollouts -----------------------------------------------------------------------------


def test_a_three_replica_deployment_becomes_one_replica_set_with_three_ready_pods():
    world = settled_world(a_deployment())

    [rs] = world.all("ReplicaSet")
    pods = world.active_pods()
    d = world.get("Deployment", "web")
    assert rs["metadata"]["name"] == rs_name()
    assert len(pods) == 3
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"] and is_ready(p) for p in pods)
    assert all(p["metadata"]["labels"]["pod-template-hash"] == rs_name().removeprefix("web-") for p in pods)
    assert d["metadata"]["annotations"][REVISION] == "1"
    assert rollout_finished(d)
    status = d["status"]
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "observedGeneration": 1,
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "terminatingReplicas": 0,
    }
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
        ("Available", "True", "MinimumReplicasAvailable"),
        ("Progressing", "True", "NewReplicaSetAvailable"),
    ]
    assert get_progressing(status)["message"] == f'ReplicaSet "{rs_name()}" has successfully progressed.'
    assert scaling_messages(world) == [f"Scaled up replica set {rs_name()} from 0 to 3"]


@pytest.mark.parametrize(
    ("replicas", "max_surge", "max_unavailable", "surge", "unavailable"),
    [
        (3, "25%", "25%", 1, 0),
        (4, "25%", "25%", 1, 1),
        (3, 0, 1, 0, 1),
        (5, 2, 1, 2, 1),
        (4, "50%", "50%", 2, 2),
        (10, "30%", "10%", 3, 1),
    ],
)
@pytest.mark.parametrize("readiness_delay", [0, 3])
def test_an_image_change_rolls_within_max_surge_and_max_unavailable(
    replicas, max_surge, max_unavailable, surge, unavailable, readiness_delay
):
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable}}
    world = World(a_deployment(replicas=replicas, strategy=strategy), stop_seconds=readiness_delay)
    settle(world)
    set_image(world, V2)
    assert not rollout_finished(world.get("Deployment", "web"))

    def ready(pod: dict) -> bool:
        created = pod["metadata"]["creationTimestamp"]
        return created <= format_time(world.now - timedelta(seconds=readiness_delay))

    settle(world, ready=ready, check=rolling_limits(replicas, surge, unavailable))

    d = world.get("Deployment", "web")
    assert rollout_finished(d)
    assert {image_of(p) for p in world.active_pods()} == {V2}
    assert len(world.active_pods()) == replicas
    old, new = world.get("ReplicaSet", rs_name(V1)), world.get("ReplicaSet", rs_name(V2))
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, replicas)
    assert (old["metadata"]["annotations"][REVISION], new["metadata"]["annotations"][REVISION]) == ("1", "2")
    assert d["metadata"]["annotations"][REVISION] == "2"
    assert get_progressing(d["status"])["reason"] == "NewReplicaSetAvailable"


def test_a_rolling_update_scales_one_up_one_down_with_upstreams_event_wording():
    world = settled_world(a_deployment())
    set_image(world, V2)
    settle(world)
    old, new = rs_name(V1), rs_name(V2)
    assert scaling_messages(world) == [
        f"Scaled up replica set {old} from 0 to 3",
        f"Scaled up replica set {new} from 0 to 1",
        f"Scaled down replica set {old} from 3 to 2",
        f"Scaled up replica set {new} from 1 to 2",
        f"Scaled down replica set {old} from 2 to 1",
        f"Scaled up replica set {new} from 2 to 3",
        f"Scaled down replica set {old} from 1 to 0",
    ]


def test_fixing_a_broken_rollout_scales_the_unhealthy_old_pods_away_first():
    # maxUnavailable 0 and no old pod available: only cleaning up the unhealthy ones lets it move.
    world = World(a_deployment(image=V1))
    settle(world, ready=lambda pod: image_of(pod) != V1)
    assert not any(is_ready(p) for p in world.active_pods())

    set_image(world, V2)
    settle(world, ready=lambda pod: image_of(pod) != V1)

    assert rollout_finished(world.get("Deployment", "web"))
    assert {image_of(p) for p in world.active_pods()} == {V2}
    assert f"Scaled down replica set {rs_name(V1)} from 3 to 2" in scaling_messages(world)


def test_recreate_goes_to_zero_before_the_new_replica_set_comes_up():
    world = World(a_deployment(strategy={"type": "Recreate"}), stop_seconds=3)
    settle(world)
    set_image(world, V2)

    def never_both(world: World) -> None:
        images = {image_of(p) for p in world.all("Pod")}  # terminating pods included
        assert images != {V1, V2}, "old and new pods at the same time"
        if rs_name(V2) in {rs["metadata"]["name"] for rs in world.all("ReplicaSet")}:
            assert V1 not in images, "the new ReplicaSet came before the old pods were gone"

    first = deployment.plan(world.state(), now=world.now)
    assert first[:2] == [
        Patch(
            "apps/v1",
            "ReplicaSet",
            "default",
            rs_name(V1),
            {"spec": {"replicas": 0}},
            resource_version=world.get("ReplicaSet", rs_name(V1))["metadata"]["resourceVersion"],
        ),
        dep_event(f"Scaled down replica set {rs_name(V1)} from 3 to 0"),
    ]
    settle(world, check=never_both)

    d = world.get("Deployment", "web")
    assert rollout_finished(d)
    assert {image_of(p) for p in world.active_pods()} == {V2}
    assert scaling_messages(world)[1:] == [
        f"Scaled down replica set {rs_name(V1)} from 3 to 0",
        f"Scaled up replica set {rs_name(V2)} from 0 to 3",
    ]


def test_rollback_reuses_the_old_replica_set_with_the_next_revision():
    world = settled_world(a_deployment())
    set_image(world, V2)
    settle(world)
    names_before = {rs["metadata"]["name"] for rs in world.all("ReplicaSet")}

    # `kubectl rollout undo` (client-side): the template of revision 1's ReplicaSet, without its hash.
    template = copy.deepcopy(world.get("ReplicaSet", rs_name(V1))["spec"]["template"])
    del template["metadata"]["labels"]["pod-template-hash"]
    world.apply([Patch("apps/v1", "Deployment", "default", "web", {"spec": {"template": template}})])
    settle(world, check=rolling_limits(3, 1, 0))

    assert {rs["metadata"]["name"] for rs in world.all("ReplicaSet")} == names_before, "no new ReplicaSet"
    back = world.get("ReplicaSet", rs_name(V1))
    assert back["spec"]["replicas"] == 3
    assert back["metadata"]["annotations"][REVISION] == "3"
    assert back["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    assert world.get("ReplicaSet", rs_name(V2))["spec"]["replicas"] == 0
    d = world.get("Deployment", "web")
    assert d["metadata"]["annotations"][REVISION] == "3"
    assert rollout_finished(d)
    assert {image_of(p) for p in world.active_pods()} == {V1}
    assert scaling_messages(world)[-1] == f"Scaled down replica set {rs_name(V2)} from 1 to 0"


def test_scaling_to_five_and_back_scales_the_one_replica_set():
    world = settled_world(a_deployment())
    set_spec(world, replicas=5)
    settle(world)
    assert len(world.active_pods()) == 5
    assert rollout_finished(world.get("Deployment", "web"))
    set_spec(world, replicas=3)
    settle(world)

    [rs] = world.all("ReplicaSet")
    assert len(world.active_pods()) == 3
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "3"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "4"
    assert scaling_messages(world)[1:] == [
        f"Scaled up replica set {rs_name()} from 3 to 5",
        f"Scaled down replica set {rs_name()} from 5 to 3",
    ]
    assert rollout_finished(world.get("Deployment", "web"))


def test_a_deleted_pod_is_replaced_and_the_status_follows():
    world = settled_world(a_deployment())
    victim = world.active_pods()[0]
    world.apply([Delete("v1", "Pod", "default", victim["metadata"]["name"])])
    world.kubelet()  # the pod finishes terminating
    settle(world)

    pods = world.active_pods()
    assert len(pods) == 3
    assert victim["metadata"]["name"] not in {p["metadata"]["name"] for p in pods}
    assert len(world.all("ReplicaSet")) == 1
    assert rollout_finished(world.get("Deployment", "web"))


def test_min_ready_seconds_is_passed_on_and_holds_availability_back():
    world = World(a_deployment(minReadySeconds=10))
    settle(world)
    [rs] = world.all("ReplicaSet")
    assert rs["spec"]["minReadySeconds"] == 10
    d = world.get("Deployment", "web")
    assert d["status"]["readyReplicas"] == 3
    assert "availableReplicas" not in d["status"]
    assert not rollout_finished(d)

    # Nothing changes in the meantime: a planner cannot wake itself, the periodic resync does.
    world.now += timedelta(seconds=11)
    settle(world)
    assert rollout_finished(world.get("Deployment", "web"))

    set_spec(world, minReadySeconds=0)
    rs = world.get("ReplicaSet", rs_name())
    [patch, *_] = deployment.plan(world.state(), now=world.now)
    assert patch == Patch(
        "apps/v1",
        "ReplicaSet",
        "default",
        rs_name(),
        {"spec": {"minReadySeconds": None}},
        resource_version=rs["metadata"]["resourceVersion"],
    )


def test_a_paused_deployment_scales_but_does_not_roll_out_until_resumed():
    world = settled_world(a_deployment())
    set_spec(world, paused=True)
    set_image(world, V2)
    set_spec(world, replicas=4)
    settle(world)

    assert [rs["metadata"]["name"] for rs in world.all("ReplicaSet")] == [rs_name(V1)]
    assert {image_of(p) for p in world.active_pods()} == {V1}
    assert len(world.active_pods()) == 4
    d = world.get("Deployment", "web")
    assert get_progressing(d["status"])["reason"] == "DeploymentPaused"
    assert not rollout_finished(d)  # updatedReplicas counts the new template's pods: none yet

    set_spec(world, paused=False)
    settle(world, check=rolling_limits(4, 1, 1))
    d = world.get("Deployment", "web")
    assert {image_of(p) for p in world.active_pods()} == {V2}
    assert rollout_finished(d)
    assert get_progressing(d["status"])["reason"] == "NewReplicaSetAvailable"


def test_a_stuck_rollout_times_out_after_the_progress_deadline():
    world = settled_world(a_deployment(progressDeadlineSeconds=30))
    set_image(world, V2)
    never_ready = lambda pod: image_of(pod) == V1  # noqa: E731 - the new image's probe always fails
    settle(world, ready=never_ready)
    d = world.get("Deployment", "web")
    assert not rollout_finished(d)
    assert get_progressing(d["status"])["reason"] == "ReplicaSetUpdated"
    assert deployment.plan(world.state(), now=world.now + timedelta(seconds=25)) == [], "not yet"

    later = world.now + timedelta(seconds=31)
    [timeout] = deployment.plan(world.state(), now=later)
    available = next(c for c in d["status"]["conditions"] if c["type"] == "Available")
    assert timeout == Patch(
        "apps/v1",
        "Deployment",
        "default",
        "web",
        {
            "status": {
                "conditions": [
                    available,
                    condition(
                        "Progressing",
                        "False",
                        "ProgressDeadlineExceeded",
                        f'ReplicaSet "{rs_name(V2)}" has timed out progressing.',
                        later,
                    ),
                ]
            }
        },
        subresource="status",
        resource_version=d["metadata"]["resourceVersion"],
    )
    world.apply([timeout])
    assert deployment.plan(world.state(), now=later + timedelta(minutes=5)) == []
    assert {image_of(p) for p in world.active_pods() if is_ready(p)} == {V1}, "the old pods keep serving"


# --- why, in words --------------------------------------------------------------------------------


def replica_set_whys(world: World, **options) -> list[tuple[str, str]]:
    """Settle the world, keeping (ReplicaSet, why) of each ReplicaSet write the Deployment planned."""
    whys: list[tuple[str, str]] = []

    def planner(state, *, now):
        actions = deployment.plan(state, now=now)
        for action in actions:
            match action:
                case Create(body=body):
                    whys.append((body["metadata"]["name"], action.why))
                case Patch(kind="ReplicaSet") | Delete(kind="ReplicaSet"):
                    whys.append((action.name, action.why))
        return actions

    world.settle([planner, replicaset.plan], steady=(planner,), **options)
    return whys


def test_a_rolling_update_says_why_it_creates_and_scales_each_replica_set():
    world = settled_world(a_deployment())
    set_image(world, V2)
    old, new = rs_name(V1), rs_name(V2)
    news = "Deployment web: new pod template (image nginx:1.27 → nginx:1.28)"
    rolling = "rolling update of Deployment web"
    assert replica_set_whys(world) == [
        (new, f"{news}: creating ReplicaSet {new} with 1 pod"),
        (old, f"{rolling}: 1 of 3 new pods ready, 4 available (3 must stay): scaling old ReplicaSet {old} down to 2"),
        (new, f"{news}: scaling new ReplicaSet {new} up to 2"),
        (old, f"{rolling}: 2 of 3 new pods ready, 4 available (3 must stay): scaling old ReplicaSet {old} down to 1"),
        (new, f"{news}: scaling new ReplicaSet {new} up to 3"),
        (old, f"{rolling}: 3 of 3 new pods ready, 4 available (3 must stay): scaling old ReplicaSet {old} down to 0"),
    ]


def test_a_first_replica_set_a_recreate_a_scale_and_a_cleanup_say_why():
    world = World(a_deployment(strategy={"type": "Recreate"}, revisionHistoryLimit=0))
    assert replica_set_whys(world) == [
        (rs_name(V1), f"Deployment web has no ReplicaSet for its pod template: creating {rs_name(V1)} with 3 pods")
    ]
    set_image(world, V2)
    assert replica_set_whys(world) == [
        (
            rs_name(V1),
            "Deployment web: new pod template (image nginx:1.27 → nginx:1.28), strategy Recreate: "
            f"scaling old ReplicaSet {rs_name(V1)} down to 0",
        ),
        (
            rs_name(V2),
            f"Deployment web: new pod template (image nginx:1.27 → nginx:1.28): creating ReplicaSet {rs_name(V2)} "
            "with 3 pods",
        ),
        (
            rs_name(V1),
            "Deployment web keeps 0 old ReplicaSets (revisionHistoryLimit), has 1: "
            f"deleting {rs_name(V1)} (revision 1, no pods)",
        ),
    ]
    set_spec(world, replicas=5)
    assert replica_set_whys(world) == [
        (rs_name(V2), f"Deployment web wants 5 pods: scaling ReplicaSet {rs_name(V2)} up to 5"),
    ]


def test_its_status_and_revision_writes_say_why():
    actions = deployment.plan(ClusterState.of([a_deployment()]), now=T0)
    status, revision = actions[-2:]
    assert status.why == "Deployment web has 0 pods, 0 updated, 0 available: status updated"
    assert revision.why == "Deployment web's pod template is now revision 1"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        pytest.param({"image": V1}, {"image": V2}, "image nginx:1.27 → nginx:1.28", id="image"),
        pytest.param({"image": V1}, {"image": V1, "env": [{"name": "A", "value": "1"}]}, "env of container web"),
        pytest.param({"image": V1}, {"image": V1, "args": ["-v"], "env": []}, "args and env of container web"),
    ],
)
def test_a_template_change_is_said_in_words(old, new, said):
    def template(**container):
        return {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", **container}]}}

    assert deployment.template_change(template(**old), template(**new)) == said


def test_a_template_change_names_added_and_removed_containers_and_other_fields():
    old = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": V1}]}}
    new = {
        "metadata": {"labels": {"app": "web", "tier": "front"}},
        "spec": {"containers": [{"name": "log", "image": "busybox"}], "volumes": []},
    }
    assert deployment.template_change(old, new) == "container log added, container web removed, volumes and 1 more"
