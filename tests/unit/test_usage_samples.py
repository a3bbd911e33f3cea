"""The kubelet's usage record and the rates read from it, as metrics-server computes them."""

from datetime import UTC, datetime, timedelta

from clusters.runtime.base import ContainerUsage
from clusters.usage_samples import (
    SYSTEM_MEMORY_BYTES,
    SYSTEM_NANOCORES,
    Usage,
    node_usage,
    pod_usages,
    usage_fresh,
    usage_next_sample,
    usage_record_add,
    usage_sample,
    usage_sample_due,
)

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
STARTED = T0 - timedelta(minutes=5)
SECOND = 10**9  # nanoseconds


def seen(
    name: str, *, at: datetime, cpu_seconds: float, memory: int = 4 * 2**20, pod="pod-a", restart=0, started=STARTED
):
    return ContainerUsage(pod, name, restart, at, round(cpu_seconds * SECOND), memory, started)


def record_of(*samples: tuple[datetime, list[ContainerUsage]]) -> dict:
    record: dict = {}
    for at, usages in samples:
        record = usage_record_add(record, usage_sample(usages, at=at))
    return record


def test_a_sample_is_due_when_none_was_taken_or_a_resolution_has_passed():
    assert usage_sample_due({}, now=T0)
    record = record_of((T0, []))
    assert not usage_sample_due(record, now=T0 + timedelta(seconds=10))
    assert usage_sample_due(record, now=T0 + timedelta(seconds=15))
    assert usage_sample_due(record, now=T0 + timedelta(seconds=14.5))  # a run a moment early still takes it


def test_the_record_keeps_the_last_two_samples():
    record = record_of((T0, []), (T0 + timedelta(seconds=15), []), (T0 + timedelta(seconds=30), []))
    assert [sample["at"] for sample in record["samples"]] == [
        "2026-03-01T10:00:15.000000Z",
        "2026-03-01T10:00:30.000000Z",
    ]


def test_a_sample_too_long_after_the_last_starts_over_instead_of_giving_a_long_window():
    record = record_of((T0, [seen("web", at=T0, cpu_seconds=1)]), (T0 + timedelta(minutes=5), []))
    assert len(record["samples"]) == 1
    assert node_usage(record) is None


def test_cpu_is_the_rate_between_two_samples_of_a_run_and_memory_the_newer_working_set():
    later = T0 + timedelta(seconds=15)
    record = record_of(
        (T0, [seen("web", at=T0, cpu_seconds=10, memory=5 * 2**20)]),
        (later, [seen("web", at=later, cpu_seconds=10.03, memory=6 * 2**20)]),
    )
    measured = pod_usages(record)["pod-a"]
    assert measured.containers == {"web": Usage(nanocores=2_000_000, memory_bytes=6 * 2**20)}
    assert (measured.at, measured.window) == (later, timedelta(seconds=15))


def test_each_container_is_timed_by_its_own_reading_and_the_pod_by_its_earliest():
    later = T0 + timedelta(seconds=15)
    record = record_of(
        (T0, [seen("a", at=T0, cpu_seconds=0), seen("b", at=T0 + timedelta(seconds=1), cpu_seconds=0)]),
        (later, [seen("a", at=later, cpu_seconds=1.5), seen("b", at=later + timedelta(seconds=1), cpu_seconds=3)]),
    )
    measured = pod_usages(record)["pod-a"]
    assert measured.containers["a"].nanocores == 100_000_000
    assert measured.containers["b"].nanocores == 200_000_000
    assert measured.at == later


def test_a_pod_is_left_out_until_every_running_container_has_a_rate():
    later = T0 + timedelta(seconds=15)
    record = record_of(
        (T0, [seen("web", at=T0, cpu_seconds=1)]),
        (later, [seen("web", at=later, cpu_seconds=2), seen("sidecar", at=later, cpu_seconds=0.1)]),
    )
    assert pod_usages(record) == {}


def test_a_restarted_container_has_no_rate_with_its_previous_run():
    later = T0 + timedelta(seconds=15)
    record = record_of(
        (T0, [seen("web", at=T0, cpu_seconds=30)]),
        (later, [seen("web", at=later, cpu_seconds=0.5, restart=1, started=T0 + timedelta(seconds=8))]),
    )
    assert pod_usages(record) == {}


def test_a_container_started_ten_to_fifteen_seconds_ago_is_measured_from_its_start():
    started = T0 - timedelta(seconds=12)
    record = record_of((T0, [seen("web", at=T0, cpu_seconds=0.6, started=started)]))
    measured = pod_usages(record)["pod-a"]
    assert measured.containers["web"].nanocores == 50_000_000
    assert measured.window == timedelta(seconds=12)


def test_a_container_younger_than_ten_seconds_is_not_measured_yet():
    record = record_of((T0, [seen("web", at=T0, cpu_seconds=0.1, started=T0 - timedelta(seconds=5))]))
    assert pod_usages(record) == {}


def test_a_node_uses_its_containers_and_its_own_system():
    later = T0 + timedelta(seconds=15)
    record = record_of(
        (T0, [seen("web", at=T0, cpu_seconds=0)]),
        (later, [seen("web", at=later, cpu_seconds=1.5), seen("new", at=later, cpu_seconds=0.1, pod="pod-b")]),
    )
    measured = node_usage(record)
    # The container seen once counts with its memory but, having no rate yet, no CPU.
    assert measured.usage == Usage(SYSTEM_NANOCORES + 100_000_000, SYSTEM_MEMORY_BYTES + 8 * 2**20)
    assert (measured.at, measured.window) == (later, timedelta(seconds=15))


def test_a_node_needs_two_samples():
    assert node_usage(record_of((T0, []))) is None
    assert node_usage(record_of((T0, []), (T0 + timedelta(seconds=15), []))).usage == Usage(
        SYSTEM_NANOCORES, SYSTEM_MEMORY_BYTES
    )


def test_the_kubelet_wakes_to_sample_only_while_someone_reads_metrics():
    record = record_of((T0, []))
    now = T0 + timedelta(seconds=3)
    assert usage_next_sample(record, wanted_until=None, now=now) is None
    assert usage_next_sample(record, wanted_until=now - timedelta(seconds=1), now=now) is None
    wanted = now + timedelta(minutes=10)
    assert usage_next_sample(record, wanted_until=wanted, now=now) == T0 + timedelta(seconds=15)
    # A sample that was due and not taken (the engine did not answer) is tried again shortly.
    assert usage_next_sample(record, wanted_until=wanted, now=T0 + timedelta(seconds=20)) == T0 + timedelta(seconds=25)


def test_a_record_whose_last_sample_is_old_is_not_served():
    record = record_of((T0, []))
    assert usage_fresh(record, now=T0 + timedelta(seconds=20))
    assert not usage_fresh(record, now=T0 + timedelta(minutes=1))
    assert not usage_fresh({}, now=T0)
