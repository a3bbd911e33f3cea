"""DaemonSets and StatefulSets: one pod per node; pods in order, each with a name and a claim of its own."""

import json
import textwrap

from tests.orchestrator.helpers import eventually, pods, ready, watching

DAEMON_SET = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: agent}
    spec:
      selector: {matchLabels: {app: agent}}
      template:
        metadata: {labels: {app: agent}}
        spec:
          terminationGracePeriodSeconds: 1  # a shell as PID 1 ignores SIGTERM: it ends at the SIGKILL
          containers: [{name: agent, image: "busybox:1.36", command: [sh, -c, "echo watching; sleep 3600"]}]
    """
)


def test_a_daemon_set_runs_one_pod_on_each_node(kubectl):
    kubectl("apply", "-f", "-", input=DAEMON_SET)
    kubectl("rollout", "status", "daemonset/agent", "--timeout=90s", timeout=120)
    running = pods(kubectl, "app=agent")
    assert sorted(p["spec"]["nodeName"] for p in running) == ["node-1", "node-2"]
    assert all(p["status"]["phase"] == "Running" and ready(p) for p in running)
    # A pod deleted is replaced on the same node, and there is still exactly one per node.
    victim = next(p for p in running if p["spec"]["nodeName"] == "node-2")["metadata"]["name"]
    kubectl("delete", "pod", victim, "--wait=false")

    def replaced():
        """one ready pod per node again, node-2's a new one"""
        current = [p for p in pods(kubectl, "app=agent") if not p["metadata"].get("deletionTimestamp")]
        # A replacement is listed before the scheduler binds it (no nodeName yet): not there yet.
        by_node = sorted(p["spec"].get("nodeName", "") for p in current)
        return by_node == ["node-1", "node-2"] and all(ready(p) for p in current) and victim not in names_of(current)

    eventually(replaced, timeout=90)


def names_of(objects: list[dict]) -> set[str]:
    return {o["metadata"]["name"] for o in objects}


STATEFUL_SET = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      clusterIP: None
      selector: {app: web}
      ports: [{port: 80, name: http}]
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: web}
    spec:
      serviceName: web
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: web
            image: nginx:1.27
            ports: [{containerPort: 80, name: http}]
            readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
            volumeMounts: [{name: data, mountPath: /data}]
      volumeClaimTemplates:
      - metadata: {name: data}
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 10Mi}}
    """
)


def test_a_stateful_set_starts_its_pods_in_order_each_with_its_own_claim(kubectl):
    with watching(kubectl, "pods", "-l", "app=web") as seen:
        kubectl("apply", "-f", "-", input=STATEFUL_SET)
        kubectl("rollout", "status", "statefulset/web", "--timeout=120s", timeout=150)
        started = {p["metadata"]["name"]: p for p in pods(kubectl)}
        assert sorted(started) == ["web-0", "web-1", "web-2"]
        assert all(ready(p) for p in started.values())
        # OrderedReady: a pod is made only once the one before it is Running and Ready. The watch
        # delivers every version in the order they were written.
        eventually(lambda: {v["metadata"]["name"] for v in seen()} == set(started), timeout=10)
        latest: dict[str, dict] = {}
        appeared = []
        for version in seen():
            name = version["metadata"]["name"]
            if name not in latest:
                appeared.append(name)
                ordinal = int(name.rsplit("-", 1)[1])
                if ordinal:
                    before = latest.get(f"web-{ordinal - 1}")
                    assert before is not None, f"{name} was made before web-{ordinal - 1}"
                    assert before["status"]["phase"] == "Running", name
                    assert ready(before), f"{name} was made before web-{ordinal - 1} was ready"
            latest[name] = version
        assert appeared == ["web-0", "web-1", "web-2"]
    for name, p in started.items():
        assert p["spec"]["hostname"] == name
        assert p["spec"]["subdomain"] == "web"
        [claim] = [v["persistentVolumeClaim"] for v in p["spec"]["volumes"] if "persistentVolumeClaim" in v]
        assert claim["claimName"] == f"data-{name}"
    claims = json.loads(kubectl("get", "persistentvolumeclaims", "-o", "json").stdout)["items"]
    assert {c["metadata"]["name"]: c["status"]["phase"] for c in claims} == {
        "data-web-0": "Bound",
        "data-web-1": "Bound",
        "data-web-2": "Bound",
    }
