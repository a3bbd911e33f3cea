"""Idle sandboxes on the simulated runtime, with a test clock for idleness: use is recorded at
most once a minute, a sandbox unused for the limit is paused (its kubelets stop every container,
its objects stay, its queue goes quiet), and the next use brings it back as after a node reboot —
while its page says so, in English and Korean, and the instructor's grid says "paused"."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from clusters import idle, store, tasks, workqueue
from clusters.models import NodeRuntimeState, SandboxActivity, StoredObject, WorkItem
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create
from tutor.classrooms import services as classrooms

pytestmark = pytest.mark.django_db

PODS = resource_for_kind("v1", "Pod")
DEPLOYMENTS = resource_for_kind("apps/v1", "Deployment")
CONFIGMAPS = resource_for_kind("v1", "ConfigMap")
HOUR = timedelta(minutes=60)


@pytest.fixture(autouse=True)
def limit(settings):
    settings.IDLE_STOP_MINUTES = 60


@pytest.fixture
def ada():
    return User.objects.create_user("ada", password="ada-pass-1")


@pytest.fixture
def sandbox(ada):
    return sandbox_create(owner=ada, runtime="simulated", fast_backoff=True)


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    """The wake-up messages the work queue sends, instead of a broker."""
    messages = []
    monkeypatch.setattr(workqueue, "_send", lambda sandbox_id, key, at=None: messages.append((sandbox_id, key)))
    return messages


def settle(sandbox, rounds: int = 8) -> None:
    """Run every key of the sandbox that is due, as the workers would, until it has settled."""
    for _ in range(rounds):
        for key in workqueue.keys_for_sandbox(sandbox):
            tasks.run_work(sandbox.pk, key)


def pods(sandbox) -> list[dict]:
    return store.object_list(sandbox=sandbox, resource=PODS, namespace="default").items


def running(pod: dict) -> bool:
    statuses = pod.get("status", {}).get("containerStatuses", [])
    return bool(statuses) and all("running" in s["state"] for s in statuses)


def simulated_runs(sandbox) -> int:
    rows = NodeRuntimeState.objects.filter(sandbox=sandbox, node__startswith="node-")
    return sum(len((state or {}).get("runs", {})) for state in rows.values_list("runtime", flat=True))


def with_work(sandbox) -> None:
    store.object_create(
        sandbox=sandbox,
        resource=CONFIGMAPS,
        namespace="default",
        body={"metadata": {"name": "settings"}, "data": {"colour": "blue"}},
    )
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }
    store.object_create(sandbox=sandbox, resource=DEPLOYMENTS, namespace="default", body=deployment)
    settle(sandbox)


def test_idleness_is_decided_by_the_limit():
    now = timezone.now()
    assert idle.is_idle(last_active_at=now - HOUR, now=now, limit=HOUR)
    assert not idle.is_idle(last_active_at=now - HOUR + timedelta(seconds=1), now=now, limit=HOUR)
    assert not idle.is_idle(last_active_at=now - 100 * HOUR, now=now, limit=None)  # 0: never
    assert idle.touch_interval(HOUR) == timedelta(seconds=60)
    assert idle.touch_interval(timedelta(seconds=20)) == timedelta(seconds=10)


def test_use_is_written_at_most_once_a_minute(sandbox):
    start = timezone.now()
    idle.sandbox_seen(sandbox=sandbox, now=start)
    idle.sandbox_seen(sandbox=sandbox, now=start + timedelta(seconds=59))
    assert SandboxActivity.objects.get(sandbox=sandbox).last_active_at == start
    idle.sandbox_seen(sandbox=sandbox, now=start + timedelta(seconds=61))
    assert SandboxActivity.objects.get(sandbox=sandbox).last_active_at == start + timedelta(seconds=61)


def test_only_a_sandbox_unused_for_the_limit_is_paused(sandbox, ada):
    other = sandbox_create(owner=ada, name="other", runtime="simulated")
    start = timezone.now()
    idle.sandbox_seen(sandbox=sandbox, now=start)
    idle.sandbox_seen(sandbox=other, now=start + timedelta(minutes=30))
    assert idle.sandboxes_idle_pause(now=start + timedelta(minutes=59)) == []
    assert idle.sandboxes_idle_pause(now=start + timedelta(minutes=61)) == [sandbox.pk]
    assert idle.sandbox_paused(sandbox)
    assert not idle.sandbox_paused(other)
    assert SandboxActivity.objects.get(sandbox=sandbox).idle_minutes == 61
    # Pausing again changes nothing; 0 pauses nothing.
    assert idle.sandboxes_idle_pause(now=start + timedelta(minutes=120)) == [other.pk]
    assert idle.sandboxes_idle_pause(now=start + timedelta(days=9), limit=None) == []


def test_a_paused_sandbox_stops_its_containers_keeps_its_objects_and_comes_back(sandbox, ada, sent):
    with_work(sandbox)
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods(sandbox)}
    assert len(before) == 2
    assert all(running(p) for p in pods(sandbox))
    assert simulated_runs(sandbox) == 2
    objects = StoredObject.objects.filter(sandbox=sandbox).exclude(kind="Event").count()

    last_use = timezone.now()
    SandboxActivity.objects.update_or_create(sandbox=sandbox, defaults={"last_active_at": last_use})
    assert idle.sandboxes_idle_pause(now=last_use + timedelta(minutes=61)) == [sandbox.pk]
    settle(sandbox, rounds=2)
    assert simulated_runs(sandbox) == 0  # the modelled processes have stopped
    assert StoredObject.objects.filter(sandbox=sandbox).exclude(kind="Event").count() == objects
    assert all(running(p) for p in pods(sandbox))  # the stored pods are left as they were
    # Quiet: nothing is due or asks to be woken, and the periodic resync leaves it out.
    assert not WorkItem.objects.filter(sandbox=sandbox, dirty=True).exists()
    assert not WorkItem.objects.filter(sandbox=sandbox, wake_at__isnull=False).exists()
    assert workqueue.resync_all() == 0
    assert idle.sandbox_idle_state(sandbox).state == "paused"

    # The learner comes back to the sandbox page: it answers at once and says what happens.
    client = Client()
    client.force_login(ada)
    page = client.get(f"/sandboxes/{sandbox.name}/")
    assert page.status_code == 200
    text = " ".join(page.content.decode().split())
    assert "This sandbox was paused after 61 minutes without use and is starting again" in text
    assert not idle.sandbox_paused(sandbox)
    assert idle.sandbox_idle_state(sandbox).state == "restoring"

    settle(sandbox)
    after = pods(sandbox)
    assert {p["metadata"]["name"]: p["metadata"]["uid"] for p in after} == before  # the same pods
    assert all(running(p) for p in after)
    statuses = [s for p in after for s in p["status"]["containerStatuses"]]
    assert [s["restartCount"] for s in statuses] == [1, 1]  # as after a node reboot, in upstream's words
    assert {s["lastState"]["terminated"]["reason"] for s in statuses} == {"ContainerStatusUnknown"}
    assert store.object_get(sandbox=sandbox, resource=CONFIGMAPS, namespace="default", name="settings")["data"] == {
        "colour": "blue"
    }
    reasons = {
        (e["involvedObject"]["kind"], e["reason"])
        for e in store.object_list(
            sandbox=sandbox, resource=resource_for_kind("v1", "Event"), namespace="default"
        ).items
    }
    assert {("Pod", "Killing"), ("Pod", "SandboxChanged"), ("Pod", "Started")} <= reasons
    assert idle.sandbox_idle_state(sandbox) is None
    assert "paused after" not in client.get(f"/sandboxes/{sandbox.name}/").content.decode()


def test_the_page_says_it_in_korean(sandbox, ada):
    SandboxActivity.objects.create(sandbox=sandbox, last_active_at=timezone.now() - 2 * HOUR)
    idle.sandboxes_idle_pause(now=timezone.now())
    settle(sandbox, rounds=1)
    client = Client(headers={"accept-language": "ko"})
    client.force_login(ada)
    text = " ".join(client.get(f"/sandboxes/{sandbox.name}/").content.decode().split())
    assert "이 샌드박스는 120분 동안 사용되지 않아 일시 중지되었고, 지금 다시 시작하는 중입니다." in text


def test_the_instructor_sees_a_paused_learner_as_paused_without_waking_the_sandbox(ada):
    teacher = User.objects.create_user("teacher", password="teacher-pass-1")
    classrooms.make_instructor(teacher)
    classroom = classrooms.classroom_create(instructor=teacher, name="Kubernetes 101", max_pods=3)
    enrollment = classrooms.classroom_join(learner=ada, code=classroom.join_code)
    SandboxActivity.objects.create(sandbox=enrollment.sandbox, last_active_at=timezone.now() - 2 * HOUR)
    assert idle.sandboxes_idle_pause(now=timezone.now()) == [enrollment.sandbox.pk]
    client = Client()
    client.force_login(teacher)
    grid = client.get(f"/classrooms/{classroom.pk}/").content.decode()
    assert '<span class="badge warn" title="Paused for being idle' in grid
    assert ">paused</span>" in grid
    learner = " ".join(client.get(f"/classrooms/{classroom.pk}/learners/{ada.pk}/").content.decode().split())
    assert "This sandbox was paused after 120 minutes without use: its containers are stopped" in learner
    assert idle.sandbox_paused(enrollment.sandbox)  # looking is not using


def test_a_stream_waits_for_a_returning_sandbox_to_start_its_containers(sandbox):
    with_work(sandbox)
    SandboxActivity.objects.create(sandbox=sandbox, last_active_at=timezone.now() - 2 * HOUR)
    idle.sandboxes_idle_pause(now=timezone.now())
    settle(sandbox, rounds=1)
    assert idle.sandbox_seen(sandbox=sandbox)  # back: its kubelets have work to do
    waited = []

    def sleep(seconds: float) -> None:  # while the stream waits, the workers run the kubelets
        waited.append(seconds)
        settle(sandbox, rounds=2)

    assert idle.restore_wait(sandbox=sandbox, timeout=60, sleep=sleep)
    assert waited
    assert all(running(p) for p in pods(sandbox))
    assert idle.restore_wait(sandbox=sandbox, timeout=0) is True  # running: no wait
    # One that does not come back in time: the stream goes on after the timeout, and says what it finds.
    SandboxActivity.objects.filter(sandbox=sandbox).update(paused_at=timezone.now())
    assert (
        idle.restore_wait(sandbox=sandbox, timeout=1, sleep=lambda s: None, clock=iter([0, 0.5, 2]).__next__) is False
    )


def test_an_empty_dir_keeps_what_it_holds_through_a_pause_on_the_simulated_runtime(sandbox):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "counter"},
        "spec": {
            "nodeName": "node-1",
            "volumes": [{"name": "cache", "emptyDir": {}}],
            "containers": [
                {
                    "name": "main",
                    "image": "busybox:1.36",
                    "command": ["sh", "-c", "echo run >> /cache/runs; sleep 3600"],
                    "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
                }
            ],
        },
    }
    uid = store.object_create(sandbox=sandbox, resource=PODS, namespace="default", body=pod)["metadata"]["uid"]
    settle(sandbox, rounds=2)

    def cache() -> dict:
        state = NodeRuntimeState.objects.get(sandbox=sandbox, node="node-1").runtime
        return state["pods"][uid]["volumes"]["cache"]["files"]

    assert list(cache().values()) == ["run\n"]
    SandboxActivity.objects.create(sandbox=sandbox, last_active_at=timezone.now() - 2 * HOUR)
    idle.sandboxes_idle_pause(now=timezone.now())
    settle(sandbox, rounds=1)
    assert simulated_runs(sandbox) == 0
    idle.sandbox_seen(sandbox=sandbox)
    settle(sandbox, rounds=2)
    assert running(store.object_get(sandbox=sandbox, resource=PODS, namespace="default", name="counter"))
    assert list(cache().values()) == ["run\nrun\n"]  # the second run found the first one's line
