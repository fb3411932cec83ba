"""Settings come from the environment and stop start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from arende.settings.env import Env

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    "environ, call, message",
    [
        ({"DEBUG": "maybe"}, lambda e: e.bool("DEBUG", default=False), "DEBUG"),
        ({"EMAIL_PORT": "twenty-five"}, lambda e: e.int("EMAIL_PORT", 25), "EMAIL_PORT"),
        ({"EMAIL_PORT": "70000"}, lambda e: e.int("EMAIL_PORT", 25, maximum=65535), "EMAIL_PORT"),
        ({"DATABASE_URL": "mysql://x/y"}, lambda e: e.database("DATABASE_URL", ""), "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost"}, lambda e: e.redis_url("REDIS_URL"), "REDIS_URL"),
        (
            {"ARENDE_MODE": "prod"},
            lambda e: e.choice("ARENDE_MODE", "development", ("development", "production")),
            "ARENDE_MODE",
        ),
        ({}, lambda e: e.str("SECRET_KEY"), "SECRET_KEY"),
    ],
)
def test_bad_values_name_the_variable(environ, call, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        call(Env(environ))


def test_good_values_are_parsed():
    env = Env(
        {
            "DEBUG": "on",
            "ALLOWED_HOSTS": "a.example, b.example",
            "JOBS": "4",
            "DATABASE_URL": "postgres://u:p@db.example:5433/arende",
        }
    )
    assert env.bool("DEBUG", default=False) is True
    assert env.list("ALLOWED_HOSTS", []) == ["a.example", "b.example"]
    assert env.int("JOBS", 1) == 4
    database = env.database("DATABASE_URL", "")
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.example", 5433, "arende")


def _start(environ: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "ARENDE_MODE", "DATABASE_URL"}
    }
    clean.update(environ, DJANGO_SETTINGS_MODULE="arende.settings.base")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


GOOD_SECRET = "x" * 20 + "-a-long-and-random-production-secret-value"


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"ARENDE_MODE": "production", "ALLOWED_HOSTS": "arende.example"}, "SECRET_KEY"),
        (
            {
                "ARENDE_MODE": "production",
                "ALLOWED_HOSTS": "arende.example",
                "SECRET_KEY": "insecure-development-key-never-use-in-production",
            },
            "SECRET_KEY",
        ),
        (
            {
                "ARENDE_MODE": "production",
                "ALLOWED_HOSTS": "arende.example",
                "SECRET_KEY": GOOD_SECRET,
                "DEBUG": "true",
            },
            "DEBUG",
        ),
        ({"ARENDE_MODE": "production", "SECRET_KEY": GOOD_SECRET}, "ALLOWED_HOSTS"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
    ],
)
def test_production_refuses_to_start_with_unsafe_settings(environ, message):
    result = _start(environ)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_starts_with_safe_settings():
    result = _start(
        {"ARENDE_MODE": "production", "ALLOWED_HOSTS": "arende.example", "SECRET_KEY": GOOD_SECRET}
    )
    assert result.returncode == 0, result.stderr


def test_redis_url_switches_the_job_queue_to_redis():
    code = (
        "import django; django.setup(); from huey.contrib.djhuey import HUEY; "
        "print(type(HUEY).__name__)"
    )
    clean = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="arende.settings.base",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "RedisHuey", result.stderr
    clean.pop("REDIS_URL")
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "SqliteHuey", result.stderr
