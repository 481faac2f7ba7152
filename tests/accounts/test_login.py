from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "That e-mail and password do not match. Check both, or reset your password."


def test_it_logs_in_by_email_and_lands_on_the_dashboard(client, owner):
    response = client.post("/accounts/login/", {"login": "owner@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_it_accepts_the_email_in_other_letters(client, owner):
    response = client.post("/accounts/login/", {"login": "Owner@Example.COM", "password": PASSWORD})
    assert response["Location"] == "/dashboard/"


def test_a_wrong_password_gets_a_clear_message(client, owner):
    response = client.post("/accounts/login/", {"login": "owner@example.com", "password": "nope"})
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert client.get("/dashboard/").status_code == 302


def test_it_locks_an_account_out_after_five_failures(client, owner):
    for _ in range(5):
        client.post("/accounts/login/", {"login": "owner@example.com", "password": "nope"})
    # Even the right password is refused for now: the counter is per account, not per browser.
    response = client.post("/accounts/login/", {"login": "owner@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert client.get("/dashboard/").status_code == 302


def test_failures_for_one_account_do_not_lock_another(client, owner, other_user):
    for _ in range(5):
        client.post("/accounts/login/", {"login": "owner@example.com", "password": "nope"})
    response = client.post("/accounts/login/", {"login": "other@example.com", "password": PASSWORD})
    assert response["Location"] == "/dashboard/"


def test_logout_needs_a_post(client, owner):
    client.force_login(owner)
    client.get("/accounts/logout/")
    assert client.get("/dashboard/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/"
    assert client.get("/dashboard/").status_code == 302


def test_behind_a_proxy_failures_count_per_client_address(client, owner, other_user, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for n in range(10):  # ten failures from one client address…
        client.post(
            "/accounts/login/",
            {"login": f"nobody{n}@example.com", "password": "nope"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
    # …do not lock out another client behind the same proxy.
    response = client.post(
        "/accounts/login/",
        {"login": "other@example.com", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response["Location"] == "/dashboard/"
