"""The kubelet's thin half on the simulated runtime: what only it can look up (ConfigMaps and
Secrets for env) and how a missing reference is reported, then resolved."""

import base64
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from clusters import kubelet, store
from clusters.controllers.actions import Patch
from clusters.models import Change, ContainerLog
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

PODS = resource_for_kind("v1", "Pod")
CONFIGMAPS = resource_for_kind("v1", "ConfigMap")
SECRETS = resource_for_kind("v1", "Secret")

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


def env_pod() -> dict:
    container = {
        "name": "main",
        "image": "busybox:1.36",
        "command": ["sh", "-c", "echo greeting=$GREETING colour=$APP_COLOUR token=$TOKEN; sleep 3600"],
        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "APP_"}],
        "env": [
            {"name": "GREETING", "value": "hello"},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "credentials", "key": "token"}}},
        ],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "env"},
        "spec": {"nodeName": "node-1", "containers": [container]},
    }


def create(sandbox, resource, body):
    return store.object_create(sandbox=sandbox, resource=resource, body=body, namespace="default")


def container_state(sandbox) -> dict:
    pod = store.object_get(sandbox=sandbox, resource=PODS, namespace="default", name="env")
    return pod["status"]["containerStatuses"][0]["state"]


def test_env_comes_from_config_maps_and_secrets(sandbox, clock):
    create(sandbox, CONFIGMAPS, {"metadata": {"name": "settings"}, "data": {"COLOUR": "blue"}})
    token = base64.b64encode(b"s3cret").decode()
    create(sandbox, SECRETS, {"metadata": {"name": "credentials"}, "data": {"token": token}})
    pod = create(sandbox, PODS, env_pod())
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    assert "running" in container_state(sandbox)
    lines = ContainerLog.objects.filter(pod_uid=pod["metadata"]["uid"]).values_list("line", flat=True)
    assert list(lines) == ["greeting=hello colour=blue token=s3cret"]


def test_a_missing_reference_is_create_container_config_error_until_it_exists(sandbox, clock):
    create(sandbox, CONFIGMAPS, {"metadata": {"name": "settings"}, "data": {"COLOUR": "blue"}})
    create(sandbox, PODS, env_pod())
    wake_at = kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    assert container_state(sandbox) == {
        "waiting": {"reason": "CreateContainerConfigError", "message": 'secret "credentials" not found'}
    }
    assert wake_at <= clock.now + timedelta(seconds=1)  # fast back-off: tried again a second later
    create(sandbox, SECRETS, {"metadata": {"name": "credentials"}, "stringData": {"token": "t"}})
    clock.now = wake_at
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    assert "running" in container_state(sandbox)


def test_a_simulated_run_writes_each_pods_status_once_with_its_events(sandbox, clock):
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sleeper"},
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "9"]}],
        },
    }
    created = create(sandbox, PODS, body)
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    after = int(created["metadata"]["resourceVersion"])
    writes = Change.objects.filter(resource_version__gt=after, sandbox=sandbox)
    pod_writes = [c.body for c in writes if c.kind == "Pod"]
    assert len(pod_writes) == 1
    assert pod_writes[0]["status"]["phase"] == "Running"
    assert {c["type"]: c["status"] for c in pod_writes[0]["status"]["conditions"]}["Ready"] == "True"
    reasons = [c.body["reason"] for c in writes.order_by("resource_version") if c.kind == "Event"]
    assert reasons == ["Pulling", "Pulled", "Created", "Started"]


def test_a_slow_run_writes_its_statuses_once_it_has_lasted_a_second(sandbox, clock):
    """A Docker run that pulls or starts for a while shows its progress at the end of a pass; a
    quick one writes once, at its end."""
    spec = {"nodeName": "node-1", "containers": [{"name": "main", "image": "busybox:1.36"}]}
    body = {"metadata": {"name": "slow"}, "spec": spec}
    created = create(sandbox, PODS, body)
    writes = kubelet.RunWrites(sandbox, flush_every=timedelta(seconds=1))
    status = {"status": {"phase": "Pending", "hostIP": "172.18.0.2"}}
    writes.add([Patch("v1", "Pod", "default", "slow", status, subresource="status", why="preparing")])

    def stored_status():
        after = int(created["metadata"]["resourceVersion"])
        return [c.body["status"] for c in Change.objects.filter(resource_version__gt=after, kind="Pod")]

    clock.now += timedelta(milliseconds=600)
    writes.pass_end()
    assert stored_status() == []
    assert writes.pods("node-1")[0]["status"]["hostIP"] == "172.18.0.2"  # later passes see it all the same
    clock.now += timedelta(milliseconds=600)
    writes.pass_end()
    [written] = stored_status()
    assert written["hostIP"] == "172.18.0.2"


def sleeper(name: str, seconds: int) -> dict:
    container = {"name": "main", "image": "busybox:1.36", "command": ["sleep", str(seconds)]}
    return {"metadata": {"name": name}, "spec": {"nodeName": "node-1", "containers": [container]}}


def test_a_new_pods_running_status_is_written_before_the_confirming_pass(sandbox, clock, monkeypatch):
    """The last pass of a run only confirms: the pod is Running in the store (and on every watch)
    before it looks, so a look of the engine is not part of apply-to-Running."""
    created = create(sandbox, PODS, sleeper("new", 3600))
    phases = []  # the stored pod's phase at each pass's plan
    plan_node = kubelet.planner.plan_node

    def plan(**kw):
        stored = store.object_get(sandbox=sandbox, resource=PODS, namespace="default", name="new")
        phases.append(stored.get("status", {}).get("phase"))
        return plan_node(**kw)

    monkeypatch.setattr(kubelet.planner, "plan_node", plan)
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    assert phases[-1] == "Running", phases  # written, and then confirmed
    assert phases[:-1] == ["Pending"] * (len(phases) - 1), phases
    statuses = Change.objects.filter(name=created["metadata"]["name"], kind="Pod", type="MODIFIED")
    assert statuses.count() == 1  # one status write: the confirming pass found nothing more to write


@pytest.fixture
def steps(monkeypatch):
    """What a kubelet run does, in order: "statuses" written, "commit" of their transaction, the
    runtime's "logs" read. Its runtime reads like Docker's (engine calls): the simulated one, as
    "docker"."""
    done = []
    statuses_patch, runtime_for = store.statuses_patch, kubelet.runtime_for

    def patch(**kwargs):
        done.append("statuses")
        transaction.on_commit(lambda: done.append("commit"))
        return statuses_patch(**kwargs)

    def engine_like(*args):
        runtime = runtime_for(*args)
        runtime.kind, logs = "docker", runtime.logs
        runtime.logs = lambda *a, **kw: done.append("logs") or logs(*a, **kw)
        return runtime

    monkeypatch.setattr(store, "statuses_patch", patch)
    monkeypatch.setattr(kubelet, "runtime_for", engine_like)
    return done


@pytest.mark.django_db(transaction=True)
def test_on_docker_a_new_pods_status_commits_before_its_output_is_read(sandbox, clock, steps):
    """Reading a running container's new lines takes engine calls: the Running status does not wait for them."""
    create(sandbox, PODS, sleeper("new", 3600))
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    assert steps[:3] == ["statuses", "commit", "logs"], steps


@pytest.mark.django_db(transaction=True)
def test_on_docker_an_ended_runs_last_lines_are_copied_with_the_status_that_says_so(sandbox, clock, steps):
    """`kubectl logs` right after a pod shows Succeeded finds every line: they commit together."""
    brief = sleeper("brief", 5)
    brief["spec"]["restartPolicy"] = "Never"
    create(sandbox, PODS, brief)
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    clock.now += timedelta(seconds=6)
    steps.clear()
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    pod = store.object_get(sandbox=sandbox, resource=PODS, namespace="default", name="brief")
    assert pod["status"]["phase"] == "Succeeded"
    assert steps[:3] == ["statuses", "logs", "commit"], steps


def test_a_run_confirms_only_the_pods_it_worked_on_and_keeps_the_others_wake_up(sandbox, clock, monkeypatch):
    create(sandbox, PODS, sleeper("quiet", 9))  # exits on its own 9 s after it starts
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    exits_at = clock.now + timedelta(seconds=9)
    clock.now += timedelta(seconds=1)
    created = create(sandbox, PODS, sleeper("new", 3600))
    focuses = []
    plan_node = kubelet.planner.plan_node
    monkeypatch.setattr(kubelet.planner, "plan_node", lambda **kw: focuses.append(kw["only"]) or plan_node(**kw))

    wake_at = kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)

    new = frozenset({created["metadata"]["uid"]})
    assert focuses == [None, new, new]  # every pod once, then the new one until it settles
    assert wake_at is not None
    assert abs((wake_at - exits_at).total_seconds()) < 1  # the quiet pod's exit
