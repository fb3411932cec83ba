"""Log in with e-mail, two-factor with TOTP, log out, password reset, language."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail

from arende.core.tests.factories import TEST_PASSWORD, UserFactory, grant

pytestmark = pytest.mark.django_db


def test_login_by_email_in_any_case_and_logout(client):
    UserFactory(email="anna@kommun.example")
    response = client.post(
        "/accounts/login/", {"login": "ANNA@kommun.example", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_refused_with_a_message(client):
    UserFactory(email="anna@kommun.example")
    response = client.post(
        "/accounts/login/", {"login": "anna@kommun.example", "password": "not-it"}
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert client.get("/").status_code == 302


def test_sign_up_is_closed(client):
    response = client.get("/accounts/signup/")
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    response = client.post(
        "/accounts/signup/",
        {"email": "ny@x.example", "password1": "Abc123!xyz9", "password2": "Abc123!xyz9"},
    )
    from arende.core.models import User

    assert not User.objects.filter(email="ny@x.example").exists()


def test_totp_two_factor_is_asked_for_after_the_password(client):
    staff = grant(UserFactory(email="tekniker@it.example"), "agent")
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    response = client.post(
        "/accounts/login/", {"login": "tekniker@it.example", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/").status_code == 302, "not logged in before the code"
    assert client.post("/accounts/2fa/authenticate/", {"code": "000000"}).status_code == 200
    assert client.get("/").status_code == 302
    valid = [format_hotp_value(hotp_value(secret, c)) for c in yield_hotp_counters_from_time()]
    code = valid[len(valid) // 2]
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_password_reset_sends_a_swedish_mail(client):
    UserFactory(email="glomsk@kommun.example")
    response = client.post("/accounts/password/reset/", {"email": "glomsk@kommun.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["glomsk@kommun.example"]
    assert "lösenord" in (mail.outbox[0].subject + mail.outbox[0].body).lower()


def test_swedish_by_default_whatever_the_browser_says_and_english_on_request(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = page.content.decode()
    assert '<html lang="sv">' in html and "Logga in" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in html and "Log in" in html


def test_swedish_formats(client, settings):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.template import Context, Template
    from django.utils import translation

    moment = datetime(2021, 10, 20, 7, 30, tzinfo=ZoneInfo("UTC"))
    template = Template(
        "{% load humanize %}{{ d|date:'SHORT_DATETIME_FORMAT' }}|{{ n|intcomma }}|{{ x }}"
    )
    with translation.override("sv"):
        rendered = template.render(Context({"d": moment, "n": 12018, "x": 3.5}))
    assert rendered == "2021-10-20 09:30|12\xa0018|3,5"
    # Ids printed into links must stay plain digits, or ?caller=1264 becomes ?caller=1 264.
    with translation.override("sv"):
        assert Template("{{ pk }}").render(Context({"pk": 1264})) == "1264"
