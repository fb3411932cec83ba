"""A small IMAP client for intake: connect, log in (password or XOAUTH2), list new mail, fetch
it without marking it read, and flag or move it once its ticket is committed.

Processed mail gets the keyword ``$ArendeProcessed`` (and ``\\Seen``), or is moved to the
mailbox's processed folder; "new" means "without that keyword", so a message that was fetched
but not finished (a crash between fetch and commit) is simply fetched again.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

from arende.mail import oauth
from arende.mail.models import Mailbox
from arende.mail.secrets import decrypt_secret

DONE_KEYWORD = "$ArendeProcessed"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
UID_RE = re.compile(rb"UID (\d+)")
SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")
UIDVALIDITY_RE = re.compile(rb"UIDVALIDITY (\d+)")


class MailboxError(Exception):
    """The mailbox could not be read: connection, log-in or protocol. Never holds a secret."""


@dataclass
class Fetched:
    uid: int
    size: int
    raw: bytes


def imap_utf7(text: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3): "Ärende" -> "&AMQ-rende"."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in text:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quote(folder: str) -> str:
    folder = imap_utf7(folder)
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uid_set(uids: list[int]) -> str:
    return ",".join(str(uid) for uid in uids)


class ImapSession:
    """One connection to one mailbox; use as a context manager."""

    def __init__(self, mailbox: Mailbox, *, timeout: float = 60.0) -> None:
        self.mailbox = mailbox
        self.timeout = timeout
        self.client: imaplib.IMAP4 | None = None
        self.uidvalidity = 0
        self.capabilities: set[str] = set()

    # Connecting ------------------------------------------------------------------------------

    def __enter__(self) -> ImapSession:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        box = self.mailbox
        try:
            if box.security == Mailbox.Security.TLS:
                context = ssl.create_default_context()
                self.client = imaplib.IMAP4_SSL(
                    box.host, box.port, ssl_context=context, timeout=self.timeout
                )
            else:
                if box.security == Mailbox.Security.PLAIN and box.host not in LOOPBACK:
                    raise MailboxError("Unencrypted IMAP is only allowed to this machine.")
                self.client = imaplib.IMAP4(box.host, box.port, timeout=self.timeout)
                if box.security == Mailbox.Security.STARTTLS:
                    self.client.starttls(ssl_context=ssl.create_default_context())
            self._authenticate()
            # The greeting's capabilities are the pre-login ones; ask again (MOVE, UIDPLUS).
            status, data = self.client.capability()
            if status == "OK" and data and data[-1]:
                self.capabilities = set(data[-1].decode().upper().split())
        except MailboxError:
            self.close()
            raise
        except (TimeoutError, imaplib.IMAP4.error, OSError, ssl.SSLError) as error:
            self.close()
            raise MailboxError(f"{box.host}:{box.port}: {error}") from None

    def _authenticate(self) -> None:
        box = self.mailbox
        assert self.client is not None
        secret = decrypt_secret(box.secret_encrypted)
        if box.auth_method == Mailbox.Auth.XOAUTH2:
            try:
                token = oauth.fetch_token(
                    token_url=oauth.token_url_for(box.oauth_tenant, box.oauth_token_url),
                    client_id=box.oauth_client_id,
                    client_secret=secret,
                    scope=box.oauth_scope or oauth.DEFAULT_SCOPE,
                )
            except oauth.TokenError as error:
                raise MailboxError(str(error)) from None
            sasl = oauth.xoauth2_string(box.username, token.access_token)
            answers = iter([sasl])
            try:
                # After a refusal the server sends an error as a challenge; answer it empty.
                self.client.authenticate("XOAUTH2", lambda _challenge: next(answers, b""))
            except imaplib.IMAP4.error:
                raise MailboxError(
                    f"{box.host}: XOAUTH2 log-in refused for {box.username}"
                ) from None
        else:
            try:
                self.client.login(box.username, secret)
            except imaplib.IMAP4.error:
                raise MailboxError(f"{box.host}: log-in refused for {box.username}") from None

    def close(self) -> None:
        if self.client is None:
            return
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            self.client.logout()
        self.client = None

    # Reading ---------------------------------------------------------------------------------

    def _ok(self, result: tuple[str, list], what: str) -> list:
        status, data = result
        if status != "OK":
            raise MailboxError(f"{what}: {data!r}"[:500])
        return data

    def select(self, folder: str) -> int:
        assert self.client is not None
        self._ok(self.client.select(_quote(folder)), f"SELECT {folder}")
        validity = self.client.untagged_responses.get("UIDVALIDITY") or [b"0"]
        self.uidvalidity = int(validity[-1])
        return self.uidvalidity

    def new_uids(self) -> list[int]:
        assert self.client is not None
        data = self._ok(self.client.uid("SEARCH", "UNKEYWORD", DONE_KEYWORD), "SEARCH")
        return sorted(int(uid) for uid in b" ".join(data).split())

    def sizes(self, uids: list[int]) -> dict[int, int]:
        assert self.client is not None
        if not uids:
            return {}
        data = self._ok(self.client.uid("FETCH", _uid_set(uids), "(UID RFC822.SIZE)"), "FETCH")
        sizes = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid, size = UID_RE.search(line), SIZE_RE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def fetch(self, uids: list[int], *, headers_only: bool = False) -> Iterator[Fetched]:
        """The raw messages (``BODY.PEEK``: fetching does not mark them read)."""
        assert self.client is not None
        if not uids:
            return
        section = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
        data = self._ok(self.client.uid("FETCH", _uid_set(uids), f"(UID {section})"), "FETCH")
        for index, item in enumerate(data):
            if not isinstance(item, tuple):
                continue
            head, raw = item
            match = UID_RE.search(head)
            if match is None and index + 1 < len(data) and isinstance(data[index + 1], bytes):
                match = UID_RE.search(data[index + 1])
            if match is None:
                continue
            yield Fetched(uid=int(match.group(1)), size=len(raw), raw=raw)

    # Marking ---------------------------------------------------------------------------------

    def mark_done(self, uids: list[int]) -> None:
        """Flag, or move to the processed folder, the messages whose tickets are committed."""
        assert self.client is not None
        if not uids:
            return
        uid_set = _uid_set(uids)
        self._ok(
            self.client.uid("STORE", uid_set, "+FLAGS.SILENT", f"(\\Seen {DONE_KEYWORD})"), "STORE"
        )
        target = self.mailbox.processed_folder
        if not target:
            return
        capabilities = self.capabilities or set(self.client.capabilities)
        if "MOVE" in capabilities:
            self._ok(self.client.uid("MOVE", uid_set, _quote(target)), "MOVE")
        else:
            self._ok(self.client.uid("COPY", uid_set, _quote(target)), "COPY")
            self._ok(self.client.uid("STORE", uid_set, "+FLAGS.SILENT", "(\\Deleted)"), "STORE")
            if "UIDPLUS" in capabilities:
                self._ok(self.client.uid("EXPUNGE", uid_set), "EXPUNGE")
            else:
                self._ok(self.client.expunge(), "EXPUNGE")

    def ensure_folder(self, folder: str) -> None:
        assert self.client is not None
        if not folder:
            return
        status, data = self.client.create(_quote(folder))
        text = b" ".join(item for item in data if isinstance(item, bytes)).decode(errors="replace")
        if status != "OK" and "ALREADYEXISTS" not in text.upper() and "EXISTS" not in text.upper():
            raise MailboxError(f"CREATE {folder}: {text}"[:500])


def append(session: ImapSession, folder: str, raw: bytes) -> None:
    """Deliver a message (tests and the benchmark fill the mailbox this way)."""
    assert session.client is not None
    status, data = session.client.append(_quote(folder), None, None, raw)
    if status != "OK":
        raise MailboxError(f"APPEND: {data!r}")
