"""The well-known images and how their containers behave, shared by both runtimes.

The simulated runtime plays these behaviours from the table; the Docker runtime maps the same
names to local teaching images that behave the same way. Anything not here cannot be pulled, as
on a real cluster with a typo in the image name (`nginxx`, `ngnix`).

Each entry:
- `kind`: `web` (serves HTTP on `port`, one access-log line per request), `database` (accepts
  connections on `port` after `ready_after` seconds), `shell` (runs its command, see
  `clusters.runtime.simulated` for the shell idioms understood), `stress` (allocates memory).
- `command`: what runs when the pod gives no command or args (the image's entrypoint and CMD).
- `servers`: program names that start the image's own server when given as a command.
- `memory`: what the process needs; a container limited below it is OOMKilled.
- `start_logs` / `ready_logs`: output at start and on becoming ready; `{time:<strftime>}` is
  replaced by the moment the line is written.
- `paths`: for web servers, the HTTP status each path answers (others: 404).
- `access_log`: one line per request; fields {client} {method} {path} {status} {size} {agent}, and
  {time:<strftime>}.
- `requires_env`: the container exits 1 with `logs` unless one of `any_of` is set (postgres, mysql).
- `exec_ok`: client commands that succeed once the server is ready (for exec probes), and what they print.
- `size` (bytes) and `pull_seconds`: what the "Pulled" Event reports.

kube-tutor/web, the tutor's own teaching image, answers `/`, `/healthz` and `/ready` on port
8080 (env `PORT`), and takes two knobs for the probe lessons: `READY_AFTER` (seconds before
`/ready` answers 200; 503 until then) and `FAIL_AFTER` (seconds after which `/healthz` answers 500).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass

NGINX_ACCESS_LOG = (
    '{client} - - [{time:%d/%b/%Y:%H:%M:%S +0000}] "{method} {path} HTTP/1.1" {status} {size} "-" "{agent}" "-"'
)
VERSION_TAG = re.compile(r"^v?\d+(\.\d+){0,3}([-.][a-z0-9.]+)*$")
COMMON_TAGS = ("latest", "stable", "mainline", "alpine", "slim", "bookworm", "bullseye", "jammy", "noble", "musl")

IMAGES: dict[str, dict] = {
    "nginx": {
        "kind": "web",
        "port": 80,
        "command": ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"],
        "servers": ["nginx", "/docker-entrypoint.sh"],
        "memory": "8Mi",
        "size": 72_188_133,
        "pull_seconds": 2.915,
        "paths": {"/": 200, "/index.html": 200},
        "access_log": NGINX_ACCESS_LOG,
        "start_logs": [
            "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
            "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
            "/docker-entrypoint.sh: Configuration complete; ready for start up",
            '{time:%Y/%m/%d %H:%M:%S} [notice] 1#1: using the "epoll" event method',
            "{time:%Y/%m/%d %H:%M:%S} [notice] 1#1: start worker processes",
        ],
    },
    "httpd": {
        "kind": "web",
        "port": 80,
        "command": ["httpd-foreground"],
        "servers": ["httpd-foreground", "httpd"],
        "memory": "8Mi",
        "size": 58_216_474,
        "pull_seconds": 2.412,
        "paths": {"/": 200, "/index.html": 200},
        "access_log": '{client} - - [{time:%d/%b/%Y:%H:%M:%S +0000}] "{method} {path} HTTP/1.1" {status} {size}',
        "start_logs": [
            "AH00558: httpd: Could not reliably determine the server's fully qualified domain name. "
            "Set the 'ServerName' directive globally to suppress this message",
            "[{time:%a %b %d %H:%M:%S.000000 %Y}] [mpm_event:notice] [pid 1:tid 1] AH00489: "
            "Apache/2.4.62 (Unix) configured -- resuming normal operations",
        ],
    },
    "kube-tutor/web": {
        "kind": "web",
        "port": 8080,
        "command": ["/web"],
        "servers": ["/web", "web"],
        "memory": "6Mi",
        "size": 7_340_032,
        "pull_seconds": 0.412,
        "paths": {"/": 200, "/healthz": 200, "/ready": 200},
        "access_log": "{time:%Y-%m-%dT%H:%M:%SZ} {method} {path} {status} {agent}",
        "start_logs": ["listening on :8080"],
    },
    "gcr.io/google-samples/hello-app": {
        "kind": "web",
        "port": 8080,
        "command": ["/hello-app"],
        "servers": ["/hello-app"],
        "memory": "6Mi",
        "size": 11_482_726,
        "pull_seconds": 0.813,
        "paths": {"/": 200},
        "access_log": "{time:%Y/%m/%d %H:%M:%S} Serving request: {path}",
        "start_logs": ["{time:%Y/%m/%d %H:%M:%S} Server listening on port 8080"],
    },
    "busybox": {"kind": "shell", "command": ["sh"], "memory": "1Mi", "size": 2_155_443, "pull_seconds": 0.711},
    "alpine": {"kind": "shell", "command": ["/bin/sh"], "memory": "1Mi", "size": 3_641_787, "pull_seconds": 0.634},
    "debian": {"kind": "shell", "command": ["bash"], "memory": "2Mi", "size": 48_491_318, "pull_seconds": 1.910},
    "ubuntu": {"kind": "shell", "command": ["/bin/bash"], "memory": "2Mi", "size": 29_754_290, "pull_seconds": 1.302},
    "redis": {
        "kind": "database",
        "port": 6379,
        "command": ["redis-server"],
        "servers": ["redis-server", "docker-entrypoint.sh"],
        "memory": "4Mi",
        "ready_after": 2,
        "size": 45_891_262,
        "pull_seconds": 2.120,
        "start_logs": ["1:C {time:%d %b %Y %H:%M:%S.000} # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"],
        "ready_logs": ["1:M {time:%d %b %Y %H:%M:%S.000} * Ready to accept connections tcp"],
        "exec_ok": {"redis-cli": "PONG"},
    },
    "postgres": {
        "kind": "database",
        "port": 5432,
        "command": ["docker-entrypoint.sh", "postgres"],
        "servers": ["postgres", "docker-entrypoint.sh"],
        "memory": "24Mi",
        "ready_after": 5,
        "size": 158_204_817,
        "pull_seconds": 6.442,
        "start_logs": ['The files belonging to this database system will be owned by user "postgres".'],
        "ready_logs": ["{time:%Y-%m-%d %H:%M:%S.000 UTC} [1] LOG:  database system is ready to accept connections"],
        "requires_env": {
            "any_of": ["POSTGRES_PASSWORD", "POSTGRES_HOST_AUTH_METHOD"],
            "logs": [
                "Error: Database is uninitialized and superuser password is not specified.",
                "       You must specify POSTGRES_PASSWORD to a non-empty value for the",
                '       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".',
            ],
        },
        "exec_ok": {"pg_isready": "/var/run/postgresql:5432 - accepting connections"},
    },
    "mysql": {
        "kind": "database",
        "port": 3306,
        "command": ["docker-entrypoint.sh", "mysqld"],
        "servers": ["mysqld", "docker-entrypoint.sh"],
        "memory": "360Mi",
        "ready_after": 8,
        "size": 172_311_934,
        "pull_seconds": 7.083,
        "start_logs": [
            "{time:%Y-%m-%d %H:%M:%S+00:00} [Note] [Entrypoint]: Entrypoint script for MySQL Server started."
        ],
        "ready_logs": [
            "{time:%Y-%m-%dT%H:%M:%S.000000Z} 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections."
        ],
        "requires_env": {
            "any_of": ["MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD"],
            "logs": [
                "{time:%Y-%m-%d %H:%M:%S+00:00} [ERROR] [Entrypoint]: Database is uninitialized and password option "
                "is not specified",
                "    You need to specify one of the following as an environment variable:",
                "    - MYSQL_ROOT_PASSWORD",
                "    - MYSQL_ALLOW_EMPTY_PASSWORD",
                "    - MYSQL_RANDOM_ROOT_PASSWORD",
            ],
        },
        "exec_ok": {"mysqladmin": "mysqld is alive"},
    },
    "polinux/stress": {
        "kind": "stress",
        "command": ["stress"],
        "servers": ["stress"],
        "memory": "1Mi",
        "size": 4_041_325,
        "pull_seconds": 0.902,
    },
}


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference: `repository` is the catalog key, `name` the full reference a
    runtime reports (`docker.io/library/nginx:1.27`)."""

    repository: str
    tag: str
    digest: str = ""

    @property
    def registry_path(self) -> str:
        if "." in self.repository.split("/", 1)[0] and "/" in self.repository:
            return self.repository
        if "/" in self.repository:
            return f"docker.io/{self.repository}"
        return f"docker.io/library/{self.repository}"

    @property
    def name(self) -> str:
        return f"{self.registry_path}@{self.digest}" if self.digest else f"{self.registry_path}:{self.tag}"

    @property
    def image_id(self) -> str:
        """A stable content digest, so every pull of the same tag reports the same imageID."""
        digest = self.digest or "sha256:" + hashlib.sha256(f"{self.repository}:{self.tag}".encode()).hexdigest()
        return f"{self.registry_path}@{digest}"


def image_ref(image: str) -> ImageRef:
    """Parse `nginx`, `nginx:1.27`, `docker.io/library/nginx:1.27`, `gcr.io/x/y:1.0`, `img@sha256:…`."""
    digest = ""
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = "latest" if not digest else ""
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        image, tag = image.rsplit(":", 1)
    parts = image.split("/")
    if len(parts) > 1 and (parts[0] == "docker.io" or parts[0] == "index.docker.io"):
        parts = parts[1:]
    if len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    return ImageRef("/".join(parts), tag, digest)


def image_entry(image: str) -> dict | None:
    """The catalog entry for an image reference, or None when it cannot be pulled."""
    ref = image_ref(image)
    entry = IMAGES.get(ref.repository)
    if entry is None or not tag_exists(ref):
        return None
    return entry


def tag_exists(ref: ImageRef) -> bool:
    return bool(ref.digest) or ref.tag in COMMON_TAGS or bool(VERSION_TAG.match(ref.tag))


def pull_error(image: str) -> str:
    """What the engine answers when asked to pull an image it cannot find, as the kubelet shows it."""
    ref = image_ref(image)
    if ref.repository in IMAGES:
        return (
            f"Error response from daemon: manifest for {ref.repository}:{ref.tag} not found: "
            "manifest unknown: manifest unknown"
        )
    return (
        f"Error response from daemon: pull access denied for {ref.repository}, repository does not exist "
        "or may require 'docker login': denied: requested access to the resource is denied"
    )


def closest_known(image: str) -> str | None:
    """The catalog name an unknown image most likely meant (`ngnix` → `nginx`), for hints in lessons."""
    repository = image_ref(image).repository
    if repository in IMAGES:
        return None
    matches = difflib.get_close_matches(repository, list(IMAGES), n=1, cutoff=0.6)
    return matches[0] if matches else None
