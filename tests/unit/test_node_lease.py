"""The kubelet's side of node health: the lease renewed for every sandbox at once, and the Node's
status written only when it changes or is due, as upstream's kubelet does."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from clusters import store
from clusters.controllers.manager import planner_options
from clusters.kubelet import kubelet_reconcile, node_leases_renew, sandboxes_with_leases_just_expired
from clusters.models import NodeRuntimeState
from clusters.objects.resources import resource_for_kind
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
    assert planner_options("node_lifecycle", first)["leases"] == {"node-1": later}


@override_settings(NODE_STATUS_REPORT_SECONDS=300)
def test_the_node_status_is_written_when_due_not_at_every_run():
    box = sandbox("alice")
    now = timezone.now()
    next_report = kubelet_reconcile(box, node="node-1", now=now)
    written = node_version(box)
    assert next_report <= now + timedelta(seconds=300)
    kubelet_reconcile(box, node="node-1", now=now + timedelta(seconds=60))
    assert node_version(box) == written  # nothing changed, nothing due: no write
    assert NodeRuntimeState.objects.get(sandbox=box, node="node-1").lease_renewed_at == now + timedelta(seconds=60)
    kubelet_reconcile(box, node="node-1", now=now + timedelta(seconds=301))
    assert node_version(box) != written


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
