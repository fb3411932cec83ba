"""Reading a raw message: sender, subject, text, attachments, threading headers, auto-replies.

Python's ``email`` package with ``policy.default`` does the MIME work (quoted-printable,
base64, RFC 2047 headers, RFC 2231 file names). What it leaves to us: charsets that lie
(ISO-8859-1 declared, Windows-1252 sent; no charset at all), HTML-only mail, and telling
auto-replies and bounces from people.
"""

from __future__ import annotations

import email
import functools
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any

from arende.mail.html_text import html_to_text

REFERENCE = re.compile(r"(?<![\d-])(\d{4}-\d{6,})(?![\d-])")
PLUS_REFERENCE = re.compile(r"^[^@+]+\+(\d{4}-\d{6,})@", re.IGNORECASE)
SUBJECT_PREFIX = re.compile(
    r"^\s*((re|sv|aw|vs|fw|fwd|vb|wg|tr|antw|odp)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
LATIN1_ALIASES = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii"}


class ParseFailure(Exception):
    """The message cannot be turned into a ticket; the text says why (shown in quarantine)."""


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    inline: bool = False


@dataclass
class ParsedMessage:
    message_id: str
    from_address: str
    from_name: str
    subject: str
    text: str
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    automatic: str = ""  # why it is an auto-reply / bounce / bulk mail; "" for a person's mail
    html_only: bool = False

    @property
    def plus_reference(self) -> str:
        for address in self.recipients:
            match = PLUS_REFERENCE.match(address)
            if match:
                return match.group(1)
        return ""

    @property
    def subject_reference(self) -> str:
        match = REFERENCE.search(self.subject)
        return match.group(1) if match else ""

    @property
    def clean_subject(self) -> str:
        return SUBJECT_PREFIX.sub("", self.subject).strip()


def message_key(message_id: str, raw: bytes) -> str:
    """What makes a message the same message: its Message-ID, or its bytes when it has none."""
    if message_id:
        return hashlib.sha256(message_id.strip().lower().encode("utf-8", "replace")).hexdigest()
    return hashlib.sha256(b"raw:" + raw).hexdigest()


class _RememberedHeaders:
    """``policy.default``'s header factory, remembering what it made. ``policy.default``
    parses a header again at every look (a message's Content-Type a dozen times), and most
    messages share many headers; header objects are immutable, so one can be handed out twice.
    """

    def __init__(self) -> None:
        self._registry = HeaderRegistry()
        self._make = functools.lru_cache(maxsize=2048)(self._registry)

    def __call__(self, name: str, value: str) -> Any:
        return self._make(name, value)

    def __getitem__(self, name: str) -> Any:
        return self._registry[name]


POLICY = policy.default.clone(header_factory=_RememberedHeaders())


def parse_bytes(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=POLICY)  # type: ignore[return-value]


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:
        value = None
        for key, raw_value in message.raw_items():
            if key.lower() == name.lower():
                value = raw_value
                break
    return re.sub(r"\s+", " ", str(value)).strip() if value is not None else ""


def quick_headers(raw: bytes) -> tuple[str, str, str]:
    """(Message-ID, From address, Subject) for storing a message before it is parsed."""
    try:
        # The old (compat32) policy is several times faster; only three headers are needed.
        message = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        message_id_match = MESSAGE_ID.search(str(message.get("Message-ID", "")))
        _name, address = parseaddr(str(message.get("From", "")))
        subject = str(make_header(decode_header(str(message.get("Subject", "")))))
        return (
            message_id_match.group(0) if message_id_match else "",
            address.lower()[:320],
            re.sub(r"\s+", " ", subject).strip()[:500],
        )
    except Exception:
        return "", "", ""


def decode_part(part: Message) -> str:
    """A text part's content as str, trusting its charset only as far as it deserves."""
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    if isinstance(payload, str):
        return payload
    charset = (part.get_content_charset() or "").lower().strip()
    if charset in LATIN1_ALIASES or not charset:
        # Mail programs that say ISO-8859-1 (or nothing) mostly send Windows-1252, which is
        # ISO-8859-1 plus curly quotes and dashes; a UTF-8 body with no charset also happens.
        if not charset:
            try:
                return payload.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return payload.decode("cp1252", errors="replace")
    try:
        return payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("cp1252", errors="replace")


def _automatic(message: Message, from_address: str) -> str:
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return "auto_submitted"
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return "auto_reply"
    if _header(message, "X-Auto-Response-Suppress").lower() in ("all", "oof") and (
        "autoreply" in _header(message, "X-MS-Exchange-Generated-Message-Source").lower()
    ):
        return "auto_reply"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return "bulk"
    content_type = message.get_content_type()
    if content_type == "multipart/report":
        return "bounce"
    local = from_address.split("@", 1)[0].lower()
    if local in BOUNCE_SENDERS:
        return "bounce"
    if _header(message, "Return-Path") == "<>" and content_type.startswith("multipart/"):
        return "bounce"
    return ""


def _ids(value: str) -> list[str]:
    return MESSAGE_ID.findall(value)


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name:
        return re.sub(r"[\x00-\x1f/\\]", "_", str(name)).strip()[:200]
    content_type = part.get_content_type()
    extension = (
        {
            "image/jpeg": ".jpg",
            "image/png": ".png",
            "image/gif": ".gif",
            "text/plain": ".txt",
        }.get(content_type)
        or mimetypes.guess_extension(content_type)
        or ".bin"
    )
    stem = "bild" if content_type.startswith("image/") else "bilaga"
    return f"{stem}-{index}{extension}"


def parse_message(raw: bytes) -> ParsedMessage:
    """Everything intake needs from a message; ``ParseFailure`` when it cannot be used."""
    try:
        message = parse_bytes(raw)
        if not message.keys():
            raise ParseFailure("The message has no headers.")
        from_header = _header(message, "From")
        addresses = [(name, addr) for name, addr in getaddresses([from_header]) if "@" in addr]
        if not addresses:
            raise ParseFailure(f"The sender address cannot be read: {from_header[:200]!r}")
        from_name, from_address = addresses[0]
        from_address = from_address.strip().lower()
        if len(from_address) > 320 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", from_address):
            raise ParseFailure(f"The sender address is not valid: {from_address[:200]!r}")
        message_id_match = MESSAGE_ID.search(_header(message, "Message-ID"))
        recipients = [
            addr.lower()
            for _name, addr in getaddresses(
                [
                    _header(message, name)
                    for name in ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
                ]
            )
            if addr
        ]
        automatic = _automatic(message, from_address)

        try:
            plain = message.get_body(preferencelist=("plain",))
            html = message.get_body(preferencelist=("html",))
        except Exception:
            plain = html = None
        if plain is None and html is None and message.get_content_maintype() == "text":
            plain = message
        text = ""
        html_only = False
        if plain is not None:
            text = decode_part(plain)
        elif html is not None:
            text = html_to_text(decode_part(html))
            html_only = True
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        text = "\n".join(line.rstrip() for line in text.split("\n")).strip()

        attachments: list[ParsedAttachment] = []
        body_parts = {id(plain), id(html)}
        index = 0
        for part in message.walk():
            if part.is_multipart() or id(part) in body_parts:
                continue
            maintype = part.get_content_maintype()
            disposition = (part.get_content_disposition() or "").lower()
            content_type = part.get_content_type()
            if maintype == "text" and disposition != "attachment" and not part.get_filename():
                continue  # another rendering of the body (e.g. the HTML beside the text)
            if content_type in ("message/delivery-status", "message/disposition-notification"):
                continue
            if part is message:
                continue
            payload = part.get_payload(decode=True)
            if maintype == "message":
                inner = part.get_payload()
                inner = inner[0] if isinstance(inner, list) and inner else inner
                payload = inner.as_bytes() if isinstance(inner, Message) else b""
            if not payload:
                continue
            index += 1
            name = _filename(part, index)
            if maintype == "message" and not name.lower().endswith(".eml"):
                name = f"{name.rsplit('.', 1)[0]}.eml"
            attachments.append(
                ParsedAttachment(
                    filename=name,
                    content_type=content_type,
                    content=payload,
                    inline=disposition == "inline" or bool(part.get("Content-ID")),
                )
            )
        return ParsedMessage(
            message_id=message_id_match.group(0) if message_id_match else "",
            from_address=from_address,
            from_name=from_name.strip()[:200],
            subject=_header(message, "Subject")[:500],
            text=text,
            in_reply_to=_ids(_header(message, "In-Reply-To")),
            references=_ids(_header(message, "References")),
            recipients=recipients,
            attachments=attachments,
            automatic=automatic,
            html_only=html_only,
        )
    except ParseFailure:
        raise
    except Exception as error:
        raise ParseFailure(f"{type(error).__name__}: {error}") from error
