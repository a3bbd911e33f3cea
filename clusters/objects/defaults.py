"""Server-side defaults, as the 1.37 apiserver fills them in before validating and storing.

`apply_defaults(obj, resource)` returns a defaulted copy. It follows upstream's v1 defaulters
(`pkg/apis/{core,apps,batch}/v1/defaults.go`, the generated `SetObjectDefaults_*` walks and the
declarative `+default` tags) and the few create-time strategy steps whose result `kubectl get -o
yaml` shows right away:

- Service `clusterIPs`/`ipFamilyPolicy`/`ipFamilies` (the allocator's `initIPFamilyFields`, for a
  single-stack IPv4 cluster; allocating the IP itself is the store's job),
- Namespace `spec.finalizers: [kubernetes]` and `status.phase: Active` (namespace strategy),
- quantities rewritten in canonical form (`0.5` → `500m`, `1024Mi` → `1Gi`) and resource lists
  rounded up to milli-units, as the server serialises them,
- Secret `stringData` merged into `data` (the v1 → internal conversion),
- StatefulSet claim templates gaining `apiVersion`/`kind` (the apps/v1 conversion),
- empty structs Go always serialises: each container's `resources: {}` and a template's
  `metadata: {}`.

What needs the new object's identity is separate: `job_selector_defaults` takes the uid, and
`apply_create_defaults` runs both steps for a create. Not here: admission plugins. A real
cluster's ServiceAccount, Priority and DefaultTolerationSeconds admission also set
`serviceAccountName`/`serviceAccount: default`, a projected `kube-api-access-*` token volume and
mount, `priority: 0`, `preemptionPolicy: PreemptLowerPriority` and two 300 s NoExecute
tolerations on Pods; `pod_admission_defaults` offers the fields among these that need no token
machinery.

Every step only fills what is missing, so applying the defaults twice changes nothing.
"""

from __future__ import annotations

import base64
import contextlib
import re
from typing import Any

from clusters.objects.labels import (
    JOB_CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
)
from clusters.objects.quantity import QuantityError, canonical_quantity
from clusters.objects.resources import Resource

DEFAULT_FILE_MODE = 0o644  # 420: configMap, secret, downwardAPI and projected volumes
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
_RESOURCE_LIST_KEYS = ("limits", "requests")
# VolumeSource's members: a volume naming none of them becomes an emptyDir.
_VOLUME_SOURCE_KEYS = frozenset(
    {
        "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs",
        "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
        "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
        "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral",
        "image",
    }
)  # fmt: skip


def _clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data, several times faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


def _child(parent: dict, key: str) -> dict | None:
    """parent[key] when it is an object, created when missing; None when it is something else."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    return value if isinstance(value, dict) else None


def _dicts(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _setdefault(obj: dict, key: str, value: Any) -> None:
    if obj.get(key) is None:
        obj[key] = value


# ---------------------------------------------------------------------------------------------
# Quantities
# ---------------------------------------------------------------------------------------------


def _canonical_list(resources: Any) -> None:
    """SetDefaults_ResourceList: round up to milli-units and store the canonical form."""
    if not isinstance(resources, dict):
        return
    for name, raw in resources.items():
        with contextlib.suppress(QuantityError):  # left for validation to report
            resources[name] = canonical_quantity(raw, round_to_milli=True)


def _canonical_requirements(requirements: Any) -> None:
    if isinstance(requirements, dict):
        for key in _RESOURCE_LIST_KEYS:
            _canonical_list(requirements.get(key))


# ---------------------------------------------------------------------------------------------
# Pods and pod templates
# ---------------------------------------------------------------------------------------------

_NAME_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_IMAGE_REFERENCE = re.compile(
    rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_NAME_COMPONENT}(?:/{_NAME_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?",
    re.ASCII,
)


def image_tag(image: str) -> str:
    """The tag parsers.ParseImageName finds: `latest` when there is neither tag nor digest, "" if unparseable."""
    match = _IMAGE_REFERENCE.fullmatch(image)
    if not match or len(match.group("domain") or "") + len(match.group("path")) + 1 > 255:
        return ""
    if match.group("tag"):
        return match.group("tag")
    return "" if match.group("digest") else "latest"


def default_pull_policy(image: str) -> str:
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"


def _http_get(action: Any) -> None:
    if isinstance(action, dict):
        _setdefault(action, "path", "/")
        _setdefault(action, "scheme", "HTTP")


def _handler(handler: Any) -> None:
    if not isinstance(handler, dict):
        return
    _http_get(handler.get("httpGet"))
    grpc = handler.get("grpc")
    if isinstance(grpc, dict):
        _setdefault(grpc, "service", "")


def _probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    for key, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        if not probe.get(key):  # zero counts as unset for these plain int32 fields
            probe[key] = value
    _handler(probe)


def _field_ref(selector: Any) -> None:
    if isinstance(selector, dict) and isinstance(selector.get("fieldRef"), dict):
        _setdefault(selector["fieldRef"], "apiVersion", "v1")


def _container(container: dict) -> None:
    """SetDefaults_Container plus the walks over its ports, env, resources, probes and hooks."""
    image = container.get("image")
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = default_pull_policy(image if isinstance(image, str) else "")
    if not container.get("terminationMessagePath"):
        container["terminationMessagePath"] = TERMINATION_MESSAGE_PATH
    if not container.get("terminationMessagePolicy"):
        container["terminationMessagePolicy"] = "File"
    for port in _dicts(container.get("ports")):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
    for var in _dicts(container.get("env")):
        _field_ref(var.get("valueFrom"))
    resources = _child(container, "resources")  # always serialised, as `resources: {}` at least
    _canonical_requirements(resources)
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(container.get(key))
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        _handler(lifecycle.get("postStart"))
        _handler(lifecycle.get("preStop"))


def _pvc_spec(spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    _setdefault(spec, "volumeMode", "Filesystem")
    _canonical_requirements(spec.get("resources"))


def _volume(volume: dict) -> None:
    if all(volume.get(key) is None for key in _VOLUME_SOURCE_KEYS):
        volume["emptyDir"] = {}
    empty_dir = volume.get("emptyDir")
    if isinstance(empty_dir, dict) and empty_dir.get("sizeLimit") is not None:
        with contextlib.suppress(QuantityError):
            empty_dir["sizeLimit"] = canonical_quantity(empty_dir["sizeLimit"])
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        _setdefault(host_path, "type", "")
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        source = volume.get(key)
        if isinstance(source, dict):
            _setdefault(source, "defaultMode", DEFAULT_FILE_MODE)
    downward = volume.get("downwardAPI")
    if isinstance(downward, dict):
        for item in _dicts(downward.get("items")):
            _field_ref(item)
    projected = volume.get("projected")
    if isinstance(projected, dict):
        for source in _dicts(projected.get("sources")):
            token = source.get("serviceAccountToken")
            if isinstance(token, dict):
                _setdefault(token, "expirationSeconds", 3600)
            if isinstance(source.get("downwardAPI"), dict):
                for item in _dicts(source["downwardAPI"].get("items")):
                    _field_ref(item)
    iscsi = volume.get("iscsi")
    if isinstance(iscsi, dict):
        _setdefault(iscsi, "iscsiInterface", "default")
    rbd = volume.get("rbd")
    if isinstance(rbd, dict):
        _setdefault(rbd, "pool", "rbd")
        _setdefault(rbd, "user", "admin")
        _setdefault(rbd, "keyring", "/etc/ceph/keyring")
    ephemeral = volume.get("ephemeral")
    if isinstance(ephemeral, dict) and isinstance(ephemeral.get("volumeClaimTemplate"), dict):
        _pvc_spec(ephemeral["volumeClaimTemplate"].get("spec"))


def _pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and everything nested in a PodSpec (used for pods and templates)."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    _setdefault(spec, "securityContext", {})
    _setdefault(spec, "terminationGracePeriodSeconds", 30)
    if not spec.get("schedulerName"):
        spec["schedulerName"] = "default-scheduler"
    for volume in _dicts(spec.get("volumes")):
        _volume(volume)
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in _dicts(spec.get(key)):
            _container(container)
    _canonical_list(spec.get("overhead"))
    _canonical_requirements(spec.get("resources"))


def _pod_template(template: dict) -> None:
    _child(template, "metadata")  # an ObjectMeta struct: serialised as `metadata: {}` at least
    spec = _child(template, "spec")
    if spec is not None:
        _pod_spec(spec)


def _requests_from_limits(containers: Any) -> None:
    for container in _dicts(containers):
        resources = container.get("resources")
        if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict):
            continue
        requests = resources.get("requests")
        if requests is None:
            requests = resources["requests"] = {}
        if isinstance(requests, dict):
            for name, limit in resources["limits"].items():
                requests.setdefault(name, limit)


def _pod(obj: dict) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    # SetDefaults_Pod: only real Pods, not templates, get these.
    _requests_from_limits(spec.get("containers"))
    _requests_from_limits(spec.get("initContainers"))
    _setdefault(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for key in ("containers", "initContainers"):
            for container in _dicts(spec.get(key)):
                for port in _dicts(container.get("ports")):
                    if not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")
    _pod_spec(spec)


# ---------------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------------


def _spec_with_template(obj: dict) -> dict | None:
    spec = _child(obj, "spec")
    if spec is not None:
        template = _child(spec, "template")
        if template is not None:
            _pod_template(template)
    return spec


def _deployment(obj: dict) -> None:
    spec = _spec_with_template(obj)
    if spec is None:
        return
    _setdefault(spec, "replicas", 1)
    strategy = _child(spec, "strategy")
    if strategy is not None:
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling = _child(strategy, "rollingUpdate")
            if rolling is not None:
                _setdefault(rolling, "maxUnavailable", "25%")
                _setdefault(rolling, "maxSurge", "25%")
    _setdefault(spec, "revisionHistoryLimit", 10)
    _setdefault(spec, "progressDeadlineSeconds", 600)


def _replica_set(obj: dict) -> None:
    spec = _spec_with_template(obj)
    if spec is not None:
        _setdefault(spec, "replicas", 1)


def _replication_controller(obj: dict) -> None:
    """SetDefaults_ReplicationController: without a selector, or without labels of its own, it
    takes its template's labels; one replica. Its template is optional (a pointer): none is made."""
    spec = _child(obj, "spec")
    if spec is None:
        return
    template = spec.get("template")
    if isinstance(template, dict):
        _pod_template(template)
        metadata = template.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        if isinstance(labels, dict) and labels:
            if not spec.get("selector"):
                spec["selector"] = dict(labels)
            meta = _child(obj, "metadata")
            if meta is not None and not meta.get("labels"):
                meta["labels"] = dict(labels)
    _setdefault(spec, "replicas", 1)


def _stateful_set(obj: dict) -> None:
    spec = _spec_with_template(obj)
    if spec is None:
        return
    if not spec.get("podManagementPolicy"):
        spec["podManagementPolicy"] = "OrderedReady"
    strategy = _child(spec, "updateStrategy")
    if strategy is not None:
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
            _setdefault(strategy, "rollingUpdate", {})
        rolling = strategy.get("rollingUpdate")
        if strategy["type"] == "RollingUpdate" and isinstance(rolling, dict):
            _setdefault(rolling, "partition", 0)
            # MaxUnavailableStatefulSet is beta and on by default since 1.35.
            _setdefault(rolling, "maxUnavailable", 1)
    retention = _child(spec, "persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        for key in ("whenDeleted", "whenScaled"):
            if not retention.get(key):
                retention[key] = "Retain"
    _setdefault(spec, "replicas", 1)
    _setdefault(spec, "revisionHistoryLimit", 10)
    for claim in _dicts(spec.get("volumeClaimTemplates")):
        # The apps/v1 conversion writes the claim templates' type meta back out.
        claim["apiVersion"] = "v1"
        claim["kind"] = "PersistentVolumeClaim"
        _pvc(claim)


def _daemon_set(obj: dict) -> None:
    spec = _spec_with_template(obj)
    if spec is None:
        return
    strategy = _child(spec, "updateStrategy")
    if strategy is not None:
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling = _child(strategy, "rollingUpdate")
            if rolling is not None:
                _setdefault(rolling, "maxUnavailable", 1)
                _setdefault(rolling, "maxSurge", 0)
    _setdefault(spec, "revisionHistoryLimit", 10)


def _job_spec_template(spec: dict) -> None:
    template = _child(spec, "template")
    if template is not None:
        _pod_template(template)


def _job(obj: dict) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    _job_spec_template(spec)
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    _setdefault(spec, "parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2**31 - 1 if spec.get("backoffLimitPerIndex") is not None else 6
    _copy_template_labels(obj)
    _setdefault(spec, "completionMode", "NonIndexed")
    _setdefault(spec, "suspend", False)
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed"
    _setdefault(spec, "manualSelector", False)
    failure_policy = spec.get("podFailurePolicy")
    if isinstance(failure_policy, dict):
        for rule in _dicts(failure_policy.get("rules")):
            for pattern in _dicts(rule.get("onPodConditions")):
                if not pattern.get("status"):
                    pattern["status"] = "True"


def _copy_template_labels(obj: dict) -> None:
    """SetDefaults_Job: a Job without labels takes its pod template's."""
    spec = obj.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("template"), dict):
        return
    template_meta = spec["template"].get("metadata")
    labels = template_meta.get("labels") if isinstance(template_meta, dict) else None
    meta = _child(obj, "metadata")
    if isinstance(labels, dict) and labels and meta is not None and not meta.get("labels"):
        meta["labels"] = dict(labels)


def _cron_job(obj: dict) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    _setdefault(spec, "suspend", False)
    _setdefault(spec, "successfulJobsHistoryLimit", 3)
    _setdefault(spec, "failedJobsHistoryLimit", 1)
    # SetDefaults_Job belongs to the Job type, so a job template only gets its pod template's defaults.
    job_template = _child(spec, "jobTemplate")
    if job_template is not None:
        _child(job_template, "metadata")
        job_spec = _child(job_template, "spec")
        if job_spec is not None:
            _job_spec_template(job_spec)


def job_selector_defaults(obj: dict, uid: str) -> dict:
    """What the Job strategy's PrepareForCreate adds once the Job has a uid, as a new dict.

    Unless `spec.manualSelector` is true: the pod template gets the labels
    `batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-name`, `controller-uid` and
    `job-name` (where not set already), and the selector matches
    `batch.kubernetes.io/controller-uid: <uid>`. As a stored Job is defaulted again when read, a
    Job without labels then shows its template's labels, generated ones included. Fills
    `metadata.uid` when missing.
    """
    out = _clone(obj)
    spec = _child(out, "spec")
    meta = _child(out, "metadata")
    if spec is None or meta is None or spec.get("manualSelector") is True:
        return out
    if uid and not meta.get("uid"):
        meta["uid"] = uid
    name = meta.get("name") if isinstance(meta.get("name"), str) else ""
    template = _child(spec, "template")
    template_meta = _child(template, "metadata") if template is not None else None
    labels = _child(template_meta, "labels") if template_meta is not None else None
    if labels is not None:
        for key, value in (
            (LEGACY_JOB_NAME_LABEL, name),
            (JOB_NAME_LABEL, name),
            (LEGACY_CONTROLLER_UID_LABEL, uid),
            (JOB_CONTROLLER_UID_LABEL, uid),
        ):
            labels.setdefault(key, value)
    selector = _child(spec, "selector")
    if selector is not None:
        match_labels = _child(selector, "matchLabels")
        if match_labels is not None:
            match_labels.setdefault(JOB_CONTROLLER_UID_LABEL, uid)
    _copy_template_labels(out)
    return out


# ---------------------------------------------------------------------------------------------
# Services, configuration, storage, namespaces
# ---------------------------------------------------------------------------------------------


def _service(obj: dict) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = spec.get("sessionAffinityConfig")
        client_ip = config.get("clientIP") if isinstance(config, dict) else None
        if not isinstance(client_ip, dict) or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    kind = spec["type"]
    for port in _dicts(spec.get("ports")):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, "") and port.get("port") is not None:
            port["targetPort"] = port["port"]
    externally_accessible = kind in ("NodePort", "LoadBalancer") or (
        kind == "ClusterIP" and bool(spec.get("externalIPs"))
    )
    if externally_accessible and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and kind in ("NodePort", "LoadBalancer", "ClusterIP"):
        spec["internalTrafficPolicy"] = "Cluster"
    if kind == "LoadBalancer":
        _setdefault(spec, "allocateLoadBalancerNodePorts", True)
    _service_ip_families(spec, kind)


def _service_ip_families(spec: dict, kind: str) -> None:
    """The service strategy's clusterIPs normalisation and the allocator's IP-family defaults (IPv4 cluster)."""
    cluster_ip = spec.get("clusterIP")
    if isinstance(cluster_ip, str) and cluster_ip and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [cluster_ip]
    if kind == "ExternalName":
        return
    headless_without_selector = cluster_ip == "None" and not spec.get("selector")
    if spec.get("ipFamilyPolicy") is None:
        spec["ipFamilyPolicy"] = "RequireDualStack" if headless_without_selector else "SingleStack"
    if not spec.get("ipFamilies"):
        ips = [ip for ip in spec.get("clusterIPs") or [] if isinstance(ip, str) and ip and ip != "None"]
        families = ["IPv6" if ":" in ip else "IPv4" for ip in ips] or ["IPv4"]
        if headless_without_selector and spec["ipFamilyPolicy"] != "SingleStack" and len(families) < 2:
            families.append("IPv6" if families[0] == "IPv4" else "IPv4")
        spec["ipFamilies"] = families


def _secret(obj: dict) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        # The v1 → internal conversion folds stringData into data, stringData winning.
        data = _child(obj, "data")
        if data is not None:
            for key, value in string_data.items():
                if isinstance(value, str):
                    data[key] = base64.b64encode(value.encode()).decode()


def _pvc(obj: dict) -> None:
    spec = _child(obj, "spec")
    if spec is not None:
        _pvc_spec(spec)
    status = _child(obj, "status")
    if status is not None and not status.get("phase"):
        status["phase"] = "Pending"


def _pv(obj: dict) -> None:
    spec = _child(obj, "spec")
    if spec is not None:
        if not spec.get("persistentVolumeReclaimPolicy"):
            spec["persistentVolumeReclaimPolicy"] = "Retain"
        _setdefault(spec, "volumeMode", "Filesystem")
        _canonical_list(spec.get("capacity"))
        host_path = spec.get("hostPath")
        if isinstance(host_path, dict):
            _setdefault(host_path, "type", "")
    status = _child(obj, "status")
    if status is not None and not status.get("phase"):
        status["phase"] = "Pending"


def _namespace(obj: dict) -> None:
    meta = _child(obj, "metadata")
    name = meta.get("name") if meta is not None else None
    if isinstance(name, str) and name and meta is not None:
        labels = _child(meta, "labels")
        if labels is not None:
            labels["kubernetes.io/metadata.name"] = name
    spec = _child(obj, "spec")
    # A list that is present stays as given: the namespace controller empties it to finish a
    # deletion. (The create strategy in the store always starts it at [kubernetes].)
    if spec is not None and not isinstance(spec.get("finalizers"), list):
        spec["finalizers"] = ["kubernetes"]
    status = _child(obj, "status")
    if status is not None and not status.get("phase"):
        status["phase"] = "Active"


def _endpoints(obj: dict) -> None:
    for subset in _dicts(obj.get("subsets")):
        for port in _dicts(subset.get("ports")):
            if not port.get("protocol"):
                port["protocol"] = "TCP"


def _network_policy(obj: dict) -> None:
    """networking/v1's defaulters: every port's protocol TCP; with no policyTypes, Ingress, and
    Egress too when egress rules are given. podSelector is a struct Go always writes."""
    spec = _child(obj, "spec")
    if spec is None:
        return
    _child(spec, "podSelector")
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    for rule in _dicts(spec.get("ingress")) + _dicts(spec.get("egress")):
        for port in _dicts(rule.get("ports")):
            if port.get("protocol") is None:
                port["protocol"] = "TCP"


def _limit_range(obj: dict) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    for limit in _dicts(spec.get("limits")):
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            _canonical_list(limit.get(key))
        if limit.get("type") != "Container":
            continue
        default = _child(limit, "default")
        default_request = _child(limit, "defaultRequest")
        if default is None or default_request is None:
            continue
        for name, value in (limit.get("max") or {}).items():
            default.setdefault(name, value)
        for name, value in default.items():
            default_request.setdefault(name, value)
        for name, value in (limit.get("min") or {}).items():
            default_request.setdefault(name, value)


def _resource_quota(obj: dict) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        _canonical_list(spec.get("hard"))


# autoscaling/v2's defaults (pkg/apis/autoscaling/v2/defaults.go): with no metrics, 80 % of the
# pods' CPU request; a behavior, when given, is completed direction by direction. Scale down
# keeps no stabilization window of its own: the controller applies its flag's (300 s) then.
DEFAULT_CPU_UTILIZATION = 80
_SCALE_UP_RULES = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
_SCALE_DOWN_RULES = {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _scaling_rules(rules: Any, defaults: dict) -> Any:
    """copyHPAScalingRules: the given fields over the direction's defaults."""
    if rules is None:
        return _clone(defaults)
    if isinstance(rules, dict):
        for key, value in defaults.items():
            _setdefault(rules, key, _clone(value))
        if rules.get("tolerance") is not None:
            with contextlib.suppress(QuantityError):
                rules["tolerance"] = canonical_quantity(rules["tolerance"])
    return rules


def _horizontal_pod_autoscaler(obj: dict) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    _setdefault(spec, "minReplicas", 1)
    if not spec.get("metrics"):
        target = {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
    members = ("resource", "containerResource", "pods", "object", "external")
    for metric in _dicts(spec.get("metrics")):
        for source in _dicts([metric.get(key) for key in members]):
            target = source.get("target")
            for key in ("value", "averageValue"):
                if isinstance(target, dict) and target.get(key) is not None:
                    with contextlib.suppress(QuantityError):  # left for validation to report
                        target[key] = canonical_quantity(target[key])
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        behavior["scaleUp"] = _scaling_rules(behavior.get("scaleUp"), _SCALE_UP_RULES)
        behavior["scaleDown"] = _scaling_rules(behavior.get("scaleDown"), _SCALE_DOWN_RULES)


_DEFAULTERS = {
    "Pod": _pod,
    "HorizontalPodAutoscaler": _horizontal_pod_autoscaler,
    "Deployment": _deployment,
    "ReplicaSet": _replica_set,
    "ReplicationController": _replication_controller,
    "StatefulSet": _stateful_set,
    "DaemonSet": _daemon_set,
    "Job": _job,
    "CronJob": _cron_job,
    "Service": _service,
    "Secret": _secret,
    "PersistentVolumeClaim": _pvc,
    "PersistentVolume": _pv,
    "Namespace": _namespace,
    "Endpoints": _endpoints,
    "NetworkPolicy": _network_policy,
    "LimitRange": _limit_range,
    "ResourceQuota": _resource_quota,
}


def apply_defaults(obj: dict, resource: Resource) -> dict:
    """A copy of `obj` with the server's defaults for `resource`'s kind filled in."""
    out = _clone(obj)
    defaulter = _DEFAULTERS.get(resource.kind)
    if defaulter is not None and isinstance(out, dict):
        defaulter(out)
    return out


def apply_create_defaults(obj: dict, resource: Resource, *, uid: str) -> dict:
    """A copy of a new object with everything the server fills in before validating a create:
    `apply_defaults`, then what the new uid decides (a Job's generated selector)."""
    out = apply_defaults(obj, resource)
    return job_selector_defaults(out, uid) if resource.kind == "Job" else out


def pod_admission_defaults(obj: dict) -> dict:
    """The Pod fields the default admission plugins set, short of the service-account token volume.

    ServiceAccount admission: `serviceAccountName`/`serviceAccount` `default`; Priority admission:
    `priority: 0`, `preemptionPolicy: PreemptLowerPriority`; DefaultTolerationSeconds: tolerate
    `node.kubernetes.io/not-ready` and `unreachable` (NoExecute) for 300 s. Pods only, not templates.
    """
    out = _clone(obj)
    spec = _child(out, "spec") if isinstance(out, dict) else None
    if spec is None:
        return out
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    if not spec.get("serviceAccount"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    _setdefault(spec, "priority", 0)
    _setdefault(spec, "preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.get("tolerations")
    if tolerations is None:
        tolerations = spec["tolerations"] = []
    if isinstance(tolerations, list):
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            taken = any(
                isinstance(item, dict) and item.get("key") == key and item.get("effect") in ("NoExecute", "", None)
                for item in tolerations
            )
            if not taken:
                tolerations.append({"effect": "NoExecute", "key": key, "operator": "Exists", "tolerationSeconds": 300})
    return out
