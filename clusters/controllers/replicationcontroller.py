"""The ReplicationController controller's planner (upstream `pkg/controller/replication`).

Upstream's replication manager is the ReplicaSet controller behind adapters, and so is this one:
the ReplicaSet planner keeps each ReplicationController's pods (claiming, creating and deleting
with `SuccessfulCreate` / `SuccessfulDelete`, a refused create's `FailedCreate` and ReplicaFailure
condition, the status), told only what differs — the kind, the
Events' component, a selector that is a plain map of labels (`app: nginx`, every one to match),
and a status without `terminatingReplicas`.
"""

from __future__ import annotations

from datetime import datetime

from clusters.controllers.actions import Action
from clusters.controllers.replicaset import ReplicaKind, plan_kind
from clusters.controllers.state import ClusterState
from clusters.objects.selectors import Requirement, selector_from_match_labels

SOURCE = "replication-controller"


def selector(rc: dict) -> tuple[Requirement, ...]:
    """A ReplicationController's selector, a map of labels, as a LabelSelector's matchLabels."""
    return selector_from_match_labels({"matchLabels": rc["spec"].get("selector") or {}})


REPLICATION_CONTROLLER = ReplicaKind("v1", "ReplicationController", SOURCE, selector, counts_terminating=False)


def plan(state: ClusterState, *, now: datetime, held: frozenset[str] = frozenset()) -> list[Action]:
    """Everything the replication manager would do in this sandbox right now (the `held` create nothing)."""
    return plan_kind(state, REPLICATION_CONTROLLER, now=now, held=held)
