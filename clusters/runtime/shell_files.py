"""The files of a simulated container: what each kind of image holds and runs (its OS's
programs, its base directories), a container's files as a file system over the image's layer, and
file contents in the form the runtime's JSON state keeps them."""

from __future__ import annotations

import base64
import posixpath
import re
from collections.abc import Callable

from clusters.runtime import catalog

# -- what each kind of image has ---------------------------------------------------------------

SHELL_BUILTINS = {
    "cd", "export", "unset", "set", "read", "exit", "trap", "wait", "ulimit", "umask", ".", "source", "eval",
    "exec", "shift", "local", "return", "type", "command", "break", "continue", ":", "alias", "readonly", "hash",
    "let", "echo", "printf", "test", "[", "[[", "true", "false", "pwd", "kill",
}  # fmt: skip
APPLETS = {
    "echo", "printf", "sleep", "true", "false", "cat", "tac", "touch", "rm", "rmdir", "mkdir", "date", "hostname",
    "env", "printenv", "ls", "tail", "head", "test", "[", "[[", "seq", "yes", "grep", "egrep", "fgrep", "wc", "rev",
    "sort", "uniq", "tr", "cut", "sed", "awk", "expr", "id", "whoami", "groups", "uname", "pwd", "basename",
    "dirname", "xargs", "tee", "find", "md5sum", "sha1sum", "sha256sum", "sha512sum", "base64", "cp", "mv", "ln",
    "chmod", "chown", "ps", "kill", "killall", "pidof", "which", "timeout", "nslookup", "wget", "tar", "gzip",
    "gunzip", "zcat", "stat", "nproc", "mktemp", "readlink", "realpath", "nl", "fold", "sh", "ash", "bash", "stty",
    "tty", "clear", "uptime", "free", "du", "sync", "ping", "nc",
}  # fmt: skip
# Debian's base image: coreutils, grep, sed, mawk, findutils, tar, gzip, bash and dash; no procps,
# no network tools, no rev (bsdextrautils).
DEBIAN_MISSING = {"wget", "nslookup", "ps", "killall", "pidof", "rev", "ping", "nc", "ash", "free", "uptime"}
OS_PROGRAMS: dict[str, set[str]] = {
    "busybox": APPLETS,
    "alpine": APPLETS,
    "debian": APPLETS - DEBIAN_MISSING,
    "distroless": set(),
    "scratch": set(),
}
RUNTIMES = {  # program → the interpreter that runs it
    "python": "python", "python3": "python", "perl": "perl", "node": "node", "ruby": "ruby", "irb": "ruby",
    "java": "java", "javac": "java", "jshell": "java", "go": "go",
}  # fmt: skip
BASE_DIRECTORIES = {
    "busybox": ("bin", "dev", "etc", "home", "lib", "proc", "root", "sys", "tmp", "usr", "var"),
    "alpine": ("bin", "dev", "etc", "home", "lib", "media", "mnt", "opt", "proc", "root", "run", "sbin", "srv",
               "sys", "tmp", "usr", "var"),
    "debian": ("bin", "boot", "dev", "etc", "home", "lib", "lib64", "media", "mnt", "opt", "proc", "root", "run",
               "sbin", "srv", "sys", "tmp", "usr", "var"),
    "distroless": ("dev", "etc", "proc", "sys", "tmp"),
    "scratch": ("dev", "etc", "proc", "sys"),
}  # fmt: skip
OS_RELEASE = {
    "alpine": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.21.0\nPRETTY_NAME="Alpine Linux v3.21"\n',
    "debian": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
}
# /etc/passwd, which holds no password ("x")
USERS = (
    "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "nobody:x:65534:65534:nobody:/home:/bin/false\n"
)
GROUP = "root:x:0:\ndaemon:x:1:\nwheel:x:10:root\nnogroup:x:65534:\n"


def os_of(entry: dict) -> str:
    return entry.get("os", "debian")


def programs_of(entry: dict) -> set[str]:
    """What is on the image's PATH: its OS's tools, its servers and clients, its extra programs."""
    names = set(OS_PROGRAMS.get(os_of(entry), APPLETS))
    names |= {name.rsplit("/", 1)[-1] for name in entry.get("servers", ())}
    names |= set(entry.get("exec_ok", {})) | set(entry.get("programs", ())) | set(entry.get("runtimes", ()))
    return names


def program_exists(argv0: str, entry: dict, files: dict[str, str] | None = None) -> bool:
    """Whether `argv0` can be exec'ed in the image (what runc checks before the process starts)."""
    name = argv0.rsplit("/", 1)[-1]
    if name in programs_of(entry) or catalog.is_server(entry, [argv0]):
        return True
    if entry.get("wrapper") and name == entry["wrapper"]["script"]:
        return True
    return "/" in argv0 and files is not None and argv0 in files


def image_layer(entry: dict) -> dict[str, str]:
    """The files of the image itself, as the container sees them before it writes anything."""
    kind = os_of(entry)
    files = {f"/{name}/": "" for name in BASE_DIRECTORIES.get(kind, BASE_DIRECTORIES["debian"])}
    files |= {"/dev/null": "", "/dev/zero": "", "/dev/random": "", "/dev/urandom": ""}
    if kind not in ("scratch",):
        files |= {"/etc/passwd": USERS, "/etc/group": GROUP}
    if kind in OS_RELEASE:
        files["/etc/os-release"] = OS_RELEASE[kind]
    if kind == "alpine":
        files["/etc/alpine-release"] = "3.21.0\n"
    if kind == "debian":
        files["/etc/debian_version"] = "12.8\n"
    files |= entry.get("files", {})
    return files


# ---------------------------------------------------------------------------------------------
# File contents as the runtime's JSON state keeps them
# ---------------------------------------------------------------------------------------------

_BINARY_MARK = "\ufdd0base64:"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff\ufdd0]")


def file_encode(text: str) -> str:
    """A file's content for JSON (and PostgreSQL's jsonb, which refuses NUL and lone surrogates):
    text as it is, anything else (bytes that are not UTF-8, NUL) as base64 behind a marker that no
    text file starts with (U+FDD0 is a Unicode noncharacter, reserved for such internal use)."""
    if not _UNSTORABLE.search(text):
        return text
    return _BINARY_MARK + base64.b64encode(text.encode("utf-8", "surrogateescape")).decode()


def file_decode(stored: str) -> str:
    if stored.startswith(_BINARY_MARK):
        return base64.b64decode(stored[len(_BINARY_MARK) :]).decode("utf-8", "surrogateescape")
    return stored


def text_of(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def bytes_of(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


DEVICES = {"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/stdout", "/dev/stderr", "/dev/tty"}


class FileSystem:
    """A container's files: the image's layer (read-only, never stored) under the container's own
    files (writes, volumes, ConfigMaps). Paths are absolute; a key ending in "/" is a directory."""

    def __init__(
        self,
        files: dict[str, str],
        *,
        base: dict[str, str] | None = None,
        read_only: tuple[str, ...] = (),
        on_change: Callable[[str, str | None, bool], None] | None = None,
    ) -> None:
        self.files = {path: file_decode(text) for path, text in files.items()}
        self.base = base or {}
        self.read_only = read_only
        self.on_change = on_change

    def read(self, path: str) -> str | None:
        if path in self.files:
            return self.files[path]
        return self.base.get(path) if not path.endswith("/") else None

    def is_dir(self, path: str) -> bool:
        if path == "/":
            return True
        prefix = path.rstrip("/") + "/"
        return any(key.startswith(prefix) for key in self.files) or any(key.startswith(prefix) for key in self.base)

    def is_file(self, path: str) -> bool:
        return self.read(path) is not None

    def exists(self, path: str) -> bool:
        return self.is_file(path) or self.is_dir(path)

    def readonly(self, path: str) -> bool:
        return any(path == base or path.startswith(base.rstrip("/") + "/") for base in self.read_only)

    def write(self, path: str, text: str, *, append: bool = False) -> str | None:
        """Write (or append to) a file; the reason it cannot be written, as a shell says it."""
        if path in DEVICES:
            return None
        if self.is_dir(path):
            return "Is a directory"
        if self.readonly(path):
            return "Read-only file system"
        parent = posixpath.dirname(path)
        if not self.is_dir(parent):
            return "nonexistent directory"
        old = self.read(path)
        self.files[path] = (old or "") + text if append else text
        if self.on_change:
            self.on_change(path, text if append and old is not None else self.files[path], append and old is not None)
        return None

    def inject(self, path: str, text: str | None) -> None:
        """A write from outside (an exec, replayed): no effect of this shell's own."""
        if text is None:
            self.files.pop(path, None)
        else:
            self.files[path] = file_decode(text)

    def remove(self, path: str) -> str | None:
        if self.readonly(path):
            return "Read-only file system"
        if path in self.files:
            del self.files[path]
            if self.on_change:
                self.on_change(path, None, False)
            return None
        return "No such file or directory" if path not in self.base else "Read-only file system"

    def mkdir(self, path: str) -> str | None:
        if self.exists(path):
            return "File exists"
        if self.readonly(path):
            return "Read-only file system"
        if not self.is_dir(posixpath.dirname(path)):
            return "No such file or directory"
        self.files[path.rstrip("/") + "/"] = ""
        if self.on_change:
            self.on_change(path.rstrip("/") + "/", "", False)
        return None

    def listdir(self, path: str) -> list[str]:
        prefix = "/" if path == "/" else path.rstrip("/") + "/"
        names = set()
        for key in (*self.files, *self.base):
            if key.startswith(prefix) and key != prefix:
                names.add(key[len(prefix) :].split("/", 1)[0])
        return sorted(names)

    def walk(self, path: str) -> list[str]:
        """Every file and directory under `path` (directories end in "/"), sorted."""
        prefix = "/" if path == "/" else path.rstrip("/") + "/"
        found = set()
        for key in (*self.files, *self.base):
            if key.startswith(prefix) and key != prefix:
                parts = key[len(prefix) :].rstrip("/").split("/")
                for depth in range(1, len(parts)):
                    found.add(prefix + "/".join(parts[:depth]) + "/")
                found.add(key)
        return sorted(found)

    def snapshot(self) -> dict[str, str]:
        return dict(self.files)
