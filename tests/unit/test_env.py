import pytest

from tutor.env import EnvError, database_config, env_bool, env_choice, env_float, env_list, kept_secret


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("0", False), ("no", False)])
def test_env_bool_reads_the_usual_words(raw, expected):
    assert env_bool("DEBUG", not expected, {"DEBUG": raw}) is expected


def test_env_bool_falls_back_to_the_default_when_unset():
    assert env_bool("DEBUG", True, {}) is True


def test_env_bool_names_the_variable_and_the_accepted_words_when_wrong():
    with pytest.raises(EnvError, match=r"DEBUG='maybe' is not a boolean; use one of 1/0"):
        env_bool("DEBUG", False, {"DEBUG": "maybe"})


def test_env_float_rejects_words_with_an_example():
    with pytest.raises(EnvError, match=r"TUTOR_HEARTBEAT_INTERVAL='soon' is not a number; use e.g. 10.0"):
        env_float("TUTOR_HEARTBEAT_INTERVAL", 10.0, {"TUTOR_HEARTBEAT_INTERVAL": "soon"})


def test_env_list_splits_on_commas_and_drops_blanks():
    assert env_list("ALLOWED_HOSTS", [], {"ALLOWED_HOSTS": "a.example, b.example,,"}) == [
        "a.example",
        "b.example",
    ]


def test_env_choice_lists_the_choices_when_wrong():
    with pytest.raises(EnvError, match="TUTOR_RUNTIME='kvm' is not one of auto, docker, simulated"):
        env_choice("TUTOR_RUNTIME", "auto", ("auto", "docker", "simulated"), {"TUTOR_RUNTIME": "kvm"})
    assert env_choice("TUTOR_RUNTIME", "auto", ("auto", "docker"), {"TUTOR_RUNTIME": " Docker "}) == "docker"


def test_kept_secret_is_generated_once_private_and_then_reused(tmp_path):
    path = tmp_path / "var" / "secret-key"
    first = kept_secret(path)
    assert len(first) >= 50
    assert path.stat().st_mode & 0o777 == 0o600
    assert kept_secret(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["secret-key"]  # no temporary file left


def test_database_config_defaults_to_sqlite_in_wal_mode_under_var(tmp_path):
    config = database_config(None, var_dir=tmp_path)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "db.sqlite3")
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["TEST"]["NAME"] == str(tmp_path / "test-db.sqlite3")


def test_database_config_reads_a_postgres_url(tmp_path):
    config = database_config("postgres://tutor:pw@db.internal:5432/tutor", var_dir=tmp_path)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.internal",
        5432,
        "tutor",
        "tutor",
    )
    assert config["OPTIONS"] == {"pool": {"min_size": 1, "max_size": 8, "timeout": 10}}
