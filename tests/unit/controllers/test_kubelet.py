"""The kubelet's planner, step by step: plan, perform the operations on a simulated runtime, record
their outcomes, apply the actions to the pods, move the clock, plan again."""

from __future__ import annotations

import copy
import functools
from datetime import UTC, datetime, timedelta

import pytest

from clusters.controllers.actions import Delete, Event, Patch
from clusters.controllers.kubelet import (
    FAST_BACKOFF,
    SANDBOX_CHANGED,
    UPSTREAM_BACKOFF,
    EnsureSandbox,
    NodePlan,
    PullImage,
    RemoveOrphans,
    RemovePod,
    RunProbe,
    StartContainer,
    StopContainer,
    node_status_patch,
    operation_perform,
    operations_perform,
    outcome_record,
    plan_node,
)
from clusters.objects.patch import merge_patch
from clusters.runtime.base import PodRef, ProbeResult, RuntimeError_
from clusters.runtime.simulated import ManualClock, SimulatedRuntime

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "node-1", "uid": "node-uid"},
    "status": {
        "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": "node-1"}]
    },
}
SCHEDULED = {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-11-26T11:59:59Z"}


def stamp(seconds: float = 0) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def container(name: str = "web", image: str = "nginx:1.27", **fields) -> dict:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "resources": {}, **fields}


def pod(name: str = "web", containers: list | None = None, *, init: list | None = None, restart="Always", **spec):
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "generation": 1},
        "spec": {
            "nodeName": "node-1",
            "restartPolicy": restart,
            "terminationGracePeriodSeconds": 30,
            "containers": containers or [container()],
            **spec,
        },
        "status": {"phase": "Pending", "qosClass": "BestEffort", "conditions": [dict(SCHEDULED)]},
    }
    if init:
        body["spec"]["initContainers"] = init
    return body


def condition(kind: str, status: str, at: float = 0, reason: str = "", message: str = "") -> dict:
    result = {"type": kind, "status": status, "observedGeneration": 1, "lastTransitionTime": stamp(at)}
    if reason:
        result["reason"] = reason
    if message:
        result["message"] = message
    return result


class World:
    """A node: the simulated runtime under a test clock, the pods as stored, the kubelet's memory."""

    def __init__(self, *pods: dict, backoff=UPSTREAM_BACKOFF) -> None:
        self.clock = ManualClock(T0)
        self.runtime = SimulatedRuntime(self.clock, node="node-1", pod_cidr="10.244.1.0/24")
        self.pods = {p["metadata"]["name"]: copy.deepcopy(p) for p in pods}
        self.backoff = backoff
        self.memory: dict = {}
        self.events: list[tuple[float, str, str, str]] = []  # (seconds since T0, type, reason, message)
        self.deleted: list[Delete] = []

    @property
    def seconds(self) -> float:
        return (self.clock() - T0).total_seconds()

    def plan(self) -> NodePlan:
        return plan_node(
            node=NODE,
            pods=list(self.pods.values()),
            observed=self.runtime.observe(node="node-1"),
            now=self.clock(),
            backoff=self.backoff,
            memory=self.memory,
            sandbox="sandbox-1",
            sandboxes=frozenset(self.runtime.pod_sandboxes(node="node-1")),
        )

    def step(self) -> NodePlan:
        plan = self.plan()
        recorded: list[Event] = []
        perform = functools.partial(operation_perform, self.runtime, node="node-1")
        for operation, outcome in operations_perform(plan.operations, perform):
            self.memory, events = outcome_record(self.memory, operation, outcome, now=self.clock())
            recorded += events
        for action in [*plan.actions, *recorded]:
            self.apply(action)
        return plan

    def apply(self, action) -> None:
        if isinstance(action, Patch):
            assert action.subresource == "status"
            self.pods[action.name] = merge_patch(self.pods[action.name], action.patch)
        elif isinstance(action, Delete):
            assert action.grace_period == 0
            assert self.pods.pop(action.name)["metadata"]["uid"] == action.uid
            self.deleted.append(action)
        else:
            assert action.source == "kubelet"
            self.events.append((self.seconds, action.type, action.reason, action.message))

    def settle(self) -> NodePlan:
        """Plan and perform until there is nothing left to do; the last (empty) plan."""
        for _ in range(20):
            plan = self.step()
            if plan.empty:
                assert self.plan() == plan  # level-triggered: the same input, the same plan
                return plan
        raise AssertionError("the kubelet never settled")

    def wake(self) -> NodePlan:
        """Settle, sleep until the kubelet asked to be woken, settle again."""
        plan = self.settle()
        assert plan.next_wakeup is not None, "nothing to wake up for"
        self.clock.now = plan.next_wakeup
        return self.settle()

    def status(self, name: str = "web") -> dict:
        return self.pods[name]["status"]

    def container(self, pod_name: str = "web", index: int = 0, *, init: bool = False) -> dict:
        return self.status(pod_name)["initContainerStatuses" if init else "containerStatuses"][index]

    def state(self, pod_name: str = "web", index: int = 0, *, init: bool = False) -> tuple:
        status = self.container(pod_name, index, init=init)
        ((kind, details),) = status["state"].items()
        return kind, details.get("reason"), status["restartCount"]

    def events_since(self, seconds: float) -> list[tuple[str, str, str]]:
        return [(kind, reason, message) for at, kind, reason, message in self.events if at >= seconds]

    def container_id(self, name: str, restart: int, pod_uid: str = "uid-web") -> str:
        return next(
            o.container_id
            for o in self.runtime.observe(node="node-1")
            if (o.pod_uid, o.name, o.restart) == (pod_uid, name, restart)
        )


REF = PodRef("sandbox-1", "default", "web", "uid-web", "node-1")
NGINX = "docker.io/library/nginx:1.27"
NGINX_ID = "docker.io/library/nginx@sha256:cd4495bb73de9b01bf009710b80ecf4be2d298db47492f4e9e7d0b04981c4614"
BUSYBOX = "docker.io/library/busybox:1.36"


# -- a web pod from Pending to Running and Ready -----------------------------------------------


def test_a_web_pod_goes_from_pending_through_container_creating_to_running_and_ready():
    world = World(pod())
    first = world.step()
    # The sandbox, the image and the container in one pass, as upstream's SyncPod does them.
    ensure, pull, start = first.operations
    assert (ensure, pull) == (
        EnsureSandbox(REF, "web", (), backoff=10.0),
        PullImage(REF, "web", "nginx:1.27", "IfNotPresent", 10.0),
    )
    assert (type(start), start.restart, start.container["name"]) == (StartContainer, 0, "web")
    [patch] = first.actions
    assert patch == Patch(
        "v1",
        "Pod",
        "default",
        "web",
        {
            "status": {  # only what changed: the phase was Pending already
                "observedGeneration": 1,
                "conditions": [
                    condition("PodReadyToStartContainers", "False"),
                    condition("Initialized", "True"),
                    condition(
                        "Ready", "False", reason="ContainersNotReady", message="containers with unready status: [web]"
                    ),
                    condition(
                        "ContainersReady",
                        "False",
                        reason="ContainersNotReady",
                        message="containers with unready status: [web]",
                    ),
                    SCHEDULED,
                ],
                "hostIP": "172.18.0.2",
                "hostIPs": [{"ip": "172.18.0.2"}],
                "startTime": stamp(),
                "containerStatuses": [
                    {
                        "image": "nginx:1.27",
                        "imageID": "",
                        "lastState": {},
                        "name": "web",
                        "ready": False,
                        "restartCount": 0,
                        "started": False,
                        "state": {"waiting": {"reason": "ContainerCreating"}},
                    }
                ],
            }
        },
        subresource="status",
    )

    assert world.status()["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}

    second = world.step()  # the container is seen running: the pod IP, Running and Ready together
    assert second.operations == ()
    assert world.status() == {
        "observedGeneration": 1,
        "phase": "Running",
        "qosClass": "BestEffort",
        "conditions": [
            condition("PodReadyToStartContainers", "True"),
            condition("Initialized", "True"),
            condition("Ready", "True"),
            condition("ContainersReady", "True"),
            SCHEDULED,
        ],
        "hostIP": "172.18.0.2",
        "hostIPs": [{"ip": "172.18.0.2"}],
        "podIP": "10.244.1.2",
        "podIPs": [{"ip": "10.244.1.2"}],
        "startTime": stamp(),
        "containerStatuses": [
            {
                "containerID": world.container_id("web", 0),
                "image": NGINX,
                "imageID": NGINX_ID,
                "lastState": {},
                "name": "web",
                "ready": True,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": stamp()}},
                "resources": {},
            }
        ],
    }
    assert world.events == [
        (0, "Normal", "Pulling", 'Pulling image "nginx:1.27"'),
        (
            0,
            "Normal",
            "Pulled",
            'Successfully pulled image "nginx:1.27" in 2.915s (2.915s including waiting). Image size: 72188133 bytes.',
        ),
        (0, "Normal", "Created", "Created container: web"),
        (0, "Normal", "Started", "Started container web"),
    ]
    assert world.step() == NodePlan()  # converged: nothing to do, nothing to wake up for


def test_a_second_pod_finds_the_image_already_present():
    world = World(pod("one"), pod("two"))
    world.settle()
    assert [(reason, message) for _, _, reason, message in world.events if reason.startswith("Pull")] == [
        ("Pulling", 'Pulling image "nginx:1.27"'),
        (
            "Pulled",
            'Successfully pulled image "nginx:1.27" in 2.915s (2.915s including waiting). Image size: 72188133 bytes.',
        ),
        ("Pulled", 'Container image "nginx:1.27" already present on machine and can be accessed by the pod'),
    ]
    assert {world.status(n)["podIP"] for n in ("one", "two")} == {"10.244.1.2", "10.244.1.3"}


def test_pods_bound_to_other_nodes_are_not_ours():
    elsewhere = pod()
    elsewhere["spec"]["nodeName"] = "node-2"
    assert World(elsewhere).plan() == NodePlan()


# -- init containers ---------------------------------------------------------------------------


def test_init_containers_run_in_order_each_to_completion_before_the_app_containers():
    init = [
        container("wait", "busybox:1.36", command=["sleep", "5"]),
        container("migrate", "busybox:1.36", command=["sh", "-c", "echo migrated; sleep 3"]),
    ]
    world = World(pod("web", init=init))
    world.settle()
    assert world.state(init=True) == ("running", None, 0)
    assert world.state(index=1, init=True) == ("waiting", "PodInitializing", 0)
    assert world.state() == ("waiting", "PodInitializing", 0)
    assert world.status()["phase"] == "Pending"
    assert world.status()["conditions"][1] == condition(
        "Initialized",
        "False",
        reason="ContainersNotInitialized",
        message="containers with incomplete status: [wait migrate]",
    )
    assert world.settle().next_wakeup == T0 + timedelta(seconds=5)

    world.wake()  # 5 s: the first is done, the second runs
    assert world.container(init=True)["state"]["terminated"]["reason"] == "Completed"
    assert world.container(init=True)["ready"] is True
    assert world.state(index=1, init=True) == ("running", None, 0)
    assert world.state() == ("waiting", "PodInitializing", 0)

    world.wake()  # 8 s: both done, the app container runs
    assert world.state(index=1, init=True)[:2] == ("terminated", "Completed")
    assert world.state() == ("running", None, 0)
    assert world.status()["phase"] == "Running"
    assert world.status()["conditions"][1] == condition("Initialized", "True", at=8)
    started = [message for _, reason, message in world.events_since(0) if reason == "Started"]
    assert started == ["Started container wait", "Started container migrate", "Started container web"]
    assert world.runtime.logs(REF, "migrate", restart=0, since=None)[0][1] == "migrated"


def test_a_failing_init_container_fails_a_pod_that_never_restarts():
    init = [container("check", "busybox:1.36", command=["sh", "-c", "exit 2"])]
    world = World(pod("web", init=init, restart="Never"))
    assert world.settle().next_wakeup is None
    assert world.status()["phase"] == "Failed"
    assert world.state(init=True) == ("terminated", "Error", 0)
    assert world.container(init=True)["state"]["terminated"]["exitCode"] == 2
    assert world.state() == ("waiting", "PodInitializing", 0)
    assert world.status()["conditions"][1] == condition(
        "Initialized", "False", reason="ContainersNotInitialized", message="containers with incomplete status: [check]"
    )


# -- restarts and the crash-loop back-off -------------------------------------------------------


def crash_loop_world(backoff) -> World:
    return World(pod("web", [container("web", "busybox:1.36", command=["false"])]), backoff=backoff)


@pytest.mark.parametrize(("backoff", "delays"), [(UPSTREAM_BACKOFF, [10, 20, 40]), (FAST_BACKOFF, [1, 2, 4])])
def test_a_crashing_container_goes_crash_loop_back_off_with_doubling_delays(backoff, delays):
    world = crash_loop_world(backoff)
    plan = world.settle()
    # The first exit restarts at once; from the second on, the back-off doubles.
    waited = []
    for restarts, delay in zip([1, 2, 3], delays, strict=True):
        assert world.state() == ("waiting", "CrashLoopBackOff", restarts)
        assert world.container()["state"]["waiting"]["message"] == (
            f"back-off {delay}s restarting failed container=web pod=web_default(uid-web)"
        )
        assert world.container()["lastState"]["terminated"]["exitCode"] == 1
        waited.append((plan.next_wakeup - world.clock()).total_seconds())
        plan = world.wake()
    assert waited == delays
    assert world.state() == ("waiting", "CrashLoopBackOff", 4)
    assert world.status()["phase"] == "Running"


def test_a_crash_shows_the_exit_first_and_the_back_off_on_the_next_sync():
    world = crash_loop_world(UPSTREAM_BACKOFF)
    seen = []
    for _ in range(12):
        plan = world.step()
        if "containerStatuses" in world.status():
            seen.append(world.state())
        if plan.empty:
            break
    deduplicated = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert deduplicated == [
        ("waiting", "ContainerCreating", 0),
        ("terminated", "Error", 0),
        ("terminated", "Error", 1),
        ("waiting", "CrashLoopBackOff", 1),
    ]
    assert world.events_since(0)[-1] == (
        "Warning",
        "BackOff",
        "Back-off restarting failed container web in pod web_default(uid-web)",
    )


def test_the_back_off_resets_after_a_run_longer_than_twice_the_cap():
    world = World(pod("web", [container("web", "busybox:1.36", command=["sh", "-c", "sleep 700; exit 1"])]))
    world.settle()
    world.wake()  # 700 s: first exit, restart at once
    world.wake()  # 1400 s: second exit — but the run lasted longer than 10 min, so no back-off
    assert world.state() == ("running", None, 2)


def test_restart_policy_never_leaves_the_container_exited_and_the_pod_failed():
    world = World(pod("web", [container("web", "busybox:1.36", command=["sh", "-c", "exit 3"])], restart="Never"))
    assert world.settle() == NodePlan()
    assert world.status()["phase"] == "Failed"
    assert world.container()["state"] == {
        "terminated": {
            "containerID": world.container_id("web", 0),
            "exitCode": 3,
            "finishedAt": stamp(),
            "reason": "Error",
            "startedAt": stamp(),
        }
    }
    assert world.status()["conditions"][2:4] == [
        condition("Ready", "False", reason="PodFailed"),
        condition("ContainersReady", "False", reason="PodFailed"),
    ]


def test_restart_policy_on_failure_restarts_a_failure_but_not_a_success():
    failing = World(pod("web", [container("web", "busybox:1.36", command=["false"])], restart="OnFailure"))
    failing.settle()
    assert failing.state() == ("waiting", "CrashLoopBackOff", 1)
    assert failing.status()["phase"] == "Running"
    succeeding = World(pod("web", [container("web", "busybox:1.36", command=["true"])], restart="OnFailure"))
    succeeding.settle()
    assert succeeding.state() == ("terminated", "Completed", 0)
    assert succeeding.status()["phase"] == "Succeeded"


def test_a_job_style_pod_succeeds():
    job = container("pi", "busybox:1.36", command=["sh", "-c", "echo 3.14159; sleep 2"])
    world = World(pod("web", [job], restart="Never"))
    world.settle()
    assert world.status()["phase"] == "Running"
    plan = world.wake()
    assert plan == NodePlan()
    assert world.status() == {
        "observedGeneration": 1,
        "phase": "Succeeded",
        "qosClass": "BestEffort",
        "conditions": [
            condition("PodReadyToStartContainers", "False", at=2),
            condition("Initialized", "True", reason="PodCompleted"),
            condition("Ready", "False", at=2, reason="PodCompleted"),  # it was ready while it ran
            condition("ContainersReady", "False", at=2, reason="PodCompleted"),
            SCHEDULED,
        ],
        "hostIP": "172.18.0.2",
        "hostIPs": [{"ip": "172.18.0.2"}],
        "podIP": "10.244.1.2",
        "podIPs": [{"ip": "10.244.1.2"}],
        "startTime": stamp(),
        "containerStatuses": [
            {
                "containerID": world.container_id("pi", 0),
                "image": BUSYBOX,
                "imageID": world.runtime.observe(node="node-1")[0].image_id,
                "lastState": {},
                "name": "pi",
                "ready": False,
                "restartCount": 0,
                "started": False,
                "state": {
                    "terminated": {
                        "containerID": world.container_id("pi", 0),
                        "exitCode": 0,
                        "finishedAt": stamp(2),
                        "reason": "Completed",
                        "startedAt": stamp(),
                    }
                },
                "resources": {},
            }
        ],
    }
    assert world.runtime.logs(REF, "pi", restart=0, since=None)[0][1] == "3.14159"


def test_a_memory_limit_below_the_images_need_is_oom_killed():
    hungry = container("db", "mysql:8.4", env=[{"name": "MYSQL_ROOT_PASSWORD", "value": "s3cret"}])
    hungry["resources"] = {"limits": {"memory": "128Mi"}, "requests": {"memory": "128Mi"}}
    world = World(pod("web", [hungry]))
    world.wake()
    assert world.container()["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert world.container()["lastState"]["terminated"]["exitCode"] == 137
    assert world.container()["resources"] == hungry["resources"]
    assert world.container()["allocatedResources"] == {"memory": "128Mi"}


# -- image pulls ---------------------------------------------------------------------------------


def test_an_image_typo_goes_err_image_pull_then_image_pull_back_off_with_events():
    world = World(pod("web", [container("web", "nginxx:1.27")]))
    world.settle()
    denied = (
        "Error response from daemon: pull access denied for nginxx, repository does not exist or may require "
        "'docker login': denied: requested access to the resource is denied"
    )
    assert world.container()["state"] == {"waiting": {"reason": "ErrImagePull", "message": denied}}
    assert world.status()["phase"] == "Pending"
    assert world.events_since(0) == [
        ("Normal", "Pulling", 'Pulling image "nginxx:1.27"'),
        ("Warning", "Failed", f'Failed to pull image "nginxx:1.27": {denied}'),
        ("Warning", "Failed", "Error: ErrImagePull"),
    ]
    assert world.settle().next_wakeup == T0 + timedelta(seconds=5)

    world.wake()  # halfway through the 10 s back-off
    assert world.container()["state"] == {
        "waiting": {
            "reason": "ImagePullBackOff",
            "message": f'Back-off pulling image "nginxx:1.27": ErrImagePull: {denied}',
        }
    }
    assert world.events_since(5) == [
        ("Normal", "BackOff", 'Back-off pulling image "nginxx:1.27"'),
        ("Warning", "Failed", "Error: ImagePullBackOff"),
    ]
    assert world.settle().next_wakeup == T0 + timedelta(seconds=10)

    world.wake()  # 10 s: tried again, failed again; the next back-off is 20 s
    assert world.state() == ("waiting", "ErrImagePull", 0)
    assert [reason for _, reason, _ in world.events_since(10)] == ["Pulling", "Failed", "Failed"]
    assert world.settle().next_wakeup == T0 + timedelta(seconds=20)
    world.wake()
    assert world.state() == ("waiting", "ImagePullBackOff", 0)
    assert world.settle().next_wakeup == T0 + timedelta(seconds=30)


def test_pull_policy_never_without_the_image_says_err_image_never_pull():
    world = World(pod("web", [container("web", "nginx:1.27", imagePullPolicy="Never")]))
    world.settle()
    message = 'Container image "nginx:1.27" is not present with pull policy of Never'
    assert world.container()["state"] == {"waiting": {"reason": "ErrImageNeverPull", "message": message}}
    assert world.events_since(0) == [
        ("Warning", "ErrImageNeverPull", message),
        ("Warning", "Failed", "Error: ErrImageNeverPull"),
    ]


# -- probes ------------------------------------------------------------------------------------


def http_probe(path: str, **fields) -> dict:
    probe = {"httpGet": {"path": path, "port": 8080, "scheme": "HTTP"}, "timeoutSeconds": 1}
    return probe | {"periodSeconds": 5, "successThreshold": 1, "failureThreshold": 3} | fields


def test_a_liveness_failure_restarts_the_container():
    app = container(
        "web",
        "kube-tutor/web:1.0",
        env=[{"name": "FAIL_AFTER", "value": "12"}],
        livenessProbe=http_probe("/healthz", initialDelaySeconds=3),
    )
    world = World(pod("web", [app]))
    plan = world.settle()
    assert plan.next_wakeup == T0 + timedelta(seconds=3)  # the first probe, after the initial delay
    for _ in range(6):  # probes at 3, 8 (healthy), 13, 18, 23 (failing)
        world.wake()
    assert world.events_since(13) == [
        ("Warning", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"),
        ("Warning", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"),
        ("Warning", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"),
        ("Normal", "Killing", "Container web failed liveness probe, will be restarted"),
        (
            "Normal",
            "Pulled",
            'Container image "kube-tutor/web:1.0" already present on machine and can be accessed by the pod',
        ),
        ("Normal", "Created", "Created container: web"),
        ("Normal", "Started", "Started container web"),
    ]
    assert world.state() == ("running", None, 1)
    assert world.container()["lastState"]["terminated"]["reason"] == "Completed"  # it left on SIGTERM


def test_a_liveness_kill_uses_the_pods_grace_period():
    app = container(
        "web", "kube-tutor/web:1.0", env=[{"name": "FAIL_AFTER", "value": "0"}], livenessProbe=http_probe("/healthz")
    )
    world = World(pod("web", [app], terminationGracePeriodSeconds=7))
    world.settle()  # probes at 0, 5 and 10 fail
    world.wake()
    world.clock.advance(5)
    plans = [world.step() for _ in range(2)]
    assert StopContainer(REF, "web", 0, 7) in plans[1].operations
    assert world.memory["stops"]["uid-web/web"] == {"restart": 0, "at": stamp(10).replace("Z", "+00:00"), "grace": 7}


def test_readiness_flips_ready_both_ways_and_never_restarts_anything():
    warming = container(
        "web", "kube-tutor/web:1.0", env=[{"name": "READY_AFTER", "value": "6"}], readinessProbe=http_probe("/ready")
    )
    failing = container(
        "web", "kube-tutor/web:1.0", env=[{"name": "FAIL_AFTER", "value": "12"}], readinessProbe=http_probe("/healthz")
    )
    world = World(pod("warming", [warming]), pod("failing", [failing]))
    world.settle()
    assert (world.container("warming")["ready"], world.container("failing")["ready"]) == (False, True)
    assert world.status("warming")["conditions"][2] == condition(
        "Ready", "False", reason="ContainersNotReady", message="containers with unready status: [web]"
    )
    assert (
        "Warning",
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
    ) in world.events_since(0)
    world.wake()  # 5 s: still warming up
    world.wake()  # 10 s: /ready answers 200
    assert world.status("warming")["conditions"][2] == condition("Ready", "True", at=10)
    while world.seconds < 25:
        world.wake()  # /healthz fails from 12 s: probes at 15, 20 and 25 make three in a row
    assert world.status("failing")["conditions"][2] == condition(
        "Ready", "False", at=25, reason="ContainersNotReady", message="containers with unready status: [web]"
    )
    assert world.state("failing") == ("running", None, 0)
    assert world.status("warming")["conditions"][2]["status"] == "True"


def test_a_startup_probe_holds_liveness_and_readiness_until_it_succeeds():
    app = container(
        "web",
        "kube-tutor/web:1.0",
        env=[{"name": "READY_AFTER", "value": "6"}],
        startupProbe=http_probe("/ready", periodSeconds=2, failureThreshold=10),
        livenessProbe=http_probe("/healthz"),
        readinessProbe=http_probe("/healthz"),
    )
    world = World(pod("web", [app]))
    world.settle()
    world.wake()  # 2 s
    world.wake()  # 4 s
    assert sorted(world.memory["probes"]) == ["uid-web/web/startup"]
    assert (world.container()["started"], world.container()["ready"]) == (False, False)
    world.wake()  # 6 s: started; liveness and readiness run at once
    assert sorted(world.memory["probes"]) == ["uid-web/web/liveness", "uid-web/web/readiness", "uid-web/web/startup"]
    assert (world.container()["started"], world.container()["ready"]) == (True, True)
    assert world.settle().next_wakeup == T0 + timedelta(seconds=11)


# -- termination ---------------------------------------------------------------------------------


def delete(world: World, name: str = "web", grace: int = 30) -> None:
    metadata = world.pods[name]["metadata"]
    metadata["deletionTimestamp"] = stamp(world.seconds + grace)
    metadata["deletionGracePeriodSeconds"] = grace


def test_graceful_deletion_stops_the_containers_then_deletes_the_pod():
    world = World(pod("web", [container("web", "busybox:1.36", command=["sleep", "3600"])]))
    world.settle()
    delete(world, grace=30)
    plan = world.step()
    assert plan.operations == (StopContainer(REF, "web", 0, 30),)
    assert [a.message for a in plan.actions if isinstance(a, Event)] == ["Stopping container web"]
    plan = world.settle()
    assert plan.next_wakeup == T0 + timedelta(seconds=30)  # `sleep` as PID 1 ignores SIGTERM
    assert world.state() == ("running", None, 0)
    assert world.container()["ready"] is True  # still serving while it terminates

    world.clock.advance(30)
    final = world.step()
    assert final.operations == (RemovePod(REF),)
    status_patch, deletion = final.actions
    assert status_patch.patch["status"]["phase"] == "Failed"  # killed: exit 137
    assert status_patch.patch["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137
    assert deletion == Delete("v1", "Pod", "default", "web", uid="uid-web", grace_period=0)
    assert world.pods == {}
    assert world.step() == NodePlan()
    assert world.runtime.observe(node="node-1") == []


def test_a_web_server_stops_at_once_and_its_pod_completes_before_deletion():
    world = World(pod())
    world.settle()
    delete(world)
    world.settle()
    assert world.deleted == [Delete("v1", "Pod", "default", "web", uid="uid-web", grace_period=0)]
    assert world.events_since(0)[-1] == ("Normal", "Killing", "Stopping container web")


def test_a_pod_deleted_before_its_containers_ran_is_deleted_at_once():
    world = World(pod("web", [container("web", "nginxx:1.27")]))
    world.settle()
    delete(world)
    plan = world.step()
    assert plan.operations == (RemovePod(REF),)
    final = plan.actions[0].patch["status"]
    assert final["phase"] == "Failed"
    assert final["containerStatuses"][0]["state"] == {
        "terminated": {
            "exitCode": 137,
            "reason": "ContainerStatusUnknown",
            "message": "The container could not be located when the pod was terminated",
        }
    }


def test_containers_of_pods_that_no_longer_exist_are_removed():
    world = World(pod("one"), pod("two"))
    world.settle()
    del world.pods["two"]
    plan = world.step()
    assert plan.operations == (RemoveOrphans(frozenset({"uid-one"})),)
    assert {o.pod_uid for o in world.runtime.observe(node="node-1")} == {"uid-one"}
    assert "uid-two" not in world.memory["sandboxes"]
    assert world.step() == NodePlan()


def test_a_pass_limited_to_some_pods_plans_only_those_and_keeps_the_others():
    world = World(pod("one"), pod("two"))
    world.settle()
    world.pods["three"] = pod("three")
    everything = world.plan()
    assert everything.busy == {"uid-three"}

    def limited_to(*uids: str) -> NodePlan:
        observed = world.runtime.observe(node="node-1")
        now, pods = world.clock(), list(world.pods.values())
        return plan_node(
            node=NODE, pods=pods, observed=observed, now=now, memory=world.memory, sandbox="sandbox-1", only=uids
        )

    assert limited_to("uid-one") == NodePlan()  # "three" is not looked at; "one" and "two" are not orphans
    assert limited_to("uid-three") == everything


# -- native sidecars -------------------------------------------------------------------------------


def sidecar(name: str = "proxy", image: str = "nginx:1.27", **fields) -> dict:
    return container(name, image, restartPolicy="Always", **fields)


def sleeper(name: str = "web", seconds: int = 3600) -> dict:
    return container(name, "busybox:1.36", command=["sleep", str(seconds)])


def test_a_sidecar_starts_first_and_keeps_running_beside_the_main_container():
    init = [sidecar(), container("migrate", "busybox:1.36", command=["sleep", "3"])]
    world = World(pod("web", [sleeper()], init=init))
    world.settle()
    # The next init container starts once the sidecar runs, not once it exits.
    assert world.state(init=True) == ("running", None, 0)
    assert world.state(index=1, init=True) == ("running", None, 0)
    assert world.state() == ("waiting", "PodInitializing", 0)
    assert world.status()["phase"] == "Pending"
    assert world.status()["conditions"][1] == condition(
        "Initialized",
        "False",
        reason="ContainersNotInitialized",
        message="containers with incomplete status: [migrate]",
    )

    world.wake()  # 3 s: the regular init container is done; the main container starts, the sidecar runs on
    assert world.state(index=1, init=True)[:2] == ("terminated", "Completed")
    assert world.state() == ("running", None, 0)
    proxy = world.container(init=True)
    assert (proxy["state"], proxy["started"], proxy["ready"], proxy["restartCount"]) == (
        {"running": {"startedAt": stamp()}},
        True,
        True,
        0,
    )
    assert world.status()["phase"] == "Running"
    assert [c["status"] for c in world.status()["conditions"][1:4]] == ["True", "True", "True"]
    started = [message for _, reason, message in world.events_since(0) if reason == "Started"]
    assert started == ["Started container proxy", "Started container migrate", "Started container web"]


def test_the_next_container_waits_for_a_sidecars_startup_probe():
    slow = sidecar(
        "proxy",
        "kube-tutor/web:1.0",
        env=[{"name": "READY_AFTER", "value": "6"}],
        startupProbe=http_probe("/ready", periodSeconds=2, failureThreshold=10),
    )
    world = World(pod("web", [container()], init=[slow]))
    world.settle()
    world.wake()  # 2 s
    world.wake()  # 4 s
    assert (world.container(init=True)["started"], world.container(init=True)["ready"]) == (False, False)
    assert world.state() == ("waiting", "PodInitializing", 0)
    assert world.status()["phase"] == "Pending"
    assert world.status()["conditions"][1] == condition(
        "Initialized", "False", reason="ContainersNotInitialized", message="containers with incomplete status: [proxy]"
    )
    world.wake()  # 6 s: the startup probe passes, the main container starts
    assert world.container(init=True)["started"] is True
    assert world.state() == ("running", None, 0)
    assert world.status()["conditions"][1] == condition("Initialized", "True", at=6)


def test_a_sidecar_that_exits_is_restarted_even_in_a_pod_that_never_restarts():
    flaky = sidecar("proxy", "busybox:1.36", command=["sh", "-c", "sleep 5; exit 1"])
    world = World(pod("web", [sleeper()], init=[flaky], restart="Never"))
    world.settle()
    world.wake()  # 5 s: it exits and is restarted at once, as the first restart of any container
    assert world.state(init=True) == ("running", None, 1)
    assert world.container(init=True)["lastState"]["terminated"]["exitCode"] == 1
    world.wake()  # 10 s: it exits again and waits out the back-off
    assert world.state(init=True) == ("waiting", "CrashLoopBackOff", 1)
    # Its exits decide nothing: the pod stays Running and initialized, its main container untouched.
    assert world.status()["phase"] == "Running"
    assert world.status()["conditions"][1]["status"] == "True"
    assert world.state() == ("running", None, 0)
    assert world.status()["conditions"][2] == condition(
        "Ready", "False", at=10, reason="ContainersNotReady", message="containers with unready status: [proxy]"
    )
    assert (
        "Warning",
        "BackOff",
        "Back-off restarting failed container proxy in pod web_default(uid-web)",
    ) in world.events_since(10)


def test_a_sidecars_readiness_counts_for_the_pods():
    warming = sidecar(
        "proxy", "kube-tutor/web:1.0", env=[{"name": "READY_AFTER", "value": "6"}], readinessProbe=http_probe("/ready")
    )
    world = World(pod("web", [container()], init=[warming]))
    world.settle()
    # A readiness probe does not hold the main container back: the sidecar has started.
    assert world.state() == ("running", None, 0)
    assert (world.container(init=True)["started"], world.container(init=True)["ready"]) == (True, False)
    assert world.status()["conditions"][2:4] == [
        condition("Ready", "False", reason="ContainersNotReady", message="containers with unready status: [proxy]"),
        condition(
            "ContainersReady", "False", reason="ContainersNotReady", message="containers with unready status: [proxy]"
        ),
    ]
    world.wake()  # 5 s: still warming up
    world.wake()  # 10 s: ready
    assert world.container(init=True)["ready"] is True
    assert world.status()["conditions"][2] == condition("Ready", "True", at=10)


def test_a_sidecars_failed_liveness_probe_restarts_it():
    failing = sidecar(
        "proxy", "kube-tutor/web:1.0", env=[{"name": "FAIL_AFTER", "value": "0"}], livenessProbe=http_probe("/healthz")
    )
    world = World(pod("web", [container()], init=[failing]))
    while not any(reason == "Killing" for _, reason, _ in world.events_since(0)):
        world.wake()  # probes at 0, 5 and 10 s fail
    world.settle()
    assert ("Normal", "Killing", "Init container proxy failed liveness probe") in world.events_since(0)
    assert world.state(init=True) == ("running", None, 1)  # killed, then started again at once
    assert world.state() == ("running", None, 0)


def test_a_jobs_pod_succeeds_once_its_main_container_is_done_and_its_sidecar_stopped():
    job = container("main", "busybox:1.36", command=["sh", "-c", "echo done; sleep 2"])
    world = World(pod("web", [job], init=[sidecar()], restart="Never"))
    world.settle()
    assert world.status()["phase"] == "Running"
    world.clock.advance(2)
    first = world.step()  # the main container has exited: nothing will run again, so the sidecar stops
    assert first.operations == (StopContainer(REF, "proxy", 0, 30),)
    assert world.events_since(2)[0] == ("Normal", "Killing", "Stopping container proxy")
    assert world.status()["phase"] == "Running"  # while the sidecar stops
    assert world.settle() == NodePlan()
    status = world.status()
    assert status["phase"] == "Succeeded"
    assert world.state(init=True)[:2] == ("terminated", "Completed")  # nginx leaves on SIGTERM
    assert world.state()[:2] == ("terminated", "Completed")
    assert status["conditions"][1:4] == [
        condition("Initialized", "True", reason="PodCompleted"),
        condition("Ready", "False", at=2, reason="PodCompleted"),
        condition("ContainersReady", "False", at=2, reason="PodCompleted"),
    ]


def test_a_sidecar_that_ignores_sigterm_holds_the_job_pod_until_the_grace_period_ends():
    job = container("main", "busybox:1.36", command=["true"])
    world = World(
        pod("web", [job], init=[sidecar("proxy", "busybox:1.36", command=["sleep", "3600"])], restart="Never")
    )
    plan = world.settle()
    assert world.status()["phase"] == "Running"
    assert plan.next_wakeup == T0 + timedelta(seconds=30)
    world.clock.advance(32)  # past the grace period and its slack: killed
    world.settle()
    assert world.status()["phase"] == "Succeeded"  # a sidecar's exit code does not count
    assert world.container(init=True)["state"]["terminated"]["exitCode"] == 137


def test_a_failed_init_container_fails_the_pod_and_stops_the_sidecar_started_before_it():
    init = [sidecar(), container("check", "busybox:1.36", command=["sh", "-c", "exit 2"])]
    world = World(pod("web", [container()], init=init, restart="Never"))
    world.settle()
    assert world.status()["phase"] == "Failed"
    assert world.state(index=1, init=True)[:2] == ("terminated", "Error")
    assert world.state(init=True)[:2] == ("terminated", "Completed")
    assert ("Normal", "Killing", "Stopping container proxy") in world.events_since(0)


def test_deletion_stops_the_main_containers_first_then_the_sidecars_last_first():
    world = World(pod("web", [container()], init=[sidecar("first"), sidecar("second")]))
    world.settle()
    delete(world, grace=30)
    stops = []
    for _ in range(6):
        plan = world.step()
        stops += [(op.name, op.grace) for op in plan.operations if isinstance(op, StopContainer)]
        if not world.pods:
            break
    # nginx leaves at once on SIGTERM; each sidecar gets what is left of the grace period.
    assert stops == [("web", 30), ("second", 30), ("first", 30)]
    assert [message for _, reason, message in world.events_since(0) if reason == "Killing"] == [
        "Stopping container web",
        "Stopping container second",
        "Stopping container first",
    ]
    assert world.deleted == [Delete("v1", "Pod", "default", "web", uid="uid-web", grace_period=0)]


def test_a_sidecar_waits_for_a_main_container_until_the_grace_period_is_over():
    world = World(pod("web", [sleeper()], init=[sidecar()]))
    world.settle()
    delete(world, grace=10)
    assert world.step().operations == (StopContainer(REF, "web", 0, 10),)  # `sleep` ignores SIGTERM
    plan = world.settle()
    assert world.state(init=True) == ("running", None, 0)
    assert plan.next_wakeup == T0 + timedelta(seconds=10)
    world.clock.advance(10)
    # Its turn has come though the main container still runs: it gets the minimum grace period.
    assert StopContainer(REF, "proxy", 0, 2) in world.step().operations
    world.clock.advance(2)
    world.settle()
    assert world.pods == {}


def test_a_sidecars_start_and_exit_say_sidecar():
    flaky = sidecar("proxy", "busybox:1.36", command=["sh", "-c", "sleep 5; exit 1"])
    world = World(pod("web", [sleeper()], init=[flaky]))
    whys = status_whys(world)
    world.clock.now = world.settle().next_wakeup
    whys += status_whys(world)
    assert any(why.startswith("sidecar proxy started") for why in whys)
    assert any(why.startswith("sidecar proxy exited with code 1") for why in whys)


# -- the memory's bookkeeping -------------------------------------------------------------------


def test_a_probe_result_flips_only_after_its_threshold():
    probe = {"failureThreshold": 3, "successThreshold": 2}
    operation = RunProbe(REF, "web", 0, "readiness", probe)
    memory: dict = {}
    results = []
    for success in (True, True, False, False, False, True, True):
        memory, _ = outcome_record(memory, operation, ProbeResult(success, "nope"), now=T0)
        results.append(memory["probes"]["uid-web/web/readiness"]["result"])
    assert results == ["failure", "success", "success", "success", "failure", "failure", "success"]


def test_probe_results_start_over_with_a_new_run():
    memory, _ = outcome_record({}, RunProbe(REF, "web", 0, "liveness", {}), ProbeResult(False, "x"), now=T0)
    memory, _ = outcome_record(memory, RunProbe(REF, "web", 1, "liveness", {}), ProbeResult(False, "x"), now=T0)
    assert memory["probes"]["uid-web/web/liveness"] == {
        "restart": 1,
        "result": "success",
        "last": "failure",
        "streak": 1,
        "at": T0.isoformat(),
    }


# -- the node ------------------------------------------------------------------------------------


def ready_node(status: str = "True", beat: str = "2026-11-26T11:59:00Z") -> dict:
    healthy = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    conditions = [
        {
            "type": kind,
            "status": value if status == "True" else "Unknown",
            "reason": reason if status == "True" else "NodeStatusUnknown",
            "message": message if status == "True" else "Kubelet stopped posting node status.",
            "lastHeartbeatTime": beat,
            "lastTransitionTime": "2026-11-26T10:00:00Z",
        }
        for kind, value, reason, message in healthy
    ]
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}, "status": {"conditions": conditions}}


def test_the_heartbeat_renews_every_condition_without_moving_transition_times():
    patch = node_status_patch(ready_node(), now=T0, ready=True)
    conditions = patch.patch["status"]["conditions"]
    assert [(c["type"], c["status"], c["lastHeartbeatTime"], c["lastTransitionTime"]) for c in conditions] == [
        ("MemoryPressure", "False", stamp(), "2026-11-26T10:00:00Z"),
        ("DiskPressure", "False", stamp(), "2026-11-26T10:00:00Z"),
        ("PIDPressure", "False", stamp(), "2026-11-26T10:00:00Z"),
        ("Ready", "True", stamp(), "2026-11-26T10:00:00Z"),
    ]
    assert (patch.kind, patch.name, patch.subresource) == ("Node", "node-1", "status")


def test_a_kubelet_that_stops_marks_its_node_unknown_and_one_that_returns_marks_it_ready():
    stopped = node_status_patch(ready_node(), now=T0, ready=False).patch["status"]["conditions"]
    assert {(c["status"], c["reason"], c["message"], c["lastTransitionTime"]) for c in stopped} == {
        ("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", stamp())
    }
    assert (
        node_status_patch({"metadata": {"name": "node-1"}, "status": {"conditions": stopped}}, now=T0, ready=False)
        is None
    )
    back = node_status_patch(ready_node("Unknown"), now=T0, ready=True).patch["status"]["conditions"][3]
    assert (back["status"], back["reason"], back["message"], back["lastTransitionTime"]) == (
        "True",
        "KubeletReady",
        "kubelet is posting ready status",
        stamp(),
    )


# -- the pod sandbox -----------------------------------------------------------------------------


class FailingSandboxes(SimulatedRuntime):
    """A runtime whose pod sandboxes fail to start until `failing` is turned off."""

    failing = True

    def pod_sandbox_ensure(self, pod, **options):
        if self.failing:
            raise RuntimeError_("network kube-tutor-x not found")
        return super().pod_sandbox_ensure(pod, **options)


def test_a_sandbox_that_fails_to_start_is_reported_and_retried_after_a_growing_back_off():
    world = World(pod())
    world.runtime = FailingSandboxes(world.clock, node="node-1", pod_cidr="10.244.1.0/24")
    plan = world.settle()
    assert world.events_since(0) == [
        ("Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: network kube-tutor-x not found")
    ]
    assert world.state() == ("waiting", "ContainerCreating", 0)
    assert plan.next_wakeup == T0 + timedelta(seconds=10)
    world.clock.now = plan.next_wakeup
    plan = world.settle()
    assert len(world.events_since(10)) == 1
    assert plan.next_wakeup == T0 + timedelta(seconds=10 + 20)  # doubled, as the crash-loop back-off
    world.runtime.failing = False
    world.clock.now = plan.next_wakeup
    world.settle()
    assert world.state()[0] == "running"
    assert "sandbox_failures" not in world.memory or world.memory["sandbox_failures"] == {}


def test_a_lost_sandbox_is_made_again_and_its_containers_restarted_in_it():
    world = World(pod())
    world.settle()
    assert world.state() == ("running", None, 0)
    del world.runtime.state["pods"]["uid-web"]  # the pod's sandbox is gone (its pause removed by hand)
    world.settle()
    assert ("Normal", "SandboxChanged", SANDBOX_CHANGED) in world.events_since(0)
    assert world.state() == ("running", None, 1)
    assert world.container()["lastState"]["terminated"]["exitCode"] == 137
    assert world.status()["podIP"] == world.memory["sandboxes"]["uid-web"]
    assert world.events_since(0).count(("Normal", "SandboxChanged", SANDBOX_CHANGED)) == 1


def test_a_pod_that_never_restarts_gets_no_new_sandbox_and_ends():
    world = World(pod(restart="Never"))
    world.settle()
    assert world.state() == ("running", None, 0)
    del world.runtime.state["pods"]["uid-web"]
    world.settle()
    assert world.status()["phase"] in ("Succeeded", "Failed")
    assert world.state()[0] == "terminated"
    assert "uid-web" not in world.runtime.pod_sandboxes(node="node-1")
    assert "SandboxChanged" not in [reason for _, reason, _ in world.events_since(0)]


def test_the_sandbox_gets_the_pods_subdomain_and_every_containers_ports():
    ports = [{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"}]
    world = World(pod(containers=[container(ports=ports), container("side", "busybox:1.36")], subdomain="web"))
    ensure, *rest = world.step().operations
    assert [type(operation) for operation in rest] == [PullImage, StartContainer, PullImage, StartContainer]
    assert (ensure.subdomain, ensure.ports) == ("web", tuple(ports))


def test_a_container_that_reads_the_pod_ip_starts_once_the_sandbox_has_answered():
    env = [{"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
    world = World(pod(containers=[container(env=env)]))
    assert [type(operation) for operation in world.step().operations] == [EnsureSandbox, PullImage]
    [start] = world.step().operations
    assert (type(start), start.env) == (StartContainer, {"MY_IP": "10.244.1.2"})


def test_a_container_whose_image_cannot_be_pulled_is_not_started_in_that_pass():
    world = World(pod("web", [container("web", "nginxx:1.27")]))
    assert [type(operation) for operation in world.step().operations] == [EnsureSandbox, PullImage, StartContainer]
    assert world.runtime.observe(node="node-1") == []  # the start was skipped, not tried
    world.step()
    assert world.state() == ("waiting", "ErrImagePull", 0)
    messages = [message for _, _, _, message in world.events]
    assert len(messages) == 3  # the pull's events only, no start error
    assert messages[0] == 'Pulling image "nginxx:1.27"'
    assert messages[1].startswith('Failed to pull image "nginxx:1.27": ')
    assert messages[2] == "Error: ErrImagePull"


# -- why, in words ---------------------------------------------------------------------------------


def status_whys(world: World, *, until_empty: bool = True) -> list[str]:
    """The `why` of every status patch the kubelet plans while it settles."""
    whys = []
    for _ in range(20):
        plan = world.step()
        whys += [a.why for a in plan.actions if isinstance(a, Patch)]
        if plan.empty or not until_empty:
            return whys
    raise AssertionError("the kubelet never settled")


def test_a_starting_pod_says_what_its_kubelet_did():
    assert status_whys(World(pod())) == [
        "pod web is on node-1: preparing its containers",
        "pod web's sandbox is up, with IP 10.244.1.2; container web started; pod web is Running",
    ]


def test_a_crash_loop_says_the_exit_code_and_the_back_off():
    world = crash_loop_world(UPSTREAM_BACKOFF)
    assert status_whys(world)[-3:] == [
        "pod web's sandbox is up, with IP 10.244.1.2; container web exited with code 1; pod web is Running",
        "container web exited with code 1 after restart 1",
        "container web exited with code 1: restarting in 10 s (back-off)",
    ]


def test_an_image_typo_says_the_image_cannot_be_pulled_then_when_it_is_tried_again():
    world = World(pod("web", [container("web", "nginxx:1.27")]))
    assert status_whys(world)[-1] == "pod web's sandbox is up, with IP 10.244.1.2; image nginxx:1.27 cannot be pulled"
    world.clock.now = world.settle().next_wakeup
    assert status_whys(world) == ["image nginxx:1.27 cannot be pulled: trying again in 10 s (back-off)"]


def test_a_liveness_kill_and_a_deletion_say_why():
    app = container(
        "web", "kube-tutor/web:1.0", env=[{"name": "FAIL_AFTER", "value": "0"}], livenessProbe=http_probe("/healthz")
    )
    world = World(pod("web", [app]))
    whys = status_whys(world)
    for _ in range(4):
        world.clock.now = world.settle().next_wakeup
        whys += status_whys(world)
    assert "container web exited with code 0: its liveness probe failed, so the kubelet stopped it" in whys
    delete(world, grace=0)
    world.settle()
    assert world.deleted[-1].why == "pod web is being deleted and its containers have stopped: removing it for good"


def test_the_heartbeat_says_whether_the_kubelet_runs():
    assert node_status_patch(ready_node(), now=T0, ready=True).why == (
        "the kubelet of node-1 is running: renewing the node's status"
    )
    assert node_status_patch(ready_node(), now=T0, ready=False).why == (
        "the kubelet of node-1 has stopped: marking the node's conditions Unknown"
    )
