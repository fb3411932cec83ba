"""Signed links for rating a resolved ticket without logging in.

The link carries the ticket's id and reference, signed with the secret key and a salt of its
own (so no other signed value of the site can be passed off as one), and a timestamp: it
expires after ``RATING_LINK_MAX_AGE``. It is single use because a ticket has at most one
rating (``SatisfactionRating`` is one-to-one); a second use is answered with "already rated".
"""

from __future__ import annotations

import datetime

from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from arende.core.errors import DomainError
from arende.servicedesk.models import Ticket

RATING_SALT = "arende.servicedesk.rating"
RATING_LINK_MAX_AGE = datetime.timedelta(days=30)


class InvalidRatingLink(DomainError):
    """The rating link was altered, cut short, or points to a ticket that no longer exists."""

    status_code = 404

    def __init__(self, message: str | None = None, *, code: str = "invalid_link") -> None:
        super().__init__(
            message or _("This rating link is not valid. Check that you copied all of it."),
            code=code,
        )


class ExpiredRatingLink(InvalidRatingLink):
    """The rating link is older than ``RATING_LINK_MAX_AGE``."""

    def __init__(self) -> None:
        super().__init__(
            _("This rating link has expired. Links for rating work for %(days)d days.")
            % {"days": RATING_LINK_MAX_AGE.days},
            code="expired_link",
        )


def rating_token(ticket: Ticket) -> str:
    return signing.dumps({"t": ticket.pk, "r": ticket.reference}, salt=RATING_SALT)


def rating_url(ticket: Ticket, *, base_url: str = "") -> str:
    """The path of the ticket's rating page (prefixed with ``base_url`` for a mail)."""
    path = reverse("servicedesk:portal_rate", kwargs={"token": rating_token(ticket)})
    return f"{base_url.rstrip('/')}{path}" if base_url else path


def ticket_from_rating_token(token: str) -> Ticket:
    """The ticket a rating link is for; ``InvalidRatingLink`` or ``ExpiredRatingLink`` if not."""
    try:
        payload = signing.loads(token, salt=RATING_SALT, max_age=RATING_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise ExpiredRatingLink() from None
    except signing.BadSignature:
        raise InvalidRatingLink() from None
    if not isinstance(payload, dict):
        raise InvalidRatingLink()
    ticket = (
        Ticket.objects.filter(pk=payload.get("t"), reference=payload.get("r"))
        .select_related("rating")
        .first()
    )
    if ticket is None:
        raise InvalidRatingLink()
    return ticket
