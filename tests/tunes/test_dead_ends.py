"""No dead ends: too few photos or too few credits is said on the pick-a-pack page and the
selfie set's page before any start button, with the next step, instead of a start that fails."""

from __future__ import annotations

import re

import pytest

from accounts.credits import credits_grant
from tests.tunes.conftest import pack, ready_selfie_set  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

START_FORM = 'action="/photoshoots/start/"'


def test_the_pick_a_pack_page_says_how_many_photos_to_add(client, owner, pack):  # noqa: F811
    credits_grant(user=owner, amount=20, reason="Test credits")
    short = ready_selfie_set(owner, count=2)
    client.force_login(owner)
    page = client.get(f"/photoshoots/new/?set={short.code}").content.decode()
    assert "“Me” has 2 photos: add 2 more to start." in page
    assert f'<a class="button small" href="/sets/{short.code}/">Add photos to “Me”</a>' in page
    assert START_FORM not in page


def test_the_pick_a_pack_page_says_where_credits_come_from(client, owner, pack):  # noqa: F811
    credits_grant(user=owner, amount=5, reason="Test credits")
    selfie_set = ready_selfie_set(owner)
    client.force_login(owner)
    page = client.get(f"/photoshoots/new/?set={selfie_set.code}").content.decode()
    assert "You need 9 credits for this and have 5." in page
    assert '<a class="button small" href="/credits/buy/">Buy credits</a>' in page
    assert START_FORM not in page


def test_the_pick_a_pack_page_starts_a_set_that_can(client, owner, pack):  # noqa: F811
    credits_grant(user=owner, amount=9, reason="Test credits")
    selfie_set = ready_selfie_set(owner)
    client.force_login(owner)
    page = client.get(f"/photoshoots/new/?set={selfie_set.code}").content.decode()
    # The card of this pack (the demo packs cost more, and say so in theirs).
    card = next(c for c in page.split('<li class="card tile pack">') if f"/packs/{pack.slug}/" in c)
    assert START_FORM in card and "Start for 9 credits" in card
    assert "You need" not in card and "more to start" not in page


def shown(page: str, block_id: str) -> bool:
    tag = re.search(rf'<div id="{block_id}"[^>]*>', page)
    assert tag is not None, block_id
    return " hidden" not in tag.group(0)


def test_the_set_page_says_how_many_photos_to_add_before_the_pack(client, owner):
    short = ready_selfie_set(owner, count=3)
    client.force_login(owner)
    page = client.get(f"/sets/{short.code}/").content.decode()
    assert shown(page, "start-short") and not shown(page, "start-ready")
    missing = 'Add <span id="start-missing">1</span> more photo<span id="start-missing-s"></span>'
    assert missing in page


def test_the_set_page_leads_on_to_a_pack_once_it_has_enough(client, owner):
    selfie_set = ready_selfie_set(owner, count=4)
    client.force_login(owner)
    page = client.get(f"/sets/{selfie_set.code}/").content.decode()
    assert shown(page, "start-ready") and not shown(page, "start-short")
    assert f'href="/photoshoots/new/?set={selfie_set.code}">Pick a pack</a>' in page
