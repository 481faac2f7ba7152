"""Starting a photoshoot without a selfie set in the link: choose one, or make one first."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_it_asks_which_selfie_set_to_use(client, owner, other_user):
    mine = factories.SelfieSetFactory(owner=owner, name="Holiday selfies")
    factories.SelfieSetFactory(owner=other_user, name="Someone else's set")
    client.force_login(owner)
    response = client.get("/photoshoots/new/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Which selfies should we use?" in page
    assert f'href="/photoshoots/new/?set={mine.code}"' in page
    assert "Holiday selfies" in page
    assert "Someone else" not in page
    assert 'href="/sets/new/"' in page  # or a new set


def test_without_a_selfie_set_it_sends_the_user_to_make_one(client, owner):
    client.force_login(owner)
    response = client.get("/photoshoots/new/", follow=True)
    assert response.redirect_chain == [("/sets/new/", 302)]
    assert "First upload your selfies" in response.content.decode()


def test_a_broken_or_foreign_set_code_is_still_a_404(client, owner, other_user):
    foreign = factories.SelfieSetFactory(owner=other_user)
    client.force_login(owner)
    assert client.get("/photoshoots/new/?set=not-a-uuid").status_code == 404
    assert client.get(f"/photoshoots/new/?set={foreign.code}").status_code == 404
