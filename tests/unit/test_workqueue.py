import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from clusters import tasks, workqueue
from clusters.models import Sandbox, WorkItem
from tutor.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox():
    return Sandbox.objects.create(owner=User.objects.create(username="alice"), name="default")


@pytest.fixture
def sent(monkeypatch):
    """The Celery messages the queue would send (the broker itself is tested in tests/system)."""
    messages = []
    monkeypatch.setattr(workqueue, "_send", lambda sandbox_id, key, at=None: messages.append((key, at)))
    return messages


def test_retry_delay_doubles_from_half_a_second_up_to_a_minute():
    assert [workqueue.retry_delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert workqueue.retry_delay(30) == 60.0


def test_kubelets_run_on_their_nodes_queues():
    assert workqueue.queue_for("kubelet/node-1") == "kubelet.node-1"
    assert workqueue.queue_for("controllers") == "celery"


def test_a_request_marks_the_key_dirty_and_wakes_a_worker_after_commit(
    sandbox, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workqueue.work_request(sandbox.pk, ["controllers"])
    assert WorkItem.objects.get(sandbox=sandbox, key="controllers").dirty
    assert sent == [("controllers", None)]


def test_a_burst_of_writes_sends_one_message_per_key_until_it_runs(sandbox, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            with transaction.atomic():
                workqueue.work_request(sandbox.pk, ["controllers", "kubelet/node-1"])
    assert sorted(sent) == [("controllers", None), ("kubelet/node-1", None)]
    assert workqueue.work_claim(sandbox.pk, "controllers", now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        workqueue.work_request(sandbox.pk, ["controllers"])  # clean again once claimed: a new message
    assert sent[2:] == [("controllers", None)]


def test_a_reconciles_own_writes_do_not_make_its_key_due_again(sandbox, sent, django_capture_on_commit_callbacks):
    assert workqueue.work_claim(sandbox.pk, "controllers", now=timezone.now()) is False  # nothing due yet
    with django_capture_on_commit_callbacks(execute=True), workqueue.running(sandbox.pk, "controllers"):
        workqueue.work_request(sandbox.pk, ["controllers", "kubelet/node-1"])
    assert sent == [("kubelet/node-1", None)]
    assert not WorkItem.objects.filter(sandbox=sandbox, key="controllers", dirty=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        workqueue.work_request(sandbox.pk, ["controllers"])  # another thread's write, after the run
    assert sent[1:] == [("controllers", None)]


def test_the_resync_sends_even_for_a_key_already_dirty(sandbox, sent, django_capture_on_commit_callbacks):
    workqueue.work_request(sandbox.pk, ["controllers"])  # its message was lost
    with django_capture_on_commit_callbacks(execute=True):
        workqueue.work_request(sandbox.pk, ["controllers"], send_always=True)
    assert sent == [("controllers", None)]


def test_only_one_claim_of_a_key_wins_until_it_is_released(sandbox, sent):
    now = timezone.now()
    workqueue.work_request(sandbox.pk, ["controllers"])
    assert workqueue.work_claim(sandbox.pk, "controllers", now=now)
    workqueue.work_request(sandbox.pk, ["controllers"])  # a write while it runs
    assert not workqueue.work_claim(sandbox.pk, "controllers", now=now)  # leased
    workqueue.work_done(sandbox.pk, "controllers", wake_at=None)
    assert sent == [("controllers", None)]  # dirty again: it sends itself once more
    assert workqueue.work_claim(sandbox.pk, "controllers", now=now)


def test_nothing_due_means_no_claim(sandbox, sent):
    now = timezone.now()
    workqueue.work_request(sandbox.pk, ["controllers"])
    assert workqueue.work_claim(sandbox.pk, "controllers", now=now)
    workqueue.work_done(sandbox.pk, "controllers", wake_at=None)
    assert not workqueue.work_claim(sandbox.pk, "controllers", now=now)  # a duplicate message finds nothing
    assert sent == []


def test_a_requested_wake_up_is_scheduled_and_becomes_due_then(sandbox, sent):
    now = timezone.now()
    workqueue.work_request(sandbox.pk, ["controllers"])
    workqueue.work_claim(sandbox.pk, "controllers", now=now)
    later = now + timedelta(seconds=10)
    workqueue.work_done(sandbox.pk, "controllers", wake_at=later)
    assert sent == [("controllers", later)]
    assert not workqueue.work_claim(sandbox.pk, "controllers", now=now + timedelta(seconds=5))
    assert workqueue.work_claim(sandbox.pk, "controllers", now=later)


def test_one_delayed_message_per_moment_unless_the_moment_has_passed(sandbox, sent):
    now = timezone.now()
    later = now + timedelta(seconds=10)
    for _ in range(2):  # two runs asking for the same moment: its message is already on its way
        workqueue.work_request(sandbox.pk, ["controllers"])
        workqueue.work_claim(sandbox.pk, "controllers", now=now)
        workqueue.work_done(sandbox.pk, "controllers", wake_at=later)
    assert sent == [("controllers", later)]
    # A run that held the lease when that message came (so it was dropped) and asks for the same,
    # now past, moment again gets a new message.
    past = now - timedelta(seconds=1)
    WorkItem.objects.filter(sandbox=sandbox).update(wake_sent_for=past, wake_at=None)
    workqueue.work_done(sandbox.pk, "controllers", wake_at=past)
    assert sent[-1] == ("controllers", past)


def test_a_dead_workers_lease_runs_out(sandbox, sent):
    now = timezone.now()
    workqueue.work_request(sandbox.pk, ["controllers"])
    assert workqueue.work_claim(sandbox.pk, "controllers", now=now)
    workqueue.work_request(sandbox.pk, ["controllers"])  # the resync marks it due again
    assert not workqueue.work_claim(sandbox.pk, "controllers", now=now + workqueue.LEASE - timedelta(seconds=1))
    assert workqueue.work_claim(sandbox.pk, "controllers", now=now + workqueue.LEASE + timedelta(seconds=1))


def test_a_running_key_keeps_its_lease_until_the_run_ends(sandbox, sent):
    now = timezone.now()
    leases = workqueue.Leases()
    workqueue.work_request(sandbox.pk, ["controllers", "kubelet/node-1"])
    assert workqueue.work_claim(sandbox.pk, "controllers", now=now)
    leases.hold(sandbox.pk, "controllers", since=now)
    workqueue.work_request(sandbox.pk, ["controllers"])  # due again meanwhile

    # A long run (a slow pull): every renewal pushes the lease on, so no other worker takes it.
    later = now
    for _ in range(6):
        later += timedelta(seconds=workqueue.RENEW_EVERY_SECONDS)
        assert leases.renew(now=later) == 1
        assert not workqueue.work_claim(sandbox.pk, "controllers", now=later + timedelta(seconds=1))
    assert WorkItem.objects.get(sandbox=sandbox, key="controllers").leased_until == later + workqueue.LEASE

    # Once the run ends, nothing is renewed: a released lease stays released.
    leases.release(sandbox.pk, "controllers")
    workqueue.work_done(sandbox.pk, "controllers", wake_at=None)
    assert leases.renew(now=later) == 0
    assert WorkItem.objects.get(sandbox=sandbox, key="controllers").leased_until is None


def test_a_run_stuck_past_the_longest_run_lets_its_lease_run_out(sandbox, sent):
    now = timezone.now()
    leases = workqueue.Leases()
    workqueue.work_request(sandbox.pk, ["controllers"])
    assert workqueue.work_claim(sandbox.pk, "controllers", now=now)
    leases.hold(sandbox.pk, "controllers", since=now)
    workqueue.work_request(sandbox.pk, ["controllers"])

    stuck = now + workqueue.MAX_RUN
    assert leases.renew(now=stuck) == 0
    assert workqueue.work_claim(sandbox.pk, "controllers", now=stuck)


def test_a_failure_is_retried_with_backoff_and_the_error_kept(sandbox, sent):
    now = timezone.now()
    workqueue.work_request(sandbox.pk, ["controllers"])
    workqueue.work_claim(sandbox.pk, "controllers", now=now)
    assert workqueue.work_failed(sandbox.pk, "controllers", error="boom", now=now) == 0.5
    workqueue.work_claim(sandbox.pk, "controllers", now=now + timedelta(seconds=1))
    assert workqueue.work_failed(sandbox.pk, "controllers", error="boom again", now=now) == 1.0
    item = WorkItem.objects.get(sandbox=sandbox, key="controllers")
    assert (item.failures, item.last_error) == (2, "boom again")


def test_resync_makes_every_key_of_every_sandbox_due(sent, django_capture_on_commit_callbacks):
    from clusters.sandboxes import sandbox_create

    with django_capture_on_commit_callbacks(execute=True):
        sandbox = sandbox_create(owner=User.objects.create(username="bob"), runtime="simulated")
        on_docker = sandbox_create(owner=User.objects.create(username="carol"), runtime="simulated")
    # Marked as on Docker without claiming a network in an engine: the keys are what is tested.
    Sandbox.objects.filter(pk=on_docker.pk).update(engine="docker")
    sent.clear()
    WorkItem.objects.update(dirty=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert workqueue.resync_all() == 7
    keys = sorted(key for key, _ in sent)
    # Both sandboxes' controllers and kubelets; only the one on Docker has a kube-proxy.
    assert keys == sorted(["controllers", "kubelet/node-1", "kubelet/node-2"] * 2 + ["kube-proxy"])
    assert all(WorkItem.objects.filter(sandbox=sandbox).values_list("dirty", flat=True))


def _node(heartbeat: str, status: str = "True", version: str = "1") -> dict:
    condition = {"type": "Ready", "status": status, "lastHeartbeatTime": heartbeat, "lastTransitionTime": "t0"}
    return {"metadata": {"name": "node-1", "resourceVersion": version}, "status": {"conditions": [condition]}}


def test_a_heartbeat_that_changes_only_heartbeat_times_wakes_nobody():
    before, after = _node("10:00:00"), _node("10:00:10", version="2")
    assert workqueue.keys_for_write("Node", before, after, engine="simulated") == []


def test_a_new_node_or_one_whose_readiness_changes_wakes_the_controllers_and_its_kubelet():
    before, after = _node("10:00:00"), _node("10:00:10", status="Unknown", version="2")
    expected = ["controllers", "kubelet/node-1"]
    assert workqueue.keys_for_write("Node", before, after, engine="simulated") == expected
    assert workqueue.keys_for_write("Node", None, before, engine="simulated") == expected


def test_a_pod_write_wakes_its_nodes_kubelet_and_events_wake_nobody():
    pod = {"metadata": {"name": "p"}, "spec": {"nodeName": "node-2"}}
    assert workqueue.keys_for_write("Pod", None, pod, engine="simulated") == ["controllers", "kubelet/node-2"]
    deleted = {**pod, "metadata": {**pod["metadata"], "deletionTimestamp": "2026-11-26T00:00:00Z"}}
    assert workqueue.keys_for_write("Pod", pod, deleted, engine="simulated") == ["controllers", "kubelet/node-2"]
    assert workqueue.keys_for_write("Event", None, {"metadata": {}}, engine="docker") == []


def test_a_pods_status_wakes_the_controllers_but_not_its_kubelet():
    pod = {"metadata": {"name": "p", "resourceVersion": "5"}, "spec": {"nodeName": "node-2"}, "status": {}}
    running = {**pod, "metadata": {**pod["metadata"], "resourceVersion": "6"}, "status": {"phase": "Running"}}
    assert workqueue.keys_for_write("Pod", pod, running, engine="simulated") == ["controllers"]


def test_on_docker_a_pod_wakes_kube_proxy_once_it_has_an_address_and_as_that_or_its_labels_change():
    pod = {"metadata": {"name": "p", "labels": {"app": "web"}}, "spec": {"nodeName": "node-1"}, "status": {}}
    addressed = {**pod, "status": {"phase": "Running", "podIP": "10.244.1.5"}}
    relabelled = {**addressed, "metadata": {**addressed["metadata"], "labels": {"app": "db"}}}
    deleting = {**addressed, "metadata": {**addressed["metadata"], "deletionTimestamp": "2026-12-07T08:00:00Z"}}
    ready = {**addressed, "status": {**addressed["status"], "conditions": [{"type": "Ready", "status": "True"}]}}

    assert workqueue.keys_for_write("Pod", None, pod, engine="docker") == ["controllers", "kubelet/node-1"]
    assert workqueue.keys_for_write("Pod", pod, addressed, engine="docker") == ["controllers", "kube-proxy"]
    assert workqueue.keys_for_write("Pod", addressed, ready, engine="docker") == ["controllers"]
    assert "kube-proxy" in workqueue.keys_for_write("Pod", addressed, relabelled, engine="docker")
    assert "kube-proxy" in workqueue.keys_for_write("Pod", addressed, deleting, engine="docker")
    assert workqueue.keys_for_write("Pod", pod, {**pod, "metadata": {"name": "p"}}, engine="docker") == [
        "controllers",
        "kubelet/node-1",
    ]


def test_services_and_endpoints_wake_kube_proxy_only_on_docker():
    service = {"metadata": {"name": "web"}, "spec": {}}
    assert workqueue.keys_for_write("Service", None, service, engine="docker") == ["controllers", "kube-proxy"]
    assert workqueue.keys_for_write("Endpoints", None, service, engine="docker") == ["controllers", "kube-proxy"]
    assert workqueue.keys_for_write("Service", None, service, engine="simulated") == ["controllers"]


def test_due_work_without_a_message_is_sent_again_and_a_dead_workers_key_is_due_again(sandbox, sent):
    now = timezone.now()
    workqueue.work_request(sandbox.pk, ["controllers", "kubelet/node-1", "kubelet/node-2"])
    assert workqueue.work_claim(sandbox.pk, "kubelet/node-1", now=now)  # its worker dies
    assert workqueue.work_claim(sandbox.pk, "kubelet/node-2", now=now)
    workqueue.work_done(sandbox.pk, "kubelet/node-2", wake_at=None)  # done, nothing more to do
    assert workqueue.resync_due(now=now) == 1
    assert sent == [("controllers", None)]  # its message was lost
    later = now + workqueue.LEASE + timedelta(seconds=1)
    assert workqueue.resync_due(now=later) == 2
    assert sent[1:] == [("controllers", None), ("kubelet/node-1", None)]
    assert workqueue.work_claim(sandbox.pk, "kubelet/node-1", now=later)


def test_a_wake_up_is_the_run_work_task_sent_by_name_to_the_keys_queue(monkeypatch):
    messages = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args, **options: messages.append((name, args, options)))
    at = timezone.now() + timedelta(seconds=3)

    workqueue._send(7, "kubelet/node-2", at=at)
    workqueue._send(7, workqueue.CONTROLLERS)

    assert messages == [
        (tasks.run_work.name, (7, "kubelet/node-2"), {"queue": "kubelet.node-2", "eta": at}),
        (tasks.run_work.name, (7, "controllers"), {"queue": "celery"}),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_write_that_found_its_key_dirty_is_not_lost_when_the_key_is_claimed_before_it_commits(sandbox, sent):
    """The race of two real connections (PostgreSQL; SQLite lets one writer in at a time): a
    writer finds the key dirty already, so it sends nothing, and counts on the pending message.
    That message's run claims the key before the writer commits, and plans from a state without
    the write. Once the writer commits, the key must be due again, or the write waits for the
    next full resync (minutes: a learner's pod stays Pending)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers: a claim cannot run while a write is open")
    workqueue.work_request(sandbox.pk, ["controllers"])  # an earlier write: dirty, its message on the way
    sent.clear()
    requested, claimed = threading.Event(), threading.Event()

    def writer():
        try:
            with transaction.atomic():
                User.objects.create(username="written-meanwhile")  # stands for the object write
                workqueue.work_request(sandbox.pk, ["controllers"])
                requested.set()
                assert claimed.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert requested.wait(10)
    assert workqueue.work_claim(sandbox.pk, "controllers", now=timezone.now())
    assert not User.objects.filter(username="written-meanwhile").exists()  # the run cannot see the write
    claimed.set()
    thread.join(10)
    workqueue.work_done(sandbox.pk, "controllers", wake_at=None)
    assert User.objects.filter(username="written-meanwhile").exists()
    assert WorkItem.objects.get(sandbox=sandbox, key="controllers").dirty
    assert ("controllers", None) in sent  # woken after the commit (and by work_done: a duplicate, harmless)
    assert workqueue.work_claim(sandbox.pk, "controllers", now=timezone.now())


def test_writes_of_one_transaction_that_find_the_key_dirty_look_again_once_after_it_commits(
    sandbox, sent, django_capture_on_commit_callbacks
):
    workqueue.work_request(sandbox.pk, ["controllers"])  # dirty, its message on the way
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for _ in range(20):  # a kubelet run's pod statuses, each in a savepoint of its own
            with transaction.atomic():
                workqueue.work_request(sandbox.pk, ["controllers"])
    assert len(callbacks) == 1
    assert sent == []  # still dirty after the commit: the pending message covers the writes
