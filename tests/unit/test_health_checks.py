from datetime import UTC, datetime, timedelta

from tutor.health.checks import WorkerState, overall_status, worker_state

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_a_worker_with_a_recent_heartbeat_is_ok():
    assert worker_state(NOW - timedelta(seconds=5), now=NOW, stale_after=30) == WorkerState("ok", 5.0)


def test_a_heartbeat_exactly_at_the_limit_is_still_ok_and_older_is_stale():
    assert worker_state(NOW - timedelta(seconds=30), now=NOW, stale_after=30).state == "ok"
    assert worker_state(NOW - timedelta(seconds=30.5), now=NOW, stale_after=30) == WorkerState("stale", 30.5)


def test_no_heartbeat_at_all_means_the_worker_is_missing():
    assert worker_state(None, now=NOW, stale_after=30) == WorkerState("missing", None)


def test_a_heartbeat_from_a_clock_slightly_ahead_counts_as_age_zero():
    assert worker_state(NOW + timedelta(seconds=1), now=NOW, stale_after=30) == WorkerState("ok", 0.0)


def test_overall_status_is_ok_only_when_every_part_is():
    assert overall_status({"database": "ok", "worker": "ok"}) == "ok"
    assert overall_status({"database": "ok", "worker": "stale"}) == "degraded"
