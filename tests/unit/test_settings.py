"""Settings read in a fresh interpreter, so each case sees only the environment it sets."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READ_SETTINGS = "import django; django.setup(); from django.conf import settings; print(settings.{})"


def read_setting(name: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL"}}
    base.update(DJANGO_SETTINGS_MODULE="tutor.settings", TUTOR_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(
        [sys.executable, "-c", READ_SETTINGS.format(name)],
        cwd=REPO,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_debug_a_missing_secret_key_stops_start_up_with_a_clear_message(tmp_path):
    result = read_setting("SECRET_KEY", tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_in_debug_mode_a_secret_key_is_generated_once_and_kept_under_var(tmp_path):
    first = read_setting("SECRET_KEY", tmp_path, DEBUG="1")
    second = read_setting("SECRET_KEY", tmp_path, DEBUG="1")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert (tmp_path / "var" / "secret-key").read_text().strip() == first.stdout.strip()


def test_a_bad_runtime_setting_names_the_variable_and_the_choices(tmp_path):
    result = read_setting("TUTOR_RUNTIME", tmp_path, DEBUG="1", TUTOR_RUNTIME="vm")
    assert result.returncode != 0
    assert "TUTOR_RUNTIME='vm' is not one of auto, docker, simulated" in result.stderr


def test_redis_url_becomes_the_broker_and_the_filesystem_broker_is_the_default(tmp_path):
    with_redis = read_setting("CELERY_BROKER_URL", tmp_path, DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/3")
    embedded = read_setting("CELERY_BROKER_URL", tmp_path, DEBUG="1")
    assert with_redis.stdout.strip() == "redis://127.0.0.1:6379/3"
    assert embedded.stdout.strip().startswith("filesystem://")
    assert (tmp_path / "var" / "broker" / "queue").is_dir()
