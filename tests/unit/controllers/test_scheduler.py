"""The scheduler's planner: filters, scores, binds, and explains in upstream's words why a pod waits."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from clusters.controllers import scheduler
from clusters.controllers.actions import Bind, Delete, Event, Patch
from clusters.controllers.state import ClusterState
from tests.unit.controllers.world import applied

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STAMP = "2025-03-01T12:00:00Z"
EARLIER = "2025-03-01T11:00:00Z"


# --- a small cast ------------------------------------------------------------------------------


def node(name: str, *, cpu="2", memory="4Gi", pods="110", taints=None, labels=None, ready="True", cordoned=False):
    body = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "resourceVersion": "1",
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", **(labels or {})},
        },
        "spec": {"taints": taints} if taints else {},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
            "capacity": {"cpu": cpu, "memory": memory, "pods": pods},
            "conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady"}],
        },
    }
    if cordoned:
        body["spec"]["unschedulable"] = True
    return body


def pod(
    name: str,
    *,
    node_name: str = "",
    cpu: str | None = None,
    memory: str | None = None,
    owner: str | None = None,
    labels=None,
    created="2025-03-01T10:00:00Z",
    **spec,
):
    requests = {key: value for key, value in (("cpu", cpu), ("memory", memory)) if value}
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "10",
            "generation": 1,
            "creationTimestamp": created,
            "labels": labels or {"app": "web"},
        },
        "spec": {
            "containers": [{"name": "app", "image": "nginx", "resources": {"requests": requests} if requests else {}}],
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "terminationGracePeriodSeconds": 30,
            "priority": 0,
            "preemptionPolicy": "PreemptLowerPriority",
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
            ],
            **spec,
        },
        "status": {"phase": "Running" if node_name else "Pending", "qosClass": "BestEffort"},
    }
    if node_name:
        body["spec"]["nodeName"] = node_name
    if owner:
        body["metadata"]["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "uid": f"uid-{owner}", "controller": True}
        ]
    return body


# --- plans applied as the store would (the shared world) ----------------------------------------


apply = functools.partial(applied, now=NOW)


def scheduled(actions) -> dict[str, str]:
    return {a.name: a.node for a in actions if isinstance(a, Bind)}


def event_ref(body):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "namespace": "default",
        "name": body["metadata"]["name"],
        "uid": body["metadata"]["uid"],
    }


def failed_scheduling(state, name):
    """The message of the one FailedScheduling event planned for pod `name`."""
    events = [
        a
        for a in scheduler.plan(state, now=NOW)
        if isinstance(a, Event) and a.reason == "FailedScheduling" and a.involved["name"] == name
    ]
    assert len(events) == 1
    return events[0].message


def unschedulable_condition(message, transition=STAMP):
    return {
        "type": "PodScheduled",
        "status": "False",
        "lastProbeTime": None,
        "observedGeneration": 1,
        "lastTransitionTime": transition,
        "reason": "Unschedulable",
        "message": message,
    }


# --- binding ---------------------------------------------------------------------------------------


def test_it_binds_a_pending_pod_with_its_condition_in_one_write_then_an_event():
    web = pod("web-abc12")
    state = ClusterState.of([node("node-1"), node("node-2"), web])

    scheduled_condition = {
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": None,
        "observedGeneration": 1,
        "lastTransitionTime": STAMP,
    }
    [bind, event] = scheduler.plan(state, now=NOW)
    assert bind == Bind("default", "web-abc12", "node-1", (scheduled_condition,), resource_version="10")
    assert bind.conditions == (scheduled_condition,)  # conditions are not part of the comparison above
    assert [event] == [
        Event(
            event_ref(web),
            "Scheduled",
            "Successfully assigned default/web-abc12 to node-1",
            "Normal",
            "default-scheduler",
        ),
    ]


def test_it_has_nothing_to_do_once_the_pod_is_bound():
    state = ClusterState.of([node("node-1"), node("node-2"), pod("web-abc12")])

    state = apply(state, scheduler.plan(state, now=NOW))

    assert state.get("Pod", "default", "web-abc12")["spec"]["nodeName"] == "node-1"
    assert scheduler.plan(state, now=NOW) == []


def test_it_leaves_pods_that_are_not_its_own_alone():
    others = pod("other", schedulerName="my-scheduler")
    going = pod("going")
    going["metadata"]["deletionTimestamp"] = STAMP
    placed = pod("placed", node_name="node-1")
    done = pod("done")
    done["status"]["phase"] = "Succeeded"
    gated = pod("gated", schedulingGates=[{"name": "example.com/wait"}])
    state = ClusterState.of([node("node-1"), others, going, placed, done, gated])

    assert scheduler.plan(state, now=NOW) == []


def test_it_replaces_an_earlier_unschedulable_condition_when_it_binds():
    web = pod("web")
    web["status"]["conditions"] = [unschedulable_condition("0/1 nodes are available: 1 Insufficient cpu.", EARLIER)]
    state = ClusterState.of([node("node-1"), web])

    bind = scheduler.plan(state, now=NOW)[0]

    assert bind.conditions == (
        {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "observedGeneration": 1,
            "lastTransitionTime": STAMP,
        },
    )


# --- filters ---------------------------------------------------------------------------------------


def test_it_places_a_pod_on_the_only_node_with_room_even_against_spreading():
    # Spreading alone would pick node-1 (no sibling there); only node-2 has the cpu.
    state = ClusterState.of(
        [
            node("node-1"),
            node("node-2"),
            pod("big", node_name="node-1", cpu="1800m", labels={"app": "db"}),
            pod("web-0", node_name="node-2", owner="web-7d9f"),
            pod("web-1", cpu="500m", owner="web-7d9f"),
        ]
    )

    assert scheduled(scheduler.plan(state, now=NOW)) == {"web-1": "node-2"}


def test_it_counts_an_init_container_as_its_largest_step_not_as_a_sum():
    busy = [pod("busy-1", node_name="node-1", cpu="1"), pod("busy-2", node_name="node-2", cpu="1")]
    init = {"name": "init", "image": "busybox", "resources": {"requests": {"cpu": "900m"}}}
    fits = pod("fits", cpu="900m", initContainers=[init])
    too_big_init = {"name": "init", "image": "busybox", "resources": {"requests": {"cpu": "1100m"}}}
    does_not_fit = pod("does-not-fit", cpu="100m", initContainers=[too_big_init], labels={"app": "x"})

    assert scheduled(scheduler.plan(ClusterState.of([node("node-1"), node("node-2"), *busy, fits]), now=NOW)) == {
        "fits": "node-1"
    }
    assert failed_scheduling(
        ClusterState.of([node("node-1"), node("node-2"), *busy, does_not_fit]), "does-not-fit"
    ) == (
        "0/2 nodes are available: 2 Insufficient cpu. "
        "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
    )


def test_it_counts_a_request_given_only_as_a_limit():
    limited = pod("limited")
    limited["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "3"}}
    state = ClusterState.of([node("node-1"), limited])

    assert failed_scheduling(state, "limited") == (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )


def test_it_explains_insufficient_cpu_in_upstream_words():
    state = ClusterState.of(
        [
            node("node-1"),
            node("node-2"),
            pod("a", node_name="node-1", cpu="1500m"),
            pod("b", node_name="node-2", cpu="1500m"),
            pod("web", cpu="1"),
        ]
    )

    message = (
        "0/2 nodes are available: 2 Insufficient cpu. "
        "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
    )
    web = state.get("Pod", "default", "web")
    assert scheduler.plan(state, now=NOW) == [
        Patch("v1", "Pod", "default", "web", {"status": {"conditions": [unschedulable_condition(message)]}}, "status"),
        Event(event_ref(web), "FailedScheduling", message, "Warning", "default-scheduler"),
    ]


def test_it_says_preemption_cannot_help_a_pod_larger_than_any_node():
    state = ClusterState.of([node("node-1"), node("node-2"), pod("huge", cpu="3", memory="8Gi")])

    assert failed_scheduling(state, "huge") == (
        "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )


def test_it_counts_reasons_per_node_and_sorts_them():
    control_plane = node("node-1", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    state = ClusterState.of([control_plane, node("node-2"), pod("web", nodeSelector={"disktype": "ssd"})])

    assert failed_scheduling(state, "web") == (
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )


def test_it_avoids_a_tainted_node_unless_the_pod_tolerates_it():
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    tainted = node("node-1", taints=[taint])
    plain = pod("plain")
    tolerant = pod(
        "tolerant",
        labels={"app": "gpu"},
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
    )

    assert scheduled(scheduler.plan(ClusterState.of([tainted, node("node-2"), plain]), now=NOW)) == {"plain": "node-2"}
    assert scheduled(scheduler.plan(ClusterState.of([tainted, tolerant]), now=NOW)) == {"tolerant": "node-1"}
    assert failed_scheduling(ClusterState.of([tainted, plain]), "plain") == (
        "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )


def test_it_only_prefers_to_avoid_a_prefer_no_schedule_taint():
    soft = node("node-1", taints=[{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}])
    full = pod("full", node_name="node-2", cpu="2")

    assert scheduled(scheduler.plan(ClusterState.of([soft, node("node-2"), pod("web")]), now=NOW)) == {"web": "node-2"}
    assert scheduled(scheduler.plan(ClusterState.of([soft, node("node-2"), full, pod("web", cpu="1")]), now=NOW)) == {
        "web": "node-1"
    }


def test_it_treats_a_node_that_is_not_ready_as_tainted():
    state = ClusterState.of([node("node-1", ready="False"), node("node-2", ready="Unknown"), pod("web")])

    assert failed_scheduling(state, "web") == (
        "0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, "
        "1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )


def test_it_skips_a_cordoned_node():
    state = ClusterState.of([node("node-1", cordoned=True), node("node-2"), pod("web")])

    assert scheduled(scheduler.plan(state, now=NOW)) == {"web": "node-2"}
    assert failed_scheduling(ClusterState.of([node("node-1", cordoned=True), pod("web")]), "web") == (
        "0/1 nodes are available: 1 node(s) were unschedulable. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )


def test_it_matches_required_node_affinity_expressions():
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}]
            }
        }
    }
    state = ClusterState.of(
        [node("node-1", labels={"zone": "a"}), node("node-2", labels={"zone": "b"}), pod("web", affinity=affinity)]
    )

    assert scheduled(scheduler.plan(state, now=NOW)) == {"web": "node-2"}


def test_it_sends_a_daemonset_pod_to_the_node_its_match_fields_name():
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-2"]}]}
                ]
            }
        }
    }
    daemon = pod("agent", cpu="500m", affinity=affinity)

    assert scheduled(scheduler.plan(ClusterState.of([node("node-1"), node("node-2"), daemon]), now=NOW)) == {
        "agent": "node-2"
    }
    full = pod("full", node_name="node-2", cpu="2")
    assert failed_scheduling(ClusterState.of([node("node-1"), node("node-2"), full, daemon]), "agent") == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
        "1 Preemption is not helpful for scheduling."
    )


def test_it_keeps_host_ports_apart():
    def with_host_port(name, node_name=""):
        body = pod(name, node_name=node_name, labels={"app": name})
        body["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"}]
        return body

    state = ClusterState.of([node("node-1"), node("node-2"), with_host_port("a", "node-1"), with_host_port("b")])
    assert scheduled(scheduler.plan(state, now=NOW)) == {"b": "node-2"}

    crowded = ClusterState.of([node("node-1"), with_host_port("a", "node-1"), with_host_port("b")])
    assert failed_scheduling(crowded, "b") == (
        "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    )


def test_it_reports_a_node_full_of_pods():
    state = ClusterState.of([node("node-1", pods="1"), pod("a", node_name="node-1"), pod("b", labels={"app": "b"})])

    assert failed_scheduling(state, "b") == (
        "0/1 nodes are available: 1 Too many pods. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    )


def test_it_says_so_when_there_are_no_nodes():
    assert failed_scheduling(ClusterState.of([pod("web")]), "web") == "no nodes available to schedule pods"


# --- scoring ---------------------------------------------------------------------------------------


def test_it_spreads_four_replicas_over_two_nodes_two_and_two():
    replicas = [pod(f"web-{i}", owner="web-7d9f", created=f"2025-03-01T10:00:0{i}Z") for i in range(4)]
    state = ClusterState.of([node("node-1"), node("node-2"), *replicas])

    actions = scheduler.plan(state, now=NOW)

    assert scheduled(actions) == {"web-0": "node-1", "web-1": "node-2", "web-2": "node-1", "web-3": "node-2"}
    assert scheduler.plan(apply(state, actions), now=NOW) == []


def test_it_spreads_a_new_replica_away_from_its_siblings():
    state = ClusterState.of(
        [
            node("node-1"),
            node("node-2"),
            pod("web-0", node_name="node-1", owner="web-7d9f"),
            pod("other", node_name="node-2", labels={"app": "db"}),
            pod("other-2", node_name="node-2", labels={"app": "db"}),
            pod("web-1", owner="web-7d9f"),
        ]
    )

    assert scheduled(scheduler.plan(state, now=NOW)) == {"web-1": "node-2"}


def test_it_prefers_the_least_requested_node():
    state = ClusterState.of(
        [node("node-1"), node("node-2"), pod("db", node_name="node-1", cpu="1", labels={"app": "db"}), pod("web")]
    )

    assert scheduled(scheduler.plan(state, now=NOW)) == {"web": "node-2"}


def test_it_follows_preferred_node_affinity():
    affinity = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}}
            ]
        }
    }
    state = ClusterState.of([node("node-1"), node("node-2", labels={"disk": "ssd"}), pod("web", affinity=affinity)])

    assert scheduled(scheduler.plan(state, now=NOW)) == {"web": "node-2"}


# --- quiet re-planning -----------------------------------------------------------------------------


def test_it_stays_quiet_while_the_reason_is_unchanged():
    state = ClusterState.of([node("node-1"), pod("huge", cpu="3")])

    state = apply(state, scheduler.plan(state, now=NOW))

    assert scheduler.plan(state, now=NOW) == []


def test_it_updates_the_message_but_keeps_the_transition_time_when_the_reason_changes():
    huge = pod("huge", cpu="3", memory="8Gi")
    old = (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )
    huge["status"]["conditions"] = [unschedulable_condition(old, EARLIER)]
    state = ClusterState.of([node("node-1"), huge])

    message = (
        "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )
    assert scheduler.plan(state, now=NOW) == [
        Patch(
            "v1",
            "Pod",
            "default",
            "huge",
            {"status": {"conditions": [unschedulable_condition(message, EARLIER)]}},
            "status",
        ),
        Event(event_ref(huge), "FailedScheduling", message, "Warning", "default-scheduler"),
    ]


# --- volumes ---------------------------------------------------------------------------------------


def claim(name, *, bound=False, storage_class="standard"):
    body = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "resourceVersion": "3"},
        "spec": {"storageClassName": storage_class, "accessModes": ["ReadWriteOnce"]},
        "status": {"phase": "Pending"},
    }
    if bound:
        body["metadata"]["annotations"] = {"pv.kubernetes.io/bind-completed": "yes"}
        body["spec"]["volumeName"] = f"pvc-uid-{name}"
        body["status"]["phase"] = "Bound"
    return body


def storage_class(name="standard", mode="Immediate"):
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "provisioner": "kube-tutor.io/local",
        "volumeBindingMode": mode,
    }


def with_claim(body, claim_name):
    body["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}]
    return body


def test_it_waits_for_an_immediate_claim_to_be_bound():
    waiting = ClusterState.of([node("node-1"), storage_class(), claim("data"), with_claim(pod("db"), "data")])
    ready = ClusterState.of([node("node-1"), storage_class(), claim("data", bound=True), with_claim(pod("db"), "data")])

    assert failed_scheduling(waiting, "db") == (
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )
    assert scheduled(scheduler.plan(ready, now=NOW)) == {"db": "node-1"}


def test_it_says_which_claim_is_missing():
    state = ClusterState.of([node("node-1"), with_claim(pod("db"), "nope")])

    assert failed_scheduling(state, "db") == (
        '0/1 nodes are available: persistentvolumeclaim "nope" not found. '
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )


def test_it_tells_a_wait_for_first_consumer_claim_its_node_and_holds_the_pod():
    state = ClusterState.of(
        [
            node("node-1"),
            storage_class("late", "WaitForFirstConsumer"),
            claim("data", storage_class="late"),
            with_claim(pod("db"), "data"),
        ]
    )

    actions = scheduler.plan(state, now=NOW)

    assert actions == [
        Patch(
            "v1",
            "PersistentVolumeClaim",
            "default",
            "data",
            {"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "node-1"}}},
        )
    ]
    assert scheduler.plan(apply(state, actions), now=NOW) == []


# --- preemption ------------------------------------------------------------------------------------


def test_it_preempts_lower_priority_pods_to_make_room():
    low = pod("low", node_name="node-1", cpu="1500m", labels={"app": "batch"})
    low["status"]["startTime"] = EARLIER
    small = pod("small", node_name="node-1", cpu="100m", labels={"app": "batch"})
    important = pod("important", cpu="1", priority=1000)
    state = ClusterState.of([node("node-1"), low, small, important])

    actions = scheduler.plan(state, now=NOW)

    message = "0/1 nodes are available: 1 Insufficient cpu."
    disruption = {
        "type": "DisruptionTarget",
        "status": "True",
        "lastProbeTime": None,
        "observedGeneration": 1,
        "lastTransitionTime": STAMP,
        "reason": "PreemptionByScheduler",
        "message": "default-scheduler: preempting to accommodate a higher priority pod",
    }
    assert actions == [
        Patch("v1", "Pod", "default", "low", {"status": {"conditions": [disruption]}}, "status"),
        Delete("v1", "Pod", "default", "low", uid="uid-low"),
        Event(
            event_ref(low), "Preempted", "Preempted by pod uid-important on node node-1", "Normal", "default-scheduler"
        ),
        Patch(
            "v1",
            "Pod",
            "default",
            "important",
            {"status": {"conditions": [unschedulable_condition(message)], "nominatedNodeName": "node-1"}},
            "status",
        ),
        Event(event_ref(important), "FailedScheduling", message, "Warning", "default-scheduler"),
    ]

    # While the victim terminates the pod waits quietly after saying why; once it is gone, it binds.
    terminating = apply(state, actions)
    waiting_message = f"{message} preemption: not eligible due to a terminating pod on the nominated node."
    assert failed_scheduling(terminating, "important") == waiting_message
    terminating = apply(terminating, scheduler.plan(terminating, now=NOW))
    assert scheduler.plan(terminating, now=NOW) == []
    gone = ClusterState.of([o for o in terminating.objects("Pod") if o["metadata"]["name"] != "low"] + [node("node-1")])
    assert scheduled(scheduler.plan(gone, now=NOW)) == {"important": "node-1"}


def test_it_does_not_preempt_for_a_pod_that_may_not():
    low = pod("low", node_name="node-1", cpu="1500m", labels={"app": "batch"})
    polite = pod("polite", cpu="1", priority=1000, preemptionPolicy="Never")
    state = ClusterState.of([node("node-1"), low, polite])

    assert failed_scheduling(state, "polite") == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
    )


# --- why, in words ---------------------------------------------------------------------------------


def binding_whys(state: ClusterState) -> dict[str, str]:
    return {a.name: a.why for a in scheduler.plan(state, now=NOW) if isinstance(a, Bind)}


def test_a_bind_says_what_set_the_chosen_node_apart_from_the_next_best():
    spread = ClusterState.of(
        [
            node("node-1"),
            node("node-2"),
            pod("web-0", node_name="node-2", owner="web-7d9f"),
            pod("web-1", owner="web-7d9f"),
        ]
    )
    assert binding_whys(spread) == {"web-1": "pod web-1 has no node: node-1 fits (0 pods of its owner vs 1 on node-2)"}
    lonely = ClusterState.of([node("node-1"), node("node-2", cordoned=True), pod("web")])
    assert binding_whys(lonely) == {"web": "pod web has no node: node-1 is the only node that fits"}
    busy = ClusterState.of(
        [node("node-1"), node("node-2"), pod("db", node_name="node-1", cpu="1", labels={"app": "db"}), pod("web")]
    )
    assert binding_whys(busy) == {
        "web": "pod web has no node: node-2 fits (less busy: 5% of its CPU and memory requested vs 32% on node-1)"
    }
    tie = ClusterState.of([node("node-1"), node("node-2"), pod("web")])
    assert binding_whys(tie) == {"web": "pod web has no node: node-1 fits (a tie with node-2, broken by name)"}


def test_a_pod_that_fits_nowhere_says_why_without_the_preemption_verdict():
    state = ClusterState.of([node("node-1"), pod("huge", cpu="3")])
    [patch] = [a for a in scheduler.plan(state, now=NOW) if isinstance(a, Patch)]
    assert patch.why == "pod huge fits no node: 0/1 nodes are available: 1 Insufficient cpu."


def test_preemption_says_who_needs_the_room():
    low = pod("low", node_name="node-1", cpu="1500m", labels={"app": "batch"})
    state = ClusterState.of([node("node-1"), low, pod("important", cpu="1", priority=1000)])
    victim_status, delete, _, nomination, _ = scheduler.plan(state, now=NOW)
    said = "pod important (priority 1000) needs room on node-1: preempting pod low (priority 0)"
    assert victim_status.why == delete.why == said
    assert nomination.why == (
        "pod important fits no node, but node-1 has room once 1 lower-priority pod is preempted: nominating node-1"
    )
