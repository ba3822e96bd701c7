"""Settings read once from the environment (SPEC §2).

A bad value stops the program at start with an error that names the variable, so an operator
never runs a half-configured ledger.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ledger.contract.note_keys import is_valid_key_name
from ledger.runtime.secret_file import write_secret_file

log = logging.getLogger(__name__)

DATABASE_URL_DEFAULT = "sqlite:///var/pointsledger.sqlite3"
VAR_DIRECTORY = Path("var")
PEPPER_FILE = VAR_DIRECTORY / "resident.pepper"
LEDGER_KEY_FILE_DEFAULT = VAR_DIRECTORY / "ledger.key"
CLOCK_SKEW_S_DEFAULT = 300
CLOCK_SKEW_S_MAX = 86_400
RETIRED_KEY_GRACE_S_DEFAULT = 7 * 86_400
RETIRED_KEY_GRACE_S_MAX = 366 * 86_400
CONSOLE_IDLE_S_DEFAULT = 15 * 60
CONSOLE_MAX_S_DEFAULT = 10 * 3600
CONSOLE_SESSION_S_MAX = 7 * 86_400
PEPPER_LENGTH_MIN = 16
LOG_ORIGIN_FILE = VAR_DIRECTORY / "log.origin"
EMBEDDED_LOG_ORIGIN_PREFIX = "pointsledger.local/"
EMBEDDED_LOG_NAME_BYTES = 9
LOG_ORIGIN_LENGTH_MAX = 255
CHECKPOINT_INTERVAL_S_DEFAULT = 10
# An hour: a witness or an auditor should never wait longer to see the log's growth signed.
CHECKPOINT_INTERVAL_S_MAX = 3600


class SettingsError(Exception):
    """A configuration value is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    amqp_url: str | None
    resident_pepper: str
    ledger_key_file: Path
    clock_skew_s: int
    # How long a retired key's backlog (signed before the retirement) is still accepted (§3).
    retired_key_grace_s: int = RETIRED_KEY_GRACE_S_DEFAULT
    # A console session ends after this long without a request, or this long after sign-in.
    console_idle_s: int = CONSOLE_IDLE_S_DEFAULT
    console_max_s: int = CONSOLE_MAX_S_DEFAULT
    # The verifiable log's name (SPEC §14): the first line of every checkpoint, and the name of
    # the key that signs them. Every party that checks the log holds the ledger to it.
    log_origin: str = EMBEDDED_LOG_ORIGIN_PREFIX + "unnamed"  # from_environment always names it
    # A new checkpoint is signed at most this long after the tree grows (SPEC §14).
    checkpoint_interval_s: int = CHECKPOINT_INTERVAL_S_DEFAULT

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: events posted to the API are appended in-process."""
        return self.amqp_url is None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        database_url = database_url_from_environment(env)
        amqp_url = _amqp_url(env.get("POINTSLEDGER_AMQP_URL") or None)
        return cls(
            database_url=database_url,
            amqp_url=amqp_url,
            resident_pepper=_resident_pepper(env.get("POINTSLEDGER_RESIDENT_PEPPER"), amqp_url),
            ledger_key_file=ledger_key_file_from_environment(env),
            clock_skew_s=_clock_skew_s(env.get("POINTSLEDGER_CLOCK_SKEW_S")),
            retired_key_grace_s=_seconds("POINTSLEDGER_RETIRED_KEY_GRACE_S",
                                         env.get("POINTSLEDGER_RETIRED_KEY_GRACE_S"),
                                         RETIRED_KEY_GRACE_S_DEFAULT, RETIRED_KEY_GRACE_S_MAX),
            console_idle_s=_console_seconds("POINTSLEDGER_CONSOLE_IDLE_S", env,
                                            CONSOLE_IDLE_S_DEFAULT),
            console_max_s=_console_seconds("POINTSLEDGER_CONSOLE_MAX_S", env,
                                           CONSOLE_MAX_S_DEFAULT),
            log_origin=log_origin_from_environment(env),
            checkpoint_interval_s=_checkpoint_interval_s(env),
        )


def database_url_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """Only the database URL: what `db upgrade` needs, without making a pepper on the side."""
    env = os.environ if environ is None else environ
    return _database_url(env.get("POINTSLEDGER_DATABASE_URL") or DATABASE_URL_DEFAULT)


def ledger_key_file_from_environment(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("POINTSLEDGER_LEDGER_KEY_FILE") or LEDGER_KEY_FILE_DEFAULT)


def log_origin_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """POINTSLEDGER_LOG_ORIGIN; required with a broker (a deployment names its log once and for
    all), else a name generated once and kept in var/ (embedded mode)."""
    env = os.environ if environ is None else environ
    value = env.get("POINTSLEDGER_LOG_ORIGIN")
    if value:
        if len(value) > LOG_ORIGIN_LENGTH_MAX or not is_valid_key_name(value):
            raise SettingsError(
                f"POINTSLEDGER_LOG_ORIGIN must be 1 to {LOG_ORIGIN_LENGTH_MAX} characters without "
                "spaces or plus signs, such as bank.example/pointsledger (it names the log and "
                "its signing key)")
        return value
    if env.get("POINTSLEDGER_AMQP_URL"):
        raise SettingsError(
            "POINTSLEDGER_LOG_ORIGIN is required when POINTSLEDGER_AMQP_URL is set: it names the "
            "log in every checkpoint, such as bank.example/pointsledger")
    return _embedded_log_origin()


def _embedded_log_origin() -> str:
    """Generated once and kept, like the pepper: a log that changed its name would be a new log
    to everyone who checks it."""
    return _generated_once(LOG_ORIGIN_FILE, lambda: EMBEDDED_LOG_ORIGIN_PREFIX
                           + secrets.token_hex(EMBEDDED_LOG_NAME_BYTES))


def _generated_once(path: Path, generate: Callable[[], str]) -> str:
    """The value kept at `path`, else a new one from `generate`, kept there (mode 0600) for
    every later run; two processes starting at once share the one that was written first."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = generate()
    try:
        write_secret_file(path, value + "\n")
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    return value


def _database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError as error:
        raise SettingsError(
            f"POINTSLEDGER_DATABASE_URL is not a valid SQLAlchemy URL: {error}"
        ) from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(
            f"POINTSLEDGER_DATABASE_URL must point to PostgreSQL or SQLite, not {backend!r}"
        )
    if backend == "postgresql" and url.drivername != "postgresql+psycopg":
        # psycopg 3 is the only PostgreSQL driver we ship; a bare "postgresql://" means it too.
        url = url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return url.render_as_string(hide_password=False)


def _amqp_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith(("amqp://", "amqps://")):
        raise SettingsError("POINTSLEDGER_AMQP_URL must start with amqp:// or amqps://")
    return value


def _resident_pepper(value: str | None, amqp_url: str | None) -> str:
    if value:
        if len(value) < PEPPER_LENGTH_MIN:
            raise SettingsError(
                f"POINTSLEDGER_RESIDENT_PEPPER must be at least {PEPPER_LENGTH_MIN} characters"
            )
        return value
    if amqp_url is not None:
        raise SettingsError(
            "POINTSLEDGER_RESIDENT_PEPPER is required when POINTSLEDGER_AMQP_URL is set"
        )
    return _embedded_pepper()


def _embedded_pepper() -> str:
    """The embedded mode keeps a generated pepper in var/ so pseudonyms stay stable across runs."""
    generated = not PEPPER_FILE.exists()
    pepper = _generated_once(PEPPER_FILE, lambda: secrets.token_urlsafe(32))
    if generated:
        log.warning("POINTSLEDGER_RESIDENT_PEPPER is not set: generated one into %s (embedded "
                    "mode only)", PEPPER_FILE)
    return pepper


def _clock_skew_s(value: str | None) -> int:
    return _seconds("POINTSLEDGER_CLOCK_SKEW_S", value, CLOCK_SKEW_S_DEFAULT, CLOCK_SKEW_S_MAX)


def _checkpoint_interval_s(env: Mapping[str, str]) -> int:
    variable = "POINTSLEDGER_CHECKPOINT_INTERVAL_S"
    seconds = _seconds(variable, env.get(variable), CHECKPOINT_INTERVAL_S_DEFAULT,
                       CHECKPOINT_INTERVAL_S_MAX)
    if seconds == 0:
        raise SettingsError(f"{variable} must be at least 1 second")
    return seconds


def _console_seconds(variable: str, env: Mapping[str, str], default: int) -> int:
    seconds = _seconds(variable, env.get(variable), default, CONSOLE_SESSION_S_MAX)
    if seconds == 0:
        raise SettingsError(f"{variable} must be at least 1 second")
    return seconds


def _seconds(variable: str, value: str | None, default: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    try:
        seconds = int(value)
    except ValueError:
        raise SettingsError(f"{variable} must be a whole number of seconds") from None
    if not 0 <= seconds <= maximum:
        raise SettingsError(f"{variable} must be between 0 and {maximum}")
    return seconds
