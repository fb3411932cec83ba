"""Signals the operations app sends, so that mail can notify without operations knowing how.

``action_overdue`` is sent once per reminder of a follow-up action that is past its due date,
inside the transaction that records the reminder, by the daily reminders job. Keyword
argument: ``action`` (a ``ReviewAction`` with its review, incident and owner loaded).
Receivers that send mail must use ``transaction.on_commit``.
"""

from django.dispatch import Signal

action_overdue = Signal()
