"""The teaching images: built from Debian's busybox-static with no registry, idempotently and fast,
and the one table that maps well-known image names onto them."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import pytest

from clusters.runtime import images
from clusters.runtime.docker import engine_client
from clusters.runtime.images import build
from tests import services

pytestmark = pytest.mark.docker


@pytest.fixture
def built_from_scratch():
    """Every teaching image under a tag of this test's own, built from nothing, then removed (the
    :latest images that pods run are left alone)."""
    services.docker_engine()
    client = engine_client()
    tag = f"test-{uuid.uuid4().hex[:8]}"
    began = time.monotonic()
    try:
        result = build.images_build(client, tag=tag)
        yield client, tag, result, time.monotonic() - began
    finally:
        for image in (images.PROXY, images.WEB, images.PAUSE, images.BUSYBOX):  # children first
            name = build.retagged(image, tag)
            if client.api.images(name=name):
                client.api.remove_image(name)
        client.close()


def run(client, image: str, command: list[str]) -> str:
    output = client.containers.run(image, command, remove=True, init=True, network_mode="none", cap_drop=["ALL"])
    return output.decode()


def test_every_image_builds_from_nothing(built_from_scratch):
    _, tag, result, seconds = built_from_scratch

    assert [(image.name, image.built) for image in result] == [
        (f"kube-tutor/busybox:{tag}", True),
        (f"kube-tutor/pause:{tag}", True),
        (f"kube-tutor/web:{tag}", True),
        (f"kube-tutor/proxy:{tag}", True),
        (f"kube-tutor/hpa-example:{tag}", True),
    ]
    print(f"\nevery image built from nothing in {seconds:.1f} s")


def test_building_again_changes_nothing(built_from_scratch):
    client, tag, first, _ = built_from_scratch

    again = build.images_build(client, tag=tag)

    assert [(image.image_id, image.built) for image in again] == [(image.image_id, False) for image in first]


def test_the_busybox_image_has_every_applet_users_and_a_bash(built_from_scratch):
    client, tag, _, _ = built_from_scratch
    script = "which wget nc httpd sleep; cat /etc/passwd | cut -d: -f1 | tr '\\n' ' '; echo; bash -c 'echo $0'"

    output = run(client, f"kube-tutor/busybox:{tag}", ["sh", "-c", script])

    assert output.splitlines() == [
        "/usr/bin/wget",
        "/usr/bin/nc",
        "/usr/sbin/httpd",
        "/bin/sleep",
        "root daemon www-data nobody ",
        "/bin/sh",
    ]


def test_the_busybox_image_has_a_printenv(built_from_scratch):
    client, tag, _, _ = built_from_scratch
    script = "FOO='a b' printenv FOO; printenv MISSING; echo $?; printenv | grep -c '^FOO=' || true"

    assert run(client, f"kube-tutor/busybox:{tag}", ["sh", "-c", script]).splitlines() == ["a b", "1", "0"]


def test_the_web_image_answers_with_its_hostname(built_from_scratch):
    client, tag, _, _ = built_from_scratch
    script = "kube-tutor-web >/dev/null & sleep 0.3; timeout 3 wget -qO- http://127.0.0.1/"

    output = client.containers.run(
        f"kube-tutor/web:{tag}", ["sh", "-c", script], remove=True, init=True, hostname="web-7d9f", network_mode="none"
    ).decode()

    assert "Hello from web-7d9f" in output


def test_recipes_are_deterministic_and_follow_the_busybox_binary():
    applets = ["bin/sh", "usr/bin/wget"]

    assert build.rootfs_tar(b"binary", applets) == build.rootfs_tar(b"binary", applets)
    assert build.recipe_hash(b"one") != build.recipe_hash(b"two")


def test_only_a_static_busybox_is_accepted():
    assert build.elf_is_static(build.busybox_find().read_bytes())
    assert not build.elf_is_static(Path(sys.executable).resolve().read_bytes()[:65536])
    assert not build.elf_is_static(b"#!/bin/sh\n")


@pytest.mark.parametrize(
    ("reference", "stand_in"),
    [
        ("nginx", images.WEB),
        ("nginx:1.25-alpine", images.WEB),
        ("docker.io/library/nginx:latest", images.WEB),
        ("httpd:2.4", images.WEB),
        ("busybox@sha256:" + "0" * 64, images.BUSYBOX),
        ("alpine:3.19", images.BUSYBOX),
        ("library/debian:12", images.BUSYBOX),
        ("ubuntu", images.BUSYBOX),
        ("nginxx", None),
        ("ghcr.io/someone/nginx:1", None),
        ("bitnami/nginx", None),
        ("localhost:5000/busybox", None),
        ("redis:7", None),
    ],
)
def test_only_docker_hubs_official_names_are_stood_in_for(reference, stand_in):
    assert images.stand_in_for(reference) == stand_in


def test_image_references_split_into_registry_repository_and_tag():
    assert images.image_reference_split("localhost:5000/team/app:1.2") == ("localhost:5000", "team/app", "1.2")
    assert images.image_reference_split("nginx") == ("", "nginx", "latest")
    assert images.image_reference_split("index.docker.io/library/redis@sha256:ab") == ("", "redis", "sha256:ab")
