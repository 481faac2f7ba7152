from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_users_to_login(client):
    response = client.get("/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/profile/"


def test_it_shows_only_the_signed_in_users_own_profile(client, owner, other_user):
    client.force_login(owner)
    response = client.get("/profile/")
    assert response.status_code == 200
    assert b"owner@example.com" in response.content
    assert b"other@example.com" not in response.content


def test_it_has_no_url_for_another_users_profile(client, owner, other_user):
    client.force_login(owner)
    for url in (f"/profile/{other_user.pk}/", f"/profile/{other_user.email}/"):
        assert client.get(url).status_code == 404


def test_it_saves_the_name(client, owner, other_user):
    client.force_login(owner)
    response = client.post("/profile/", {"first_name": "Ann", "last_name": "Lee"}, follow=True)
    assert b"Your profile has been saved." in response.content
    owner.refresh_from_db()
    other_user.refresh_from_db()
    assert (owner.first_name, owner.last_name) == ("Ann", "Lee")
    assert other_user.last_name != "Lee"


def test_it_rejects_a_name_that_is_too_long(client, owner):
    client.force_login(owner)
    response = client.post("/profile/", {"first_name": "x" * 200, "last_name": ""})
    assert response.status_code == 200
    assert b"Ensure this value has at most 150 characters" in response.content
    owner.refresh_from_db()
    assert owner.first_name != "x" * 200
