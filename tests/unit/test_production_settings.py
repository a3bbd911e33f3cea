"""The settings a production deployment runs with, read in fresh interpreters from its environment.

Production: DEBUG off, SECRET_KEY and ALLOWED_HOSTS from the environment, PostgreSQL and Redis,
and TUTOR_HTTPS=1 behind a proxy that ends TLS. There `manage.py check --deploy` finds nothing
(nothing silenced); the same without TUTOR_HTTPS is warned about, so the check is not quietened
some other way. And the site behaves so: plain http is redirected, an https request gets HSTS and
secure cookies, while health probes and the Kubernetes API (the console's kubectl reaches it
directly) are not redirected.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Requests made inside the production environment with Django's test client; prints what came back.
BEHAVIOUR = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
# Pages name their static files; nothing was collected here, so they are named plainly.
plain_files = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
settings.STORAGES = {**settings.STORAGES, "staticfiles": plain_files}
# The database here is empty: /healthz answers what it can, and only its redirect matters.
client = Client(SERVER_NAME="tutor.example.org", raise_request_exception=False)
https = {"X-Forwarded-Proto": "https"}
plain = client.get("/accounts/login/")
secure = client.get("/accounts/login/", headers=https)
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "secure": [secure.status_code, secure.get("Strict-Transport-Security")],
    "csrf_cookie_secure": bool(secure.cookies[settings.CSRF_COOKIE_NAME]["secure"]),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "healthz": client.get("/healthz").status_code,
    "k8s": client.get("/k8s/" + "0" * 32 + "/version").status_code,
    "silenced": settings.SILENCED_SYSTEM_CHECKS,
}))
"""


def production(tmp_path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUTOR_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tutor.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="tutor.example.org",
        DATABASE_URL="postgres://tutor:secret@db.internal:5432/tutor",
        REDIS_URL="redis://redis.internal:6379/0",
        TUTOR_HTTPS="1",
        TUTOR_VAR_DIR=str(tmp_path / "var"),
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_check_deploy_finds_nothing_under_production_settings(tmp_path):
    done = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_without_https_the_check_says_what_is_missing(tmp_path):
    done = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production(tmp_path, TUTOR_HTTPS=""),
    )
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr, warning


def test_production_redirects_http_and_sends_hsts_and_secure_cookies(tmp_path):
    # SQLite here: nothing listens at the production addresses, and /healthz reads the database.
    done = run([sys.executable, "-c", BEHAVIOUR], production(tmp_path, DATABASE_URL="", REDIS_URL=""))
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://tutor.example.org/accounts/login/"]
    assert seen["secure"] == [200, "max-age=31536000; includeSubDomains; preload"]
    assert seen["csrf_cookie_secure"] is True
    assert seen["session_cookie_secure"] is True
    assert seen["healthz"] != 301  # health probes reach the web process directly, over http
    assert seen["k8s"] != 301  # so does the console's kubectl
    assert seen["silenced"] == []
