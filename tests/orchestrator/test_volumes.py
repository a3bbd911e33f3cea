"""Volumes: containers of one pod share an emptyDir, a claim's data outlives its pod, and downward API
and projected volumes hold the pod's fields, read-only; a claim's data and every object outlive the
pause of an idle sandbox."""

import json
import sqlite3
import textwrap
import time
import uuid
import zlib

from clusters.runtime.docker import engine_client
from tests.orchestrator.helpers import eventually, node_ready, pod, pods, ready

SHARED = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata: {name: share}
    spec:
      volumes: [{name: shared, emptyDir: {}}]
      containers:
      - name: writer
        image: busybox:1.36
        command: [sh, -c, "echo hello from the writer > /data/message; sleep 3600"]
        volumeMounts: [{name: shared, mountPath: /data}]
      - name: reader
        image: busybox:1.36
        command: [sh, -c, "until [ -s /srv/message ]; do sleep 1; done; cat /srv/message; sleep 3600"]
        volumeMounts: [{name: shared, mountPath: /srv}]
    """
)


def test_two_containers_of_a_pod_share_an_empty_dir(kubectl):
    kubectl("apply", "-f", "-", input=SHARED)

    def read():
        """the reader printed what the writer wrote"""
        return kubectl("logs", "share", "-c", "reader", check=False).stdout == "hello from the writer\n"

    eventually(read, timeout=60)
    assert kubectl("logs", "share", "-c", "writer").stdout == ""


CLAIM = textwrap.dedent(
    """\
    apiVersion: v1
    kind: PersistentVolumeClaim
    metadata: {name: notes}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 10Mi}}
    """
)

# Writes a note naming itself when the claim has none; prints the note when it has one.
NOTE_TAKER = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata: {name: notes}
    spec:
      restartPolicy: Never
      volumes: [{name: notes, persistentVolumeClaim: {claimName: notes}}]
      containers:
      - name: main
        image: busybox:1.36
        env: [{name: POD_UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}]
        command:
        - sh
        - -c
        - >-
          if [ -f /notes/note ]; then echo found; cat /notes/note;
          else echo "written by $POD_UID" > /notes/note; echo wrote; fi
        volumeMounts: [{name: notes, mountPath: /notes}]
    """
)


def test_a_claims_data_survives_its_pod(kubectl):
    kubectl("apply", "-f", "-", input=CLAIM)
    kubectl("apply", "-f", "-", input=NOTE_TAKER)
    eventually(lambda: pod(kubectl, "notes")["status"]["phase"] == "Succeeded", timeout=60)
    first = pod(kubectl, "notes")["metadata"]["uid"]
    assert kubectl("logs", "notes").stdout == "wrote\n"

    kubectl("delete", "pod", "notes", "--wait=true", timeout=90)
    kubectl("apply", "-f", "-", input=NOTE_TAKER)
    second = eventually(lambda: (p := pod(kubectl, "notes"))["status"]["phase"] == "Succeeded" and p, timeout=60)
    assert second["metadata"]["uid"] != first
    assert kubectl("logs", "notes").stdout == f"found\nwritten by {first}\n"


PODINFO = textwrap.dedent(
    """\
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings}
    data: {mode: teaching}
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: podinfo
      labels: {zone: us-est-coast, app: podinfo}
      annotations: {builder: john-doe, note: 'say "hi"'}
    spec:
      volumes:
      - name: podinfo
        downwardAPI:
          items:
          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
          - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
          - {path: app, fieldRef: {fieldPath: "metadata.labels['app']"}}
          - {path: cpu_limit, resourceFieldRef: {containerName: main, resource: limits.cpu, divisor: 1m}}
          - {path: mem_request, resourceFieldRef: {containerName: main, resource: requests.memory, divisor: 1Mi}}
      - name: all-in-one
        projected:
          sources:
          - configMap: {name: settings}
          - downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}}]}
      containers:
      - name: main
        image: busybox:1.36
        command: [sh, -c, "sleep 3600"]
        resources: {requests: {cpu: 100m, memory: 32Mi}, limits: {cpu: 250m, memory: 64Mi}}
        volumeMounts: [{name: podinfo, mountPath: /etc/podinfo}, {name: all-in-one, mountPath: /etc/all}]
    """
)


def test_downward_api_and_projected_volumes_hold_the_pods_fields_read_only(kubectl):
    kubectl("create", "-f", "-", input=PODINFO)  # create: apply would add its last-applied annotation
    eventually(lambda: pod(kubectl, "podinfo").get("status", {}).get("phase") == "Running", timeout=120)

    def cat(*paths: str) -> str:
        script = "for f in " + " ".join(paths) + '; do cat "$f"; echo; done'
        return kubectl("exec", "podinfo", "--", "sh", "-c", script).stdout

    assert cat("/etc/podinfo/labels") == 'app="podinfo"\nzone="us-est-coast"\n'
    assert cat("/etc/podinfo/annotations") == 'builder="john-doe"\nnote="say \\"hi\\""\n'
    assert cat("/etc/podinfo/app", "/etc/podinfo/cpu_limit", "/etc/podinfo/mem_request") == "podinfo\n250\n32\n"
    assert cat("/etc/all/mode", "/etc/all/name") == "teaching\npodinfo\n"
    refused = kubectl("exec", "podinfo", "--", "touch", "/etc/podinfo/extra", check=False)
    assert refused.returncode != 0
    assert "Read-only file system" in refused.stderr


# ---------------------------------------------------------------------------------------------
# An idle sandbox paused and brought back (clusters.idle): a Deployment, a ConfigMap and a claim
# with a file in it; `sandbox pause-idle --minutes 0` (what beat does after TUTOR_IDLE_STOP_MINUTES)
# stops every container (none is left on Docker, no modelled run on the simulated runtime) and
# keeps the objects; the next kubectl request answers at once and brings it back: the same pods run
# again (restartCount 1, upstream's SandboxChanged), the file is still in the claim.
# ---------------------------------------------------------------------------------------------

IDLE_WORK = textwrap.dedent(
    """\
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings}
    data: {colour: blue}
    ---
    apiVersion: v1
    kind: PersistentVolumeClaim
    metadata: {name: notes}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 10Mi}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: web
            image: nginx:1.27
            envFrom: [{configMapRef: {name: settings}}]
            readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: keeper}
    spec:
      volumes:
      - {name: notes, persistentVolumeClaim: {claimName: notes}}
      - {name: scratch, emptyDir: {}}
      containers:
      - name: main
        image: busybox:1.36
        command: [sleep, "3600"]
        volumeMounts: [{name: notes, mountPath: /notes}, {name: scratch, mountPath: /scratch}]
    """
)


def running(stack, runtime: str, namespace: str) -> dict:
    """What runs for the stack's sandbox: its Docker containers (all, and the namespace's), the
    simulated runtime's runs, and how many nodes' kubelets hold the pause's mark (stopped, not
    started again). Read from the stack's database and the engine: asking the API would be use."""
    with sqlite3.connect(stack.var_dir / "db.sqlite3") as db:
        [(sandbox_id, uid)] = db.execute("SELECT id, uid FROM clusters_sandbox").fetchall()
        rows = db.execute(
            "SELECT state, runtime FROM clusters_noderuntimestate WHERE sandbox_id = ? AND node LIKE 'node-%'",
            (sandbox_id,),
        ).fetchall()
    states = [json.loads(state) for state, _ in rows]
    runtimes = [json.loads(zlib.decompress(runtime)) for _, runtime in rows if runtime]  # CompressedJSONField
    found = {
        "marked": sum(1 for s in states if "paused" in s),
        "runs": sum(len(r.get("runs", {})) for r in runtimes),
    }
    found["containers"] = found["namespace"] = []
    if runtime == "docker":
        # The low-level list: the SDK's list inspects each container after listing, and one the
        # kubelet removes in between would fail the inspection.
        containers = engine_client().api.containers(
            all=True, filters={"label": [f"kube-tutor.sandbox={uuid.UUID(uid).hex}"]}
        )
        names = {c["Names"][0].lstrip("/"): c["Labels"] for c in containers}
        found["containers"] = sorted(names)
        found["namespace"] = sorted(
            n for n, labels in names.items() if labels.get("io.kubernetes.pod.namespace") == namespace
        )
    return found


def test_an_idle_sandbox_is_paused_and_restored_from_its_objects(cluster, kubectl, runtime):
    """Last of the module: it pauses the whole sandbox (the earlier tests' pods start again too)."""
    stack, _ = cluster
    namespace = kubectl.namespace
    kubectl("apply", "-f", "-", input=IDLE_WORK)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    eventually(lambda: ready(pod(kubectl, "keeper")), timeout=60)
    for folder in ("notes", "scratch"):  # a claim, and an emptyDir: the pod lives on, so does its emptyDir
        kubectl("exec", "keeper", "--", "sh", "-c", f"echo kept through the pause > /{folder}/file")
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods(kubectl, "app=web")}
    before["keeper"] = pod(kubectl, "keeper")["metadata"]["uid"]
    if runtime == "docker":
        # Two containers per pod (pause and app) and the kube-proxy of nothing: no Service here.
        assert len(running(stack, runtime, namespace)["namespace"]) == 6

    paused = stack.manage("sandbox", "pause-idle", "--minutes", "0")
    assert paused.returncode == 0, paused.stderr
    assert 'paused sandbox "default" of "alice"' in paused.stdout

    def stopped():
        """every node's kubelet stopped what it ran"""
        state = running(stack, runtime, namespace)
        return state["marked"] == 2 and state["runs"] == 0 and state["containers"] == []

    eventually(stopped, timeout=60, interval=0.2)

    # The learner comes back: the first request answers at once, from the objects kept whole.
    returned = time.monotonic()
    listed = json.loads(kubectl("get", "pods", "-o", "json").stdout)["items"]
    assert {p["metadata"]["name"]: p["metadata"]["uid"] for p in listed} == before
    assert json.loads(kubectl("get", "configmap", "settings", "-o", "json").stdout)["data"] == {"colour": "blue"}
    claim = json.loads(kubectl("get", "pvc", "notes", "-o", "json").stdout)
    assert claim["status"]["phase"] == "Bound"
    # An exec and a log read while the containers are being recreated wait for them, then run.
    assert kubectl("logs", "deployment/web").returncode == 0
    kept = kubectl("exec", "keeper", "--", "cat", "/notes/file", "/scratch/file").stdout
    assert kept == "kept through the pause\n" * 2

    def restored():
        """the same pods, each running again and ready, counted as restarted once"""
        current = json.loads(kubectl("get", "pods", "-o", "json").stdout)["items"]
        return (
            {p["metadata"]["name"]: p["metadata"]["uid"] for p in current} == before
            and all(ready(p) for p in current)
            and all(s["restartCount"] == 1 for p in current for s in p["status"]["containerStatuses"])
        )

    eventually(restored, timeout=90)
    print(f"\n{runtime}: restored in {time.monotonic() - returned:.1f} s after the first request")
    assert node_ready(kubectl, "node-1") == node_ready(kubectl, "node-2") == "True"
    events = json.loads(kubectl("get", "events", "-o", "json").stdout)["items"]
    reasons = {(e["involvedObject"]["name"], e["reason"]) for e in events}
    assert {("keeper", "Killing"), ("keeper", "SandboxChanged")} <= reasons
    eventually(lambda: running(stack, runtime, namespace)["marked"] == 0, timeout=30, interval=0.2)
    if runtime == "docker":
        assert len(running(stack, runtime, namespace)["namespace"]) == 6
