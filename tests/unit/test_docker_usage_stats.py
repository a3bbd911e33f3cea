"""What the Docker runtime reads from one answer of the engine's stats: CPU time, and the memory
working set as cAdvisor computes it (the engine's own `docker stats` figure differs)."""

from datetime import UTC, datetime

from clusters.runtime.docker import DockerRuntime

READ = "2026-12-04T20:31:07.656673651Z"


def stats(memory: dict, total_usage: int = 1_599_640_131) -> dict:
    return {"read": READ, "cpu_stats": {"cpu_usage": {"total_usage": total_usage}}, "memory_stats": memory}


def test_on_cgroup_v1_the_working_set_is_usage_less_the_hierarchys_inactive_file_pages():
    memory = {"usage": 1_036_288, "stats": {"inactive_file": 1, "total_inactive_file": 458_752}}
    cpu, working_set, at = DockerRuntime._usage_of_stats(stats(memory))
    assert (cpu, working_set) == (1_599_640_131, 577_536)
    assert at == datetime(2026, 12, 4, 20, 31, 7, 656673, tzinfo=UTC)


def test_on_cgroup_v2_the_working_set_is_usage_less_inactive_file_pages():
    memory = {"usage": 8 * 2**20, "stats": {"inactive_file": 2 * 2**20, "anon": 5 * 2**20}}
    assert DockerRuntime._usage_of_stats(stats(memory))[1] == 6 * 2**20


def test_the_working_set_is_never_below_zero():
    memory = {"usage": 4096, "stats": {"inactive_file": 8192}}
    assert DockerRuntime._usage_of_stats(stats(memory))[1] == 0


def test_a_container_that_no_longer_runs_reports_nothing():
    assert DockerRuntime._usage_of_stats(stats({}, total_usage=0)) is None
    assert DockerRuntime._usage_of_stats({**stats({"usage": 1}), "read": "0001-01-01T00:00:00Z"}) is None
