"""Reading messages without a server: charsets, file names, quoting, auto-replies, HTML."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arende.mail.html_text import html_to_text, sanitise_html
from arende.mail.imap import imap_utf7
from arende.mail.parsing import ParseFailure, message_key, parse_message
from arende.mail.quotes import trim_quoted
from arende.mail.tests.conftest import corpus


def test_windows_1252_declared_as_latin1():
    raw = (
        b"From: a@b.se\r\nSubject: =?iso-8859-1?q?=E5=E4=F6?=\r\n"
        b'Content-Type: text/plain; charset="iso-8859-1"\r\n'
        b"Content-Transfer-Encoding: 8bit\r\n\r\n\x93citat\x94 \x96 \xe5\xe4\xf6\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.subject == "åäö"
    assert parsed.text == "“citat” – åäö"


def test_no_charset_utf8_body():
    raw = "From: a@b.se\r\nSubject: x\r\n\r\nSkärmen är trasig\r\n".encode()
    assert parse_message(raw).text == "Skärmen är trasig"


def test_rfc2231_filenames():
    parsed = parse_message(corpus("apple_mail_attachment.eml"))
    assert parsed.attachments[0].filename == "Lönespecifikation för år 2026.pdf"
    parsed = parse_message(corpus("odd_charset_exe.eml"))
    assert [a.filename for a in parsed.attachments] == ["setup.exe", "Budget för år ändrad.xlsx"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("auto_reply_exchange.eml", "auto_submitted"),
        ("auto_reply_x_autoreply.eml", "auto_reply"),
        ("bounce.eml", "auto_submitted"),
        ("bulk_newsletter.eml", "bulk"),
        ("outlook_cp1252.eml", ""),
    ],
)
def test_automatic_mail(name, reason):
    assert parse_message(corpus(name)).automatic == reason


def test_bounce_without_auto_submitted():
    raw = (
        b"From: MAILER-DAEMON@mx.example\r\nSubject: failure\r\n"
        b"Content-Type: text/plain\r\n\r\nundeliverable\r\n"
    )
    assert parse_message(raw).automatic == "bounce"
    report = b"From: x@y.se\r\nContent-Type: multipart/report; boundary=b\r\n\r\n--b--\r\n"
    assert parse_message(report).automatic == "bounce"


def test_malformed_is_a_parse_failure():
    with pytest.raises(ParseFailure):
        parse_message(corpus("malformed_no_sender.eml"))
    with pytest.raises(ParseFailure):
        parse_message(b"\x00\x01garbage")


def test_threading_hints():
    parsed = parse_message(corpus("outlook_reply_plus.eml", REFERENCE="2026-000123"))
    assert parsed.plus_reference == "2026-000123"
    parsed = parse_message(
        corpus("gmail_reply_utf8.eml", REFERENCE="2026-000042", OUTBOUND_ID="a@b")
    )
    assert parsed.subject_reference == "2026-000042"
    assert parsed.in_reply_to == ["<a@b>"]
    assert parsed.clean_subject == "[2026-000042] Nytt svar i ditt ärende"


@pytest.mark.parametrize(
    "text",
    [
        "Nytt svar\n\nDen tis 24 nov. 2026 kl 10:02 skrev IT <it@x.se>:\n> gammalt",
        "Nytt svar\n\nOn Tue, 24 Nov 2026 at 10:02, IT <it@x.se>\nwrote:\n> old",
        "Nytt svar\n\n________________________________\nFrån: IT <it@x.se>\nSkickat: den 24 november\nTill: a\nÄmne: b\n\ngammalt",
        "Nytt svar\n\nFrom: IT <it@x.se>\nSent: Tuesday\nTo: a\nSubject: b\n\nold",
        "Nytt svar\n\n-----Ursprungligt meddelande-----\ngammalt",
        "Nytt svar\n\n24 nov. 2026 kl. 10:02 skrev IT <it@x.se>:\n\n> gammalt",
        "Nytt svar\n> citerat\n\n-- \nSignatur",
    ],
)
def test_quoted_history_is_trimmed(text):
    assert trim_quoted(text) == "Nytt svar"


def test_trimming_never_leaves_nothing():
    assert trim_quoted("> allt är citerat") == "> allt är citerat"


def test_html_is_sanitised_and_flattened():
    html = '<p onclick="x()">Hej <script>alert(1)</script><b>där</b></p><iframe src="x"></iframe>'
    assert "script" not in sanitise_html(html) and "onclick" not in sanitise_html(html)
    assert html_to_text(html) == "Hej där"


@given(st.text(max_size=300))
def test_html_to_text_never_fails(text):
    assert isinstance(html_to_text(text), str)


@given(st.binary(max_size=500))
def test_any_bytes_parse_or_fail_cleanly(raw):
    with contextlib.suppress(ParseFailure):
        parse_message(raw)


def test_message_key():
    assert message_key("<A@B>", b"1") == message_key("<a@b>", b"2")
    assert message_key("", b"1") != message_key("", b"2")


def test_imap_folder_names():
    assert imap_utf7("INBOX") == "INBOX"
    assert imap_utf7("Ärende klart") == "&AMQ-rende klart"
    assert imap_utf7("A&B") == "A&-B"
