"""The Pod Security Standards' checks and their words, as upstream's pod-security-admission has them."""

from __future__ import annotations

import pytest

from clusters.objects import pod_security as ps

BASELINE = ps.LevelVersion(ps.BASELINE)
RESTRICTED = ps.LevelVersion(ps.RESTRICTED)
ENFORCE = ps.ENFORCE_LABEL

# A pod the restricted level admits: what upstream's documentation shows as compliant.
COMPLIANT_CONTAINER = {
    "name": "web",
    "image": "nginx",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}


def pod(*containers: dict, **spec) -> dict:
    return {"metadata": {"name": "x"}, "spec": {"containers": list(containers) or [{"name": "web"}], **spec}}


def web(**context) -> dict:
    return {"name": "web", "image": "nginx", "securityContext": context}


def detail(level: ps.LevelVersion, body: dict) -> str:
    return ps.forbidden_detail(ps.evaluate(level, body.get("metadata"), body["spec"]))


# --- baseline, check by check ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            pod(web(privileged=True)),
            'privileged (container "web" must not set securityContext.privileged=true)',
        ),
        (
            pod(web(privileged=True), {"name": "side", "securityContext": {"privileged": True}}),
            'privileged (containers "web", "side" must not set securityContext.privileged=true)',
        ),
        (
            pod(hostNetwork=True, hostPID=True, hostIPC=True),
            "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)",
        ),
        (pod(hostPID=True), "host namespaces (hostPID=true)"),
        (pod(volumes=[{"name": "host", "hostPath": {"path": "/"}}]), 'hostPath volumes (volume "host")'),
        (
            pod(volumes=[{"name": "a", "hostPath": {"path": "/etc"}}, {"name": "b", "hostPath": {"path": "/var"}}]),
            'hostPath volumes (volumes "a", "b")',
        ),
        (
            pod(
                {
                    "name": "web",
                    "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 443, "hostPort": 443}],
                }
            ),
            'hostPort (container "web" uses hostPorts 443, 8080)',
        ),
        (
            pod(
                {"name": "a", "ports": [{"containerPort": 80, "hostPort": 80}]},
                {"name": "b", "ports": [{"hostPort": 80}]},
            ),
            'hostPort (containers "a", "b" use hostPort 80)',
        ),
        (
            pod(web(capabilities={"add": ["NET_ADMIN", "SYS_ADMIN", "CHOWN"]})),
            'non-default capabilities (container "web" must not include "NET_ADMIN", "SYS_ADMIN" in '
            "securityContext.capabilities.add)",
        ),
        (
            pod(web(procMount="Unmasked")),
            'procMount (container "web" must not set securityContext.procMount to "Unmasked")',
        ),
        (
            pod(web(seLinuxOptions={"type": "spc_t", "user": "root", "role": "sysadm_r"})),
            'seLinuxOptions (container "web" set forbidden securityContext.seLinuxOptions: type "spc_t"; '
            "user may not be set; role may not be set)",
        ),
        (
            pod(securityContext={"seLinuxOptions": {"user": "system_u"}}),
            "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: user may not be set)",
        ),
        (
            pod(web(seccompProfile={"type": "Unconfined"}), securityContext={"seccompProfile": {"type": "Unconfined"}}),
            'seccompProfile (pod and container "web" must not set securityContext.seccompProfile.type to "Unconfined")',
        ),
        (
            pod(securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "1"}, {"name": "net.core.somaxconn"}]}),
            "forbidden sysctls (kernel.msgmax, net.core.somaxconn)",
        ),
        (
            pod(web(appArmorProfile={"type": "Unconfined"})),
            'forbidden AppArmor profile (container "web" must not set AppArmor profile type to "Unconfined")',
        ),
        (
            {
                "metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/web": "unconfined"}},
                "spec": {
                    "containers": [{"name": "web"}],
                    "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
                },
            },
            "forbidden AppArmor profiles (pod and annotation must not set AppArmor profile type to "
            '"Unconfined", "container.apparmor.security.beta.kubernetes.io/web="unconfined"")',
        ),
        (
            pod(web(windowsOptions={"hostProcess": True}), securityContext={"windowsOptions": {"hostProcess": True}}),
            'hostProcess (pod and container "web" must not set securityContext.windowsOptions.hostProcess=true)',
        ),
        (
            pod({"name": "web", "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}),
            'probe or lifecycle host (container "web" uses probe or lifecycle host "10.0.0.1")',
        ),
    ],
)
def test_each_baseline_check_words_its_violation_as_upstream(body, expected):
    assert detail(BASELINE, body) == expected


@pytest.mark.parametrize(
    "body",
    [
        pod(web(privileged=False, capabilities={"add": ["NET_BIND_SERVICE", "CHOWN"], "drop": ["ALL"]})),
        pod(
            web(seccompProfile={"type": "RuntimeDefault"}, procMount="Default", seLinuxOptions={"type": "container_t"})
        ),
        pod(securityContext={"sysctls": [{"name": "net.ipv4.tcp_keepalive_time", "value": "60"}]}),
        pod(web(appArmorProfile={"type": "Localhost", "localhostProfile": "x"})),
        pod(volumes=[{"name": "data", "emptyDir": {}}], hostNetwork=False),
        pod({"name": "web", "ports": [{"containerPort": 80, "hostPort": 0}]}),
        pod(web(procMount="Unmasked"), hostUsers=False),  # a user namespace relaxes procMount (1.35)
    ],
)
def test_baseline_admits_what_it_allows(body):
    assert ps.evaluate(BASELINE, body.get("metadata"), body["spec"]) == []


def test_checks_run_in_upstreams_order_baseline_ids_first():
    body = pod(
        web(privileged=True, capabilities={"add": ["SYS_ADMIN"]}),
        hostNetwork=True,
        volumes=[{"name": "host", "hostPath": {"path": "/"}}],
    )
    assert [v.reason for v in ps.evaluate(BASELINE, None, body["spec"])] == [
        "non-default capabilities",
        "host namespaces",
        "hostPath volumes",
        "privileged",
    ]


def test_init_and_ephemeral_containers_are_checked_in_visit_order():
    spec = {
        "initContainers": [{"name": "init", "securityContext": {"privileged": True}}],
        "containers": [{"name": "web", "securityContext": {"privileged": True}}],
        "ephemeralContainers": [{"name": "debug", "securityContext": {"privileged": True}}],
    }
    assert ps.forbidden_detail(ps.evaluate(BASELINE, {}, spec)) == (
        'privileged (containers "init", "web", "debug" must not set securityContext.privileged=true)'
    )


# --- restricted ----------------------------------------------------------------------------------


def test_a_plain_container_fails_restricted_with_upstreams_four_reasons():
    assert detail(RESTRICTED, pod({"name": "runtime", "image": "x"})) == (
        'allowPrivilegeEscalation != false (container "runtime" must set '
        "securityContext.allowPrivilegeEscalation=false), "
        'unrestricted capabilities (container "runtime" must set securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "runtime" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container "runtime" must set securityContext.seccompProfile.type to "RuntimeDefault" '
        'or "Localhost")'
    )


def test_restricted_admits_a_compliant_pod_and_pod_level_settings_cover_containers():
    assert ps.evaluate(RESTRICTED, {}, pod(COMPLIANT_CONTAINER)["spec"]) == []
    covered = pod(
        {"name": "web", "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}},
        securityContext={"runAsNonRoot": True, "seccompProfile": {"type": "Localhost", "localhostProfile": "p"}},
    )
    assert ps.evaluate(RESTRICTED, {}, covered["spec"]) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SYS_TIME"]}},
            'unrestricted capabilities (container "web" must not include "SYS_TIME" in '
            "securityContext.capabilities.add)",
        ),
        (
            {"runAsNonRoot": False},
            'runAsNonRoot != true (container "web" must not set securityContext.runAsNonRoot=false)',
        ),
        ({"runAsUser": 0}, 'runAsUser=0 (container "web" must not set runAsUser=0)'),
        (
            {"allowPrivilegeEscalation": True},
            'allowPrivilegeEscalation != false (container "web" must set '
            "securityContext.allowPrivilegeEscalation=false)",
        ),
        ({"procMount": "Unmasked"}, 'procMount (container "web" must not set securityContext.procMount to "Unmasked")'),
    ],
)
def test_each_restricted_check_words_its_violation_as_upstream(change, expected):
    container = {**COMPLIANT_CONTAINER, "securityContext": {**COMPLIANT_CONTAINER["securityContext"], **change}}
    assert detail(RESTRICTED, pod(container)) == expected


def test_restricted_volume_types_replace_the_hostpath_check():
    body = pod(
        COMPLIANT_CONTAINER,
        volumes=[
            {"name": "host", "hostPath": {"path": "/"}},
            {"name": "share", "nfs": {"server": "s", "path": "/"}},
            {"name": "config", "configMap": {"name": "c"}},
        ],
    )
    assert detail(RESTRICTED, body) == (
        'restricted volume types (volumes "host", "share" use restricted volume types "hostPath", "nfs")'
    )


def test_run_as_user_zero_on_the_pod_and_a_user_namespace_relaxes_it():
    body = pod(COMPLIANT_CONTAINER, securityContext={"runAsUser": 0})
    assert detail(RESTRICTED, body) == "runAsUser=0 (pod must not set runAsUser=0)"
    assert ps.evaluate(RESTRICTED, {}, {**body["spec"], "hostUsers": False}) == []


def test_windows_pods_pass_the_linux_only_restricted_checks_from_1_25():
    body = pod({"name": "win"}, os={"name": "windows"}, securityContext={"runAsNonRoot": True})
    assert ps.evaluate(RESTRICTED, {}, body["spec"]) == []
    older = [v.reason for v in ps.evaluate(ps.LevelVersion(ps.RESTRICTED, (1, 24)), {}, body["spec"])]
    assert older == ["allowPrivilegeEscalation != false", "unrestricted capabilities", "seccompProfile"]


# --- versions ------------------------------------------------------------------------------------


def test_versions_choose_the_checks_of_their_release():
    # Before 1.19 seccomp was chosen by annotations, and fields were not checked.
    annotated = {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}}
    spec = pod(web(seccompProfile={"type": "Unconfined"}))["spec"]
    old = ps.LevelVersion(ps.BASELINE, (1, 18))
    assert ps.forbidden_detail(ps.evaluate(old, annotated, spec)) == (
        'seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")'
    )
    assert [v.reason for v in ps.evaluate(BASELINE, annotated, spec)] == ["seccompProfile"]
    # Sysctls allowed grew with releases; probe hosts are checked from 1.34.
    keepalive = pod(securityContext={"sysctls": [{"name": "net.ipv4.tcp_keepalive_time"}]})["spec"]
    assert ps.evaluate(ps.LevelVersion(ps.BASELINE, (1, 28)), {}, keepalive)
    assert not ps.evaluate(ps.LevelVersion(ps.BASELINE, (1, 29)), {}, keepalive)
    probe = pod({"name": "web", "readinessProbe": {"tcpSocket": {"host": "db", "port": 5432}}})["spec"]
    assert not ps.evaluate(ps.LevelVersion(ps.BASELINE, (1, 33)), {}, probe)
    # A version newer than any check means the newest checks; the message keeps the version asked for.
    decision = ps.pod_admit({ENFORCE: "baseline", ps.ENFORCE_VERSION_LABEL: "v1.99"}, pod(web(privileged=True)))
    assert decision.refusal.startswith('violates PodSecurity "baseline:v1.99": privileged (')


def test_restricted_checks_appear_at_their_versions():
    checks = [check_id for check_id, _ in ps.checks_for(ps.LevelVersion(ps.RESTRICTED, (1, 21)))]
    assert "capabilities_baseline" in checks
    assert "capabilities_restricted" not in checks
    assert "runAsUser" not in checks
    latest = [check_id for check_id, _ in ps.checks_for(RESTRICTED)]
    assert {"capabilities_baseline", "hostPathVolumes", "procMount"}.isdisjoint(latest)
    assert ps.checks_for(ps.LevelVersion(ps.PRIVILEGED)) == []


# --- labels, policies and decisions ------------------------------------------------------------


def test_no_labels_mean_the_privileged_default():
    policy, errors = ps.policy_for({})
    assert policy.fully_privileged
    assert errors == []
    assert ps.pod_admit({}, pod(web(privileged=True))) == ps.ALLOWED


def test_warn_follows_a_stricter_enforce_level_unless_set():
    policy, _ = ps.policy_for({ENFORCE: "baseline", ps.ENFORCE_VERSION_LABEL: "v1.30"})
    assert (str(policy.enforce), str(policy.warn)) == ("baseline:v1.30", "baseline:v1.30")
    policy, _ = ps.policy_for({ENFORCE: "baseline", ps.WARN_LABEL: "restricted"})
    assert str(policy.warn) == "restricted:latest"
    policy, _ = ps.policy_for({ENFORCE: "baseline", ps.WARN_VERSION_LABEL: "v1.25"})
    assert str(policy.warn) == "baseline:v1.25"


def test_bad_labels_are_reported_and_fail_closed_for_enforce_open_for_warn():
    policy, errors = ps.policy_for({ENFORCE: "strict", ps.WARN_LABEL: "loud", ps.AUDIT_VERSION_LABEL: "v2.0"})
    assert (policy.enforce.level, policy.warn.level) == (ps.RESTRICTED, ps.PRIVILEGED)
    assert [(e.field, e.message) for e in errors] == [
        ("metadata.labels[pod-security.kubernetes.io/enforce]", "must be one of privileged, baseline, restricted"),
        ("metadata.labels[pod-security.kubernetes.io/audit-version]", 'must be "latest" or "v1.x"'),
        ("metadata.labels[pod-security.kubernetes.io/warn]", "must be one of privileged, baseline, restricted"),
    ]
    assert ps.namespace_label_errors({ENFORCE: "v1.01"}) != []
    assert ps.namespace_label_errors({ps.ENFORCE_VERSION_LABEL: "v1.01"})[0].value == "v1.01"
    # An update that leaves the same bad labels as they were is not refused again.
    assert ps.namespace_label_errors({ENFORCE: "x", "team": "a"}, {ENFORCE: "x"}) == []


def test_a_pod_is_refused_by_enforce_and_warned_by_warn():
    labels = {ENFORCE: "baseline", ps.WARN_LABEL: "restricted"}
    refused = ps.pod_admit(labels, pod(web(privileged=True), volumes=[{"name": "host", "hostPath": {"path": "/"}}]))
    assert refused.refusal == (
        'violates PodSecurity "baseline:latest": hostPath volumes (volume "host"), '
        'privileged (container "web" must not set securityContext.privileged=true)'
    )
    assert refused.warnings == ()  # no warnings on a request that is refused
    warned = ps.pod_admit(labels, pod({"name": "web", "image": "nginx"}))
    assert warned.refusal is None
    assert warned.warnings[0].startswith(
        'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false'
    )


def test_templates_are_only_warned_about_with_their_pods_words():
    deployment = {"spec": {"template": {"metadata": {}, "spec": pod(web(privileged=True))["spec"]}}}
    decision = ps.template_admit({ENFORCE: "baseline"}, "apps", "Deployment", deployment)
    assert decision.refusal is None
    assert decision.warnings == (
        'would violate PodSecurity "baseline:latest": privileged (container "web" must not set '
        "securityContext.privileged=true)",
    )
    cronjob = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostNetwork": True, "containers": []}}}}}}
    assert ps.template_admit({ENFORCE: "baseline"}, "batch", "CronJob", cronjob).warnings
    template = {"template": {"spec": {"hostPID": True, "containers": []}}}
    assert ps.template_admit({ENFORCE: "baseline"}, "", "PodTemplate", template).warnings
    # Privileged warn and audit: nothing to say; other kinds carry no template.
    assert ps.template_admit({ENFORCE: "restricted", ps.WARN_LABEL: "privileged"}, "apps", "Deployment", deployment)
    assert ps.template_admit({ENFORCE: "baseline"}, "", "ConfigMap", {"data": {}}) == ps.ALLOWED


def test_only_container_and_image_changes_are_significant_pod_updates():
    old = pod({"name": "web", "image": "nginx:1"})
    relabelled = {**old, "metadata": {"name": "x", "labels": {"a": "b"}}}
    assert not ps.significant_pod_update(relabelled, old)
    assert ps.significant_pod_update(pod({"name": "web", "image": "nginx:2"}), old)
    debug = {**old, "spec": {**old["spec"], "ephemeralContainers": [{"name": "debug", "image": "busybox"}]}}
    assert ps.significant_pod_update(debug, old)


def owned(name: str, owner_uid: str | None, **spec) -> dict:
    metadata = {"name": name}
    if owner_uid:
        metadata["ownerReferences"] = [{"uid": owner_uid, "controller": True}]
    return {"metadata": metadata, "spec": {"containers": [{"name": "c"}], **spec}}


def test_tightening_a_namespace_warns_about_existing_pods_grouped_as_upstream():
    pods = [
        owned("web-b", "rs1", hostNetwork=True),
        owned("web-a", "rs1", hostNetwork=True),
        owned("web-c", "rs1", hostNetwork=True),
        owned("tool", None),
        owned("root", None, volumes=[{"name": "host", "hostPath": {"path": "/"}}]),
    ]
    warnings = ps.namespace_update_warnings("team", {ENFORCE: "privileged"}, {ENFORCE: "baseline"}, pods)
    assert warnings == [
        'existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest"',
        "root: hostPath volumes",
        "web-a (and 2 other pods): host namespaces",
    ]
    restricted = ps.namespace_update_warnings("team", {ENFORCE: "baseline"}, {ENFORCE: "restricted"}, pods[3:4])
    assert restricted[1] == (
        "tool: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile"
    )


def test_relaxing_or_keeping_the_enforce_level_warns_about_nothing():
    pods = [owned("root", None, hostPID=True)]
    assert ps.namespace_update_warnings("n", {ENFORCE: "restricted"}, {ENFORCE: "baseline"}, pods) == []
    assert ps.namespace_update_warnings("n", {ENFORCE: "baseline"}, {ENFORCE: "baseline", "x": "y"}, pods) == []
    assert ps.namespace_update_warnings("n", {ENFORCE: "baseline"}, {ENFORCE: "privileged"}, pods) == []
    # A different version at the same level is checked again.
    assert ps.namespace_update_warnings(
        "n", {ENFORCE: "baseline"}, {ENFORCE: "baseline", ps.ENFORCE_VERSION_LABEL: "v1.30"}, pods
    )
