"""Migration 0015 moves a node's simulated runtime out of NodeRuntimeState.state into its own
compressed column, and back: an upgraded installation keeps its sandboxes' containers."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("clusters", "0014_workitem_dirty_since")]
AFTER = [("clusters", "0015_noderuntimestate_runtime")]
RUNTIME = {"node": "node-1", "pods": {"uid-web": {"ip": "10.244.1.2"}}, "runs": {"uid-web/web/0": {"state": "running"}}}


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_the_runtime_moves_to_its_own_column_and_back():
    apps = migrate(BEFORE)
    user = apps.get_model("auth", "User").objects.create(username="alice")
    sandbox = apps.get_model("clusters", "Sandbox").objects.create(owner=user, name="s")
    states = apps.get_model("clusters", "NodeRuntimeState").objects
    states.create(sandbox=sandbox, node="node-1", state={"kubelet": {"pulls": {}}, "runtime": RUNTIME})
    states.create(sandbox=sandbox, node="node-2", state={"kubelet": {}})  # a Docker node: no runtime

    rows = migrate(AFTER).get_model("clusters", "NodeRuntimeState").objects.order_by("node")
    assert [(row.state, row.runtime) for row in rows] == [
        ({"kubelet": {"pulls": {}}}, RUNTIME),
        ({"kubelet": {}}, None),
    ]

    rows = migrate(BEFORE).get_model("clusters", "NodeRuntimeState").objects.order_by("node")
    assert [row.state for row in rows] == [{"kubelet": {"pulls": {}}, "runtime": RUNTIME}, {"kubelet": {}}]
    migrate(AFTER)
