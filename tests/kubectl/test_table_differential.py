"""Our server-side Tables against upstream's own expectations, directly and through kubectl.

kubectl cannot print a Table by itself (tests/kubectl/upstream_tables.py says why), so the
reference is upstream's printers_test.go, recorded as data: each case's row must come out of
`build_table` as upstream's printer makes it, and the same cells must come out of the real
`kubectl get -o wide` when the object is stored in a sandbox and kubectl asks our server for the
Table. Through the server the AGE is the server's own (the object was just created), and only
objects that the API accepts as they are take part (upstream's cases include empty container
names and lower-case protocols, which validation refuses).
"""

from __future__ import annotations

import json
import re

import pytest

from clusters.kube.tables import build_table
from tests.kubectl.upstream_tables import NOW, ROWS, Row

AGE = re.compile(r"\d+s")
# Cases whose object the API stores as it is, with what validation needs added where it does not
# change a cell: containers' names and images, a template's labels.
THROUGH_KUBECTL = (
    "test1",
    "test2",
    "test3",
    "test4",
    "test5",
    "test6-not-ready",
    "test6-ready",
    "test15",
    "test16",
    "test17",
    "wide-nothing",
    "conditions-failed",
    "deployment-wide",
    "external-name",
    "config-map-empty",
    "config-map-data",
    "config-map-binary",
)
BY_NAME = {row.name: row for row in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_our_table_row_is_the_one_upstreams_printer_makes(row: Row):
    table = build_table(row.kind, [row.obj], now=NOW)
    [ours] = table["rows"]
    # Upstream's cases without GenerateOptions{Wide} expect the leading, priority-0 cells only.
    assert ours["cells"][: len(row.cells)] == row.cells
    assert ours.get("conditions", []) == row.conditions
    assert len(table["columnDefinitions"]) == len(ours["cells"])


def storable(row: Row) -> tuple[dict, dict | None]:
    """The object without its status, made valid where a cell does not depend on it, and the status."""
    obj = json.loads(json.dumps(row.obj))
    obj["metadata"] = {"name": obj["metadata"]["name"]}
    state = obj.pop("status", None)
    spec = obj.get("spec", {})
    pod_spec = spec.get("template", {}).get("spec", spec) if row.kind != "Service" else {}
    for index, container in enumerate(pod_spec.get("containers", [])):
        container["name"] = container.get("name") or f"c{index}"
        container["image"] = container.get("image") or "busybox:1.36"
    if row.kind == "Deployment":
        spec["template"].setdefault("metadata", {})["labels"] = spec["selector"]["matchLabels"]
    return obj, state


def printed_cells(output: str, columns: list[str]) -> list[str]:
    """The cells of the one row `kubectl get` printed, cut where the header's columns start."""
    header, line = output.splitlines()[:2]
    starts = [header.index(column) for column in columns]
    ends = [*starts[1:], None]
    return [line[start:end].strip() for start, end in zip(starts, ends, strict=True)]


@pytest.mark.parametrize("name", THROUGH_KUBECTL)
def test_kubectl_prints_upstreams_cells_from_our_servers_table(kubectl, tmp_path, name):
    row = BY_NAME[name]
    obj, state = storable(row)
    manifest = tmp_path / "object.json"
    manifest.write_text(json.dumps(obj))
    kubectl("create", "-f", str(manifest))
    plural = {"Pod": "pod", "Deployment": "deployment", "Service": "service", "ConfigMap": "configmap"}[row.kind]
    target = (plural, obj["metadata"]["name"])
    if state:
        operation = [{"op": "add", "path": "/status", "value": state}]
        kubectl("patch", *target, "--subresource=status", "--type=json", "-p", json.dumps(operation))
    server_table = build_table(row.kind, [row.obj], now=NOW)
    columns = [column["name"].upper() for column in server_table["columnDefinitions"]]
    cells = printed_cells(kubectl("get", *target, "-o", "wide").stdout, columns)
    expected = [str(cell) for cell in row.cells]
    age = columns.index("AGE")
    assert AGE.fullmatch(cells[age]), cells
    assert cells[: len(expected)] == [*expected[:age], cells[age], *expected[age + 1 :]]
