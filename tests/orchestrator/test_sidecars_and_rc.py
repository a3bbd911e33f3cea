"""Native sidecars and the ReplicationController for real: the Kubernetes documentation's examples
(content/en/examples/application/deployment-sidecar.yaml, application/job/job-sidecar.yaml,
controllers/replication.yaml) applied with kubectl, and what the cluster then does."""

import json
import re
import textwrap

from tests.orchestrator.helpers import eventually, names, pod, pods, ready

DEPLOYMENT_SIDECAR = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: myapp
      labels:
        app.kubernetes.io/name: myapp
    spec:
      replicas: 1
      selector:
        matchLabels:
          app.kubernetes.io/name: myapp
      template:
        metadata:
          labels:
            app.kubernetes.io/name: myapp
        spec:
          containers:
            - name: myapp
              image: alpine:latest
              command: ['sh', '-c', 'while true; do echo "logging" >> /opt/logs.txt; sleep 1; done']
              volumeMounts:
                - name: data
                  mountPath: /opt
          initContainers:
            - name: logshipper
              image: alpine:latest
              # Setting restartPolicy: Always makes this a sidecar container.
              restartPolicy: Always
              command: ['sh', '-c', 'tail -F /opt/logs.txt']
              volumeMounts:
                - name: data
                  mountPath: /opt
          volumes:
            - name: data
              emptyDir: {}
    """
)
JOB_SIDECAR = textwrap.dedent(
    """\
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: myjob
    spec:
      template:
        spec:
          containers:
            - name: myjob
              image: alpine:latest
              command: ['sh', '-c', 'echo "logging" > /opt/logs.txt']
              volumeMounts:
                - name: data
                  mountPath: /opt
          initContainers:
            - name: logshipper
              image: alpine:latest
              # Setting restartPolicy: Always makes this a sidecar container.
              restartPolicy: Always
              command: ['sh', '-c', 'tail -F /opt/logs.txt']
              volumeMounts:
                - name: data
                  mountPath: /opt
          restartPolicy: Never
          volumes:
            - name: data
              emptyDir: {}
    """
)
REPLICATION = textwrap.dedent(
    """\
    apiVersion: v1
    kind: ReplicationController
    metadata:
      name: nginx
    spec:
      replicas: 3
      selector:
        app: nginx
      template:
        metadata:
          name: nginx
          labels:
            app: nginx
        spec:
          containers:
          - name: nginx
            image: nginx
            ports:
            - containerPort: 80
    """
)
MYAPP = "app.kubernetes.io/name=myapp"


def sidecar(found: dict) -> dict:
    return found["status"]["initContainerStatuses"][0]


def running_beside_its_sidecar(found: dict) -> bool:
    """The pod is Ready, its main container and its started, ready sidecar both running."""
    statuses = found.get("status", {})
    proxy = (statuses.get("initContainerStatuses") or [{}])[0]
    main = (statuses.get("containerStatuses") or [{}])[0]
    return (
        ready(found)
        and "running" in proxy.get("state", {})
        and proxy.get("started") is True
        and proxy.get("ready") is True
        and "running" in main.get("state", {})
    )


def the_sidecar_deployment(kubectl) -> str:
    """Apply the docs' example, wait for its rollout; the name of its pod."""
    kubectl("apply", "-f", "-", input=DEPLOYMENT_SIDECAR)
    kubectl("rollout", "status", "deployment/myapp", "--timeout=90s", timeout=120)
    return eventually(lambda: [p["metadata"]["name"] for p in pods(kubectl, MYAPP) if running_beside_its_sidecar(p)])[0]


def test_the_deployment_with_a_sidecar_is_ready_2_of_2_with_the_sidecar_beside_its_container(kubectl, runtime):
    name = the_sidecar_deployment(kubectl)
    assert kubectl("get", "pod", name, "--no-headers").stdout.split()[1:3] == ["2/2", "Running"]
    found = pod(kubectl, name)
    assert found["status"]["phase"] == "Running"
    assert [c["status"] for c in found["status"]["conditions"] if c["type"] in ("Initialized", "Ready")] == [
        "True",
        "True",
    ]
    if runtime == "docker":  # the simulated shell's `tail -F` waits without following the file
        # The sidecar follows what the main container writes to the volume they share.
        eventually(lambda: "logging" in kubectl("logs", name, "-c", "logshipper").stdout, timeout=30)


def test_a_killed_sidecar_is_restarted_and_its_main_container_runs_on(cluster, kubectl):
    stack, _ = cluster
    name = the_sidecar_deployment(kubectl)
    killed = stack.manage(
        "shell",
        "--no-imports",
        "-c",
        "from clusters import faults; from clusters.models import Sandbox; "
        f"faults.container_kill(sandbox=Sandbox.objects.get(), namespace={kubectl.namespace!r}, pod={name!r}, "
        "container='logshipper')",
    )
    assert killed.returncode == 0, killed.stderr

    def restarted():
        found = pod(kubectl, name)
        return sidecar(found)["restartCount"] == 1 and running_beside_its_sidecar(found) and found

    found = eventually(restarted, timeout=60)
    assert sidecar(found)["lastState"]["terminated"]["exitCode"] == 137
    assert found["status"]["containerStatuses"][0]["restartCount"] == 0
    assert kubectl("get", "pod", name, "--no-headers").stdout.split()[1:4] == ["2/2", "Running", "1"]


def test_the_job_with_a_sidecar_completes_and_its_sidecar_is_stopped(kubectl):
    kubectl("apply", "-f", "-", input=JOB_SIDECAR)
    # The sidecar, `tail` as PID 1, ignores SIGTERM: it goes at the end of the pod's grace period.
    kubectl("wait", "--for=condition=complete", "job/myjob", "--timeout=120s", timeout=150)
    [done] = pods(kubectl, "job-name=myjob")
    assert done["status"]["phase"] == "Succeeded"
    assert done["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert "terminated" in sidecar(done)["state"]
    assert kubectl("get", "job", "myjob", "--no-headers").stdout.split()[1:3] == ["Complete", "1/1"]


def test_the_replication_controller_converges_scales_and_takes_its_pods_along(kubectl):
    kubectl("apply", "-f", "-", input=REPLICATION)

    def ready_pods() -> list[dict]:
        return [p for p in pods(kubectl, "app=nginx") if ready(p)]

    eventually(lambda: len(ready_pods()) == 3, timeout=90)
    owners = {tuple(sorted(r.items())) for p in ready_pods() for r in p["metadata"]["ownerReferences"]}
    assert [dict(owner)["kind"] for owner in owners] == ["ReplicationController"]
    table = kubectl("get", "rc", "-o", "wide").stdout.splitlines()
    assert table[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    eventually(lambda: kubectl("get", "rc", "nginx", "--no-headers").stdout.split()[:4] == ["nginx", "3", "3", "3"])

    scale = json.loads(
        kubectl("get", "--raw", f"/api/v1/namespaces/{kubectl.namespace}/replicationcontrollers/nginx/scale").stdout
    )
    assert (scale["kind"], scale["spec"], scale["status"]) == (
        "Scale",
        {"replicas": 3},
        {"replicas": 3, "selector": "app=nginx"},
    )

    assert kubectl("scale", "rc/nginx", "--replicas=1").stdout.strip() == "replicationcontroller/nginx scaled"
    eventually(lambda: len(names(kubectl, "pods", "app=nginx")) == 1, timeout=90)
    kubectl("scale", "rc/nginx", "--replicas=3")
    eventually(lambda: len(ready_pods()) == 3 and len(names(kubectl, "pods", "app=nginx")) == 3, timeout=90)
    described = kubectl("describe", "rc", "nginx").stdout
    assert re.search(r"Replicas:\s+3 current / 3 desired", described), described
    assert re.search(r"Pods Status:\s+3 Running / 0 Waiting / 0 Succeeded / 0 Failed", described), described
    assert "SuccessfulCreate" in described
    assert "SuccessfulDelete" in described

    kubectl("delete", "rc", "nginx")
    eventually(lambda: not names(kubectl, "pods", "app=nginx"), timeout=90)
