"""Test set-up shared by every app's tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (rate limits, cached choice lists): a list cached
    by an earlier test would name rows its rollback removed."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def english(client, settings):
    """Pages and texts in English, for tests that read the English wording (Swedish is
    covered by the translation tests). Use with ``pytest.mark.usefixtures("english")``."""
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield
