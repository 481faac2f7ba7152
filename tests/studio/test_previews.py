"""Staff train a sample subject; creatives run a pack's prompts on it and see the results. A
subject is a model and a preview a photoshoot on the one generation engine: free, without
e-mails, its images in the studio's folder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.files.storage import storages
from django.utils import timezone
from PIL import Image

from accounts.models import CreditEntry
from packs.models import Pack
from studio import services
from studio.models import PackPreview, PreviewSubject
from tests import factories
from tests.conftest import wait_until
from tests.studio.conftest import subject_for
from tests.tunes.conftest import ready_selfie_set, worker_env  # noqa: F401 - fixture
from tunes.models import CallbackEvent, Photo, Photoshoot, Prompt, TrainedModel
from tunes.sweep import deadlines_enforce, overdue_poll
from uploads.models import SelfieSet
from uploads.storage import STUDIO_PREFIX


def test_staff_add_a_subject_in_admin_and_it_trains(portal, staff, client):
    selfie_set = ready_selfie_set(staff)
    client.force_login(staff)
    response = client.post(
        "/admin/studio/previewsubject/add/", {"name": "Anna", "selfie_set": selfie_set.pk}
    )
    assert response.status_code == 302
    subject = PreviewSubject.objects.get()
    model = subject.model
    assert subject.ready and subject.status_label == "Ready"
    assert (model.status, model.subject_class, model.owner) == ("ready", "woman", staff)
    assert model.astria_id and model.trained_at
    assert model.expires_at == model.trained_at + timedelta(days=30)
    # Trained as a customer's model is: one tune at Astria, under the model's own title.
    titles = [t.title for t in portal.client().tunes_list()]
    assert titles == [f"PhotoShoot tune {model.code}"]
    page = client.get(f"/admin/studio/previewsubject/{subject.pk}/change/").content.decode()
    assert page.count("/private/?t=") == 4  # the four sample photos


def test_a_customers_selfies_can_never_be_a_subject(portal, staff, owner, client):
    customer_set = ready_selfie_set(owner)
    client.force_login(staff)
    response = client.post(
        "/admin/studio/previewsubject/add/", {"name": "Not ours", "selfie_set": customer_set.pk}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not PreviewSubject.objects.exists()
    # And the service refuses it too, whatever calls it.
    subject = PreviewSubject.objects.create(name="Not ours", selfie_set=customer_set)
    with pytest.raises(services.CannotPreview, match="never a customer's"):
        services.subject_train(subject=subject)
    assert not TrainedModel.objects.exists()
    assert portal.requests_log() == []


def test_a_creative_previews_a_pack_and_sees_each_prompt_beside_its_images(
    portal, subject, pack, creative, client
):
    mail.outbox.clear()
    client.force_login(creative)
    form = client.get(f"/admin/studio/packpreview/add/?pack={pack.pk}")
    assert form.status_code == 200
    response = client.post(
        "/admin/studio/packpreview/add/", {"pack": pack.pk, "subject": subject.pk}
    )
    preview = PackPreview.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/studio/packpreview/{preview.pk}/change/"

    # A photoshoot of the subject's staff account on its model, run by the engine.
    assert (preview.kind, preview.model, preview.owner) == (
        "preview",
        subject.model,
        subject.model.owner,
    )
    assert (preview.requested_by, preview.price, preview.status) == (creative, 0, "ready")
    shots = list(preview.prompts.all())
    assert [s.status for s in shots] == ["done"] * 3, [s.failure_reason for s in shots]
    assert shots[0].text == f"<lora:{subject.model.astria_id}:1> ohwx woman in a navy suit"
    assert [s.photos.count() for s in shots] == [2, 2, 2]
    assert CallbackEvent.objects.filter(prompt__photoshoot=preview).count() == 3
    photos = list(preview.photos.all())
    with storages["default"].open(photos[0].image) as f, Image.open(f) as image:
        assert image.format == "JPEG"
    names = [n for p in photos for n in (p.image, p.thumbnail)]
    assert all(n.startswith(f"{STUDIO_PREFIX}/") for n in names)

    page = client.get(response["Location"]).content.decode()
    assert page.count('class="preview-shot"') == 3
    assert "{subject} by the sea" in page
    assert f"&lt;lora:{subject.model.astria_id}:1&gt; ohwx woman by the sea" in page
    links = [
        part.split('"', 1)[0].replace("&amp;", "&") for part in page.split('"/private/?t=')[1:]
    ]
    assert len(links) == 12  # 6 thumbnails, each linking to its image
    # The creative (who may not see anyone's photos) opens the studio's images.
    opened = client.get(f"/private/?t={links[0]}")
    assert opened.status_code == 200 and b"".join(opened.streaming_content)[:2] == b"\xff\xd8"
    assert 'http-equiv="refresh"' not in page  # finished: the page stops refreshing
    # Nothing was charged or e-mailed, no customer photoshoot exists, the action is logged.
    assert not CreditEntry.objects.exists() and mail.outbox == []
    assert not Photoshoot.objects.filter(kind="customer").exists()
    assert LogEntry.objects.get(user=creative).get_change_message() == "Started a preview"


@pytest.mark.postgres
@pytest.mark.redis
def test_a_preview_whose_callbacks_are_lost_is_finished_by_the_sweep(
    portal, subject, pack, staff, celery_worker, settings, tmp_path
):
    # Studio has no polling of its own: the engine's sweep asks Astria about its scenes too.
    settings.POLL_AFTER_SECONDS = 1
    portal.configure(train_seconds=0, generate_seconds=1, callbacks={"drop": 1})
    preview = services.preview_start(pack=pack, subject=subject, user=staff)

    def ended() -> bool:
        overdue_poll()  # what beat runs every minute
        return Photoshoot.objects.get(pk=preview.pk).status in ("ready", "failed")

    wait_until(ended, timeout=60, interval=1)
    preview.refresh_from_db()
    assert preview.status == "ready", preview.failure_reason
    assert not CallbackEvent.objects.filter(prompt__photoshoot=preview).exists()
    assert preview.photos.count() == 6
    mail_folder = tmp_path / "mail"  # where the worker's e-mails would be
    assert not CreditEntry.objects.exists() and not list(mail_folder.glob("*"))


def test_a_preview_keeps_the_prompts_it_ran_when_the_pack_changes(
    portal, subject, pack, creative, client
):
    client.force_login(creative)
    client.post("/admin/studio/packpreview/add/", {"pack": pack.pk, "subject": subject.pk})
    pack.prompts.filter(order=0).update(template="{subject} in a red dress")
    page = client.get(f"/admin/studio/packpreview/{PackPreview.objects.get().pk}/change/")
    html = page.content.decode()
    assert "ohwx woman in a navy suit" in html and "red dress" not in html


def test_a_subject_of_another_class_or_untrained_cannot_preview(
    portal, staff, pack, creative, client
):
    dog = subject_for(staff, subject_class="dog", name="Rex")
    assert dog.ready
    untrained = PreviewSubject.objects.create(
        name="Bea", selfie_set=ready_selfie_set(staff, subject_class="woman")
    )
    assert not untrained.ready and untrained.status_label == "Not trained"
    client.force_login(creative)
    response = client.post("/admin/studio/packpreview/add/", {"pack": pack.pk, "subject": dog.pk})
    assert response.status_code == 200
    assert f"“{pack.title}” has no prompts for a dog" in response.content.decode()
    response = client.post(
        "/admin/studio/packpreview/add/", {"pack": pack.pk, "subject": untrained.pk}
    )
    assert "Select a valid choice" in response.content.decode()
    assert not PackPreview.objects.exists()


def test_a_prompt_astria_fails_shows_its_reason_and_the_rest_their_images(
    portal, subject, pack, creative, client
):
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error_match="by the sea")
    client.force_login(creative)
    response = client.post(
        "/admin/studio/packpreview/add/", {"pack": pack.pk, "subject": subject.pk}, follow=True
    )
    preview = PackPreview.objects.get()
    statuses = list(preview.prompts.values_list("status", flat=True))
    assert statuses == ["done", "done", "failed"]
    assert "Failed: Sandbox: generation failed (injected user_error)." in (
        response.content.decode()
    )
    assert preview.photos.count() == 4
    # A free preview has nothing to refund, and tells no one by e-mail.
    assert not CreditEntry.objects.exists() and mail.outbox == []


def test_a_creative_deletes_a_preview_and_its_images_leave_storage(
    portal, subject, pack, creative, client
):
    client.force_login(creative)
    client.post("/admin/studio/packpreview/add/", {"pack": pack.pk, "subject": subject.pk})
    preview = PackPreview.objects.get()
    names = [n for pair in preview.photos.values_list("image", "thumbnail") for n in pair]
    assert len(names) == 12 and all(storages["default"].exists(n) for n in names)
    # The pack cannot go while its previews are there (its photoshoots are protected).
    page = client.get(f"/admin/packs/pack/{pack.pk}/delete/").content.decode()
    assert "<h1>Cannot delete pack</h1>" in page
    client.post(f"/admin/packs/pack/{pack.pk}/delete/", {"post": "yes"})
    assert PackPreview.objects.filter(pack=pack).exists()

    response = client.post(f"/admin/studio/packpreview/{preview.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not PackPreview.objects.exists()
    assert not Prompt.objects.exists() and not Photo.objects.exists()
    assert not any(storages["default"].exists(n) for n in names)
    # Now the pack may go.
    assert client.post(f"/admin/packs/pack/{pack.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Pack.objects.filter(pk=pack.pk).exists()
    # The subject's model stays, for the next preview.
    assert TrainedModel.objects.get(pk=subject.model_id).status == "ready"


@pytest.mark.django_db
def test_preview_work_left_waiting_ends_at_its_deadline(staff, creative, settings):
    # The engine's deadlines hold for a subject and a preview as for a customer's: a subject
    # whose training was lost, and a preview whose scenes' tasks were lost.
    now = timezone.now()
    stuck = factories.TrainedModelFactory(owner=staff, status="training", submitted_at=now)
    subject = PreviewSubject.objects.create(name="Anna", selfie_set=stuck.selfie_set, model=stuck)
    trained = factories.TrainedModelFactory(owner=staff, status="ready", astria_id=7)
    preview = factories.PhotoshootFactory(
        owner=staff,
        model=trained,
        kind="preview",
        requested_by=creative,
        price=0,
        status="generating",
    )
    for status in ("waiting", "submitted", "done"):
        factories.PromptFactory(
            photoshoot=preview, status=status, waiting_since=now, submitted_at=now
        )
    deadlines_enforce(now)
    assert list(preview.prompts.values_list("status", flat=True)) == [
        "waiting",
        "submitted",
        "done",
    ]

    later = now + timedelta(
        seconds=max(settings.TRAINING_DEADLINE_SECONDS, settings.PROMPT_DEADLINE_SECONDS) + 1
    )
    deadlines_enforce(later)
    assert list(preview.prompts.values_list("status", flat=True)) == ["failed", "failed", "done"]
    preview.refresh_from_db()
    assert preview.status == "ready"  # the scene that was made is shown
    subject.refresh_from_db()
    assert (subject.model.status, subject.model.failure_reason[:8]) == ("failed", "Training")
    assert subject.status_label == "Failed" and not subject.ready
    assert not CreditEntry.objects.exists() and mail.outbox == []


def test_a_set_kept_for_a_preview_subject_cannot_be_deleted_by_its_owner(
    portal, subject, staff, client
):
    client.force_login(staff)
    url = f"/sets/{subject.selfie_set.code}/delete/"
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "is kept as the photos of a preview subject" in response.content.decode()
    assert SelfieSet.objects.filter(pk=subject.selfie_set_id).exists()


def test_the_sample_accounts_dashboard_lists_no_preview(portal, subject, pack, staff, client):
    preview = services.preview_start(pack=pack, subject=subject, user=staff)
    preview.refresh_from_db()
    assert preview.status == "ready" and preview.photos.exists()
    client.force_login(subject.selfie_set.owner)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert str(preview.code) not in page.content.decode()
