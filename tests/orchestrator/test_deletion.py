"""Deletion: a namespace takes everything in it along, a Deployment its ReplicaSets and pods, and
`--cascade=orphan` leaves the dependents running, without owners."""

import json
import textwrap

from tests.orchestrator.helpers import DEPLOYMENT, eventually, names, pod_containers, pods, ready

EXTRAS = textwrap.dedent(
    """\
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings}
    data: {greeting: hello}
    ---
    apiVersion: v1
    kind: Secret
    metadata: {name: token}
    stringData: {token: s3cret}
    ---
    apiVersion: v1
    kind: PersistentVolumeClaim
    metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 10Mi}}
    """
)


def test_deleting_a_namespace_removes_everything_in_it_and_then_the_namespace(cluster, kubectl, runtime):
    stack, _ = cluster
    namespace = kubectl.namespace
    kubectl("apply", "-f", "-", input=DEPLOYMENT + "---\n" + EXTRAS)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    if runtime == "docker":
        assert pod_containers(stack, namespace)

    kubectl("delete", "namespace", namespace, "--wait=false")
    phase = json.loads(kubectl("get", "namespace", namespace, "-o", "json", check=False).stdout or "{}")
    assert phase.get("status", {}).get("phase") in ("Terminating", None)

    def gone():
        """the namespace is gone"""
        found = kubectl("get", "namespace", namespace, check=False)
        return found.returncode != 0 and "NotFound" in found.stderr

    eventually(gone, timeout=120)
    kinds = "deployments,replicasets,pods,configmaps,secrets,persistentvolumeclaims,serviceaccounts,events"
    left = kubectl("get", kinds, "-A", "-o", "json", "--field-selector", f"metadata.namespace={namespace}")
    assert json.loads(left.stdout)["items"] == []
    # The claim's dynamically provisioned volume went with it (reclaim policy Delete).
    volumes = json.loads(kubectl("get", "persistentvolumes", "-o", "json").stdout)["items"]
    assert not [v for v in volumes if (v["spec"].get("claimRef") or {}).get("namespace") == namespace]
    if runtime == "docker":
        eventually(lambda: not pod_containers(stack, namespace), timeout=60)


def test_deleting_a_deployment_deletes_its_replica_sets_and_pods(kubectl):
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    assert len(names(kubectl, "replicasets", "app=web")) == 1
    assert len(pods(kubectl)) == 3

    kubectl("delete", "deployment", "web")  # background propagation, kubectl's default
    eventually(lambda: not names(kubectl, "replicasets", "app=web") and not pods(kubectl), timeout=90)


def test_an_orphaning_delete_keeps_the_replica_set_and_pods_without_owners(kubectl):
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    [replica_set] = names(kubectl, "replicasets", "app=web")
    before = {p["metadata"]["name"] for p in pods(kubectl)}

    kubectl("delete", "deployment", "web", "--cascade=orphan")
    eventually(lambda: "web" not in names(kubectl, "deployments"), timeout=60)

    def orphaned():
        """the ReplicaSet lost its owner reference"""
        found = json.loads(kubectl("get", "replicaset", replica_set, "-o", "json").stdout)
        return not found["metadata"].get("ownerReferences") and found

    found = eventually(orphaned, timeout=60)
    assert found["status"]["readyReplicas"] == 3
    # The pods still belong to the ReplicaSet, which still runs them: the same pods, all ready.
    kept = pods(kubectl)
    assert {p["metadata"]["name"] for p in kept} == before
    assert all(ready(p) for p in kept)
    assert {r["name"] for p in kept for r in p["metadata"]["ownerReferences"]} == {replica_set}
