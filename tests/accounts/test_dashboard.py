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


def test_it_lists_photoshoots_newest_first(client, owner):
    from datetime import timedelta

    from django.utils import timezone

    from tests import factories

    model = factories.TrainedModelFactory(owner=owner)
    now = timezone.now()
    # Made oldest first, so that the id order (what an unordered GROUP BY tends to give) is the
    # wrong one.
    for days, title in [(3, "Oldest pack"), (2, "Middle pack"), (1, "Newest pack")]:
        factories.PhotoshootFactory(
            owner=owner,
            model=model,
            pack=factories.PackFactory(title=title),
            created_at=now - timedelta(days=days),
        )
    client.force_login(owner)
    page = client.get("/dashboard/").content.decode()
    positions = [page.index(title) for title in ("Newest pack", "Middle pack", "Oldest pack")]
    assert positions == sorted(positions)


def test_its_cover_link_has_an_accessible_name(client, owner):
    import re

    from tests import factories

    factories.PhotoshootFactory(owner=owner, pack=factories.PackFactory(title="Navy suits"))
    client.force_login(owner)
    page = client.get("/dashboard/").content.decode()
    cover = re.search(r'<a [^>]*class="photoshoot-cover"[^>]*>', page)
    assert cover is not None
    # Its image is decorative (alt=""), so the link itself says where it goes.
    assert 'aria-label="Navy suits"' in cover.group(0)
