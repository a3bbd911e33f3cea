"""The kubelet's side of node health: the lease renewed for every sandbox at once, and the Node's
status written only when it changes or is due, as upstream's kubelet does."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from clusters import store
from clusters.controllers.manager import planner_options, sandbox_state
from clusters.kubelet import kubelet_reconcile, node_leases_renew, sandboxes_with_leases_just_expired
from clusters.models import NodeRuntimeState
from clusters.objects.resources import resource_for_kind
from clusters.objects.times import parse_time
from clusters.sandboxes import sandbox_create

NODES = resource_for_kind("v1", "Node")

pytestmark = pytest.mark.django_db


def sandbox(owner: str):
    return sandbox_create(owner=User.objects.create(username=owner), runtime="simulated")


def node_version(box, name: str = "node-1") -> str:
    return store.object_get(sandbox=box, resource=NODES, namespace="", name=name)["metadata"]["resourceVersion"]


def test_one_renewal_renews_the_node_in_every_sandbox_and_the_controllers_see_it():
    first, second = sandbox("alice"), sandbox("bob")
    now = timezone.now()
    for box in (first, second):
        kubelet_reconcile(box, node="node-1", now=now)
    later = now + timedelta(seconds=10)
    assert node_leases_renew("node-1", now=later) == 2
    assert node_leases_renew("node-9", now=later) == 0
    assert planner_options("node_lifecycle", first, sandbox_state(first))["leases"] == {"node-1": later}


@override_settings(NODE_STATUS_REPORT_SECONDS=300)
def test_the_node_status_is_written_when_due_not_at_every_run():
    box = sandbox("alice")
    now = timezone.now()
    next_report = kubelet_reconcile(box, node="node-1", now=now)
    written = node_version(box)
    assert next_report <= now + timedelta(seconds=450)  # woken for a report at the latest then
    kubelet_reconcile(box, node="node-1", now=now + timedelta(seconds=60))
    assert node_version(box) == written  # nothing changed, nothing due: no write
    assert NodeRuntimeState.objects.get(sandbox=box, node="node-1").lease_renewed_at == now + timedelta(seconds=60)
    # Half an interval on, a run that comes anyway (the full resync) reports.
    kubelet_reconcile(box, node="node-1", now=now + timedelta(seconds=151))
    assert node_version(box) != written


def heartbeat(box, name: str = "node-1"):
    node = store.object_get(sandbox=box, resource=NODES, namespace="", name=name)
    return parse_time(next(c for c in node["status"]["conditions"] if c["type"] == "Ready")["lastHeartbeatTime"])


@override_settings(NODE_STATUS_REPORT_SECONDS=300)
@pytest.mark.parametrize("phase", [10, 100, 149, 151, 290])
def test_an_idle_nodes_report_rides_along_the_full_resync_whatever_their_phase(phase):
    """The full resync runs the kubelet every 300 s, `phase` seconds after the node's first report.
    From the second resync on, each resync run writes the report, and the kubelet is never woken
    for a report alone (what would be a run of its own every five minutes)."""
    box = sandbox(f"phase-{phase}")
    start = timezone.now().replace(microsecond=0)  # heartbeat times are kept to the second
    due = kubelet_reconcile(box, node="node-1", now=start)
    woken_alone = []
    for n in range(5):
        resync = start + timedelta(seconds=phase + 300 * n)
        while due < resync:  # nothing else ran the kubelet by then: the work queue wakes it
            woken_alone.append(due)
            due = kubelet_reconcile(box, node="node-1", now=due)
        due = kubelet_reconcile(box, node="node-1", now=resync)
        if n >= 1:
            assert heartbeat(box) == resync, n
    assert woken_alone == []


def test_the_node_monitor_wakes_a_sandbox_once_its_lease_has_just_expired():
    box = sandbox("alice")
    now = timezone.now()
    kubelet_reconcile(box, node="node-1", now=now)
    grace, period = timedelta(seconds=40), timedelta(seconds=5)

    def expired(seconds_later: float) -> list[int]:
        return sandboxes_with_leases_just_expired(
            now=now + timedelta(seconds=seconds_later), grace=grace, period=period
        )

    assert expired(39) == []  # still within its grace period
    assert expired(41) == [box.pk]
    assert expired(49) == [box.pk]  # two ticks may see it, if one comes late
    assert expired(51) == []  # long expired: the controller knows already, no wake-up at every tick
