"""The well-known images and how their containers behave, shared by both runtimes.

The simulated runtime plays these behaviours from the table; the Docker runtime maps the same
names to local teaching images that behave the same way. Anything not here cannot be pulled, as
on a real cluster with a typo in the image name (`nginxx`, `ngnix`).

Each entry:
- `kind`: `web` (serves HTTP on `port`, one access-log line per request), `database` (accepts
  connections on `port` after `ready_after` seconds), `idle` (runs until stopped: pause, agents),
  `shell` (runs its command, see `clusters.runtime.shell`), `stress` (allocates memory or CPU).
- `entrypoint` and `cmd`: the image's ENTRYPOINT and CMD. A pod's `command` replaces the first
  and its `args` the second (`argv_for`). `wrapper`: the entrypoint is a script that runs what it
  is given, putting `program` first when given only options (`options`) or a file ending in one of
  `files` (redis's `docker-entrypoint.sh`).
- `servers` (program names) and `server_argv` (whole command prefixes): what starts the image's
  own server; `subcommands`: per first argument, the behaviour that overrides the image's (agnhost).
- `os`: `busybox`, `alpine`, `debian`, `distroless` or `scratch`: which programs are on the PATH
  (`clusters.runtime.shell.OS_PROGRAMS`), which shell and which messages; `programs` and
  `runtimes` (python3, perl, node …) add to them; `files`: what the image holds (nginx's pages).
- `memory`: what the process needs; a container limited below it is OOMKilled.
- `start_logs` / `ready_logs`: output at start and on becoming ready; `{time:<strftime>}` is
  replaced by the moment the line is written, `{hostname}` and `{ip}` by the pod's.
- `paths`: for web servers, the HTTP status each path answers (others: 404); `changes`: [seconds,
  path, status] later on. The body: the file under `docroot`, or `body` (with {hostname}, {version}),
  or the request itself (`echo`).
- `access_log`: one line per request; fields {client} {method} {path} {status} {size} {agent}, and
  {time:<strftime>}.
- `requires_env`: the container exits 1 with `logs` unless one of `any_of` is set (postgres, mysql).
- `exec_ok`: client commands that succeed once the server is ready (for exec probes), and what they print.
- `size` (bytes) and `pull_seconds`: what the "Pulled" Event reports.

`ALIASES`: other names the same images are published under (k8s.gcr.io, the google_samples spelling).

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
NGINX_WELCOME = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""
NGINX_ERROR = """<html>
<head><title>{status} {reason}</title></head>
<body>
<center><h1>{status} {reason}</h1></center>
<hr><center>nginx/1.27.3</center>
</body>
</html>
"""
NGINX_DEFAULT_CONF = """server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""
NGINX_FILES = {
    "/usr/share/nginx/html/index.html": NGINX_WELCOME,
    "/usr/share/nginx/html/50x.html": "<!DOCTYPE html>\n<html>\n<head>\n<title>Error</title>\n</head>\n<body>\n"
    "<h1>An error occurred.</h1>\n</body>\n</html>\n",
    "/etc/nginx/conf.d/default.conf": NGINX_DEFAULT_CONF,
    "/etc/nginx/nginx.conf": "user  nginx;\nworker_processes  auto;\n\nerror_log  /var/log/nginx/error.log notice;\n"
    "pid        /run/nginx.pid;\n\nevents {\n    worker_connections  1024;\n}\n\nhttp {\n"
    "    include       /etc/nginx/mime.types;\n    access_log  /var/log/nginx/access.log  main;\n"
    "    include /etc/nginx/conf.d/*.conf;\n}\n",
}
NGINX_START_LOGS = [
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
    '{time:%Y/%m/%d %H:%M:%S} [notice] 1#1: using the "epoll" event method',
    "{time:%Y/%m/%d %H:%M:%S} [notice] 1#1: start worker processes",
]
APACHE_ACCESS_LOG = '{client} - - [{time:%d/%b/%Y:%H:%M:%S +0000}] "{method} {path} HTTP/1.1" {status} {size}'
APACHE_START_LOGS = [
    "AH00558: apache2: Could not reliably determine the server's fully qualified domain name, using {ip}. "
    "Set the 'ServerName' directive globally to suppress this message",
    "[{time:%a %b %d %H:%M:%S.000000 %Y}] [mpm_prefork:notice] [pid 1] AH00163: Apache/2.4.62 (Debian) "
    "configured -- resuming normal operations",
    "[{time:%a %b %d %H:%M:%S.000000 %Y}] [core:notice] [pid 1] AH00094: Command line: 'apache2 -D FOREGROUND'",
]
GUESTBOOK_PAGE = """<html ng-app="redis">
  <head>
    <title>Guestbook</title>
  </head>
  <body ng-controller="RedisCtrl">
    <div style="width: 50%; margin-left: 20px">
      <h2>Guestbook</h2>
    <form>
    <fieldset>
    <input ng-model="msg" placeholder="Messages" class="form-control" type="text" name="input"><br>
    <button type="button" class="btn btn-primary" ng-click="controller.onRedis()">Submit</button>
    </fieldset>
    </form>
    <div>
      <div ng-repeat="msg in messages track by $index">
        {{msg}}
      </div>
    </div>
    </div>
  </body>
</html>
"""
SHELL_IMAGE = {"kind": "shell", "memory": "1Mi"}
BUSYBOX = {**SHELL_IMAGE, "os": "busybox", "cmd": ["sh"], "size": 2_155_443, "pull_seconds": 0.711}
DOCKER_ENTRYPOINT = ["docker-entrypoint.sh"]

IMAGES: dict[str, dict] = {
    # -- web servers ---------------------------------------------------------------------------
    "nginx": {
        "kind": "web",
        "os": "debian",
        "port": 80,
        "entrypoint": ["/docker-entrypoint.sh"],
        "cmd": ["nginx", "-g", "daemon off;"],
        "wrapper": {"script": "docker-entrypoint.sh"},
        "servers": ["nginx"],
        "programs": ["curl"],
        "memory": "8Mi",
        "size": 72_188_133,
        "pull_seconds": 2.915,
        "paths": {"/": 200, "/index.html": 200},
        "docroot": "/usr/share/nginx/html",
        "files": NGINX_FILES,
        "access_log": NGINX_ACCESS_LOG,
        "start_logs": NGINX_START_LOGS,
    },
    "registry.k8s.io/nginx-slim": {
        "kind": "web",
        "os": "debian",
        "port": 80,
        "cmd": ["nginx", "-g", "daemon off;"],
        "servers": ["nginx"],
        "memory": "4Mi",
        "size": 57_284_096,
        "pull_seconds": 2.104,
        "paths": {"/": 200, "/index.html": 200},
        "docroot": "/usr/share/nginx/html",
        "files": NGINX_FILES,
        "access_log": NGINX_ACCESS_LOG,
        "start_logs": [],
    },
    "httpd": {
        "kind": "web",
        "os": "debian",
        "port": 80,
        "cmd": ["httpd-foreground"],
        "servers": ["httpd-foreground", "httpd"],
        "memory": "8Mi",
        "size": 58_216_474,
        "pull_seconds": 2.412,
        "paths": {"/": 200, "/index.html": 200},
        "docroot": "/usr/local/apache2/htdocs",
        "files": {"/usr/local/apache2/htdocs/index.html": "<html><body><h1>It works!</h1></body></html>\n"},
        "access_log": APACHE_ACCESS_LOG,
        "start_logs": [
            "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {ip}. "
            "Set the 'ServerName' directive globally to suppress this message",
            "[{time:%a %b %d %H:%M:%S.000000 %Y}] [mpm_event:notice] [pid 1:tid 1] AH00489: "
            "Apache/2.4.62 (Unix) configured -- resuming normal operations",
        ],
    },
    "kube-tutor/web": {
        "kind": "web",
        "os": "busybox",
        "port": 8080,
        "cmd": ["/web"],
        "servers": ["/web", "web"],
        "memory": "6Mi",
        "size": 7_340_032,
        "pull_seconds": 0.412,
        "paths": {"/": 200, "/healthz": 200, "/ready": 200},
        "body": "<!DOCTYPE html>\n<html><head><title>{hostname}</title></head>\n<body><h1>Hello from {hostname}</h1>"
        "<p>kube-tutor/web (busybox httpd) standing in for nginx.</p></body></html>\n",
        "access_log": "{time:%Y-%m-%dT%H:%M:%SZ} {method} {path} {status} {agent}",
        "start_logs": ["listening on :8080"],
    },
    "gcr.io/google-samples/hello-app": {
        "kind": "web",
        "os": "distroless",
        "port": 8080,
        "cmd": ["/hello-app"],
        "servers": ["/hello-app"],
        "memory": "6Mi",
        "size": 11_482_726,
        "pull_seconds": 0.813,
        "paths": {"/": 200},
        "body": "Hello, world!\nVersion: {version}\nHostname: {hostname}\n",
        "access_log": "{time:%Y/%m/%d %H:%M:%S} Serving request: {path}",
        "start_logs": ["{time:%Y/%m/%d %H:%M:%S} Server listening on port 8080"],
    },
    "gcr.io/google-samples/hello-go-gke": {
        "kind": "web",
        "os": "distroless",
        "port": 80,
        "cmd": ["/hello"],
        "servers": ["/hello"],
        "memory": "6Mi",
        "size": 6_315_213,
        "pull_seconds": 0.602,
        "paths": {"/": 200},
        "body": '{"message":"Hello"}\n',
        "start_logs": [],
    },
    "gcr.io/google-samples/node-hello": {
        "kind": "web",
        "os": "debian",
        "port": 8080,
        "cmd": ["node", "server.js"],
        "server_argv": [["node", "server.js"]],
        "runtimes": ["node"],
        "memory": "16Mi",
        "size": 261_438_013,
        "pull_seconds": 5.612,
        "paths": {"/": 200},
        "body": "Hello Kubernetes!",
        "start_logs": [],
    },
    "registry.k8s.io/hpa-example": {
        "kind": "web",
        "os": "debian",
        "port": 80,
        "cmd": ["apache2-foreground"],
        "servers": ["apache2-foreground", "apache2"],
        "memory": "12Mi",
        "size": 481_136_652,
        "pull_seconds": 8.410,
        "paths": {"/": 200, "/index.php": 200},
        "body": "OK!",
        "access_log": APACHE_ACCESS_LOG,
        "start_logs": APACHE_START_LOGS,
    },
    "registry.k8s.io/echoserver": {
        "kind": "web",
        "os": "debian",
        "port": 8080,
        "cmd": ["/usr/local/bin/run.sh"],
        "servers": ["/usr/local/bin/run.sh", "run.sh", "nginx"],
        "memory": "8Mi",
        "size": 46_237_695,
        "pull_seconds": 1.802,
        "paths": {"/": 200},
        "echo": True,
        "access_log": NGINX_ACCESS_LOG,
        "start_logs": ["Generating self-signed cert", "Starting nginx"],
    },
    "gcr.io/google-samples/gb-frontend": {
        "kind": "web",
        "os": "debian",
        "port": 80,
        "cmd": ["apache2-foreground"],
        "servers": ["apache2-foreground", "apache2"],
        "memory": "16Mi",
        "size": 137_812_436,
        "pull_seconds": 3.911,
        "paths": {"/": 200, "/index.html": 200, "/guestbook.php": 200},
        "body": GUESTBOOK_PAGE,
        "access_log": APACHE_ACCESS_LOG,
        "start_logs": APACHE_START_LOGS,
    },
    "wordpress": {
        "kind": "web",
        "os": "debian",
        "port": 80,
        "entrypoint": DOCKER_ENTRYPOINT,
        "cmd": ["apache2-foreground"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "apache2-foreground"},
        "servers": ["apache2-foreground", "apache2"],
        "memory": "32Mi",
        "size": 703_918_311,
        "pull_seconds": 12.640,
        "paths": {"/": 302, "/wp-admin/install.php": 200, "/wp-login.php": 200},
        "body": '<!DOCTYPE html>\n<html lang="en-US">\n<head><title>WordPress &rsaquo; Installation</title></head>\n'
        '<body class="wp-core-ui"><p>Welcome to the famous five-minute WordPress installation process!</p>'
        "</body></html>\n",
        "access_log": APACHE_ACCESS_LOG,
        "start_logs": [
            "WordPress not found in /var/www/html - copying now...",
            "Complete! WordPress has been successfully copied to /var/www/html",
            *APACHE_START_LOGS,
        ],
    },
    "registry.k8s.io/goproxy": {
        "kind": "web",
        "os": "scratch",
        "port": 8080,
        "cmd": ["/goproxy"],
        "servers": ["/goproxy"],
        "memory": "4Mi",
        "size": 5_223_466,
        "pull_seconds": 0.520,
        "paths": {},
        "start_logs": [],
    },
    "registry.k8s.io/e2e-test-images/agnhost": {
        "kind": "idle",
        "os": "alpine",
        "entrypoint": ["/agnhost"],
        "cmd": ["pause"],
        "servers": ["/agnhost", "agnhost"],
        "programs": ["dig"],
        "memory": "4Mi",
        "size": 52_791_384,
        "pull_seconds": 1.713,
        "start_logs": ["Paused"],
        # `agnhost SUBCOMMAND`: what each of the documentation's subcommands serves.
        "subcommands": {
            "pause": {"kind": "idle", "start_logs": ["Paused"]},
            "liveness": {
                "kind": "web",
                "port": 8080,
                "paths": {"/healthz": 200, "/started": 200, "/": 404},
                "changes": [[10, "/healthz", 500]],  # it reports healthy for 10 seconds, then fails
                "start_logs": [],
            },
            "netexec": {
                "kind": "web",
                "port": 8080,
                "paths": {"/": 200, "/hostname": 200, "/healthz": 200, "/echo": 200, "/clientip": 200},
                "body": "NOW: {time:%Y-%m-%d %H:%M:%S.000000000 +0000 UTC m=+0.000000000}",
                "bodies": {"/hostname": "{hostname}"},
                "start_logs": ["Started HTTP server on port 8080", "Started UDP server on port  8081"],
            },
            "serve-hostname": {
                "kind": "web",
                "port": 9376,
                "paths": {"/": 200},
                "body": "{hostname}",
                "start_logs": ["Serving on port 9376."],
            },
            "test-webserver": {
                "kind": "web",
                "port": 80,
                "paths": {"/": 200},
                "body": "Hello World!",
                "start_logs": [],
            },
        },
    },
    "registry.k8s.io/pause": {
        "kind": "idle",
        "os": "scratch",
        "cmd": ["/pause"],
        "servers": ["/pause"],
        "memory": "1Mi",
        "size": 320_368,
        "pull_seconds": 0.204,
        "start_logs": [],
    },
    # -- shells and language runtimes ------------------------------------------------------------
    "busybox": BUSYBOX,
    "registry.k8s.io/busybox": BUSYBOX,
    "registry.k8s.io/e2e-test-images/busybox": BUSYBOX,
    "alpine": {**SHELL_IMAGE, "os": "alpine", "cmd": ["/bin/sh"], "size": 3_641_787, "pull_seconds": 0.634},
    "bash": {
        **SHELL_IMAGE,
        "os": "alpine",
        "entrypoint": DOCKER_ENTRYPOINT,
        "cmd": ["bash"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "bash"},
        "programs": ["bash"],  # GNU bash, on Alpine
        "size": 6_251_012,
        "pull_seconds": 0.701,
    },
    "debian": {
        **SHELL_IMAGE,
        "os": "debian",
        "memory": "2Mi",
        "cmd": ["bash"],
        "size": 48_491_318,
        "pull_seconds": 1.910,
    },
    "ubuntu": {
        **SHELL_IMAGE,
        "os": "debian",
        "memory": "2Mi",
        "cmd": ["/bin/bash"],
        "size": 29_754_290,
        "pull_seconds": 1.302,
    },
    "curlimages/curl": {
        **SHELL_IMAGE,
        "os": "alpine",
        "entrypoint": ["/entrypoint.sh"],
        "cmd": ["curl"],
        "wrapper": {"script": "entrypoint.sh", "program": "curl"},
        "programs": ["curl"],
        "size": 22_318_432,
        "pull_seconds": 0.905,
    },
    "registry.k8s.io/e2e-test-images/jessie-dnsutils": {
        **SHELL_IMAGE,
        "os": "debian",
        "cmd": ["bash"],
        "programs": ["nslookup", "dig", "host", "ping", "ps"],
        "size": 112_913_420,
        "pull_seconds": 2.603,
    },
    "python": {
        **SHELL_IMAGE,
        "os": "debian",
        "memory": "8Mi",
        "cmd": ["python3"],
        "runtimes": ["python", "python3"],
        "programs": ["pip", "pip3", "curl", "wget"],
        "size": 1_017_613_216,
        "pull_seconds": 14.220,
    },
    "node": {
        **SHELL_IMAGE,
        "os": "debian",
        "memory": "16Mi",
        "entrypoint": DOCKER_ENTRYPOINT,
        "cmd": ["node"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "node"},
        "runtimes": ["node"],
        "programs": ["npm", "npx", "yarn", "curl", "wget"],
        "size": 1_118_203_771,
        "pull_seconds": 15.480,
    },
    "golang": {
        **SHELL_IMAGE,
        "os": "debian",
        "memory": "8Mi",
        "cmd": ["bash"],
        "runtimes": ["go"],
        "programs": ["curl", "wget", "git"],
        "size": 838_262_016,
        "pull_seconds": 12.370,
    },
    "ruby": {
        **SHELL_IMAGE,
        "os": "debian",
        "memory": "8Mi",
        "cmd": ["irb"],
        "runtimes": ["ruby", "irb"],
        "programs": ["gem", "bundle", "curl", "wget"],
        "size": 1_001_812_545,
        "pull_seconds": 14.030,
    },
    "perl": {
        **SHELL_IMAGE,
        "os": "debian",
        "memory": "4Mi",
        "cmd": ["perl5.40.0", "-de0"],
        "runtimes": ["perl", "perl5.40.0"],
        "programs": ["cpanm", "curl", "wget"],
        "size": 912_471_311,
        "pull_seconds": 13.102,
    },
    "openjdk": {
        **SHELL_IMAGE,
        "os": "debian",
        "memory": "32Mi",
        "cmd": ["jshell"],
        "runtimes": ["java", "javac", "jshell"],
        "size": 503_715_298,
        "pull_seconds": 8.800,
    },
    "eclipse-temurin": {
        **SHELL_IMAGE,
        "os": "debian",
        "memory": "32Mi",
        "cmd": ["jshell"],
        "runtimes": ["java", "javac", "jshell"],
        "size": 452_105_614,
        "pull_seconds": 7.912,
    },
    "gcr.io/google-samples/xtrabackup": {
        **SHELL_IMAGE,
        "os": "debian",
        "cmd": ["bash"],
        "programs": ["ncat", "xbstream", "xtrabackup", "mysql"],
        "size": 265_107_390,
        "pull_seconds": 4.730,
    },
    # -- databases and queues: they answer after a moment of starting up -----------------------------
    "redis": {
        "kind": "database",
        "os": "debian",
        "port": 6379,
        "entrypoint": DOCKER_ENTRYPOINT,
        "cmd": ["redis-server"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "redis-server", "options": True, "files": [".conf"]},
        "servers": ["redis-server"],
        "memory": "4Mi",
        "ready_after": 2,
        "size": 45_891_262,
        "pull_seconds": 2.120,
        "start_logs": [
            "1:C {time:%d %b %Y %H:%M:%S.000} # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
            "1:M {time:%d %b %Y %H:%M:%S.000} * Running mode=standalone, port=6379.",
        ],
        "ready_logs": ["1:M {time:%d %b %Y %H:%M:%S.000} * Ready to accept connections tcp"],
        "exec_ok": {"redis-cli": "PONG"},
    },
    "gcr.io/google-samples/gb-redis-follower": {
        "kind": "database",
        "os": "debian",
        "port": 6379,
        "cmd": ["/run.sh"],
        "servers": ["/run.sh", "redis-server"],
        "memory": "4Mi",
        "ready_after": 2,
        "size": 38_501_842,
        "pull_seconds": 1.902,
        "start_logs": [
            "1:C {time:%d %b %Y %H:%M:%S.000} # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
            "1:S {time:%d %b %Y %H:%M:%S.000} * Connecting to MASTER redis-leader:6379",
        ],
        "ready_logs": [
            "1:S {time:%d %b %Y %H:%M:%S.000} * MASTER <-> REPLICA sync started",
            "1:S {time:%d %b %Y %H:%M:%S.000} * Ready to accept connections",
        ],
        "exec_ok": {"redis-cli": "PONG"},
    },
    "postgres": {
        "kind": "database",
        "os": "debian",
        "port": 5432,
        "entrypoint": DOCKER_ENTRYPOINT,
        "cmd": ["postgres"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "postgres", "options": True},
        "servers": ["postgres"],
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
        "os": "debian",
        "port": 3306,
        "entrypoint": DOCKER_ENTRYPOINT,
        "cmd": ["mysqld"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "mysqld", "options": True},
        "servers": ["mysqld"],
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
        "exec_ok": {"mysqladmin": "mysqld is alive", "mysql": "1\n1"},
    },
    "mongo": {
        "kind": "database",
        "os": "debian",
        "port": 27017,
        "entrypoint": DOCKER_ENTRYPOINT,
        "cmd": ["mongod"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "mongod", "options": True},
        "servers": ["mongod"],
        "memory": "64Mi",
        "ready_after": 3,
        "size": 388_212_041,
        "pull_seconds": 7.611,
        "start_logs": [
            '{"t":{"$date":"{time:%Y-%m-%dT%H:%M:%S.000+00:00}"},"s":"I",  "c":"CONTROL",  "id":23285,   '
            '"ctx":"main","msg":"Automatically disabling TLS 1.0, to force-enable TLS 1.0 specify '
            "--sslDisabledProtocols 'none'\"}",
        ],
        "ready_logs": [
            '{"t":{"$date":"{time:%Y-%m-%dT%H:%M:%S.000+00:00}"},"s":"I",  "c":"NETWORK",  "id":23015,   '
            '"ctx":"listener","msg":"Listening on","attr":{"address":"0.0.0.0"}}',
            '{"t":{"$date":"{time:%Y-%m-%dT%H:%M:%S.000+00:00}"},"s":"I",  "c":"NETWORK",  "id":23016,   '
            '"ctx":"listener","msg":"Waiting for connections","attr":{"port":27017,"ssl":"off"}}',
        ],
        "exec_ok": {"mongosh": "{ ok: 1 }", "mongo": '{ "ok" : 1 }'},
    },
    "rabbitmq": {
        "kind": "database",
        "os": "debian",
        "port": 5672,
        "entrypoint": DOCKER_ENTRYPOINT,
        "cmd": ["rabbitmq-server"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "rabbitmq-server"},
        "servers": ["rabbitmq-server"],
        "memory": "96Mi",
        "ready_after": 10,
        "size": 221_736_960,
        "pull_seconds": 4.920,
        "start_logs": [
            "{time:%Y-%m-%d %H:%M:%S.000000+00:00} [notice] <0.44.0> Application syslog exited with reason: stopped",
            "{time:%Y-%m-%d %H:%M:%S.000000+00:00} [info] <0.230.0> Starting RabbitMQ 4.0.5 on Erlang 27.2 [jit]",
        ],
        "ready_logs": [
            "{time:%Y-%m-%d %H:%M:%S.000000+00:00} [info] <0.692.0> started TCP listener on [::]:5672",
            "{time:%Y-%m-%d %H:%M:%S.000000+00:00} [info] <0.9.0> Server startup complete; 0 plugins started.",
        ],
        "exec_ok": {"rabbitmq-diagnostics": "Ping succeeded", "rabbitmqctl": "Status of node rabbit@{hostname} ..."},
    },
    "memcached": {
        "kind": "database",
        "os": "debian",
        "port": 11211,
        "entrypoint": DOCKER_ENTRYPOINT,
        "cmd": ["memcached"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "memcached", "options": True},
        "servers": ["memcached"],
        "memory": "2Mi",
        "ready_after": 0,
        "size": 31_904_114,
        "pull_seconds": 1.210,
        "start_logs": [],
    },
    "cassandra": {
        "kind": "database",
        "os": "debian",
        "port": 9042,
        "entrypoint": DOCKER_ENTRYPOINT,
        "cmd": ["cassandra", "-f"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "cassandra", "options": True},
        "servers": ["cassandra"],
        "memory": "512Mi",
        "ready_after": 30,
        "size": 355_013_376,
        "pull_seconds": 6.930,
        "start_logs": ["INFO  [main] {time:%Y-%m-%d %H:%M:%S,000} CassandraDaemon.java:603 - Hostname: {hostname}"],
        "ready_logs": [
            "INFO  [main] {time:%Y-%m-%d %H:%M:%S,000} PipelineConfigurator.java:125 - Starting listening for CQL "
            "clients on /0.0.0.0:9042 (unencrypted)..."
        ],
        "exec_ok": {"cqlsh": "", "nodetool": "UN  {ip}  70.69 KiB  16  100.0%  rack1"},
    },
    "gcr.io/google-samples/cassandra": {
        "kind": "database",
        "os": "debian",
        "port": 9042,
        "cmd": ["/run.sh"],
        "servers": ["/run.sh", "cassandra"],
        "memory": "512Mi",
        "ready_after": 30,
        "size": 413_204_115,
        "pull_seconds": 8.112,
        "start_logs": [
            "Starting Cassandra on {ip}",
            "CASSANDRA_CONF_DIR /etc/cassandra",
            "INFO  {time:%H:%M:%S} Loading settings from file:/etc/cassandra/cassandra.yaml",
        ],
        "ready_logs": ["INFO  {time:%H:%M:%S} Starting listening for CQL clients on /{ip}:9042 (unencrypted)..."],
        "exec_ok": {"ready-probe.sh": "", "nodetool": "UN  {ip}  70.69 KiB  32  100.0%  Rack1-K8Demo"},
    },
    "registry.k8s.io/kubernetes-zookeeper": {
        "kind": "database",
        "os": "debian",
        "port": 2181,
        "cmd": ["start-zookeeper"],
        "servers": ["start-zookeeper"],
        "memory": "64Mi",
        "ready_after": 5,
        "size": 276_543_213,
        "pull_seconds": 5.402,
        "start_logs": [
            "#This file was autogenerated DO NOT EDIT",
            "clientPort=2181",
            "dataDir=/var/lib/zookeeper/data",
        ],
        "ready_logs": [
            "{time:%Y-%m-%d %H:%M:%S},000 [myid:1] - INFO  [main:NIOServerCnxnFactory@89] - binding to port "
            "0.0.0.0/0.0.0.0:2181"
        ],
        "exec_ok": {"zookeeper-ready": ""},
    },
    "zookeeper": {
        "kind": "database",
        "os": "debian",
        "port": 2181,
        "entrypoint": ["/docker-entrypoint.sh"],
        "cmd": ["zkServer.sh", "start-foreground"],
        "wrapper": {"script": "docker-entrypoint.sh", "program": "zkServer.sh"},
        "servers": ["zkServer.sh"],
        "memory": "64Mi",
        "ready_after": 3,
        "size": 297_020_461,
        "pull_seconds": 5.880,
        "start_logs": ["ZooKeeper JMX enabled by default", "Using config: /conf/zoo.cfg"],
        "ready_logs": [
            "{time:%Y-%m-%d %H:%M:%S},000 [myid:] - INFO  [main:o.a.z.s.NIOServerCnxnFactory@660] - binding to port "
            "0.0.0.0/0.0.0.0:2181"
        ],
        "exec_ok": {"zkServer.sh": "Mode: standalone"},
    },
    "registry.k8s.io/etcd": {
        "kind": "database",
        "os": "distroless",
        "port": 2379,
        "cmd": ["/usr/local/bin/etcd"],
        "servers": ["etcd", "/usr/local/bin/etcd"],
        "memory": "24Mi",
        "ready_after": 1,
        "size": 57_112_312,
        "pull_seconds": 2.011,
        "start_logs": [
            '{"level":"info","ts":"{time:%Y-%m-%dT%H:%M:%S.000Z}","caller":"etcdmain/etcd.go:73","msg":"Running: "}',
        ],
        "ready_logs": [
            '{"level":"info","ts":"{time:%Y-%m-%dT%H:%M:%S.000Z}","caller":"embed/serve.go:187",'
            '"msg":"serving client traffic insecurely; this is strongly discouraged!","address":"[::]:2379"}',
        ],
    },
    # -- agents and load generators ---------------------------------------------------------------
    "registry.k8s.io/fluentd-gcp": {
        "kind": "idle",
        "os": "debian",
        "cmd": ["/run.sh"],
        "servers": ["/run.sh", "fluentd"],
        "memory": "48Mi",
        "size": 132_913_204,
        "pull_seconds": 3.602,
        "start_logs": ["{time:%Y-%m-%d %H:%M:%S} +0000 [info]: starting fluentd-0.12.29"],
    },
    "registry.k8s.io/fluentd-elasticsearch": {
        "kind": "idle",
        "os": "debian",
        "cmd": ["/run.sh"],
        "servers": ["/run.sh", "fluentd"],
        "memory": "48Mi",
        "size": 140_117_032,
        "pull_seconds": 3.711,
        "start_logs": ['{time:%Y-%m-%d %H:%M:%S} +0000 [info]: starting fluentd-1.2.4 pid=1 ruby="2.3.3"'],
    },
    "quay.io/fluentd_elasticsearch/fluentd": {
        "kind": "idle",
        "os": "debian",
        "cmd": ["/run.sh"],
        "servers": ["/run.sh", "fluentd"],
        "memory": "48Mi",
        "size": 151_930_233,
        "pull_seconds": 3.902,
        "start_logs": ['{time:%Y-%m-%d %H:%M:%S} +0000 [info]: starting fluentd-1.16.2 pid=7 ruby="3.1.4"'],
    },
    "alpine/socat": {
        "kind": "web",
        "os": "alpine",
        "entrypoint": ["socat"],
        "cmd": [],
        "servers": ["socat"],
        "port_from_args": r"(?i)tcp[46]?-listen:(\d+)",
        "port": 0,
        "memory": "1Mi",
        "size": 8_210_232,
        "pull_seconds": 0.502,
        "paths": {},
        "start_logs": [],
    },
    "polinux/stress": {
        "kind": "stress",
        "os": "alpine",
        "cmd": ["stress"],
        "servers": ["stress"],
        "memory": "1Mi",
        "size": 4_041_325,
        "pull_seconds": 0.902,
    },
    "vish/stress": {
        "kind": "stress",
        "os": "scratch",
        "entrypoint": ["/stress"],
        "cmd": ["-logtostderr"],
        "stress": "cpu",  # it burns CPU (`-cpus N`) rather than allocating memory
        "servers": ["/stress"],
        "memory": "1Mi",
        "size": 4_417_212,
        "pull_seconds": 0.612,
    },
}

# Other names the same images are published under.
ALIASES: dict[str, str] = {
    "k8s.gcr.io/busybox": "registry.k8s.io/busybox",
    "gcr.io/google-containers/busybox": "registry.k8s.io/busybox",
    "gcr.io/google_containers/busybox": "registry.k8s.io/busybox",
    "k8s.gcr.io/pause": "registry.k8s.io/pause",
    "gcr.io/google_containers/pause": "registry.k8s.io/pause",
    "k8s.gcr.io/e2e-test-images/agnhost": "registry.k8s.io/e2e-test-images/agnhost",
    "k8s.gcr.io/hpa-example": "registry.k8s.io/hpa-example",
    "k8s.gcr.io/nginx-slim": "registry.k8s.io/nginx-slim",
    "gcr.io/google_containers/nginx-slim": "registry.k8s.io/nginx-slim",
    "k8s.gcr.io/echoserver": "registry.k8s.io/echoserver",
    "gcr.io/google_containers/echoserver": "registry.k8s.io/echoserver",
    "k8s.gcr.io/goproxy": "registry.k8s.io/goproxy",
    "k8s.gcr.io/etcd": "registry.k8s.io/etcd",
    "k8s.gcr.io/fluentd-gcp": "registry.k8s.io/fluentd-gcp",
    "k8s.gcr.io/fluentd-elasticsearch": "registry.k8s.io/fluentd-elasticsearch",
    "k8s.gcr.io/kubernetes-zookeeper": "registry.k8s.io/kubernetes-zookeeper",
    "gcr.io/google_samples/k8szk": "registry.k8s.io/kubernetes-zookeeper",
    "k8s.gcr.io/e2e-test-images/jessie-dnsutils": "registry.k8s.io/e2e-test-images/jessie-dnsutils",
    "gcr.io/kubernetes-e2e-test-images/dnsutils": "registry.k8s.io/e2e-test-images/jessie-dnsutils",
    "gcr.io/google_samples/gb-frontend": "gcr.io/google-samples/gb-frontend",
    "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend": "gcr.io/google-samples/gb-frontend",
    "corelab/gb-frontend": "gcr.io/google-samples/gb-frontend",
    "gcr.io/google_samples/gb-redis-follower": "gcr.io/google-samples/gb-redis-follower",
    "us-docker.pkg.dev/google-samples/containers/gke/gb-redis-follower": "gcr.io/google-samples/gb-redis-follower",
    "us-docker.pkg.dev/google-samples/containers/gke/hello-app": "gcr.io/google-samples/hello-app",
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


def known(repository: str) -> bool:
    return repository in IMAGES or repository in ALIASES


def image_entry(image: str) -> dict | None:
    """The catalog entry for an image reference, or None when it cannot be pulled."""
    ref = image_ref(image)
    entry = IMAGES.get(ALIASES.get(ref.repository, ref.repository))
    if entry is None or not tag_exists(ref):
        return None
    return entry


def argv_for(entry: dict, container: dict) -> list[str]:
    """What a container runs, as the kubelet and the engine decide it: `command` replaces the
    image's ENTRYPOINT and `args` its CMD; a `command` without `args` drops the CMD too."""
    command, args = list(container.get("command") or []), list(container.get("args") or [])
    if command:
        return unwrap(entry, [*command, *args])
    return unwrap(entry, [*entry.get("entrypoint", []), *(args or entry.get("cmd", []))])


def unwrap(entry: dict, argv: list[str]) -> list[str]:
    """An image's entrypoint script (`docker-entrypoint.sh "$@"`) runs what it is given; given
    only options (`--maxmemory 2mb`) or a config file, it puts the image's program first."""
    wrapper = entry.get("wrapper")
    if not wrapper or not argv or argv[0].rsplit("/", 1)[-1] != wrapper["script"]:
        return argv
    rest = argv[1:]
    if not rest:
        return [wrapper["program"]] if wrapper.get("program") else argv
    first = rest[0]
    if wrapper.get("program") and (
        ((wrapper.get("options") or wrapper["program"] in ("curl", "bash", "node")) and first.startswith("-"))
        or any(first.endswith(suffix) for suffix in wrapper.get("files", ()))
    ):
        return [wrapper["program"], *rest]
    return rest


def is_server(entry: dict, argv: list[str]) -> bool:
    """Whether `argv` starts the image's own server (nginx, redis-server, /agnhost …)."""
    if not argv:
        return False
    servers = entry.get("servers", ())
    if argv[0] in servers or argv[0].rsplit("/", 1)[-1] in [name.rsplit("/", 1)[-1] for name in servers]:
        return True
    return any(argv[: len(prefix)] == prefix for prefix in entry.get("server_argv", ()))


def server_entry(entry: dict, argv: list[str]) -> dict:
    """The behaviour `argv` asks of the image's server: a subcommand's (`agnhost liveness`) over the image's."""
    subcommands = entry.get("subcommands")
    if not subcommands:
        return entry
    name = next((arg for arg in argv[1:] if not arg.startswith("-")), entry.get("cmd", [""])[0])
    if name not in subcommands:
        return {**entry, "kind": "unknown-subcommand", "subcommand": name}
    return {**entry, **subcommands[name]}


def tag_exists(ref: ImageRef) -> bool:
    return bool(ref.digest) or ref.tag in COMMON_TAGS or bool(VERSION_TAG.match(ref.tag))


def pull_error(image: str) -> str:
    """What the engine answers when asked to pull an image it cannot find, as the kubelet shows it."""
    ref = image_ref(image)
    if known(ref.repository):
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
    if known(repository):
        return None
    matches = difflib.get_close_matches(repository, [*IMAGES, *ALIASES], n=1, cutoff=0.6)
    return matches[0] if matches else None
