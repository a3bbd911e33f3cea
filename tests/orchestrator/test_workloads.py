"""The control loop for real: what a learner does with kubectl, and what the cluster then does."""

import json

from tests.orchestrator.helpers import DEPLOYMENT, eventually, pods, ready


def test_a_deployment_becomes_ready_pods_and_rollout_status_returns(kubectl):
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    result = kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    assert 'deployment "web" successfully rolled out' in result.stdout
    running = pods(kubectl)
    assert len(running) == 3
    assert all(p["status"]["phase"] == "Running" and ready(p) for p in running)
    assert {p["spec"]["nodeName"] for p in running} == {"node-1", "node-2"}


def test_a_deleted_pod_is_replaced_and_scaling_follows(kubectl):
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    victim = pods(kubectl)[0]["metadata"]["name"]
    kubectl("delete", "pod", victim)
    eventually(lambda: len([p for p in pods(kubectl) if ready(p) and p["metadata"]["name"] != victim]) == 3)
    kubectl("scale", "deployment/web", "--replicas=5")
    eventually(lambda: len([p for p in pods(kubectl) if ready(p)]) == 5)
    kubectl("scale", "deployment/web", "--replicas=3")
    eventually(lambda: len(pods(kubectl)) == 3)


def test_an_image_change_rolls_out_and_undo_goes_back(kubectl):
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    kubectl("set", "image", "deployment/web", "web=nginx:1.28")
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    # Old pods may still be terminating once the rollout is done, as on a real cluster.
    eventually(lambda: {p["spec"]["containers"][0]["image"] for p in pods(kubectl)} == {"nginx:1.28"})
    assert len(kubectl("get", "replicasets", "-o", "name").stdout.split()) == 2
    kubectl("rollout", "undo", "deployment/web")
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    eventually(lambda: {p["spec"]["containers"][0]["image"] for p in pods(kubectl)} == {"nginx:1.27"})


def test_a_bad_image_goes_err_image_pull_then_image_pull_back_off(kubectl):
    kubectl("run", "typo", "--image=nginxx:1.27", "--restart=Never")

    def reason():
        statuses = json.loads(kubectl("get", "pod", "typo", "-o", "json").stdout)["status"].get("containerStatuses", [])
        return statuses and statuses[0]["state"].get("waiting", {}).get("reason") == "ImagePullBackOff"

    eventually(reason)
    events = kubectl("describe", "pod", "typo").stdout
    assert "ErrImagePull" in events or "Failed" in events


JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: count}
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: "busybox:1.36", command: [sh, -c, "echo done"]}]
"""


def test_a_job_with_three_completions_completes(kubectl):
    kubectl("apply", "-f", "-", input=JOB)
    kubectl("wait", "--for=condition=complete", "job/count", "--timeout=90s", timeout=120)
    assert json.loads(kubectl("get", "job", "count", "-o", "json").stdout)["status"]["succeeded"] == 3
    assert kubectl("logs", "job/count").stdout == "done\n"  # what the container printed, from either runtime
