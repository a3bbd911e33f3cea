"""The kubelet of one node of one sandbox: the thin, acting half around the kubelet planner.

One run: renew the node's heartbeat, carry out the container kills a learner asked for
(clusters.faults), then repeat — read the pods bound to the node and what the runtime observes,
plan (clusters.controllers.kubelet.plan_node, pure), perform the runtime operations one by one,
record their outcomes, write the planned status and events through the store — until the plan is
empty; last, when one is due, sample what the node's containers use (clusters.usage_samples, what
`kubectl top` reads). A kubelet the learner stopped does none of this until it is started again. The planner's
memory (back-offs, pulls, probe results) and the simulated runtime's state live in the database
between runs; Docker keeps its own.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clusters import errors, host_links, node_hosts, state_cache, store
from clusters.controllers import kubelet as planner
from clusters.controllers.actions import Event, Patch
from clusters.controllers.actor import actions_apply
from clusters.logs import container_log_copy, container_log_cursor
from clusters.models import NodeRuntimeState, Sandbox
from clusters.objects import downward_api, service_env
from clusters.objects.resources import resource_for_kind
from clusters.objects.times import parse_time
from clusters.runtime.base import ContainerConfigError, PodRef, RuntimeError_, VolumeSpec
from clusters.usage_samples import usage_next_sample, usage_record_add, usage_sample, usage_sample_due

log = logging.getLogger(__name__)
NODES = resource_for_kind("v1", "Node")
PODS = resource_for_kind("v1", "Pod")
SERVICES = resource_for_kind("v1", "Service")
MAX_PASSES = 10
START_OPERATIONS = (planner.EnsureSandbox, planner.StartContainer)
# A Docker kubelet run that has lasted this long (a pull, several starts) writes its statuses at
# the end of a pass rather than at the end of the run, so that its progress shows.
SLOW_RUN_FLUSH = timedelta(seconds=1)


def backoff_policy(sandbox: Sandbox) -> planner.BackoffPolicy:
    return planner.FAST_BACKOFF if sandbox.fast_backoff else planner.UPSTREAM_BACKOFF


def host_pod_ip_range(sandbox: Sandbox, host: str) -> str | None:
    """Where `host`'s engine gives the sandbox's pods their addresses (clusters.node_hosts)."""
    if not sandbox.network or host not in settings.NODE_HOSTS.values():
        return None
    return node_hosts.pod_ip_range(sandbox.network, settings.NODE_HOSTS, host)


def host_network_link(sandbox: Sandbox, host: str) -> host_links.Link | None:
    """`host`'s link of the sandbox's network to the other hosts' (clusters.host_links), if any."""
    return host_links.host_link(sandbox.network, settings.HOST_LINKS, host)


def runtime_for(sandbox: Sandbox, node: dict, saved: dict | None):
    """The sandbox's runtime for one node: Docker, or the simulated one restored from its state."""
    name = node["metadata"]["name"]
    if sandbox.engine == "docker":
        # Imported here: the Docker SDK loads only in processes that use a Docker engine.
        from clusters.runtime.docker import DockerRuntime

        allocatable = node.get("status", {}).get("allocatable")
        host = settings.NODE_HOSTS.get(name, node_hosts.DEFAULT_HOST)
        return DockerRuntime(
            sandbox=sandbox.uid.hex,
            node=name,
            network=sandbox.network,
            allocatable=allocatable,
            pull_registries=tuple(settings.IMAGE_PULL_REGISTRIES),
            pod_ip_range=host_pod_ip_range(sandbox, host),
            link=host_network_link(sandbox, host),
        )
    from clusters.runtime.simulated import SimulatedRuntime
    from clusters.simulated_traffic import SandboxTraffic
    from clusters.simulated_volumes import SandboxVolumes

    volumes = SandboxVolumes(sandbox)  # a claim's files, readable from every node
    traffic = SandboxTraffic(sandbox)  # the requests the sandbox's clients send, for servers' usage
    if saved:
        return SimulatedRuntime.from_json(saved, clock=timezone.now, node=name, volumes=volumes, traffic=traffic)
    cidr = node.get("spec", {}).get("podCIDR", "10.244.0.0/24")
    return SimulatedRuntime(timezone.now, node=name, pod_cidr=cidr, volumes=volumes, traffic=traffic)


def _decoded(data: dict, *, base64_values: bool) -> dict[str, str]:
    if not base64_values:
        return dict(data)
    return {key: base64.b64decode(value).decode("utf-8", errors="replace") for key, value in data.items()}


def volume_specs(sandbox: Sandbox, pod: dict) -> list[VolumeSpec]:
    """The pod's volumes as a runtime mounts them: a claim's, files (ConfigMap, Secret, downward
    API, projected: read-only), or else a private empty volume (emptyDir, and hostPath too)."""
    namespace = pod["metadata"]["namespace"]
    allocatable = functools.cache(lambda: _node_allocatable(sandbox, pod))
    specs = []
    for volume in pod["spec"].get("volumes", []):
        name = volume["name"]
        if "persistentVolumeClaim" in volume:
            claim_name = volume["persistentVolumeClaim"]["claimName"]
            claim = _get(sandbox, "PersistentVolumeClaim", namespace, claim_name)
            key = claim["metadata"]["uid"] if claim else f"missing-{claim_name}"
            specs.append(
                VolumeSpec(
                    name, "persistent", key=key, read_only=volume["persistentVolumeClaim"].get("readOnly", False)
                )
            )
        elif "configMap" in volume or "secret" in volume:
            is_secret = "secret" in volume
            source = volume["secret" if is_secret else "configMap"]
            kind, source_name = ("Secret", source.get("secretName")) if is_secret else ("ConfigMap", source.get("name"))
            files = _key_files(sandbox, kind, namespace, source_name, source.get("items"))
            specs.append(VolumeSpec(name, "files", files=files, read_only=True))
        elif isinstance(volume.get("downwardAPI"), dict):
            files = _downward_files(volume["downwardAPI"], pod, allocatable, volume=name)
            specs.append(VolumeSpec(name, "files", files=files, read_only=True))
        elif isinstance(volume.get("projected"), dict):
            files = _projected_files(sandbox, volume["projected"], pod, allocatable, volume=name)
            specs.append(VolumeSpec(name, "files", files=files, read_only=True))
        else:
            specs.append(VolumeSpec(name, "emptyDir"))
    return specs


def _key_files(sandbox: Sandbox, kind: str, namespace: str, name: str | None, items: list | None) -> dict[str, str]:
    """A ConfigMap's or Secret's keys as files: every key, or the `items` (key → path) listed."""
    obj = _get(sandbox, kind, namespace, name) or {}
    files = _decoded(obj.get("data", {}), base64_values=kind == "Secret")
    if items:
        files = {item["path"]: files.get(item["key"], "") for item in items}
    return files


def _node_allocatable(sandbox: Sandbox, pod: dict) -> dict:
    """What the pod's node can give its pods: a downward API limit the container leaves unset."""
    try:
        node = store.object_get(sandbox=sandbox, resource=NODES, namespace="", name=pod["spec"].get("nodeName", ""))
    except errors.NotFound:
        return {}
    return node.get("status", {}).get("allocatable") or {}


def _downward_files(source: dict, pod: dict, allocatable, *, volume: str) -> dict[str, str]:
    """A downwardAPI volume's (or projection's) files. An item the downward API cannot give is
    left out (upstream fails the whole mount and retries; its fields are validated on create)."""
    needs_node = any(isinstance(item, dict) and item.get("resourceFieldRef") for item in source.get("items") or [])
    files, problems = downward_api.volume_files(source, pod, allocatable() if needs_node else None)
    for problem in problems:
        log.warning("pod %s/%s volume %s: %s", pod["metadata"]["namespace"], pod["metadata"]["name"], volume, problem)
    return files


def _projected_files(sandbox: Sandbox, projected: dict, pod: dict, allocatable, *, volume: str) -> dict[str, str]:
    """A projected volume: its sources' files in one directory, a later source's file winning."""
    namespace = pod["metadata"]["namespace"]
    files: dict[str, str] = {}
    for source in projected.get("sources") or []:
        if not isinstance(source, dict):
            continue
        if isinstance(source.get("configMap"), dict):
            ref = source["configMap"]
            files |= _key_files(sandbox, "ConfigMap", namespace, ref.get("name"), ref.get("items"))
        elif isinstance(source.get("secret"), dict):
            ref = source["secret"]
            files |= _key_files(sandbox, "Secret", namespace, ref.get("name"), ref.get("items"))
        elif isinstance(source.get("downwardAPI"), dict):
            files |= _downward_files(source["downwardAPI"], pod, allocatable, volume=volume)
        elif isinstance(source.get("serviceAccountToken"), dict):
            token = source["serviceAccountToken"]
            if path := downward_api.item_path(token.get("path", "")):
                files[path] = placeholder_service_account_token(pod, token)
    return files


def placeholder_service_account_token(pod: dict, source: dict) -> str:
    """A projected `serviceAccountToken` file. A PLACEHOLDER, not a credential: an unsigned JWT
    (`"alg": "none"`, empty signature) with the claims a real bound token carries (issuer, audience,
    subject, the pod and its ServiceAccount, issued when the pod was made, expiring after
    `expirationSeconds`), so that a learner who reads or decodes it sees its shape. No TokenRequest
    API issues it and nothing accepts it: this API server authenticates with its own access tokens."""
    metadata, spec = pod["metadata"], pod.get("spec") or {}
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    issued = parse_time(metadata.get("creationTimestamp")) or timezone.now()
    issued_at = int(issued.timestamp())
    issuer = "https://kubernetes.default.svc.cluster.local"
    claims = {
        "aud": [source.get("audience") or issuer],
        "exp": issued_at + int(source.get("expirationSeconds") or 3600),
        "iat": issued_at,
        "iss": issuer,
        "kubernetes.io": {
            "namespace": metadata["namespace"],
            "pod": {"name": metadata["name"], "uid": metadata.get("uid", "")},
            "serviceaccount": {"name": account},
        },
        "nbf": issued_at,
        "sub": f"system:serviceaccount:{metadata['namespace']}:{account}",
    }

    def segment(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()

    return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims)}."


def _source_data(sandbox: Sandbox, kind: str, namespace: str, ref: dict) -> dict[str, str] | None:
    """A ConfigMap's or Secret's data as text; None when it is missing and `optional`."""
    obj = _get(sandbox, kind, namespace, ref.get("name"))
    if obj is None:
        if ref.get("optional"):
            return None
        raise ContainerConfigError(f'{kind.lower()} "{ref.get("name", "")}" not found')
    return _decoded(obj.get("data") or {}, base64_values=kind == "Secret")


def container_env(
    sandbox: Sandbox, pod: dict, container: dict, planned: dict[str, str], *, seen: dict[str, list] | None = None
) -> dict[str, str]:
    """The container's environment as upstream's makeEnvironmentVariables makes it: envFrom first,
    then env (a later entry winning; a value's `$(VAR)` expanded from the entries before it and the
    Service variables; ConfigMap and Secret keys read here, downward-API fields from the planner's
    `planned`, resources from the container and its node), then the Service variables
    (clusters.objects.service_env) that no entry set. `seen` keeps the Services read per namespace
    for the rest of a kubelet run, as upstream's kubelet reads them from its informer's cache."""
    namespace = pod["metadata"]["namespace"]
    seen = {} if seen is None else seen
    if namespace not in seen:
        seen[namespace] = _services(sandbox, namespace)
    services = service_env.pod_service_env(pod, seen[namespace])
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        kind = "Secret" if "secretRef" in source else "ConfigMap"
        data = _source_data(sandbox, kind, namespace, source.get("secretRef") or source.get("configMapRef") or {})
        env.update({source.get("prefix", "") + key: value for key, value in (data or {}).items()})
    mapping = service_env.mapping_for(env, services)  # reads `env` as it grows, as upstream's tmpEnv
    for var in container.get("env", []):
        value_from = var.get("valueFrom") or {}
        key_ref = value_from.get("configMapKeyRef") or value_from.get("secretKeyRef")
        if var.get("value") or not value_from:
            env[var["name"]] = service_env.expand(var.get("value") or "", mapping)
        elif isinstance(value_from.get("resourceFieldRef"), dict):
            try:
                env[var["name"]] = downward_api.resource_field_value(
                    value_from["resourceFieldRef"], pod, _node_allocatable(sandbox, pod), container=container
                )
            except downward_api.DownwardAPIError as error:
                raise ContainerConfigError(str(error)) from None
        elif key_ref is None:
            if var["name"] in planned:
                env[var["name"]] = planned[var["name"]]
        else:
            kind = "ConfigMap" if "configMapKeyRef" in value_from else "Secret"
            data = _source_data(sandbox, kind, namespace, key_ref)
            if data is not None and key_ref.get("key") in data:
                env[var["name"]] = data[key_ref["key"]]
            elif data is not None and not key_ref.get("optional"):
                missing = f"{kind} {namespace}/{key_ref.get('name', '')}"
                raise ContainerConfigError(f"couldn't find key {key_ref.get('key')} in {missing}")
    return env | {name: value for name, value in services.items() if name not in env}


def _services(sandbox: Sandbox, namespace: str) -> list[dict]:
    """The Services whose variables a pod of `namespace` may get: its namespace's and `default/kubernetes`."""
    services = store.objects_read(sandbox=sandbox, resource=SERVICES, namespace=namespace)
    if namespace != service_env.MASTER_SERVICE_NAMESPACE:
        services += [
            service
            for name in sorted(service_env.MASTER_SERVICES)
            if (service := _get(sandbox, "Service", service_env.MASTER_SERVICE_NAMESPACE, name)) is not None
        ]
    return services


def _get(sandbox: Sandbox, kind: str, namespace: str, name: str | None) -> dict | None:
    if not name:
        return None
    try:
        return store.object_get(sandbox=sandbox, resource=resource_for_kind("v1", kind), namespace=namespace, name=name)
    except errors.NotFound:
        return None


def _bound_pods(sandbox: Sandbox, node: str) -> list[dict]:
    """The node's pods, as a list with `spec.nodeName={node}` would read them, from this process's
    copy of the sandbox (clusters.state_cache): only the changes since its last read are read."""
    pods = [
        body
        for body in state_cache.sandbox_objects(sandbox)
        if body["kind"] == "Pod" and body["apiVersion"] == "v1" and body["spec"].get("nodeName") == node
    ]
    return sorted(pods, key=lambda pod: (pod["metadata"]["namespace"], pod["metadata"]["name"]))


def _copy_logs(sandbox: Sandbox, runtime, observed, memory: dict, pods: dict[str, dict]) -> bool:
    """Append the lines each container run wrote since the last copy to the log `kubectl logs`
    reads, rotated as the kubelet rotates its files (clusters.logs). A run that has exited writes
    no more: once copied it is not read again. Lines are followed by time, not by count: the
    runtime keeps only a run's newest lines (Docker's json-file rotation, the simulated runtime's
    last lines), so counting them stops seeing new ones once the oldest are dropped. Returns
    whether the kubelet's memory of the copies changed."""
    copies = memory.setdefault("log_copies", {})
    finished = memory.setdefault("logs_finished", {})
    counted = memory.pop("log_lines", {})  # how earlier versions kept their place: by count
    changed = bool(counted)
    current = set()
    for run in observed:
        key = _run_key(run)
        current.add(key)
        pod = pods.get(run.pod_uid)
        if pod is None or key in finished:
            continue
        metadata = pod["metadata"]
        ref = PodRef(sandbox.uid.hex, metadata["namespace"], metadata["name"], run.pod_uid, pod["spec"]["nodeName"])
        state = copies.get(key, {})
        since = parse_time(state["after"][0]) if state.get("after") else None
        lines = runtime.logs(ref, run.name, restart=run.restart, since=since)
        if key in counted and not state and counted[key]:
            state = {"after": container_log_cursor(lines[: counted[key]], None)}
        copied = container_log_copy(
            sandbox=sandbox, pod_uid=run.pod_uid, container=run.name, restart=run.restart, lines=lines, state=state
        )
        changed |= copies.get(key) != copied
        copies[key] = copied
        if run.state == "exited":
            finished[key], changed = True, True
    for forgotten in [key for key in copies if key not in current]:  # a run the runtime collected
        del copies[forgotten]
        finished.pop(forgotten, None)
        changed = True
    return changed


def _run_key(run) -> str:
    """How the kubelet's memory of log copies names a container run."""
    return f"{run.pod_uid}/{run.name}/{run.restart}"


def _ended_runs_uncopied(observed, memory: dict) -> bool:
    """Whether a run has exited since its output was last copied."""
    finished = memory.get("logs_finished", {})
    return any(run.state == "exited" and _run_key(run) not in finished for run in observed)


def _status_report(sandbox: Sandbox, node: dict, now: datetime) -> datetime:
    """Write the node's status when it is not Ready (the kubelet is back), or when the kubelet runs
    anyway and the last report is half NODE_STATUS_REPORT_SECONDS old; return when the kubelet must
    be woken for a report should nothing else run it: one and a half intervals after the last.
    The full resync runs every kubelet once an interval (both are five minutes), so an idle node's
    report rides along that run instead of costing a run of its own: for 50 idle sandboxes, 100
    runs fewer every five minutes (docs/performance.md). The lease, renewed far more often, is
    what says the kubelet lives."""
    interval = timedelta(seconds=settings.NODE_STATUS_REPORT_SECONDS)
    ready = next((c for c in node.get("status", {}).get("conditions", []) if c["type"] == "Ready"), {})
    last_at = parse_time(ready.get("lastHeartbeatTime"))
    if last_at is None or now - last_at >= interval / 2 or ready.get("status") != "True":
        patch = planner.node_status_patch(node, now=now, ready=True)
        if patch:
            actions_apply(sandbox, [patch])
        last_at = now
    return last_at + interval * 1.5


def sandboxes_with_leases_just_expired(*, now: datetime, grace: timedelta, period: timedelta) -> list[int]:
    """Sandboxes with a node whose lease expired within the last two monitor periods: their node
    lifecycle controller has a node to mark NotReady. Each expiry is seen once or twice, not at
    every tick; one missed altogether is caught by the resync."""
    expired = NodeRuntimeState.objects.filter(
        lease_renewed_at__lt=now - grace, lease_renewed_at__gte=now - grace - 2 * period
    )
    return sorted(set(expired.values_list("sandbox_id", flat=True)))


def node_leases_renew(node: str, *, now: datetime) -> int:
    """Renew the lease of `node` in every sandbox whose kubelet there is not stopped (a learner's
    fault, clusters.faults.kubelet_stop): what serves the node's queue lives. One UPDATE for all
    sandboxes, so a heartbeat costs the same for one sandbox or fifty."""
    _leases_renewed[node] = now
    return NodeRuntimeState.objects.filter(node=node, kubelet_stopped=False).update(lease_renewed_at=now)


# When this process last renewed each node's leases. A kubelet run is proof that the node's queue
# is served: it renews them too (at most every half heartbeat), so a busy worker, whose renewal
# tasks wait in the queue behind pod work, does not let its nodes go NotReady.
_leases_renewed: dict[str, datetime] = {}


def _leases_renew_while_busy(node: str, now: datetime) -> None:
    last = _leases_renewed.get(node)
    if last is None or now - last >= timedelta(seconds=settings.NODE_HEARTBEAT_SECONDS / 2):
        node_leases_renew(node, now=now)


class RunWrites:
    """The store writes of one kubelet run.

    A run's pod statuses are merged and written once, with the node's state, before the run's
    confirming pass (and again at its end should that pass find more): what a watcher sees
    settles on the same state, the controllers, woken by every pod write, wake once instead of
    at every pass, and a status a later pass of the run replaces (ContainerCreating just before
    Running) costs no write. Later passes read the pods as if the statuses were written; after a
    write, they read them again. On Docker, where a pull or a start takes seconds, a run that has
    lasted `flush_every` writes what it has at the end of a pass, so that a slow run shows its
    progress.
    Events are written after the statuses and the node state commit, as upstream's event
    recorder works apart from the status manager: a pod shows Ready without waiting for them."""

    def __init__(self, sandbox: Sandbox, *, flush_every: timedelta | None) -> None:
        self.sandbox, self.flush_every = sandbox, flush_every
        self.statuses: dict[tuple[str, str], dict] = {}  # (namespace, name) → merged status patch
        self.whys: dict[tuple[str, str], list[str]] = {}  # (namespace, name) → why each patch was planned
        self.events: list[Event] = []
        self.stored: list[dict] | None = None  # the node's pods as last read
        self.flushed_at = timezone.now()

    def pods(self, node: str) -> list[dict]:
        """The node's pods, with the statuses this run has not written yet. A run reads them once,
        and again only after it wrote: a pod bound or changed by someone else meanwhile makes the
        kubelet due again, and its next run sees it."""
        if self.stored is None:
            self.stored = _bound_pods(self.sandbox, node)
        return self.overlaid(self.stored)

    def add(self, actions) -> None:
        for action in actions:
            if isinstance(action, Event):
                self.events.append(action)
            elif _is_pod_status(action):
                # The planner's status patches replace whole top-level fields: merging is dict.update.
                pod = (action.namespace, action.name)
                self.statuses.setdefault(pod, {}).update(action.patch["status"])
                if action.why and action.why not in self.whys.setdefault(pod, []):
                    self.whys[pod].append(action.why)
            else:  # a pod's final Delete: what came before it lands first
                self.flush()
                actions_apply(self.sandbox, [action])
                self.reread()

    def pass_end(self) -> None:
        """Write what the run has so far, once it has lasted `flush_every`."""
        if self.flush_every is not None and timezone.now() - self.flushed_at >= self.flush_every:
            self.flush()
            self.reread()

    def reread(self) -> None:
        """The next pass reads the pods as they are stored now (after a write)."""
        self.stored = None

    def overlaid(self, pods: list[dict]) -> list[dict]:
        """`pods` as stored, with the statuses this run has not written yet."""
        if not self.statuses:
            return pods
        return [
            {**pod, "status": {**pod.get("status", {}), **pending}}
            if (pending := self.statuses.get((pod["metadata"]["namespace"], pod["metadata"]["name"])))
            else pod
            for pod in pods
        ]

    def flush(self) -> None:
        self.statuses_flush()
        self.events_flush()

    def statuses_flush(self) -> None:
        """The pods' statuses together (a pod gone meanwhile drops only its own)."""
        self.flushed_at = timezone.now()
        patches = [
            store.StatusPatch(namespace, name, status, "; ".join(self.whys.get((namespace, name), [])))
            for (namespace, name), status in self.statuses.items()
        ]
        if patches:
            store.statuses_patch(sandbox=self.sandbox, resource=PODS, patches=patches)
        self.statuses, self.whys = {}, {}

    def events_flush(self) -> None:
        actions_apply(self.sandbox, self.events)
        self.events = []


def _is_pod_status(action) -> bool:
    return (
        isinstance(action, Patch)
        and (action.kind, action.subresource) == ("Pod", "status")
        and action.resource_version is None
        and set(action.patch) == {"status"}
    )


def _perform(sandbox: Sandbox, runtime, operation, *, pods: dict[str, dict], node: str, services: dict[str, list]):
    """One operation, with what only the thin half can look up: volumes' contents, env references
    (`services`: those read so far in this run, per namespace)."""
    pod = pods.get(getattr(operation, "pod", PodRef("", "", "", "")).uid)
    volumes = volume_specs(sandbox, pod) if pod and isinstance(operation, START_OPERATIONS) else []
    if pod and isinstance(operation, planner.StartContainer):
        try:
            env = container_env(sandbox, pod, operation.container, operation.env, seen=services)
        except ContainerConfigError as error:
            return error
        operation = dataclasses.replace(operation, env=env)
    return planner.operation_perform(runtime, operation, node=node, volumes=volumes)


def _kills_perform(sandbox: Sandbox, runtime, requests: list[dict], *, node: str) -> list[str]:
    """The container kills a learner asked for on this node (clusters.faults.container_kill):
    SIGKILL each run named that still runs — one that has exited or been replaced since is left
    alone. Returns the ids of the requests done with. The kubelet takes no part beyond carrying
    them out: it notices the exit in its next pass, as it would a crash."""
    if not requests:
        return []
    running = {seen.container_id for seen in runtime.observe(node=node) if seen.state != "exited"}
    done = []
    for request in requests:
        if not request.get("container_id") or request["container_id"] in running:
            pod = PodRef(sandbox.uid.hex, request["namespace"], request["pod"], request["uid"], node)
            try:
                runtime.container_kill(pod, request["container"])
            except RuntimeError_ as error:  # the kubelet's own work is not held up by a fault
                log.warning(
                    "sandbox %s: killing %s/%s failed: %s", sandbox.pk, request["pod"], request["container"], error
                )
        done.append(request["id"])
    return done


def _kills_forget(saved: NodeRuntimeState, done: list[str]) -> None:
    """Drop the requests done; those asked for meanwhile stay for the next run."""
    if not done:
        return
    row = NodeRuntimeState.objects.select_for_update().get(pk=saved.pk)
    row.container_kills = [request for request in row.container_kills if request["id"] not in done]
    row.save(update_fields=["container_kills"])


def _stopped_run(sandbox: Sandbox, saved: NodeRuntimeState, node_object: dict, *, node: str) -> None:
    """A stopped kubelet does nothing: no status, no lease, no pod sync. Its containers run on,
    and a kill asked for meanwhile still happens (a crash needs no kubelet): nobody restarts it."""
    if not saved.container_kills:
        return
    runtime = runtime_for(sandbox, node_object, saved.runtime)
    done = _kills_perform(sandbox, runtime, saved.container_kills, node=node)
    with transaction.atomic():
        if hasattr(runtime, "to_json"):
            saved.runtime = runtime.to_json()
            saved.save(update_fields=["runtime"])
        _kills_forget(saved, done)


def _usage_sample(record: dict, runtime, *, node: str, pods: list[dict], now: datetime) -> dict:
    """The node's usage record (clusters.usage_samples), with a new sample when one is due. A
    runtime that cannot measure now leaves the record as it was: a failed measurement costs the
    metrics a sample, never the run its record."""
    if not usage_sample_due(record, now=now):
        return record
    try:
        usages = runtime.usage(node=node, pods=pods)
    except Exception as error:  # whatever the engine raised: the pods come first
        log.warning("kubelet of %s: measuring usage failed: %s", node, error)
        return record
    return usage_record_add(record, usage_sample(usages, at=now))


def _runtime_state(runtime) -> dict | None:
    """What a runtime that keeps its containers as data (the simulated one) leaves for the next run."""
    return runtime.to_json() if hasattr(runtime, "to_json") else None


def kubelet_reconcile(sandbox: Sandbox, *, node: str, now: datetime) -> datetime | None:
    with store.writing_as(f"kubelet/{node}"):
        return _kubelet_run(sandbox, node=node, now=now)


def _kubelet_run(sandbox: Sandbox, *, node: str, now: datetime) -> datetime | None:
    try:
        node_object = store.object_get(sandbox=sandbox, resource=NODES, namespace="", name=node)
    except errors.NotFound:
        return None
    saved, _ = NodeRuntimeState.objects.get_or_create(sandbox=sandbox, node=node)
    if saved.kubelet_stopped:
        _stopped_run(sandbox, saved, node_object, node=node)
        return None  # kubelet_start makes the key due again
    next_report = _status_report(sandbox, node_object, now)
    _leases_renew_while_busy(node, now)
    memory = saved.state.get("kubelet", {})
    runtime = runtime_for(sandbox, node_object, saved.runtime)
    killed = _kills_perform(sandbox, runtime, saved.container_kills, node=node)
    policy = backoff_policy(sandbox)
    plan = planner.NodePlan()
    writes = RunWrites(sandbox, flush_every=None if runtime.kind == "simulated" else SLOW_RUN_FLUSH)
    # After a pass over every pod, the next ones look only at the pods that had something to do;
    # when those are done, a last pass over all of them confirms it. The others' plans cannot
    # change meanwhile (their pods, runs and memory are as they were, only time passes), so the
    # first pass's wake-up for them stands.
    focus: frozenset[str] | None = None
    touched: frozenset[str] = frozenset()  # the pods that had something to do in this run
    confirming, quiet_wakeup = False, None
    services: dict[str, list] = {}  # the Services the run's new containers' variables come from

    def commit(observed, pods) -> None:
        """The run's writes so far: the statuses, the kubelet's memory and the runtime's state in
        one transaction, then the Events, then the containers' new output. On Docker, running
        containers' lines come just after their statuses, which then do not wait for the engine
        calls that read them; a run that has exited has its last lines copied with the status that
        says so, so that `kubectl logs` right after a pod shows Completed finds them all. (The
        simulated runtime's reads cost nothing and advance its runs, saved with its state.)"""
        nonlocal killed
        by_uid = {p["metadata"]["uid"]: p for p in pods}
        logs_with_statuses = runtime.kind != "docker" or _ended_runs_uncopied(observed, memory)
        with transaction.atomic():
            writes.statuses_flush()
            if logs_with_statuses:
                _copy_logs(sandbox, runtime, observed, memory, by_uid)
            saved.state, saved.runtime = {"kubelet": memory}, _runtime_state(runtime)
            saved.lease_renewed_at = now  # the kubelet ran: it lives
            saved.save(update_fields=["state", "runtime", "lease_renewed_at"])
            _kills_forget(saved, killed)
            killed = []
        writes.events_flush()
        if not logs_with_statuses:
            with transaction.atomic():
                if _copy_logs(sandbox, runtime, observed, memory, by_uid):
                    saved.state = {"kubelet": memory}
                    saved.save(update_fields=["state"])
        writes.reread()

    committed = False  # whether everything the run did is written (the confirming pass found nothing since)
    for _ in range(MAX_PASSES):
        pods = writes.pods(node)
        observed, sandboxes_up = runtime.node_look(node=node)
        plan = planner.plan_node(
            node=node_object,
            pods=pods,
            observed=observed,
            now=timezone.now(),
            backoff=policy,
            memory=memory,
            sandbox=sandbox.uid.hex,
            only=focus,
            sandboxes=frozenset(sandboxes_up),
        )
        if focus is None:
            quiet_wakeup = plan.quiet_wakeup
        touched |= plan.busy
        if plan.empty:
            if focus is None or confirming:
                break
            focus, confirming = touched, True
            continue
        # A pass that only wrote (statuses, Events) left the runtime as it was: the confirming pass
        # comes next, instead of one more over the busy pods alone.
        focus, confirming = (plan.busy, False) if plan.operations else (touched, True)
        by_uid = {pod["metadata"]["uid"]: pod for pod in pods}
        perform = functools.partial(_perform, sandbox, runtime, pods=by_uid, node=node, services=services)
        for operation, outcome in planner.operations_perform(plan.operations, perform):
            memory, events = planner.outcome_record(memory, operation, outcome, now=timezone.now())
            writes.add(events)
        writes.add(plan.actions)
        committed = confirming
        if committed:
            # Written before the confirming pass, not after it: a new pod is Running a look and a
            # plan sooner (on Docker a list of the node's containers). Should that pass find more,
            # the run writes again at its end.
            commit(observed, pods)
        else:
            writes.pass_end()
    else:
        log.warning("sandbox %s: kubelet of %s still had work after %d passes", sandbox.pk, node, MAX_PASSES)
        plan = dataclasses.replace(plan, next_wakeup=now)  # come back at once: its own writes did not wake it
    plan = dataclasses.replace(plan, next_wakeup=min(filter(None, (plan.next_wakeup, quiet_wakeup)), default=None))
    if not committed:
        # Every run ends with the output written since the last copy: a run with nothing else to do
        # is how a reader's request for fresh logs (clusters.logs.log_refresh) is answered. The
        # last pass's look serves: it found nothing to do (a run cut short copies the rest next time).
        commit(observed, pods)
    # The usage sample comes after the pods' statuses, as upstream's kubelet syncs pods apart from
    # cAdvisor's housekeeping: on Docker a sample waits up to a second for the engine's stats.
    usage = _usage_sample(saved.usage, runtime, node=node, pods=pods, now=timezone.now())
    if usage is not saved.usage:
        saved.usage, saved.runtime = usage, _runtime_state(runtime)  # a modelled sample moves the runtime on
        saved.save(update_fields=["usage", "runtime"])
    next_sample = usage_next_sample(usage, wanted_until=saved.usage_wanted_until, now=now)
    wakeups = [moment for moment in (plan.next_wakeup, next_report, next_sample) if moment is not None]
    return min(wakeups, default=None)


def kubelet_pause(sandbox: Sandbox, *, node: str, now: datetime, mark: str) -> None:
    """The run of a paused sandbox's kubelet (clusters.idle): copy what the containers wrote last,
    remove every container of the node's pods (pause containers too; their volumes stay, emptyDirs
    too), and forget everything, as a rebooted node's kubelet has nothing; the pods that ran are written
    under `mark` for the return. The stored pods are left as they were: the desired state is whole.
    Safe to run again: a second run finds nothing to stop."""
    with store.writing_as(f"kubelet/{node}"):
        try:
            node_object = store.object_get(sandbox=sandbox, resource=NODES, namespace="", name=node)
        except errors.NotFound:
            return
        saved, _ = NodeRuntimeState.objects.get_or_create(sandbox=sandbox, node=node)
        runtime = runtime_for(sandbox, node_object, saved.runtime)
        pods = {pod["metadata"]["uid"]: pod for pod in _bound_pods(sandbox, node)}
        observed = runtime.observe(node=node)
        memory = saved.state.get("kubelet", {})
        _copy_logs(sandbox, runtime, observed, memory, pods)
        stopping = [run for run in observed if run.state == "running" and run.pod_uid in pods]
        # The pods' containers go and their volumes stay, emptyDirs too, as a reboot leaves them.
        runtime.orphans_remove(node=node, known_pod_uids=set(pods))
        for uid, pod in pods.items():
            metadata = pod["metadata"]
            runtime.pod_containers_remove(PodRef(sandbox.uid.hex, metadata["namespace"], metadata["name"], uid, node))
        events = [_stopping_event(pods[run.pod_uid], run.name) for run in stopping]
        had_sandbox = set(memory.get("sandboxes", {})) | {run.pod_uid for run in observed}
        ran = {
            uid: [pod["metadata"]["namespace"], pod["metadata"]["name"]]
            for uid, pod in pods.items()
            if uid in had_sandbox and pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")
        }
        paused = saved.state.get(mark) or {"at": now.isoformat(), "pods": {}}
        with transaction.atomic():
            if events:
                actions_apply(sandbox, events)
            saved.state = {mark: {**paused, "pods": {**paused["pods"], **ran}}}
            saved.runtime = _runtime_state(runtime)
            saved.save(update_fields=["state", "runtime"])


def _stopping_event(pod: dict, container: str) -> Event:
    """The kubelet's `Killing` Event for a container it stops (upstream's words)."""
    metadata = pod["metadata"]
    init = any(c["name"] == container for c in pod["spec"].get("initContainers", []))
    involved = {
        "apiVersion": "v1",
        "kind": "Pod",
        "namespace": metadata["namespace"],
        "name": metadata["name"],
        "uid": metadata["uid"],
        "fieldPath": f"spec.{'initContainers' if init else 'containers'}{{{container}}}",
    }
    return Event(involved, "Killing", f"Stopping container {container}", "Normal", planner.SOURCE)
