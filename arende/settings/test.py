"""Settings for the test suite: the base settings with jobs run in-process and fast hashing."""

from arende.settings.base import *  # noqa: F403
from arende.settings.base import HUEY

HUEY = {**HUEY, "immediate": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_RATE_LIMITS = False
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Never let a test touch the developer's own embedded database.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["NAME"] = str(VAR_DIR / "test.sqlite3")  # noqa: F405

# The demo's year of ticket history takes ~20 s to build; tests that need it build a short one.
DEMO_HISTORY = False
