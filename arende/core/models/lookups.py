"""``id__in_set=<subquery>``: membership in a small set that a subquery yields, computed once.

``id IN (SELECT …)`` inside an OR (a requester's own tickets: requested by them OR watched by
them) makes PostgreSQL test the subquery row by row: a sequential scan of a million tickets
for a person who watches none. ``id = ANY(ARRAY(SELECT …))`` is evaluated once, before the
scan, and the result is an array the primary key index can look up, so each branch of the OR
uses its own index. Other databases get the plain ``IN``.
"""

from __future__ import annotations

from django.db import models
from django.db.models.lookups import In


@models.BigAutoField.register_lookup
@models.AutoField.register_lookup
class InSet(In):
    lookup_name = "in_set"

    def as_postgresql(self, compiler, connection) -> tuple[str, tuple]:
        if not hasattr(self.rhs, "as_sql"):
            return self.as_sql(compiler, connection)  # a list of values: plain IN
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)  # "(SELECT …)"
        return f"{lhs_sql} = ANY(ARRAY{rhs_sql})", (*lhs_params, *rhs_params)
