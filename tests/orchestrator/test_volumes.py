"""Volumes: containers of one pod share an emptyDir, a claim's data outlives its pod, and downward API
and projected volumes hold the pod's fields, read-only."""

import textwrap

from tests.orchestrator.helpers import eventually, pod

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
