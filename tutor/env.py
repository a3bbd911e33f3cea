"""Typed readers for settings that come from the environment.

Pure functions over a mapping, so they are testable without touching os.environ.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

import dj_database_url

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class EnvError(ValueError):
    """An environment variable holds a value that cannot be used."""


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise EnvError(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")


def env_float(name: str, default: float, environ: Mapping[str, str] = os.environ) -> float:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise EnvError(f"{name}={raw!r} is not a number; use e.g. {default}") from None


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...], environ: Mapping[str, str] = os.environ) -> str:
    value = environ.get(name, default).strip().lower() or default
    if value not in choices:
        raise EnvError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def kept_secret(path: Path) -> str:
    """Read a secret kept in a file, creating it (mode 0600) on first use."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write a private temporary file, then link it into place: link() fails if the key exists,
    # so when two processes start at once both end up reading the one key that won.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path.read_text().strip()


def database_config(url: str | None, *, var_dir: Path) -> dict:
    """Django's DATABASES entry for a URL; without one, SQLite in WAL mode under var_dir."""
    if not url:
        var_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{var_dir / 'db.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web, the worker and beat read while one of them writes; IMMEDIATE
        # transactions take the write lock up front instead of failing half-way with "locked".
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # Tests use a file, not memory, so that worker processes can see the test database.
        config["TEST"] = {"NAME": str(Path(config["NAME"]).with_name("test-db.sqlite3"))}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # A pool per process: opening a PostgreSQL connection costs more than most requests.
        config["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 8, "timeout": 10}}
    return config


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(text: str) -> tuple[int, int] | None:
    """ "30/m", "10/5m", "60/h" as (requests, seconds); "off" as None (no limit)."""
    text = text.strip().lower()
    if text in ("off", "none"):
        return None
    count, _, period = text.partition("/")
    multiple, unit = period[:-1] or "1", period[-1:]
    if not (count.isdigit() and multiple.isdigit() and unit in _PERIODS and int(count) > 0 and int(multiple) > 0):
        raise ValueError(text)
    return int(count), int(multiple) * _PERIODS[unit]


def env_rates(
    name: str, defaults: dict[str, str], environ: Mapping[str, str] = os.environ
) -> dict[str, tuple[int, int] | None]:
    """Named rate limits: the defaults, each overridden by `name=rate` in a comma-separated list
    ("login=10/5m,apply=off"); a rate is requests per period (s, m, h, d, with a multiple)."""
    chosen = dict(defaults)
    for item in env_list(name, [], environ):
        key, _, value = item.partition("=")
        if key.strip() not in defaults:
            raise EnvError(f"{name}: no rate limit named {key.strip()!r}; the limits are {', '.join(defaults)}")
        chosen[key.strip()] = value
    rates = {}
    for key, value in chosen.items():
        try:
            rates[key] = parse_rate(value)
        except ValueError:
            raise EnvError(
                f"{name}: {key}={value.strip()!r} is not a rate; use requests/period, e.g. 30/m, 10/5m, 60/h, or off"
            ) from None
    return rates
