from clusters.objects.limit_range import ANNOTATION, pod_with_defaults, refusal


def limit_range(*items):
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits"}, "spec": {"limits": list(items)}}


def pod(*containers, init=(), **spec):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"containers": list(containers), "initContainers": list(init), **spec},
    }


def container(name="main", requests=None, limits=None):
    resources = {}
    if requests is not None:
        resources["requests"] = requests
    if limits is not None:
        resources["limits"] = limits
    return {"name": name, "image": "nginx", "resources": resources}


MEMORY_DEFAULTS = limit_range(
    {"type": "Container", "default": {"memory": "512Mi"}, "defaultRequest": {"memory": "256Mi"}}
)


# --- defaults ---------------------------------------------------------------------------------


def test_a_container_without_resources_gets_the_default_limit_and_request():
    defaulted = pod_with_defaults(pod(container()), [MEMORY_DEFAULTS])
    assert defaulted["spec"]["containers"][0]["resources"] == {
        "limits": {"memory": "512Mi"},
        "requests": {"memory": "256Mi"},
    }
    assert defaulted["metadata"]["annotations"][ANNOTATION] == (
        "LimitRanger plugin set: memory request for container main; memory limit for container main"
    )


def test_defaults_fill_only_what_a_container_leaves_out_and_init_containers_get_them_too():
    ranges = [
        limit_range(
            {
                "type": "Container",
                "default": {"cpu": "500m", "memory": "512Mi"},
                "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
            }
        )
    ]
    given = pod(
        container("app", requests={"cpu": "250m"}, limits={"cpu": "1"}),
        init=[container("setup", limits={"memory": "1Gi"}, requests={"memory": "1Gi"})],
    )
    defaulted = pod_with_defaults(given, ranges)
    assert defaulted["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    }
    assert defaulted["spec"]["initContainers"][0]["resources"] == {
        "limits": {"memory": "1Gi", "cpu": "500m"},
        "requests": {"memory": "1Gi", "cpu": "100m"},
    }
    assert defaulted["metadata"]["annotations"][ANNOTATION] == (
        "LimitRanger plugin set: memory request for container app; memory limit for container app; "
        "cpu request for init container setup; cpu limit for init container setup"
    )
    assert "annotations" not in given["metadata"]  # the argument is left as it was


def test_a_pod_that_sets_everything_is_not_annotated():
    given = pod(container(requests={"memory": "1Gi"}, limits={"memory": "1Gi"}))
    assert pod_with_defaults(given, [MEMORY_DEFAULTS]) == given


def test_an_earlier_limit_range_default_wins():
    other = limit_range({"type": "Container", "default": {"memory": "1Gi"}, "defaultRequest": {"memory": "1Gi"}})
    defaulted = pod_with_defaults(pod(container()), [MEMORY_DEFAULTS, other])
    assert defaulted["spec"]["containers"][0]["resources"]["limits"] == {"memory": "512Mi"}


# --- bounds -----------------------------------------------------------------------------------

CPU_MIN_MAX = limit_range({"type": "Container", "max": {"cpu": "800m"}, "min": {"cpu": "200m"}})


def test_a_limit_over_the_container_maximum_is_refused_in_upstreams_words():
    over = pod(container(requests={"cpu": "500m"}, limits={"cpu": "1500m"}))
    assert refusal("Pod", over, [CPU_MIN_MAX]) == "maximum cpu usage per Container is 800m, but limit is 1500m"


def test_a_pod_within_the_bounds_is_admitted():
    assert refusal("Pod", pod(container(requests={"cpu": "500m"}, limits={"cpu": "800m"})), [CPU_MIN_MAX]) is None


def test_a_missing_request_or_limit_is_named_with_upstreams_two_spaces():
    assert refusal("Pod", pod(container(limits={"cpu": "500m"})), [CPU_MIN_MAX]) == (
        "minimum cpu usage per Container is 200m.  No request is specified"
    )
    assert refusal("Pod", pod(container(requests={"cpu": "500m"})), [CPU_MIN_MAX]) == (
        "maximum cpu usage per Container is 800m.  No limit is specified"
    )


def test_several_problems_are_listed_in_brackets_and_a_repeat_once():
    ranges = [
        limit_range({"type": "Container", "max": {"cpu": "800m"}, "min": {"memory": "1Gi"}}),
    ]
    two = pod(
        container("a", requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "1500m", "memory": "1Gi"}),
        container("b", requests={"cpu": "1", "memory": "500Mi"}, limits={"cpu": "1500m", "memory": "1Gi"}),
    )
    # Container by container, min before max; b's cpu says what a's said, and is said once.
    assert refusal("Pod", two, ranges) == (
        "[maximum cpu usage per Container is 800m, but limit is 1500m, "
        "minimum memory usage per Container is 1Gi, but request is 500Mi]"
    )


def test_the_limit_to_request_ratio_is_printed_as_go_prints_a_float():
    ranges = [limit_range({"type": "Container", "maxLimitRequestRatio": {"memory": "2"}})]
    greedy = pod(container(requests={"memory": "100Mi"}, limits={"memory": "300Mi"}))
    assert refusal("Pod", greedy, ranges) == (
        "memory max limit to request ratio per Container is 2, but provided ratio is 3.000000"
    )
    assert refusal("Pod", pod(container(limits={"memory": "300Mi"})), ranges) == (
        "memory max limit to request ratio per Container is 2, but no request is specified or request is 0"
    )


def test_a_pod_item_bounds_the_sum_of_its_containers():
    ranges = [limit_range({"type": "Pod", "max": {"memory": "1Gi"}})]
    pair = pod(
        container("a", requests={"memory": "600Mi"}, limits={"memory": "600Mi"}),
        container("b", requests={"memory": "600Mi"}, limits={"memory": "600Mi"}),
    )
    assert refusal("Pod", pair, ranges) == "maximum memory usage per Pod is 1Gi, but limit is 1200Mi"


def test_a_claim_is_bounded_by_what_it_requests():
    ranges = [limit_range({"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "2Gi"}})]

    def claim(size):
        return {"kind": "PersistentVolumeClaim", "spec": {"resources": {"requests": {"storage": size}}}}

    assert refusal("PersistentVolumeClaim", claim("500Mi"), ranges) == (
        "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"
    )
    assert refusal("PersistentVolumeClaim", claim("5Gi"), ranges) == (
        "maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi"
    )
    assert refusal("PersistentVolumeClaim", claim("1Gi"), ranges) is None


def test_the_first_limit_range_that_refuses_is_the_one_reported():
    strict = limit_range({"type": "Container", "max": {"cpu": "100m"}})
    over = pod(container(requests={"cpu": "500m"}, limits={"cpu": "1500m"}))
    assert refusal("Pod", over, [CPU_MIN_MAX, strict]) == "maximum cpu usage per Container is 800m, but limit is 1500m"


def test_other_kinds_are_not_bounded():
    assert refusal("Service", {"spec": {}}, [CPU_MIN_MAX]) is None
