"""Failure as the lessons teach it: a container that keeps crashing is restarted after longer and
longer back-offs, and a Job whose pods keep failing gives up at its backoffLimit.

The stack runs with TUTOR_FAST_BACKOFF=1: crash loops back off from 1 s, doubling to 60 s."""

import json
import textwrap
import time

import pytest

from tests.orchestrator.helpers import SLEEPER, engine_kill, eventually, moment, names, pod, ready, watching

CRASHER = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata: {name: crash}
    spec:
      restartPolicy: Always
      containers:
      - {name: main, image: "busybox:1.36", command: [sh, -c, "echo start; exit 1"]}
    """
)


def test_a_crashing_container_goes_crash_loop_back_off_and_waits_longer_each_time(kubectl):
    runs: dict[int, dict] = {}  # run number → its terminated state (startedAt, finishedAt)
    reasons: set[str] = set()

    def record(status: dict) -> None:
        count = status.get("restartCount", 0)
        state, last = status.get("state", {}), status.get("lastState", {}).get("terminated")
        reasons.add(state.get("waiting", {}).get("reason", ""))
        if "waiting" in state and last:
            runs[count] = last  # waiting to restart: the last state is the run that just ended
        elif last and count:
            runs[count - 1] = last  # running (or just ended) again: the last state is the run before
        if "terminated" in state:
            runs[count] = state["terminated"]

    with watching(kubectl, "pods", "--field-selector", "metadata.name=crash") as seen:
        kubectl("apply", "-f", "-", input=CRASHER)

        def six_runs():
            """the pod's container ran six times, and the watch saw runs 1 to 5 end"""
            for version in seen():
                for status in version.get("status", {}).get("containerStatuses", []):
                    record(status)
            return set(range(1, 6)) <= runs.keys()

        eventually(six_runs, timeout=90)
    assert "CrashLoopBackOff" in reasons
    assert all(runs[n]["exitCode"] == 1 and runs[n]["reason"] == "Error" for n in range(1, 6))
    # As upstream's kubelet, the first restart is at once; from then on the gap between one run's
    # end and the next one's start is the back-off: 1 s, 2 s, 4 s, 8 s. Timestamps have whole
    # seconds, and the kubelet takes a moment to see an exit.
    gaps = [(moment(runs[n + 1]["startedAt"]) - moment(runs[n]["finishedAt"])).total_seconds() for n in range(1, 5)]
    for gap, backoff in zip(gaps, (1, 2, 4, 8), strict=True):
        assert backoff - 1 <= gap <= backoff + 3, gaps
    assert gaps[1] < gaps[2] < gaps[3], gaps
    events = json.loads(kubectl("get", "events", "--field-selector", "involvedObject.name=crash", "-o", "json").stdout)
    backoffs = [e for e in events["items"] if e["reason"] == "BackOff"]
    assert backoffs
    assert "Back-off restarting failed container main" in backoffs[0]["message"]
    assert kubectl("logs", "crash", "--previous").stdout == "start\n"


FAILING_JOB = textwrap.dedent(
    """\
    apiVersion: batch/v1
    kind: Job
    metadata: {name: fail}
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: "busybox:1.36", command: [sh, -c, "echo failing; exit 1"]}]
    """
)

PASSING_JOB = textwrap.dedent(
    """\
    apiVersion: batch/v1
    kind: Job
    metadata: {name: pass}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: "busybox:1.36", command: [sh, -c, "echo done"]}]
    """
)


def test_a_failing_job_stops_at_its_backoff_limit(kubectl):
    kubectl("apply", "-f", "-", input=FAILING_JOB)
    kubectl("wait", "--for=condition=Failed", "job/fail", "--timeout=90s", timeout=120)
    job = json.loads(kubectl("get", "job", "fail", "-o", "json").stdout)
    failed = next(c for c in job["status"]["conditions"] if c["type"] == "Failed")
    assert failed["status"] == "True"
    assert failed["reason"] == "BackoffLimitExceeded"
    assert job["status"]["failed"] == 3
    assert not job["status"].get("active")
    created = names(kubectl, "pods", "job-name=fail")
    assert len(created) == 3
    phases = {p: pod(kubectl, p)["status"]["phase"] for p in created}
    assert set(phases.values()) == {"Failed"}, phases
    # Another Job in the namespace runs to completion: the Job controller has gone over the
    # namespace again since, and started nothing more for the failed one.
    kubectl("apply", "-f", "-", input=PASSING_JOB)
    kubectl("wait", "--for=condition=Complete", "job/pass", "--timeout=90s", timeout=120)
    assert names(kubectl, "pods", "job-name=fail") == created
    assert json.loads(kubectl("get", "job", "fail", "-o", "json").stdout)["status"]["failed"] == 3


def test_a_container_killed_behind_the_kubelets_back_is_restarted_at_once(kubectl, runtime):
    """Nothing in the cluster asked for it, and nothing is planned for a running pod: what brings
    the kubelet back is the engine's event (clusters.engine_watch), well before the full resync."""
    if runtime != "docker":
        pytest.skip("only a real engine's containers can be killed from outside the cluster")
    kubectl("apply", "-f", "-", input=SLEEPER)
    eventually(lambda: ready(pod(kubectl, "sleeper")), timeout=60)
    time.sleep(2)  # let the kubelet's run that saw it start end: the kill comes while nothing is due
    killed_at = time.monotonic()
    engine_kill(kubectl.namespace, "sleeper", "main")

    def restarted():
        """the pod's container runs again, its last run ended by the kill"""
        (status,) = pod(kubectl, "sleeper")["status"]["containerStatuses"]
        return status["restartCount"] == 1 and "running" in status["state"] and status["lastState"]["terminated"]

    eventually(restarted, timeout=20)
    assert time.monotonic() - killed_at < 10
    (status,) = pod(kubectl, "sleeper")["status"]["containerStatuses"]
    assert status["lastState"]["terminated"]["exitCode"] == 137
