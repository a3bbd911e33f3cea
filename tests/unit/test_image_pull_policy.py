"""Which registries the Docker runtime may pull from (clusters.runtime.images.pull_allowed)."""

from clusters.runtime import images


def test_no_registry_is_allowed_by_default():
    assert not images.pull_allowed("python:3.12", ())
    assert not images.pull_allowed("registry.k8s.io/pause:3.10", ())


def test_docker_hub_is_named_docker_io_whatever_the_image_says():
    hub = ("docker.io",)
    assert images.pull_allowed("python:3.12", hub)
    assert images.pull_allowed("library/python", hub)
    assert images.pull_allowed("index.docker.io/bitnami/redis:7", ("registry-1.docker.io",))
    assert not images.pull_allowed("ghcr.io/someone/miner:1", hub)


def test_a_named_registry_or_any():
    assert images.pull_allowed("registry.k8s.io/hpa-example", ("registry.k8s.io",))
    assert not images.pull_allowed("registry.k8s.io.evil.example/x", ("registry.k8s.io",))
    assert images.pull_allowed("localhost:5000/app", ("*",))
