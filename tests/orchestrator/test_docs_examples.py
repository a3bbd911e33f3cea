"""The Kubernetes documentation's own examples (content/en/examples/ of kubernetes/website, copied
to tests/data/docs_examples/) applied with the real kubectl the way their pages apply them, and
what a real cluster then shows, as tests/data/docs_examples/expectations.yaml writes it down: pods
Running and Ready or Succeeded, Jobs Complete, Deployments available, claims Bound, or, for the
examples meant to fail, OOMKilled, FailedScheduling "Insufficient cpu", a request refused by a
LimitRange or a ResourceQuota. Each example runs in a namespace of its own, on both runtimes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.orchestrator.helpers import eventually

DATA = Path(__file__).resolve().parents[1] / "data" / "docs_examples"
EXPECTATIONS = yaml.safe_load((DATA / "expectations.yaml").read_text())
EXAMPLES: dict[str, dict] = EXPECTATIONS["examples"]
DOCKER_OFFLINE_WITHOUT_STAND_IN = set(EXPECTATIONS["docker_offline_without_stand_in"])

# Namespaces an example may name without owning them: the test neither creates nor deletes them.
SHARED_NAMESPACES = {"default", "kube-system"}
CLUSTER_SCOPED = {"Namespace", "PersistentVolume", "StorageClass", "Node"}
# Waiting reasons that never clear up by themselves: waiting out the timeout would only hide them.
IMAGE_ERRORS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
POD_TEMPLATE_PATHS = (
    ("spec",),
    ("spec", "template", "spec"),
    ("spec", "jobTemplate", "spec", "template", "spec"),
)


def documents(path: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all((DATA / path).read_text()) if doc]


def files_of(spec: dict) -> list[str]:
    """Every file the example applies (or tries to), in order."""
    found: list[str] = []
    for step in spec["steps"]:
        found += step.get("apply", [])
        if "rejected" in step:
            found.append(step["rejected"]["file"])
    return found


def repository(image: str) -> str:
    """`docker.io/library/bash:5` → `bash`; `registry.k8s.io/redis@sha256:…` → `registry.k8s.io/redis`."""
    name = image.split("@")[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/"):
        name = name.removeprefix(prefix)
    return name


def images_of(spec: dict) -> set[str]:
    """The images the example runs: those of the files it applies (a refused file's pods never run)."""
    images = set()
    for path in (path for step in spec["steps"] for path in step.get("apply", [])):
        for doc in documents(path):
            for keys in POD_TEMPLATE_PATHS:
                pod_spec = doc
                for key in keys:
                    pod_spec = (pod_spec or {}).get(key)
                if isinstance(pod_spec, dict):
                    for container in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
                        images.add(container["image"])
    return images


def named_namespace(spec: dict) -> str | None:
    """The namespace the example's files put their objects in, if they name one."""
    named = {
        doc["metadata"]["namespace"]
        for path in files_of(spec)
        for doc in documents(path)
        if doc["kind"] not in CLUSTER_SCOPED and doc["metadata"].get("namespace")
    }
    assert len(named) <= 1, f"the files name several namespaces: {named}"
    return next(iter(named), None)


def only_unschedulable(spec: dict) -> bool:
    """Whether the example expects nothing but pods the scheduler cannot place: no image is pulled."""
    items = [item for step in spec["steps"] for item in step.get("expect", [])]
    return bool(items) and all("pod" in item and "unschedulable" in item for item in items)


def expected_failures(spec: dict, runtime: str) -> str | None:
    """Why this example fails on `runtime`, when it fails there for named gaps."""
    reasons = [spec["xfail"][runtime]] if runtime in spec.get("xfail", {}) else []
    if runtime == "docker" and not only_unschedulable(spec):
        missing = sorted(i for i in images_of(spec) if repository(i) in DOCKER_OFFLINE_WITHOUT_STAND_IN)
        if missing:
            from clusters.runtime.docker import registry_reachable

            if not registry_reachable():
                reasons.append(
                    f"no registry is reachable and the Docker runtime has no local stand-in for {', '.join(missing)}"
                    " (clusters/runtime/images/__init__.py STAND_INS): ErrImagePull"
                )
    return "; and ".join(reasons) or None


def pod_states(pod: dict) -> dict[str, dict]:
    status = pod.get("status", {})
    return {c["name"]: c for c in status.get("initContainerStatuses", []) + status.get("containerStatuses", [])}


def is_ready(obj: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in obj.get("status", {}).get("conditions", []))


def describe_pod(pod: dict) -> str:
    parts = []
    for name, state in pod_states(pod).items():
        (kind, detail), *_ = state.get("state", {"unknown": {}}).items()
        reason = detail.get("reason", "")
        message = detail.get("message", "")
        last = state.get("lastState", {}).get("terminated", {}).get("reason")
        parts.append(
            f"{name} {kind}{f' {reason}' if reason else ''}{f' ({message})' if message else ''}"
            f" restarts={state.get('restartCount', 0)}{f' last={last}' if last else ''}"
        )
    conditions = {c["type"]: c for c in pod.get("status", {}).get("conditions", [])}
    scheduled = conditions.get("PodScheduled", {})
    unscheduled = f" unschedulable: {scheduled.get('message')}" if scheduled.get("status") == "False" else ""
    return (
        f"pod {pod['metadata']['name']} {pod.get('status', {}).get('phase')} ready={is_ready(pod)}"
        f" node={pod['spec'].get('nodeName')}{unscheduled} [{'; '.join(parts)}]"
    )


class Example:
    """One example applied in one namespace: its steps, what was seen while waiting, its cleanup."""

    def __init__(self, kubectl, name: str, spec: dict, runtime: str, stack):
        self.kubectl = kubectl
        self.stack = stack
        self.worker_log_start = len(stack.log("worker"))
        self.name = name
        self.spec = spec
        self.runtime = runtime
        self.named = named_namespace(spec)
        self.namespace = self.named or kubectl.namespace
        self.started = datetime.now(UTC) - timedelta(seconds=2)
        self.applied: list[str] = []
        self.seen: list[str] = []

    # -- kubectl --

    def get(self, kind: str, name: str | None = None, *args: str) -> dict | None:
        result = self.kubectl(
            "get", kind, *([name] if name else []), "-n", self.namespace, "-o", "json", *args, check=False
        )
        if result.returncode != 0:
            if "NotFound" in result.stderr or "not found" in result.stderr:
                return None
            raise AssertionError(f"{self.name}: kubectl get {kind} {name or ''} failed: {result.stderr.strip()}")
        return json.loads(result.stdout)

    def events(self, uid: str) -> list[dict]:
        found = self.get("events", None, "--field-selector", f"involvedObject.uid={uid}") or {"items": []}
        return found["items"]

    # -- the example's course --

    def prepare(self) -> None:
        if self.named:
            if self.named not in SHARED_NAMESPACES and self.get("namespace", self.named) is None:
                self.kubectl("create", "namespace", self.named)
            self.kubectl("config", "set-context", "--current", "--namespace", self.named)
        for command in self.spec.get("before", []):
            self.kubectl(*command)

    def run(self, number: int, step: dict) -> None:
        for path in step.get("apply", []):
            result = self.kubectl("apply", "-f", str(DATA / path), check=False)
            self.applied.append(path)
            assert result.returncode == 0, (
                f"{self.name} on {self.runtime}: kubectl apply -f {path} was refused, as no real cluster"
                f" refuses it: {result.stderr.strip()}"
            )
        if "expect" in step:
            self.await_expectations(number, step["expect"])
        if "rejected" in step:
            path, message = step["rejected"]["file"], step["rejected"]["message"]
            result = self.kubectl("apply", "-f", str(DATA / path), check=False)
            self.applied.append(path)
            answer = f"it answered {result.returncode}: {result.stdout.strip()} {result.stderr.strip()}"
            assert result.returncode != 0, f"{self.name} on {self.runtime}: {path} should be refused; {answer}"
            assert message in result.stderr, f"{self.name} on {self.runtime}: {path}: expected {message!r}; {answer}"

    def await_expectations(self, number: int, expectations: list[dict]) -> None:
        def satisfied() -> bool:
            """every expectation holds"""
            self.seen = []
            self.stop_at_hopeless_pods(expectations)
            results = [self.check(item) for item in expectations]  # each notes what it saw
            return all(results)

        try:
            eventually(satisfied, timeout=self.spec["timeout"], interval=0.5)
        except AssertionError as error:
            if not str(error).startswith("not within"):
                raise
            raise AssertionError(
                f"{self.name} on {self.runtime}, step {number}: not within {self.spec['timeout']} s:"
                f" expected {expectations}; saw:\n  "
                + "\n  ".join(self.seen + self.recent_events())
                + self.worker_errors()
            ) from None

    def stop_at_hopeless_pods(self, expectations: list[dict]) -> None:
        """Fail at once on a pod that cannot get better: its image cannot be pulled, or it crash-loops
        where the page shows no restart."""
        hopeless = set(IMAGE_ERRORS)
        if not any("restarts_at_least" in item or "last_terminated" in item for item in expectations):
            hopeless.add("CrashLoopBackOff")
        pods = (self.get("pods") or {"items": []})["items"]
        for pod in pods:
            if datetime.fromisoformat(pod["metadata"]["creationTimestamp"].replace("Z", "+00:00")) < self.started:
                continue
            for name, state in pod_states(pod).items():
                waiting = state.get("state", {}).get("waiting", {})
                if waiting.get("reason") in hopeless:
                    self.hopeless(
                        f"pod {pod['metadata']['name']} container {name}: {waiting['reason']}:"
                        f" {waiting.get('message', '')} (expected {expectations})"
                    )

    def recent_events(self) -> list[str]:
        found = self.get("events") or {"items": []}
        lines = []
        for event in found["items"]:
            about = event["involvedObject"]
            lines.append(
                f"event {about.get('kind')}/{about.get('name')}: {event.get('reason')}: {event.get('message')}"
            )
        return lines[-25:]

    def note(self, text: str) -> None:
        self.seen.append(text)

    def hopeless(self, text: str) -> None:
        """Fail at once: what was seen can no longer turn into what the page shows."""
        raise AssertionError(f"{self.name} on {self.runtime}: {text}{self.worker_errors()}")

    def worker_errors(self) -> str:
        """The worker's errors while this example ran, if it logged any."""
        text = self.stack.log("worker")[self.worker_log_start :]
        lines = [line for line in text.splitlines() if "ERROR" in line or "Traceback" in line or "Error:" in line]
        return "\n  worker log: " + "\n  worker log: ".join(lines[-10:]) if lines else ""

    # -- the expectations, one per object --

    def check(self, item: dict) -> bool:
        kind = next(iter(item))
        return getattr(self, f"check_{kind}")(item[kind], {k: v for k, v in item.items() if k != kind})

    def check_pod(self, name: str, want: dict) -> bool:
        pod = self.get("pod", name)
        if pod is None:
            self.note(f"pod {name}: not found")
            return False
        self.note(describe_pod(pod))
        status, states = pod.get("status", {}), pod_states(pod)
        checks = [
            "phase" not in want or status.get("phase") == want["phase"],
            "ready" not in want or is_ready(pod) == want["ready"],
            "qos_class" not in want or status.get("qosClass") == want["qos_class"],
            "node" not in want or pod["spec"].get("nodeName") == want["node"],
            "restarts_at_least" not in want
            or sum(s.get("restartCount", 0) for s in states.values()) >= want["restarts_at_least"],
        ]
        for container, reason in want.get("terminated", {}).items():
            checks.append(states.get(container, {}).get("state", {}).get("terminated", {}).get("reason") == reason)
        for container, reason in want.get("last_terminated", {}).items():
            state = states.get(container, {})
            checks.append(
                reason
                in (
                    state.get("lastState", {}).get("terminated", {}).get("reason"),
                    state.get("state", {}).get("terminated", {}).get("reason"),
                )
            )
        for container, resources in want.get("resources", {}).items():
            declared = next(c for c in pod["spec"]["containers"] if c["name"] == container).get("resources", {})
            if declared != resources:  # admission wrote them once and for all
                self.hopeless(f"pod {name} container {container} has resources {declared}, not {resources}")
        if "phase" in want and status.get("phase") in ("Succeeded", "Failed") and status["phase"] != want["phase"]:
            self.hopeless(f"pod {name} ended {status['phase']}, not {want['phase']}: {describe_pod(pod)}")
        if "unschedulable" in want:
            scheduled = next((c for c in status.get("conditions", []) if c["type"] == "PodScheduled"), {})
            checks.append(
                scheduled.get("status") == "False"
                and scheduled.get("reason") == "Unschedulable"
                and want["unschedulable"] in scheduled.get("message", "")
            )
        if not all(checks):
            return False
        # The costlier looks, once the state is right.
        if "unschedulable" in want and not self.has_event(pod, "FailedScheduling", want["unschedulable"]):
            return False
        if "event" in want and not self.has_event(pod, None, want["event"]):
            return False
        if "logs_contain" in want:
            logs = self.kubectl("logs", name, "-n", self.namespace, "--all-containers", check=False)
            text = logs.stdout + logs.stderr
            missing = [s for s in self.placeholders(want["logs_contain"], pod) if s not in text]
            if missing:
                self.note(f"pod {name} logs lack {missing}: {text[-600:]!r}")
                return False
        if "exec" in want:
            command = want["exec"]
            container = ["-c", command["container"]] if "container" in command else []
            result = self.kubectl(
                "exec", name, "-n", self.namespace, *container, "--", *command["command"], check=False
            )
            if command["contains"] not in result.stdout:
                self.note(f"pod {name}: exec {command['command']} said {result.stdout!r} {result.stderr.strip()!r}")
                return False
        return True

    def placeholders(self, texts: list[str], pod: dict) -> list[str]:
        return [t.format(namespace=self.namespace, node=pod["spec"].get("nodeName")) for t in texts]

    def has_event(self, obj: dict, reason: str | None, part: str) -> bool:
        events = self.events(obj["metadata"]["uid"])
        if any((reason is None or e.get("reason") == reason) and part in (e.get("message") or "") for e in events):
            return True
        self.note(
            f"{obj['kind']} {obj['metadata']['name']} has no event{f' {reason}' if reason else ''} saying {part!r}:"
            f" {[(e.get('reason'), e.get('message')) for e in events]}"
        )
        return False

    def check_workload(self, kind: str, name: str, want: dict) -> bool:
        obj = self.get(kind, name)
        if obj is None:
            self.note(f"{kind} {name}: not found")
            return False
        status = obj.get("status", {})
        self.note(f"{kind} {name}: spec.replicas={obj['spec'].get('replicas')} status={status}")
        available = status.get(
            "readyReplicas" if kind in ("replicaset", "replicationcontroller") else "availableReplicas", 0
        )
        checks = [
            "available" not in want or (available == want["available"] and status.get("replicas") == want["available"]),
            status.get("observedGeneration", 0) >= obj["metadata"].get("generation", 0),
        ]
        if "image" in want:
            images = [c["image"] for c in obj["spec"]["template"]["spec"]["containers"]]
            checks.append(images == [want["image"]] and status.get("updatedReplicas") == status.get("replicas"))
        if "failure" in want:
            if status.get("replicas", 0) > want["available"]:
                self.hopeless(
                    f"{kind} {name} has {status['replicas']} pods; admission should stop it at {want['available']}"
                )
            checks.append(
                any(
                    c["type"] == "ReplicaFailure" and c["status"] == "True" and want["failure"] in c.get("message", "")
                    for c in status.get("conditions", [])
                )
            )
        return all(checks)

    def check_deployment(self, name: str, want: dict) -> bool:
        return self.check_workload("deployment", name, want)

    def check_replicaset(self, name: str, want: dict) -> bool:
        return self.check_workload("replicaset", name, want)

    def check_replicationcontroller(self, name: str, want: dict) -> bool:
        return self.check_workload("replicationcontroller", name, want)

    def check_statefulset(self, name: str, want: dict) -> bool:
        return self.check_workload("statefulset", name, want)

    def check_daemonset(self, name: str, want: dict) -> bool:
        daemonset = self.get("daemonset", name)
        nodes = len(json.loads(self.kubectl("get", "nodes", "-o", "json").stdout)["items"])
        if daemonset is None:
            self.note(f"daemonset {name}: not found")
            return False
        status = daemonset.get("status", {})
        self.note(f"daemonset {name}: {nodes} nodes, status={status}")
        return status.get("desiredNumberScheduled") == nodes and status.get("numberReady") == nodes

    def check_job(self, name: str, want: dict) -> bool:
        job = self.get("job", name)
        if job is None:
            self.note(f"job {name}: not found")
            return False
        status = job.get("status", {})
        self.note(f"job {name}: status={status}")
        finished = [
            c for c in status.get("conditions", []) if c["type"] in ("Complete", "Failed") and c["status"] == "True"
        ]
        if finished and (
            finished[0]["type"] != want["condition"]
            or finished[0].get("reason") != want.get("reason", finished[0].get("reason"))
        ):
            self.hopeless(f"job {name} ended {finished[0]['type']} ({finished[0].get('reason')}): status={status}")
        for counter in ("succeeded", "failed"):
            if status.get(counter, 0) > want.get(counter, want.get(f"{counter}_at_most", float("inf"))):
                self.hopeless(
                    f"job {name} has {status[counter]} {counter} pods, more than a real cluster makes: status={status}"
                )
        condition = next(
            (c for c in status.get("conditions", []) if c["type"] == want["condition"] and c["status"] == "True"), None
        )
        checks = [
            condition is not None,
            "reason" not in want or (condition or {}).get("reason") == want["reason"],
            "succeeded" not in want or status.get("succeeded", 0) == want["succeeded"],
            "failed" not in want or status.get("failed", 0) == want["failed"],
            "completed_indexes" not in want or status.get("completedIndexes") == want["completed_indexes"],
            "failed_indexes" not in want or status.get("failedIndexes") == want["failed_indexes"],
        ]
        if not all(checks):
            return False
        return "logs_contain" not in want or self.job_logs_contain(name, want["logs_contain"])

    def job_logs_contain(self, job: str, texts: list[str]) -> bool:
        logs = self.kubectl("logs", f"job/{job}", "-n", self.namespace, check=False)
        missing = [t for t in texts if t not in logs.stdout]
        if missing:
            self.note(f"job {job} logs lack {missing}: {logs.stdout[-600:]!r} {logs.stderr.strip()!r}")
        return not missing

    def check_cronjob(self, name: str, want: dict) -> bool:
        cronjob = self.get("cronjob", name)
        if cronjob is None:
            self.note(f"cronjob {name}: not found")
            return False
        self.note(f"cronjob {name}: status={cronjob.get('status', {})}")
        jobs = [
            job
            for job in (self.get("jobs") or {"items": []})["items"]
            if any(o["kind"] == "CronJob" and o["name"] == name for o in job["metadata"].get("ownerReferences", []))
        ]
        complete = [
            job["metadata"]["name"]
            for job in jobs
            if any(
                c["type"] == "Complete" and c["status"] == "True" for c in job.get("status", {}).get("conditions", [])
            )
        ]
        self.note(f"cronjob {name}: jobs {[j['metadata']['name'] for j in jobs]}, complete {complete}")
        if not complete:
            return False
        return "logs_contain" not in want or self.job_logs_contain(complete[0], want["logs_contain"])

    def check_service(self, name: str, want: dict) -> bool:
        endpoints = self.get("endpoints", name)
        addresses = [a for s in (endpoints or {}).get("subsets", []) or [] for a in s.get("addresses", [])]
        self.note(f"service {name}: {len(addresses)} ready endpoint addresses {[a.get('ip') for a in addresses]}")
        return endpoints is not None and len(addresses) == want["endpoints"]

    def check_phase(self, kind: str, name: str, want: dict) -> bool:
        obj = self.get(kind, name)
        if obj is None:
            self.note(f"{kind} {name}: not found")
            return False
        self.note(f"{kind} {name}: phase={obj.get('status', {}).get('phase')} spec={obj.get('spec')}")
        return obj.get("status", {}).get("phase") == want["phase"] and (
            "volume" not in want or obj["spec"].get("volumeName") == want["volume"]
        )

    def check_persistentvolumeclaim(self, name: str, want: dict) -> bool:
        return self.check_phase("persistentvolumeclaim", name, want)

    def check_persistentvolume(self, name: str, want: dict) -> bool:
        return self.check_phase("persistentvolume", name, want)

    def check_namespace(self, name: str, want: dict) -> bool:
        return self.check_phase("namespace", name, want)

    def check_resourcequota(self, name: str, want: dict) -> bool:
        quota = self.get("resourcequota", name)
        used = (quota or {}).get("status", {}).get("used")
        self.note(f"resourcequota {name}: used={used}")
        return quota is not None and all((used or {}).get(k) == v for k, v in want["used"].items())

    def check_horizontalpodautoscaler(self, name: str, want: dict) -> bool:
        hpa = self.get("horizontalpodautoscaler", name)
        self.note(f"horizontalpodautoscaler {name}: {hpa and hpa.get('status')}")
        return hpa is not None and hpa.get("status", {}).get("currentReplicas") == want["current_replicas"]

    def check_networkpolicy(self, name: str, want: dict) -> bool:
        policy = self.get("networkpolicy", name)
        self.note(f"networkpolicy {name}: {'found' if policy else 'not found'}")
        return policy is not None

    # -- afterwards --

    def clean_up(self) -> None:
        """Undo the example: what it made outside its own namespace goes; its namespace goes."""
        for command in self.spec.get("after", []):
            self.kubectl(*command, check=False)
        force = ["--grace-period=0", "--force", "--ignore-not-found"]
        if self.namespace not in SHARED_NAMESPACES:
            self.kubectl("delete", "pods", "--all", "-n", self.namespace, *force, check=False)
        for path in reversed(self.applied):
            shared = any(
                doc["kind"] in CLUSTER_SCOPED or doc["metadata"].get("namespace") in SHARED_NAMESPACES
                for doc in documents(path)
            )
            if shared or self.namespace in SHARED_NAMESPACES:
                self.kubectl("delete", "-f", str(DATA / path), *force, "--wait=false", check=False)
        if self.named and self.named not in SHARED_NAMESPACES:
            # Left in place for the next example of the same page; its objects are gone.
            for path in reversed(self.applied):
                self.kubectl("delete", "-f", str(DATA / path), *force, "--wait=false", check=False)
        self.kubectl("delete", "namespace", self.kubectl.namespace, "--wait=false", check=False)


@pytest.mark.parametrize("example", list(EXAMPLES))
def test_a_documentation_example_ends_as_its_page_shows(example, cluster, kubectl, runtime, request):
    spec = EXAMPLES[example]
    if reason := expected_failures(spec, runtime):
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=reason))
    stack, _ = cluster
    course = Example(kubectl, example, spec, runtime, stack)
    try:
        course.prepare()
        for number, step in enumerate(spec["steps"], start=1):
            course.run(number, step)
    finally:
        course.clean_up()
