"""Mailbox secrets (passwords, OAuth client secrets) encrypted at rest.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from ``MAIL_SECRET_KEY`` when set, or
from ``SECRET_KEY``. A database dump alone does not give the password away. Rotating the key
means entering the secrets again. Secrets are write-only everywhere: forms, the administration
site and the API take a new one but never show the stored one, and nothing logs them.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

_CONTEXT = b"arende.mail.secrets.v1"


def _fernet() -> Fernet:
    source = settings.MAIL_SECRET_KEY or settings.SECRET_KEY
    digest = hashlib.sha256(_CONTEXT + source.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


class SecretUnreadable(Exception):
    """The stored secret was encrypted with another key: enter it again."""


def decrypt_secret(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The mailbox secret cannot be decrypted (the key changed?); enter it again."
        ) from None
