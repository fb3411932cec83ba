"""XOAUTH2: the client-credentials token from a token endpoint, then IMAP log-in at Dovecot,
whose oauth2 passdb validates the bearer token locally (as Exchange Online does)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from arende.mail import oauth
from arende.mail.models import Mailbox
from arende.mail.services.intake import mailbox_poll
from arende.mail.tests.conftest import corpus
from arende.servicedesk.models import Ticket

CLIENT_ID = "5f0c1d2e-aaaa-bbbb-cccc-123456789abc"
CLIENT_SECRET = "client-secret-value"


def test_xoauth2_string():
    assert oauth.xoauth2_string("desk@kommun.se", "abc.def") == (
        b"user=desk@kommun.se\x01auth=Bearer abc.def\x01\x01"
    )
    with pytest.raises(ValueError):
        oauth.xoauth2_string("a\x01b", "t")


def test_microsoft_token_url():
    assert oauth.token_url_for("herrljunga.onmicrosoft.com") == (
        "https://login.microsoftonline.com/herrljunga.onmicrosoft.com/oauth2/v2.0/token"
    )
    assert oauth.token_url_for("", "https://idp.example/token") == "https://idp.example/token"
    with pytest.raises(oauth.TokenError):
        oauth.token_url_for("")


def test_token_endpoint_must_be_https_off_loopback():
    with pytest.raises(oauth.TokenError, match="HTTPS"):
        oauth.fetch_token(token_url="http://idp.example/token", client_id="a", client_secret="b")


@pytest.fixture
def token_endpoint(dovecot):
    """A client-credentials token endpoint on loopback issuing tokens Dovecot accepts."""
    requests: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            requests.append(form)
            ok = (
                form.get("grant_type") == "client_credentials"
                and form.get("client_id") == CLIENT_ID
                and form.get("client_secret") == CLIENT_SECRET
            )
            if ok:
                user = self.server.mailbox_user
                body = {
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "access_token": dovecot.token(user),
                }
                status = 200
            else:
                body = {"error": "invalid_client", "error_description": "AADSTS7000215"}
                status = 401
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.requests = requests
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    oauth.clear_cache()
    yield server
    server.shutdown()
    server.server_close()
    oauth.clear_cache()


def _oauth_box(make_mailbox, token_endpoint, secret=CLIENT_SECRET) -> Mailbox:
    box = make_mailbox(
        auth_method=Mailbox.Auth.XOAUTH2,
        oauth_client_id=CLIENT_ID,
        oauth_tenant="herrljunga.onmicrosoft.com",
        oauth_token_url=f"http://127.0.0.1:{token_endpoint.server_port}/tenant/oauth2/v2.0/token",
        secret=secret,
    )
    token_endpoint.mailbox_user = box.username
    return box


@pytest.mark.django_db(transaction=True)
def test_poll_with_xoauth2(make_mailbox, token_endpoint):
    box = _oauth_box(make_mailbox, token_endpoint)
    from arende.mail.imap import ImapSession, append

    with ImapSession(box) as session:  # XOAUTH2 log-in, then APPEND
        append(session, "INBOX", corpus("outlook_cp1252.eml"))
    result = mailbox_poll(mailbox=box)
    assert result.error == "" and result.processed == 1
    assert Ticket.objects.count() == 1
    assert token_endpoint.requests[0]["scope"] == "https://outlook.office365.com/.default"
    assert len(token_endpoint.requests) == 1  # the token is reused until it nears expiry


@pytest.mark.django_db(transaction=True)
def test_wrong_client_secret_is_reported(make_mailbox, token_endpoint):
    box = _oauth_box(make_mailbox, token_endpoint, secret="wrong")
    result = mailbox_poll(mailbox=box)
    assert "HTTP 401" in result.error and "invalid_client" in result.error
    assert "wrong" not in result.error


@pytest.mark.django_db(transaction=True)
def test_token_dovecot_does_not_trust_is_refused(make_mailbox, token_endpoint, dovecot):
    box = _oauth_box(make_mailbox, token_endpoint)
    original = dovecot.token
    dovecot.token = lambda user, **kw: original(user, key=b"another-key-entirely-32-bytes!!")
    try:
        result = mailbox_poll(mailbox=box)
    finally:
        dovecot.token = original
    assert "XOAUTH2 log-in refused" in result.error
