"""The growth curve's reading of linearity (bench/growth.py): marginal cost step to step."""

from bench.growth import linearity


def point(pods: int, seconds: float, worker_ms: float = 7.0, tasks: float = 0.2) -> dict:
    return {"pods": pods, "seconds": seconds, "cpu_ms_per_pod": {"worker": worker_ms}, "worker_tasks_per_pod": tasks}


def test_a_curve_whose_steps_stay_within_a_quarter_of_the_first_is_linear_to_its_end():
    points = [point(100, 0.86), point(500, 3.09), point(1000, 6.04), point(2000, 12.11), point(5000, 31.83)]
    answer = linearity(points)
    assert [step["seconds_per_1000_more"] for step in answer["steps"]] == [5.6, 5.9, 6.1, 6.6]
    assert answer["linear_up_to_pods"] == 5000
    assert "cpu_ms_per_pod_there" not in answer


def test_the_first_step_dearer_by_more_than_a_quarter_ends_the_linear_part_and_says_what_grew_there():
    points = [
        point(100, 1.0),
        point(500, 4.0),  # 7.5 s per 1,000 more
        point(1000, 8.0),  # 8.0: within 25 %
        point(2000, 18.0, worker_ms=9.0, tasks=0.4),  # 10.0: over 9.375
    ]
    answer = linearity(points)
    assert answer["linear_up_to_pods"] == 1000
    assert answer["cpu_ms_per_pod_there"] == {"worker": [7.0, 9.0]}
    assert answer["worker_tasks_per_pod_there"] == [0.2, 0.4]


def test_a_size_that_did_not_finish_ends_the_steps_there():
    answer = linearity([point(100, 1.0), point(500, 4.0), {**point(1000, 0), "seconds": None}])
    assert [step["to_pods"] for step in answer["steps"]] == [500]
    assert answer["linear_up_to_pods"] == 500
