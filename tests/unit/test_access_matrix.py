"""The site's access matrix: every URL of the URLconf, as six identities, with the status each gets.

The identities: an anonymous visitor, learner A (in classroom C, whose sandbox `class-<C>` is the
target of every sandbox URL), learner B (in another classroom, D), C's instructor, D's instructor
(another classroom's instructor) and an admin (superuser). What the table says, row by row:

- no one but the owner sees or changes a learner's sandbox, progress or messages, and the others
  get 404 (not 403), so that whether it exists does not leak;
- an instructor sees only their own classrooms (another instructor gets 404 on them, an admin
  sees every one); learners get 403 on the instructor pages and 404 on classroom dashboards;
- an anonymous visitor is sent to log in (302 to /accounts/login/) from pages and gets 401/403
  from the API and the streams;
- every mutating request (POST/PUT/PATCH/DELETE) without a CSRF token is refused with 403 when the
  client enforces CSRF (the Kubernetes API's by token excepted: a token is no ambient credential
  a browser would add to a forged request; its writes by session are checked); every request in
  the table is made with the token, so its statuses are what access control answers, and the
  rightful user's are successes.

The Kubernetes API under /k8s/<uid>/ authenticates by token (in the URL or as a bearer token) or
by the browser's session: another user's token or session is a 403 there, as the README documents
(a sandbox's uid is a random UUID, not a name to guess), and a superuser may use any sandbox's API.

The URLs are walked from the URLconf: a URL pattern that no row of the table resolves to fails
`test_the_matrix_covers_every_url`, so a new URL needs its row here (or a reasoned exclusion).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import StreamingHttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.test.client import ClientHandler
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve
from django.utils import timezone
from django.utils.crypto import get_random_string

from clusters import store
from clusters.manifests import manifest_apply
from clusters.models import AccessToken
from tutor.classrooms import services
from tutor.lessons.models import StepProgress
from tutor.sandboxes.models import ConsoleCommand

pytestmark = pytest.mark.django_db

ANON, A, B, TEACHER, OTHER, ADMIN = IDENTITIES = ("anonymous", "learner A", "learner B", "teacher", "other", "admin")
# The order the identities ask in: the rightful owner of a sandbox (A) last, so that a request
# that deletes it cannot turn the others' 404 into a "not found" for another reason.
ASKING_ORDER = (ANON, B, OTHER, TEACHER, ADMIN, A)

LOGIN = "login"  # 302 to /accounts/login/?next=…
NO_CSRF = 403  # what a mutating request without the CSRF token gets
MUTATING = ("POST", "PUT", "PATCH", "DELETE")
CM = "api/v1/namespaces/default/configmaps"  # the Kubernetes API's path to A's ConfigMaps


@dataclass(frozen=True)
class Row:
    label: str  # the URL's name; for the nameless Kubernetes routes, what the row asks through
    method: str
    path: str  # with {placeholders}, filled in per test (and {token} per identity)
    expected: dict[str, int | str]


def row(label: str, method: str, url: str, *statuses: int | str) -> Row:
    assert len(statuses) == len(IDENTITIES), label
    return Row(label, method, url, dict(zip(IDENTITIES, statuses, strict=True)))


# Placeholders: {sb} is A's class sandbox (named class-<C>), {uid} its uid ({UID} in capitals),
# {C}/{D} the classrooms, {a}/{b} the learners' ids, {code} C's join code, {cmd} a console command
# of A's, {cm} the path of the ConfigMaps in A's sandbox, {token} the asking identity's own API
# token (anonymous: a made-up one), {mine} a ConfigMap in A's sandbox named for the asking
# identity (so that A's and the admin's writes do not meet, and another's 403 is no 404 in disguise).
#
# fmt: off
MATRIX: list[Row] = [
    #    label                        method    path                                    anon   A    B    T    O    admin
    # --- public pages and accounts
    row("home",                      "GET",    "/",                                     200,   200, 200, 200, 200, 200),
    row("healthz",                   "GET",    "/healthz",                              200,   200, 200, 200, 200, 200),
    row("metrics",                   "GET",    "/metrics",                              403,   403, 403, 403, 403, 200),
    row("signup",                    "GET",    "/accounts/signup/",                     200,   302, 302, 302, 302, 302),
    row("signup",                    "POST",   "/accounts/signup/",                     302,   302, 302, 302, 302, 302),
    row("guest",                     "POST",   "/accounts/guest/",                      302,   302, 302, 302, 302, 302),
    row("login",                     "GET",    "/accounts/login/",                      200,   200, 200, 200, 200, 200),
    row("login",                     "POST",   "/accounts/login/",                      200,   200, 200, 200, 200, 200),
    row("logout",                    "POST",   "/accounts/logout/",                     302,   302, 302, 302, 302, 302),
    row("password_change",           "GET",    "/accounts/password_change/",            LOGIN, 200, 200, 200, 200, 200),
    row("password_change",           "POST",   "/accounts/password_change/",            LOGIN, 200, 200, 200, 200, 200),
    row("password_change_done",      "GET",    "/accounts/password_change/done/",       LOGIN, 200, 200, 200, 200, 200),
    row("password_reset",            "GET",    "/accounts/password_reset/",             200,   200, 200, 200, 200, 200),
    row("password_reset",            "POST",   "/accounts/password_reset/",             302,   302, 302, 302, 302, 302),
    row("password_reset_done",       "GET",    "/accounts/password_reset/done/",        200,   200, 200, 200, 200, 200),
    row("password_reset_confirm",    "GET",    "/accounts/reset/{a64}/not-a-token/",    200,   200, 200, 200, 200, 200),
    row("password_reset_complete",   "GET",    "/accounts/reset/done/",                 200,   200, 200, 200, 200, 200),
    # --- lessons: every one is the asker's own (their own sandbox and progress, by construction);
    # the steps' buttons answer 200 when they ask for a prediction first, as these do at first
    row("lessons",                   "GET",    "/lessons/",                             200,   200, 200, 200, 200, 200),
    row("lesson",                    "GET",    "/lessons/pods/",                        LOGIN, 200, 200, 200, 200, 200),
    row("lesson-checks",             "GET",    "/lessons/pods/checks",                  LOGIN, 200, 200, 200, 200, 200),
    row("lesson-step",               "GET",    "/lessons/pods/steps/first-pod/",        LOGIN, 200, 200, 200, 200, 200),
    row("lesson-predict",            "POST",   "/lessons/pods/steps/first-pod/predict", LOGIN, 200, 200, 200, 200, 200),
    row("lesson-hint",               "POST",   "/lessons/pods/steps/first-pod/hint",    LOGIN, 200, 200, 200, 200, 200),
    row("lesson-apply",              "POST",   "/lessons/pods/steps/first-pod/apply",   LOGIN, 200, 200, 200, 200, 200),
    row("lesson-fault",              "POST",   "/lessons/volumes/steps/crash/fault",    LOGIN, 200, 200, 200, 200, 200),
    # --- A's sandbox: A alone; everyone else 404 (an admin too: the pages are the owner's)
    row("my-sandbox",                "GET",    "/sandbox/",                             LOGIN, 302, 302, 302, 302, 302),
    row("sandbox",                   "GET",    "/sandboxes/{sb}/",                      LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-cluster",           "GET",    "/sandboxes/{sb}/cluster",               LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-timeline",          "GET",    "/sandboxes/{sb}/timeline",              LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-stream",            "GET",    "/sandboxes/{sb}/stream",                403,   200, 404, 404, 404, 404),
    row("sandbox-apply",             "POST",   "/sandboxes/{sb}/apply",                 LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-delete",            "POST",   "/sandboxes/{sb}/delete",                LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-reset",             "POST",   "/sandboxes/{sb}/reset",                 LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-connect",           "GET",    "/sandboxes/{sb}/connect",               LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-fault",             "POST",   "/sandboxes/{sb}/faults/stop-kubelet",   LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-object",            "GET",    "/sandboxes/{sb}/objects/Node/_/node-1", LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-logs",              "GET",    "/sandboxes/{sb}/logs/default/web",      LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-console",           "POST",   "/sandboxes/{sb}/console",               LOGIN, 200, 404, 404, 404, 404),
    row("sandbox-console-stream",    "GET",    "/sandboxes/{sb}/console/{cmd}/stream",  403,   200, 404, 404, 404, 404),
    # --- classrooms: joining is any learner's; the rest is C's instructor's (and an admin's)
    row("classroom-join",            "GET",    "/classrooms/join/",                     LOGIN, 200, 200, 200, 200, 200),
    row("classroom-join",            "POST",   "/classrooms/join/",                     LOGIN, 302, 302, 422, 302, 302),
    row("classroom-join-code",       "GET",    "/classrooms/join/{code}/",              LOGIN, 200, 200, 200, 200, 200),
    row("classrooms",                "GET",    "/classrooms/",                          LOGIN, 403, 403, 200, 200, 200),
    row("classrooms",                "POST",   "/classrooms/",                          LOGIN, 403, 403, 302, 302, 302),
    row("classroom",                 "GET",    "/classrooms/{C}/",                      LOGIN, 404, 404, 200, 404, 200),
    row("classroom",                 "GET",    "/classrooms/{D}/",                      LOGIN, 404, 404, 404, 200, 200),
    row("classroom-stream",          "GET",    "/classrooms/{C}/stream",                403,   404, 404, 200, 404, 200),
    row("classroom-export",          "GET",    "/classrooms/{C}/progress.csv",          LOGIN, 404, 404, 200, 404, 200),
    row("classroom-lock",            "POST",   "/classrooms/{C}/lessons/pods/lock",     LOGIN, 404, 404, 200, 404, 200),
    row("classroom-pod-security",    "POST",   "/classrooms/{C}/pod-security",          LOGIN, 404, 404, 302, 404, 302),
    row("classroom-learner",         "GET",    "/classrooms/{C}/learners/{a}/",         LOGIN, 404, 404, 200, 404, 200),
    # … and a learner of another class is not in this one, for its instructor either:
    row("classroom-learner",         "GET",    "/classrooms/{C}/learners/{b}/",         LOGIN, 404, 404, 404, 404, 404),
    row("classroom-learner",         "GET",    "/classrooms/{D}/learners/{a}/",         LOGIN, 404, 404, 404, 404, 404),
    row("classroom-learner-stream",  "GET",    "/classrooms/{C}/learners/{a}/stream",   403,   404, 404, 200, 404, 200),
    row("classroom-learner-stream",  "GET",    "/classrooms/{D}/learners/{a}/stream",   403,   404, 404, 404, 404, 404),
    row("classroom-learner-reset",   "POST",   "/classrooms/{C}/learners/{a}/reset",    LOGIN, 404, 404, 200, 404, 200),
    row("classroom-learner-reset",   "POST",   "/classrooms/{D}/learners/{a}/reset",    LOGIN, 404, 404, 404, 404, 404),
    row("classroom-learner-message", "POST",   "/classrooms/{C}/learners/{a}/message",  LOGIN, 404, 404, 200, 404, 200),
    row("classroom-learner-message", "POST",   "/classrooms/{D}/learners/{a}/message",  LOGIN, 404, 404, 404, 404, 404),
    # --- the REST API (DRF, session authentication): 403 for anonymous, 404 for another's sandbox
    row("api-schema",                "GET",    "/api/schema/",                          200,   200, 200, 200, 200, 200),
    row("api-sandboxes",             "GET",    "/api/sandboxes/",                       403,   200, 200, 200, 200, 200),
    row("api-sandboxes",             "POST",   "/api/sandboxes/",                       403,   201, 201, 201, 201, 201),
    row("api-sandbox",               "GET",    "/api/sandboxes/{sb}/",                  403,   200, 404, 404, 404, 404),
    row("api-sandbox",               "DELETE", "/api/sandboxes/{sb}/",                  403,   204, 404, 404, 404, 404),
    row("api-sandbox-reset",         "POST",   "/api/sandboxes/{sb}/reset/",            403,   200, 404, 404, 404, 404),
    row("api-sandbox-kubeconfig",    "GET",    "/api/sandboxes/{sb}/kubeconfig/",       403,   200, 404, 404, 404, 404),
    row("api-sandbox-apply",         "POST",   "/api/sandboxes/{sb}/apply/",            403,   200, 404, 404, 404, 404),
    # --- A's Kubernetes API: 401 without credentials, 403 for another user's, a superuser's works
    row("k8s token in the URL",      "GET",    "/k8s/{uid}/t/{token}/{cm}",             401,   200, 403, 403, 403, 200),
    row("k8s token in the URL",      "POST",   "/k8s/{uid}/t/{token}/{cm}",             401,   201, 403, 403, 403, 201),
    row("k8s token in the URL",      "DELETE", "/k8s/{uid}/t/{token}/{cm}/{mine}",      401,   200, 403, 403, 403, 200),
    row("k8s bearer token",          "GET",    "/k8s/{uid}/{cm}",                       401,   200, 403, 403, 403, 200),
    row("k8s bearer token",          "POST",   "/k8s/{uid}/{cm}",                       401,   201, 403, 403, 403, 201),
    row("k8s session",               "GET",    "/k8s/{uid}/{cm}",                       401,   200, 403, 403, 403, 200),
    row("k8s session",               "POST",   "/k8s/{uid}/{cm}",                       401,   201, 403, 403, 403, 201),
    row("k8s session",               "PATCH",  "/k8s/{uid}/{cm}/{mine}",                401,   200, 403, 403, 403, 200),
    row("k8s session",               "DELETE", "/k8s/{uid}/{cm}/{mine}",                401,   200, 403, 403, 403, 200),
    row("k8s public path",           "GET",    "/k8s/{uid}/version",                    200,   200, 200, 200, 200, 200),
    # The API's bare prefix (kubectl never asks it): after authentication, an unknown path. With
    # the token and no path, only a uid the first two routes do not take reaches its route ({UID},
    # in capitals: the uid's own pattern wants lower case); a lower-case one is the session's
    # route with the path "t/<token>".
    row("k8s prefix with token",     "GET",    "/k8s/{UID}/t/{token}",                  401,   404, 403, 403, 403, 404),
    row("k8s prefix",                "GET",    "/k8s/{uid}",                            401,   404, 403, 403, 403, 404),
    # --- Django's admin: staff only (its other URLs are excluded below)
    row("admin:index",               "GET",    "/admin/",                               302,   302, 302, 302, 302, 200),
]
# fmt: on

# Rows whose answer is a stream (server-sent events): only the head's status is checked.
STREAMS = {"sandbox-stream", "sandbox-console-stream", "classroom-stream", "classroom-learner-stream"}

# Token-authenticated Kubernetes requests need no CSRF token, as kubectl sends none: a token is
# not an ambient credential a browser adds to a forged request (the session is, and it is checked).
CSRF_NOT_APPLICABLE = {"k8s token in the URL", "k8s bearer token"}
# Without the token, an anonymous request to the Kubernetes API is a 401 before anything else.
NO_CSRF_EXCEPTIONS = {("k8s session", ANON): 401}

# URL patterns the matrix leaves out, each with its reason.
EXCLUDED_NAMESPACES = {
    "admin",  # Django admin internals (superuser-only, Django's own): admin:index above shows the gate
}
EXCLUDED_NAMES = {
    "set_language",  # django.conf.urls.i18n: sets the language cookie, nothing to protect
}
EXCLUDED_PREFIXES = (
    "static/",  # static files (WhiteNoise serves them; a DEBUG URLconf may add this prefix)
)
# Not in the URLconf at all: WebSocket routes (`kubectl exec`, `port-forward`: tutor.asgi sends
# every websocket to clusters.kube.streams) are covered by tests/kubectl/test_stream_access.py.
# Watches and log follows (`?watch=1`, `?follow=1`) are the routes above; they borrow a database
# connection per trip outside the test's transaction, so tests/kubectl covers their access too.

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "made-{mine}"}, "data": {"a": "b"}}
CONFIGMAP_YAML = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: made-here\ndata:\n  a: b\n"

# What each mutating request sends: form fields, or JSON for the APIs.
FORMS: dict[tuple[str, str], dict] = {
    ("signup", "POST"): {"username": "newcomer", "password1": "a-long-pass-1234", "password2": "a-long-pass-1234"},
    ("login", "POST"): {"username": "nobody", "password": "wrong"},
    ("password_change", "POST"): {"old_password": "wrong", "new_password1": "x", "new_password2": "x"},
    ("password_reset", "POST"): {"email": "someone@example.com"},
    ("lesson-predict", "POST"): {"choice": "running"},
    ("sandbox-apply", "POST"): {"manifest": CONFIGMAP_YAML},
    ("sandbox-delete", "POST"): {"manifest": CONFIGMAP_YAML.replace("made-here", "seed")},
    ("sandbox-fault", "POST"): {"node": "node-1"},
    ("sandbox-console", "POST"): {"command": "kubectl get pods"},
    ("classroom-join", "POST"): {"code": "{code}"},
    ("classrooms", "POST"): {
        "name": "New class",
        "max_pods": 5,
        "max_services": 2,
        "max_claims": 1,
        "cpu": "2",
        "memory": "2Gi",
        "stuck_minutes": 5,
    },
    ("classroom-lock", "POST"): {"locked": "1"},
    ("classroom-pod-security", "POST"): {"pod_security_level": "restricted"},
    ("classroom-learner-message", "POST"): {"kind": "hint", "text": "Look at the selector"},
}
JSON_BODIES: dict[tuple[str, str], dict] = {
    ("api-sandboxes", "POST"): {"name": "extra", "runtime": "simulated"},
    ("api-sandbox-apply", "POST"): {"manifest": CONFIGMAP_YAML},
    ("k8s token in the URL", "POST"): CONFIGMAP,
    ("k8s bearer token", "POST"): CONFIGMAP,
    ("k8s session", "POST"): CONFIGMAP,
    ("k8s session", "PATCH"): {"data": {"a": "patched"}},
}
CONTENT_TYPES = {("k8s session", "PATCH"): "application/merge-patch+json"}


@pytest.fixture(autouse=True)
def _fast_and_simulated(settings):
    settings.TUTOR_RUNTIME = "simulated"  # no Docker engine for sandboxes made here
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    users: dict[str, User | None]
    tokens: dict[str, str]
    values: dict[str, str]


@pytest.fixture
def world() -> World:
    learner_a = User.objects.create(username="learner-a", email="a@example.com")
    learner_b = User.objects.create(username="learner-b", email="b@example.com")
    teacher = User.objects.create(username="teacher")
    other = User.objects.create(username="other-teacher")
    admin = User.objects.create(username="admin", is_staff=True, is_superuser=True)
    services.make_instructor(teacher)
    services.make_instructor(other)
    classroom_c = services.classroom_create(instructor=teacher, name="C")
    classroom_d = services.classroom_create(instructor=other, name="D")
    enrollment = services.classroom_join(learner=learner_a, code=classroom_c.join_code)
    services.classroom_join(learner=learner_b, code=classroom_d.join_code)
    sandbox = enrollment.sandbox
    seeds = [CONFIGMAP_YAML.replace("made-here", name) for name in ["seed", *(mine(i) for i in IDENTITIES)]]
    with store.writing_as("test"):
        assert manifest_apply(sandbox=sandbox, text="---\n".join(seeds)).stored
    # A's own things: progress, a message from the instructor, a console command that ran.
    StepProgress.objects.create(user=learner_a, lesson="pods", step="first-pod", passed_at=timezone.now())
    services.message_send(enrollment=enrollment, sender=teacher, text="A-only message")
    command = ConsoleCommand.objects.create(
        sandbox=sandbox,
        user=learner_a,
        line="kubectl get pods",
        argv=["get", "pods"],
        started_at=timezone.now(),
        finished_at=timezone.now(),
        output="No resources found",
        exit_code=0,
        ended="exit",
    )
    users = {ANON: None, A: learner_a, B: learner_b, TEACHER: teacher, OTHER: other, ADMIN: admin}
    tokens = {name: AccessToken.issue(user=user)[1] for name, user in users.items() if user is not None}
    tokens[ANON] = "kt_not-a-token"
    values = {
        "sb": sandbox.name,
        "uid": sandbox.uid.hex,
        "UID": sandbox.uid.hex.upper(),
        "C": str(classroom_c.pk),
        "D": str(classroom_d.pk),
        "a": str(learner_a.pk),
        "b": str(learner_b.pk),
        "a64": "MQ",
        "code": classroom_c.join_code,
        "cmd": str(command.pk),
        "cm": CM,
    }
    assert sandbox.name == f"class-{classroom_c.pk}"
    return World(users=users, tokens=tokens, values=values)


@pytest.fixture(scope="module")
def handler() -> ClientHandler:
    """One request handler for every client here: each new one loads the middleware again, and
    WhiteNoise's reads every static file (most of this test's time, were it not shared)."""
    return ClientHandler(enforce_csrf_checks=True)


def client_for(world: World, identity: str, handler: ClientHandler) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.handler = handler
    if world.users[identity] is not None:
        client.force_login(world.users[identity])
    return client


def mine(identity: str) -> str:
    return "seed-" + identity.lower().replace(" ", "-")


def fill(value, world: World, identity: str):
    """The value with its placeholders filled in for this identity (in JSON bodies too)."""
    if isinstance(value, dict):
        return {key: fill(item, world, identity) for key, item in value.items()}
    if isinstance(value, str):
        return value.format(**world.values, token=world.tokens[identity], mine=mine(identity))
    return value


def close(response) -> None:
    """Close a response without the test client's end-of-request signal closing the test's
    database connection (the client keeps it disconnected only while it reads a body itself)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def ask(client: Client, world: World, identity: str, entry: Row, *, csrf: bool):
    url = fill(entry.path, world, identity)
    headers: dict[str, str] = {}
    client.cookies.pop(django_settings.CSRF_COOKIE_NAME, None)
    if csrf:
        secret = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
        client.cookies[django_settings.CSRF_COOKIE_NAME] = secret
        headers["X-CSRFToken"] = secret
    if entry.label == "k8s bearer token":
        headers["Authorization"] = f"Bearer {world.tokens[identity]}"
    key = (entry.label, entry.method)
    if key in JSON_BODIES:
        body = json.dumps(fill(JSON_BODIES[key], world, identity))
        content_type = CONTENT_TYPES.get(key, "application/json")
        return client.generic(entry.method, url, body, content_type=content_type, headers=headers)
    if entry.method == "GET":
        return client.get(url, headers=headers)
    if entry.method == "POST":
        return client.post(url, fill(FORMS.get(key, {}), world, identity), headers=headers)
    return client.generic(entry.method, url, headers=headers)


def outcome(response, expected) -> str | None:
    """What is wrong with the response, or None."""
    status = response.status_code
    if expected == LOGIN:
        location = response.get("Location", "")
        if status != 302 or not location.startswith("/accounts/login/"):
            return f"expected a 302 to /accounts/login/, got {status} {location}".strip()
        return None
    if status != expected:
        return f"expected {expected}, got {status}"
    return None


def row_id(entry: Row) -> str:
    return f"{entry.method} {entry.path} ({entry.label})"


@pytest.mark.parametrize("entry", MATRIX, ids=row_id)
def test_the_access_matrix(world, handler, entry):
    clients = {identity: client_for(world, identity, handler) for identity in IDENTITIES}
    wrong: list[str] = []
    if entry.method in MUTATING and entry.label not in CSRF_NOT_APPLICABLE:
        # First without the CSRF token, as everyone: refused, before it changes anything.
        for identity in ASKING_ORDER:
            response = ask(clients[identity], world, identity, entry, csrf=False)
            problem = outcome(response, NO_CSRF_EXCEPTIONS.get((entry.label, identity), NO_CSRF))
            if problem:
                wrong.append(f"{identity}, without the CSRF token: {problem}")
    for identity in ASKING_ORDER:
        response = ask(clients[identity], world, identity, entry, csrf=True)
        expected = entry.expected[identity]
        problem = outcome(response, expected)
        if problem:
            wrong.append(f"{identity}: {problem}")
        if entry.label in STREAMS and response.status_code == 200:
            if not isinstance(response, StreamingHttpResponse):
                wrong.append(f"{identity}: a 200 that is not a stream")
            close(response)
    assert not wrong, f"{row_id(entry)}:\n" + "\n".join(wrong)


# --- every URL of the URLconf has a row -------------------------------------------------------


def join_route(prefix: str, route: str) -> str:
    """As django.urls.resolvers.URLResolver._join_route joins them (ResolverMatch.route)."""
    return route if not prefix else prefix + route.removeprefix("^")


def url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """Every URL pattern: (its full route, its name with namespace)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = join_route(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
            yield from url_patterns(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = ":".join(filter(None, [namespace, pattern.name or ""])) if pattern.name else ""
            yield route, name, namespace


def excluded(route: str, name: str, namespace: str) -> bool:
    return (
        namespace.split(":")[0] in EXCLUDED_NAMESPACES
        or name in EXCLUDED_NAMES
        or route.removeprefix("^").startswith(EXCLUDED_PREFIXES)
    )


def covered_routes() -> set[str]:
    """The routes the matrix's rows resolve to (with made-up values for the placeholders)."""
    values = {
        "sb": "class-1",
        "uid": "0" * 32,
        "UID": "A" * 32,
        "C": "1",
        "D": "2",
        "a": "3",
        "b": "4",
        "a64": "MQ",
        "code": "ABCDEFGH",
        "cmd": "5",
        "cm": CM,
        "token": "kt_token",
        "mine": "seed-a",
    }
    covered = set()
    for entry in MATRIX:
        match = resolve(urlsplit(entry.path.format(**values)).path)
        covered.add(match.route)
        if match.url_name:  # a named URL's row is labelled with its name, so the table reads true
            assert entry.label == match.view_name, (row_id(entry), match.view_name)
    return covered


def uncovered_routes(patterns=None) -> list[str]:
    covered = covered_routes()
    return [
        f"{route} ({name or 'no name'})"
        for route, name, namespace in url_patterns(patterns)
        if route not in covered and not excluded(route, name, namespace)
    ]


def test_the_matrix_covers_every_url():
    uncovered = uncovered_routes()
    assert not uncovered, "URL patterns with no row in the access matrix (add them to MATRIX):\n" + "\n".join(uncovered)
    every = {route for route, _, _ in url_patterns()}
    assert covered_routes() < every  # the walk found the whole URLconf (admin's URLs too)


def test_a_new_url_without_a_row_fails_the_coverage_check():
    new = path("classrooms/<int:classroom_id>/roster", lambda request: None, name="classroom-roster")
    assert uncovered_routes([*get_resolver().url_patterns, new]) == [
        "classrooms/<int:classroom_id>/roster (classroom-roster)"
    ]


# --- what the statuses cannot show: lists and pages hold only one's own -------------------------


def test_lists_hold_only_ones_own(world, handler):
    for identity in (A, B, TEACHER, OTHER, ADMIN):
        names = {s["owner"] for s in client_for(world, identity, handler).get("/api/sandboxes/").json()}
        assert names <= {world.users[identity].username}, identity
    classroom_c = f"/classrooms/{world.values['C']}/"
    classroom_d = f"/classrooms/{world.values['D']}/"
    for identity, shown in ((TEACHER, {classroom_c}), (OTHER, {classroom_d}), (ADMIN, {classroom_c, classroom_d})):
        page = client_for(world, identity, handler).get("/classrooms/").text
        assert {c for c in (classroom_c, classroom_d) if c in page} == shown, identity


def test_a_learners_message_and_progress_reach_no_other_learner(world, handler):
    assert "A-only message" in client_for(world, A, handler).get("/lessons/pods/").text
    for identity in (B, TEACHER, OTHER, ADMIN):
        page = client_for(world, identity, handler).get("/lessons/pods/")
        assert page.status_code == 200
        assert "A-only message" not in page.text, identity
        assert page.context["passed"] == 0, identity  # A passed a step; nobody else did
    # The other instructor's dashboard and export know nothing of A.
    as_other = client_for(world, OTHER, handler)
    assert "learner-a" not in as_other.get(f"/classrooms/{world.values['D']}/").text
    assert "learner-a" not in as_other.get(f"/classrooms/{world.values['D']}/progress.csv").text
