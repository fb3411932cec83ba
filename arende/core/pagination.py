"""Pagination that does not count a million rows to show the first fifty."""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator

LIST_COUNT_CAP = 2_000


class CappedPaginator(Paginator):
    """Counts at most ``cap + 1`` rows; ``is_capped`` says that there are more than ``cap``.

    Beyond the cap the last pages are not offered: an agent narrows the list with a filter
    rather than paging past page 40.
    """

    def __init__(self, object_list, per_page, *, cap: int = LIST_COUNT_CAP, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _counted(self) -> int:
        # Without the list's ordering the database can stop at cap + 1 rows in any order.
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @cached_property
    def is_capped(self) -> bool:
        return self._counted > self.cap
