"""Builds the teaching images on this machine, with no registry, idempotently.

kube-tutor/busybox is a root filesystem made here from Debian's busybox-static (the binary, one
symlink per applet, /etc/passwd and /etc/group) and imported as an image; the others are small
Dockerfiles FROM it that only COPY files, so nothing runs while building. Each image is labelled
with the hash of its recipe (the busybox binary included): an image whose label matches is left as
it is, so building again costs one hash and one inspect per image.

    .venv/bin/python -m clusters.runtime.images.build
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clusters.runtime.images import BUSYBOX, HPA_EXAMPLE, PAUSE, PROXY, WEB

HERE = Path(__file__).resolve().parent
BUSYBOX_PATHS = (Path("/bin/busybox"), Path("/usr/bin/busybox"))
RECIPE_LABEL = "kube-tutor.recipe"
ROOTFS_VERSION = b"rootfs 2"  # change whenever rootfs_tar() makes something different
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

USERS = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""
GROUPS = """\
root:x:0:
daemon:x:1:
www-data:x:33:
nogroup:x:65534:
"""
# Many manifests start `bash -c …`: busybox has no bash, but its sh runs what such one-liners use.
BASH_WRAPPER = '#!/bin/sh\n# kube-tutor/busybox has no bash: busybox sh stands in for it.\nexec /bin/sh "$@"\n'
# Debian's busybox-static has no printenv applet; the documentation's examples call it.
PRINTENV = """\
#!/bin/sh
# printenv [NAME...]: the environment, or each NAME's value; exit 1 when one is unset.
[ "$#" -eq 0 ] && exec env
status=0
for name in "$@"; do
  awk -v name="$name" 'BEGIN { if (name in ENVIRON) { print ENVIRON[name]; exit 0 } exit 1 }' || status=1
done
exit "$status"
"""
DIRECTORIES = {
    "bin": 0o755,
    "sbin": 0o755,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "usr/local": 0o755,
    "usr/local/bin": 0o755,
    "etc": 0o755,
    "root": 0o700,
    "home": 0o755,
    "tmp": 0o1777,
    "var": 0o755,
    "var/tmp": 0o1777,
    "var/log": 0o755,
    "var/www": 0o755,
    "run": 0o755,
    "proc": 0o555,
    "sys": 0o555,
    "dev": 0o755,
}


class ImageBuildError(Exception):
    """A teaching image could not be built (no busybox-static, or the engine refused)."""


@dataclass(frozen=True)
class Recipe:
    image: str
    directory: Path  # a Dockerfile FROM kube-tutor/busybox and the files it copies


RECIPES = (
    Recipe(PAUSE, HERE / "pause"),
    Recipe(WEB, HERE / "web"),
    Recipe(PROXY, HERE.parent / "proxy"),
    Recipe(HPA_EXAMPLE, HERE / "hpa-example"),
)


@dataclass(frozen=True)
class BuiltImage:
    name: str
    image_id: str
    built: bool  # False when the image was already up to date
    seconds: float


def busybox_find() -> Path:
    for path in BUSYBOX_PATHS:
        if path.is_file():
            return path
    raise ImageBuildError("no /bin/busybox: install Debian's busybox-static (apt-get install busybox-static)")


def elf_is_static(data: bytes) -> bool:
    """Whether an ELF64 little-endian executable has no program interpreter (PT_INTERP)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return False
    phoff = int.from_bytes(data[0x20:0x28], "little")
    phentsize = int.from_bytes(data[0x36:0x38], "little")
    phnum = int.from_bytes(data[0x38:0x3A], "little")
    for index in range(phnum):
        start = phoff + index * phentsize
        if int.from_bytes(data[start : start + 4], "little") == 3:  # PT_INTERP
            return False
    return True


def busybox_applets(busybox: Path) -> list[str]:
    """Where each applet lives (`usr/bin/wget`, …), as the binary itself lists them."""
    listed = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True, check=True, timeout=10)  # noqa: S603
    return sorted({line.strip().lstrip("/") for line in listed.stdout.splitlines() if line.strip()})


def _tar_add(archive: tarfile.TarFile, name: str, *, data: bytes | None = None, mode: int = 0o644, link: str = ""):
    info = tarfile.TarInfo(name)
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mtime = 0  # the same inputs make the same bytes
    info.mode = mode
    if link:
        info.type = tarfile.SYMTYPE
        info.linkname = link
        archive.addfile(info)
    elif data is None:
        info.type = tarfile.DIRTYPE
        archive.addfile(info)
    else:
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def rootfs_tar(busybox: bytes, applets: list[str]) -> bytes:
    """The root filesystem of kube-tutor/busybox as a tar archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for directory, mode in DIRECTORIES.items():
            _tar_add(archive, directory, mode=mode)
        _tar_add(archive, "bin/busybox", data=busybox, mode=0o755)
        for applet in applets:
            if applet != "bin/busybox":
                _tar_add(archive, applet, link="/bin/busybox", mode=0o777)
        _tar_add(archive, "bin/bash", data=BASH_WRAPPER.encode(), mode=0o755)
        if "usr/bin/printenv" not in applets:
            _tar_add(archive, "usr/bin/printenv", data=PRINTENV.encode(), mode=0o755)
        _tar_add(archive, "etc/passwd", data=USERS.encode())
        _tar_add(archive, "etc/group", data=GROUPS.encode())
        _tar_add(archive, "etc/nsswitch.conf", data=b"hosts: files dns\n")
    return buffer.getvalue()


def context_tar(directory: Path) -> bytes:
    """A build context of every file in `directory` (scripts keep their executable bit)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(directory.iterdir()):
            if path.is_file():
                _tar_add(
                    archive, path.name, data=path.read_bytes(), mode=0o755 if path.stat().st_mode & 0o111 else 0o644
                )
    return buffer.getvalue()


def recipe_hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:20]


def _labelled_hash(client: Any, name: str) -> str | None:
    """The recipe hash on the local image `name`, or None when there is no such image."""
    from clusters.runtime.docker import image_labels

    labels = image_labels(client, name)
    return None if labels is None else labels.get(RECIPE_LABEL, "")


_build_lock = threading.Lock()


def retagged(image: str, tag: str) -> str:
    return f"{image.rpartition(':')[0]}:{tag}"


def images_build(client: Any = None, *, tag: str = "latest") -> list[BuiltImage]:
    """Build every teaching image that is missing or out of date; return what each one is.

    `tag` builds a separate set (kube-tutor/busybox:TAG, …): tests build one from scratch
    without touching the images that running pods use."""
    from clusters.runtime import docker as engine

    client = client or engine.engine_client()
    with _build_lock:
        busybox_path = busybox_find()
        busybox = busybox_path.read_bytes()
        if not elf_is_static(busybox):
            raise ImageBuildError(f"{busybox_path} is not statically linked: install Debian's busybox-static")
        base, base_hash = retagged(BUSYBOX, tag), recipe_hash(ROOTFS_VERSION, busybox)
        results = []
        started = time.monotonic()
        if _labelled_hash(client, base) == base_hash:
            results.append(BuiltImage(base, engine.image_id(client, base), False, time.monotonic() - started))
        else:
            rootfs = rootfs_tar(busybox, busybox_applets(busybox_path))
            changes = [f"ENV PATH={PATH}", 'CMD ["/bin/sh"]', f"LABEL {RECIPE_LABEL}={base_hash}"]
            image = engine.image_import(client, rootfs, base, changes=changes)
            results.append(BuiltImage(base, image, True, time.monotonic() - started))
        for recipe in RECIPES:
            started = time.monotonic()
            name = retagged(recipe.image, tag)
            context = context_tar(recipe.directory)
            wanted = recipe_hash(base_hash.encode(), context)
            if _labelled_hash(client, name) == wanted:
                results.append(BuiltImage(name, engine.image_id(client, name), False, time.monotonic() - started))
                continue
            image = engine.image_build(client, context, name, labels={RECIPE_LABEL: wanted}, build_args={"BASE": base})
            results.append(BuiltImage(name, image, True, time.monotonic() - started))
        return results


def main() -> None:
    for image in images_build():
        state = f"built in {image.seconds:.2f} s" if image.built else "up to date"
        print(f"{image.name}  {image.image_id[:19]}  {state}")


if __name__ == "__main__":
    main()
