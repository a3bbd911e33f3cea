"""make bench's gathering (bench/suite.py): the benchmarks' own figures under the suite's keys,
null where a benchmark did not run, and targets judged only on what was measured at their size."""

from bench import suite

DOCKER = {
    "apply_to_running_ms": {"p50": 600.0, "p99": 900.0, "n": 20},
    "raw_docker_run_ms": {"p50": 300.0, "p99": 400.0, "n": 20},
    "raw_pod_on_internal_network_ms": {"p50": 500.0, "p99": 700.0, "n": 20},
}


def test_every_key_is_there_and_null_when_its_benchmark_did_not_run():
    keys = suite.figures({})
    assert keys["sandbox_create_ms"] is None
    assert keys["api"] == {"write_ms": None, "list_1000_ms": None, "watch_delivery_ms": None}
    assert keys["simulated"] == {"apply_to_running_ms": None, "burst": None}
    assert keys["docker"]["floor_ratio"] is None
    assert keys["web"]["dashboard_50x20_ms"] is None
    assert keys["idle"] == {"worker_beat_cpu_pct": None, "memory_per_sandbox_kb": None}
    assert set(suite.targets(keys, {}, quick=False).values()) == {None}


def test_the_docker_ratios_compare_medians_measured_in_the_same_run():
    keys = suite.figures({"apply_docker": DOCKER})
    assert keys["docker"]["overhead_ratio"] == 2.0
    assert keys["docker"]["floor_ratio"] == 1.2
    assert keys["docker"]["raw_pod_floor_ms"] == {"p50": 500.0, "p99": 700.0, "n": 20}
    judged = suite.targets(keys, {"apply_docker": DOCKER}, quick=False)
    assert judged["docker_p50_le_1_2_x_raw_pod_floor"] is True
    assert judged["pod_start_p99_le_5_s_slo"] is True


def test_a_target_of_a_size_is_not_judged_on_a_smaller_quick_run():
    burst = {"pods": 200, "sandboxes": 10, "seconds_to_all_running": 3.0, "peak_memory_mb": 400.0}
    idle = {"sandboxes": 10, "cpu_percent_of_one_core": {"worker": 1.0, "beat": 0.5, "web": 3.0}}
    results = {"pod_burst": burst, "idle_cpu": idle}
    keys = suite.figures(results)
    assert keys["idle"]["worker_beat_cpu_pct"] == 1.5  # web is not counted
    assert keys["simulated"]["burst"] == {"pods": 200, "sandboxes": 10, "seconds": 3.0, "peak_memory_mb": 400.0}
    quick = suite.targets(keys, results, quick=True)
    assert quick["burst_1000_pods_50_sandboxes_le_10_s"] is None
    assert quick["idle_cpu_le_2_pct_with_50_sandboxes"] is None
    full = {**burst, "pods": 1000, "sandboxes": 50, "seconds_to_all_running": 12.5}
    judged = suite.targets(suite.figures({"pod_burst": full}), {"pod_burst": full}, quick=False)
    assert judged["burst_1000_pods_50_sandboxes_le_10_s"] is False


def test_the_plot_draws_each_runtime_measured_and_nothing_without_samples(tmp_path):
    path = tmp_path / "apply.png"
    assert not suite.plot({}, path)
    assert not path.exists()
    samples = {"apply_to_running_samples_ms": [80.0, 90.0, 120.0, 85.0]}
    assert suite.plot({"apply_simulated": samples, "apply_docker": {**DOCKER, **samples}}, path)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
