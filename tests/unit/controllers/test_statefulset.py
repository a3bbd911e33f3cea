from datetime import UTC, datetime

from clusters.controllers import statefulset
from clusters.controllers.actions import Create, Delete, Event, Patch, ref
from clusters.controllers.state import ClusterState
from tests.unit.controllers import world
from tests.unit.controllers.world import stamp

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOURCE = "statefulset-controller"


def make_stateful_set(replicas: int = 3, **spec) -> dict:
    body = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "uid-web",
            "resourceVersion": "1",
            "generation": 1,
            "creationTimestamp": stamp(NOW),
        },
        "spec": {
            "replicas": replicas,
            "serviceName": "nginx",
            "selector": {"matchLabels": {"app": "nginx"}},
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "revisionHistoryLimit": 10,
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.27",
                            "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}],
                        }
                    ],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 10,
                },
            },
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "www"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                        "volumeMode": "Filesystem",
                    },
                    "status": {"phase": "Pending"},
                }
            ],
        },
    }
    body["spec"].update(spec)
    return body


class World(world.World):
    """The shared world, playing the scheduler and kubelet when asked."""

    def __init__(self, *objects: dict, now: datetime = NOW):
        super().__init__(*objects, now=now)

    def pod(self, name: str) -> dict:
        return self.get("Pod", name)

    def stateful_set(self) -> dict:
        return self.get("StatefulSet", "web")

    def kubelet(self) -> None:
        """Schedule and run every pending pod to Running and Ready; finish graceful deletions."""
        for obj in list(self.objects.values()):
            if obj["kind"] != "Pod":
                continue
            if obj["metadata"].get("deletionTimestamp"):
                self.kubelet_done(obj)
            elif obj["status"]["phase"] == "Pending":
                obj["spec"]["nodeName"] = "node-1"
                obj["status"] = {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": stamp(self.now)}],
                }

    def plan(self) -> list:
        return statefulset.plan(self.state(), now=self.now)

    def step(self) -> list:
        """One controller pass, applied."""
        actions = self.plan()
        self.apply(actions)
        return actions

    def settle(self, *, kubelet: bool = True, limit: int = 40) -> list:
        done = []
        for _ in range(limit):
            actions = self.step()
            if not actions:
                if kubelet and self.pending():
                    self.kubelet()
                    continue
                return done
            done += actions
            if kubelet:
                self.kubelet()
        raise AssertionError(f"no convergence: still planning {actions}")

    def pending(self) -> bool:
        return any(
            o["kind"] == "Pod" and (o["status"]["phase"] == "Pending" or o["metadata"].get("deletionTimestamp"))
            for o in self.objects.values()
        )


def created_pods(actions: list) -> list[str]:
    return [a.body["metadata"]["name"] for a in actions if isinstance(a, Create) and a.body["kind"] == "Pod"]


def deleted_pods(actions: list) -> list[str]:
    return [a.name for a in actions if isinstance(a, Delete)]


# --- creating in order -----------------------------------------------------------------------


def test_the_first_pass_creates_web_0_and_its_claim():
    sts = make_stateful_set()
    revision = statefulset.update_revision(sts)
    actions = statefulset.plan(ClusterState.of([sts]), now=NOW)
    assert actions == [
        Create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "www-web-0", "namespace": "default", "labels": {"app": "nginx"}},
                "spec": sts["spec"]["volumeClaimTemplates"][0]["spec"],
            }
        ),
        Event(
            ref(sts), "SuccessfulCreate", "create Claim www-web-0 Pod web-0 in StatefulSet web success", source=SOURCE
        ),
        Create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "generateName": "web-",
                    "name": "web-0",
                    "namespace": "default",
                    "labels": {
                        "app": "nginx",
                        "statefulset.kubernetes.io/pod-name": "web-0",
                        "apps.kubernetes.io/pod-index": "0",
                        "controller-revision-hash": revision,
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "StatefulSet",
                            "name": "web",
                            "uid": "uid-web",
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": {
                    **sts["spec"]["template"]["spec"],
                    "volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": "www-web-0"}}],
                    "hostname": "web-0",
                    "subdomain": "nginx",
                },
            }
        ),
        Event(ref(sts), "SuccessfulCreate", "create Pod web-0 in StatefulSet web successful", source=SOURCE),
        Patch(
            "apps/v1",
            "StatefulSet",
            "default",
            "web",
            {
                "status": {
                    "observedGeneration": 1,
                    "replicas": 0,
                    "currentRevision": revision,
                    "updateRevision": revision,
                    "collisionCount": 0,
                    "availableReplicas": 0,
                }
            },
            subresource="status",
            resource_version="1",
        ),
    ]
    assert revision.startswith("web-")


def test_it_creates_web_0_1_2_strictly_in_order_each_with_its_own_claim():
    world = World(make_stateful_set())
    world.step()
    assert world.names("Pod") == ["web-0"]
    assert created_pods(world.step()) == []  # the status catches up; web-0 is not Running and Ready
    assert world.plan() == []
    world.kubelet()
    world.step()
    assert world.names("Pod") == ["web-0", "web-1"]
    world.step()
    assert world.names("Pod") == ["web-0", "web-1"]  # waits for web-1
    world.pod("web-1")["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}
    assert created_pods(world.step()) == []  # Running but not Ready still blocks
    world.pod("web-1")["status"]["conditions"][0]["status"] = "True"
    world.settle()
    assert world.names("Pod") == ["web-0", "web-1", "web-2"]
    assert world.names("PersistentVolumeClaim") == ["www-web-0", "www-web-1", "www-web-2"]
    assert [e.message for e in world.events] == [
        "create Claim www-web-0 Pod web-0 in StatefulSet web success",
        "create Pod web-0 in StatefulSet web successful",
        "create Claim www-web-1 Pod web-1 in StatefulSet web success",
        "create Pod web-1 in StatefulSet web successful",
        "create Claim www-web-2 Pod web-2 in StatefulSet web success",
        "create Pod web-2 in StatefulSet web successful",
    ]
    assert world.pod("web-2")["spec"]["volumes"] == [
        {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-2"}}
    ]
    status = world.stateful_set()["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"]) == (3, 3, 3)
    assert (status["currentReplicas"], status["updatedReplicas"]) == (3, 3)
    assert world.plan() == []


def test_it_scales_down_from_the_highest_ordinal_one_at_a_time_and_keeps_the_claims():
    world = World(make_stateful_set())
    world.settle()
    world.stateful_set()["spec"]["replicas"] = 1
    assert deleted_pods(world.step()) == ["web-2"]
    assert world.pod("web-2")["metadata"].get("deletionTimestamp")
    # web-1 goes only after web-2 is gone.
    assert deleted_pods(world.step()) == []
    world.kubelet()
    assert deleted_pods(world.step()) == ["web-1"]
    world.settle()
    assert world.names("Pod") == ["web-0"]
    assert world.names("PersistentVolumeClaim") == ["www-web-0", "www-web-1", "www-web-2"]
    assert [e.message for e in world.events if e.reason == "SuccessfulDelete"] == [
        "delete Pod web-2 in StatefulSet web successful",
        "delete Pod web-1 in StatefulSet web successful",
    ]
    # Scaling up again reuses the claims.
    world.stateful_set()["spec"]["replicas"] = 3
    actions = world.settle()
    assert not [a for a in actions if isinstance(a, Create) and a.body["kind"] == "PersistentVolumeClaim"]
    assert world.names("Pod") == ["web-0", "web-1", "web-2"]


def test_a_deleted_pod_comes_back_with_the_same_name_and_claim():
    world = World(make_stateful_set())
    world.settle()
    old_uid = world.pod("web-1")["metadata"]["uid"]
    world.apply([Delete("v1", "Pod", "default", "web-1")])  # kubectl delete pod web-1
    world.kubelet()
    actions = world.settle()
    assert created_pods(actions) == ["web-1"]
    assert not [a for a in actions if isinstance(a, Create) and a.body["kind"] == "PersistentVolumeClaim"]
    assert world.pod("web-1")["metadata"]["uid"] != old_uid
    assert world.pod("web-1")["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "www-web-1"


def test_a_failed_pod_is_deleted_and_made_again_under_its_name():
    world = World(make_stateful_set())
    world.settle()
    pod = world.pod("web-1")
    pod["status"] = {"phase": "Failed"}
    actions = world.plan()
    assert actions[:3] == [
        Event(
            ref(world.stateful_set()),
            "RecreatingFailedPod",
            "StatefulSet default/web is recreating failed Pod web-1",
            "Warning",
            SOURCE,
        ),
        Delete("v1", "Pod", "default", "web-1", uid=pod["metadata"]["uid"], grace_period=0),
        Event(
            ref(world.stateful_set()),
            "SuccessfulDelete",
            "delete Pod web-1 in StatefulSet web successful",
            source=SOURCE,
        ),
    ]
    assert created_pods(actions) == ["web-1"]
    world.apply(actions)
    assert world.pod("web-1")["status"]["phase"] == "Pending"


def test_parallel_creates_and_deletes_all_at_once():
    world = World(make_stateful_set(podManagementPolicy="Parallel"))
    assert created_pods(world.step()) == ["web-0", "web-1", "web-2"]
    world.settle()
    world.stateful_set()["spec"]["replicas"] = 0
    assert deleted_pods(world.step()) == ["web-2", "web-1", "web-0"]


# --- updates ---------------------------------------------------------------------------------


def change_image(world: World, image: str) -> str:
    sts = world.stateful_set()
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = image
    sts["metadata"]["generation"] += 1
    return statefulset.update_revision(sts)


def test_a_rolling_update_replaces_pods_from_the_highest_ordinal_down():
    world = World(make_stateful_set())
    world.settle()
    old = statefulset.update_revision(world.stateful_set())
    new = change_image(world, "nginx:1.28")
    order = []
    for _ in range(20):
        actions = world.step()
        order += deleted_pods(actions)
        if not actions and not world.pending():
            break
        world.kubelet()
    assert order == ["web-2", "web-1", "web-0"]
    revisions = {name: world.pod(name)["metadata"]["labels"]["controller-revision-hash"] for name in world.names("Pod")}
    assert revisions == {"web-0": new, "web-1": new, "web-2": new}
    status = world.stateful_set()["status"]
    assert (status["currentRevision"], status["updateRevision"], status["currentReplicas"]) == (new, new, 3)
    assert status["observedGeneration"] == 2
    assert old != new


def test_a_partition_keeps_the_lower_ordinals_on_the_old_revision():
    world = World(make_stateful_set())
    world.settle()
    old = statefulset.update_revision(world.stateful_set())
    world.stateful_set()["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 2
    new = change_image(world, "nginx:1.28")
    world.settle()
    revisions = [world.pod(n)["metadata"]["labels"]["controller-revision-hash"] for n in world.names("Pod")]
    assert revisions == [old, old, new]
    status = world.stateful_set()["status"]
    assert (status["currentRevision"], status["updateRevision"]) == (old, new)
    assert (status["currentReplicas"], status["updatedReplicas"]) == (2, 1)


def test_on_delete_leaves_pods_alone_until_they_are_deleted():
    world = World(make_stateful_set(updateStrategy={"type": "OnDelete"}))
    world.settle()
    new = change_image(world, "nginx:1.28")
    assert deleted_pods(world.settle()) == []
    world.apply([Delete("v1", "Pod", "default", "web-0")])
    world.kubelet()
    world.settle()
    assert world.pod("web-0")["metadata"]["labels"]["controller-revision-hash"] == new
    assert world.pod("web-1")["metadata"]["labels"]["controller-revision-hash"] != new


# --- claim retention -------------------------------------------------------------------------


def test_when_deleted_delete_gives_the_claims_to_the_stateful_set():
    sts = make_stateful_set(persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete", "whenScaled": "Retain"})
    [claim] = [a.body for a in statefulset.plan(ClusterState.of([sts]), now=NOW) if isinstance(a, Create)][:1]
    assert claim["metadata"]["ownerReferences"] == [
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "uid-web"}
    ]


def test_when_scaled_delete_hands_a_condemned_pods_claim_to_the_pod_before_deleting_it():
    world = World(
        make_stateful_set(persistentVolumeClaimRetentionPolicy={"whenDeleted": "Retain", "whenScaled": "Delete"})
    )
    world.settle()
    world.stateful_set()["spec"]["replicas"] = 2
    pod = world.pod("web-2")
    claim_version = world.objects[("PersistentVolumeClaim", "default", "www-web-2")]["metadata"]["resourceVersion"]
    actions = world.step()
    assert actions[0] == Patch(
        "v1",
        "PersistentVolumeClaim",
        "default",
        "www-web-2",
        {
            "metadata": {
                "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "web-2", "uid": pod["metadata"]["uid"]}]
            }
        },
        resource_version=claim_version,
    )
    assert deleted_pods(actions) == ["web-2"]


def test_a_claim_still_owned_by_the_old_pod_holds_the_new_one_back():
    sts = make_stateful_set(
        replicas=1, persistentVolumeClaimRetentionPolicy={"whenDeleted": "Retain", "whenScaled": "Delete"}
    )
    stale = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": "www-web-0",
            "namespace": "default",
            "uid": "uid-claim",
            "resourceVersion": "3",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "web-0", "uid": "uid-old-pod"}],
        },
    }
    actions = statefulset.plan(ClusterState.of([sts, stale]), now=NOW)
    assert created_pods(actions) == []
    assert [type(a) for a in actions] == [Patch]  # only the status


def test_a_settled_stateful_set_needs_nothing():
    world = World(make_stateful_set())
    world.settle()
    assert world.plan() == []


def test_a_stateful_set_being_deleted_only_updates_its_status():
    sts = make_stateful_set()
    sts["metadata"]["deletionTimestamp"] = stamp(NOW)
    actions = statefulset.plan(ClusterState.of([sts]), now=NOW)
    assert [type(a) for a in actions] == [Patch]


# --- why, in words ---------------------------------------------------------------------------


def pod_create_whys(actions: list) -> list[str]:
    return [a.why for a in actions if isinstance(a, Create) and a.body["kind"] == "Pod"]


def test_ordered_creates_say_the_pod_before_is_ready():
    world = World(make_stateful_set())
    first = world.step()
    assert pod_create_whys(first) == ["StatefulSet web wants 3 replicas: creating web-0 (pods start in order)"]
    [claim] = [a for a in first if isinstance(a, Create) and a.body["kind"] == "PersistentVolumeClaim"]
    assert claim.why == "StatefulSet web gives each pod claims of its own: creating www-web-0 for web-0"
    world.kubelet()
    world.step()
    world.kubelet()
    assert pod_create_whys(world.step()) == [
        "StatefulSet web wants 3 replicas, web-1 is Ready: creating web-2 (pods start in order)"
    ]


def test_parallel_creates_share_one_sentence_and_a_failed_pod_says_it_is_made_again():
    world = World(make_stateful_set(podManagementPolicy="Parallel"))
    assert (
        pod_create_whys(world.step())
        == ["StatefulSet web wants 3 replicas, web-0, web-1 and web-2 missing: creating them (Parallel)"] * 3
    )
    world.settle()
    world.pod("web-1")["status"] = {"phase": "Failed"}
    actions = world.plan()
    said = "StatefulSet web's pod web-1 failed: making it again under the same name"
    assert [a.why for a in actions if isinstance(a, Delete)] == pod_create_whys(actions) == [said]


def test_scaling_down_and_rolling_out_say_why_a_pod_goes():
    world = World(make_stateful_set())
    world.settle()
    world.stateful_set()["spec"]["replicas"] = 1
    [scaled] = [a for a in world.step() if isinstance(a, Delete)]
    assert scaled.why == "StatefulSet web wants 1 replica: deleting web-2 (one at a time, highest ordinal first)"
    world.settle()
    world.stateful_set()["spec"]["replicas"] = 3
    world.settle()
    change_image(world, "nginx:1.28")
    [rolled] = [a for a in world.step() if isinstance(a, Delete)]
    assert rolled.why == (
        "StatefulSet web rolls out a new pod template: replacing web-2 (highest ordinal first, 1 at a time)"
    )


def test_a_claim_handed_to_its_scaled_away_pod_says_it_goes_with_it():
    world = World(
        make_stateful_set(persistentVolumeClaimRetentionPolicy={"whenDeleted": "Retain", "whenScaled": "Delete"})
    )
    world.settle()
    world.stateful_set()["spec"]["replicas"] = 2
    assert world.step()[0].why == (
        "pod web-2 is scaled away and whenScaled is Delete: claim www-web-2 goes with it (its owners updated)"
    )
