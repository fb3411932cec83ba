"""Two pollers at once on one mailbox (PostgreSQL: real row locks and unique constraints)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from arende.mail.models import InboundMessage
from arende.mail.services.intake import mailbox_poll
from arende.mail.tests.conftest import deliver
from arende.servicedesk.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _message(n: int) -> bytes:
    return (
        f"From: person{n}@herrljunga.example\r\nTo: servicedesk@it.example\r\n"
        f"Subject: Ärende nummer {n}\r\nMessage-ID: <concurrent-{n}@herrljunga.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nDatorn startar inte.\r\n"
    ).encode()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL's row locks"
)
def test_two_pollers_at_once_make_one_ticket_each(mailbox, world):
    count = 40
    deliver(mailbox, *[_message(n) for n in range(count)])
    results, errors = [], []
    barrier = threading.Barrier(2)

    def poll() -> None:
        try:
            barrier.wait()
            results.append(mailbox_poll(mailbox=mailbox))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    assert [result.error for result in results] == ["", ""]
    assert Ticket.objects.count() == count, results
    assert InboundMessage.objects.count() == count
    assert sum(result.processed for result in results) == count
    assert mailbox_poll(mailbox=mailbox).fetched == 0  # all flagged on the server
