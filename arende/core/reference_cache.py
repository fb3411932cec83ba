"""Rarely changed reference data (choice lists, calendars) kept in the shared cache.

Pages that show such data on every view read it here instead of the database. Each namespace has
a generation number; a change to the rows behind it moves the generation on, at once and again
when the transaction commits (a request that read the old rows in between cannot keep them past
the commit). Entries also expire after ``ttl`` seconds, a backstop for a change made without
the model's signals (a queryset ``update``). Only what is *shown* may come from here (choice
lists, calendars for "time left", which groups the "My groups" queue lists); anything that
decides access or validates input reads the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")


class ReferenceCache:
    def __init__(self, namespace: str, *, ttl: int = 600) -> None:
        self.namespace = namespace
        self.ttl = ttl
        self.generation_key = f"{namespace}:generation"

    def _generation(self) -> int:
        generation = cache.get(self.generation_key)
        if generation is None:
            cache.add(self.generation_key, time.time_ns(), None)
            generation = cache.get(self.generation_key, 0)
        return generation

    def get(self, name: str, build: Callable[[], T]) -> T:
        """The entry ``name``, built by ``build`` when missing or out of date."""
        key = f"{self.namespace}:{self._generation()}:{name}"
        value = cache.get(key)
        if value is None:
            value = build()
            cache.set(key, value, self.ttl)
        return value

    def forget(self, **_signal_kwargs) -> None:
        """Make every entry be built again (now, and once more when the transaction commits).
        Takes a signal's keyword arguments, so it can be connected as a receiver."""

        def bump() -> None:
            cache.set(self.generation_key, time.time_ns(), None)

        bump()
        transaction.on_commit(bump)
