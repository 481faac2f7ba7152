"""Staff's photoshoot admin: the list, one photoshoot's page and its model's, and the actions on
stuck jobs."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.credits import credits_debit
from accounts.models import CreditEntry
from tests import factories
from tunes.models import AstriaCall, CallbackEvent, Photoshoot, TrainedModel

pytestmark = pytest.mark.django_db

LIST = "/admin/tunes/photoshoot/"


def change_url(photoshoot: Photoshoot) -> str:
    return f"/admin/tunes/photoshoot/{photoshoot.pk}/change/"


def act(client, action: str, *objects: Photoshoot, url: str = LIST):
    return client.post(
        url, {"action": action, "_selected_action": [o.pk for o in objects]}, follow=True
    )


def test_staff_finds_photoshoots_by_email_code_and_model_astria_id(
    client, staff, owner, other_user
):
    mine = factories.PhotoshootFactory(owner=owner, model__astria_id=4242)
    theirs = factories.PhotoshootFactory(owner=other_user, model__astria_id=777)
    client.force_login(staff)
    for term, expected in [
        ("owner@example.com", mine),
        (str(theirs.code), theirs),
        ("4242", mine),
    ]:
        response = client.get(LIST, {"q": term})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [expected], term
    # Words that are no code or id find nothing, and break nothing.
    response = client.get(LIST, {"q": "not-a-uuid 12abc"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_staff_finds_models_by_email_code_and_astria_id(client, staff, owner, other_user):
    mine = factories.TrainedModelFactory(owner=owner, astria_id=4242)
    theirs = factories.TrainedModelFactory(owner=other_user, astria_id=777)
    client.force_login(staff)
    for term, expected in [
        ("owner@example.com", mine),
        (str(theirs.code), theirs),
        ("4242", mine),
    ]:
        response = client.get("/admin/tunes/trainedmodel/", {"q": term})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [expected], term


def test_staff_filters_photoshoots_by_status_kind_pack_and_age(client, staff):
    from datetime import timedelta

    from django.utils import timezone

    ready = factories.PhotoshootFactory(status="ready")
    failed = factories.PhotoshootFactory(status="failed", kind="preview")
    Photoshoot.objects.filter(pk=failed.pk).update(created_at=timezone.now() - timedelta(days=9))
    client.force_login(staff)

    def listed(**params: str) -> set[int]:
        response = client.get(LIST, params)
        assert response.status_code == 200
        return {p.pk for p in response.context["cl"].result_list}

    assert listed(status__exact="failed") == {failed.pk}
    assert listed(kind__exact="customer") == {ready.pk}
    assert listed(pack__id__exact=str(ready.pack_id)) == {ready.pk}
    assert listed(age="day") == {ready.pk}
    assert listed(age="older") == {failed.pk}


def _list_queries(client, url: str = LIST) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_photoshoot_list_runs_the_same_queries_for_5_and_500_photoshoots(client, staff):
    owners = factories.UserFactory.create_batch(5)
    packs = factories.PackFactory.create_batch(3)

    def make(count: int) -> None:
        for n in range(count):
            photoshoot = factories.PhotoshootFactory(
                owner=owners[n % 5], pack=packs[n % 3], model__selfie_set=None
            )
            if n % 2:  # every other photoshoot has a cover photo
                factories.PhotoFactory(prompt=factories.PromptFactory(photoshoot=photoshoot))

    client.force_login(staff)
    make(5)
    small = _list_queries(client)
    small_models = _list_queries(client, "/admin/tunes/trainedmodel/")
    make(495)
    assert Photoshoot.objects.count() == 500 and TrainedModel.objects.count() == 500
    large = _list_queries(client)
    assert large == small, f"{small} queries for 5 photoshoots, {large} for 500"
    assert large <= 12
    large_models = _list_queries(client, "/admin/tunes/trainedmodel/")
    assert large_models == small_models, f"{small_models} for 5 models, {large_models} for 500"


def test_a_photoshoots_page_shows_its_scenes_photos_and_model(client, staff):
    photoshoot = factories.PhotoshootFactory(
        status="generating", model__astria_id=555, model__status="ready"
    )
    prompt = factories.PromptFactory(
        photoshoot=photoshoot, text="<lora:555:1> ohwx woman in a navy suit", status="done"
    )
    factories.PhotoFactory(prompt=prompt)
    client.force_login(staff)
    response = client.get(change_url(photoshoot))
    assert response.status_code == 200
    html = response.content.decode()
    assert "ohwx woman in a navy suit" in html
    assert html.count("/private/?t=") >= 2  # the cover and the photo's thumbnail, signed
    assert f'href="/admin/tunes/trainedmodel/{photoshoot.model_id}/change/"' in html
    assert "Ready model" in html


def test_a_models_page_shows_its_photoshoots_callbacks_and_astria_calls(client, staff):
    model = factories.TrainedModelFactory(status="ready", astria_id=555)
    photoshoot = factories.PhotoshootFactory(owner=model.owner, model=model, status="ready")
    CallbackEvent.objects.create(kind="tune", model=model, astria_id=555)
    AstriaCall.objects.create(model=model, method="POST", path="/tunes", status=201, elapsed_ms=80)
    AstriaCall.objects.create(
        model=model,
        method="GET",
        path="/tunes/555",
        status=429,
        elapsed_ms=9,
        error="Too many requests",
    )
    client.force_login(staff)
    response = client.get(f"/admin/tunes/trainedmodel/{model.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/admin/tunes/photoshoot/{photoshoot.pk}/change/"' in html
    assert "Callbacks from Astria (newest first)" in html
    # Astria calls, newest first.
    assert html.index("/tunes/555<") < html.index("/tunes<")
    assert "Too many requests" in html


def test_a_scenes_page_shows_its_callbacks_and_astria_calls(client, staff):
    prompt = factories.PromptFactory(status="submitted", astria_id=8080)
    CallbackEvent.objects.create(kind="prompt", prompt=prompt, astria_id=8080)
    AstriaCall.objects.create(
        prompt=prompt, method="GET", path="/tunes/1504944/prompts/8080", status=200, elapsed_ms=7
    )
    client.force_login(staff)
    response = client.get(f"/admin/tunes/prompt/{prompt.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Callbacks from Astria (newest first)" in html
    assert "/tunes/1504944/prompts/8080" in html


def test_mark_failed_refunds_once_and_is_logged(
    client, staff, owner, django_capture_on_commit_callbacks
):
    from accounts.credits import credits_grant

    credits_grant(user=owner, amount=20, reason="Test credits")
    photoshoot = factories.PhotoshootFactory(
        owner=owner, status="generating", model__status="ready", model__astria_id=1
    )
    credits_debit(user=owner, amount=9, reason="Studio photoshoot", cause=photoshoot)
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        act(client, "mark_failed", photoshoot)
        act(client, "mark_failed", photoshoot)  # again: already failed, nothing more

    photoshoot.refresh_from_db()
    assert photoshoot.status == "failed"
    owner.refresh_from_db()
    assert owner.credits == 20
    assert CreditEntry.objects.filter(kind="refund").count() == 1
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert LogEntry.objects.get(object_id=str(photoshoot.pk)).get_change_message() == (
        "Marked failed, credits refunded"
    )
    # The model is not the photoshoot's to stop: another pack may be shot on it.
    assert TrainedModel.objects.get(pk=photoshoot.model_id).status == "ready"


def test_the_ready_email_is_sent_again_only_for_ready_customer_photoshoots(
    client, staff, django_capture_on_commit_callbacks
):
    ready = factories.PhotoshootFactory(status="ready")
    running = factories.PhotoshootFactory(status="training")
    preview = factories.PhotoshootFactory(status="ready", kind="preview")
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(client, "resend_ready_email", ready, running, preview)
    assert [m.to for m in mail.outbox] == [[ready.owner.email]]
    assert "photos are ready" in mail.outbox[0].subject
    assert "Done for 1 of 3." in response.content.decode()
    assert LogEntry.objects.filter(object_id=str(ready.pk)).count() == 1


def test_retrying_a_photoshoot_that_has_not_failed_says_so(client, staff):
    photoshoot = factories.PhotoshootFactory(status="ready")
    client.force_login(staff)
    response = act(client, "retry", photoshoot)
    assert "Only a failed photoshoot can be retried." in response.content.decode()
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    assert not LogEntry.objects.exists()


def test_retrying_a_photoshoot_on_an_expired_model_says_to_start_again(client, staff):
    photoshoot = factories.PhotoshootFactory(
        status="failed", model__status="expired", model__astria_id=31
    )
    client.force_login(staff)
    response = act(client, "retry", photoshoot)
    assert "Its model has expired at Astria" in response.content.decode()
    photoshoot.refresh_from_db()
    assert photoshoot.status == "failed"
    assert not LogEntry.objects.exists()


def test_photoshoots_and_models_cannot_be_added_or_deleted_in_admin(client, staff):
    photoshoot = factories.PhotoshootFactory()
    client.force_login(staff)
    assert client.get("/admin/tunes/photoshoot/add/").status_code == 403
    assert client.get(f"/admin/tunes/photoshoot/{photoshoot.pk}/delete/").status_code == 403
    assert client.get("/admin/tunes/trainedmodel/add/").status_code == 403
    delete_model = f"/admin/tunes/trainedmodel/{photoshoot.model_id}/delete/"
    assert client.get(delete_model).status_code == 403
    assert Photoshoot.objects.filter(pk=photoshoot.pk).exists()
    assert TrainedModel.objects.filter(pk=photoshoot.model_id).exists()


def test_an_unknown_photoshoot_sends_staff_back_to_the_list_with_a_message(client, staff):
    client.force_login(staff)
    response = client.get(
        f"/admin/tunes/photoshoot/{uuid.uuid4().int % 10**9}/change/", follow=True
    )
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "doesn’t exist" in response.content.decode()


def test_a_photoshoot_failed_after_its_last_scene_ended_is_ready_when_retried(
    client, staff, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from tunes.photoshoots import photoshoot_fail

    photoshoot = factories.PhotoshootFactory(
        status="generating",
        model__status="ready",
        model__astria_id=5,
        model__trained_at=timezone.now(),
    )
    factories.PhotoFactory(prompt=factories.PromptFactory(photoshoot=photoshoot, status="done"))
    photoshoot_fail(photoshoot_id=photoshoot.pk, reason="Stopped")
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        act(client, "retry", photoshoot)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"


def test_a_scene_of_a_failed_photoshoot_is_not_retried_alone(client, staff):
    photoshoot = factories.PhotoshootFactory(
        status="failed", model__status="ready", model__astria_id=9
    )
    prompt = factories.PromptFactory(photoshoot=photoshoot, status="failed")
    client.force_login(staff)
    response = act(client, "retry", prompt, url="/admin/tunes/prompt/")
    assert "retry the photoshoot instead" in response.content.decode()
    prompt.refresh_from_db()
    assert prompt.status == "failed"


def test_staff_sets_the_training_share_of_the_price_in_one_pricing_row(client, staff):
    from tunes.models import Pricing

    client.force_login(staff)
    assert Pricing.current().training == 5
    url = f"/admin/tunes/pricing/{Pricing.current().pk}/change/"
    form = client.get(url).context["adminform"].form
    fields = {name: form[name].value() for name in form.fields}  # the other rules as they are
    response = client.post(url, {**fields, "training": 3}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/admin/tunes/pricing/"
    assert Pricing.current().training == 3
    # One row: no second one, and it is not deleted.
    assert client.get("/admin/tunes/pricing/add/").status_code == 403
    assert client.get(f"/admin/tunes/pricing/{Pricing.current().pk}/delete/").status_code == 403


def test_the_record_of_old_astria_calls_is_forgotten(settings):
    from datetime import timedelta

    from django.utils import timezone

    from tunes.astria_log import astria_calls_prune

    model = factories.TrainedModelFactory()
    prompt = factories.PromptFactory()
    old = AstriaCall.objects.create(model=model, method="GET", path="/tunes/1", elapsed_ms=5)
    old_prompt = AstriaCall.objects.create(
        prompt=prompt, method="GET", path="/tunes/1504944/prompts/2", elapsed_ms=5
    )
    recent = AstriaCall.objects.create(model=model, method="GET", path="/tunes/1", elapsed_ms=5)
    AstriaCall.objects.filter(pk__in=[old.pk, old_prompt.pk]).update(
        at=timezone.now() - timedelta(days=settings.ASTRIA_CALLS_KEEP_DAYS + 1)
    )
    assert astria_calls_prune() == 2
    assert list(AstriaCall.objects.values_list("pk", flat=True)) == [recent.pk]
