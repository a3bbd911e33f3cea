"""Tables for `kubectl get`: upstream columns and cells (pkg/printers/internalversion/printers.go)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from clusters.kube.tables import (
    PRINTERS,
    build_table,
    format_label_selector,
    human_duration,
    short_human_duration,
    translate_timestamp_since,
)
from clusters.objects.resources import RESOURCES

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


def ago(**delta: float) -> str:
    """An RFC 3339 timestamp that long before NOW, as the API server writes it."""
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, *, namespace: str | None = "default", created: str | None = None, **extra) -> dict:
    metadata = {
        "name": name,
        "uid": f"uid-{name}",
        "resourceVersion": "1005",
        "creationTimestamp": created or ago(minutes=5),
        **extra,
    }
    if namespace:
        metadata["namespace"] = namespace
    return metadata


def row(kind: str, obj: dict) -> list:
    return build_table(kind, [obj], now=NOW)["rows"][0]["cells"]


def column_names(kind: str) -> list[tuple[str, int]]:
    return [(c["name"], c["priority"]) for c in build_table(kind, [], now=NOW)["columnDefinitions"]]


# --- ages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-5, "<invalid>"),
        (-2, "<invalid>"),
        (-1.5, "0s"),  # up to a second of clock skew reads as now
        (0, "0s"),
        (5, "5s"),
        (90, "90s"),
        (119.9, "119s"),
        (120, "2m"),
        (200, "3m20s"),
        (599, "9m59s"),
        (600, "10m"),
        (179 * 60 + 59, "179m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 30 * 60, "5h30m"),
        (8 * 3600 + 59 * 60, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (76 * 3600, "3d4h"),
        (7 * 86400 + 5 * 3600, "7d5h"),
        (8 * 86400, "8d"),
        (400 * 86400, "400d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (760 * 86400, "2y30d"),
        (8 * 365 * 86400 + 40 * 86400, "8y"),
    ],
)
def test_it_formats_durations_like_humanduration(seconds, expected):
    assert human_duration(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-3, "<invalid>"),
        (-1, "0s"),
        (59, "59s"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h"),
        (86399, "23h"),
        (86400, "1d"),
        (364 * 86400, "364d"),
        (365 * 86400, "1y"),
        (800 * 86400, "2y"),
    ],
)
def test_it_formats_durations_like_shorthumanduration(seconds, expected):
    assert short_human_duration(seconds) == expected


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (None, "<unknown>"),
        ("", "<unknown>"),
        ("2025-06-01T11:56:40Z", "3m20s"),
        ("2025-06-01T11:56:40.123456Z", "3m19s"),  # a MicroTime, as events.k8s.io writes
        ("2025-06-01T19:30:00+09:00", "90m"),
        ("2025-06-01T11:56:40", "3m20s"),  # a zone-less timestamp is read as UTC
        ("2025-06-01T12:00:01Z", "0s"),
        ("2025-06-01T12:00:05Z", "<invalid>"),
    ],
)
def test_it_translates_timestamps_into_ages_before_now(timestamp, expected):
    assert translate_timestamp_since(timestamp, NOW) == expected


def test_it_reads_a_naive_now_as_utc():
    assert translate_timestamp_since("2025-06-01T11:56:40Z", NOW.replace(tzinfo=None)) == "3m20s"


# --- table shape --------------------------------------------------------------------------------


def running_pod(name: str = "web-7d9f8b6c5-x2x4k", **metadata) -> dict:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": meta(name, labels={"app": "web", "pod-template-hash": "7d9f8b6c5"}, **metadata),
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "nginx", "image": "nginx:1.27"}],
            "restartPolicy": "Always",
        },
        "status": {
            "phase": "Running",
            "podIP": "10.244.0.7",
            "podIPs": [{"ip": "10.244.0.7"}],
            "conditions": [
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "True"},
                {"type": "ContainersReady", "status": "True"},
                {"type": "PodScheduled", "status": "True"},
            ],
            "containerStatuses": [
                {
                    "name": "nginx",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "image": "nginx:1.27",
                    "state": {"running": {"startedAt": ago(minutes=4)}},
                }
            ],
        },
    }


def test_it_builds_a_meta_v1_table_whose_rows_carry_partial_object_metadata_by_default():
    pod = running_pod()
    table = build_table("Pod", [pod], now=NOW)
    assert (table["kind"], table["apiVersion"], table["metadata"]) == ("Table", "meta.k8s.io/v1", {})
    assert table["columnDefinitions"][0] == {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": table["columnDefinitions"][0]["description"],
        "priority": 0,
    }
    assert table["columnDefinitions"][0]["description"].startswith("Name must be unique within a namespace.")
    assert table["columnDefinitions"][1]["format"] == ""
    assert table["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod["metadata"],
    }
    # kubectl takes -A's NAMESPACE and --show-labels from here.
    assert table["rows"][0]["object"]["metadata"]["namespace"] == "default"
    assert table["rows"][0]["object"]["metadata"]["labels"]["app"] == "web"


def test_it_puts_the_whole_object_in_each_row_when_include_object_is_object():
    pod = running_pod()
    assert build_table("Pod", [pod], now=NOW, include_object="Object")["rows"][0]["object"] == pod


def test_it_leaves_the_object_out_when_include_object_is_none():
    table = build_table("Pod", [running_pod()], now=NOW, include_object="None")
    assert "object" not in table["rows"][0]
    assert table["rows"][0]["cells"][0] == "web-7d9f8b6c5-x2x4k"


def test_it_rejects_an_unknown_include_object_mode():
    with pytest.raises(ValueError, match="includeObject must be one of None, Metadata, Object, not 'metadata'"):
        build_table("Pod", [running_pod()], now=NOW, include_object="metadata")


def test_it_does_not_change_the_objects_it_prints():
    pod = running_pod(deletionTimestamp=ago(seconds=3))
    before = copy.deepcopy(pod)
    build_table("Pod", [pod], now=NOW, include_object="Object")
    assert pod == before


def test_it_falls_back_to_name_and_age_for_a_kind_without_a_printer():
    widget = {"kind": "Widget", "apiVersion": "example.com/v1", "metadata": meta("w1", created=ago(hours=3))}
    table = build_table("Widget", [widget], now=NOW)
    assert [(c["name"], c["type"], c["format"]) for c in table["columnDefinitions"]] == [
        ("Name", "string", "name"),
        ("Age", "string", ""),
    ]
    assert table["rows"][0]["cells"] == ["w1", "3h"]


def test_it_has_a_printer_for_every_kind_the_api_serves():
    assert sorted({r.kind for r in RESOURCES}) == sorted(PRINTERS)


@pytest.mark.parametrize("kind", sorted(PRINTERS))
def test_it_gives_every_kind_one_cell_per_column_even_for_a_bare_object(kind):
    table = build_table(kind, [{"kind": kind, "apiVersion": "v1", "metadata": {"name": "x"}}], now=NOW)
    assert len(table["rows"][0]["cells"]) == len(table["columnDefinitions"])
    assert all(c["priority"] in (0, 1) for c in table["columnDefinitions"])


# --- Pod ----------------------------------------------------------------------------------------


def test_pods_have_the_upstream_columns_with_four_wide_ones():
    assert column_names("Pod") == [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]


def test_it_shows_a_running_pod_ready_with_its_ip_and_node():
    assert row("Pod", running_pod()) == [
        "web-7d9f8b6c5-x2x4k",
        "1/1",
        "Running",
        "0",
        "5m",
        "10.244.0.7",
        "node-1",
        "<none>",
        "<none>",
    ]


def test_it_shows_crashloopbackoff_with_restarts_and_last_restart_age():
    pod = running_pod("crashy")
    pod["status"]["conditions"][1]["status"] = "False"
    pod["status"]["containerStatuses"][0].update(
        ready=False,
        started=False,
        restartCount=3,
        state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}},
        lastState={
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": ago(minutes=2, seconds=5),
                "finishedAt": ago(minutes=2),
            }
        },
    )
    assert row("Pod", pod)[1:4] == ["0/1", "CrashLoopBackOff", "3 (2m ago)"]


def test_it_shows_restarts_without_an_age_when_the_last_termination_has_no_finish_time():
    pod = running_pod()
    pod["status"]["containerStatuses"][0]["restartCount"] = 2
    assert row("Pod", pod)[3] == "2"


def test_it_takes_the_latest_restart_of_all_containers_for_the_age():
    pod = running_pod()
    pod["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    first, second = pod["status"]["containerStatuses"][0], copy.deepcopy(pod["status"]["containerStatuses"][0])
    first.update(restartCount=1, lastState={"terminated": {"exitCode": 137, "finishedAt": ago(hours=2)}})
    second.update(
        name="sidecar", restartCount=4, lastState={"terminated": {"exitCode": 1, "finishedAt": ago(seconds=30)}}
    )
    pod["status"]["containerStatuses"].append(second)
    assert row("Pod", pod)[1:4] == ["2/2", "Running", "5 (30s ago)"]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("ErrImagePull", "ErrImagePull"),
        ("ImagePullBackOff", "ImagePullBackOff"),
        ("ContainerCreating", "ContainerCreating"),
    ],
)
def test_it_shows_the_waiting_reason_of_a_container(reason, expected):
    pod = running_pod()
    pod["status"]["phase"] = "Pending"
    pod["status"]["containerStatuses"][0].update(ready=False, started=False, state={"waiting": {"reason": reason}})
    assert row("Pod", pod)[1:3] == ["0/1", expected]


def test_it_shows_the_first_containers_problem_when_several_containers_have_one():
    pod = running_pod()
    pod["spec"]["containers"].append({"name": "sidecar", "image": "busybox:nope"})
    pod["status"]["containerStatuses"][0].update(ready=False, state={"waiting": {"reason": "CrashLoopBackOff"}})
    pod["status"]["containerStatuses"].append(
        {"name": "sidecar", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}
    )
    assert row("Pod", pod)[1:3] == ["0/2", "CrashLoopBackOff"]


def test_it_shows_a_pod_that_has_no_container_statuses_yet_by_its_phase():
    pod = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": meta("pending", created=ago(seconds=3)),
        "spec": {"containers": [{"name": "app", "image": "nginx"}, {"name": "log", "image": "busybox"}]},
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
        },
    }
    assert row("Pod", pod) == ["pending", "0/2", "Pending", "0", "3s", "<none>", "<none>", "<none>", "<none>"]


def test_it_shows_schedulinggated_while_scheduling_gates_hold_the_pod():
    pod = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": meta("gated"),
        "spec": {"schedulingGates": [{"name": "example.com/wait"}], "containers": [{"name": "app", "image": "nginx"}]},
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
        },
    }
    assert row("Pod", pod)[2] == "SchedulingGated"


def test_it_shows_a_succeeded_pod_as_completed_and_marks_the_row_completed():
    pod = running_pod("once")
    pod["status"]["phase"] = "Succeeded"
    pod["status"]["conditions"][1]["status"] = "False"
    pod["status"]["containerStatuses"][0].update(
        ready=False, state={"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": ago(minutes=1)}}
    )
    table_row = build_table("Pod", [pod], now=NOW)["rows"][0]
    assert table_row["cells"][1:4] == ["0/1", "Completed", "0"]
    assert table_row["conditions"] == [
        {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}
    ]


def test_it_marks_only_finished_pods_rows_with_conditions():
    assert "conditions" not in build_table("Pod", [running_pod()], now=NOW)["rows"][0]


def test_it_shows_the_terminated_reason_of_a_failed_pod():
    pod = running_pod("broken")
    pod["status"]["phase"] = "Failed"
    pod["status"]["containerStatuses"][0].update(ready=False, state={"terminated": {"exitCode": 1, "reason": "Error"}})
    table_row = build_table("Pod", [pod], now=NOW)["rows"][0]
    assert table_row["cells"][2] == "Error"
    assert table_row["conditions"][0]["reason"] == "Failed"


@pytest.mark.parametrize(
    ("terminated", "expected"),
    [
        ({"exitCode": 2}, "ExitCode:2"),
        ({"exitCode": 137, "signal": 9}, "Signal:9"),
        ({"exitCode": 137, "reason": "OOMKilled"}, "OOMKilled"),
    ],
)
def test_it_names_a_terminated_container_by_reason_then_signal_then_exit_code(terminated, expected):
    pod = running_pod()
    pod["status"]["phase"] = "Failed"
    pod["status"]["containerStatuses"][0].update(ready=False, state={"terminated": terminated})
    assert row("Pod", pod)[2] == expected


def two_container_pod_with_one_completed(ready: bool) -> dict:
    pod = running_pod("mixed")
    pod["spec"]["containers"].insert(0, {"name": "migrate", "image": "busybox"})
    pod["status"]["containerStatuses"].insert(
        0,
        {
            "name": "migrate",
            "ready": False,
            "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
        },
    )
    pod["status"]["conditions"][1]["status"] = "True" if ready else "False"
    return pod


def test_it_shows_running_not_completed_while_another_container_still_runs_and_the_pod_is_ready():
    assert row("Pod", two_container_pod_with_one_completed(ready=True))[1:3] == ["1/2", "Running"]


def test_it_shows_notready_when_a_container_completed_and_the_pod_is_not_ready():
    assert row("Pod", two_container_pod_with_one_completed(ready=False))[1:3] == ["1/2", "NotReady"]


def test_it_prefers_another_containers_error_over_completed():
    pod = two_container_pod_with_one_completed(ready=False)
    pod["status"]["containerStatuses"][1].update(ready=False, state={"terminated": {"exitCode": 1, "reason": "Error"}})
    # The first container (Completed) is read last, then the error of the other one wins.
    assert row("Pod", pod)[2] == "Error"


def pod_with_init_containers(*init_statuses: dict, init_names: tuple[str, ...] = ("wait-db",)) -> dict:
    pod = running_pod("app")
    pod["spec"]["initContainers"] = [{"name": name, "image": "busybox"} for name in init_names]
    pod["status"].update(
        phase="Pending",
        initContainerStatuses=list(init_statuses),
        conditions=[{"type": "Initialized", "status": "False"}, {"type": "Ready", "status": "False"}],
        containerStatuses=[
            {"name": "nginx", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
        ],
    )
    return pod


def test_it_shows_init_progress_while_the_first_init_container_runs():
    init = {"name": "wait-db", "ready": False, "restartCount": 0, "state": {"running": {"startedAt": ago(seconds=20)}}}
    assert row("Pod", pod_with_init_containers(init))[1:4] == ["0/1", "Init:0/1", "0"]


def test_it_shows_init_progress_of_the_second_init_container_after_the_first_completed():
    done = {
        "name": "wait-db",
        "ready": True,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    waiting = {
        "name": "migrate",
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": "PodInitializing"}},
    }
    pod = pod_with_init_containers(done, waiting, init_names=("wait-db", "migrate"))
    assert row("Pod", pod)[2] == "Init:1/2"


def test_it_shows_an_init_containers_crash_loop_with_its_restarts():
    init = {
        "name": "wait-db",
        "ready": False,
        "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(minutes=1)}},
    }
    assert row("Pod", pod_with_init_containers(init))[1:4] == ["0/1", "Init:CrashLoopBackOff", "4 (60s ago)"]


@pytest.mark.parametrize(
    ("terminated", "expected"),
    [
        ({"exitCode": 1, "reason": "Error"}, "Init:Error"),
        ({"exitCode": 3}, "Init:ExitCode:3"),
        ({"exitCode": 143, "signal": 15}, "Init:Signal:15"),
    ],
)
def test_it_shows_how_an_init_container_failed(terminated, expected):
    init = {"name": "wait-db", "ready": False, "restartCount": 0, "state": {"terminated": terminated}}
    assert row("Pod", pod_with_init_containers(init))[2] == expected


def test_it_reads_the_app_containers_once_initialized_even_if_an_init_status_looks_unfinished():
    # After a sandbox restart an init container may report waiting although the pod was initialised.
    stale = {"name": "wait-db", "ready": False, "restartCount": 1, "state": {"waiting": {"reason": "PodInitializing"}}}
    pod = pod_with_init_containers(stale)
    pod["status"]["phase"] = "Running"
    pod["status"]["conditions"][0]["status"] = "True"
    pod["status"]["containerStatuses"][0].update(
        restartCount=2,
        state={"waiting": {"reason": "CrashLoopBackOff"}},
        lastState={"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(minutes=1)}},
    )
    assert row("Pod", pod)[1:4] == ["0/1", "CrashLoopBackOff", "2 (60s ago)"]


def test_it_counts_a_started_sidecar_in_ready_and_keeps_its_restarts_after_initialisation():
    pod = running_pod("with-sidecar")
    pod["spec"]["initContainers"] = [
        {"name": "setup", "image": "busybox"},
        {"name": "proxy", "image": "envoy", "restartPolicy": "Always"},
    ]
    pod["status"]["initContainerStatuses"] = [
        {
            "name": "setup",
            "ready": False,
            "restartCount": 1,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
        },
        {
            "name": "proxy",
            "ready": True,
            "started": True,
            "restartCount": 2,
            "state": {"running": {"startedAt": ago(minutes=3)}},
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(minutes=3)}},
        },
    ]
    # The regular init container's restart no longer counts once the pod is initialised.
    assert row("Pod", pod)[1:4] == ["2/2", "Running", "2 (3m ago)"]


def test_a_started_sidecar_that_is_not_ready_counts_in_the_total_only():
    pod = running_pod("with-sidecar")
    pod["spec"]["initContainers"] = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    pod["status"]["initContainerStatuses"] = [
        {
            "name": "proxy",
            "ready": False,
            "started": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": ago(minutes=4)}},
        }
    ]
    pod["status"]["conditions"][1]["status"] = "False"
    assert row("Pod", pod)[1:3] == ["1/2", "Running"]


def test_a_completed_job_pod_with_a_stopped_sidecar_reads_completed():
    pod = running_pod("job-with-sidecar")
    pod["spec"]["initContainers"] = [{"name": "logshipper", "image": "alpine", "restartPolicy": "Always"}]
    done = {"terminated": {"exitCode": 0, "reason": "Completed"}}
    pod["status"].update(phase="Succeeded", initContainerStatuses=[{"name": "logshipper", "state": done}])
    pod["status"]["containerStatuses"][0].update(ready=False, started=False, state=done)
    assert row("Pod", pod)[1:3] == ["0/2", "Completed"]


def test_it_shows_terminating_for_a_pod_being_deleted():
    pod = running_pod(deletionTimestamp=ago(seconds=-30), deletionGracePeriodSeconds=30)
    assert row("Pod", pod)[1:3] == ["1/1", "Terminating"]


def test_it_keeps_the_final_status_of_a_finished_pod_being_deleted():
    pod = running_pod(deletionTimestamp=ago(seconds=1))
    pod["status"]["phase"] = "Succeeded"
    pod["status"]["containerStatuses"][0].update(
        ready=False, state={"terminated": {"exitCode": 0, "reason": "Completed"}}
    )
    assert row("Pod", pod)[2] == "Completed"


def test_it_shows_nodelost_and_then_unknown_once_such_a_pod_is_being_deleted():
    pod = running_pod()
    pod["status"].update(
        phase="Unknown", reason="NodeLost", message="Node node-1 which was running pod is unresponsive"
    )
    assert row("Pod", pod)[2] == "NodeLost"
    pod["metadata"]["deletionTimestamp"] = ago(seconds=0)
    assert row("Pod", pod)[2] == "Unknown"


def test_it_shows_nominated_node_and_how_many_readiness_gates_pass_in_the_wide_columns():
    pod = running_pod()
    pod["spec"]["readinessGates"] = [
        {"conditionType": "example.com/feature-1"},
        {"conditionType": "example.com/feature-2"},
    ]
    pod["status"]["conditions"] += [
        {"type": "example.com/feature-1", "status": "True"},
        {"type": "example.com/feature-2", "status": "False"},
    ]
    pod["status"]["nominatedNodeName"] = "node-2"
    assert row("Pod", pod)[5:] == ["10.244.0.7", "node-1", "node-2", "1/2"]


def test_it_reads_the_pod_ip_from_pod_ips_when_pod_ip_is_absent():
    pod = running_pod()
    del pod["status"]["podIP"]
    pod["status"]["podIPs"] = [{"ip": "fd00::7"}, {"ip": "10.244.0.9"}]
    assert row("Pod", pod)[5] == "fd00::7"


# --- Node ---------------------------------------------------------------------------------------


def node(name: str = "node-1", *, ready: str | None = "True", unschedulable: bool = False, labels=None) -> dict:
    conditions = [{"type": "MemoryPressure", "status": "False"}, {"type": "DiskPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready, "reason": "KubeletReady"})
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": meta(
            name, namespace=None, created=ago(days=3, hours=4), labels=labels or {"kubernetes.io/hostname": name}
        ),
        "spec": {"podCIDR": "10.244.0.0/24", **({"unschedulable": True} if unschedulable else {})},
        "status": {
            "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": name}],
            "nodeInfo": {
                "kubeletVersion": "v1.37.0",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0-18-amd64",
                "containerRuntimeVersion": "containerd://2.0.0",
            },
        },
    }


def test_nodes_have_the_upstream_columns():
    assert column_names("Node") == [
        ("Name", 0),
        ("Status", 0),
        ("Roles", 0),
        ("Age", 0),
        ("Version", 0),
        ("Internal-IP", 1),
        ("External-IP", 1),
        ("OS-Image", 1),
        ("Kernel-Version", 1),
        ("Container-Runtime", 1),
    ]


def test_it_shows_a_ready_node_with_its_roles_and_wide_details():
    labels = {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker", "kubernetes.io/os": "linux"}
    assert row("Node", node(labels=labels)) == [
        "node-1",
        "Ready",
        "control-plane,worker",
        "3d4h",
        "v1.37.0",
        "172.18.0.2",
        "<none>",
        "Debian GNU/Linux 12 (bookworm)",
        "6.1.0-18-amd64",
        "containerd://2.0.0",
    ]


@pytest.mark.parametrize(
    ("ready", "unschedulable", "expected"),
    [
        ("True", True, "Ready,SchedulingDisabled"),
        ("False", False, "NotReady"),
        ("Unknown", True, "NotReady,SchedulingDisabled"),
        (None, False, "Unknown"),
    ],
)
def test_it_derives_node_status_from_the_ready_condition_and_cordoning(ready, unschedulable, expected):
    assert row("Node", node(ready=ready, unschedulable=unschedulable))[1] == expected


def test_it_shows_none_for_a_node_without_roles_and_unknown_for_missing_system_info():
    bare = node()
    bare["status"]["nodeInfo"] = {}
    cells = row("Node", bare)
    assert (cells[2], cells[4], cells[7:]) == ("<none>", "", ["<unknown>", "<unknown>", "<unknown>"])


# --- Service, Endpoints, EndpointSlice ----------------------------------------------------------


def service(name: str = "web", **spec) -> dict:
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": meta(name, created=ago(hours=5, minutes=30)),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.12.34",
            "clusterIPs": ["10.96.12.34"],
            "selector": {"tier": "frontend", "app": "web"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
            **spec,
        },
        "status": {"loadBalancer": {}},
    }


def test_services_have_the_upstream_columns():
    assert column_names("Service") == [
        ("Name", 0),
        ("Type", 0),
        ("Cluster-IP", 0),
        ("External-IP", 0),
        ("Port(s)", 0),
        ("Age", 0),
        ("Selector", 1),
    ]


def test_it_shows_a_cluster_ip_service_with_its_port_and_sorted_selector():
    assert row("Service", service()) == [
        "web",
        "ClusterIP",
        "10.96.12.34",
        "<none>",
        "80/TCP",
        "5h30m",
        "app=web,tier=frontend",
    ]


def test_it_shows_node_ports_next_to_the_service_ports():
    ports = [
        {"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080},
        {"name": "dns", "port": 53, "protocol": "UDP", "nodePort": 30053},
    ]
    assert row("Service", service(type="NodePort", ports=ports))[1:5] == [
        "NodePort",
        "10.96.12.34",
        "<none>",
        "80:30080/TCP,53:30053/UDP",
    ]


def test_it_shows_pending_for_a_load_balancer_without_an_address():
    assert (
        row("Service", service(type="LoadBalancer", ports=[{"port": 443, "protocol": "TCP", "nodePort": 31443}]))[3]
        == "<pending>"
    )


def test_it_lists_load_balancer_addresses_sorted_then_external_ips():
    svc = service(type="LoadBalancer", externalIPs=["192.0.2.10"])
    svc["status"]["loadBalancer"] = {
        "ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}, {"ip": "203.0.113.5"}]
    }
    # Upstream clips long lists to 16 characters only in client-side, non-wide printing.
    assert row("Service", svc)[3] == "203.0.113.5,203.0.113.9,lb.example.com,192.0.2.10"


def test_it_shows_external_ips_of_a_cluster_ip_service():
    assert row("Service", service(externalIPs=["198.51.100.1", "198.51.100.2"]))[3] == "198.51.100.1,198.51.100.2"


def test_it_shows_the_external_name_and_no_cluster_ip_for_an_external_name_service():
    svc = service("db", type="ExternalName", externalName="db.example.com", ports=[], selector=None)
    del svc["spec"]["clusterIP"], svc["spec"]["clusterIPs"]
    assert row("Service", svc) == ["db", "ExternalName", "<none>", "db.example.com", "<none>", "5h30m", "<none>"]


def test_it_shows_none_as_the_cluster_ip_of_a_headless_service():
    assert row("Service", service(clusterIP="None", clusterIPs=["None"]))[2] == "None"


def endpoints(*subsets: dict) -> dict:
    return {
        "kind": "Endpoints",
        "apiVersion": "v1",
        "metadata": meta("web", created=ago(minutes=7)),
        "subsets": list(subsets),
    }


def test_it_lists_ready_endpoint_addresses_with_their_ports():
    subset = {
        "addresses": [{"ip": "10.244.0.7"}, {"ip": "10.244.1.3"}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }
    assert row("Endpoints", endpoints(subset)) == ["web", "10.244.0.7:8080,10.244.1.3:8080", "7m"]


def test_it_shows_three_endpoints_and_counts_the_rest():
    subset = {"addresses": [{"ip": f"10.244.0.{i}"} for i in range(1, 4)], "ports": [{"port": 80}, {"port": 443}]}
    assert row("Endpoints", endpoints(subset))[1] == "10.244.0.1:80,10.244.0.2:80,10.244.0.3:80 + 3 more..."


def test_it_lists_bare_addresses_for_endpoints_without_ports_and_brackets_ipv6():
    headless = {"addresses": [{"ip": "10.244.0.7"}]}
    ipv6 = {"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}
    assert row("Endpoints", endpoints(headless, ipv6))[1] == "10.244.0.7,[fd00::1]:80"


def test_it_shows_none_for_endpoints_without_subsets_and_nothing_for_only_unready_ones():
    assert row("Endpoints", endpoints())[1] == "<none>"
    assert row("Endpoints", endpoints({"notReadyAddresses": [{"ip": "10.244.0.7"}], "ports": [{"port": 80}]}))[1] == ""


def test_it_shows_an_endpoint_slice_with_ports_and_addresses():
    endpoint_slice = {
        "kind": "EndpointSlice",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": meta("web-abc12", labels={"kubernetes.io/service-name": "web"}),
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "metrics", "protocol": "TCP"}, {}],
        "endpoints": [
            {"addresses": [f"10.244.0.{i}"], "conditions": {"ready": True}, "nodeName": "node-1"} for i in range(1, 6)
        ],
    }
    assert row("EndpointSlice", endpoint_slice) == [
        "web-abc12",
        "IPv4",
        "8080,metrics,*",
        "10.244.0.1,10.244.0.2,10.244.0.3 + 2 more...",
        "5m",
    ]
    assert column_names("EndpointSlice") == [
        ("Name", 0),
        ("AddressType", 0),
        ("Ports", 0),
        ("Endpoints", 0),
        ("Age", 0),
    ]


def test_it_shows_unset_for_an_endpoint_slice_without_ports_or_endpoints():
    endpoint_slice = {"kind": "EndpointSlice", "metadata": meta("empty"), "addressType": "IPv4", "endpoints": None}
    assert row("EndpointSlice", endpoint_slice)[2:4] == ["<unset>", "<unset>"]


# --- namespaces, config, identity, quotas -------------------------------------------------------


def test_it_shows_a_namespace_with_its_phase():
    namespace = {
        "kind": "Namespace",
        "metadata": meta("team-a", namespace=None, created=ago(days=400)),
        "status": {"phase": "Active"},
    }
    assert row("Namespace", namespace) == ["team-a", "Active", "400d"]
    assert column_names("Namespace") == [("Name", 0), ("Status", 0), ("Age", 0)]


def test_it_counts_both_data_and_binary_data_keys_of_a_config_map():
    config_map = {
        "kind": "ConfigMap",
        "metadata": meta("settings"),
        "data": {"a": "1", "b": "2"},
        "binaryData": {"c": "AAE="},
    }
    assert row("ConfigMap", config_map) == ["settings", 3, "5m"]
    assert column_names("ConfigMap") == [("Name", 0), ("Data", 0), ("Age", 0)]


def test_it_shows_a_secrets_type_and_key_count():
    secret = {
        "kind": "Secret",
        "metadata": meta("db-creds"),
        "type": "Opaque",
        "data": {"user": "YWRtaW4=", "pass": "czNjcjN0"},
    }
    assert row("Secret", secret) == ["db-creds", "Opaque", 2, "5m"]
    assert column_names("Secret") == [("Name", 0), ("Type", 0), ("Data", 0), ("Age", 0)]


def test_it_shows_only_name_and_age_for_a_service_account():
    account = {"kind": "ServiceAccount", "metadata": meta("default", created=ago(days=2))}
    assert row("ServiceAccount", account) == ["default", "2d"]
    assert column_names("ServiceAccount") == [("Name", 0), ("Age", 0)]


def test_it_splits_quota_usage_into_requests_and_limits_sorted_by_resource():
    quota = {
        "kind": "ResourceQuota",
        "metadata": meta("compute", created=ago(minutes=2)),
        "spec": {
            "hard": {
                "pods": "10",
                "requests.cpu": "1",
                "requests.memory": "1Gi",
                "limits.cpu": "2",
                "limits.memory": "2Gi",
            }
        },
        "status": {
            "hard": {
                "pods": "10",
                "requests.cpu": "1",
                "requests.memory": "1Gi",
                "limits.cpu": "2",
                "limits.memory": "2Gi",
            },
            "used": {"pods": "3", "requests.cpu": "300m", "limits.cpu": "600m"},
        },
    }
    assert row("ResourceQuota", quota) == [
        "compute",
        "pods: 3/10, requests.cpu: 300m/1, requests.memory: 0/1Gi",
        "limits.cpu: 600m/2, limits.memory: 0/2Gi",
        "2m",
    ]
    assert column_names("ResourceQuota") == [("Name", 0), ("Request", 0), ("Limit", 0), ("Age", 0)]


def test_it_shows_a_limit_range_with_its_creation_time_like_the_api_servers_default_table():
    limit_range = {
        "kind": "LimitRange",
        "metadata": meta("defaults", created="2025-05-31T21:15:00+09:00"),
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}}]},
    }
    table = build_table("LimitRange", [limit_range], now=NOW)
    assert [(c["name"], c["type"]) for c in table["columnDefinitions"]] == [("Name", "string"), ("Created At", "date")]
    assert table["rows"][0]["cells"] == ["defaults", "2025-05-31T12:15:00Z"]


# --- storage ------------------------------------------------------------------------------------


def persistent_volume(**extra_meta) -> dict:
    return {
        "kind": "PersistentVolume",
        "metadata": meta("pv-data", namespace=None, created=ago(hours=30), **extra_meta),
        "spec": {
            "capacity": {"storage": "5Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
            "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data"},
            "hostPath": {"path": "/data"},
        },
        "status": {"phase": "Bound"},
    }


def test_it_shows_a_bound_persistent_volume_with_its_claim():
    assert row("PersistentVolume", persistent_volume()) == [
        "pv-data",
        "5Gi",
        "RWO,RWX",
        "Retain",
        "Bound",
        "default/data",
        "standard",
        "<unset>",
        "",
        "30h",
        "Filesystem",
    ]
    assert [name for name, _ in column_names("PersistentVolume")] == [
        "Name",
        "Capacity",
        "Access Modes",
        "Reclaim Policy",
        "Status",
        "Claim",
        "StorageClass",
        "VolumeAttributesClass",
        "Reason",
        "Age",
        "VolumeMode",
    ]
    assert column_names("PersistentVolume")[-1] == ("VolumeMode", 1)


def test_it_shows_terminating_and_the_beta_class_annotation_of_a_persistent_volume():
    volume = persistent_volume(
        deletionTimestamp=ago(seconds=5), annotations={"volume.beta.kubernetes.io/storage-class": "legacy"}
    )
    cells = row("PersistentVolume", volume)
    assert (cells[4], cells[6]) == ("Terminating", "legacy")


def claim(*, bound: bool) -> dict:
    obj = {
        "kind": "PersistentVolumeClaim",
        "metadata": meta("data", created=ago(minutes=45)),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "standard",
        },
        "status": {"phase": "Pending"},
    }
    if bound:
        obj["spec"].update(volumeName="pv-data", volumeMode="Filesystem")
        obj["status"] = {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "5Gi"}}
    return obj


def test_it_shows_a_bound_claims_volume_capacity_and_access_modes():
    assert row("PersistentVolumeClaim", claim(bound=True)) == [
        "data",
        "Bound",
        "pv-data",
        "5Gi",
        "RWO",
        "standard",
        "<unset>",
        "45m",
        "Filesystem",
    ]


def test_it_leaves_capacity_and_access_modes_blank_for_a_pending_claim():
    assert row("PersistentVolumeClaim", claim(bound=False))[1:7] == ["Pending", "", "", "", "standard", "<unset>"]


def test_it_marks_the_default_storage_class_and_fills_in_the_defaults():
    storage_class = {
        "kind": "StorageClass",
        "apiVersion": "storage.k8s.io/v1",
        "metadata": meta(
            "standard",
            namespace=None,
            created=ago(days=10),
            annotations={"storageclass.kubernetes.io/is-default-class": "true"},
        ),
        "provisioner": "rancher.io/local-path",
    }
    assert row("StorageClass", storage_class) == [
        "standard (default)",
        "rancher.io/local-path",
        "Delete",
        "Immediate",
        False,
        "10d",
    ]


def test_it_shows_a_storage_classs_own_policies():
    storage_class = {
        "kind": "StorageClass",
        "metadata": meta("fast", namespace=None, annotations={"storageclass.kubernetes.io/is-default-class": "false"}),
        "provisioner": "ebs.csi.aws.com",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }
    assert row("StorageClass", storage_class)[:5] == ["fast", "ebs.csi.aws.com", "Retain", "WaitForFirstConsumer", True]


# --- Event --------------------------------------------------------------------------------------


def test_events_lead_with_last_seen_and_keep_name_count_and_source_for_wide():
    assert column_names("Event") == [
        ("Last Seen", 0),
        ("Type", 0),
        ("Reason", 0),
        ("Object", 0),
        ("Subobject", 1),
        ("Source", 1),
        ("Message", 0),
        ("First Seen", 1),
        ("Count", 1),
        ("Name", 1),
    ]


def test_it_shows_a_repeated_core_event_with_its_object_and_source():
    event = {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": meta("web.17d2c1a4b", created=ago(minutes=10)),
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web", "fieldPath": "spec.containers{nginx}"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container nginx in pod web_default(uid)\n",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(minutes=10),
        "lastTimestamp": ago(seconds=40),
        "count": 7,
        "type": "Warning",
    }
    assert row("Event", event) == [
        "40s",
        "Warning",
        "BackOff",
        "pod/web",
        "spec.containers{nginx}",
        "kubelet, node-1",
        "Back-off restarting failed container nginx in pod web_default(uid)",
        "10m",
        7,
        "web.17d2c1a4b",
    ]


def test_it_reads_event_time_series_and_reporting_component_of_a_new_style_event():
    event = {
        "kind": "Event",
        "metadata": meta("web.17d2c1a4c"),
        "involvedObject": {"kind": "Deployment", "name": "web"},
        "reason": "ScalingReplicaSet",
        "message": "Scaled up replica set web-7d9f8b6c5 from 0 to 3",
        "source": {},
        "firstTimestamp": None,
        "lastTimestamp": None,
        "eventTime": "2025-06-01T11:57:00.000000Z",
        "series": {"count": 4, "lastObservedTime": "2025-06-01T11:59:30.000000Z"},
        "reportingComponent": "deployment-controller",
        "reportingInstance": "",
        "type": "Normal",
    }
    cells = row("Event", event)
    assert (cells[0], cells[3], cells[5], cells[7], cells[8]) == (
        "30s",
        "deployment/web",
        "deployment-controller",
        "3m",
        4,
    )


def test_it_counts_a_singleton_event_once_and_uses_first_seen_as_last_seen():
    event = {
        "kind": "Event",
        "metadata": meta("node-1.abc"),
        "involvedObject": {"kind": "Node"},
        "reason": "Starting",
        "firstTimestamp": ago(hours=4),
        "type": "Normal",
    }
    cells = row("Event", event)
    assert (cells[0], cells[3], cells[7], cells[8]) == ("4h", "node", "4h", 1)


# --- workloads ----------------------------------------------------------------------------------


def pod_template(*containers: tuple[str, str], labels=None) -> dict:
    return {
        "metadata": {"labels": labels or {"app": "web"}},
        "spec": {"containers": [{"name": name, "image": image} for name, image in containers]},
    }


def deployment(**spec) -> dict:
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": meta("web", created=ago(minutes=12), generation=2),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": pod_template(("nginx", "nginx:1.27"), ("log", "busybox:1.36")),
            **spec,
        },
        "status": {
            "observedGeneration": 2,
            "replicas": 3,
            "updatedReplicas": 3,
            "readyReplicas": 2,
            "availableReplicas": 2,
        },
    }


def test_it_shows_a_deployments_ready_up_to_date_available_and_wide_columns():
    assert column_names("Deployment") == [
        ("Name", 0),
        ("Ready", 0),
        ("Up-to-date", 0),
        ("Available", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]
    assert row("Deployment", deployment()) == [
        "web",
        "2/3",
        3,
        2,
        "12m",
        "nginx,log",
        "nginx:1.27,busybox:1.36",
        "app=web",
    ]


def test_it_writes_a_set_based_selector_the_way_kubectl_reads_it():
    selector = {
        "matchLabels": {"tier": "frontend", "app": "web"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["staging", "prod"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "NotIn", "values": ["b"]},
            {"key": "team", "operator": "Exists"},
        ],
    }
    assert (
        row("Deployment", deployment(selector=selector))[-1]
        == "app=web,!canary,env in (prod,staging),team,tier=frontend,zone notin (b)"
    )


def test_it_shows_invalid_for_a_deployment_selector_that_cannot_be_parsed():
    selector = {"matchExpressions": [{"key": "env", "operator": "Matches", "values": ["x"]}]}
    assert row("Deployment", deployment(selector=selector))[-1] == "<invalid>"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, "<none>"),
        ({}, "<none>"),
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, "<error>"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "<error>"),
    ],
)
def test_it_formats_label_selectors_with_none_and_error_placeholders(selector, expected):
    assert format_label_selector(selector) == expected


def test_it_defaults_a_deployments_desired_replicas_to_one_and_missing_status_to_zero():
    bare = deployment()
    del bare["spec"]["replicas"]
    bare["status"] = {}
    assert row("Deployment", bare)[1:4] == ["0/1", 0, 0]


def test_it_shows_a_replica_sets_desired_current_and_ready_counts():
    replica_set = {
        "kind": "ReplicaSet",
        "metadata": meta("web-7d9f8b6c5", created=ago(minutes=12)),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d9f8b6c5"}},
            "template": pod_template(("nginx", "nginx:1.27")),
        },
        "status": {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 1, "availableReplicas": 1},
    }
    assert row("ReplicaSet", replica_set) == [
        "web-7d9f8b6c5",
        3,
        3,
        1,
        "12m",
        "nginx",
        "nginx:1.27",
        "app=web,pod-template-hash=7d9f8b6c5",
    ]
    assert [name for name, _ in column_names("ReplicaSet")] == [
        "Name",
        "Desired",
        "Current",
        "Ready",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]


def test_it_shows_a_replication_controllers_counts_and_its_plain_selector():
    controller = {
        "kind": "ReplicationController",
        "apiVersion": "v1",
        "metadata": meta("nginx", created=ago(minutes=3)),
        "spec": {
            "replicas": 3,
            "selector": {"tier": "front", "app": "nginx"},
            "template": pod_template(("nginx", "nginx")),
        },
        "status": {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 1, "availableReplicas": 1},
    }
    assert row("ReplicationController", controller) == [
        "nginx",
        3,
        2,
        1,
        "3m",
        "nginx",
        "nginx",
        "app=nginx,tier=front",
    ]
    assert column_names("ReplicationController") == [
        ("Name", 0),
        ("Desired", 0),
        ("Current", 0),
        ("Ready", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]


def test_a_new_replication_controller_without_a_status_or_template_prints_zeros_and_nothing():
    controller = {"kind": "ReplicationController", "metadata": meta("bare"), "spec": {"replicas": 1, "selector": {}}}
    assert row("ReplicationController", controller)[1:] == [1, 0, 0, "5m", "", "", "<none>"]


def test_it_shows_a_stateful_sets_ready_over_desired_without_a_selector_column():
    stateful_set = {
        "kind": "StatefulSet",
        "metadata": meta("db", created=ago(hours=1)),
        "spec": {
            "replicas": 3,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": pod_template(("pg", "postgres:17")),
        },
        "status": {"replicas": 2, "readyReplicas": 1, "currentReplicas": 2},
    }
    assert row("StatefulSet", stateful_set) == ["db", "1/3", "60m", "pg", "postgres:17"]
    assert column_names("StatefulSet") == [("Name", 0), ("Ready", 0), ("Age", 0), ("Containers", 1), ("Images", 1)]


def test_it_shows_a_daemon_sets_counts_and_node_selector():
    daemon_set = {
        "kind": "DaemonSet",
        "metadata": meta("log-agent", namespace="kube-system", created=ago(days=1)),
        "spec": {
            "selector": {"matchLabels": {"name": "log-agent"}},
            "template": pod_template(("agent", "fluent-bit:3")),
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    daemon_set["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux"}
    assert row("DaemonSet", daemon_set) == [
        "log-agent",
        3,
        3,
        2,
        3,
        2,
        "kubernetes.io/os=linux",
        "24h",
        "agent",
        "fluent-bit:3",
        "name=log-agent",
    ]
    assert [name for name, _ in column_names("DaemonSet")][:8] == [
        "Name",
        "Desired",
        "Current",
        "Ready",
        "Up-to-date",
        "Available",
        "Node Selector",
        "Age",
    ]


def test_it_shows_none_for_a_daemon_set_without_a_node_selector():
    daemon_set = {
        "kind": "DaemonSet",
        "metadata": meta("ds"),
        "spec": {"template": pod_template(("a", "b"))},
        "status": {},
    }
    assert row("DaemonSet", daemon_set)[6] == "<none>"


def job(*conditions: tuple[str, str], **status) -> dict:
    return {
        "kind": "Job",
        "apiVersion": "batch/v1",
        "metadata": meta("pi", created=ago(minutes=9)),
        "spec": {
            "completions": 1,
            "parallelism": 1,
            "backoffLimit": 6,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "uid-pi"}},
            "template": pod_template(("pi", "perl:5.34")),
        },
        "status": {"conditions": [{"type": t, "status": s} for t, s in conditions], **status},
    }


def test_it_shows_a_complete_job_with_how_long_it_took():
    done = job(
        ("SuccessCriteriaMet", "True"),
        ("Complete", "True"),
        startTime=ago(minutes=8),
        completionTime=ago(minutes=5),
        succeeded=1,
    )
    assert row("Job", done) == [
        "pi",
        "Complete",
        "1/1",
        "3m",
        "9m",
        "pi",
        "perl:5.34",
        "batch.kubernetes.io/controller-uid=uid-pi",
    ]
    assert [name for name, _ in column_names("Job")][:5] == ["Name", "Status", "Completions", "Duration", "Age"]


def test_it_shows_a_running_jobs_duration_so_far():
    assert row("Job", job(startTime=ago(minutes=2, seconds=5), active=1))[1:4] == ["Running", "0/1", "2m5s"]


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ((("FailureTarget", "True"), ("Failed", "True")), "Failed"),
        ((("Suspended", "True"),), "Suspended"),
        ((("FailureTarget", "True"),), "FailureTarget"),
        ((("SuccessCriteriaMet", "True"),), "SuccessCriteriaMet"),
        ((("Suspended", "False"),), "Running"),
    ],
)
def test_it_derives_a_jobs_status_from_its_conditions(conditions, expected):
    assert row("Job", job(*conditions))[1] == expected


def test_it_shows_terminating_for_a_job_being_deleted_unless_it_finished():
    deleting = job()
    deleting["metadata"]["deletionTimestamp"] = ago(seconds=1)
    assert row("Job", deleting)[1] == "Terminating"
    finished = job(("Complete", "True"))
    finished["metadata"]["deletionTimestamp"] = ago(seconds=1)
    assert row("Job", finished)[1] == "Complete"


def test_it_leaves_the_duration_blank_for_a_job_that_has_not_started():
    assert row("Job", job())[3] == ""


@pytest.mark.parametrize(
    ("completions", "parallelism", "expected"),
    [(5, 2, "2/5"), (None, 3, "2/1 of 3"), (None, 1, "2/1"), (None, None, "2/1")],
)
def test_it_shows_job_completions_for_fixed_counts_and_work_queues(completions, parallelism, expected):
    work = job(succeeded=2)
    work["spec"]["completions"], work["spec"]["parallelism"] = completions, parallelism
    assert row("Job", work)[2] == expected


def cron_job(**status) -> dict:
    return {
        "kind": "CronJob",
        "apiVersion": "batch/v1",
        "metadata": meta("report", created=ago(days=8)),
        "spec": {
            "schedule": "*/5 * * * *",
            "suspend": False,
            "concurrencyPolicy": "Allow",
            "jobTemplate": {"spec": {"template": pod_template(("report", "busybox:1.36"))}},
        },
        "status": status,
    }


def test_it_shows_a_cron_jobs_schedule_active_jobs_and_last_schedule():
    scheduled = cron_job(active=[{"kind": "Job", "name": "report-29146500"}], lastScheduleTime=ago(minutes=5))
    assert row("CronJob", scheduled) == [
        "report",
        "*/5 * * * *",
        "<none>",
        "False",
        1,
        "5m",
        "8d",
        "report",
        "busybox:1.36",
        "<none>",
    ]
    assert [name for name, _ in column_names("CronJob")][:7] == [
        "Name",
        "Schedule",
        "Timezone",
        "Suspend",
        "Active",
        "Last Schedule",
        "Age",
    ]


def test_it_shows_a_cron_jobs_time_zone_suspension_and_that_it_never_ran():
    paused = cron_job()
    paused["spec"].update(timeZone="Asia/Seoul", suspend=True)
    assert row("CronJob", paused)[2:6] == ["Asia/Seoul", "True", 0, "<none>"]
    del paused["spec"]["suspend"]
    assert row("CronJob", paused)[3] == "<unset>"
