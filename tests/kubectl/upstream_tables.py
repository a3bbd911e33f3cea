"""Upstream's own expectations for server-side Table rows, recorded as data.

kubectl cannot print a Table without a server: since 1.16 the columns of the built-in kinds are
computed only by the API server (k8s.io/kubernetes pkg/printers/internalversion/printers.go), and
`kubectl get -f file` asks the server; the commands that work offline (`create --dry-run=client`,
`patch --local`, `set … --local`) print JSON, YAML or names, never a Table. So the reference
here is what upstream's printers_test.go (TestPrintPod, TestPrintPodWithRestartableInitContainer,
TestPrintPodwide, TestPrintPodConditions, TestPrintDeployment, TestPrintService,
TestPrintConfigMap, as of Kubernetes 1.3x) asserts: each case's object, written as the v1 JSON
the internal Go value converts to, and the row it expects. `GenerateOptions{}` cases expect only
the priority-0 cells, which come first; the API server itself always generates the wide cells.

Times upstream writes relative to `time.Now()` are relative to `NOW` here; a creation timestamp
1.9 s in the future (upstream's `time.Now().Add(1.9e9)`) prints as `0s`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)

SUCCEEDED = [
    {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}
]
FAILED = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]


@dataclass(frozen=True)
class Row:
    name: str
    kind: str
    obj: dict
    cells: list[Any]
    conditions: list[dict] = field(default_factory=list)


def at(seconds: float) -> str:
    """A timestamp `seconds` after NOW (negative: before it)."""
    return (NOW + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


SOON = at(1.9)  # upstream's time.Now().Add(1.9e9)
DAY = 24 * 3600


def running() -> dict:
    return {"running": {}}


def waiting(reason: str | None = None) -> dict:
    return {"waiting": {"reason": reason} if reason else {}}


def terminated(reason: str | None = None, exit_code: int = 0, finished: str | None = None) -> dict:
    state: dict = {"exitCode": exit_code}
    if reason:
        state["reason"] = reason
    if finished:
        state["finishedAt"] = finished
    return {"terminated": state}


def status(
    *,
    ready: bool = False,
    restarts: int = 0,
    state: dict | None = None,
    last: dict | None = None,
    name: str = "",
    started: bool | None = None,
) -> dict:
    """A v1 ContainerStatus as the Go zero values convert: name, ready and restartCount always."""
    out: dict = {"name": name, "ready": ready, "restartCount": restarts, "image": "", "imageID": ""}
    out["state"] = state or {}
    if last:
        out["lastState"] = last
    if started is not None:
        out["started"] = started
    return out


def pod(
    name: str,
    *,
    containers: int = 1,
    init: list[dict] | int = 0,
    phase: str = "",
    reason: str = "",
    statuses: list[dict] | None = None,
    init_statuses: list[dict] | None = None,
    conditions: list[dict] | None = None,
    deleted: str | None = None,
    **extra: Any,
) -> dict:
    spec: dict = {"containers": [{"name": ""} for _ in range(containers)]}
    if init:
        spec["initContainers"] = [{"name": ""} for _ in range(init)] if isinstance(init, int) else init
    spec.update(extra.pop("spec", {}))
    pod_status: dict = {}
    if phase:
        pod_status["phase"] = phase
    if reason:
        pod_status["reason"] = reason
    if conditions:
        pod_status["conditions"] = conditions
    if init_statuses:
        pod_status["initContainerStatuses"] = init_statuses
    if statuses:
        pod_status["containerStatuses"] = statuses
    pod_status.update(extra.pop("status", {}))
    metadata: dict = {"name": name}
    if deleted:
        metadata["deletionTimestamp"] = deleted
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": pod_status}


def sidecar(name: str) -> dict:
    return {"name": name, "restartPolicy": "Always"}


RUNNING_READY_3 = status(ready=True, restarts=3, state=running())
RESTARTED_10S = terminated(finished=at(-10))
DELETED = at(-10)

POD_ROWS = [
    # TestPrintPod
    Row("test1", "Pod", pod("test1", containers=2, phase="podPhase", statuses=[RUNNING_READY_3, status(restarts=3)]),
        ["test1", "1/2", "podPhase", "6", "<unknown>"]),
    Row("test2", "Pod", pod("test2", containers=2, phase="podPhase", statuses=[
        RUNNING_READY_3, status(state=waiting("ContainerWaitingReason"), restarts=3)]),
        ["test2", "1/2", "ContainerWaitingReason", "6", "<unknown>"]),
    Row("test3", "Pod", pod("test3", containers=2, phase="podPhase", statuses=[
        status(state=waiting("ContainerWaitingReason"), restarts=3),
        status(state=terminated("ContainerTerminatedReason"), restarts=3)]),
        ["test3", "0/2", "ContainerWaitingReason", "6", "<unknown>"]),
    Row("test4", "Pod", pod("test4", containers=2, phase="podPhase", statuses=[
        RUNNING_READY_3, status(ready=True, restarts=3)]),
        ["test4", "1/2", "podPhase", "6", "<unknown>"]),
    Row("test5", "Pod", pod("test5", containers=2, phase="podPhase", reason="podReason", statuses=[
        RUNNING_READY_3, status(ready=True, restarts=3)]),
        ["test5", "1/2", "podReason", "6", "<unknown>"]),
    Row("test6-not-ready", "Pod", pod("test6", containers=2, phase="Running", statuses=[
        status(ready=True, restarts=3, state=terminated("Completed")), RUNNING_READY_3]),
        ["test6", "1/2", "NotReady", "6", "<unknown>"]),
    Row("test6-ready", "Pod", pod("test6", containers=2, phase="Running", statuses=[
        status(ready=True, restarts=3, state=terminated("Completed")), RUNNING_READY_3],
        conditions=[{"type": "Ready", "status": "True", "lastProbeTime": at(0)}]),
        ["test6", "1/2", "Running", "6", "<unknown>"]),
    Row("test7", "Pod", pod("test7", init=1, phase="podPhase", init_statuses=[
        status(restarts=3, state=running(), last=RESTARTED_10S)], statuses=[status(state=waiting())]),
        ["test7", "0/1", "Init:0/1", "3 (10s ago)", "<unknown>"]),
    Row("test8", "Pod", pod("test8", init=2, phase="podPhase", init_statuses=[
        status(restarts=3, state=running(), last=RESTARTED_10S), status(state=waiting())],
        statuses=[status(state=waiting())]),
        ["test8", "0/1", "Init:0/2", "3 (10s ago)", "<unknown>"]),
    Row("test9", "Pod", pod("test9", init=2, phase="podPhase", init_statuses=[
        status(state=terminated()), status(restarts=3, state=running(), last=RESTARTED_10S)],
        statuses=[status(state=waiting())]),
        ["test9", "0/1", "Init:1/2", "3 (10s ago)", "<unknown>"]),
    Row("test10", "Pod", pod("test10", init=2, phase="podPhase", init_statuses=[
        status(restarts=2, state=terminated(), last=terminated(finished=at(-120))),
        status(restarts=3, state=running(), last=RESTARTED_10S)], statuses=[status(state=waiting())]),
        ["test10", "0/1", "Init:1/2", "5 (10s ago)", "<unknown>"]),
    Row("test11", "Pod", pod("test11", init=1, phase="Running", init_statuses=[
        status(restarts=2, state=terminated(), last=terminated(finished=at(-120)))],
        statuses=[status(restarts=4, state=running(), last=terminated(finished=at(-20)))]),
        ["test11", "0/1", "Running", "4 (20s ago)", "<unknown>"]),
    Row("test12", "Pod", pod("test12", phase="Running", statuses=[
        status(ready=True, restarts=3, state=running(), last=terminated(finished=at(-5 * DAY)))]),
        ["test12", "1/1", "Running", "3 (5d ago)", "<unknown>"]),
    Row("test13", "Pod", pod("test13", containers=2, phase="Running", statuses=[
        status(ready=True, state=running()),
        status(ready=True, restarts=3, state=running(), last=terminated(finished=at(-10 * DAY)))]),
        ["test13", "2/2", "Running", "3 (10d ago)", "<unknown>"]),
    Row("test14", "Pod", pod("test14", containers=2, phase="Running", statuses=[
        status(ready=True, restarts=6, state=running(), last=terminated(finished=at(-5 * DAY))),
        status(ready=True, restarts=3, state=running(), last=terminated(finished=at(-20 * DAY)))]),
        ["test14", "2/2", "Running", "9 (5d ago)", "<unknown>"]),
    Row("test15", "Pod", pod("test15", containers=2, phase="podPhase", conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]),
        ["test15", "0/2", "SchedulingGated", "0", "<unknown>"]),
    Row("test16", "Pod", pod("test16", phase="Succeeded", statuses=[status(state=terminated("Completed"))]),
        ["test16", "0/1", "Completed", "0", "<unknown>"], SUCCEEDED),
    Row("test17", "Pod", pod("test17", phase="Failed", statuses=[status(state=terminated("Error", 1))]),
        ["test17", "0/1", "Error", "0", "<unknown>"], FAILED),
    Row("test18", "Pod", pod("test18", phase="Succeeded", deleted=DELETED, statuses=[
        status(state=terminated("Completed"))]),
        ["test18", "0/1", "Completed", "0", "<unknown>"], SUCCEEDED),
    Row("test19", "Pod", pod("test19", phase="Running", deleted=DELETED, statuses=[status(state=running())]),
        ["test19", "0/1", "Terminating", "0", "<unknown>"]),
    Row("test20", "Pod", pod("test20", phase="Pending", deleted=DELETED),
        ["test20", "0/1", "Terminating", "0", "<unknown>"]),
    # TestPrintPodWithRestartableInitContainer
    Row("sidecar-not-started", "Pod", pod("test1", init=[sidecar("restartable-init-1"), sidecar("restartable-init-2")],
        phase="Pending", conditions=[{"type": "Initialized", "status": "False"}], init_statuses=[
            status(name="restartable-init-1", restarts=3, state=running(), started=False, last=RESTARTED_10S),
            status(name="restartable-init-2", state=waiting(), started=False)],
        statuses=[status(state=waiting())]),
        ["test1", "0/3", "Init:0/2", "3 (10s ago)", "<unknown>"]),
    Row("sidecar-one-started", "Pod", pod("test1", init=[sidecar("restartable-init-1"), sidecar("restartable-init-2")],
        phase="Pending", conditions=[{"type": "Initialized", "status": "False"}], init_statuses=[
            status(name="restartable-init-1", restarts=3, state=running(), started=True, last=RESTARTED_10S),
            status(name="restartable-init-2", state=running(), started=False)],
        statuses=[status(state=waiting())]),
        ["test1", "0/3", "Init:1/2", "3 (10s ago)", "<unknown>"]),
    Row("sidecars-started", "Pod", pod("test2", init=[sidecar("restartable-init-1"), sidecar("restartable-init-2")],
        phase="Running", conditions=[{"type": "Initialized", "status": "True"}], init_statuses=[
            status(name="restartable-init-1", restarts=3, state=running(), started=True, last=RESTARTED_10S),
            status(name="restartable-init-2", state=running(), started=True)],
        statuses=[status(ready=True, restarts=4, state=running(), last=terminated(finished=at(-20)))]),
        ["test2", "1/3", "Running", "7 (10s ago)", "<unknown>"]),
    Row("sidecars-completed", "Pod", pod("test3", init=[sidecar("restartable-init-1"), sidecar("restartable-init-2")],
        phase="Succeeded", conditions=[{"type": "Initialized", "status": "True"}], init_statuses=[
            status(name="restartable-init-1", restarts=3, state=terminated("Error", 137), started=False,
                   last=RESTARTED_10S),
            status(name="restartable-init-2", state=terminated("Error", 137), started=False)],
        statuses=[status(restarts=4, state=terminated("Completed"), last=terminated(finished=at(-20)))]),
        ["test3", "0/3", "Completed", "7 (10s ago)", "<unknown>"], SUCCEEDED),
    Row("statuses-of-unknown-containers", "Pod", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "test4"},
        "spec": {
            "initContainers": [{"name": "init1", "image": "initimage"},
                               {"name": "sidecar1", "image": "sidecarimage", "restartPolicy": "Always"}],
            "containers": [{"name": "container1", "image": "containerimage"}],
        },
        "status": {
            "phase": "Running",
            "initContainerStatuses": [status(name="initinvalid"), status(name="init1"), status(name="sidecar1")],
            "containerStatuses": [status(name="containerinvalid"), status(name="container1")],
        }},
        ["test4", "0/2", "Init:0/2", "0", "<unknown>"]),
    # TestPrintPodwide
    Row("wide-one-ip", "Pod", pod("test1", containers=2, phase="podPhase",
        statuses=[RUNNING_READY_3, status(restarts=3)],
        conditions=[{"type": "condition1", "status": "False"}, {"type": "condition2", "status": "True"}],
        spec={"nodeName": "test1", "readinessGates": [{"conditionType": f"condition{i}"} for i in (1, 2, 3)]},
        status={"podIPs": [{"ip": "1.1.1.1"}], "nominatedNodeName": "node1"}),
        ["test1", "1/2", "podPhase", "6", "<unknown>", "1.1.1.1", "test1", "node1", "1/3"]),
    Row("wide-two-ips", "Pod", pod("test1", containers=2, phase="podPhase",
        statuses=[RUNNING_READY_3, status(restarts=3)],
        conditions=[{"type": "condition1", "status": "False"}, {"type": "condition2", "status": "True"}],
        spec={"nodeName": "test1", "readinessGates": [{"conditionType": f"condition{i}"} for i in (1, 2, 3)]},
        status={"podIPs": [{"ip": "1.1.1.1"}, {"ip": "2001:db8::"}], "nominatedNodeName": "node1"}),
        ["test1", "1/2", "podPhase", "6", "<unknown>", "1.1.1.1", "test1", "node1", "1/3"]),
    Row("wide-nothing", "Pod", pod("test2", containers=2, phase="podPhase", statuses=[
        RUNNING_READY_3, status(state=waiting("ContainerWaitingReason"), restarts=3)]),
        ["test2", "1/2", "ContainerWaitingReason", "6", "<unknown>", "<none>", "<none>", "<none>", "<none>"]),
    # TestPrintPodConditions
    Row("conditions-running", "Pod", pod("test1", containers=2, phase="Running", statuses=[
        RUNNING_READY_3, status(restarts=3)]),
        ["test1", "1/2", "Running", "6", "<unknown>"]),
    Row("conditions-succeeded", "Pod", pod("test1", containers=2, phase="Succeeded", statuses=[
        RUNNING_READY_3, status(restarts=3)]),
        ["test1", "1/2", "Succeeded", "6", "<unknown>"], SUCCEEDED),
    Row("conditions-failed", "Pod", pod("test2", containers=2, phase="Failed", statuses=[
        RUNNING_READY_3, status(restarts=3)]),
        ["test2", "1/2", "Failed", "6", "<unknown>"], FAILED),
]  # fmt: skip


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "test1", "creationTimestamp": SOON},
    "spec": {
        "replicas": 5,
        "selector": {"matchLabels": {"foo": "bar"}},
        "template": {
            "spec": {
                "containers": [
                    {"name": "fake-container1", "image": "fake-image1"},
                    {"name": "fake-container2", "image": "fake-image2"},
                ]
            }
        },
    },
    "status": {"replicas": 10, "updatedReplicas": 2, "availableReplicas": 1, "unavailableReplicas": 4},
}
DEPLOYMENT_ROWS = [
    Row("deployment", "Deployment", DEPLOYMENT, ["test1", "0/5", 2, 1, "0s"]),
    Row(
        "deployment-wide",
        "Deployment",
        DEPLOYMENT,
        ["test1", "0/5", 2, 1, "0s", "fake-container1,fake-container2", "fake-image1,fake-image2", "foo=bar"],
    ),
]


def service(name: str, service_type: str, *, ports=None, external_ips=None, ingress=None, **spec: Any) -> dict:
    body: dict = {"type": service_type, **spec}
    if ports is not None:
        body["ports"] = ports
    if external_ips:
        body["externalIPs"] = external_ips
    out = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": body}
    if ingress:
        out["status"] = {"loadBalancer": {"ingress": ingress}}
    return out


CLUSTER_IPS = ["10.9.8.7"]
SERVICE_ROWS = [
    Row("service", "Service", service("test1", "ClusterIP", ports=[{"protocol": "tcp", "port": 2233}],
        clusterIPs=CLUSTER_IPS, selector={"foo": "bar"}),
        ["test1", "ClusterIP", "10.9.8.7", "<none>", "2233/tcp", "<unknown>"]),
    Row("service-wide", "Service", service("test1", "ClusterIP", ports=[{"protocol": "tcp", "port": 2233}],
        clusterIPs=CLUSTER_IPS, selector={"foo": "bar"}),
        ["test1", "ClusterIP", "10.9.8.7", "<none>", "2233/tcp", "<unknown>", "foo=bar"]),
    Row("node-port", "Service", service("test2", "NodePort", ports=[
        {"protocol": "tcp", "port": 8888, "nodePort": 9999}], clusterIPs=CLUSTER_IPS),
        ["test2", "NodePort", "10.9.8.7", "<none>", "8888:9999/tcp", "<unknown>"]),
    Row("load-balancer-pending", "Service", service("test3", "LoadBalancer", ports=[
        {"protocol": "tcp", "port": 8888}], clusterIPs=CLUSTER_IPS),
        ["test3", "LoadBalancer", "10.9.8.7", "<pending>", "8888/tcp", "<unknown>"]),
    Row("load-balancer-external-ip", "Service", service("test4", "LoadBalancer", ports=[
        {"protocol": "tcp", "port": 8888}], clusterIPs=CLUSTER_IPS, external_ips=["80.11.12.10"]),
        ["test4", "LoadBalancer", "10.9.8.7", "80.11.12.10", "8888/tcp", "<unknown>"]),
    Row("load-balancer-ingress", "Service", service("test5", "LoadBalancer", ports=[
        {"protocol": "tcp", "port": 8888}], clusterIPs=CLUSTER_IPS, external_ips=["80.11.12.10"],
        ingress=[{"ip": "3.4.5.6", "hostname": "test.cluster.com"}]),
        ["test5", "LoadBalancer", "10.9.8.7", "3.4.5.6,80.11.12.10", "8888/tcp", "<unknown>"]),
    Row("load-balancer-ingresses", "Service", service("test6", "LoadBalancer", ports=[
        {"protocol": "tcp", "port": 8888}], clusterIPs=CLUSTER_IPS, external_ips=["80.11.12.10", "80.11.12.11"],
        ingress=[{"ip": "2.3.4.5", "hostname": "test.cluster.local"},
                 {"ip": "3.4.5.6", "hostname": "test.cluster.com"}]),
        ["test6", "LoadBalancer", "10.9.8.7", "2.3.4.5,3.4.5.6,80.11.12.10,80.11.12.11", "8888/tcp", "<unknown>"]),
    Row("external-name", "Service", service("test7", "ExternalName", externalName="my.database.example.com"),
        ["test7", "ExternalName", "<none>", "my.database.example.com", "<none>", "<unknown>"]),
]  # fmt: skip


def config_map(name: str, **fields: Any) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "creationTimestamp": SOON}, **fields}


CONFIG_MAP_ROWS = [
    Row("config-map-empty", "ConfigMap", config_map("configmap1"), ["configmap1", 0, "0s"]),
    Row("config-map-data", "ConfigMap", config_map("configmap2", data={"foo": "bar"}), ["configmap2", 1, "0s"]),
    Row(
        "config-map-binary",
        "ConfigMap",
        config_map("configmap3", data={"foo": "bar"}, binaryData={"bin": "YmluYXJ5IGRhdGE="}),
        ["configmap3", 2, "0s"],
    ),
]

ROWS = [*POD_ROWS, *DEPLOYMENT_ROWS, *SERVICE_ROWS, *CONFIG_MAP_ROWS]
