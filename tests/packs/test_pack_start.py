"""The pack page leads on to a photoshoot: a visitor to sign up, a member with no set that can
start it to upload selfies, a member with one to start it there at the price shown."""

from __future__ import annotations

import re

from accounts.credits import credits_grant
from tests.astria.conftest import loopback, sandbox  # noqa: F401 - fixtures
from tests.tunes.conftest import pack, portal, ready_selfie_set, start  # noqa: F401
from tunes.models import Photoshoot, TrainedModel

START = re.compile(r'<form method="post" action="/photoshoots/start/">(.*?)</form>', re.S)
FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def start_forms(text: str) -> list[dict[str, str]]:
    return [dict(FIELD.findall(form)) for form in START.findall(text)]


def test_it_asks_a_visitor_to_sign_up(client, db, pack):  # noqa: F811
    text = client.get(f"/packs/{pack.slug}/").content.decode()
    assert f'href="/accounts/signup/?next=/packs/{pack.slug}/"' in text
    assert ">Sign up to start</a>" in text
    assert f'href="/accounts/login/?next=/packs/{pack.slug}/"' in text
    assert start_forms(text) == []


def test_it_asks_a_member_without_a_set_for_it_to_upload_selfies(client, owner, pack):  # noqa: F811
    ready_selfie_set(owner, count=4, subject_class="dog")  # a class the pack is not for
    client.force_login(owner)
    text = client.get(f"/packs/{pack.slug}/").content.decode()
    assert "upload 4 or more selfies of a woman or man first" in text
    assert '<a class="button" href="/sets/new/">Upload your selfies</a>' in text
    assert "Sign up to start" not in text
    assert start_forms(text) == []


def test_it_says_a_set_has_too_few_photos_before_any_button(client, owner, pack):  # noqa: F811
    credits_grant(user=owner, amount=20, reason="Test credits")
    short = ready_selfie_set(owner, count=3)
    client.force_login(owner)
    text = client.get(f"/packs/{pack.slug}/").content.decode()
    # The next step is the set's own page, where the photos are added; no start that would fail.
    assert "“Me” has 3 photos: add 1 more to start." in text
    assert f'href="/sets/{short.code}/">Add photos to “Me”</a>' in text
    assert start_forms(text) == []


def test_it_says_credits_are_short_before_any_button(client, owner, pack):  # noqa: F811
    credits_grant(user=owner, amount=5, reason="Test credits")
    ready_selfie_set(owner)
    client.force_login(owner)
    text = client.get(f"/packs/{pack.slug}/").content.decode()
    assert "You need 9 credits for this and have 5." in text
    # The next step: buying credits (issue 15), and where the ones you had went.
    assert '<a class="button small" href="/credits/buy/">Buy credits</a>' in text
    assert 'Your <a href="/credits/">credit history</a>' in text
    assert start_forms(text) == []


def test_a_member_starts_it_at_the_price_shown(client, portal, owner, pack):  # noqa: F811
    credits_grant(user=owner, amount=20, reason="Test credits")
    fresh = ready_selfie_set(owner)
    trained = ready_selfie_set(owner, subject_class="man")
    # Its first photoshoot trains its model (on the sandbox, tasks run eagerly).
    assert start(owner, trained, pack).model.status == TrainedModel.Status.READY
    client.force_login(owner)
    text = client.get(f"/packs/{pack.slug}/").content.decode()
    # The newest set first; a set with a trained model costs less and trains nothing.
    assert "Start on “Me” for 4 credits</button>" in text
    assert "Start on “Me” for 9 credits</button>" in text
    forms = start_forms(text)
    assert [(f["selfie_set"], f["price"]) for f in forms] == [
        (str(trained.code), "4"),
        (str(fresh.code), "9"),
    ]
    response = client.post("/photoshoots/start/", forms[0])
    photoshoot = Photoshoot.objects.latest("created_at")
    assert response["Location"] == f"/photoshoots/{photoshoot.code}/"
    assert (photoshoot.pack, photoshoot.price, photoshoot.model.selfie_set) == (pack, 4, trained)
    owner.refresh_from_db()
    assert owner.credits == 20 - 9 - 4
