"""Staff's photoshoot admin: the list, one tune's page, and the actions on stuck jobs."""

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
from tunes.models import AstriaCall, CallbackEvent, Tune

pytestmark = pytest.mark.django_db

LIST = "/admin/tunes/tune/"


def change_url(tune: Tune) -> str:
    return f"/admin/tunes/tune/{tune.pk}/change/"


def act(client, action: str, *tunes: Tune, url: str = LIST):
    return client.post(
        url, {"action": action, "_selected_action": [t.pk for t in tunes]}, follow=True
    )


def test_staff_finds_tunes_by_email_code_and_astria_id(client, staff, owner, other_user):
    mine = factories.TuneFactory(owner=owner, astria_id=4242)
    theirs = factories.TuneFactory(owner=other_user, astria_id=777)
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


def test_staff_filters_tunes_by_status_pack_and_age(client, staff):
    from datetime import timedelta

    from django.utils import timezone

    ready = factories.TuneFactory(status="ready")
    failed = factories.TuneFactory(status="failed")
    Tune.objects.filter(pk=failed.pk).update(created_at=timezone.now() - timedelta(days=9))
    client.force_login(staff)

    def listed(**params: str) -> set[int]:
        response = client.get(LIST, params)
        assert response.status_code == 200
        return {t.pk for t in response.context["cl"].result_list}

    assert listed(status__exact="failed") == {failed.pk}
    assert listed(pack__id__exact=str(ready.pack_id)) == {ready.pk}
    assert listed(age="day") == {ready.pk}
    assert listed(age="older") == {failed.pk}


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(queries)


def test_the_tune_list_runs_the_same_queries_for_5_and_500_tunes(client, staff):
    owners = factories.UserFactory.create_batch(5)
    packs = factories.PackFactory.create_batch(3)

    def make(count: int) -> None:
        for n in range(count):
            tune = factories.TuneFactory(
                owner=owners[n % 5], pack=packs[n % 3], selfie_set=None, astria_id=None
            )
            if n % 2:  # every other tune has a cover photo
                factories.PhotoFactory(prompt=factories.PromptFactory(tune=tune))

    client.force_login(staff)
    make(5)
    small = _list_queries(client)
    make(495)
    assert Tune.objects.count() == 500
    large = _list_queries(client)
    assert large == small, f"{small} queries for 5 tunes, {large} for 500"
    assert large <= 12


def test_a_tunes_page_shows_its_scenes_photos_callbacks_and_astria_calls(client, staff):
    tune = factories.TuneFactory(status="generating", astria_id=555)
    prompt = factories.PromptFactory(
        tune=tune, text="<lora:555:1> ohwx woman in a navy suit", status="done"
    )
    factories.PhotoFactory(prompt=prompt)
    CallbackEvent.objects.create(kind="tune", tune=tune, astria_id=555)
    AstriaCall.objects.create(tune=tune, method="GET", path="/tunes/555", status=200, elapsed_ms=40)
    AstriaCall.objects.create(
        tune=tune,
        method="POST",
        path="/tunes/1504944/prompts",
        status=429,
        elapsed_ms=9,
        error="Too many requests",
    )
    client.force_login(staff)
    response = client.get(change_url(tune))
    assert response.status_code == 200
    html = response.content.decode()
    assert "ohwx woman in a navy suit" in html
    assert html.count("/private/?t=") >= 2  # the cover and the photo's thumbnail, signed
    assert "Callbacks from Astria (newest first)" in html
    # Astria calls, newest first.
    assert html.index("/tunes/1504944/prompts") < html.index("/tunes/555<")
    assert "Too many requests" in html


def test_mark_failed_refunds_once_and_is_logged(
    client, staff, owner, django_capture_on_commit_callbacks
):
    from accounts.credits import credits_grant

    credits_grant(user=owner, amount=20, reason="Test credits")
    tune = factories.TuneFactory(owner=owner, status="training", astria_id=1)
    credits_debit(user=owner, amount=9, reason="Studio photoshoot", cause=tune)
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        act(client, "mark_failed", tune)
        act(client, "mark_failed", tune)  # again: already failed, nothing more

    tune.refresh_from_db()
    assert tune.status == "failed"
    owner.refresh_from_db()
    assert owner.credits == 20
    assert CreditEntry.objects.filter(kind="refund").count() == 1
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert LogEntry.objects.get(object_id=str(tune.pk)).get_change_message() == (
        "Marked failed, credits refunded"
    )


def test_the_ready_email_is_sent_again_only_for_ready_tunes(
    client, staff, django_capture_on_commit_callbacks
):
    ready = factories.TuneFactory(status="ready")
    running = factories.TuneFactory(status="training")
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(client, "resend_ready_email", ready, running)
    assert [m.to for m in mail.outbox] == [[ready.owner.email]]
    assert "photos are ready" in mail.outbox[0].subject
    assert "Done for 1 of 2." in response.content.decode()
    assert LogEntry.objects.filter(object_id=str(ready.pk)).count() == 1


def test_retrying_a_tune_that_has_not_failed_says_so(client, staff):
    tune = factories.TuneFactory(status="ready")
    client.force_login(staff)
    response = act(client, "retry", tune)
    assert "Only a failed photoshoot can be retried." in response.content.decode()
    tune.refresh_from_db()
    assert tune.status == "ready"
    assert not LogEntry.objects.exists()


def test_tunes_cannot_be_added_or_deleted_in_admin(client, staff):
    tune = factories.TuneFactory()
    client.force_login(staff)
    assert client.get("/admin/tunes/tune/add/").status_code == 403
    assert client.get(f"/admin/tunes/tune/{tune.pk}/delete/").status_code == 403
    assert Tune.objects.filter(pk=tune.pk).exists()


def test_an_unknown_tune_sends_staff_back_to_the_list_with_a_message(client, staff):
    client.force_login(staff)
    response = client.get(f"/admin/tunes/tune/{uuid.uuid4().int % 10**9}/change/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "doesn’t exist" in response.content.decode()


def test_a_tune_failed_after_its_last_scene_ended_is_ready_when_retried(
    client, staff, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from tunes.services import tune_fail

    tune = factories.TuneFactory(status="generating", astria_id=5, trained_at=timezone.now())
    factories.PhotoFactory(prompt=factories.PromptFactory(tune=tune, status="done"))
    tune_fail(tune_id=tune.pk, reason="Stopped")
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        act(client, "retry", tune)
    tune.refresh_from_db()
    assert tune.status == "ready"


def test_a_scene_of_a_failed_tune_is_not_retried_alone(client, staff):
    tune = factories.TuneFactory(status="failed", astria_id=9)
    prompt = factories.PromptFactory(tune=tune, status="failed")
    client.force_login(staff)
    response = act(client, "retry", prompt, url="/admin/tunes/prompt/")
    assert "retry the photoshoot instead" in response.content.decode()
    prompt.refresh_from_db()
    assert prompt.status == "failed"


def test_the_record_of_old_astria_calls_is_forgotten(settings):
    from datetime import timedelta

    from django.utils import timezone

    from tunes.astria_log import astria_calls_prune

    tune = factories.TuneFactory()
    old = AstriaCall.objects.create(tune=tune, method="GET", path="/tunes/1", elapsed_ms=5)
    recent = AstriaCall.objects.create(tune=tune, method="GET", path="/tunes/1", elapsed_ms=5)
    AstriaCall.objects.filter(pk=old.pk).update(
        at=timezone.now() - timedelta(days=settings.ASTRIA_CALLS_KEEP_DAYS + 1)
    )
    assert astria_calls_prune() == 1
    assert list(AstriaCall.objects.values_list("pk", flat=True)) == [recent.pk]
