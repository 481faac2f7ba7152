"""Train once, shoot many, against the sandbox as a fresh Astria account (idempotency off):
a second pack runs on the trained model, nothing is paid twice after an answer that left it
unknown whether Astria saved a create, and an expired model trains again with its price shown
first. Tasks run eagerly, the sandbox's timers are at zero."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.credits import credits_grant
from packs.models import Pack, PackPrompt
from studio import services as studio
from tests.studio.conftest import subject  # noqa: F401 - fixture
from tests.tunes.conftest import ready_selfie_set, start
from tunes import photoshoots
from tunes.models import Photoshoot, Pricing, Prompt, TrainedModel

FLUX = 1504944


def posts(sandbox, path: str) -> int:
    return [(r["method"], r["path"]) for r in sandbox.requests_log()].count(("POST", path))


def posts_settled(sandbox, path: str) -> int:
    """`posts`, once the answers that a fault holds back 1.5 s have gone: the sandbox logs a
    request when it answers it."""
    import time

    time.sleep(2)
    return posts(sandbox, path)


def prompts_at_astria(sandbox) -> list:
    return list(sandbox.client().prompts_list(FLUX))


@pytest.fixture
def second_pack() -> Pack:
    pack = Pack.objects.create(
        title="Van Gogh", slug=f"van-gogh-{uuid.uuid4().hex[:6]}", price=9, classes=["woman"]
    )
    for order, template in enumerate(["{subject} as a Van Gogh portrait", "{subject}, starry"]):
        PackPrompt.objects.create(pack=pack, template=template, num_images=1, order=order)
    return pack


def test_a_second_pack_runs_on_the_trained_model_without_training(
    portal, funded_owner, pack, second_pack
):
    selfie_set = ready_selfie_set(funded_owner)
    first = start(funded_owner, selfie_set, pack)
    first.refresh_from_db()
    assert first.status == "ready" and first.with_training and first.price == 9

    offer = photoshoots.quote(selfie_set=selfie_set, pack=second_pack)
    assert not offer.with_training and offer.model == first.model
    assert offer.price == 9 - Pricing.current().training == 4
    second = start(funded_owner, selfie_set, second_pack)

    second.refresh_from_db()
    assert second.status == "ready", second.failure_reason
    assert second.model_id == first.model_id and not second.with_training
    assert second.photos.count() == 2
    assert TrainedModel.objects.count() == 1
    assert posts(portal, "/tunes") == 1
    assert posts(portal, f"/tunes/{FLUX}/prompts") == 3 + 2
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20 - 9 - 4


def test_a_pack_started_while_the_model_trains_waits_for_it(portal, funded_owner, pack):
    portal.configure(never_train=True)
    selfie_set = ready_selfie_set(funded_owner)
    first = start(funded_owner, selfie_set, pack)
    offer = photoshoots.quote(selfie_set=selfie_set, pack=pack)
    assert offer.model == first.model and offer.price == 4

    second = start(funded_owner, selfie_set, pack)

    assert second.model_id == first.model_id
    assert list(Photoshoot.objects.values_list("status", flat=True)) == ["training"] * 2
    assert posts(portal, "/tunes") == 1


def test_a_price_that_changed_since_it_was_shown_starts_nothing(portal, funded_owner, pack):
    selfie_set = ready_selfie_set(funded_owner)
    start(funded_owner, selfie_set, pack)
    with pytest.raises(photoshoots.CannotStart, match="now costs 4 credits"):
        photoshoots.photoshoot_start(
            user=funded_owner,
            selfie_set=selfie_set,
            pack=pack,
            start_token=uuid.uuid4(),
            price_seen=9,
        )
    assert Photoshoot.objects.count() == 1


# --- Nothing paid twice -------------------------------------------------------------------


def test_a_504_after_astria_saved_each_scene_leaves_one_prompt_per_scene(
    portal, funded_owner, pack
):
    portal.configure(
        faults=[{"method": "POST", "path": f"^/tunes/{FLUX}/prompts$", "status": 504, "times": 3}]
    )
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)

    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert posts(portal, f"/tunes/{FLUX}/prompts") == 3  # looked up, never sent again
    at_astria = prompts_at_astria(portal)
    assert len(at_astria) == 3
    assert {p.id for p in at_astria} == set(photoshoot.prompts.values_list("astria_id", flat=True))
    assert photoshoot.photos.count() == 6


def test_a_504_on_a_preview_scene_leaves_one_prompt_per_scene(portal, subject, pack, staff):  # noqa: F811
    portal.configure(
        faults=[{"method": "POST", "path": f"^/tunes/{FLUX}/prompts$", "status": 504, "times": 3}]
    )
    preview = studio.preview_start(pack=pack, subject=subject, user=staff)

    preview.refresh_from_db()
    assert preview.status == "ready", preview.failure_reason
    assert posts(portal, f"/tunes/{FLUX}/prompts") == 3
    assert len(prompts_at_astria(portal)) == 3
    assert preview.photos.count() == 6 and preview.price == 0


def test_a_504_after_astria_saved_the_tune_trains_one_model(portal, funded_owner, pack):
    portal.configure(faults=[{"method": "POST", "path": "^/tunes$", "status": 504, "times": 1}])
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)

    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert posts(portal, "/tunes") == 1
    titled = [t for t in portal.client().tunes_list() if t.title == photoshoot.model.astria_title]
    assert [t.id for t in titled] == [photoshoot.model.astria_id]


# --- An expired model trains again ----------------------------------------------------------


def test_past_its_expiry_the_next_photoshoot_trains_again_with_its_price(
    portal, funded_owner, pack
):
    credits_grant(user=funded_owner, amount=20, reason="More test credits")
    selfie_set = ready_selfie_set(funded_owner)
    first = start(funded_owner, selfie_set, pack)
    model = TrainedModel.objects.get()
    assert model.expires_at == model.trained_at + timedelta(days=30)

    with time_machine.travel(model.expires_at + timedelta(hours=1), tick=True):
        offer = photoshoots.quote(selfie_set=selfie_set, pack=pack)
        assert offer.with_training and offer.price == 9
        # The page showed 4 before the model expired: nothing starts, the new price is said.
        with pytest.raises(photoshoots.CannotStart, match="trains a new one first and costs 9"):
            photoshoots.photoshoot_start(
                user=funded_owner,
                selfie_set=selfie_set,
                pack=pack,
                start_token=uuid.uuid4(),
                price_seen=4,
            )
        again = start(funded_owner, selfie_set, pack)
        again.refresh_from_db()
        assert again.status == "ready", again.failure_reason

    assert again.model_id != first.model_id and again.with_training and again.price == 9
    assert posts(portal, "/tunes") == 2


def test_a_model_astria_has_deleted_fails_the_photoshoot_with_a_refund_then_trains_again(
    portal, funded_owner, pack
):
    credits_grant(user=funded_owner, amount=20, reason="More test credits")
    selfie_set = ready_selfie_set(funded_owner)
    first = start(funded_owner, selfie_set, pack)
    model = TrainedModel.objects.get()
    portal.expire(model.astria_id)  # Astria answers 404 for it from now on

    on_old_model = start(funded_owner, selfie_set, pack)  # still looked usable: 4 credits

    on_old_model.refresh_from_db()
    assert on_old_model.price == 4 and on_old_model.status == "failed"
    assert "expired" in on_old_model.failure_reason
    assert not Prompt.objects.filter(photoshoot=on_old_model, astria_id__isnull=False).exists()
    model.refresh_from_db()
    assert model.status == TrainedModel.Status.EXPIRED and first.model_id == model.pk
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 40 - 9  # the 4 came back

    offer = photoshoots.quote(selfie_set=selfie_set, pack=pack)
    assert offer.with_training and offer.price == 9
    again = start(funded_owner, selfie_set, pack)
    again.refresh_from_db()
    assert again.status == "ready" and again.model.status == "ready"
    assert posts(portal, "/tunes") == 2
    assert timezone.now() < again.model.expires_at


# --- More like this -----------------------------------------------------------------------


def test_more_like_this_makes_the_scene_again_with_a_new_seed_into_the_same_gallery(
    portal, funded_owner, pack
):
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photo = photoshoot.photos.first()
    token = uuid.uuid4()

    extra = photoshoots.more_like_this(user=funded_owner, photo=photo, start_token=token)
    again = photoshoots.more_like_this(user=funded_owner, photo=photo, start_token=token)

    assert again.pk == extra.pk  # one form, one scene, one debit
    extra.refresh_from_db()
    assert extra.status == "done" and extra.more_of == photo and extra.price == 2
    assert extra.options["seed"] != photo.prompt.options.get("seed")
    assert extra.text == photo.prompt.text  # the same scene, on the same model
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready" and photoshoot.photos.count() == 6 + 2
    assert posts(portal, "/tunes") == 1
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20 - 9 - 2


def test_more_like_this_that_fails_gives_back_what_it_cost(portal, funded_owner, pack):
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    portal.configure(prompt_user_error=1)

    extra = photoshoots.more_like_this(
        user=funded_owner, photo=photoshoot.photos.first(), start_token=uuid.uuid4()
    )

    extra.refresh_from_db()
    assert extra.status == "failed"
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20 - 9
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready" and photoshoot.photos.count() == 6


def test_more_like_this_on_an_expired_model_is_refused(portal, funded_owner, pack):
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    TrainedModel.objects.update(expires_at=timezone.now())
    with pytest.raises(photoshoots.CannotStart, match="expired"):
        photoshoots.more_like_this(
            user=funded_owner, photo=photoshoot.photos.first(), start_token=uuid.uuid4()
        )
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20 - 9


# --- The customer's own idea ----------------------------------------------------------------


def test_an_own_idea_runs_on_the_trained_model_priced_per_image(portal, funded_owner, pack):
    from packs.models import RefusedWord

    selfie_set = ready_selfie_set(funded_owner)
    start(funded_owner, selfie_set, pack)
    model = TrainedModel.objects.get()
    RefusedWord.objects.create(word="Wedding")

    idea = photoshoots.idea_start(
        user=funded_owner,
        model=model,
        idea="on a sailboat  at sunset",
        num_images=3,
        start_token=uuid.uuid4(),
        price_seen=3,
    )

    idea.refresh_from_db()
    assert idea.status == "ready", idea.failure_reason
    assert idea.pack is None and idea.title == "Your own idea" and idea.price == 3
    scene = idea.prompts.get()
    assert scene.text == f"<lora:{model.astria_id}:1> ohwx woman, on a sailboat at sunset"
    assert idea.photos.count() == 3
    assert posts(portal, "/tunes") == 1
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20 - 9 - 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<lora:1504950:1> as someone else", "Astria"),
        ("at my wedding", "leave out “wedding”"),
        ("x" * 201, "keep it under 200"),
        ("   ", "Describe the scene"),
        ("in {class} clothes", "plain words"),
    ],
)
def test_an_own_idea_is_checked_like_a_template_and_refused_in_plain_words(
    portal, funded_owner, pack, text, message
):
    from packs.models import RefusedWord

    start(funded_owner, ready_selfie_set(funded_owner), pack)
    RefusedWord.objects.create(word="WEDDING")
    with pytest.raises(photoshoots.CannotStart, match=message):
        photoshoots.idea_start(
            user=funded_owner,
            model=TrainedModel.objects.get(),
            idea=text,
            num_images=1,
            start_token=uuid.uuid4(),
            price_seen=None,
        )
    assert Photoshoot.objects.count() == 1
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20 - 9


def test_the_models_page_sends_an_idea_and_says_plainly_what_is_wrong(
    portal, funded_owner, pack, client
):
    from tests.factories import UserFactory

    start(funded_owner, ready_selfie_set(funded_owner), pack)
    model = TrainedModel.objects.get()
    client.force_login(funded_owner)
    page = client.get("/models/")
    assert b"Your own idea" in page.content and b"Ready for new photoshoots until" in page.content

    bad = client.post(
        f"/models/{model.code}/idea/",
        {"idea": "<faceid:1> me", "num_images": "2", "start_token": str(uuid.uuid4())},
        follow=True,
    )
    assert bad.status_code == 200
    assert "Astria reads <…> as a tag" in next(str(m) for m in bad.context["messages"])
    good = client.post(
        f"/models/{model.code}/idea/",
        {"idea": "reading in a library", "num_images": "1", "start_token": str(uuid.uuid4())},
    )
    shoot = Photoshoot.objects.get(pack=None)
    assert good.status_code == 302 and good["Location"] == f"/photoshoots/{shoot.code}/"

    client.force_login(UserFactory())
    assert client.get(f"/photoshoots/{shoot.code}/").status_code == 404
    other = client.post(f"/models/{model.code}/idea/", {"idea": "x", "num_images": "1"})
    assert other.status_code == 404


def test_an_answer_lost_after_astria_saved_each_scene_leaves_one_prompt_per_scene(
    portal, funded_owner, pack, settings
):
    # The client gives up reading after 0.5 s; the sandbox answers 1.5 s after saving.
    settings.ASTRIA_READ_TIMEOUT = 0.5
    portal.configure(
        faults=[{"method": "POST", "path": f"^/tunes/{FLUX}/prompts$", "delay": 1.5, "after": True}]
    )
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)

    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert posts_settled(portal, f"/tunes/{FLUX}/prompts") == 3
    assert len(prompts_at_astria(portal)) == 3
    assert photoshoot.photos.count() == 6


def test_an_answer_lost_on_a_preview_scene_leaves_one_prompt_per_scene(
    portal,
    subject,  # noqa: F811
    pack,
    staff,
    settings,
):
    settings.ASTRIA_READ_TIMEOUT = 0.5
    portal.configure(
        faults=[{"method": "POST", "path": f"^/tunes/{FLUX}/prompts$", "delay": 1.5, "after": True}]
    )
    preview = studio.preview_start(pack=pack, subject=subject, user=staff)

    preview.refresh_from_db()
    assert preview.status == "ready", preview.failure_reason
    assert posts_settled(portal, f"/tunes/{FLUX}/prompts") == 3
    assert len(prompts_at_astria(portal)) == 3


def test_an_answer_lost_after_astria_saved_the_tune_trains_one_model(
    portal, funded_owner, pack, settings
):
    settings.ASTRIA_READ_TIMEOUT = 0.5
    portal.configure(
        faults=[{"method": "POST", "path": "^/tunes$", "delay": 1.5, "after": True, "times": 1}]
    )
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)

    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert posts_settled(portal, "/tunes") == 1
    assert TrainedModel.objects.get().submit_attempts == 1


# --- What the sweep and staff's retries must not leave behind ------------------------------


@pytest.mark.django_db
def test_a_photoshoot_waiting_on_a_model_that_expired_meanwhile_fails_with_a_refund():
    from accounts.credits import credits_debit
    from tests.factories import PhotoshootFactory, PromptFactory
    from tunes.sweep import deadlines_enforce

    shoot = PhotoshootFactory(model__status=TrainedModel.Status.EXPIRED, price=4)
    PromptFactory(photoshoot=shoot)
    credits_grant(user=shoot.owner, amount=4, reason="Test credits")
    credits_debit(user=shoot.owner, amount=4, reason="test", cause=shoot)

    deadlines_enforce(timezone.now())

    shoot.refresh_from_db()
    assert shoot.status == "failed" and "expired" in shoot.failure_reason
    shoot.owner.refresh_from_db()
    assert shoot.owner.credits == 4


@pytest.mark.django_db
def test_a_generating_photoshoot_whose_last_scene_ended_is_finished_by_the_sweep():
    from tests.factories import PhotoshootFactory, PromptFactory
    from tunes.sweep import deadlines_enforce

    shoot = PhotoshootFactory(model__status=TrainedModel.Status.READY, status="generating")
    PromptFactory(photoshoot=shoot, status="done")

    deadlines_enforce(timezone.now())

    shoot.refresh_from_db()
    assert shoot.status == "ready"


@pytest.mark.django_db
def test_a_retried_scene_that_may_have_reached_astria_keeps_its_code_and_looks_first():
    from tests.factories import PhotoshootFactory, PromptFactory
    from tunes.staff import prompt_retry

    shoot = PhotoshootFactory(model__status=TrainedModel.Status.READY, status="ready")
    sent_at = timezone.now() - timedelta(hours=3)
    # Failed by its deadline while a post was under way: no id, one attempt made.
    unknown = PromptFactory(
        photoshoot=shoot, status="failed", submit_attempts=1, first_sent_at=sent_at
    )
    # Made at Astria, and failed there.
    made = PromptFactory(photoshoot=shoot, status="failed", astria_id=99, submit_attempts=1)
    codes = {unknown.pk: unknown.code, made.pk: made.code}

    # (The retries' sends are queued on commit, which this test's transaction never does.)
    prompt_retry(prompt_id=unknown.pk)
    prompt_retry(prompt_id=made.pk)

    unknown.refresh_from_db()
    made.refresh_from_db()
    assert unknown.status == made.status == "waiting"
    assert unknown.code == codes[unknown.pk] and unknown.submit_attempts == 1
    assert unknown.first_sent_at == sent_at
    assert made.code != codes[made.pk] and made.submit_attempts == 0 and made.first_sent_at is None
    assert unknown.waiting_since > sent_at  # a whole deadline from the retry


def test_more_like_this_waits_for_the_photoshoot_to_be_ready(portal, funded_owner, pack):
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    Photoshoot.objects.filter(pk=photoshoot.pk).update(status="generating")
    with pytest.raises(photoshoots.CannotStart, match="has not finished"):
        photoshoots.more_like_this(
            user=funded_owner, photo=photoshoot.photos.first(), start_token=uuid.uuid4()
        )
