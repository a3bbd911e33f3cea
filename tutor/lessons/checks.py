"""Lesson checks: declarative assertions on a sandbox's state, judged from what kubectl would see.

A check is written in a lesson's `lesson.yaml` as a mapping with one key, its type:

    check:
      pods: {selector: app=web, count: 3}            # 3 pods labelled app=web are Running and Ready

`parse_check` turns that into a frozen dataclass (or raises `CheckSpecError` naming what is
wrong, so a broken lesson fails at start-up and in tests), and `evaluate` judges it against an
`Observation` — a snapshot of the sandbox plus, for the few checks that need them, its change
history and container logs. Checks judge outcomes, never the commands a learner typed, and say
why they fail in words (`expected 3 ready pods labelled app=web, found 2: web-7d9f-x2k is in
CrashLoopBackOff`), in the language that is active when they are evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clusters.objects import selectors
from clusters.objects.resources import RESOURCES
from clusters.snapshot import PodView, Snapshot, nodes_view, rollout_progress, service_endpoints

MAX_NAMED = 3  # pods named in a failure explanation
CLUSTER_SCOPED_KINDS = frozenset(r.kind for r in RESOURCES if not r.namespaced)


def _scope(kind: str, namespace: str | None) -> str:
    """Where an object of `kind` lives when a check does not say: `default`, or nowhere for
    cluster-scoped kinds (Node, Namespace, PersistentVolume, …)."""
    if namespace is not None:
        return namespace
    return "" if kind in CLUSTER_SCOPED_KINDS else "default"


def _value_words(value: Any) -> str:
    """A value as YAML writes it (true, not True), for descriptions."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "-" if value is None else str(value)


class CheckSpecError(ValueError):
    """A check in a lesson file that cannot be understood."""


@dataclass(frozen=True)
class Result:
    passed: bool
    message: str


@dataclass(frozen=True)
class Observation:
    """What a check may look at. `history(actor, kind, change_type, name_prefix)` counts matching
    changes in the sandbox's change log; `logs(namespace, pod, container)` returns a container's
    output."""

    snapshot: Snapshot
    history: Callable[[str, str, str, str], int] = field(default=lambda actor, kind, change_type, name: 0)
    logs: Callable[[str, str, str | None], Sequence[str]] = field(default=lambda namespace, pod, container: ())


# --- words -------------------------------------------------------------------------------------


POD_STATES = ("ready", "running", "succeeded", "failed", "pending", "crashloop", "image-error", "any")


def _state_word(state: str) -> str:
    return {
        "ready": _("Running and Ready"),
        "running": _("Running"),
        "succeeded": _("Completed"),
        "failed": _("Failed"),
        "pending": _("Pending"),
        "crashloop": _("in CrashLoopBackOff"),
        "image-error": _("failing to pull their image"),
        "any": _("present"),
    }[state]


def _pods_phrase(selector: str, name: str, count: int = 2) -> str:
    if name:
        return _("pod %(name)s") % {"name": name}
    if selector:
        return ngettext("pod labelled %(selector)s", "pods labelled %(selector)s", count) % {"selector": selector}
    return ngettext("pod", "pods", count)


def _pod_problem(pod: PodView) -> str:
    """Why one pod does not count, in a few words."""
    if pod.deleting:
        return _("%(pod)s is terminating") % {"pod": pod.name}
    if not pod.node:
        return _("%(pod)s is not scheduled to a node yet") % {"pod": pod.name}
    if pod.status == "Running" and pod.ready < pod.total:
        return _("%(pod)s is Running but not ready (%(ready)s)") % {"pod": pod.name, "ready": pod.ready_text}
    return _("%(pod)s is in %(status)s") % {"pod": pod.name, "status": pod.status}


def _named(problems: list[str]) -> str:
    shown = problems[:MAX_NAMED]
    more = len(problems) - len(shown)
    text = "; ".join(shown)
    if more:
        text += " " + ngettext("(and %(count)d more)", "(and %(count)d more)", more) % {"count": more}
    return text


# --- the check types ---------------------------------------------------------------------------


class Check:
    """Base of the check types: a registry by key, and spec parsing with clear errors."""

    key: ClassVar[str]
    types: ClassVar[dict[str, type[Check]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("key"):  # a base without its own key is not a check of its own
            Check.types[cls.key] = cls

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> Check:
        if not isinstance(spec, dict):
            raise CheckSpecError(f"{where}: `{cls.key}` takes a mapping of options")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise CheckSpecError(
                f"{where}: `{cls.key}` has no option {', '.join(unknown)} (it takes: {', '.join(sorted(known))})"
            )
        try:
            check = cls(**spec)
        except TypeError as error:
            raise CheckSpecError(f"{where}: `{cls.key}`: {error}") from None
        problem = check.problem()
        if problem:
            raise CheckSpecError(f"{where}: `{cls.key}`: {problem}")
        return check

    def problem(self) -> str:
        """What is wrong with the options (empty when fine)."""
        return ""

    @property
    def reads_logs(self) -> bool:
        """Whether it looks at container output, which changes without any object changing."""
        return False

    def describe(self) -> str:
        raise NotImplementedError

    def evaluate(self, observed: Observation) -> Result:
        raise NotImplementedError

    def passed(self) -> Result:
        return Result(True, self.describe())


def _counted(want: int, exact: bool, found: int) -> bool:
    return found == want if exact else found >= want


@dataclass(frozen=True)
class Pods(Check):
    """Pods matching a selector (or one pod by name) in a state, counted: `count` exactly or at
    least `min`; optionally spread over at least `nodes` nodes, with `containers` containers,
    restarted at least `restarts` times, or running `image`."""

    key = "pods"
    selector: str = ""
    name: str = ""
    namespace: str = "default"
    count: int | None = None
    min: int | None = None
    state: str = "ready"
    containers: int | None = None
    nodes: int | None = None
    restarts: int | None = None
    image: str = ""

    def problem(self) -> str:
        if self.state not in POD_STATES:
            return f"state must be one of {', '.join(POD_STATES)}, not {self.state!r}"
        if (self.count is None) == (self.min is None) and not self.name:
            return "give either count or min"
        if self.selector:
            try:
                selectors.parse_label_selector(self.selector)
            except selectors.SelectorError as error:
                return f"selector {self.selector!r}: {error}"
        elif not self.name:
            return "give a selector or a name"
        return ""

    @property
    def wanted(self) -> int:
        return self.count if self.count is not None else (self.min if self.min is not None else 1)

    def _fits(self, pod: PodView) -> bool:
        matches = {
            "ready": pod.is_ready,
            "running": pod.phase == "Running" and not pod.deleting,
            "succeeded": pod.phase == "Succeeded",
            "failed": pod.phase == "Failed",
            "pending": pod.phase == "Pending" and not pod.deleting,
            "crashloop": any(c.reason == "CrashLoopBackOff" for c in pod.containers),
            "image-error": any(c.reason in ("ErrImagePull", "ImagePullBackOff") for c in pod.containers),
            "any": not pod.deleting,
        }[self.state]
        if self.containers is not None and len(pod.containers) != self.containers:
            return False
        if self.restarts is not None and pod.restarts < self.restarts:
            return False
        if self.image and all(c.image != self.image for c in pod.containers):
            return False
        return matches

    def describe(self) -> str:
        what = _pods_phrase(self.selector, self.name, self.wanted)
        words = {"count": self.wanted, "what": what, "state": _state_word(self.state)}
        if self.name:
            parts = [_("%(what)s is %(state)s") % words]
        elif self.count is not None:
            parts = [
                ngettext(
                    "exactly %(count)d %(what)s is %(state)s", "exactly %(count)d %(what)s are %(state)s", self.wanted
                )
                % words
            ]
        else:
            parts = [
                ngettext(
                    "at least %(count)d %(what)s is %(state)s", "at least %(count)d %(what)s are %(state)s", self.wanted
                )
                % words
            ]
        if self.containers is not None:
            parts.append(_("each with %(count)d containers") % {"count": self.containers})
        if self.restarts is not None:
            parts.append(
                ngettext("restarted at least %(count)d time", "restarted at least %(count)d times", self.restarts)
                % {"count": self.restarts}
            )
        if self.image:
            parts.append(_("running image %(image)s") % {"image": self.image})
        if self.nodes is not None:
            parts.append(_("spread over at least %(count)d nodes") % {"count": self.nodes})
        return ", ".join(parts)

    def evaluate(self, observed: Observation) -> Result:
        pods = observed.snapshot.pods(self.namespace, self.selector or None)
        if self.name:
            pods = [p for p in pods if p.name == self.name]
        fitting = [p for p in pods if self._fits(p)]
        what = _pods_phrase(self.selector, self.name, self.wanted)
        if self.name:
            if not pods:
                return Result(
                    False,
                    _("%(what)s does not exist in namespace %(namespace)s yet")
                    % {"what": what, "namespace": self.namespace},
                )
            if not fitting:
                return Result(False, self._misfit(pods[0]))
            return self.passed()
        if not _counted(self.wanted, self.count is not None, len(fitting)):
            others = [p for p in pods if not self._fits(p)]
            found = _("expected %(want)d %(what)s to be %(state)s, found %(found)d") % {
                "want": self.wanted,
                "what": what,
                "state": _state_word(self.state),
                "found": len(fitting),
            }
            if not pods:
                none = _("no %(what)s exist in namespace %(namespace)s") % {
                    "what": _pods_phrase(self.selector, ""),
                    "namespace": self.namespace,
                }
                return Result(False, f"{found}: {none}")
            if others and len(fitting) < self.wanted:
                return Result(False, found + ": " + _named([self._misfit(p) for p in others]))
            return Result(False, found)
        if self.nodes is not None:
            used = sorted({p.node for p in fitting})
            if len(used) < self.nodes:
                return Result(
                    False,
                    _("the pods run on %(count)d node(s) (%(nodes)s), expected at least %(want)d")
                    % {"count": len(used), "nodes": ", ".join(used) or "-", "want": self.nodes},
                )
        return self.passed()

    def _misfit(self, pod: PodView) -> str:
        if self.containers is not None and len(pod.containers) != self.containers:
            return _("%(pod)s has %(found)d containers, expected %(want)d") % {
                "pod": pod.name,
                "found": len(pod.containers),
                "want": self.containers,
            }
        if self.image and all(c.image != self.image for c in pod.containers):
            images = ", ".join(c.image for c in pod.containers)
            return _("%(pod)s runs %(images)s, expected %(image)s") % {
                "pod": pod.name,
                "images": images,
                "image": self.image,
            }
        if self.restarts is not None and pod.restarts < self.restarts:
            return _("%(pod)s has restarted %(found)d times, expected at least %(want)d") % {
                "pod": pod.name,
                "found": pod.restarts,
                "want": self.restarts,
            }
        return _pod_problem(pod)


@dataclass(frozen=True)
class Service(Check):
    """A Service exists and has `endpoints` ready endpoints (exactly; or at least `min_endpoints`)."""

    key = "service"
    name: str
    namespace: str = "default"
    endpoints: int | None = None
    min_endpoints: int | None = None
    type: str = ""

    def describe(self) -> str:
        text = _("Service %(name)s exists") % {"name": self.name}
        if self.endpoints is not None:
            text = ngettext(
                "Service %(name)s has %(count)d ready endpoint",
                "Service %(name)s has %(count)d ready endpoints",
                self.endpoints,
            ) % {"name": self.name, "count": self.endpoints}
        elif self.min_endpoints is not None:
            text = _("Service %(name)s has at least %(count)d ready endpoints") % {
                "name": self.name,
                "count": self.min_endpoints,
            }
        if self.type:
            text += " " + _("(type %(type)s)") % {"type": self.type}
        return text

    def evaluate(self, observed: Observation) -> Result:
        service = observed.snapshot.get("Service", self.namespace, self.name)
        if service is None:
            return Result(
                False,
                _("Service %(name)s does not exist in namespace %(namespace)s")
                % {"name": self.name, "namespace": self.namespace},
            )
        found_type = service.get("spec", {}).get("type", "ClusterIP")
        if self.type and found_type != self.type:
            return Result(
                False,
                _("Service %(name)s is of type %(found)s, expected %(want)s")
                % {"name": self.name, "found": found_type, "want": self.type},
            )
        endpoints = service_endpoints(observed.snapshot, service)
        ready = [e for e in endpoints if e.ready]
        want = self.endpoints if self.endpoints is not None else self.min_endpoints
        if want is not None and not _counted(want, self.endpoints is not None, len(ready)):
            not_ready = [e.pod or e.ip for e in endpoints if not e.ready]
            message = _("Service %(name)s has %(found)d ready endpoints, expected %(want)d") % {
                "name": self.name,
                "found": len(ready),
                "want": want,
            }
            if not_ready:
                message += ": " + _("not ready: %(pods)s") % {"pods": ", ".join(not_ready[:MAX_NAMED])}
            elif not ready and not service.get("spec", {}).get("selector"):
                message += ": " + _("it has no selector")
            return Result(False, message)
        return self.passed()


@dataclass(frozen=True)
class Deployment(Check):
    """A Deployment with `ready` ready replicas, optionally running `image`, its rollout finished
    (`complete`), at revision `revision` or later."""

    key = "deployment"
    name: str
    namespace: str = "default"
    ready: int | None = None
    image: str = ""
    complete: bool = True
    revision: int | None = None

    def describe(self) -> str:
        parts = []
        if self.ready is not None:
            parts.append(
                ngettext("%(count)d ready replica", "%(count)d ready replicas", self.ready) % {"count": self.ready}
            )
        if self.image:
            parts.append(_("runs %(image)s") % {"image": self.image})
        if self.revision is not None:
            parts.append(_("revision %(revision)d or later") % {"revision": self.revision})
        if self.complete:
            parts.append(_("rollout finished"))
        if not parts:
            return _("Deployment %(name)s exists") % {"name": self.name}
        return _("Deployment %(name)s: %(details)s") % {"name": self.name, "details": ", ".join(parts)}

    def evaluate(self, observed: Observation) -> Result:
        deployment = observed.snapshot.get("Deployment", self.namespace, self.name)
        if deployment is None:
            return Result(
                False,
                _("Deployment %(name)s does not exist in namespace %(namespace)s")
                % {"name": self.name, "namespace": self.namespace},
            )
        status = deployment.get("status") or {}
        images = [c.get("image") for c in deployment["spec"]["template"]["spec"].get("containers", [])]
        if self.image and self.image not in images:
            return Result(
                False,
                _("Deployment %(name)s runs %(found)s, expected %(want)s")
                % {"name": self.name, "found": ", ".join(images), "want": self.image},
            )
        if self.ready is not None and status.get("readyReplicas", 0) != self.ready:
            return Result(
                False,
                _("Deployment %(name)s has %(found)d ready replicas, expected %(want)d")
                % {"name": self.name, "found": status.get("readyReplicas", 0), "want": self.ready},
            )
        revision = int((deployment["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0))
        if self.revision is not None and revision < self.revision:
            return Result(
                False,
                _("Deployment %(name)s is at revision %(found)d, expected %(want)d or later")
                % {"name": self.name, "found": revision, "want": self.revision},
            )
        progress, done = rollout_progress(deployment)
        if self.complete and not done:
            return Result(False, _("the rollout is not finished: %(progress)s") % {"progress": progress})
        return self.passed()


@dataclass(frozen=True)
class Workload(Check):
    """Shared by the StatefulSet and DaemonSet checks: ready pods of the workload."""

    key = ""
    name: str
    namespace: str = "default"
    ready: int | None = None

    kind: ClassVar[str] = ""

    def _ready(self, obj: dict) -> int:
        return (obj.get("status") or {}).get("readyReplicas", 0)

    def _wanted(self, observed: Observation, obj: dict) -> int:
        return self.ready if self.ready is not None else obj.get("spec", {}).get("replicas", 1)

    def describe(self) -> str:
        if self.ready is None:
            return _("%(kind)s %(name)s has all its pods ready") % {"kind": self.kind, "name": self.name}
        return _("%(kind)s %(name)s has %(count)d ready pods") % {
            "kind": self.kind,
            "name": self.name,
            "count": self.ready,
        }

    def evaluate(self, observed: Observation) -> Result:
        obj = observed.snapshot.get(self.kind, self.namespace, self.name)
        if obj is None:
            return Result(
                False,
                _("%(kind)s %(name)s does not exist in namespace %(namespace)s")
                % {"kind": self.kind, "name": self.name, "namespace": self.namespace},
            )
        wanted, ready = self._wanted(observed, obj), self._ready(obj)
        if ready != wanted:
            pods = [pod for pod in observed.snapshot.pods(self.namespace) if pod.owner == (self.kind, self.name)]
            message = _("%(kind)s %(name)s has %(found)d ready pods, expected %(want)d") % {
                "kind": self.kind,
                "name": self.name,
                "found": ready,
                "want": wanted,
            }
            problems = [_pod_problem(p) for p in pods if not p.is_ready]
            return Result(False, message + (": " + _named(problems) if problems else ""))
        return self.passed()


@dataclass(frozen=True)
class StatefulSet(Workload):
    key = "statefulset"
    kind: ClassVar[str] = "StatefulSet"


@dataclass(frozen=True)
class DaemonSet(Workload):
    """With no `ready` given: one ready pod on every node the DaemonSet wants one on."""

    key = "daemonset"
    kind: ClassVar[str] = "DaemonSet"

    def _ready(self, obj: dict) -> int:
        return (obj.get("status") or {}).get("numberReady", 0)

    def _wanted(self, observed: Observation, obj: dict) -> int:
        if self.ready is not None:
            return self.ready
        return (obj.get("status") or {}).get("desiredNumberScheduled") or len(
            [n for n in nodes_view(observed.snapshot) if n.ready]
        )

    def describe(self) -> str:
        if self.ready is None:
            return _("DaemonSet %(name)s has a ready pod on every node") % {"name": self.name}
        return super().describe()


@dataclass(frozen=True)
class Job(Check):
    """A Job with at least `succeeded` completed pods (and, when `complete`, the Complete condition)."""

    key = "job"
    name: str
    namespace: str = "default"
    succeeded: int = 1
    complete: bool = True

    def describe(self) -> str:
        return ngettext(
            "Job %(name)s has %(count)d completed pod",
            "Job %(name)s has %(count)d completed pods",
            self.succeeded,
        ) % {"name": self.name, "count": self.succeeded}

    def evaluate(self, observed: Observation) -> Result:
        job = observed.snapshot.get("Job", self.namespace, self.name)
        if job is None:
            return Result(
                False,
                _("Job %(name)s does not exist in namespace %(namespace)s")
                % {"name": self.name, "namespace": self.namespace},
            )
        status = job.get("status") or {}
        done = any(c.get("type") == "Complete" and c.get("status") == "True" for c in status.get("conditions") or [])
        if status.get("succeeded", 0) < self.succeeded or (self.complete and not done):
            message = _("Job %(name)s: %(succeeded)d succeeded, %(active)d running, %(failed)d failed") % {
                "name": self.name,
                "succeeded": status.get("succeeded", 0),
                "active": status.get("active", 0),
                "failed": status.get("failed", 0),
            }
            return Result(False, message)
        return self.passed()


@dataclass(frozen=True)
class CronJob(Check):
    """A CronJob that has started at least `jobs` Jobs, of which at least `succeeded` completed."""

    key = "cronjob"
    name: str
    namespace: str = "default"
    jobs: int = 1
    succeeded: int = 0

    def describe(self) -> str:
        return ngettext(
            "CronJob %(name)s has started at least %(jobs)d Job (%(succeeded)d completed)",
            "CronJob %(name)s has started at least %(jobs)d Jobs (%(succeeded)d completed)",
            self.jobs,
        ) % {
            "name": self.name,
            "jobs": self.jobs,
            "succeeded": self.succeeded,
        }

    def evaluate(self, observed: Observation) -> Result:
        cron_job = observed.snapshot.get("CronJob", self.namespace, self.name)
        if cron_job is None:
            return Result(
                False,
                _("CronJob %(name)s does not exist in namespace %(namespace)s")
                % {"name": self.name, "namespace": self.namespace},
            )
        jobs = observed.snapshot.owned_by("Job", cron_job)
        done = [j for j in jobs if (j.get("status") or {}).get("succeeded", 0) > 0]
        if len(jobs) < self.jobs or len(done) < self.succeeded:
            return Result(
                False,
                _("CronJob %(name)s has started %(jobs)d Jobs so far, %(succeeded)d completed")
                % {"name": self.name, "jobs": len(jobs), "succeeded": len(done)},
            )
        return self.passed()


def _field(obj: Any, path: str) -> Any:
    """A value by dotted path with list indexes (`spec.containers[0].image`); None when missing."""
    for part in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            return None
    return obj


def _condition_field(obj: dict, path: str) -> Any:
    """`conditions.Ready` reads the status of the condition of that type."""
    if path.startswith("conditions."):
        wanted = path.split(".", 1)[1]
        return next(
            (c.get("status") for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == wanted),
            None,
        )
    return _field(obj, path)


@dataclass(frozen=True)
class Object(Check):
    """An object exists, with some fields equal to the given values (`status.phase: Bound`,
    `spec.replicas: 3`, `conditions.Ready: "False"` for a condition's status)."""

    key = "object"
    kind: str
    name: str
    namespace: str | None = None  # default: `default`, or none for cluster-scoped kinds
    fields: dict = field(default_factory=dict, hash=False)

    def describe(self) -> str:
        where = f"{self.kind} {self.name}"
        if not self.fields:
            return _("%(object)s exists") % {"object": where}
        said = ", ".join(f"{path} = {_value_words(value)}" for path, value in self.fields.items())
        return _("%(object)s has %(fields)s") % {"object": where, "fields": said}

    def evaluate(self, observed: Observation) -> Result:
        obj = observed.snapshot.get(self.kind, _scope(self.kind, self.namespace), self.name)
        where = f"{self.kind} {self.name}"
        if obj is None:
            return Result(False, _("%(object)s does not exist yet") % {"object": where})
        for path, value in self.fields.items():
            found = _condition_field(obj, path)
            if found != value:
                return Result(
                    False,
                    _("%(object)s has %(path)s = %(found)s, expected %(want)s")
                    % {"object": where, "path": path, "found": _value_words(found), "want": _value_words(value)},
                )
        return self.passed()


@dataclass(frozen=True)
class Absent(Check):
    """An object no longer exists (a namespace deleted, a pod gone)."""

    key = "absent"
    kind: str
    name: str
    namespace: str | None = None  # default: `default`, or none for cluster-scoped kinds

    def describe(self) -> str:
        return _("%(kind)s %(name)s no longer exists") % {"kind": self.kind, "name": self.name}

    def evaluate(self, observed: Observation) -> Result:
        obj = observed.snapshot.get(self.kind, _scope(self.kind, self.namespace), self.name)
        if obj is None:
            return self.passed()
        if obj["metadata"].get("deletionTimestamp"):
            return Result(
                False, _("%(kind)s %(name)s is being deleted (Terminating)") % {"kind": self.kind, "name": self.name}
            )
        return Result(False, _("%(kind)s %(name)s still exists") % {"kind": self.kind, "name": self.name})


@dataclass(frozen=True)
class Log(Check):
    """A container's output (of pod `pod`, or of any pod matching `selector`) contains `contains`."""

    key = "log"
    reads_logs = True
    contains: str
    pod: str = ""
    selector: str = ""
    container: str | None = None
    namespace: str = "default"

    def problem(self) -> str:
        return "" if bool(self.pod) != bool(self.selector) else "give either pod or selector"

    def describe(self) -> str:
        who = self.pod or _pods_phrase(self.selector, "")
        return _("the log of %(who)s contains “%(text)s”") % {"who": who, "text": self.contains}

    def evaluate(self, observed: Observation) -> Result:
        names = [self.pod] if self.pod else [p.name for p in observed.snapshot.pods(self.namespace, self.selector)]
        for name in names:
            if any(self.contains in line for line in observed.logs(self.namespace, name, self.container)):
                return self.passed()
        who = self.pod or _pods_phrase(self.selector, "")
        return Result(
            False, _("the log of %(who)s does not contain “%(text)s” yet") % {"who": who, "text": self.contains}
        )


@dataclass(frozen=True)
class History(Check):
    """The sandbox's change log holds at least `min` changes of `kind` of type `change` (ADDED,
    MODIFIED, DELETED) written by `actor` (a component such as default-scheduler, or a prefix
    such as kubelet/ for every node's kubelet), to objects whose name starts with `name`."""

    key = "history"
    actor: str
    kind: str
    change: str = "ADDED"
    min: int = 1
    name: str = ""

    def problem(self) -> str:
        return "" if self.change in ("ADDED", "MODIFIED", "DELETED") else "change must be ADDED, MODIFIED or DELETED"

    def _verb(self) -> str:
        return {"ADDED": _("created"), "MODIFIED": _("changed"), "DELETED": _("deleted")}[self.change]

    def _what(self) -> str:
        return f"{self.kind} {self.name}…" if self.name else self.kind

    def _who(self) -> str:
        return f"{self.actor}…" if self.actor.endswith("/") else self.actor

    def describe(self) -> str:
        return _("%(actor)s has %(verb)s at least %(count)d %(kind)s objects") % {
            "actor": self._who(),
            "verb": self._verb(),
            "count": self.min,
            "kind": self._what(),
        }

    def evaluate(self, observed: Observation) -> Result:
        found = observed.history(self.actor, self.kind, self.change, self.name)
        if found < self.min:
            return Result(
                False,
                _("%(actor)s has %(verb)s %(found)d %(kind)s objects so far, expected %(want)d")
                % {"actor": self._who(), "verb": self._verb(), "found": found, "kind": self._what(), "want": self.min},
            )
        return self.passed()


@dataclass(frozen=True)
class EventSeen(Check):
    """An Event with `reason` (about objects of `kind`, optionally named `name`) was recorded."""

    key = "event"
    reason: str
    kind: str = ""
    name: str = ""

    def describe(self) -> str:
        return _("an Event %(reason)s was recorded") % {"reason": self.reason}

    def evaluate(self, observed: Observation) -> Result:
        for event in observed.snapshot.events:
            involved = event.get("involvedObject") or {}
            if event.get("reason") != self.reason:
                continue
            if self.kind and involved.get("kind") != self.kind:
                continue
            if self.name and not involved.get("name", "").startswith(self.name):
                continue
            return self.passed()
        return Result(False, _("no Event %(reason)s has been recorded yet") % {"reason": self.reason})


@dataclass(frozen=True)
class All(Check):
    """Every one of several checks passes; the first failing one explains."""

    key = "all"
    checks: tuple = ()

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> Check:
        if not isinstance(spec, list) or not spec:
            raise CheckSpecError(f"{where}: `all` takes a list of checks")
        return cls(tuple(parse_check(item, f"{where}.all[{index}]") for index, item in enumerate(spec)))

    @property
    def reads_logs(self) -> bool:
        return any(check.reads_logs for check in self.checks)

    def describe(self) -> str:
        return "; ".join(check.describe() for check in self.checks)

    def evaluate(self, observed: Observation) -> Result:
        for check in self.checks:
            result = check.evaluate(observed)
            if not result.passed:
                return result
        return self.passed()


def parse_check(spec: Any, where: str) -> Check:
    """A check from its lesson-file form: a mapping with exactly one key, the check's type."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise CheckSpecError(f"{where}: a check is a mapping with one key, one of: {', '.join(sorted(Check.types))}")
    ((key, options),) = spec.items()
    check_type = Check.types.get(key)
    if check_type is None:
        raise CheckSpecError(f"{where}: unknown check `{key}`; known: {', '.join(sorted(Check.types))}")
    return check_type.from_spec(options, where)
