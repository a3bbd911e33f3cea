"""Kube Tutor settings, read from the environment.

Every setting has an embedded default that needs no server: SQLite under var/, a broker that
keeps its messages in files under var/, and the simulated runtime when no Docker engine answers.
Set DATABASE_URL, REDIS_URL (or CELERY_BROKER_URL) and friends to use real services.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from clusters.host_links import host_links_parse
from clusters.node_hosts import (
    DEFAULT_HOST,
    NodeHostsError,
    host_engines_parse,
    host_name_check,
    hosts,
    node_hosts_parse,
)
from tutor.env import EnvError, database_config, env_bool, env_choice, env_float, env_list, env_rates, kept_secret

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the embedded setup writes (database, broker messages, keys) lives here.
VAR_DIR = Path(os.environ.get("TUTOR_VAR_DIR", BASE_DIR / "var")).resolve()

try:
    DEBUG = env_bool("DEBUG", False)
    TUTOR_RUNTIME = env_choice("TUTOR_RUNTIME", "auto", ("auto", "docker", "simulated"))
    HEARTBEAT_INTERVAL = env_float("TUTOR_HEARTBEAT_INTERVAL", 10.0)
    HEARTBEAT_STALE_AFTER = env_float("TUTOR_HEARTBEAT_STALE_AFTER", 3 * HEARTBEAT_INTERVAL)
    BROKER_POLLING_INTERVAL = env_float("TUTOR_BROKER_POLLING_INTERVAL", 0.02)
    # How many changes the log keeps for watches to resume from (older ones get 410 Expired).
    CHANGE_LOG_KEEP = int(env_float("TUTOR_CHANGE_LOG_KEEP", 50_000))
    # Work whose message was lost is picked up again within this many seconds, and a dead
    # worker's within this plus its lease (WORK_LEASE_SECONDS, clusters/workqueue.py); every key
    # of every sandbox is reconciled at least every FULL_RESYNC_INTERVAL.
    RESYNC_INTERVAL = env_float("TUTOR_RESYNC_INTERVAL", 10.0)
    WORK_LEASE_SECONDS = env_float("TUTOR_WORK_LEASE_SECONDS", 15.0)
    FULL_RESYNC_INTERVAL = env_float("TUTOR_FULL_RESYNC_INTERVAL", 300.0)
    # Compare the controllers' cached objects with the store at every read (clusters.state_cache):
    # the tests turn it on; it costs a full read each time.
    STATE_CACHE_VERIFY = env_bool("TUTOR_STATE_CACHE_VERIFY", False)
    # A node whose kubelet is silent this long turns NotReady; its pods are evicted this long after.
    NODE_GRACE_SECONDS = env_float("TUTOR_NODE_GRACE_SECONDS", 40.0)
    POD_EVICTION_SECONDS = env_float("TUTOR_POD_EVICTION_SECONDS", 60.0)
    # How often the kubelets renew their nodes' leases (the heartbeat), and how often a kubelet
    # writes its Node's status when nothing in it changed (upstream: 10 s and 5 min; here the
    # report rides along the full resync's run, clusters.kubelet._status_report).
    NODE_HEARTBEAT_SECONDS = env_float("TUTOR_NODE_HEARTBEAT_SECONDS", 10.0)
    NODE_STATUS_REPORT_SECONDS = env_float("TUTOR_NODE_STATUS_REPORT_SECONDS", 300.0)
    # How often the node monitor looks for expired leases (upstream's node-monitor-period: 5 s).
    NODE_MONITOR_SECONDS = env_float("TUTOR_NODE_MONITOR_SECONDS", 5.0)
    # Prometheus: the bearer token that may read /metrics (unset: staff sessions only), and the
    # port a worker serves its own metrics on (0: none).
    METRICS_TOKEN = os.environ.get("TUTOR_METRICS_TOKEN", "")
    WORKER_METRICS_PORT = int(env_float("TUTOR_WORKER_METRICS_PORT", 0))
    # New sandboxes back off crash loops from 1 s to 60 s (class time) instead of 10 s to 5 min.
    FAST_BACKOFF = env_bool("TUTOR_FAST_BACKOFF", False)
    # How often the HorizontalPodAutoscaler controller syncs each autoscaler (upstream: 15 s); a
    # class may shorten it. Metrics are still sampled every 15 s, as metrics-server scrapes.
    HPA_SYNC_SECONDS = env_float("TUTOR_HPA_SYNC_SECONDS", 15.0)
    # Container logs kept per container run, as the kubelet rotates them (containerLogMaxSize 10Mi,
    # containerLogMaxFiles 5): the newest files are kept, so a flood cannot fill the database.
    CONTAINER_LOG_MAX_SIZE = int(env_float("TUTOR_CONTAINER_LOG_MAX_SIZE", 10 * 2**20))
    CONTAINER_LOG_MAX_FILES = max(2, int(env_float("TUTOR_CONTAINER_LOG_MAX_FILES", 5)))
    # A sandbox unused this long is paused: its containers stop, its objects stay, and it starts
    # again when its learner comes back (clusters.idle). 0 never pauses one.
    IDLE_STOP_MINUTES = max(0.0, env_float("TUTOR_IDLE_STOP_MINUTES", 60.0))
    # The most pods one sandbox holds, in all its namespaces (0: no limit): `replicas: 10000`
    # stops there with FailedCreate instead of filling the database everybody shares.
    SANDBOX_MAX_PODS = int(env_float("TUTOR_SANDBOX_MAX_PODS", 500))
    # The registries the Docker runtime may pull images from (`docker.io`, `registry.k8s.io`, or
    # `*` for any). None by default: learners run the local teaching images and whatever the
    # engine already holds, and an image from anywhere else ends in ErrImagePull.
    IMAGE_PULL_REGISTRIES = env_list("TUTOR_IMAGE_PULL_REGISTRIES", [])
    # Which worker host runs each node's kubelet (`node-1=host-a,node-2=host-b`; unset: every node
    # on one host), and which host this process's worker serves (clusters.node_hosts).
    NODE_HOSTS = node_hosts_parse(os.environ.get("TUTOR_NODE_HOSTS", ""))
    # Each worker host's address between the hosts (`host-a=10.0.0.1,host-b=10.0.0.2:4790`; unset:
    # no links): a sandbox's network is then one across its hosts (clusters.host_links).
    HOST_LINKS = host_links_parse(os.environ.get("TUTOR_HOST_LINKS", ""), hosts(NODE_HOSTS))
    # The engine the web process reaches for pods on each host (`host-b=tcp://10.0.0.2:2375`): kubectl
    # exec, attach and port-forward; a host left out is served by the web's own DOCKER_HOST.
    HOST_ENGINES = host_engines_parse(os.environ.get("TUTOR_HOST_ENGINES", ""), hosts(NODE_HOSTS))
    WORKER_HOST = host_name_check(
        os.environ.get("TUTOR_WORKER_HOST", "").strip() or DEFAULT_HOST, setting="TUTOR_WORKER_HOST"
    )
except (EnvError, NodeHostsError) as error:
    raise ImproperlyConfigured(str(error)) from None

if os.environ.get("SECRET_KEY"):
    SECRET_KEY = os.environ["SECRET_KEY"]
elif DEBUG:
    SECRET_KEY = kept_secret(VAR_DIR / "secret-key")
else:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set it in the environment, or set DEBUG=1 to use a key "
        "generated once and kept under var/."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Served over https (TLS ends at a reverse proxy) ----------------------------------------------
# TUTOR_HTTPS=1 says the site is reached only through a proxy that terminates TLS and sets
# X-Forwarded-Proto (overwriting whatever the client sent). Then cookies are sent over https only,
# plain http is redirected, and browsers are told to use https (HSTS). The embedded `make run` and
# the test stacks serve plain http on 127.0.0.1 and leave it off.
try:
    HTTPS = env_bool("TUTOR_HTTPS", False)
    HSTS_SECONDS = int(env_float("TUTOR_HSTS_SECONDS", 365 * 24 * 3600))
    HSTS_INCLUDE_SUBDOMAINS = env_bool("TUTOR_HSTS_INCLUDE_SUBDOMAINS", True)
    HSTS_PRELOAD = env_bool("TUTOR_HSTS_PRELOAD", True)
except EnvError as error:
    raise ImproperlyConfigured(str(error)) from None
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Not redirected: health probes, which reach the web process directly, and the Kubernetes
    # API, which the console's kubectl reaches directly too (a kubeconfig for an https server
    # carries its token in a header kubectl sends over https only).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^k8s/"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = HSTS_SECONDS
    SECURE_HSTS_INCLUDE_SUBDOMAINS = HSTS_INCLUDE_SUBDOMAINS
    SECURE_HSTS_PRELOAD = HSTS_PRELOAD

# --- Rate limits (tutor.ratelimits) -------------------------------------------------------------
# Requests per period: sign-ups (and guests) and logins per client address, logins per username,
# Apply (page, lesson step, REST API) and console commands per user. TUTOR_RATE_LIMITS overrides
# any of them by name ("apply=120/m,console=off"). The address limits leave room for a class
# behind one school address.
DEFAULT_RATE_LIMITS = {
    "signup": "60/h",
    "login": "60/5m",
    "login-user": "10/5m",
    "apply": "30/m",
    "console": "30/m",
}
try:
    RATE_LIMITS = env_rates("TUTOR_RATE_LIMITS", DEFAULT_RATE_LIMITS)
except EnvError as error:
    raise ImproperlyConfigured(str(error)) from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "tutor.health",
    "tutor.accounts",
    "tutor.lessons",
    "tutor.sandboxes",
    "tutor.classrooms",
    "clusters",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After the CSRF check and the user: a forged request never counts against anyone. Last: it
    # can run only synchronously, and Django switches between its async and sync halves (a
    # thread hop for each hook of every middleware in between) where it sits.
    "tutor.ratelimits.RateLimitMiddleware",
]

ROOT_URLCONF = "tutor.urls"
ASGI_APPLICATION = "tutor.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tutor.accounts.context_processors.account",
            ],
        },
    },
]


DATABASES = {"default": database_config(os.environ.get("DATABASE_URL"), var_dir=VAR_DIR)}
# The rate limits' counters: in Redis when there is one, so every web process counts together
# (under the deployment's key prefix, as the broker's queues); in this process's memory otherwise.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimits": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": os.environ.get("TUTOR_BROKER_KEY_PREFIX", "") + "kube-tutor",
            # A Redis that does not answer is waited for briefly; then the request goes uncounted.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimits"}
    ),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# The Kubernetes API server's request limit; bodies over it get a 413 Status.
DATA_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "lessons"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어")]
# The Korean of interface strings; lessons carry their own words (tutor/lessons/content/).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# WhiteNoise serves files through a synchronous iterator, which Django's ASGI handler reads into
# memory with a warning on every request; for small static files that cost is nothing.
warnings.filterwarnings(
    "ignore",
    message="StreamingHttpResponse must consume synchronous iterators",
    module="django.core.handlers.asgi",
)
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# A file missing from the manifest is served under its plain name instead of failing the page.
WHITENOISE_MANIFEST_STRICT = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kube Tutor API",
    "DESCRIPTION": "Sandboxes, lessons and classrooms. Each sandbox's Kubernetes API is under /k8s/<uid>/.",
    "VERSION": "1",
}

# LOG_FORMAT=json (the compose stack's): one JSON object per line on stdout, with time, level,
# logger and process, for a log collector; uvicorn's own loggers go through it too. Celery leaves
# the root logger alone (CELERY_WORKER_HIJACK_ROOT_LOGGER), so worker and beat log the same way.
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}
        | ({"stream": "ext://sys.stdout"} if LOG_FORMAT == "json" else {})
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
if LOG_FORMAT == "json":
    LOGGING["loggers"] = {name: {"handlers": ["console"], "propagate": False} for name in ("uvicorn", "uvicorn.access")}

# --- Celery -------------------------------------------------------------------------------
# The database is the source of truth; the broker only carries wake-ups. Without Redis the
# broker is kombu's filesystem transport under var/, so the worker and beat still run as
# separate processes exactly as they do in production.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://localhost/"
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR = VAR_DIR / "broker"
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": BROKER_POLLING_INTERVAL,
    }
elif os.environ.get("TUTOR_BROKER_KEY_PREFIX"):
    # Several deployments (or parallel test stacks) can share one Redis without sharing queues.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": os.environ["TUTOR_BROKER_KEY_PREFIX"]}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
# No result backend is used (results are ignored), so the one Celery builds is shared by every
# thread instead of built anew per thread: the web serves each request on a thread of its own
# (asgiref), and building it scans the installed packages' entry points (0.3 ms of CPU per
# write measured alone, more while the web's other threads want the GIL).
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# Beat keeps its schedule under var/ whatever the database and broker are; without the folder
# it cannot open the file and schedules nothing (no resync, no worker heartbeat).
VAR_DIR.mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


def _every(task: str, seconds: float) -> dict:
    """A periodic task whose message expires when the next one is due (a late one is no use)."""
    return {"task": task, "schedule": seconds, "options": {"expires": seconds}}


CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": _every("tutor.health.tasks.heartbeat", HEARTBEAT_INTERVAL),
    "resync-due-work": _every("clusters.tasks.resync_due", RESYNC_INTERVAL),
    "resync-sandboxes": _every("clusters.tasks.resync", FULL_RESYNC_INTERVAL),
    "renew-node-leases": _every("clusters.tasks.renew_node_leases", NODE_HEARTBEAT_SECONDS),
    "monitor-nodes": _every("clusters.tasks.monitor_nodes", NODE_MONITOR_SECONDS),
    "compact-change-log": _every("clusters.tasks.compact_change_log", 60.0),
    # Looked for every minute (more often when the limit is under two minutes).
    "pause-idle-sandboxes": _every(
        "clusters.tasks.pause_idle_sandboxes", min(60.0, IDLE_STOP_MINUTES * 30) if IDLE_STOP_MINUTES else 60.0
    ),
}
