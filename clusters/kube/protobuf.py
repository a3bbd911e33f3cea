"""Decode the Kubernetes protobuf request bodies that `kubectl create <generator>` sends.

Since client-go 1.32 the typed clients behind `kubectl create namespace|deployment|configmap|…`
POST `Content-Type: application/vnd.kubernetes.protobuf` and never fall back to JSON (P1 in the
wire-protocol notes). Such a body is the magic `k8s\\x00` followed by a `runtime.Unknown`
envelope: typeMeta(1){apiVersion(1), kind(2)}, raw(2), contentEncoding(3), contentType(4), where
`raw` is the object's message from the upstream `generated.proto` files.

`decode_object` turns that into the dict that the same object sent as JSON would have given, so the
rest of the API never knows which encoding arrived. "The same" means what Go's encoding/json
makes of the object that Go's protobuf decoder builds, because that is what kubectl would have
sent as JSON. Go's protobuf encoder writes every non-pointer field, zero values included, so wire
presence alone cannot say what JSON holds; each field's table entry therefore also records how
Go's JSON treats it (see the notation above `_TABLES`).

The reader is small and strict: every length is checked against the enclosing message before
anything is sliced, an unknown field number is an error rather than dropped data, and the message
tables are not recursive, so nesting depth is bounded by the schema, not by the input.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from clusters.objects.times import format_time

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    """The body is not a Kubernetes protobuf object this decoder can turn into JSON."""


# ----------------------------------------------------------------------------------------------
# Wire format

VARINT, FIXED64, LENGTH_DELIMITED, START_GROUP, END_GROUP, FIXED32 = range(6)
_WIRE_NAMES = ("varint", "fixed64", "length-delimited", "start-group", "end-group", "fixed32")
_MAX_VARINT_BYTES = 10  # a uint64 needs at most ten 7-bit groups
_MAX_FIELD_NUMBER = (1 << 29) - 1

Span = tuple[int, int]  # [start, end) into the body: payloads are never copied until converted


def _read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """The varint at `pos` and the offset after it; never reads at or past `end`."""
    result = 0
    for index in range(_MAX_VARINT_BYTES):
        if pos + index >= end:
            raise ProtobufError(f"truncated varint at offset {pos}")
        byte = buf[pos + index]
        result |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            if result >= 1 << 64:
                raise ProtobufError(f"varint at offset {pos} does not fit in 64 bits")
            return result, pos + index + 1
    raise ProtobufError(f"varint at offset {pos} is longer than {_MAX_VARINT_BYTES} bytes")


def _iter_fields(buf: bytes, start: int, end: int, message: str) -> Iterator[tuple[int, int, int | Span, int]]:
    """(field number, wire type, value, offset of the tag) for each field in buf[start:end].

    The value is an int for varint and fixed fields and a Span for length-delimited ones. A
    length is compared with what is left of the enclosing message before it is used, so a hostile
    prefix cannot make the decoder allocate or read beyond the body.
    """
    pos = start
    while pos < end:
        offset = pos
        key, pos = _read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if not 1 <= number <= _MAX_FIELD_NUMBER:
            raise ProtobufError(f"invalid field number {number} in message {message} at offset {offset}")
        if wire == VARINT:
            value, pos = _read_varint(buf, pos, end)
            yield number, wire, value, offset
        elif wire == LENGTH_DELIMITED:
            length, pos = _read_varint(buf, pos, end)
            if length > end - pos:
                raise ProtobufError(
                    f"field {number} of message {message} at offset {offset} claims {length} bytes, "
                    f"but only {end - pos} are left"
                )
            yield number, wire, (pos, pos + length), offset
            pos += length
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if size > end - pos:
                raise ProtobufError(f"truncated {_WIRE_NAMES[wire]} field {number} at offset {offset}")
            yield number, wire, int.from_bytes(buf[pos : pos + size], "little"), offset
            pos += size
        else:
            # Groups are proto1 leftovers that no Kubernetes message uses.
            raise ProtobufError(
                f"field {number} of message {message} at offset {offset} has wire type {wire}, "
                "which Kubernetes messages never use"
            )


def _signed(value: int, bits: int) -> int:
    """Two's complement, truncating like Go's int32(x) / int64(x) conversions on decode."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _text(buf: bytes, span: Span, where: str) -> str:
    try:
        return buf[span[0] : span[1]].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtobufError(f"{where} at offset {span[0]} is not valid UTF-8") from None


# ----------------------------------------------------------------------------------------------
# Message tables
#
# One entry per field number, written from the upstream generated.proto files (k8s.io/api core/v1,
# apps/v1, batch/v1; apimachinery meta/v1) with the JSON behaviour of the matching Go struct
# field. The notation, read by `_parse_field`, is "jsonName: type" where type is
#   string | bytes | bool | int32 | int64 | <Message>   one value
#   []<type>                                           repeated (omitted from JSON when empty)
#   {}<type>                                           map<string, type> (omitted when empty)
# and a scalar or message may carry a mark for how Go's encoding/json treats it:
#   (none)  scalar: `omitempty`, left out when zero. message: a plain struct, always written
#           (as its zero value when absent), since omitempty never drops a struct.
#   !       scalar without omitempty: always written, zero value when absent
#   ?       pointer with omitempty: written exactly when present on the wire, zero values included
#   ?!      pointer without omitempty: null when absent
#   ~       omitzero struct: left out when it is the zero value
# A jsonName of "..." is an embedded Go struct whose fields JSON inlines into the parent.
# A message named here without a table of its own is known but unsupported: it is an error only
# when it actually appears in a body.

_TABLES: dict[str, dict[int, str]] = {
    # -- meta/v1 -------------------------------------------------------------------------------
    "ObjectMeta": {
        1: "name: string",
        2: "generateName: string",
        3: "namespace: string",
        4: "selfLink: string",
        5: "uid: string",
        6: "resourceVersion: string",
        7: "generation: int64",
        8: "creationTimestamp: Time~",
        9: "deletionTimestamp: Time?",
        10: "deletionGracePeriodSeconds: int64?",
        11: "labels: {}string",
        12: "annotations: {}string",
        13: "ownerReferences: []OwnerReference",
        14: "finalizers: []string",
        17: "managedFields: []ManagedFieldsEntry",
    },
    "OwnerReference": {
        1: "kind: string!",
        3: "name: string!",
        4: "uid: string!",
        5: "apiVersion: string!",
        6: "controller: bool?",
        7: "blockOwnerDeletion: bool?",
    },
    "ManagedFieldsEntry": {
        1: "manager: string",
        2: "operation: string",
        3: "apiVersion: string",
        4: "time: Time?",
        6: "fieldsType: string",
        7: "fieldsV1: FieldsV1?",
        8: "subresource: string",
    },
    "LabelSelector": {
        1: "matchLabels: {}string",
        2: "matchExpressions: []LabelSelectorRequirement",
    },
    "LabelSelectorRequirement": {
        1: "key: string!",
        2: "operator: string!",
        3: "values: []string",
    },
    "Condition": {
        1: "type: string!",
        2: "status: string!",
        3: "observedGeneration: int64",
        4: "lastTransitionTime: Time",
        5: "reason: string!",
        6: "message: string!",
    },
    # -- core/v1: the objects -------------------------------------------------------------------
    "Namespace": {
        1: "metadata: ObjectMeta",
        2: "spec: NamespaceSpec",
        3: "status: NamespaceStatus",
    },
    "NamespaceSpec": {
        1: "finalizers: []string",
    },
    "NamespaceStatus": {
        1: "phase: string",
        2: "conditions: []NamespaceCondition",
    },
    "NamespaceCondition": {
        1: "type: string!",
        2: "status: string!",
        4: "lastTransitionTime: Time",
        5: "reason: string",
        6: "message: string",
    },
    "ConfigMap": {
        1: "metadata: ObjectMeta",
        2: "data: {}string",
        3: "binaryData: {}bytes",
        4: "immutable: bool?",
    },
    "Secret": {
        1: "metadata: ObjectMeta",
        2: "data: {}bytes",
        3: "type: string",
        4: "stringData: {}string",
        5: "immutable: bool?",
    },
    "ServiceAccount": {
        1: "metadata: ObjectMeta",
        2: "secrets: []ObjectReference",
        3: "imagePullSecrets: []LocalObjectReference",
        4: "automountServiceAccountToken: bool?",
    },
    "ObjectReference": {
        1: "kind: string",
        2: "namespace: string",
        3: "name: string",
        4: "uid: string",
        5: "apiVersion: string",
        6: "resourceVersion: string",
        7: "fieldPath: string",
    },
    "LocalObjectReference": {
        1: "name: string",
    },
    "ResourceQuota": {
        1: "metadata: ObjectMeta",
        2: "spec: ResourceQuotaSpec",
        3: "status: ResourceQuotaStatus",
    },
    "ResourceQuotaSpec": {
        1: "hard: {}Quantity",
        2: "scopes: []string",
        3: "scopeSelector: ScopeSelector?",
    },
    "ScopeSelector": {
        1: "matchExpressions: []ScopedResourceSelectorRequirement",
    },
    "ScopedResourceSelectorRequirement": {
        1: "scopeName: string!",
        2: "operator: string!",
        3: "values: []string",
    },
    "ResourceQuotaStatus": {
        1: "hard: {}Quantity",
        2: "used: {}Quantity",
    },
    "Service": {
        1: "metadata: ObjectMeta",
        2: "spec: ServiceSpec",
        3: "status: ServiceStatus",
    },
    "ServiceSpec": {
        1: "ports: []ServicePort",
        2: "selector: {}string",
        3: "clusterIP: string",
        4: "type: string",
        5: "externalIPs: []string",
        7: "sessionAffinity: string",
        8: "loadBalancerIP: string",
        9: "loadBalancerSourceRanges: []string",
        10: "externalName: string",
        11: "externalTrafficPolicy: string",
        12: "healthCheckNodePort: int32",
        13: "publishNotReadyAddresses: bool",
        14: "sessionAffinityConfig: SessionAffinityConfig?",
        17: "ipFamilyPolicy: string?",
        18: "clusterIPs: []string",
        19: "ipFamilies: []string",
        20: "allocateLoadBalancerNodePorts: bool?",
        21: "loadBalancerClass: string?",
        22: "internalTrafficPolicy: string?",
        23: "trafficDistribution: string?",
    },
    "ServicePort": {
        1: "name: string",
        2: "protocol: string",
        3: "port: int32!",
        4: "targetPort: IntOrString",
        5: "nodePort: int32",
        6: "appProtocol: string?",
    },
    "SessionAffinityConfig": {
        1: "clientIP: ClientIPConfig?",
    },
    "ClientIPConfig": {
        1: "timeoutSeconds: int32?",
    },
    "ServiceStatus": {
        1: "loadBalancer: LoadBalancerStatus",
        2: "conditions: []Condition",
    },
    "LoadBalancerStatus": {
        1: "ingress: []LoadBalancerIngress",
    },
    "LoadBalancerIngress": {
        1: "ip: string",
        2: "hostname: string",
        3: "ipMode: string?",
        4: "ports: []PortStatus",
    },
    "PortStatus": {
        1: "port: int32!",
        2: "protocol: string!",
        3: "error: string?",
    },
    "Pod": {
        1: "metadata: ObjectMeta",
        2: "spec: PodSpec",
        3: "status: PodStatus",
    },
    "PodStatus": {
        1: "phase: string",
        2: "conditions: []PodCondition",
        3: "message: string",
        4: "reason: string",
        5: "hostIP: string",
        6: "podIP: string",
        7: "startTime: Time?",
        8: "containerStatuses: []ContainerStatus",
        9: "qosClass: string",
        10: "initContainerStatuses: []ContainerStatus",
        11: "nominatedNodeName: string",
        12: "podIPs: []PodIP",
        13: "ephemeralContainerStatuses: []ContainerStatus",
        14: "resize: string",
        15: "resourceClaimStatuses: []PodResourceClaimStatus",
        16: "hostIPs: []HostIP",
        17: "observedGeneration: int64",
        18: "extendedResourceClaimStatus: PodExtendedResourceClaimStatus?",
        19: "allocatedResources: {}Quantity",
        20: "resources: ResourceRequirements?",
        21: "nodeAllocatableResourceClaimStatuses: []NodeAllocatableResourceClaimStatus",
        22: "volumeHealth: []PodVolumeHealth",
    },
    "PodCondition": {
        1: "type: string!",
        2: "status: string!",
        3: "lastProbeTime: Time",
        4: "lastTransitionTime: Time",
        5: "reason: string",
        6: "message: string",
        7: "observedGeneration: int64",
    },
    "PodIP": {
        1: "ip: string!",
    },
    "HostIP": {
        1: "ip: string!",
    },
    # -- core/v1: the pod template ----------------------------------------------------------------
    "PodTemplateSpec": {
        1: "metadata: ObjectMeta",
        2: "spec: PodSpec",
    },
    "PodSpec": {
        1: "volumes: []Volume",
        2: "containers: []Container",
        3: "restartPolicy: string",
        4: "terminationGracePeriodSeconds: int64?",
        5: "activeDeadlineSeconds: int64?",
        6: "dnsPolicy: string",
        7: "nodeSelector: {}string",
        8: "serviceAccountName: string",
        9: "serviceAccount: string",
        10: "nodeName: string",
        11: "hostNetwork: bool",
        12: "hostPID: bool",
        13: "hostIPC: bool",
        14: "securityContext: PodSecurityContext?",
        15: "imagePullSecrets: []LocalObjectReference",
        16: "hostname: string",
        17: "subdomain: string",
        18: "affinity: Affinity?",
        19: "schedulerName: string",
        20: "initContainers: []Container",
        21: "automountServiceAccountToken: bool?",
        22: "tolerations: []Toleration",
        23: "hostAliases: []HostAlias",
        24: "priorityClassName: string",
        25: "priority: int32?",
        26: "dnsConfig: PodDNSConfig?",
        27: "shareProcessNamespace: bool?",
        28: "readinessGates: []PodReadinessGate",
        29: "runtimeClassName: string?",
        30: "enableServiceLinks: bool?",
        31: "preemptionPolicy: string?",
        32: "overhead: {}Quantity",
        33: "topologySpreadConstraints: []TopologySpreadConstraint",
        34: "ephemeralContainers: []EphemeralContainer",
        35: "setHostnameAsFQDN: bool?",
        36: "os: PodOS?",
        37: "hostUsers: bool?",
        38: "schedulingGates: []PodSchedulingGate",
        39: "resourceClaims: []PodResourceClaim",
        40: "resources: ResourceRequirements?",
        41: "hostnameOverride: string?",
        43: "schedulingGroup: PodSchedulingGroup?",
        44: "evictionResponders: []EvictionResponder",
    },
    "Container": {
        1: "name: string!",
        2: "image: string",
        3: "command: []string",
        4: "args: []string",
        5: "workingDir: string",
        6: "ports: []ContainerPort",
        7: "env: []EnvVar",
        8: "resources: ResourceRequirements",
        9: "volumeMounts: []VolumeMount",
        10: "livenessProbe: Probe?",
        11: "readinessProbe: Probe?",
        12: "lifecycle: Lifecycle?",
        13: "terminationMessagePath: string",
        14: "imagePullPolicy: string",
        15: "securityContext: SecurityContext?",
        16: "stdin: bool",
        17: "stdinOnce: bool",
        18: "tty: bool",
        19: "envFrom: []EnvFromSource",
        20: "terminationMessagePolicy: string",
        21: "volumeDevices: []VolumeDevice",
        22: "startupProbe: Probe?",
        23: "resizePolicy: []ContainerResizePolicy",
        24: "restartPolicy: string?",
        25: "restartPolicyRules: []ContainerRestartRule",
    },
    "ContainerPort": {
        1: "name: string",
        2: "hostPort: int32",
        3: "containerPort: int32!",
        4: "protocol: string",
        5: "hostIP: string",
    },
    "EnvVar": {
        1: "name: string!",
        2: "value: string",
        3: "valueFrom: EnvVarSource?",
    },
    "EnvVarSource": {
        1: "fieldRef: ObjectFieldSelector?",
        2: "resourceFieldRef: ResourceFieldSelector?",
        3: "configMapKeyRef: ConfigMapKeySelector?",
        4: "secretKeyRef: SecretKeySelector?",
        5: "fileKeyRef: FileKeySelector?",
    },
    "ObjectFieldSelector": {
        1: "apiVersion: string",
        2: "fieldPath: string!",
    },
    "ResourceFieldSelector": {
        1: "containerName: string",
        2: "resource: string!",
        3: "divisor: Quantity",
    },
    "ConfigMapKeySelector": {
        1: "...: LocalObjectReference",
        2: "key: string!",
        3: "optional: bool?",
    },
    "SecretKeySelector": {
        1: "...: LocalObjectReference",
        2: "key: string!",
        3: "optional: bool?",
    },
    "FileKeySelector": {
        1: "volumeName: string!",
        2: "path: string!",
        3: "key: string!",
        4: "optional: bool?",
    },
    "EnvFromSource": {
        1: "prefix: string",
        2: "configMapRef: ConfigMapEnvSource?",
        3: "secretRef: SecretEnvSource?",
    },
    "ConfigMapEnvSource": {
        1: "...: LocalObjectReference",
        2: "optional: bool?",
    },
    "SecretEnvSource": {
        1: "...: LocalObjectReference",
        2: "optional: bool?",
    },
    "ResourceRequirements": {
        1: "limits: {}Quantity",
        2: "requests: {}Quantity",
        3: "claims: []ResourceClaim",
    },
    "ResourceClaim": {
        1: "name: string!",
        2: "request: string",
    },
    "VolumeMount": {
        1: "name: string!",
        2: "readOnly: bool",
        3: "mountPath: string!",
        4: "subPath: string",
        5: "mountPropagation: string?",
        6: "subPathExpr: string",
        7: "recursiveReadOnly: string?",
        8: "bindMountOptions: []string",
    },
    "VolumeDevice": {
        1: "name: string!",
        2: "devicePath: string!",
    },
    "ContainerResizePolicy": {
        1: "resourceName: string!",
        2: "restartPolicy: string!",
    },
    "ContainerRestartRule": {
        1: "action: string",
        2: "exitCodes: ContainerRestartRuleOnExitCodes?",
    },
    "ContainerRestartRuleOnExitCodes": {
        1: "operator: string",
        2: "values: []int32",
    },
    "Probe": {
        1: "...: ProbeHandler",
        2: "initialDelaySeconds: int32",
        3: "timeoutSeconds: int32",
        4: "periodSeconds: int32",
        5: "successThreshold: int32",
        6: "failureThreshold: int32",
        7: "terminationGracePeriodSeconds: int64?",
    },
    "ProbeHandler": {
        1: "exec: ExecAction?",
        2: "httpGet: HTTPGetAction?",
        3: "tcpSocket: TCPSocketAction?",
        4: "grpc: GRPCAction?",
    },
    "ExecAction": {
        1: "command: []string",
    },
    "HTTPGetAction": {
        1: "path: string",
        2: "port: IntOrString",
        3: "host: string",
        4: "scheme: string",
        5: "httpHeaders: []HTTPHeader",
        6: "protocol: string?",
    },
    "HTTPHeader": {
        1: "name: string!",
        2: "value: string!",
    },
    "TCPSocketAction": {
        1: "port: IntOrString",
        2: "host: string",
    },
    "GRPCAction": {
        1: "port: int32!",
        2: "service: string?!",
        3: "mode: string?",
    },
    "Lifecycle": {
        1: "postStart: LifecycleHandler?",
        2: "preStop: LifecycleHandler?",
        3: "stopSignal: string?",
    },
    "LifecycleHandler": {
        1: "exec: ExecAction?",
        2: "httpGet: HTTPGetAction?",
        3: "tcpSocket: TCPSocketAction?",
        4: "sleep: SleepAction?",
    },
    "SleepAction": {
        1: "seconds: int64!",
    },
    "SecurityContext": {
        1: "capabilities: Capabilities?",
        2: "privileged: bool?",
        3: "seLinuxOptions: SELinuxOptions?",
        4: "runAsUser: int64?",
        5: "runAsNonRoot: bool?",
        6: "readOnlyRootFilesystem: bool?",
        7: "allowPrivilegeEscalation: bool?",
        8: "runAsGroup: int64?",
        9: "procMount: string?",
        10: "windowsOptions: WindowsSecurityContextOptions?",
        11: "seccompProfile: SeccompProfile?",
        12: "appArmorProfile: AppArmorProfile?",
    },
    "Capabilities": {
        1: "add: []string",
        2: "drop: []string",
    },
    "SELinuxOptions": {
        1: "user: string",
        2: "role: string",
        3: "type: string",
        4: "level: string",
    },
    "WindowsSecurityContextOptions": {
        1: "gmsaCredentialSpecName: string?",
        2: "gmsaCredentialSpec: string?",
        3: "runAsUserName: string?",
        4: "hostProcess: bool?",
    },
    "SeccompProfile": {
        1: "type: string!",
        2: "localhostProfile: string?",
    },
    "AppArmorProfile": {
        1: "type: string!",
        2: "localhostProfile: string?",
    },
    "PodSecurityContext": {
        1: "seLinuxOptions: SELinuxOptions?",
        2: "runAsUser: int64?",
        3: "runAsNonRoot: bool?",
        4: "supplementalGroups: []int64",
        5: "fsGroup: int64?",
        6: "runAsGroup: int64?",
        7: "sysctls: []Sysctl",
        8: "windowsOptions: WindowsSecurityContextOptions?",
        9: "fsGroupChangePolicy: string?",
        10: "seccompProfile: SeccompProfile?",
        11: "appArmorProfile: AppArmorProfile?",
        12: "supplementalGroupsPolicy: string?",
        13: "seLinuxChangePolicy: string?",
    },
    "Sysctl": {
        1: "name: string!",
        2: "value: string!",
    },
    "Toleration": {
        1: "key: string",
        2: "operator: string",
        3: "value: string",
        4: "effect: string",
        5: "tolerationSeconds: int64?",
    },
    "HostAlias": {
        1: "ip: string!",
        2: "hostnames: []string",
    },
    "PodDNSConfig": {
        1: "nameservers: []string",
        2: "searches: []string",
        3: "options: []PodDNSConfigOption",
    },
    "PodDNSConfigOption": {
        1: "name: string",
        2: "value: string?",
    },
    "PodReadinessGate": {
        1: "conditionType: string!",
    },
    "PodOS": {
        1: "name: string!",
    },
    "PodSchedulingGate": {
        1: "name: string!",
    },
    "PodResourceClaim": {
        1: "name: string!",
        3: "resourceClaimName: string?",
        4: "resourceClaimTemplateName: string?",
    },
    "TopologySpreadConstraint": {
        1: "maxSkew: int32!",
        2: "topologyKey: string!",
        3: "whenUnsatisfiable: string!",
        4: "labelSelector: LabelSelector?",
        5: "minDomains: int32?",
        6: "nodeAffinityPolicy: string?",
        7: "nodeTaintsPolicy: string?",
        8: "matchLabelKeys: []string",
    },
    # -- core/v1: volumes -------------------------------------------------------------------------
    "Volume": {
        1: "name: string!",
        2: "...: VolumeSource",
    },
    "VolumeSource": {
        1: "hostPath: HostPathVolumeSource?",
        2: "emptyDir: EmptyDirVolumeSource?",
        3: "gcePersistentDisk: GCEPersistentDiskVolumeSource?",
        4: "awsElasticBlockStore: AWSElasticBlockStoreVolumeSource?",
        5: "gitRepo: GitRepoVolumeSource?",
        6: "secret: SecretVolumeSource?",
        7: "nfs: NFSVolumeSource?",
        8: "iscsi: ISCSIVolumeSource?",
        9: "glusterfs: GlusterfsVolumeSource?",
        10: "persistentVolumeClaim: PersistentVolumeClaimVolumeSource?",
        11: "rbd: RBDVolumeSource?",
        12: "flexVolume: FlexVolumeSource?",
        13: "cinder: CinderVolumeSource?",
        14: "cephfs: CephFSVolumeSource?",
        15: "flocker: FlockerVolumeSource?",
        16: "downwardAPI: DownwardAPIVolumeSource?",
        17: "fc: FCVolumeSource?",
        18: "azureFile: AzureFileVolumeSource?",
        19: "configMap: ConfigMapVolumeSource?",
        20: "vsphereVolume: VsphereVirtualDiskVolumeSource?",
        21: "quobyte: QuobyteVolumeSource?",
        22: "azureDisk: AzureDiskVolumeSource?",
        23: "photonPersistentDisk: PhotonPersistentDiskVolumeSource?",
        24: "portworxVolume: PortworxVolumeSource?",
        25: "scaleIO: ScaleIOVolumeSource?",
        26: "projected: ProjectedVolumeSource?",
        27: "storageos: StorageOSVolumeSource?",
        28: "csi: CSIVolumeSource?",
        29: "ephemeral: EphemeralVolumeSource?",
        30: "image: ImageVolumeSource?",
    },
    "HostPathVolumeSource": {
        1: "path: string!",
        2: "type: string?",
    },
    "EmptyDirVolumeSource": {
        1: "medium: string",
        2: "sizeLimit: Quantity?",
        3: "mode: int32?",
    },
    "SecretVolumeSource": {
        1: "secretName: string",
        2: "items: []KeyToPath",
        3: "defaultMode: int32?",
        4: "optional: bool?",
        5: "defaultUser: int64?",
    },
    "ConfigMapVolumeSource": {
        1: "...: LocalObjectReference",
        2: "items: []KeyToPath",
        3: "defaultMode: int32?",
        4: "optional: bool?",
        5: "defaultUser: int64?",
    },
    "KeyToPath": {
        1: "key: string!",
        2: "path: string!",
        3: "mode: int32?",
        4: "user: int64?",
    },
    "NFSVolumeSource": {
        1: "server: string!",
        2: "path: string!",
        3: "readOnly: bool",
    },
    "PersistentVolumeClaimVolumeSource": {
        1: "claimName: string!",
        2: "readOnly: bool",
    },
    "DownwardAPIVolumeSource": {
        1: "items: []DownwardAPIVolumeFile",
        2: "defaultMode: int32?",
        3: "defaultUser: int64?",
    },
    "DownwardAPIVolumeFile": {
        1: "path: string!",
        2: "fieldRef: ObjectFieldSelector?",
        3: "resourceFieldRef: ResourceFieldSelector?",
        4: "mode: int32?",
        5: "user: int64?",
    },
    "ProjectedVolumeSource": {
        # Go has no omitempty here, but like every list this decoder leaves an empty one out.
        1: "sources: []VolumeProjection",
        2: "defaultMode: int32?",
        3: "defaultUser: int64?",
    },
    "VolumeProjection": {
        1: "secret: SecretProjection?",
        2: "downwardAPI: DownwardAPIProjection?",
        3: "configMap: ConfigMapProjection?",
        4: "serviceAccountToken: ServiceAccountTokenProjection?",
        5: "clusterTrustBundle: ClusterTrustBundleProjection?",
        6: "podCertificate: PodCertificateProjection?",
    },
    "SecretProjection": {
        1: "...: LocalObjectReference",
        2: "items: []KeyToPath",
        4: "optional: bool?",
    },
    "ConfigMapProjection": {
        1: "...: LocalObjectReference",
        2: "items: []KeyToPath",
        4: "optional: bool?",
    },
    "DownwardAPIProjection": {
        1: "items: []DownwardAPIVolumeFile",
    },
    "ServiceAccountTokenProjection": {
        1: "audience: string",
        2: "expirationSeconds: int64?",
        3: "path: string!",
        4: "user: int64?",
    },
    "CSIVolumeSource": {
        1: "driver: string!",
        2: "readOnly: bool?",
        3: "fsType: string?",
        4: "volumeAttributes: {}string",
        5: "nodePublishSecretRef: LocalObjectReference?",
    },
    "ImageVolumeSource": {
        1: "reference: string",
        2: "pullPolicy: string",
    },
    # -- apps/v1 ----------------------------------------------------------------------------------
    "Deployment": {
        1: "metadata: ObjectMeta",
        2: "spec: DeploymentSpec",
        3: "status: DeploymentStatus",
    },
    "DeploymentSpec": {
        1: "replicas: int32?",
        2: "selector: LabelSelector?!",
        3: "template: PodTemplateSpec",
        4: "strategy: DeploymentStrategy",
        5: "minReadySeconds: int32",
        6: "revisionHistoryLimit: int32?",
        7: "paused: bool",
        9: "progressDeadlineSeconds: int32?",
    },
    "DeploymentStrategy": {
        1: "type: string",
        2: "rollingUpdate: RollingUpdateDeployment?",
    },
    "RollingUpdateDeployment": {
        1: "maxUnavailable: IntOrString?",
        2: "maxSurge: IntOrString?",
    },
    "DeploymentStatus": {
        1: "observedGeneration: int64",
        2: "replicas: int32",
        3: "updatedReplicas: int32",
        4: "availableReplicas: int32",
        5: "unavailableReplicas: int32",
        6: "conditions: []DeploymentCondition",
        7: "readyReplicas: int32",
        8: "collisionCount: int32?",
        9: "terminatingReplicas: int32?",
    },
    "DeploymentCondition": {
        1: "type: string!",
        2: "status: string!",
        4: "reason: string",
        5: "message: string",
        6: "lastUpdateTime: Time",
        7: "lastTransitionTime: Time",
    },
    # -- autoscaling/v2 (what `kubectl autoscale` sends) and v1 ---------------------------------------
    "HorizontalPodAutoscaler": {
        1: "metadata: ObjectMeta",
        2: "spec: HorizontalPodAutoscalerSpec",
        3: "status: HorizontalPodAutoscalerStatus",
    },
    "HorizontalPodAutoscalerSpec": {
        1: "scaleTargetRef: CrossVersionObjectReference",
        2: "minReplicas: int32?",
        3: "maxReplicas: int32!",
        4: "metrics: []MetricSpec",
        5: "behavior: HorizontalPodAutoscalerBehavior?",
    },
    "CrossVersionObjectReference": {
        1: "kind: string!",
        2: "name: string!",
        3: "apiVersion: string",
    },
    "MetricSpec": {
        1: "type: string!",
        2: "object: ObjectMetricSource?",
        3: "pods: PodsMetricSource?",
        4: "resource: ResourceMetricSource?",
        5: "external: ExternalMetricSource?",
        7: "containerResource: ContainerResourceMetricSource?",
    },
    "ResourceMetricSource": {
        1: "name: string!",
        2: "target: MetricTarget",
    },
    "ContainerResourceMetricSource": {
        1: "name: string!",
        2: "target: MetricTarget",
        3: "container: string!",
    },
    "PodsMetricSource": {
        1: "metric: MetricIdentifier",
        2: "target: MetricTarget",
    },
    "ObjectMetricSource": {
        1: "describedObject: CrossVersionObjectReference",
        2: "target: MetricTarget",
        3: "metric: MetricIdentifier",
    },
    "ExternalMetricSource": {
        1: "metric: MetricIdentifier",
        2: "target: MetricTarget",
    },
    "MetricIdentifier": {
        1: "name: string!",
        2: "selector: LabelSelector?",
    },
    "MetricTarget": {
        1: "type: string!",
        2: "value: Quantity?",
        3: "averageValue: Quantity?",
        4: "averageUtilization: int32?",
    },
    "HorizontalPodAutoscalerBehavior": {
        1: "scaleUp: HPAScalingRules?",
        2: "scaleDown: HPAScalingRules?",
    },
    "HPAScalingRules": {
        1: "selectPolicy: string?",
        2: "policies: []HPAScalingPolicy",
        3: "stabilizationWindowSeconds: int32?",
        4: "tolerance: Quantity?",
    },
    "HPAScalingPolicy": {
        1: "type: string!",
        2: "value: int32!",
        3: "periodSeconds: int32!",
    },
    "HorizontalPodAutoscalerStatus": {
        1: "observedGeneration: int64?",
        2: "lastScaleTime: Time?",
        3: "currentReplicas: int32",
        4: "desiredReplicas: int32!",
        5: "currentMetrics: []MetricStatus",
        6: "conditions: []HorizontalPodAutoscalerCondition",
    },
    "HorizontalPodAutoscalerCondition": {
        1: "type: string!",
        2: "status: string!",
        3: "lastTransitionTime: Time",
        4: "reason: string",
        5: "message: string",
        6: "observedGeneration: int64",
    },
    "HorizontalPodAutoscalerV1": {
        1: "metadata: ObjectMeta",
        2: "spec: HorizontalPodAutoscalerSpecV1",
        3: "status: HorizontalPodAutoscalerStatusV1",
    },
    "HorizontalPodAutoscalerSpecV1": {
        1: "scaleTargetRef: CrossVersionObjectReference",
        2: "minReplicas: int32?",
        3: "maxReplicas: int32!",
        4: "targetCPUUtilizationPercentage: int32?",
    },
    "HorizontalPodAutoscalerStatusV1": {
        1: "observedGeneration: int64?",
        2: "lastScaleTime: Time?",
        3: "currentReplicas: int32!",
        4: "desiredReplicas: int32!",
        5: "currentCPUUtilizationPercentage: int32?",
    },
    # -- batch/v1 ---------------------------------------------------------------------------------
    "Job": {
        1: "metadata: ObjectMeta",
        2: "spec: JobSpec",
        3: "status: JobStatus",
    },
    "JobSpec": {
        1: "parallelism: int32?",
        2: "completions: int32?",
        3: "activeDeadlineSeconds: int64?",
        4: "selector: LabelSelector?",
        5: "manualSelector: bool?",
        6: "template: PodTemplateSpec",
        7: "backoffLimit: int32?",
        8: "ttlSecondsAfterFinished: int32?",
        9: "completionMode: string?",
        10: "suspend: bool?",
        11: "podFailurePolicy: PodFailurePolicy?",
        12: "backoffLimitPerIndex: int32?",
        13: "maxFailedIndexes: int32?",
        14: "podReplacementPolicy: string?",
        15: "managedBy: string?",
        16: "successPolicy: SuccessPolicy?",
        17: "scheduling: JobSchedulingConfiguration?",
    },
    "PodFailurePolicy": {
        1: "rules: []PodFailurePolicyRule",
    },
    "PodFailurePolicyRule": {
        1: "action: string!",
        2: "onExitCodes: PodFailurePolicyOnExitCodesRequirement?",
        3: "onPodConditions: []PodFailurePolicyOnPodConditionsPattern",
    },
    "PodFailurePolicyOnExitCodesRequirement": {
        1: "containerName: string?",
        2: "operator: string!",
        3: "values: []int32",
    },
    "PodFailurePolicyOnPodConditionsPattern": {
        1: "type: string!",
        2: "status: string!",
    },
    "SuccessPolicy": {
        1: "rules: []SuccessPolicyRule",
    },
    "SuccessPolicyRule": {
        1: "succeededIndexes: string?",
        2: "succeededCount: int32?",
    },
    "JobStatus": {
        1: "conditions: []JobCondition",
        2: "startTime: Time?",
        3: "completionTime: Time?",
        4: "active: int32",
        5: "succeeded: int32",
        6: "failed: int32",
        7: "completedIndexes: string",
        8: "uncountedTerminatedPods: UncountedTerminatedPods?",
        9: "ready: int32?",
        10: "failedIndexes: string?",
        11: "terminating: int32?",
    },
    "JobCondition": {
        1: "type: string!",
        2: "status: string!",
        3: "lastProbeTime: Time",
        4: "lastTransitionTime: Time",
        5: "reason: string",
        6: "message: string",
    },
    "UncountedTerminatedPods": {
        1: "succeeded: []string",
        2: "failed: []string",
    },
    "CronJob": {
        1: "metadata: ObjectMeta",
        2: "spec: CronJobSpec",
        3: "status: CronJobStatus",
    },
    "CronJobSpec": {
        1: "schedule: string!",
        2: "startingDeadlineSeconds: int64?",
        3: "concurrencyPolicy: string",
        4: "suspend: bool?",
        5: "jobTemplate: JobTemplateSpec",
        6: "successfulJobsHistoryLimit: int32?",
        7: "failedJobsHistoryLimit: int32?",
        8: "timeZone: string?",
    },
    "JobTemplateSpec": {
        1: "metadata: ObjectMeta",
        2: "spec: JobSpec",
    },
    "CronJobStatus": {
        1: "active: []ObjectReference",
        4: "lastScheduleTime: Time?",
        5: "lastSuccessfulTime: Time?",
    },
}

# The kinds `decode_object` accepts, by (apiVersion, kind) from the envelope: everything the
# `kubectl create` generators produce for the kinds this API serves, plus Pod (same PodSpec).
_KINDS: dict[tuple[str, str], str] = {
    ("v1", "Namespace"): "Namespace",
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Secret"): "Secret",
    ("v1", "ServiceAccount"): "ServiceAccount",
    ("v1", "ResourceQuota"): "ResourceQuota",
    ("v1", "Service"): "Service",
    ("v1", "Pod"): "Pod",
    ("apps/v1", "Deployment"): "Deployment",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "HorizontalPodAutoscaler",
    ("autoscaling/v1", "HorizontalPodAutoscaler"): "HorizontalPodAutoscalerV1",
    ("batch/v1", "Job"): "Job",
    ("batch/v1", "CronJob"): "CronJob",
}
SUPPORTED_KINDS = frozenset(_KINDS)

_SCALARS = frozenset({"string", "bytes", "bool", "int32", "int64"})
# Messages with a JSON form of their own (a string or a number), converted by `_special`.
_SPECIAL = frozenset({"Time", "IntOrString", "Quantity", "FieldsV1"})
_MAP_VALUES = frozenset({"string", "bytes", "Quantity"})
_SPEC = re.compile(r"(?P<name>\.\.\.|[A-Za-z]\w*): (?P<shape>\[\]|\{\})?(?P<type>[A-Za-z]\w*)(?P<mark>\?!|[?!~])?")


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # the JSON name; "..." for an inlined embedded struct
    type: str  # a scalar from _SCALARS, or a message name
    repeated: bool = False
    map: bool = False
    mark: str = ""  # see the notation above the tables

    @property
    def scalar(self) -> bool:
        return self.type in _SCALARS

    @property
    def inline(self) -> bool:
        return self.name == "..."


def _parse_field(spec: str) -> _Field:
    match = _SPEC.fullmatch(spec)
    if match is None:
        raise ValueError(f"bad field spec {spec!r}")
    shape, mark = match["shape"] or "", match["mark"] or ""
    field = _Field(match["name"], match["type"], repeated=shape == "[]", map=shape == "{}", mark=mark)
    if (field.repeated or field.map) and mark:
        raise ValueError(f"{spec!r}: lists and maps are simply omitted when empty, they take no mark")
    if field.map and field.type not in _MAP_VALUES:
        raise ValueError(f"{spec!r}: map values must be one of {sorted(_MAP_VALUES)}")
    if field.scalar and mark == "~":
        raise ValueError(f"{spec!r}: omitzero is only used for structs")
    if field.inline and (field.scalar or shape or mark):
        raise ValueError(f"{spec!r}: only a plain struct can be inlined")
    return field


_SCHEMA: dict[str, dict[int, _Field]] = {
    message: {number: _parse_field(spec) for number, spec in fields.items()} for message, fields in _TABLES.items()
}


# ----------------------------------------------------------------------------------------------
# Decoding


def decode_object(body: bytes) -> dict:
    """The Kubernetes object in a protobuf request body, as the dict its JSON form would give.

    Raises ProtobufError for anything that is not a well-formed object of a supported kind.
    """
    buf = bytes(body)
    if not buf.startswith(MAGIC):
        raise ProtobufError(
            f"not a Kubernetes protobuf body: it must start with the magic bytes {MAGIC.hex(' ')}, "
            f"found {buf[: len(MAGIC)].hex(' ') or 'nothing'}"
        )
    api_version, kind, raw = _read_envelope(buf, len(MAGIC), len(buf))
    message = _KINDS.get((api_version, kind))
    if message is None:
        served = ", ".join(f"{v} {k}" for v, k in sorted(_KINDS))
        raise ProtobufError(f"unsupported kind {kind!r} in apiVersion {api_version!r}; supported: {served}")
    return {"apiVersion": api_version, "kind": kind, **_decode_message(buf, raw, message)}


def _read_envelope(buf: bytes, start: int, end: int) -> tuple[str, str, list[Span]]:
    """apiVersion, kind and the spans of `raw` from a runtime.Unknown message."""
    type_meta: list[Span] = []
    raw: list[Span] = []
    strings = {3: "", 4: ""}
    for number, wire, value, offset in _iter_fields(buf, start, end, "runtime.Unknown"):
        if number not in (1, 2, 3, 4):
            raise ProtobufError(f"unknown field number {number} in message runtime.Unknown at offset {offset}")
        span = _expect_span(number, wire, value, offset, "runtime.Unknown")
        if number == 1:
            type_meta.append(span)
        elif number == 2:
            raw = [span]  # bytes: the last occurrence wins
        else:
            strings[number] = _text(buf, span, f"field {number} of runtime.Unknown")
    content_encoding, content_type = strings[3], strings[4]
    if content_encoding:
        raise ProtobufError(f"unsupported contentEncoding {content_encoding!r} in runtime.Unknown")
    if content_type not in ("", CONTENT_TYPE):
        raise ProtobufError(f"unsupported contentType {content_type!r} in runtime.Unknown; expected {CONTENT_TYPE}")
    if not type_meta:
        raise ProtobufError("runtime.Unknown has no typeMeta, so the kind of the object is unknown")
    if not raw:
        # Present but empty is a legal all-defaults object; absent means the body was cut short
        # at a field boundary, which protobuf itself cannot notice.
        raise ProtobufError("runtime.Unknown has no raw field, so it carries no object")
    type_fields = {1: "", 2: ""}
    for span in type_meta:  # repeated occurrences of an embedded message merge
        for number, wire, value, offset in _iter_fields(buf, span[0], span[1], "runtime.TypeMeta"):
            if number not in type_fields:
                raise ProtobufError(f"unknown field number {number} in message runtime.TypeMeta at offset {offset}")
            value_span = _expect_span(number, wire, value, offset, "runtime.TypeMeta")
            type_fields[number] = _text(buf, value_span, f"field {number} of runtime.TypeMeta")
    return type_fields[1], type_fields[2], raw


def _expect_span(number: int, wire: int, value: int | Span, offset: int, message: str) -> Span:
    if wire != LENGTH_DELIMITED:
        raise ProtobufError(
            f"field {number} of message {message} at offset {offset} is {_WIRE_NAMES[wire]}, expected length-delimited"
        )
    assert isinstance(value, tuple)
    return value


def _decode_message(buf: bytes, spans: list[Span], message: str) -> dict:
    """The JSON form of `message`, read from the concatenation of `spans`.

    Several spans arise when a singular message field occurs more than once: protobuf merges
    the occurrences, which is exactly decoding their concatenation.
    """
    table = _SCHEMA[message]
    seen: dict[int, list[tuple[int, int | Span, int]]] = {}
    for start, end in spans:
        for number, wire, value, offset in _iter_fields(buf, start, end, message):
            if number not in table:
                raise ProtobufError(f"unknown field number {number} in message {message} at offset {offset}")
            seen.setdefault(number, []).append((wire, value, offset))
    out: dict = {}
    for number, field in table.items():
        values = seen.get(number, [])
        where = f"field {field.name} ({number}) of message {message}"
        if field.inline:
            out.update(_decode_nested(buf, [_span_of(v, where) for v in values], field.type, where))
        elif field.map:
            entries = _map_entries(buf, values, field.type, where)
            if entries:
                out[field.name] = entries
        elif field.repeated:
            items = _repeated(buf, values, field.type, where)
            if items:
                out[field.name] = items
        elif field.scalar:
            _put_scalar(out, field, _scalar(buf, values[-1], field.type, where) if values else None)
        else:
            spans_of_field = [_span_of(v, where) for v in values]
            _put_message(out, field, _decode_nested(buf, spans_of_field, field.type, where) if values else _ABSENT)
    return out


_ABSENT = object()
_ZERO = {"string": "", "bytes": "", "bool": False, "int32": 0, "int64": 0}


def _put_scalar(out: dict, field: _Field, value: object) -> None:
    """Go's encoding/json view of a scalar: see the marks above the tables."""
    if value is None:  # absent on the wire
        if field.mark == "!":
            out[field.name] = _ZERO[field.type]
        elif field.mark == "?!":
            out[field.name] = None
    elif field.mark in ("?", "?!", "!") or value != _ZERO[field.type]:
        out[field.name] = value


def _put_message(out: dict, field: _Field, value: object) -> None:
    if value is _ABSENT:
        if field.mark == "?!":
            out[field.name] = None
        elif field.mark == "":
            # A plain struct is always in Go's JSON, as its zero value when the wire had nothing.
            out[field.name] = _zero_message(field.type)
    elif field.mark != "~" or value not in (None, {}):
        out[field.name] = value


def _zero_message(message: str) -> object:
    return _special(b"", [], message, "") if message in _SPECIAL else _decode_message(b"", [], message)


def _span_of(entry: tuple[int, int | Span, int], where: str) -> Span:
    wire, value, offset = entry
    if wire != LENGTH_DELIMITED:
        raise ProtobufError(f"{where} at offset {offset} is {_WIRE_NAMES[wire]}, expected length-delimited")
    assert isinstance(value, tuple)
    return value


def _decode_nested(buf: bytes, spans: list[Span], message: str, where: str) -> object:
    if message in _SPECIAL:
        return _special(buf, spans, message, where)
    if message not in _SCHEMA:
        raise ProtobufError(f"{where} holds a {message}, which this decoder does not support")
    return _decode_message(buf, spans, message)


def _scalar(buf: bytes, entry: tuple[int, int | Span, int], type_: str, where: str) -> object:
    wire, value, offset = entry
    if type_ in ("string", "bytes"):
        span = _span_of(entry, where)
        if type_ == "string":
            return _text(buf, span, where)
        return base64.b64encode(buf[span[0] : span[1]]).decode("ascii")  # []byte in Go's JSON
    if wire != VARINT:
        raise ProtobufError(f"{where} at offset {offset} is {_WIRE_NAMES[wire]}, expected varint")
    assert isinstance(value, int)
    if type_ == "bool":
        return value != 0
    return _signed(value, 32 if type_ == "int32" else 64)


def _repeated(buf: bytes, values: list[tuple[int, int | Span, int]], type_: str, where: str) -> list:
    items: list = []
    for wire, value, offset in values:
        if type_ in ("bool", "int32", "int64") and wire == LENGTH_DELIMITED:
            # Packed encoding: one length-delimited run of varints. Go's encoder does not pack
            # these proto2 fields, but a decoder must accept both forms.
            assert isinstance(value, tuple)
            pos, end = value
            while pos < end:
                number, pos = _read_varint(buf, pos, end)
                items.append(_scalar(buf, (VARINT, number, pos), type_, where))
        elif type_ in _SCALARS:
            items.append(_scalar(buf, (wire, value, offset), type_, where))
        else:
            items.append(_decode_nested(buf, [_span_of((wire, value, offset), where)], type_, where))
    return items


def _map_entries(buf: bytes, values: list[tuple[int, int | Span, int]], value_type: str, where: str) -> dict:
    """map<string, V> arrives as repeated entry messages key(1), value(2); a later key wins."""
    entries: dict = {}
    for entry in values:
        start, end = _span_of(entry, where)
        key, value = "", None
        for number, wire, item, offset in _iter_fields(buf, start, end, f"map entry of {where}"):
            if number == 1:
                key = _text(buf, _span_of((wire, item, offset), f"key of {where}"), f"key of {where}")
            elif number == 2:
                span = _span_of((wire, item, offset), f"value of {where}")
                if value_type == "Quantity":
                    value = _special(buf, [span], "Quantity", f"value of {where}")
                else:
                    value = _scalar(buf, (wire, item, offset), value_type, f"value of {where}")
            else:
                raise ProtobufError(f"unknown field number {number} in a map entry of {where} at offset {offset}")
        entries[key] = value if value is not None else _zero_value(value_type)
    return entries


def _zero_value(type_: str) -> object:
    return _ZERO[type_] if type_ in _ZERO else _zero_message(type_)


# ----------------------------------------------------------------------------------------------
# Messages with a JSON form of their own


def _special(buf: bytes, spans: list[Span], message: str, where: str) -> object:
    fields: dict[int, tuple[int, int | Span, int]] = {}
    for start, end in spans:
        for number, wire, value, offset in _iter_fields(buf, start, end, message):
            fields[number] = (wire, value, offset)  # scalars: the last occurrence wins
    if message == "Time":
        return _time(buf, spans, fields, where)
    if message == "IntOrString":
        return _int_or_string(buf, fields, where)
    if message == "Quantity":
        _only(fields, {1}, "Quantity")
        # Kept as sent, as a quantity in a JSON body is: parsing and canonical form (`1000m` → `1`)
        # are the validation layer's job for both encodings. Go's encoder, kubectl's included,
        # always writes the canonical form anyway.
        return _scalar(buf, fields[1], "string", f"Quantity in {where}") if 1 in fields else "0"
    # FieldsV1: raw(1) holds the JSON document itself.
    _only(fields, {1}, "FieldsV1")
    if 1 not in fields:
        return None
    start, end = _span_of(fields[1], f"FieldsV1 in {where}")
    try:
        return json.loads(buf[start:end])
    except (ValueError, RecursionError):
        raise ProtobufError(f"FieldsV1 in {where} at offset {start} is not a JSON document") from None


def _only(fields: dict, allowed: set[int], message: str) -> None:
    for number, (_, _, offset) in fields.items():
        if number not in allowed:
            raise ProtobufError(f"unknown field number {number} in message {message} at offset {offset}")


# Go's zero time.Time, 0001-01-01T00:00:00Z, in Unix seconds: JSON writes it as null.
_GO_ZERO_TIME_SECONDS = -62135596800


def _time(buf: bytes, spans: list[Span], fields: dict, where: str) -> str | None:
    """meta/v1 Time: seconds(1), nanos(2) → RFC 3339 in UTC, to the second, or None (null).

    Go writes the zero time as an empty message and reads an empty message back as the zero
    time. When reading, it also ignores nanos on purpose, because JSON has only whole seconds
    (apimachinery time_proto.go). So 0001-01-01T00:00:00Z plus any nanos is still the zero time,
    and its JSON is null.
    """
    _only(fields, {1, 2}, "Time")
    if all(start == end for start, end in spans):
        return None
    seconds = _scalar(buf, fields[1], "int64", f"seconds of Time in {where}") if 1 in fields else 0
    if 2 in fields:
        _scalar(buf, fields[2], "int32", f"nanos of Time in {where}")  # must be well-formed, then ignored
    if seconds == _GO_ZERO_TIME_SECONDS:
        return None
    assert isinstance(seconds, int)
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ProtobufError(f"Time in {where} has {seconds} seconds, outside the years 1 to 9999") from None
    return format_time(moment)


def _int_or_string(buf: bytes, fields: dict, where: str) -> object:
    """util/intstr IntOrString: type(1) 0 = int, 1 = string; intVal(2), strVal(3)."""
    _only(fields, {1, 2, 3}, "IntOrString")
    kind = _scalar(buf, fields[1], "int64", f"type of IntOrString in {where}") if 1 in fields else 0
    if kind == 0:
        return _scalar(buf, fields[2], "int32", f"intVal of IntOrString in {where}") if 2 in fields else 0
    if kind == 1:
        return _scalar(buf, fields[3], "string", f"strVal of IntOrString in {where}") if 3 in fields else ""
    raise ProtobufError(f"IntOrString in {where} has type {kind}; only 0 (int) and 1 (string) exist")
