from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_users_to_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


def test_it_shows_the_empty_state(client, owner):
    client.force_login(owner)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert b"You have no photoshoots yet." in response.content
    # The header carries the navigation of a signed-in user.
    assert b'href="/profile/"' in response.content
    assert b'action="/accounts/logout/"' in response.content
