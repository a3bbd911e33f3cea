"""Where the real services for the tests are, and what to do when one is missing.

`make test` starts them (scripts/test-services) and passes their addresses as TEST_* variables.
A missing service skips the tests that need it, with a reason; under CI=true it fails them, so
that CI can never pass by skipping what it was meant to run.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tutor.env import env_bool


def service_missing(reason: str):
    if env_bool("CI", False):
        pytest.fail(f"{reason} (CI=true: every service must be present)")
    pytest.skip(reason)


def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        service_missing("no Redis: TEST_REDIS_URL is not set (make test starts one)")
    return url


def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        service_missing("no PostgreSQL: TEST_DATABASE_URL is not set (make test starts one)")
    return url


def chromium_path() -> str:
    path = os.environ.get("TEST_CHROMIUM") or shutil.which("chromium") or ""
    if not path:
        service_missing("no Chromium: install Debian's chromium (make test does, as root)")
    return path


def docker_engine() -> str:
    from clusters.runtime.docker import engine_ping

    answers, detail = engine_ping()
    if not answers:
        service_missing(f"no Docker engine: {detail}")
    return detail


def command(name: str) -> str:
    path = shutil.which(name)
    if not path:
        service_missing(f"no {name} on PATH (make test installs it, as root)")
    return path
