"""The teaching images, built on this machine from Debian's busybox-static (see build.py), and the one
table that lets well-known image names run without a registry.

Docker Hub's official images are stood in for by repository name: `nginx`, `nginx:1.25-alpine`
and `docker.io/library/nginx@sha256:…` all become kube-tutor/web, while a typo such as `nginxx` or
another registry's `ghcr.io/x/nginx` is not mapped and fails to pull, as it would on a real cluster.
A few images of other registries that the documentation's tutorials run are stood in for by their
full name (`REGISTRY_STAND_INS`).
"""

from __future__ import annotations

BUSYBOX = "kube-tutor/busybox:latest"
PAUSE = "kube-tutor/pause:latest"
WEB = "kube-tutor/web:latest"
PROXY = "kube-tutor/proxy:latest"
HPA_EXAMPLE = "kube-tutor/hpa-example:latest"

# Docker Hub repository → local stand-in. kube-tutor/web listens on port 80 like nginx and httpd;
# kube-tutor/busybox has every busybox applet plus /bin/bash (a wrapper around busybox sh).
STAND_INS: dict[str, str] = {
    "nginx": WEB,
    "httpd": WEB,
    "busybox": BUSYBOX,
    "alpine": BUSYBOX,
    "debian": BUSYBOX,
    "ubuntu": BUSYBOX,
}

# registry/repository → local stand-in: the HorizontalPodAutoscaler walkthrough's CPU-heavy page.
REGISTRY_STAND_INS: dict[str, str] = {
    "registry.k8s.io/hpa-example": HPA_EXAMPLE,
    "k8s.gcr.io/hpa-example": HPA_EXAMPLE,
}

DOCKER_HUB_NAMES = ("docker.io", "index.docker.io", "registry-1.docker.io")


def image_reference_split(reference: str) -> tuple[str, str, str]:
    """`registry/path/name:tag@digest` → (registry, repository path, tag or digest); Docker Hub's
    registry and `library/` prefix are dropped, and the tag defaults to `latest`."""
    name, _, digest = reference.partition("@")
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    registry = ""
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    if registry in DOCKER_HUB_NAMES:
        registry = ""
    if not registry and name.startswith("library/"):
        name = name.removeprefix("library/")
    return registry, name, digest or tag or "latest"


def pull_allowed(reference: str, registries: tuple[str, ...]) -> bool:
    """Whether the site lets the runtime pull `reference` from its registry: `registries` names
    the allowed ones (`docker.io` for Docker Hub, `*` for any); empty allows none."""
    registry = image_reference_split(reference)[0] or "docker.io"
    allowed = {"docker.io" if name in DOCKER_HUB_NAMES else name for name in registries}
    return "*" in allowed or registry in allowed


def stand_in_for(reference: str) -> str | None:
    """The local teaching image that stands in for `reference`, or None when none does."""
    registry, repository, _ = image_reference_split(reference)
    if registry:
        return REGISTRY_STAND_INS.get(f"{registry}/{repository}")
    return STAND_INS.get(repository)
