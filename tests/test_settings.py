"""SPEC §2: configuration from the environment; a bad value stops with the variable's name."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from ledger.settings import Settings, SettingsError

PEPPER = "a-pepper-of-sixteen-or-more"


@pytest.fixture(autouse=True)
def in_a_scratch_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Defaults live under var/ relative to the working directory: keep them in tmp_path."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def settings(**variables: str) -> Settings:
    return Settings.from_environment({f"POINTSLEDGER_{name.upper()}": value
                                      for name, value in variables.items()})


def test_defaults_are_the_embedded_mode() -> None:
    loaded = settings(resident_pepper=PEPPER)
    assert loaded.database_url == "sqlite:///var/pointsledger.sqlite3"
    assert Path("var").is_dir(), "var/ is created on demand for the SQLite file"
    assert loaded.amqp_url is None and loaded.embedded
    assert loaded.resident_pepper == PEPPER
    assert loaded.ledger_key_file == Path("var/ledger.key")
    assert loaded.clock_skew_s == 300


def test_values_from_the_environment_are_used(tmp_path: Path) -> None:
    loaded = settings(database_url="postgresql+psycopg://ledger:pw@db:5432/ledger",
                      amqp_url="amqps://mq.example/ledger", resident_pepper=PEPPER,
                      ledger_key_file=str(tmp_path / "ledger.key"), clock_skew_s="60",
                      log_origin="bank.example/pointsledger")
    assert loaded.database_url == "postgresql+psycopg://ledger:pw@db:5432/ledger"
    assert loaded.log_origin == "bank.example/pointsledger"
    assert loaded.amqp_url == "amqps://mq.example/ledger" and not loaded.embedded
    assert loaded.ledger_key_file == tmp_path / "ledger.key"
    assert loaded.clock_skew_s == 60


def test_a_plain_postgresql_url_means_psycopg_3() -> None:
    loaded = settings(database_url="postgresql://ledger@db/ledger", resident_pepper=PEPPER)
    assert loaded.database_url == "postgresql+psycopg://ledger@db/ledger"


def test_an_empty_variable_means_its_default() -> None:
    loaded = settings(database_url="", amqp_url="", clock_skew_s="", resident_pepper=PEPPER)
    assert loaded.database_url.startswith("sqlite:///var/")
    assert loaded.amqp_url is None and loaded.clock_skew_s == 300


@pytest.mark.parametrize(("variables", "variable"), [
    ({"database_url": "not a url"}, "POINTSLEDGER_DATABASE_URL"),
    ({"database_url": "mysql://ledger:hunter2-secret@db/ledger"}, "POINTSLEDGER_DATABASE_URL"),
    ({"database_url": "oracle://db/ledger"}, "POINTSLEDGER_DATABASE_URL"),
    ({"amqp_url": "http://mq.example/"}, "POINTSLEDGER_AMQP_URL"),
    ({"amqp_url": "rabbitmq.example:5672"}, "POINTSLEDGER_AMQP_URL"),
    ({"amqp_url": "amqp://mq.example/", "resident_pepper": ""}, "POINTSLEDGER_RESIDENT_PEPPER"),
    ({"amqp_url": "amqp://mq.example/", "resident_pepper": None},
     "POINTSLEDGER_RESIDENT_PEPPER"),
    ({"resident_pepper": "too-short"}, "POINTSLEDGER_RESIDENT_PEPPER"),
    ({"clock_skew_s": "five minutes"}, "POINTSLEDGER_CLOCK_SKEW_S"),
    ({"clock_skew_s": "1.5"}, "POINTSLEDGER_CLOCK_SKEW_S"),
    ({"clock_skew_s": "-1"}, "POINTSLEDGER_CLOCK_SKEW_S"),
    ({"clock_skew_s": "86401"}, "POINTSLEDGER_CLOCK_SKEW_S"),
])
def test_a_bad_value_stops_with_the_variable_named(
        variables: dict[str, str | None], variable: str) -> None:
    environment = {"resident_pepper": PEPPER, **variables}
    given = {name: value for name, value in environment.items() if value is not None}
    with pytest.raises(SettingsError) as stopped:
        settings(**given)
    message = str(stopped.value)
    assert variable in message
    assert "hunter2-secret" not in message and "too-short" not in message
    assert not Path("var/resident.pepper").exists()


def test_the_clock_skew_limits_are_accepted() -> None:
    assert settings(resident_pepper=PEPPER, clock_skew_s="0").clock_skew_s == 0
    assert settings(resident_pepper=PEPPER, clock_skew_s="86400").clock_skew_s == 86_400


def test_the_embedded_mode_generates_a_pepper_once_with_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ledger.settings"):
        first = settings()
    assert "POINTSLEDGER_RESIDENT_PEPPER" in caplog.text
    pepper_file = Path("var/resident.pepper")
    assert stat.S_IMODE(pepper_file.stat().st_mode) == 0o600
    assert first.resident_pepper == pepper_file.read_text().strip()
    assert len(first.resident_pepper) >= 32
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ledger.settings"):
        second = settings()
    assert second.resident_pepper == first.resident_pepper, "pseudonyms stay stable across runs"
    assert PEPPER not in caplog.text and first.resident_pepper not in caplog.text


def test_a_set_pepper_is_never_written_to_disk() -> None:
    settings(resident_pepper=PEPPER)
    assert not Path("var/resident.pepper").exists()


def test_a_log_with_a_broker_must_be_named() -> None:
    with pytest.raises(SettingsError, match="POINTSLEDGER_LOG_ORIGIN is required when "
                                            "POINTSLEDGER_AMQP_URL is set"):
        settings(amqp_url="amqp://mq.example/", resident_pepper=PEPPER)


@pytest.mark.parametrize("origin", ["bank example/log", "bank.example/log+1", "x" * 256,
                                    "bank.example/\tlog"])
def test_a_log_origin_that_cannot_name_a_key_is_refused(origin: str) -> None:
    with pytest.raises(SettingsError, match="POINTSLEDGER_LOG_ORIGIN must be"):
        settings(log_origin=origin, resident_pepper=PEPPER)


def test_the_embedded_mode_names_its_log_once_and_keeps_the_name() -> None:
    first = settings(resident_pepper=PEPPER).log_origin
    assert first.startswith("pointsledger.local/")
    assert len(first) > len("pointsledger.local/")
    assert Path("var/log.origin").read_text(encoding="utf-8").strip() == first
    assert settings(resident_pepper=PEPPER).log_origin == first
