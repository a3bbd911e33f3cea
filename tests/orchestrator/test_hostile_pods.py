"""What the API accepts from a hostile manifest runs contained, on both runtimes, with real kubectl
(tests/kubectl/test_hostile_corpus.py proves the refusals; this module the run time of the rest):

- shell metacharacters in `command`/`args` (and in `kubectl exec`'s argv) are argv, never a shell's
  input: printed literally, nothing made on this machine or in the container; a learner's own
  `sh -c` script runs in its container, which is the pod's (its hostname, no Docker socket);
- an image from a registry the site does not pull from ends in ErrImagePull then ImagePullBackOff
  saying why, and nothing else of the sandbox moves;
- `replicas: 10000` stops at the sandbox's pod limit (TUTOR_SANDBOX_MAX_PODS, low here) with
  upstream's FailedCreate and ReplicaFailure, what fits no node Pending with FailedScheduling, and
  scaling down clears it all;
- a `subPath` that climbs out is refused before anything runs; a valid one of a ConfigMap volume
  holds that key alone.

One stack per runtime for the module; the Docker one's containers are audited by
tests/docker/hardening.py when it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.kubectl.conftest import KUBECTL
from tests.orchestrator.conftest import running_cluster
from tests.orchestrator.helpers import eventually, pod, pod_containers, pods

pytestmark = pytest.mark.xdist_group("hostile-pods")  # one stack per runtime for the module

MAX_PODS = 25


@pytest.fixture(scope="module", params=["simulated", "docker"])
def cluster(request, tmp_path_factory):
    runtime = request.param
    # No registry to pull from (the default, said out loud), and a pod limit a test reaches quickly.
    settings = {"TUTOR_SANDBOX_MAX_PODS": str(MAX_PODS), "TUTOR_IMAGE_PULL_REGISTRIES": ""}
    with running_cluster(tmp_path_factory.mktemp(f"hostile-{runtime}"), runtime, env=settings) as running:
        yield running


def apply(kubectl, *objects: dict, check: bool = True) -> subprocess.CompletedProcess:
    """Apply objects written as JSON (which is YAML): no quoting of the hostile strings to get wrong."""
    return kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(o) for o in objects), check=check)


def pod_of(name: str, *containers: dict, **spec) -> dict:
    spec["containers"] = list(containers)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def phase(kubectl, name: str) -> str:
    return pod(kubectl, name).get("status", {}).get("phase", "")


def running(kubectl, name: str, timeout: float = 90) -> None:
    try:
        eventually(lambda: phase(kubectl, name) == "Running", timeout=timeout)
    except AssertionError:
        described = kubectl("describe", "pod", name, check=False).stdout
        raise AssertionError(f"pod {name} is not Running within {timeout} s:\n{described}") from None


# ---------------------------------------------------------------------------------------------
# 1. Shell metacharacters are argv.
# ---------------------------------------------------------------------------------------------


def hostile_args(mark: str) -> list[str]:
    return [f"$(touch /tmp/{mark})", "; rm -rf / #", "`id`", "&& reboot", "| cat /etc/shadow", "$HOME"]


def test_metacharacters_in_command_and_args_are_passed_as_argv(kubectl):
    mark = f"pwned-{uuid.uuid4().hex[:10]}"
    args = hostile_args(mark)
    echo = {"name": "main", "image": "busybox:1.36", "command": ["echo"], "args": args}
    # The same strings handed on as "$@" to a shell that stays up: data to it, never code.
    keeper = {
        "name": "main",
        "image": "busybox:1.36",
        "command": ["sh", "-c", 'echo "$@"; exec sleep 3600', "sh", *args],
    }
    apply(kubectl, pod_of("literal", echo, restartPolicy="Never"), pod_of("keeper", keeper))
    eventually(lambda: phase(kubectl, "literal") == "Succeeded", timeout=90)
    printed = " ".join(args) + "\n"
    assert kubectl("logs", "literal").stdout == printed
    running(kubectl, "keeper")
    eventually(lambda: kubectl("logs", "keeper").stdout == printed, timeout=30)

    # kubectl exec's argv is argv too.
    exec_args = [f"$(touch /tmp/{mark})", ";", "touch", f"/tmp/{mark}", "&&", "id"]
    assert kubectl("exec", "keeper", "--", "echo", *exec_args).stdout == " ".join(exec_args) + "\n"

    # Nothing was made, in the container or on this machine.
    looked = kubectl("exec", "keeper", "--", "ls", f"/tmp/{mark}", check=False)
    assert looked.returncode != 0
    assert "No such file or directory" in looked.stderr
    assert not Path(f"/tmp/{mark}").exists()


def test_a_learners_own_shell_script_runs_inside_its_container(kubectl):
    mark = f"pwned-{uuid.uuid4().hex[:10]}"
    script = f"hostname; touch /tmp/{mark} && echo touched; exec sleep 3600"
    apply(kubectl, pod_of("scripted", {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}))
    running(kubectl, "scripted")
    eventually(lambda: kubectl("logs", "scripted").stdout == "scripted\ntouched\n", timeout=30)
    # What the script made is in the container, not on this machine.
    assert kubectl("exec", "scripted", "--", "ls", f"/tmp/{mark}").stdout == f"/tmp/{mark}\n"
    assert not Path(f"/tmp/{mark}").exists()
    # The container is the pod's: its hostname, and no Docker socket to reach the engine with.
    assert kubectl("exec", "scripted", "--", "hostname").stdout == "scripted\n"
    socket = kubectl("exec", "scripted", "--", "ls", "/var/run/docker.sock", check=False)
    assert socket.returncode != 0
    assert "No such file or directory" in socket.stderr


# ---------------------------------------------------------------------------------------------
# 2. Images from elsewhere are not pulled.
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def table_watch(kubectl):
    """`kubectl get pods --watch` as kubectl prints it, in the background: yields a function that
    returns the (NAME, STATUS) of every row printed so far."""
    path = kubectl.home / f"watch-{uuid.uuid4().hex[:8]}.txt"
    command = [KUBECTL, "--kubeconfig", str(kubectl.kubeconfig), "--cache-dir", str(kubectl.home / "cache")]
    with path.open("w") as sink:
        process = subprocess.Popen(
            [*command, "get", "pods", "--watch"],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "HOME": str(kubectl.home)},
        )

    def rows() -> list[tuple[str, str]]:
        cells = [line.split() for line in path.read_text().splitlines()[1:]]
        return [(cell[0], cell[2]) for cell in cells if len(cell) >= 3]

    try:
        yield rows
    finally:
        process.terminate()
        process.wait(timeout=10)


FOREIGN = {"miner": "ghcr.io/someone/miner:1", "evil": "evil.example.com/x:latest"}


def test_an_image_from_elsewhere_ends_in_image_pull_back_off_saying_why(cluster, kubectl, runtime):
    stack, _ = cluster
    sleeper = {"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}
    apply(kubectl, pod_of("bystander", sleeper))
    running(kubectl, "bystander")
    before = pod(kubectl, "bystander")["status"]["containerStatuses"][0]

    with table_watch(kubectl) as rows:
        apply(kubectl, *(pod_of(name, {"name": "main", "image": image}) for name, image in FOREIGN.items()))

        def both_backed_off():
            """kubectl printed ErrImagePull, then ImagePullBackOff, for both pods"""
            seen = rows()
            return all(
                (name, "ErrImagePull") in seen
                and (name, "ImagePullBackOff") in seen[seen.index((name, "ErrImagePull")) :]
                for name in FOREIGN
            )

        eventually(both_backed_off, timeout=60)
    table = kubectl("get", "pods").stdout
    for name in FOREIGN:
        row = next(line.split() for line in table.splitlines() if line.startswith(f"{name} "))
        assert row[1:3] in (["0/1", "ErrImagePull"], ["0/1", "ImagePullBackOff"]), table

    events = json.loads(kubectl("get", "events", "-o", "json").stdout)["items"]
    for name, image in FOREIGN.items():
        failed = [e["message"] for e in events if e["involvedObject"]["name"] == name and e["reason"] == "Failed"]
        pulled = next(m for m in failed if m.startswith(f'Failed to pull image "{image}": '))
        if runtime == "docker":  # the site's rule, named
            registry = image.split("/")[0]
            assert f"this site pulls no images from {registry} (TUTOR_IMAGE_PULL_REGISTRIES)" in pulled, pulled
        else:  # the catalog has no such image
            assert "pull access denied for" in pulled, pulled
        backoffs = [e["message"] for e in events if e["involvedObject"]["name"] == name and e["reason"] == "BackOff"]
        assert f'Back-off pulling image "{image}"' in backoffs, backoffs
        waiting = pod(kubectl, name)["status"]["containerStatuses"][0]["state"]["waiting"]
        assert waiting["reason"] in ("ErrImagePull", "ImagePullBackOff")

    # Nothing else moved: the bystander runs on as it did, and no such image reached the engine.
    after = pod(kubectl, "bystander")["status"]["containerStatuses"][0]
    assert after["restartCount"] == 0
    assert (after["state"], after.get("containerID")) == (before["state"], before.get("containerID"))
    assert kubectl("exec", "bystander", "--", "echo", "still here").stdout == "still here\n"
    if runtime == "docker":
        for image in FOREIGN.values():
            found = stack.manage(
                "shell",
                "--no-imports",
                "-c",
                "from clusters.runtime.docker import engine_client; "
                f"print(len(engine_client().images.list(name={image!r})))",
            )
            assert found.returncode == 0, found.stderr
            assert found.stdout.strip() == "0", f"{image} is in the engine"


# ---------------------------------------------------------------------------------------------
# 3. replicas: 10000 stops at the sandbox's pod limit.
# ---------------------------------------------------------------------------------------------

MANY = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "many"},
    "spec": {
        "replicas": 10000,
        "selector": {"matchLabels": {"app": "many"}},
        "template": {
            "metadata": {"labels": {"app": "many"}},
            "spec": {
                "terminationGracePeriodSeconds": 1,  # sleep, as PID 1, ignores SIGTERM
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox:1.36",
                        "command": ["sleep", "3600"],
                        # Two fit a node (2 CPUs), so most of the pods also wait for one.
                        "resources": {"requests": {"cpu": "750m", "memory": "16Mi"}},
                    }
                ],
            },
        },
    },
}


def sandbox_pods(kubectl) -> list[dict]:
    return json.loads(kubectl("get", "pods", "--all-namespaces", "-o", "json").stdout)["items"]


def conditions(kubectl, kind: str, name: str) -> dict[str, dict]:
    found = json.loads(kubectl("get", kind, name, "-o", "json").stdout)["status"].get("conditions") or []
    return {c["type"]: c for c in found}


def test_ten_thousand_replicas_stop_at_the_sandboxs_pod_limit(kubectl):
    others = len(sandbox_pods(kubectl))  # what the module's other tests left running
    assert others < MAX_PODS - 5
    apply(kubectl, MANY)  # accepted, as Kubernetes accepts it
    assert kubectl("get", "deployment", "many", "-o", "jsonpath={.spec.replicas}").stdout == "10000"

    def at_the_limit():
        """the sandbox holds exactly its pod limit, and the ReplicaSet says why no more"""
        replicasets = json.loads(kubectl("get", "replicasets", "-l", "app=many", "-o", "json").stdout)["items"]
        found = (replicasets and replicasets[0].get("status", {}).get("conditions")) or []
        failure = next((c for c in found if c["type"] == "ReplicaFailure"), None)
        return len(sandbox_pods(kubectl)) == MAX_PODS and failure and (replicasets[0], failure)

    replicaset, failure = eventually(at_the_limit, timeout=60)
    assert len(pods(kubectl, "app=many")) == MAX_PODS - others
    assert (failure["status"], failure["reason"]) == ("True", "FailedCreate")
    assert "exceeded the sandbox's pod limit" in failure["message"]
    name = replicaset["metadata"]["name"]
    events = json.loads(kubectl("get", "events", "-o", "json").stdout)["items"]
    refused = [e["message"] for e in events if e["involvedObject"]["name"] == name and e["reason"] == "FailedCreate"]
    assert refused
    for message in refused:
        assert message.startswith(f'Error creating: pods "{name}-'), message
        assert "is forbidden: exceeded the sandbox's pod limit: " in message
    assert f"limited: pods={MAX_PODS}" in refused[0]
    deployment = eventually(lambda: conditions(kubectl, "deployment", "many").get("ReplicaFailure"), timeout=30)
    assert "exceeded the sandbox's pod limit" in deployment["message"]

    # Two fit each node; the rest wait, in the scheduler's words.
    def placed():
        """every pod of the Deployment is Running or told why it waits"""
        found = pods(kubectl, "app=many")
        waiting = [p for p in found if p["status"].get("phase") == "Pending"]
        runs = [p for p in found if p["status"].get("phase") == "Running"]
        told = all(
            # A pod the scheduler has not looked at yet has no conditions: not told yet.
            any(
                c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable"
                for c in p["status"].get("conditions", [])
            )
            for p in waiting
        )
        return len(runs) == 4 and len(waiting) == len(found) - 4 and told and waiting

    waiting = eventually(placed, timeout=90)
    scheduled = next(c for c in waiting[0]["status"]["conditions"] if c["type"] == "PodScheduled")
    assert scheduled["message"].startswith("0/2 nodes are available: 2 Insufficient cpu."), scheduled
    events = json.loads(kubectl("get", "events", "--field-selector", "reason=FailedScheduling", "-o", "json").stdout)
    assert any(e["message"].startswith("0/2 nodes are available: 2 Insufficient cpu.") for e in events["items"])

    # Scaling down brings the sandbox back, and the failure is gone.
    kubectl("scale", "deployment", "many", "--replicas=2")

    def two_left():
        """the Deployment's two pods alone are left, running, and no failure is reported"""
        found = pods(kubectl, "app=many")
        return (
            len(found) == 2
            and all(p["status"].get("phase") == "Running" for p in found)
            and len(sandbox_pods(kubectl)) == others + 2
            and "ReplicaFailure" not in conditions(kubectl, "replicaset", name)
            and "ReplicaFailure" not in conditions(kubectl, "deployment", "many")
        )

    eventually(two_left, timeout=90)


# ---------------------------------------------------------------------------------------------
# 4. subPath.
# ---------------------------------------------------------------------------------------------


def test_a_climbing_sub_path_is_refused_and_a_valid_one_stays_in_its_volume(cluster, kubectl, runtime):
    stack, _ = cluster
    climber = pod_of(
        "climber",
        {
            "name": "main",
            "image": "busybox:1.36",
            "command": ["sleep", "3600"],
            "volumeMounts": [{"name": "v", "mountPath": "/data", "subPath": "../../etc"}],
        },
        volumes=[{"name": "v", "emptyDir": {}}],
    )
    refused = apply(kubectl, climber, check=False)
    assert refused.returncode != 0
    assert (
        'The Pod "climber" is invalid: spec.containers[0].volumeMounts.subPath: '
        "Invalid value: \"../../etc\": must not contain '..'"
    ) in refused.stderr
    assert "NotFound" in kubectl("get", "pod", "climber", check=False).stderr
    if runtime == "docker":
        assert pod_containers(stack, kubectl.namespace) == []

    settings = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings"},
        "data": {"app.conf": "colour = blue\n", "other.conf": "not for this container\n"},
    }
    reader = pod_of(
        "reader",
        {
            "name": "main",
            "image": "busybox:1.36",
            "command": ["sleep", "3600"],
            "volumeMounts": [{"name": "settings", "mountPath": "/etc/app/app.conf", "subPath": "app.conf"}],
        },
        volumes=[{"name": "settings", "configMap": {"name": "settings"}}],
    )
    apply(kubectl, settings, reader)
    running(kubectl, "reader")
    assert kubectl("exec", "reader", "--", "cat", "/etc/app/app.conf").stdout == "colour = blue\n"
    # The key alone: not the volume's other key, not the volume's directory.
    assert kubectl("exec", "reader", "--", "ls", "-A", "/etc/app").stdout == "app.conf\n"
