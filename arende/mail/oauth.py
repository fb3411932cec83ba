"""OAuth 2.0 for IMAP (XOAUTH2): the client-credentials token, and the SASL string.

Microsoft 365 lets an app registration read a mailbox over IMAP with a token it gets by itself
(client-credentials flow): POST the tenant's token endpoint with the client id and secret and
the scope ``https://outlook.office365.com/.default``; the answer holds an access token valid
for about an hour. The token then goes to the IMAP server in the XOAUTH2 SASL mechanism. See
README.md, "E-mail", for the app registration and the Exchange Online steps.

Plain HTTPS through the standard library: one request, one JSON answer; no SDK needed.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"  # noqa: S105
DEFAULT_SCOPE = "https://outlook.office365.com/.default"
EARLY_RENEWAL_SECONDS = 300


class TokenError(Exception):
    """The token endpoint refused or did not answer. The message never holds the secret."""


def xoauth2_string(username: str, access_token: str) -> bytes:
    """The XOAUTH2 initial client response (before base64, which imaplib adds):
    ``user=<user>^Aauth=Bearer <token>^A^A``."""
    if "\x01" in username or "\x01" in access_token:
        raise ValueError("Control characters are not allowed in XOAUTH2 values.")
    return f"user={username}\x01auth=Bearer {access_token}\x01\x01".encode()


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: float

    def fresh(self, now: float | None = None) -> bool:
        return (now or time.time()) < self.expires_at - EARLY_RENEWAL_SECONDS


def token_url_for(tenant: str, override: str = "") -> str:
    if override:
        return override
    if not tenant:
        raise TokenError("A tenant id (or a token endpoint) is needed for OAuth 2.0.")
    return MICROSOFT_TOKEN_URL.format(tenant=urllib.parse.quote(tenant, safe=""))


_cache: dict[tuple[str, str, str], Token] = {}
_cache_lock = threading.Lock()


def fetch_token(
    *,
    token_url: str,
    client_id: str,
    client_secret: str,
    scope: str = DEFAULT_SCOPE,
    timeout: float = 20.0,
    use_cache: bool = True,
) -> Token:
    """An access token by the client-credentials grant, cached until shortly before expiry."""
    key = (token_url, client_id, scope)
    if use_cache:
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None and cached.fresh():
            return cached
    scheme = urllib.parse.urlsplit(token_url).scheme
    host = urllib.parse.urlsplit(token_url).hostname or ""
    if scheme != "https" and host not in ("127.0.0.1", "localhost", "::1"):
        raise TokenError("The token endpoint must use HTTPS.")
    body = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scope,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        token_url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            payload = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        detail = ""
        try:
            answer = json.loads(error.read().decode("utf-8"))
            detail = f": {answer.get('error', '')} {answer.get('error_description', '')}".rstrip()
        except (ValueError, AttributeError):
            pass
        raise TokenError(f"The token endpoint answered HTTP {error.code}{detail}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise TokenError(f"The token endpoint could not be reached: {error}") from None
    except ValueError:
        raise TokenError("The token endpoint did not answer with JSON.") from None
    access_token = payload.get("access_token")
    if not access_token or str(payload.get("token_type", "Bearer")).lower() != "bearer":
        raise TokenError("The token endpoint's answer holds no bearer token.")
    token = Token(str(access_token), time.time() + float(payload.get("expires_in", 3600)))
    if use_cache:
        with _cache_lock:
            _cache[key] = token
    return token


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
