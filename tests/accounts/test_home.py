from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_says_what_the_product_does_and_leads_to_sign_up(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"AI photoshoot" in response.content
    assert b'href="/accounts/signup/"' in response.content


def test_it_sends_a_signed_in_user_to_the_dashboard(client, owner):
    client.force_login(owner)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
