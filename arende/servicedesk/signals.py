"""Signals other domains listen to, so that the ticket services need not know about them.

``ticket_changed`` is sent inside the service's transaction, after the ticket row is saved, for
every write: ``verb`` says what happened ("create", "assign", "escalate", "hand_back", "status",
"resolve", "reopen", "close", "cancel", "reply", "note", "update", "parent", "approve",
"reject", "merge"). Receivers that have side effects outside the database (mail) must defer them
with ``transaction.on_commit``; receivers that keep derived rows (SLA clocks) update them at once,
so they commit or roll back together with the ticket.

Keyword arguments: ``ticket``, ``verb``, ``actor`` (a user or None), ``activity`` (the timeline
entry the write produced, or None), ``imported`` (True while history is being replayed with
back-dated times: no one must be notified of it).
"""

from django.dispatch import Signal

ticket_changed = Signal()
