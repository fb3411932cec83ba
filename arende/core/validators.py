"""Validators for Swedish identifiers."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_ORG_NUMBER = re.compile(r"^(\d{6})-?(\d{4})$")


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check as used for Swedish organisation and personal numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalise_org_number(value: str) -> str:
    """Return the organisation number as NNNNNN-NNNN, or raise ValidationError."""
    match = _ORG_NUMBER.match(value.strip())
    if not match:
        raise ValidationError(
            _("Enter the organisation number as NNNNNN-NNNN."), code="org_number_format"
        )
    digits = match.group(1) + match.group(2)
    if not luhn_ok(digits):
        raise ValidationError(
            _("The organisation number's check digit is wrong."), code="org_number_checksum"
        )
    # Swedish organisation numbers have 2 in the third position or higher (month >= 20),
    # which is what tells them apart from personal numbers.
    if int(digits[2:4]) < 20:
        raise ValidationError(
            _(
                "This is not an organisation number (the third and fourth digits must be 20 or more)."
            ),
            code="org_number_kind",
        )
    return f"{match.group(1)}-{match.group(2)}"


def validate_org_number(value: str) -> None:
    normalise_org_number(value)
