from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User

from clusters import store
from clusters.controllers.actions import Bind, Create, Event, Patch, ref
from clusters.controllers.actor import actions_apply
from clusters.controllers.manager import PLANNERS, controllers_reconcile
from clusters.models import Change
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CONFIGMAPS = resource_for_kind("v1", "ConfigMap")


@pytest.fixture
def sandbox():
    return sandbox_create(owner=User.objects.create(username="alice"))


def configmap_planner(calls: list):
    """Wants a ConfigMap `wanted` with data copied from `source`, whenever `source` exists."""

    def plan(state, *, now):
        calls.append(now)
        source = state.get("ConfigMap", "default", "source")
        wanted = state.get("ConfigMap", "default", "wanted")
        if source is None:
            return []
        if wanted is None:
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "wanted", "namespace": "default"}}
            return [Create(body)]
        if wanted.get("data") != source.get("data"):
            return [Patch("v1", "ConfigMap", "default", "wanted", {"data": source.get("data")})]
        return []

    return SimpleNamespace(plan=plan, next_wakeup=lambda state, now: now + timedelta(seconds=30))


def test_passes_repeat_until_every_planner_is_satisfied(sandbox):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "source"}, "data": {"a": "1"}}
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body=body, namespace="default")
    calls = []
    wake = controllers_reconcile(sandbox, now=NOW, planners=[configmap_planner(calls)])
    wanted = store.object_get(sandbox=sandbox, resource=CONFIGMAPS, namespace="default", name="wanted")
    assert wanted["data"] == {"a": "1"}
    assert len(calls) == 3  # create, then patch, then nothing to do
    assert wake == NOW + timedelta(seconds=30)


def test_a_planners_memory_is_kept_between_passes_and_runs(sandbox):
    """A planner with `remember` gets back what it remembered: in the next pass, and the next run."""
    seen = []

    def plan(state, *, now, memory):
        seen.append(memory)
        return []

    def remember(state, *, now, memory):
        return {"syncs": memory.get("syncs", 0) + 1}

    counting = SimpleNamespace(plan=plan, remember=remember, __name__="clusters.controllers.counting")
    controllers_reconcile(sandbox, now=NOW, planners=[counting])
    controllers_reconcile(sandbox, now=NOW + timedelta(seconds=15), planners=[counting])
    assert seen == [{}, {"syncs": 1}]


def test_nothing_to_do_writes_nothing(sandbox):
    version = store.current_resource_version()
    controllers_reconcile(sandbox, now=NOW, planners=[configmap_planner([])])
    assert store.current_resource_version() == version


def test_an_action_that_lost_a_race_is_dropped_not_raised(sandbox):
    stale = Patch("v1", "ConfigMap", "default", "missing", {"data": {"a": "1"}})
    outcome = actions_apply(sandbox, [stale])
    assert (outcome.applied, outcome.raced) == (0, 1)


def test_repeated_events_fold_into_one_with_a_count(sandbox):
    namespace = store.object_get(
        sandbox=sandbox, resource=resource_for_kind("v1", "Namespace"), namespace="", name="default"
    )
    involved = ref(namespace) | {"namespace": "default"}
    event = Event(involved, "Testing", "the same thing happened", "Normal", "test-controller")
    actions_apply(sandbox, [event, event, event])
    events = store.object_list(sandbox=sandbox, resource=resource_for_kind("v1", "Event"), namespace="default").items
    assert [(e["reason"], e["count"], e["source"]) for e in events] == [
        ("Testing", 3, {"component": "test-controller"})
    ]


def test_every_listed_planner_exists_with_a_plan_function():
    import importlib

    for name in PLANNERS:
        module = importlib.import_module(f"clusters.controllers.{name}")
        assert callable(module.plan), name


def test_events_fold_only_with_the_same_object_reason_message_and_type(sandbox):
    namespaces = resource_for_kind("v1", "Namespace")
    default = ref(store.object_get(sandbox=sandbox, resource=namespaces, namespace="", name="default"))
    system = ref(store.object_get(sandbox=sandbox, resource=namespaces, namespace="", name="kube-system"))
    default, system = default | {"namespace": "default"}, system | {"namespace": "default"}
    actions_apply(
        sandbox,
        [
            Event(default, "Testing", "one", "Normal", "test"),
            Event(default, "Testing", "one", "Normal", "test"),
            Event(default, "Testing", "two", "Normal", "test"),
            Event(default, "Testing", "one", "Warning", "test"),
            Event(default, "Other", "one", "Normal", "test"),
            Event(system, "Testing", "one", "Normal", "test"),
            Event({"kind": "Pod", "name": "gone", "namespace": "default"}, "Testing", "one", "Normal", "test"),
            Event({"kind": "Pod", "name": "gone", "namespace": "default"}, "Testing", "one", "Normal", "test"),
        ],
    )
    events = store.object_list(sandbox=sandbox, resource=resource_for_kind("v1", "Event"), namespace="default").items
    folded = sorted((e["involvedObject"]["name"], e["reason"], e["message"], e["type"], e["count"]) for e in events)
    assert folded == [
        ("default", "Other", "one", "Normal", 1),
        ("default", "Testing", "one", "Normal", 2),
        ("default", "Testing", "one", "Warning", 1),
        ("default", "Testing", "two", "Normal", 1),
        ("gone", "Testing", "one", "Normal", 2),
        ("kube-system", "Testing", "one", "Normal", 1),
    ]


def test_an_event_in_a_terminating_namespace_is_dropped_and_the_plan_goes_on(sandbox):
    namespaces = resource_for_kind("v1", "Namespace")
    store.object_create(sandbox=sandbox, resource=namespaces, body={"metadata": {"name": "leaving"}}, namespace="")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept", "namespace": "leaving"}}
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body=body, namespace="leaving")
    leaving = ref(store.object_get(sandbox=sandbox, resource=namespaces, namespace="", name="leaving"))
    store.object_delete(sandbox=sandbox, resource=namespaces, namespace="", name="leaving")  # terminating
    outcome = actions_apply(
        sandbox,
        [
            Event(leaving | {"namespace": "leaving"}, "Killing", "stopping", "Normal", "kubelet"),
            Patch("v1", "ConfigMap", "leaving", "kept", {"data": {"a": "1"}}),
        ],
    )
    assert (outcome.applied, outcome.raced) == (2, 0)
    kept = store.object_get(sandbox=sandbox, resource=CONFIGMAPS, namespace="leaving", name="kept")
    assert kept["data"] == {"a": "1"}
    events = store.object_list(sandbox=sandbox, resource=resource_for_kind("v1", "Event"), namespace="leaving")
    assert events.items == []


def configmap(name: str) -> Create:
    return Create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}})


def test_consecutive_creates_land_together_all_or_none(sandbox):
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body={"metadata": {"name": "b"}}, namespace="default")
    version = store.current_resource_version()
    touch = Patch("v1", "ConfigMap", "default", "b", {"data": {"seen": "yes"}})
    outcome = actions_apply(sandbox, [configmap("x"), configmap("y"), touch, configmap("a"), configmap("b"), touch])
    assert (outcome.applied, outcome.raced) == (3, 1)  # x and y, the patch; then b exists: a is not made either
    names = {item["metadata"]["name"] for item in store.object_list(sandbox=sandbox, resource=CONFIGMAPS).items}
    assert {"x", "y", "b"} <= names
    assert "a" not in names
    assert store.current_resource_version() == version + 3


def test_a_run_that_stops_with_work_left_asks_to_come_back_at_once(sandbox):
    store.object_create(
        sandbox=sandbox, resource=CONFIGMAPS, body={"metadata": {"name": "restless"}}, namespace="default"
    )

    def plan(state, *, now):  # never satisfied: every pass bumps a counter
        count = int((state.get("ConfigMap", "default", "restless").get("data") or {}).get("n", "0"))
        return [Patch("v1", "ConfigMap", "default", "restless", {"data": {"n": str(count + 1)}})]

    restless = SimpleNamespace(plan=plan, next_wakeup=lambda state, now: now + timedelta(minutes=5))
    assert controllers_reconcile(sandbox, now=NOW, planners=[restless]) == NOW


@pytest.mark.parametrize("fast", [False, True])
def test_the_job_controller_backs_off_as_the_sandbox_says(fast):
    import json

    from clusters.controllers import job
    from clusters.controllers.manager import planner_modules, planner_options, sandbox_state

    box = sandbox_create(owner=User.objects.create(username="alice"), fast_backoff=fast)
    backoff = job.FAST_POD_FAILURE_BACKOFF if fast else job.UPSTREAM_POD_FAILURE_BACKOFF
    assert planner_options("job", box, sandbox_state(box)) == {"backoff": backoff}

    container = {"name": "fail", "image": "busybox", "command": ["false"]}
    body = {
        "metadata": {"name": "fail"},
        "spec": {"backoffLimit": 6, "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}},
    }
    store.object_create(sandbox=box, resource=resource_for_kind("batch/v1", "Job"), body=body, namespace="default")
    planners = planner_modules(("job",))
    controllers_reconcile(box, now=NOW, planners=planners)
    pods = resource_for_kind("v1", "Pod")
    [pod] = store.object_list(sandbox=box, resource=pods, namespace="default").items
    terminated = {"exitCode": 1, "finishedAt": "2026-11-26T12:00:05Z"}
    status = {"phase": "Failed", "containerStatuses": [{"name": "fail", "state": {"terminated": terminated}}]}
    store.object_patch(
        sandbox=box,
        resource=pods,
        namespace="default",
        name=pod["metadata"]["name"],
        patch=json.dumps({"status": status}).encode(),
        content_type="application/merge-patch+json",
        subresource="status",
    )
    wake = controllers_reconcile(box, now=NOW + timedelta(seconds=5), planners=planners)
    assert wake == NOW + timedelta(seconds=5) + backoff.initial


def test_events_between_creates_neither_split_their_batch_nor_outlive_it(sandbox):
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, body={"metadata": {"name": "b"}}, namespace="default")
    about = ref(store.object_get(sandbox=sandbox, resource=CONFIGMAPS, namespace="default", name="b"))

    def made(name: str) -> Event:
        return Event(about, "Made", f"made {name}", "Normal", "test-controller")

    events = resource_for_kind("v1", "Event")
    lost = actions_apply(sandbox, [configmap("x"), made("x"), configmap("b"), made("b")])
    assert (lost.applied, lost.raced) == (0, 1)  # b exists: x is not made and neither is reported
    assert store.object_list(sandbox=sandbox, resource=events, namespace="default").items == []
    landed = actions_apply(sandbox, [configmap("x"), made("x"), configmap("y"), made("y")])
    assert (landed.applied, landed.raced) == (4, 0)
    versions = sorted(
        int(
            store.object_get(sandbox=sandbox, resource=CONFIGMAPS, namespace="default", name=n)["metadata"][
                "resourceVersion"
            ]
        )
        for n in ("x", "y")
    )
    assert versions[1] == versions[0] + 1  # one batch: the events come after both
    recorded = store.object_list(sandbox=sandbox, resource=events, namespace="default").items
    assert sorted(e["message"] for e in recorded) == ["made x", "made y"]


def test_a_passes_binds_land_together_and_in_order_until_one_loses_its_race(sandbox):
    pods = resource_for_kind("v1", "Pod")
    containers = [{"name": "main", "image": "busybox:1.36"}]
    bodies = [{"metadata": {"name": name}, "spec": {"containers": containers}} for name in ("a", "b", "c", "d")]
    made = store.objects_create(sandbox=sandbox, resource=pods, bodies=bodies, namespace="default")
    version = {body["metadata"]["name"]: body["metadata"]["resourceVersion"] for body in made}

    def bind(name: str) -> list:
        about = ref(next(body for body in made if body["metadata"]["name"] == name))
        scheduled = Event(about, "Scheduled", f"Successfully assigned default/{name} to node-1", "Normal", "scheduler")
        return [Bind("default", name, "node-1", (), resource_version=version[name], why=f"{name} fits"), scheduled]

    together = actions_apply(sandbox, bind("a") + bind("b"))
    assert (together.applied, together.raced) == (4, 0)
    store.pod_bind(sandbox=sandbox, namespace="default", name="d", node="node-2", conditions=[], resource_version=None)
    raced = actions_apply(sandbox, bind("c") + bind("d"))  # d was bound meanwhile
    assert (raced.applied, raced.raced) == (2, 1)  # c and its Event; not d's Event
    nodes = {
        pod["metadata"]["name"]: pod["spec"].get("nodeName")
        for pod in store.object_list(sandbox=sandbox, resource=pods, namespace="default").items
    }
    assert nodes == {"a": "node-1", "b": "node-1", "c": "node-1", "d": "node-2"}
    events = store.object_list(sandbox=sandbox, resource=resource_for_kind("v1", "Event"), namespace="default").items
    assert sorted(event["involvedObject"]["name"] for event in events) == ["a", "b", "c"]
    reasons = Change.objects.filter(sandbox=sandbox, kind="Pod", type=Change.MODIFIED).values_list("reason", flat=True)
    assert {"a fits", "b fits", "c fits"} <= set(reasons)
