"""The faults a learner causes (clusters.faults) and how the kubelet carries them out, on the
simulated runtime, with the whole control loop (controllers, then each node's kubelet) driven by
a test clock."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from clusters import faults, kubelet, store, tasks
from clusters.controllers.manager import controllers_reconcile
from clusters.models import Change, NodeRuntimeState, WorkItem
from clusters.objects.resources import resource_for_kind
from clusters.runtime import catalog, images
from clusters.sandboxes import sandbox_create

PODS = resource_for_kind("v1", "Pod")
NODES = resource_for_kind("v1", "Node")
DEPLOYMENTS = resource_for_kind("apps/v1", "Deployment")
JOBS = resource_for_kind("batch/v1", "Job")
NODE_NAMES = ("node-1", "node-2")
# What a class uses, and the stack tests too: NotReady after 4 s of silence, evicted 3 s later.
SHORT_TIMINGS = {"NODE_HEARTBEAT_SECONDS": 1, "NODE_GRACE_SECONDS": 4, "POD_EVICTION_SECONDS": 3}

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The kubelet's time, moved by the test (the simulated runtime reads the same clock)."""
    moment = SimpleNamespace(now=timezone.now())
    monkeypatch.setattr(kubelet, "timezone", SimpleNamespace(now=lambda: moment.now))
    return moment


@pytest.fixture
def sandbox():
    return sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated", fast_backoff=True)


def settle(sandbox, clock, *, seconds: float = 0, rounds: int = 4) -> None:
    """Let `seconds` pass, then run the controllers and every node's kubelet a few times over, as
    the workers would."""
    clock.now += timedelta(seconds=seconds)
    for _ in range(rounds):
        controllers_reconcile(sandbox, now=clock.now)
        for node in NODE_NAMES:
            kubelet.kubelet_reconcile(sandbox, node=node, now=clock.now)


def create(sandbox, resource, body: dict) -> dict:
    return store.object_create(sandbox=sandbox, resource=resource, body=body, namespace="default")


def get(sandbox, name: str, resource=PODS) -> dict:
    return store.object_get(sandbox=sandbox, resource=resource, namespace="default", name=name)


def pod_body(name: str = "web", *, node: str | None = "node-1", restart_policy: str = "Always", **container) -> dict:
    spec = {"restartPolicy": restart_policy, "containers": [{"name": "web", "image": "nginx:1.27", **container}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def status_of(sandbox, pod: str, container: str = "web") -> dict:
    statuses = get(sandbox, pod).get("status", {}).get("containerStatuses", [])
    return next(s for s in statuses if s["name"] == container)


def events_for(sandbox, pod: str, *, after: int = 0) -> list[str]:
    changes = Change.objects.filter(sandbox=sandbox, kind="Event", resource_version__gt=after)
    return [
        c.body["reason"]
        for c in changes.order_by("resource_version")
        if c.body["involvedObject"]["name"] == pod  # a repeated Event is the same one, its count raised
    ]


def newest_version() -> int:
    return store.current_resource_version()


def kills(sandbox, node: str = "node-1") -> list[dict]:
    return NodeRuntimeState.objects.get(sandbox=sandbox, node=node).container_kills


def kubelet_due(sandbox, node: str) -> bool:
    return WorkItem.objects.filter(sandbox=sandbox, key=f"kubelet/{node}", dirty=True).exists()


def simulated_runs(sandbox, node: str) -> list[dict]:
    state = NodeRuntimeState.objects.get(sandbox=sandbox, node=node).runtime
    return list((state or {}).get("runs", {}).values())


def deployment(name: str = "web", replicas: int = 3, image: str = "nginx:1.27") -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": image}]}},
        },
    }


def pods_of(sandbox, app: str = "web") -> list[dict]:
    return store.object_list(sandbox=sandbox, resource=PODS, namespace="default", label_selector=f"app={app}").items


def ready(pod: dict) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def waiting_reason(pod: dict) -> str:
    status = pod.get("status", {}).get("containerStatuses", [{}])[0]
    return status.get("state", {}).get("waiting", {}).get("reason", "")


def node_ready(sandbox, node: str) -> str:
    conditions = get(sandbox, node, NODES)["status"]["conditions"]
    return next(c["status"] for c in conditions if c["type"] == "Ready")


# ---------------------------------------------------------------------------------------------
# Kill a container
# ---------------------------------------------------------------------------------------------


def test_a_kill_is_only_recorded_and_makes_the_nodes_kubelet_due(sandbox, clock):
    create(sandbox, PODS, pod_body())
    settle(sandbox, clock)
    WorkItem.objects.filter(sandbox=sandbox).update(dirty=False)
    before = status_of(sandbox, "web")

    request = faults.container_kill(sandbox=sandbox, namespace="default", pod="web", container="web")

    assert (request.node, request.pod, request.container) == ("node-1", "web", "web")
    assert request.container_id == before["containerID"]
    assert [k["id"] for k in kills(sandbox)] == [request.id]
    assert kubelet_due(sandbox, "node-1")
    assert not kubelet_due(sandbox, "node-2")
    assert status_of(sandbox, "web") == before  # nothing happened yet: the kubelet does it
    again = faults.container_kill(sandbox=sandbox, namespace="default", pod="web", container=None)  # the first
    assert (again.id, again.container) == (request.id, "web")  # asked twice before it happened: one kill
    assert len(kills(sandbox)) == 1


def test_the_kubelet_kills_at_its_next_run_and_restarts_the_container_as_after_a_crash(sandbox, clock):
    create(sandbox, PODS, pod_body())
    settle(sandbox, clock)
    first = status_of(sandbox, "web")
    faults.container_kill(sandbox=sandbox, namespace="default", pod="web", container="web")
    after = newest_version()

    clock.now += timedelta(seconds=2)
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)

    status = status_of(sandbox, "web")
    assert status["restartCount"] == 1
    assert "running" in status["state"]
    assert status["containerID"] != first["containerID"]
    terminated = status["lastState"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "Error")
    assert terminated["containerID"] == first["containerID"]
    assert ready(get(sandbox, "web"))
    # Upstream's Events for a container that died on its own: no Killing (the kubelet killed
    # nothing), the start of the next run.
    assert sorted(events_for(sandbox, "web", after=after)) == ["Created", "Pulled", "Started"]
    assert kills(sandbox) == []
    assert Change.objects.filter(sandbox=sandbox, kind="Pod", resource_version__gt=after).get().actor == (
        "kubelet/node-1"
    )


@pytest.mark.parametrize(("policy", "restarted"), [("Always", True), ("OnFailure", True), ("Never", False)])
def test_a_killed_container_restarts_by_the_pods_restart_policy(sandbox, clock, policy, restarted):
    create(sandbox, PODS, pod_body(restart_policy=policy))
    settle(sandbox, clock)
    faults.container_kill(sandbox=sandbox, namespace="default", pod="web", container="web")
    settle(sandbox, clock, seconds=1)
    status = status_of(sandbox, "web")
    pod = get(sandbox, "web")
    if restarted:
        assert (status["restartCount"], "running" in status["state"]) == (1, True)
        assert status["lastState"]["terminated"]["exitCode"] == 137
        assert pod["status"]["phase"] == "Running"
    else:
        assert status["restartCount"] == 0
        assert status["state"]["terminated"]["exitCode"] == 137
        assert pod["status"]["phase"] == "Failed"


def test_a_kill_of_a_run_that_ended_meanwhile_is_dropped(sandbox, clock):
    create(sandbox, PODS, pod_body(image="busybox:1.36", command=["sh", "-c", "sleep 5; exit 3"]))
    settle(sandbox, clock)
    faults.container_kill(sandbox=sandbox, namespace="default", pod="web", container="web")
    clock.now += timedelta(seconds=6)  # run 0 exits by itself before the kubelet gets to the kill
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    status = status_of(sandbox, "web")
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 3
    assert "running" in status["state"]  # the new run was not killed in its place
    assert kills(sandbox) == []


def test_killing_is_refused_with_what_is_wrong(sandbox, clock):
    create(sandbox, PODS, pod_body("unbound", node=None))
    create(sandbox, PODS, pod_body("typo", image="nginxx:1.27"))
    create(sandbox, PODS, pod_body())
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)

    def refused(pod: str, container: str = "web") -> faults.FaultError:
        with pytest.raises(faults.FaultError) as caught:
            faults.container_kill(sandbox=sandbox, namespace="default", pod=pod, container=container)
        return caught.value

    missing = refused("nobody")
    assert isinstance(missing, faults.ObjectNotFound)
    assert str(missing) == 'pod "nobody" in namespace "default" not found'
    unbound = refused("unbound")
    assert isinstance(unbound, faults.PodNotScheduled)
    assert 'pod "default/unbound" is not bound to a node yet' in unbound.message
    wrong = refused("web", "sidecar")
    assert isinstance(wrong, faults.ContainerNotFound)
    assert wrong.message == 'pod "default/web" has no container "sidecar"; its containers are: web'
    waiting = refused("typo")
    assert isinstance(waiting, faults.ContainerNotRunning)
    assert waiting.message.startswith(
        'container "web" of pod "default/typo" is not running (it is waiting: ErrImagePull)'
    )
    assert NodeRuntimeState.objects.get(sandbox=sandbox, node="node-1").container_kills == []


# ---------------------------------------------------------------------------------------------
# Stop and start a kubelet
# ---------------------------------------------------------------------------------------------


def test_a_stopped_kubelet_renews_no_lease_and_its_runs_do_nothing(sandbox, clock):
    create(sandbox, PODS, pod_body(image="busybox:1.36", command=["sh", "-c", "sleep 5"]))
    settle(sandbox, clock)
    faults.kubelet_stop(sandbox=sandbox, node="node-1")
    faults.kubelet_stop(sandbox=sandbox, node="node-1")  # stopping a stopped kubelet changes nothing
    assert faults.kubelets_stopped(sandbox=sandbox) == {"node-1"}
    renewed_at = NodeRuntimeState.objects.get(sandbox=sandbox, node="node-1").lease_renewed_at
    before = newest_version()

    clock.now += timedelta(seconds=10)
    assert kubelet.node_leases_renew("node-1", now=clock.now) == 0
    assert kubelet.node_leases_renew("node-2", now=clock.now) == 1
    assert kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now) is None

    assert NodeRuntimeState.objects.get(sandbox=sandbox, node="node-1").lease_renewed_at == renewed_at
    assert newest_version() == before  # its container exited meanwhile: nobody reported it
    assert "running" in status_of(sandbox, "web")["state"]


@override_settings(**SHORT_TIMINGS)
def test_a_stopped_kubelets_node_goes_not_ready_its_pods_are_replaced_and_it_comes_back(sandbox, clock):
    create(sandbox, DEPLOYMENTS, deployment(replicas=4))
    settle(sandbox, clock)
    on_node_2 = {p["metadata"]["name"] for p in pods_of(sandbox) if p["spec"]["nodeName"] == "node-2"}
    assert on_node_2, "the scheduler spreads the replicas over both nodes"
    runs_on_node_2 = len(simulated_runs(sandbox, "node-2"))

    faults.kubelet_stop(sandbox=sandbox, node="node-2")
    for _ in range(4):  # 4 s: node-1's kubelet renews its lease every second, node-2's does not
        clock.now += timedelta(seconds=1)
        kubelet.node_leases_renew("node-1", now=clock.now)
        kubelet.node_leases_renew("node-2", now=clock.now)
    settle(sandbox, clock, seconds=0.5)
    assert (node_ready(sandbox, "node-1"), node_ready(sandbox, "node-2")) == ("True", "Unknown")
    assert {p["metadata"]["name"] for p in pods_of(sandbox)} >= on_node_2  # not evicted yet

    for _ in range(4):
        clock.now += timedelta(seconds=1)
        kubelet.node_leases_renew("node-1", now=clock.now)
    settle(sandbox, clock)
    current = pods_of(sandbox)
    assert len(current) == 4
    assert all(ready(p) and p["spec"]["nodeName"] == "node-1" for p in current)
    assert not {p["metadata"]["name"] for p in current} & on_node_2
    assert len(simulated_runs(sandbox, "node-2")) == runs_on_node_2  # its containers still "run"

    WorkItem.objects.filter(sandbox=sandbox).update(dirty=False)
    faults.kubelet_start(sandbox=sandbox, node="node-2")
    assert faults.kubelets_stopped(sandbox=sandbox) == set()
    assert kubelet_due(sandbox, "node-2")
    settle(sandbox, clock, seconds=1)
    assert node_ready(sandbox, "node-2") == "True"
    assert NodeRuntimeState.objects.get(sandbox=sandbox, node="node-2").lease_renewed_at == clock.now
    assert simulated_runs(sandbox, "node-2") == []  # what it ran for the evicted pods is cleaned up
    taints = get(sandbox, "node-2", NODES)["spec"].get("taints", [])
    assert not [t for t in taints if t["key"] == "node.kubernetes.io/unreachable"]


def test_lease_renewals_go_to_the_queues_of_nodes_only(sandbox, clock, monkeypatch):
    settle(sandbox, clock)
    NodeRuntimeState.objects.create(sandbox=sandbox, node="volume:claim-uid")  # a simulated volume's files
    faults.kubelet_stop(sandbox=sandbox, node="node-2")
    sent = []
    monkeypatch.setattr(tasks.renew_node_lease, "apply_async", lambda args, **options: sent.append(options["queue"]))
    tasks.renew_node_leases()
    # node-2's message still goes: its lease in other sandboxes is renewed, in this one it is not.
    assert sent == ["kubelet.node-1", "kubelet.node-2"]


def test_a_kill_on_a_stopped_kubelets_node_happens_but_nothing_restarts_it_until_it_starts(sandbox, clock):
    create(sandbox, PODS, pod_body())
    settle(sandbox, clock)
    faults.kubelet_stop(sandbox=sandbox, node="node-1")
    faults.container_kill(sandbox=sandbox, namespace="default", pod="web", container="web")
    before = newest_version()
    settle(sandbox, clock, seconds=1)
    [run] = simulated_runs(sandbox, "node-1")
    assert (run["state"], run["exit_code"]) == ("exited", 137)
    assert kills(sandbox) == []
    assert newest_version() == before  # the API still says what the kubelet last reported
    assert status_of(sandbox, "web")["restartCount"] == 0

    faults.kubelet_start(sandbox=sandbox, node="node-1")
    settle(sandbox, clock, seconds=1)
    status = status_of(sandbox, "web")
    assert (status["restartCount"], status["lastState"]["terminated"]["exitCode"]) == (1, 137)
    assert "running" in status["state"]


def test_an_unknown_node_is_refused(sandbox):
    with pytest.raises(
        faults.ObjectNotFound, match=r'node "node-3" not found; the sandbox\'s nodes are: node-1, node-2'
    ):
        faults.kubelet_stop(sandbox=sandbox, node="node-3")
    with pytest.raises(faults.ObjectNotFound):
        faults.kubelet_start(sandbox=sandbox, node="node-3")
    assert faults.kubelets_stopped(sandbox=sandbox) == set()


# ---------------------------------------------------------------------------------------------
# Break an image
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "broken"),
    [
        ("nginx", "nginx-typo"),
        ("nginx:1.27", "nginx-typo:1.27"),
        ("docker.io/library/nginx:1.27", "docker.io/library/nginx-typo:1.27"),
        ("localhost:5000/team/app:v2", "localhost:5000/team/app-typo:v2"),
        ("busybox@sha256:" + "a" * 64, "busybox-typo@sha256:" + "a" * 64),
    ],
)
def test_a_broken_image_keeps_its_tag_and_misspells_its_name(image, broken):
    assert faults.image_broken(image) == broken


@pytest.mark.parametrize("repository", [*catalog.IMAGES, *images.STAND_INS])
def test_no_catalog_entry_or_teaching_image_stands_in_for_a_broken_name(repository):
    broken = faults.image_broken(f"{repository}:1.0")
    assert catalog.image_entry(broken) is None
    assert images.stand_in_for(broken) is None


def test_a_broken_deployment_stalls_its_rollout_with_the_old_pods_serving(sandbox, clock):
    create(sandbox, DEPLOYMENTS, deployment(replicas=3))
    settle(sandbox, clock)
    old = {p["metadata"]["name"] for p in pods_of(sandbox)}
    assert len(old) == 3

    change = faults.image_break(sandbox=sandbox, namespace="default", kind="Deployment", name="web")

    assert change == faults.ImageChange("Deployment", "default", "web", "web", "nginx:1.27", "nginx-typo:1.27")
    assert str(change) == 'container "web" of Deployment "default/web": image "nginx:1.27" → "nginx-typo:1.27"'
    template = get(sandbox, "web", DEPLOYMENTS)["spec"]["template"]["spec"]["containers"][0]
    assert template["image"] == "nginx-typo:1.27"
    written = Change.objects.filter(sandbox=sandbox, kind="Deployment").order_by("-resource_version").first()
    assert written.actor == "page: break image"
    assert written.body["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx-typo:1.27"
    settle(sandbox, clock)
    new = [p for p in pods_of(sandbox) if p["metadata"]["name"] not in old]
    assert len(new) == 1  # maxSurge 25 %: one new pod, which cannot start
    assert waiting_reason(new[0]) == "ErrImagePull"
    assert (
        "pull access denied for nginx-typo" in new[0]["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
    )
    settle(sandbox, clock, seconds=0.6)  # past half the first back-off
    assert waiting_reason(next(p for p in pods_of(sandbox) if p["metadata"]["name"] == new[0]["metadata"]["name"])) == (
        "ImagePullBackOff"
    )
    serving = [p for p in pods_of(sandbox) if p["metadata"]["name"] in old]
    assert len(serving) == 3
    assert all(ready(p) for p in serving)


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet", "ReplicaSet"])
def test_a_workloads_template_gets_the_broken_image_through_the_store(sandbox, kind):
    body = deployment()
    body["kind"] = kind
    if kind == "StatefulSet":
        body["spec"]["serviceName"] = "web"
    if kind == "DaemonSet":
        del body["spec"]["replicas"]
    body["spec"]["template"]["spec"]["containers"].insert(0, {"name": "init-ish", "image": "busybox:1.36"})
    resource = resource_for_kind("apps/v1", kind)
    created = create(sandbox, resource, body)

    change = faults.image_break(sandbox=sandbox, namespace="default", kind=kind, name="web", container="web")

    assert (change.container, change.old_image, change.new_image) == ("web", "nginx:1.27", "nginx-typo:1.27")
    stored = get(sandbox, "web", resource)
    images_now = [c["image"] for c in stored["spec"]["template"]["spec"]["containers"]]
    assert images_now == ["busybox:1.36", "nginx-typo:1.27"]
    assert int(stored["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert stored["metadata"]["generation"] == created["metadata"]["generation"] + 1


def test_a_broken_pod_image_is_what_its_container_fails_to_pull_at_its_next_start(sandbox, clock):
    create(sandbox, PODS, pod_body())
    settle(sandbox, clock)
    change = faults.image_break(sandbox=sandbox, namespace="default", kind="Pod", name="web")
    assert (change.old_image, change.new_image) == ("nginx:1.27", "nginx-typo:1.27")
    assert get(sandbox, "web")["spec"]["containers"][0]["image"] == "nginx-typo:1.27"
    faults.container_kill(sandbox=sandbox, namespace="default", pod="web", container="web")
    settle(sandbox, clock, seconds=1)
    status = status_of(sandbox, "web")
    assert status["state"]["waiting"]["reason"] in ("ErrImagePull", "ImagePullBackOff")
    assert status["lastState"]["terminated"]["exitCode"] == 137


def test_a_broken_job_is_created_again_as_its_template_cannot_change(sandbox, clock):
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "task"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "60"]}],
                }
            }
        },
    }
    old_uid = create(sandbox, JOBS, job)["metadata"]["uid"]
    settle(sandbox, clock)
    [old_pod] = store.object_list(sandbox=sandbox, resource=PODS, namespace="default").items

    change = faults.image_break(sandbox=sandbox, namespace="default", kind="Job", name="task")

    assert change.recreated
    assert (change.old_image, change.new_image) == ("busybox:1.36", "busybox-typo:1.36")
    stored = get(sandbox, "task", JOBS)
    assert stored["metadata"]["uid"] != old_uid
    assert stored["spec"]["selector"]["matchLabels"] == {
        "batch.kubernetes.io/controller-uid": stored["metadata"]["uid"]
    }
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox-typo:1.36"
    actors = Change.objects.filter(sandbox=sandbox, kind="Job", resource_version__gt=0).values_list("type", "actor")
    assert list(actors)[-2:] == [(Change.DELETED, "page: break image"), (Change.ADDED, "page: break image")]
    settle(sandbox, clock, seconds=1)
    [new_pod] = store.object_list(sandbox=sandbox, resource=PODS, namespace="default").items
    assert new_pod["metadata"]["uid"] != old_pod["metadata"]["uid"]
    assert waiting_reason(new_pod) in ("ErrImagePull", "ImagePullBackOff")


def test_breaking_an_image_is_refused_with_what_is_wrong(sandbox):
    create(sandbox, DEPLOYMENTS, deployment())
    with pytest.raises(faults.KindNotSupported, match="a Service has no pod template"):
        faults.image_break(sandbox=sandbox, namespace="default", kind="Service", name="web")
    with pytest.raises(faults.ObjectNotFound, match='Deployment "api" in namespace "default" not found'):
        faults.image_break(sandbox=sandbox, namespace="default", kind="Deployment", name="api")
    with pytest.raises(faults.ContainerNotFound, match='has no container "db"; its containers are: web'):
        faults.image_break(sandbox=sandbox, namespace="default", kind="Deployment", name="web", container="db")
    faults.image_break(sandbox=sandbox, namespace="default", kind="Deployment", name="web")
    with pytest.raises(faults.ImageAlreadyBroken, match=r'is broken already: "nginx-typo:1\.27"'):
        faults.image_break(sandbox=sandbox, namespace="default", kind="Deployment", name="web")
