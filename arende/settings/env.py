"""Reading settings from the environment.

Every reader fails fast with an ImproperlyConfigured that names the variable, so that a bad
deployment stops at start-up instead of misbehaving later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Typed access to a mapping of environment variables."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        return None if value is None else value.strip()

    def is_set(self, name: str) -> bool:
        return bool(self._raw(name))

    def str(self, name: str, default: str | None = None) -> str:
        value = self._raw(name)
        if value:
            return value
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set.")
        return default

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")

    def int(self, name: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
        value = self._raw(name)
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
        if not minimum <= number <= maximum:
            raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}.")
        return number

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self._raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = (self._raw(name) or default).lower()
        if value not in choices:
            raise ImproperlyConfigured(
                f"{name} must be one of {', '.join(choices)}, not {value!r}."
            )
        return value

    def database(self, name: str, default: str) -> dict[str, Any]:
        value = self._raw(name) or default
        scheme = urlparse(value).scheme
        if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
            raise ImproperlyConfigured(
                f"{name} must be a sqlite:// or postgres:// URL, not a {scheme or 'bare'} value."
            )
        try:
            config = dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
        if config["ENGINE"].endswith("postgresql"):
            # Choice fields iterate their querysets; with server-side cursors each list costs
            # DECLARE/FETCH/CLOSE round trips (and breaks behind a transaction-pooling pgbouncer).
            config["DISABLE_SERVER_SIDE_CURSORS"] = True
        if config["ENGINE"].endswith("sqlite3"):
            # SQLite connections are cheap; a persistent one would only hold locks.
            config["CONN_MAX_AGE"] = 0
            config["OPTIONS"] = {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        return config

    def redis_url(self, name: str) -> str | None:
        value = self._raw(name)
        if not value:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
            raise ImproperlyConfigured(f"{name} must be a redis:// or rediss:// URL with a host.")
        return value
