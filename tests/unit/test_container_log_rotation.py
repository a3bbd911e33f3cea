"""Container logs are capped per run as the kubelet rotates its files (containerLogMaxSize,
containerLogMaxFiles), keeping the newest: `yes` in a pod cannot fill the database. The decisions
are pure; the flood runs on the simulated runtime under a test clock."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from clusters import kubelet, store
from clusters.logs import (
    LINE_OVERHEAD_BYTES,
    container_log_cursor,
    files_rotate,
    line_bytes,
    lines_after,
    newest_within,
)
from clusters.models import ContainerLog
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

PODS = resource_for_kind("v1", "Pod")
T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_line_counts_as_long_as_in_a_cri_log_file():
    assert line_bytes("y") == 1 + LINE_OVERHEAD_BYTES
    assert line_bytes("é") == 2 + LINE_OVERHEAD_BYTES


def test_a_new_file_starts_once_the_current_one_is_full_and_the_oldest_go():
    files, first_kept = files_rotate([], [(1, 60), (2, 60), (3, 60)], max_size=100, max_files=5)
    assert (files, first_kept) == ([[1, 120], [3, 60]], None)
    files, first_kept = files_rotate(files, [(4, 60), (5, 60), (6, 60)], max_size=100, max_files=2)
    assert (files, first_kept) == ([[3, 120], [5, 120]], 3)


def test_nothing_is_rotated_while_the_files_fit():
    assert files_rotate([[1, 10]], [(2, 10)], max_size=100, max_files=2) == ([[1, 20]], None)


def test_only_the_newest_lines_that_fit_are_copied():
    lines = [(at(i), f"line {i}") for i in range(10)]
    kept = newest_within(lines, 3 * line_bytes("line 0"))
    assert [text for _, text in kept] == ["line 7", "line 8", "line 9"]


def test_lines_are_followed_by_time_with_lines_of_one_moment_counted():
    lines = [(at(1), "a"), (at(2), "b"), (at(2), "c")]
    cursor = container_log_cursor(lines[:2], None)
    assert lines_after(lines, cursor) == [(at(2), "c")]
    cursor = container_log_cursor([(at(2), "c")], cursor)
    assert cursor[1] == 2
    assert lines_after([*lines, (at(3), "d")], cursor) == [(at(3), "d")]
    assert lines_after(lines, None) == lines


@pytest.fixture
def clock(monkeypatch):
    """The kubelet's time, moved by the test (the simulated runtime reads the same clock)."""
    moment = SimpleNamespace(now=timezone.now())
    monkeypatch.setattr(kubelet, "timezone", SimpleNamespace(now=lambda: moment.now))
    return moment


@pytest.mark.django_db
def test_yes_in_a_pod_keeps_only_the_newest_lines(settings, clock):
    settings.CONTAINER_LOG_MAX_SIZE = 4096
    settings.CONTAINER_LOG_MAX_FILES = 3
    sandbox = sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated", fast_backoff=True)
    pod = {
        "metadata": {"name": "flood"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "yes", "image": "busybox:1.36", "command": ["yes"]}]},
    }
    uid = store.object_create(sandbox=sandbox, resource=PODS, body=pod, namespace="default")["metadata"]["uid"]
    newest_ids = []
    for _ in range(20):  # 20 s of a thousand lines a second
        kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
        rows = ContainerLog.objects.filter(pod_uid=uid)
        kept = sum(line_bytes(line) for line in rows.values_list("line", flat=True))
        assert kept <= 3 * (4096 + line_bytes("y"))  # a file is closed once its last line passes its size
        newest_ids.append(rows.order_by("-id").values_list("id", "time").first())
        clock.now += timedelta(seconds=1)
    # Every second brought new lines (following by count stopped once the runtime's 1000 were
    # full), the newest of them written within the last second of the clock.
    assert len({row_id for row_id, _ in newest_ids}) == 20
    assert clock.now - newest_ids[-1][1] <= timedelta(seconds=1)
    assert set(ContainerLog.objects.filter(pod_uid=uid).values_list("line", flat=True)) == {"y"}
