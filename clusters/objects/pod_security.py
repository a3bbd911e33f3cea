"""Pod Security admission: the Pod Security Standards' checks and how a namespace's labels
choose them, as kubernetes/pod-security-admission decides (pure: dicts in, words out).

A namespace's `pod-security.kubernetes.io/<mode>` labels (mode: enforce, audit, warn; each with
a `-version`) choose a level — privileged, baseline or restricted — and a version of the checks
("latest", or "v1.x" for the checks as they were in that release). A pod that fails its
namespace's enforce level is refused (`violates PodSecurity "baseline:latest": …`); one that
fails the warn level is admitted with a warning (`would violate PodSecurity …`); objects with a
pod template are only ever warned about, since their pods are judged when they are made.

The checks, their IDs, versions and words are upstream's (`policy/check_*.go`); the checks of a
level run in upstream's order: baseline checks by ID, then restricted ones, a restricted check
replacing the baseline check it overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

PRIVILEGED, BASELINE, RESTRICTED = "privileged", "baseline", "restricted"
LEVELS = (PRIVILEGED, BASELINE, RESTRICTED)
LATEST = "latest"
PREFIX = "pod-security.kubernetes.io/"
ENFORCE_LABEL, ENFORCE_VERSION_LABEL = PREFIX + "enforce", PREFIX + "enforce-version"
AUDIT_LABEL, AUDIT_VERSION_LABEL = PREFIX + "audit", PREFIX + "audit-version"
WARN_LABEL, WARN_VERSION_LABEL = PREFIX + "warn", PREFIX + "warn-version"

# The kinds whose objects carry a pod template (upstream's DefaultPodSpecExtractor), by API group.
TEMPLATE_KINDS = {
    ("", "ReplicationController"),
    ("", "PodTemplate"),
    ("apps", "ReplicaSet"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
}

Version = tuple[int, int]  # (1, minor); LATEST_VERSION stands for "latest"
LATEST_VERSION: Version = (1, 10**6)


def version_text(version: Version) -> str:
    return LATEST if version == LATEST_VERSION else f"v{version[0]}.{version[1]}"


@dataclass(frozen=True)
class LevelVersion:
    level: str
    version: Version = LATEST_VERSION

    def __str__(self) -> str:
        return f"{self.level}:{version_text(self.version)}"


PRIVILEGED_LATEST = LevelVersion(PRIVILEGED)


@dataclass(frozen=True)
class Policy:
    enforce: LevelVersion = PRIVILEGED_LATEST
    audit: LevelVersion = PRIVILEGED_LATEST
    warn: LevelVersion = PRIVILEGED_LATEST

    @property
    def fully_privileged(self) -> bool:
        return self.enforce.level == self.audit.level == self.warn.level == PRIVILEGED


@dataclass(frozen=True)
class LabelError:
    """A pod-security label whose value is not one; `field` and `message` as upstream's
    field.Invalid: `metadata.labels[pod-security.kubernetes.io/enforce]`, `must be one of …`."""

    label: str
    value: str
    message: str

    @property
    def field(self) -> str:
        return f"metadata.labels[{self.label}]"


def _parse_level(value: str) -> tuple[str, str | None]:
    if value in LEVELS:
        return value, None
    return RESTRICTED, "must be one of " + ", ".join(LEVELS)


def _parse_version(value: str) -> tuple[Version, str | None]:
    if value == LATEST:
        return LATEST_VERSION, None
    minor = value.removeprefix("v1.")
    if value.startswith("v1.") and minor.isascii() and minor.isdigit() and (minor == "0" or not minor.startswith("0")):
        return (1, int(minor)), None
    return LATEST_VERSION, 'must be "latest" or "v1.x"'


def compare_levels(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` is less strict than, as strict as, or stricter than `b`."""
    return (LEVELS.index(a) > LEVELS.index(b)) - (LEVELS.index(a) < LEVELS.index(b))


def policy_for(labels: dict | None, default: Policy = Policy()) -> tuple[Policy, list[LabelError]]:
    """The policy a namespace's labels choose (upstream's api.PolicyToEvaluate): unset modes
    keep `default`'s; a bad level means restricted for enforce and privileged for audit and warn
    (fail closed, fail open), a bad version "latest", and each is reported. Warn follows an
    explicit enforce level that is stricter than it, unless warn is set."""
    labels = labels or {}
    errors: list[LabelError] = []
    modes = {"enforce": default.enforce, "audit": default.audit, "warn": default.warn}

    def parsed(label: str, parse: Callable, fallback=None):
        value = labels[label]
        result, problem = parse(value)
        if problem:
            errors.append(LabelError(label, value, problem))
            return fallback if fallback is not None else result
        return result

    enforce_level_valid = False
    for mode, level_label, version_label in (
        ("enforce", ENFORCE_LABEL, ENFORCE_VERSION_LABEL),
        ("audit", AUDIT_LABEL, AUDIT_VERSION_LABEL),
        ("warn", WARN_LABEL, WARN_VERSION_LABEL),
    ):
        level, version = modes[mode].level, modes[mode].version
        if level_label in labels:
            level = parsed(level_label, _parse_level, None if mode == "enforce" else PRIVILEGED)
            if mode == "enforce":
                enforce_level_valid = labels[level_label] in LEVELS
        if version_label in labels:
            version = parsed(version_label, _parse_version)
        modes[mode] = LevelVersion(level, version)
    if (
        WARN_LABEL not in labels
        and enforce_level_valid
        and compare_levels(modes["enforce"].level, modes["warn"].level) > 0
    ):
        version = modes["warn"].version if WARN_VERSION_LABEL in labels else modes["enforce"].version
        modes["warn"] = LevelVersion(modes["enforce"].level, version)
    return Policy(**modes), errors


# --- the checks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    reason: str
    detail: str = ""


Check = Callable[[dict, dict], Violation | None]  # (pod metadata, pod spec) -> a violation or None


def _containers(spec: dict) -> list[dict]:
    """Init containers, containers, then ephemeral containers, as upstream visits them."""
    return [
        *(spec.get("initContainers") or []),
        *(spec.get("containers") or []),
        *(spec.get("ephemeralContainers") or []),
    ]


def _quote(items: Iterable[str]) -> str:
    items = list(items)
    return '"' + '", "'.join(items) + '"' if items else ""


def _plural(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def _named(singular: str, plural: str, names: list[str]) -> str:
    return f"{_plural(singular, plural, len(names))} {_quote(names)}"


def _context(container: dict) -> dict:
    return container.get("securityContext") or {}


def _pod_context(spec: dict) -> dict:
    return spec.get("securityContext") or {}


def _windows(spec: dict) -> bool:
    return (spec.get("os") or {}).get("name") == "windows"


def _user_namespaced(spec: dict) -> bool:
    return spec.get("hostUsers") is False


def _setters(pod_bad: bool, containers: list[str]) -> list[str]:
    return (["pod"] if pod_bad else []) + ([_named("container", "containers", containers)] if containers else [])


def privileged(meta: dict, spec: dict) -> Violation | None:
    bad = [c.get("name", "") for c in _containers(spec) if _context(c).get("privileged") is True]
    if bad:
        return Violation(
            "privileged", f"{_named('container', 'containers', bad)} must not set securityContext.privileged=true"
        )
    return None


def host_namespaces(meta: dict, spec: dict) -> Violation | None:
    found = [f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key) is True]
    return Violation("host namespaces", ", ".join(found)) if found else None


def host_path_volumes(meta: dict, spec: dict) -> Violation | None:
    bad = [v.get("name", "") for v in spec.get("volumes") or [] if v.get("hostPath") is not None]
    return Violation("hostPath volumes", _named("volume", "volumes", bad)) if bad else None


def host_ports(meta: dict, spec: dict) -> Violation | None:
    bad, ports = [], set()
    for container in _containers(spec):
        used = {str(p["hostPort"]) for p in container.get("ports") or [] if p.get("hostPort")}
        if used:
            bad.append(container.get("name", ""))
            ports |= used
    if not bad:
        return None
    return Violation(
        "hostPort",
        f"{_named('container', 'containers', bad)} {_plural('uses', 'use', len(bad))} "
        f"{_plural('hostPort', 'hostPorts', len(ports))} {', '.join(sorted(ports))}",
    )


def _probe_hosts(handler: dict | None) -> list[str]:
    handler = handler or {}
    return [h for kind in ("httpGet", "tcpSocket") if (h := (handler.get(kind) or {}).get("host"))]


def host_probes_and_lifecycle(meta: dict, spec: dict) -> Violation | None:
    bad, hosts = set(), set()
    for container in _containers(spec):
        lifecycle = container.get("lifecycle") or {}
        handlers = [container.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [lifecycle.get("postStart"), lifecycle.get("preStop")]
        for handler in handlers:
            if found := _probe_hosts(handler):
                bad.add(container.get("name", ""))
                hosts.update(found)
    if not bad:
        return None
    return Violation(
        "probe or lifecycle host",
        f"{_named('container', 'containers', sorted(bad))} {_plural('uses', 'use', len(bad))} "
        f"{_plural('probe or lifecycle host', 'probe or lifecycle hosts', len(hosts))} {_quote(sorted(hosts))}",
    )


BASELINE_CAPABILITIES = frozenset(
    [
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ]
)


def capabilities_baseline(meta: dict, spec: dict) -> Violation | None:
    bad, extra = [], set()
    for container in _containers(spec):
        added = set((_context(container).get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            bad.append(container.get("name", ""))
            extra |= added
    if not bad:
        return None
    return Violation(
        "non-default capabilities",
        f"{_named('container', 'containers', bad)} must not include {_quote(sorted(extra))} "
        "in securityContext.capabilities.add",
    )


def capabilities_restricted(meta: dict, spec: dict) -> Violation | None:
    missing_drop, adding, forbidden = [], [], set()
    for container in _containers(spec):
        name = container.get("name", "")
        capabilities = _context(container).get("capabilities")
        if capabilities is None:
            missing_drop.append(name)
            continue
        if "ALL" not in (capabilities.get("drop") or []):
            missing_drop.append(name)
        added = {c for c in capabilities.get("add") or [] if c != "NET_BIND_SERVICE"}
        if added:
            adding.append(name)
            forbidden |= added
    details = []
    if missing_drop:
        details.append(
            f'{_named("container", "containers", missing_drop)} must set securityContext.capabilities.drop=["ALL"]'
        )
    if adding:
        details.append(
            f"{_named('container', 'containers', adding)} must not include {_quote(sorted(forbidden))} "
            "in securityContext.capabilities.add"
        )
    return Violation("unrestricted capabilities", "; ".join(details)) if details else None


def _proc_mount(meta: dict, spec: dict) -> Violation | None:
    bad, kinds = [], set()
    for container in _containers(spec):
        mount = _context(container).get("procMount")
        if mount is not None and mount != "Default":
            bad.append(container.get("name", ""))
            kinds.add(mount)
    if not bad:
        return None
    return Violation(
        "procMount",
        f"{_named('container', 'containers', bad)} must not set securityContext.procMount to {_quote(sorted(kinds))}",
    )


def proc_mount_baseline(meta: dict, spec: dict) -> Violation | None:
    return None if _user_namespaced(spec) else _proc_mount(meta, spec)


SELINUX_TYPES_1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
SELINUX_TYPES_1_31 = SELINUX_TYPES_1_0 | {"container_engine_t"}


def _selinux(allowed: frozenset[str]) -> Check:
    def se_linux_options(meta: dict, spec: dict) -> Violation | None:
        bad_types: set[str] = set()
        found = {"user": False, "role": False}

        def valid(options: dict) -> bool:
            ok = True
            if options.get("type", "") not in allowed:
                bad_types.add(options.get("type", ""))
                ok = False
            for key in ("user", "role"):
                if options.get(key):
                    found[key], ok = True, False
            return ok

        pod_options = _pod_context(spec).get("seLinuxOptions")
        pod_bad = pod_options is not None and not valid(pod_options)
        bad = [
            c.get("name", "")
            for c in _containers(spec)
            if _context(c).get("seLinuxOptions") is not None and not valid(_context(c)["seLinuxOptions"])
        ]
        setters = _setters(pod_bad, bad)
        if not setters:
            return None
        data = [_named("type", "types", sorted(bad_types))] if bad_types else []
        data += [f"{key} may not be set" for key in ("user", "role") if found[key]]
        return Violation(
            "seLinuxOptions",
            f"{' and '.join(setters)} set forbidden securityContext.seLinuxOptions: {'; '.join(data)}",
        )

    return se_linux_options


SECCOMP_ALLOWED = ("RuntimeDefault", "Localhost")
SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"


def seccomp_baseline_annotations(meta: dict, spec: dict) -> Violation | None:
    """Before 1.19, seccomp was chosen by annotations."""
    annotations = meta.get("annotations") or {}

    def valid(value: str) -> bool:
        return value in ("runtime/default", "docker/default") or value.startswith("localhost/")

    keys = [SECCOMP_POD_ANNOTATION] + [SECCOMP_CONTAINER_ANNOTATION + c.get("name", "") for c in _containers(spec)]
    bad = sorted({f'{key}="{annotations[key]}"' for key in keys if key in annotations and not valid(annotations[key])})
    if bad:
        return Violation(
            "seccompProfile", f"forbidden {_plural('annotation', 'annotations', len(bad))} {', '.join(bad)}"
        )
    return None


def _seccomp(meta: dict, spec: dict, *, required: bool) -> Violation | None:
    bad_values: set[str] = set()
    pod_profile = _pod_context(spec).get("seccompProfile")
    pod_bad = pod_profile is not None and pod_profile.get("type") not in SECCOMP_ALLOWED
    pod_set = pod_profile is not None and not pod_bad
    if pod_bad:
        bad_values.add(pod_profile.get("type", ""))
    explicit, implicit = [], []
    for container in _containers(spec):
        profile = _context(container).get("seccompProfile")
        if profile is not None:
            if profile.get("type") not in SECCOMP_ALLOWED:
                explicit.append(container.get("name", ""))
                bad_values.add(profile.get("type", ""))
        elif not pod_set:
            implicit.append(container.get("name", ""))
    setters = _setters(pod_bad, explicit)
    if setters:
        return Violation(
            "seccompProfile",
            f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to {_quote(sorted(bad_values))}",
        )
    if required and implicit:
        return Violation(
            "seccompProfile",
            f"pod or {_named('container', 'containers', implicit)} must set securityContext.seccompProfile.type "
            'to "RuntimeDefault" or "Localhost"',
        )
    return None


def seccomp_baseline(meta: dict, spec: dict) -> Violation | None:
    return _seccomp(meta, spec, required=False)


def seccomp_restricted(meta: dict, spec: dict) -> Violation | None:
    return _seccomp(meta, spec, required=True)


SYSCTLS_1_0 = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    }
)
SYSCTLS_1_27 = SYSCTLS_1_0 | {"net.ipv4.ip_local_reserved_ports"}
SYSCTLS_1_29 = SYSCTLS_1_27 | {
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SYSCTLS_1_32 = SYSCTLS_1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
SYSCTLS_1_37 = SYSCTLS_1_32 | {"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"}


def _sysctls(allowed: frozenset[str]) -> Check:
    def sysctls(meta: dict, spec: dict) -> Violation | None:
        bad = [s.get("name", "") for s in _pod_context(spec).get("sysctls") or [] if s.get("name") not in allowed]
        return Violation("forbidden sysctls", ", ".join(bad)) if bad else None

    return sysctls


def windows_host_process(meta: dict, spec: dict) -> Violation | None:
    def host_process(context: dict) -> bool:
        return (context.get("windowsOptions") or {}).get("hostProcess") is True

    bad = [c.get("name", "") for c in _containers(spec) if host_process(_context(c))]
    setters = _setters(host_process(_pod_context(spec)), bad)
    if setters:
        return Violation(
            "hostProcess", f"{' and '.join(setters)} must not set securityContext.windowsOptions.hostProcess=true"
        )
    return None


def app_armor_profile(meta: dict, spec: dict) -> Violation | None:
    allowed_types = ("RuntimeDefault", "Localhost")
    bad_values: set[str] = set()
    pod_profile = _pod_context(spec).get("appArmorProfile")
    pod_bad = pod_profile is not None and pod_profile.get("type") not in allowed_types
    if pod_bad:
        bad_values.add(pod_profile.get("type", ""))
    bad = []
    for container in _containers(spec):
        profile = _context(container).get("appArmorProfile")
        if profile is not None and profile.get("type") not in allowed_types:
            bad.append(container.get("name", ""))
            bad_values.add(profile.get("type", ""))
    setters = _setters(pod_bad, bad)
    annotations = sorted(
        f'{key}="{value}"'
        for key, value in (meta.get("annotations") or {}).items()
        if key.startswith("container.apparmor.security.beta.kubernetes.io/")
        and value
        and value != "runtime/default"
        and not value.startswith("localhost/")
    )
    values = sorted(bad_values) + annotations
    if annotations:
        setters.append(_plural("annotation", "annotations", len(annotations)))
    if not setters:
        return None
    return Violation(
        _plural("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)),
        f"{' and '.join(setters)} must not set AppArmor profile type to {_quote(values)}",
    )


def _unless_windows(check: Check) -> Check:
    """From 1.25 a pod whose spec.os is windows passes the Linux-only restricted checks."""

    def checked(meta: dict, spec: dict) -> Violation | None:
        return None if _windows(spec) else check(meta, spec)

    return checked


def _unless_user_namespaced(check: Check) -> Check:
    """From 1.35 a pod in a user namespace (hostUsers: false) may run as root inside it."""

    def checked(meta: dict, spec: dict) -> Violation | None:
        return None if _user_namespaced(spec) else check(meta, spec)

    return checked


def allow_privilege_escalation(meta: dict, spec: dict) -> Violation | None:
    bad = [c.get("name", "") for c in _containers(spec) if _context(c).get("allowPrivilegeEscalation") is not False]
    if bad:
        return Violation(
            "allowPrivilegeEscalation != false",
            f"{_named('container', 'containers', bad)} must set securityContext.allowPrivilegeEscalation=false",
        )
    return None


RESTRICTED_VOLUME_SOURCES = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
]
ALLOWED_VOLUME_SOURCES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
)


def restricted_volumes(meta: dict, spec: dict) -> Violation | None:
    bad, kinds = [], set()
    for volume in spec.get("volumes") or []:
        if any(volume.get(source) is not None for source in ALLOWED_VOLUME_SOURCES):
            continue
        bad.append(volume.get("name", ""))
        kinds.add(next((s for s in RESTRICTED_VOLUME_SOURCES if volume.get(s) is not None), "unknown"))
    if not bad:
        return None
    return Violation(
        "restricted volume types",
        f"{_named('volume', 'volumes', bad)} {_plural('uses', 'use', len(bad))} "
        f"{_plural('restricted volume type', 'restricted volume types', len(kinds))} {_quote(sorted(kinds))}",
    )


def run_as_non_root(meta: dict, spec: dict) -> Violation | None:
    pod_value = _pod_context(spec).get("runAsNonRoot")
    explicit, implicit = [], []
    for container in _containers(spec):
        value = _context(container).get("runAsNonRoot")
        if value is not None:
            if value is False:
                explicit.append(container.get("name", ""))
        elif pod_value is not True:
            implicit.append(container.get("name", ""))
    setters = _setters(pod_value is False, explicit)
    if setters:
        return Violation(
            "runAsNonRoot != true", f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false"
        )
    if implicit:
        return Violation(
            "runAsNonRoot != true",
            f"pod or {_named('container', 'containers', implicit)} must set securityContext.runAsNonRoot=true",
        )
    return None


def run_as_user(meta: dict, spec: dict) -> Violation | None:
    bad = [c.get("name", "") for c in _containers(spec) if _context(c).get("runAsUser") == 0]
    setters = _setters(_pod_context(spec).get("runAsUser") == 0, bad)
    if setters:
        return Violation("runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0")
    return None


# --- the registry: which check runs at which level and version ----------------------------------


@dataclass(frozen=True)
class Versioned:
    since: Version
    check: Check
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckSpec:
    id: str
    level: str
    versions: tuple[Versioned, ...] = field(default_factory=tuple)


def _v(minor: int) -> Version:
    return (1, minor)


CHECKS = (
    CheckSpec("appArmorProfile", BASELINE, (Versioned(_v(0), app_armor_profile),)),
    CheckSpec("capabilities_baseline", BASELINE, (Versioned(_v(0), capabilities_baseline),)),
    CheckSpec("hostNamespaces", BASELINE, (Versioned(_v(0), host_namespaces),)),
    CheckSpec("hostPathVolumes", BASELINE, (Versioned(_v(0), host_path_volumes),)),
    CheckSpec("hostPorts", BASELINE, (Versioned(_v(0), host_ports),)),
    CheckSpec("hostProbesAndHostLifecycle", BASELINE, (Versioned(_v(34), host_probes_and_lifecycle),)),
    CheckSpec("privileged", BASELINE, (Versioned(_v(0), privileged),)),
    CheckSpec("procMount", BASELINE, (Versioned(_v(0), _proc_mount), Versioned(_v(35), proc_mount_baseline))),
    CheckSpec(
        "seLinuxOptions",
        BASELINE,
        (Versioned(_v(0), _selinux(SELINUX_TYPES_1_0)), Versioned(_v(31), _selinux(SELINUX_TYPES_1_31))),
    ),
    CheckSpec(
        "seccompProfile_baseline",
        BASELINE,
        (Versioned(_v(0), seccomp_baseline_annotations), Versioned(_v(19), seccomp_baseline)),
    ),
    CheckSpec(
        "sysctls",
        BASELINE,
        tuple(
            Versioned(_v(minor), _sysctls(allowed))
            for minor, allowed in (
                (0, SYSCTLS_1_0),
                (27, SYSCTLS_1_27),
                (29, SYSCTLS_1_29),
                (32, SYSCTLS_1_32),
                (37, SYSCTLS_1_37),
            )
        ),
    ),
    CheckSpec("windowsHostProcess", BASELINE, (Versioned(_v(0), windows_host_process),)),
    CheckSpec(
        "allowPrivilegeEscalation",
        RESTRICTED,
        (Versioned(_v(8), allow_privilege_escalation), Versioned(_v(25), _unless_windows(allow_privilege_escalation))),
    ),
    CheckSpec(
        "capabilities_restricted",
        RESTRICTED,
        (
            Versioned(_v(22), capabilities_restricted, ("capabilities_baseline",)),
            Versioned(_v(25), _unless_windows(capabilities_restricted), ("capabilities_baseline",)),
        ),
    ),
    CheckSpec("procMount_restricted", RESTRICTED, (Versioned(_v(35), _proc_mount, ("procMount",)),)),
    CheckSpec("restrictedVolumes", RESTRICTED, (Versioned(_v(0), restricted_volumes, ("hostPathVolumes",)),)),
    CheckSpec(
        "runAsNonRoot",
        RESTRICTED,
        (Versioned(_v(0), run_as_non_root), Versioned(_v(35), _unless_user_namespaced(run_as_non_root))),
    ),
    CheckSpec(
        "runAsUser",
        RESTRICTED,
        (Versioned(_v(23), run_as_user), Versioned(_v(35), _unless_user_namespaced(run_as_user))),
    ),
    CheckSpec(
        "seccompProfile_restricted",
        RESTRICTED,
        (
            Versioned(_v(19), seccomp_restricted, ("seccompProfile_baseline",)),
            Versioned(_v(25), _unless_windows(seccomp_restricted), ("seccompProfile_baseline",)),
        ),
    ),
)
# The newest version any check changed at: "latest", and anything newer, mean this one.
NEWEST = max(v.since for spec in CHECKS for v in spec.versions)


def _at(spec: CheckSpec, version: Version) -> Versioned | None:
    current = None
    for versioned in spec.versions:
        if versioned.since <= version:
            current = versioned
    return current


def checks_for(level_version: LevelVersion) -> list[tuple[str, Check]]:
    """The checks a level and version run, in upstream's order (baseline IDs sorted, then
    restricted ones), with the baseline checks the restricted ones override left out."""
    if level_version.level == PRIVILEGED:
        return []
    version = min(level_version.version, NEWEST)
    active = {spec.id: (spec, at) for spec in CHECKS if (at := _at(spec, version)) is not None}
    if level_version.level == BASELINE:
        active = {key: value for key, value in active.items() if value[0].level == BASELINE}
    else:
        overridden = {o for spec, at in active.values() if spec.level == RESTRICTED for o in at.overrides}
        active = {key: value for key, value in active.items() if key not in overridden}
    ordered = sorted(active.values(), key=lambda item: (item[0].level != BASELINE, item[0].id))
    return [(spec.id, at.check) for spec, at in ordered]


def evaluate(level_version: LevelVersion, meta: dict | None, spec: dict | None) -> list[Violation]:
    """What a pod (its metadata and spec, or a template's) fails of the level's checks."""
    meta, spec = meta or {}, spec or {}
    return [violation for _, check in checks_for(level_version) if (violation := check(meta, spec)) is not None]


def forbidden_detail(violations: list[Violation]) -> str:
    """`privileged (container "web" must …), hostPath volumes (volume "host")`."""
    return ", ".join(f"{v.reason} ({v.detail})" if v.detail else v.reason for v in violations)


def forbidden_reason(violations: list[Violation]) -> str:
    return ", ".join(v.reason for v in violations)


# --- admission -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    refusal: str | None = None  # for the 403: `violates PodSecurity "baseline:latest": …`
    warnings: tuple[str, ...] = ()


ALLOWED = Decision()


def _decide(policy: Policy, meta: dict, spec: dict, *, enforce: bool) -> Decision:
    if enforce:
        violations = evaluate(policy.enforce, meta, spec)
        if violations:
            return Decision(refusal=f'violates PodSecurity "{policy.enforce}": {forbidden_detail(violations)}')
    violations = evaluate(policy.warn, meta, spec)
    if violations:
        return Decision(warnings=(f'would violate PodSecurity "{policy.warn}": {forbidden_detail(violations)}',))
    return ALLOWED


def pod_admit(namespace_labels: dict | None, pod: dict) -> Decision:
    """A pod's create (or significant update) in a namespace with these labels."""
    policy, errors = policy_for(namespace_labels)
    if not errors and policy.fully_privileged:
        return ALLOWED
    return _decide(policy, pod.get("metadata") or {}, pod.get("spec") or {}, enforce=True)


def pod_template(group: str, kind: str, body: dict) -> tuple[dict, dict] | None:
    """The pod metadata and spec an object's pods will be made from; None for other kinds."""
    if (group, kind) not in TEMPLATE_KINDS:
        return None
    spec = body.get("spec") or {}
    if kind == "PodTemplate":
        template = body.get("template")
    elif kind == "CronJob":
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    else:
        template = spec.get("template")
    if template is None:
        return None
    return template.get("metadata") or {}, template.get("spec") or {}


def template_admit(namespace_labels: dict | None, group: str, kind: str, body: dict) -> Decision:
    """An object with a pod template is never refused: its template is judged by the warn level
    (its pods, by the enforce level, when a controller makes them)."""
    template = pod_template(group, kind, body)
    if template is None:
        return ALLOWED
    policy, errors = policy_for(namespace_labels)
    if not errors and policy.warn.level == PRIVILEGED and policy.audit.level == PRIVILEGED:
        return ALLOWED
    return _decide(policy, *template, enforce=False)


def significant_pod_update(new: dict, old: dict) -> bool:
    """Whether a pod update is judged again: only a change of containers or their images (the
    pod fields that may change after creation, upstream's isSignificantPodUpdate)."""
    new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    for key in ("containers", "initContainers"):
        new_list, old_list = new_spec.get(key) or [], old_spec.get(key) or []
        if len(new_list) != len(old_list):
            return True
        if any(a.get("image") != b.get("image") for a, b in zip(new_list, old_list, strict=True)):
            return True
    old_ephemeral = {c.get("name"): c for c in old_spec.get("ephemeralContainers") or []}
    for container in new_spec.get("ephemeralContainers") or []:
        previous = old_ephemeral.get(container.get("name"))
        if previous is None or previous.get("image") != container.get("image"):
            return True
    return False


def namespace_label_errors(labels: dict | None, old_labels: dict | None = None) -> list[LabelError]:
    """The pod-security labels a namespace write may not carry: bad values, on create, or on an
    update that changes which are bad."""
    _, errors = policy_for(labels)
    if not errors:
        return []
    if old_labels is not None:
        _, old_errors = policy_for(old_labels)
        if old_errors and old_errors == errors:
            return []
    return errors


def _controller_uid(pod: dict) -> str | None:
    for reference in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if reference.get("controller"):
            return reference.get("uid")
    return None


def _prioritised(pods: list[dict]) -> list[dict]:
    """One pod per controller first, then the other replicas (upstream's prioritizePods)."""
    first, later, seen = [], [], set()
    for pod in pods:
        uid = _controller_uid(pod)
        if uid is None:
            first.append(pod)
        elif uid in seen:
            later.append(pod)
        else:
            seen.add(uid)
            first.append(pod)
    return first + later


MAX_PODS_TO_CHECK = 3000


def namespace_update_warnings(
    namespace: str, old_labels: dict | None, new_labels: dict | None, pods: list[dict]
) -> list[str]:
    """The warnings a namespace update gets when its enforce level tightens: which existing pods
    would now be refused (they keep running), grouped by what they violate, as upstream's
    EvaluatePodsInNamespace words them."""
    new_policy, _ = policy_for(new_labels)
    old_policy, _ = policy_for(old_labels)
    new, old = new_policy.enforce, old_policy.enforce
    if new == old or new.level == PRIVILEGED:
        return []
    if new.version == old.version and compare_levels(new.level, old.level) < 1:
        return []
    pods = _prioritised(pods)
    checked = pods[:MAX_PODS_TO_CHECK]
    counts: dict[str, list] = {}  # reason -> [first pod name, count]
    order: list[str] = []
    for pod in checked:
        violations = evaluate(new, pod.get("metadata"), pod.get("spec"))
        if not violations:
            continue
        reason = forbidden_reason(violations)
        name = (pod.get("metadata") or {}).get("name", "")
        if reason not in counts:
            counts[reason] = [name, 0]
            order.append(reason)
        elif name < counts[reason][0]:
            counts[reason][0] = name
        counts[reason][1] += 1
    warnings = []
    if len(checked) < len(pods):
        warnings.append(
            f"new PodSecurity enforce level only checked against the first {len(checked)} of {len(pods)} existing pods"
        )
    if order:
        warnings.append(f'existing pods in namespace "{namespace}" violate the new PodSecurity enforce level "{new}"')

    def decorated(reason: str) -> str:
        name, count = counts[reason]
        if count == 1:
            return f"{name}: {reason}"
        if count == 2:
            return f"{name} (and 1 other pod): {reason}"
        return f"{name} (and {count - 1} other pods): {reason}"

    return warnings + sorted(decorated(reason) for reason in order)
