"""Staff train a sample subject; creatives run a pack's prompts on it and see the results."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.storage import storages
from PIL import Image

from accounts.models import CreditEntry
from studio.models import PackPreview, PreviewShot, PreviewSubject
from tests.studio.conftest import subject_for
from tests.tunes.conftest import ready_selfie_set
from tunes.models import Tune
from uploads.models import SelfieSet


def test_staff_add_a_subject_in_admin_and_it_trains(portal, staff, client):
    selfie_set = ready_selfie_set(staff)
    client.force_login(staff)
    response = client.post(
        "/admin/studio/previewsubject/add/", {"name": "Anna", "selfie_set": selfie_set.pk}
    )
    assert response.status_code == 302
    subject = PreviewSubject.objects.get()
    assert (subject.status, subject.subject_class) == ("ready", "woman")
    assert subject.astria_id and subject.trained_at
    titles = [t.title for t in portal.client().tunes_list()]
    assert titles == [f"PhotoShoot preview subject {subject.code} #1"]
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
    from studio.services import CannotPreview, subject_train

    subject = PreviewSubject.objects.create(name="Not ours", selfie_set=customer_set)
    with pytest.raises(CannotPreview, match="never a customer's"):
        subject_train(subject=subject)
    assert portal.requests_log() == []


def test_a_creative_previews_a_pack_and_sees_each_prompt_beside_its_images(
    portal, subject, pack, creative, client
):
    client.force_login(creative)
    form = client.get(f"/admin/studio/packpreview/add/?pack={pack.pk}")
    assert form.status_code == 200
    response = client.post(
        "/admin/studio/packpreview/add/", {"pack": pack.pk, "subject": subject.pk}
    )
    preview = PackPreview.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/studio/packpreview/{preview.pk}/change/"

    shots = list(preview.shots.all())
    assert [s.status for s in shots] == ["done"] * 3, [s.failure_reason for s in shots]
    assert shots[0].text == f"<lora:{subject.astria_id}:1> ohwx woman in a navy suit"
    assert [len(s.images) for s in shots] == [2, 2, 2]
    with storages["default"].open(shots[0].images[0]["image"]) as f, Image.open(f) as image:
        assert image.format == "JPEG"
    assert all(pair["image"].startswith("studio/previews/") for s in shots for pair in s.images)

    page = client.get(response["Location"]).content.decode()
    assert page.count('class="preview-shot"') == 3
    assert "{subject} by the sea" in page
    assert f"&lt;lora:{subject.astria_id}:1&gt; ohwx woman by the sea" in page
    assert page.count("/private/?t=") == 12  # 6 thumbnails, each linking to its image
    assert 'http-equiv="refresh"' not in page  # finished: the page stops refreshing
    # Nothing was charged, no customer tune exists, the creative's action is logged.
    assert not CreditEntry.objects.exists() and not Tune.objects.exists()
    assert LogEntry.objects.get(user=creative).get_change_message() == "Started a preview"


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
    assert dog.status == "ready"
    untrained = PreviewSubject.objects.create(
        name="Bea", selfie_set=ready_selfie_set(staff, subject_class="woman")
    )
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
    statuses = list(PreviewShot.objects.values_list("status", flat=True))
    assert statuses == ["done", "done", "failed"]
    assert "Failed: Sandbox: generation failed (injected user_error)." in (
        response.content.decode()
    )


def test_a_creative_deletes_a_preview_and_its_images_leave_storage(
    portal, subject, pack, creative, client
):
    client.force_login(creative)
    client.post("/admin/studio/packpreview/add/", {"pack": pack.pk, "subject": subject.pk})
    preview = PackPreview.objects.get()
    names = [n for s in preview.shots.all() for pair in s.images for n in pair.values()]
    assert len(names) == 12 and all(storages["default"].exists(n) for n in names)
    # The pack cannot go while its previews are there: Django lists them to delete first.
    page = client.get(f"/admin/packs/pack/{pack.pk}/delete/").content.decode()
    assert "would require deleting the following protected related objects" in page

    response = client.post(f"/admin/studio/packpreview/{preview.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not PackPreview.objects.exists()
    assert not any(storages["default"].exists(n) for n in names)


@pytest.mark.django_db
def test_preview_work_left_waiting_ends_at_its_deadline(staff, creative, settings):
    from datetime import timedelta

    from django.utils import timezone

    from studio.services import previews_deadlines_enforce
    from tests import factories

    # A subject whose training task was lost, and a preview whose prompts' tasks were lost.
    subject = PreviewSubject.objects.create(
        name="Anna",
        selfie_set=factories.SelfieSetFactory(owner=staff),
        status="training",
        submitted_at=timezone.now(),
    )
    preview = PackPreview.objects.create(
        pack=factories.PackFactory(), subject=subject, requested_by=creative
    )
    for status in ("waiting", "submitted", "done"):
        PreviewShot.objects.create(
            preview=preview, template="{subject}", text="x", num_images=1, status=status
        )
    assert previews_deadlines_enforce() == 0

    long_ago = timezone.now() - timedelta(seconds=settings.TRAINING_DEADLINE_SECONDS + 1)
    PreviewSubject.objects.update(submitted_at=long_ago)
    PackPreview.objects.update(created_at=long_ago)
    assert previews_deadlines_enforce() == 3
    assert list(PreviewShot.objects.values_list("status", flat=True)) == [
        "failed",
        "failed",
        "done",
    ]
    subject.refresh_from_db()
    assert (subject.status, subject.failure_reason[:8]) == ("failed", "Training")


def test_a_set_kept_for_a_preview_subject_cannot_be_deleted_by_its_owner(
    portal, subject, staff, client
):
    client.force_login(staff)
    url = f"/sets/{subject.selfie_set.code}/delete/"
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "is kept as the photos of a preview subject" in response.content.decode()
    assert SelfieSet.objects.filter(pk=subject.selfie_set_id).exists()
