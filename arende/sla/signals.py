"""Signals the SLA app sends, so that mail (and later chat) can notify without the SLA app
knowing how.

``sla_alert`` is sent once per clock and threshold, inside the transaction that records it on the
ticket, by the periodic warnings job. Keyword arguments: ``ticket``, ``metric`` (the clock's metric
value, e.g. "resolution"), ``metric_label`` (its name in the active language), ``level``
("warning" at the first threshold, "critical" at the second, "breached"), ``deadline`` (aware
datetime), ``recipients`` (list of users: the assignee, the group's members, and for the highest
priority the IT manager). Receivers that send mail must use ``transaction.on_commit``.
"""

from django.dispatch import Signal

sla_alert = Signal()
