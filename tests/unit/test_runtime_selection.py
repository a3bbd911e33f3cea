from clusters.runtime.selection import RuntimeStatus, runtime_choose

UP = (True, "Docker engine 20.10.24")
DOWN = (False, "no Docker engine: connection refused")


def test_auto_picks_docker_when_the_engine_answers():
    assert runtime_choose("auto", UP) == RuntimeStatus("docker", "ok", "Docker engine 20.10.24")


def test_auto_falls_back_to_the_simulated_runtime_and_says_why():
    status = runtime_choose("auto", DOWN)
    assert (status.kind, status.state) == ("simulated", "ok")
    assert "connection refused" in status.detail


def test_docker_asked_for_but_absent_is_reported_unavailable_not_silently_simulated():
    assert runtime_choose("docker", DOWN) == RuntimeStatus("docker", "unavailable", DOWN[1])


def test_simulated_is_used_even_when_docker_answers():
    assert runtime_choose("simulated", UP).kind == "simulated"
