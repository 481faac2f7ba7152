"""Rows of the old schema (a Tune that held its training and its photoshoot; previews with their
own subjects and shots) migrate to trained models and photoshoots with nothing lost."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import CreditEntry
from studio.models import PackPreview, PreviewSubject
from tunes.models import AstriaCall, CallbackEvent, Photo, Photoshoot, Prompt, TrainedModel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OLD = [("tunes", "0006_tune_zip_claimed_at"), ("studio", "0002_creatives_group")]


@pytest.fixture
def old_apps():
    """The database at the old schema (empty), and its models; the latest schema afterwards."""
    call_command("migrate", "studio", "0002", verbosity=0)
    call_command("migrate", "tunes", "0006", verbosity=0)
    try:
        loader = MigrationExecutor(connection).loader
        others = [node for node in loader.graph.leaf_nodes() if node[0] not in ("tunes", "studio")]
        yield loader.project_state([*others, *OLD]).apps
    finally:
        call_command("migrate", verbosity=0)


def test_old_tunes_and_previews_become_models_and_photoshoots(old_apps):
    apps = old_apps
    User = apps.get_model("accounts", "User")
    SelfieSet = apps.get_model("uploads", "SelfieSet")
    Pack = apps.get_model("packs", "Pack")
    Tune = apps.get_model("tunes", "Tune")
    OldPrompt = apps.get_model("tunes", "Prompt")
    OldPhoto = apps.get_model("tunes", "Photo")
    OldEvent = apps.get_model("tunes", "CallbackEvent")
    OldCall = apps.get_model("tunes", "AstriaCall")
    OldSubject = apps.get_model("studio", "PreviewSubject")
    OldPreview = apps.get_model("studio", "PackPreview")
    OldShot = apps.get_model("studio", "PreviewShot")
    OldEntry = apps.get_model("accounts", "CreditEntry")
    OldContentType = apps.get_model("contenttypes", "ContentType")

    now = timezone.now()
    owner = User.objects.create(email="old@example.com", credits=11)
    selfie_set = SelfieSet.objects.create(owner=owner, name="Me", subject_class="woman")
    pack = Pack.objects.create(title="Studio", slug="studio-old", price=9, classes=["woman"])
    trained_at = now - timedelta(days=2)
    ready = Tune.objects.create(
        owner=owner,
        selfie_set=selfie_set,
        pack=pack,
        subject_class="woman",
        price=9,
        start_token=uuid.uuid4(),
        status="ready",
        astria_id=5001,
        callback_secret_hash="h" * 64,
        submit_attempts=1,
        eta=trained_at,
        submitted_at=trained_at - timedelta(hours=1),
        trained_at=trained_at,
        finished_at=trained_at + timedelta(minutes=5),
        zip_file="users/x/zips/a.zip",
    )
    training = Tune.objects.create(
        owner=owner,
        selfie_set=selfie_set,
        pack=pack,
        subject_class="woman",
        price=9,
        start_token=uuid.uuid4(),
        status="training",
        astria_id=5002,
        callback_secret_hash="t" * 64,
        submitted_at=now,
    )
    failed = Tune.objects.create(
        owner=owner,
        selfie_set=None,
        pack=pack,
        subject_class="woman",
        price=9,
        start_token=uuid.uuid4(),
        status="failed",
        failure_reason="Astria refused the photos: no faces",
        callback_secret_hash="f" * 64,
    )
    scene = OldPrompt.objects.create(
        tune=ready,
        template="{subject} in a suit",
        text="<lora:5001:1> ohwx woman in a suit",
        num_images=2,
        status="done",
        astria_id=7001,
        callback_secret_hash="p" * 64,
        result_count=2,
    )
    waiting = OldPrompt.objects.create(
        tune=training, template="{subject} by the sea", num_images=1, callback_secret_hash="w"
    )
    for index in range(2):
        OldPhoto.objects.create(
            tune=ready,
            prompt=scene,
            index=index,
            image=f"users/x/photos/{index}.jpg",
            thumbnail=f"users/x/photos/{index}-t.jpg",
            width=1024,
            height=1280,
            liked=index == 0,
        )
    OldEvent.objects.create(kind="tune", tune=ready, astria_id=5001)
    OldEvent.objects.create(kind="prompt", tune=ready, prompt=scene, astria_id=7001)
    OldCall.objects.create(tune=ready, method="POST", path="/tunes", status=201, elapsed_ms=9)
    OldCall.objects.create(
        tune=ready, prompt=scene, method="GET", path="/prompts/7001", status=200, elapsed_ms=5
    )
    tune_type = OldContentType.objects.get(app_label="tunes", model="tune")
    OldEntry.objects.create(
        user=owner,
        kind="debit",
        amount=-9,
        reason="Studio",
        cause_type=tune_type,
        cause_id=ready.pk,
    )

    staff = User.objects.create(email="studio@example.com", is_staff=True)
    samples = SelfieSet.objects.create(owner=staff, name="Anna", subject_class="woman")
    subject = OldSubject.objects.create(
        name="Anna",
        selfie_set=samples,
        subject_class="woman",
        status="ready",
        astria_id=6001,
        trainings=1,
        submitted_at=trained_at,
        trained_at=trained_at,
    )
    refused = OldSubject.objects.create(
        name="Ben",
        selfie_set=samples,
        subject_class="woman",
        status="failed",
        failure_reason="Astria refused the photos: blurry",
        trainings=1,
        submitted_at=trained_at,
    )
    preview = OldPreview.objects.create(pack=pack, subject=subject, requested_by=staff)
    OldShot.objects.create(
        preview=preview,
        order=0,
        template="{subject} in a suit",
        text="<lora:6001:1> ohwx woman in a suit",
        num_images=2,
        status="done",
        astria_id=8001,
        images=[
            {"image": "studio/previews/a.jpg", "thumbnail": "studio/previews/a-t.jpg"},
            {"image": "studio/previews/b.jpg", "thumbnail": "studio/previews/b-t.jpg"},
        ],
        finished_at=now,
    )
    OldShot.objects.create(
        preview=preview,
        order=1,
        template="{subject} by the sea",
        text="<lora:6001:1> ohwx woman by the sea",
        num_images=1,
        status="failed",
        failure_reason="injected user_error",
    )

    call_command("migrate", verbosity=0)

    # Each tune: a model with the training (same code and title at Astria, same callback
    # secret) and a photoshoot with the same id and code, its scenes, photos and ledger.
    assert Photoshoot.objects.count() == 3 + 1 and TrainedModel.objects.count() == 3 + 2
    shoot = Photoshoot.objects.get(pk=ready.pk)
    model = shoot.model
    assert (shoot.code, model.code) == (ready.code, ready.code)
    assert model.astria_title == f"PhotoShoot tune {ready.code}"
    assert (model.status, model.astria_id, model.callback_secret_hash) == ("ready", 5001, "h" * 64)
    assert model.trained_at == trained_at and model.expires_at == trained_at + timedelta(days=30)
    assert model.selfie_set_id == selfie_set.pk and model.owner_id == owner.pk
    assert (shoot.status, shoot.price, shoot.with_training, shoot.kind) == (
        "ready",
        9,
        True,
        "customer",
    )
    assert shoot.zip_file == "users/x/zips/a.zip" and shoot.finished_at == ready.finished_at
    moved = Prompt.objects.get(pk=scene.pk)
    assert moved.photoshoot_id == shoot.pk and moved.astria_id == 7001 and moved.status == "done"
    assert moved.waiting_since == trained_at
    assert list(Photo.objects.filter(photoshoot=shoot).values_list("image", "liked", "width")) == [
        ("users/x/photos/0.jpg", True, 1024),
        ("users/x/photos/1.jpg", False, 1024),
    ]
    assert CallbackEvent.objects.get(kind="tune").model_id == model.pk
    assert CallbackEvent.objects.get(kind="prompt").prompt_id == scene.pk
    assert AstriaCall.objects.get(path="/tunes").model_id == model.pk
    assert AstriaCall.objects.get(path="/prompts/7001").prompt_id == scene.pk
    entry = CreditEntry.objects.get(user_id=owner.pk)
    assert entry.cause == shoot
    assert ContentType.objects.get_for_id(entry.cause_type_id).model_class() is Photoshoot

    waiting_shoot = Photoshoot.objects.get(pk=training.pk)
    assert waiting_shoot.status == "training"
    assert waiting_shoot.model.status == "training" and waiting_shoot.model.astria_id == 5002
    waiting_now = Prompt.objects.get(pk=waiting.pk)
    assert waiting_now.photoshoot_id == training.pk
    # The old code may have posted it already: its next attempt looks it up first.
    assert waiting_now.submit_attempts == 1
    assert waiting_now.first_sent_at == waiting_now.waiting_since == training.created_at
    gone = Photoshoot.objects.get(pk=failed.pk)
    assert gone.status == "failed" and gone.failure_reason.startswith("Astria refused")
    assert gone.model.status == "failed" and gone.model.selfie_set is None

    # The Support group kept its rights on what tunes became.
    support = Group.objects.get(name="Support")
    codenames = set(support.permissions.values_list("codename", flat=True))
    assert {"view_photoshoot", "change_photoshoot", "view_trainedmodel"} <= codenames
    assert not {c for c in codenames if c.endswith("_tune")}

    # The preview: a photoshoot of the staff account on the subject's model, free, its shots
    # its scenes and their images its photos, in the studio's folder.
    subject_now = PreviewSubject.objects.get(pk=subject.pk)
    assert subject_now.model.astria_id == 6001 and subject_now.ready
    assert subject_now.model.owner_id == staff.pk
    # One that Astria refused stays failed, with its reason: nothing trains it again unasked.
    refused_model = PreviewSubject.objects.get(pk=refused.pk).model
    assert (refused_model.status, refused_model.astria_id) == ("failed", None)
    assert refused_model.failure_reason == "Astria refused the photos: blurry"
    preview_now = PackPreview.objects.get()
    assert preview_now.model_id == subject_now.model_id and preview_now.owner_id == staff.pk
    assert (preview_now.kind, preview_now.price, preview_now.status) == ("preview", 0, "ready")
    assert preview_now.requested_by_id == staff.pk and preview_now.storage_owner is None
    scenes = list(preview_now.prompts.order_by("order"))
    assert [(s.status, s.astria_id, s.result_count) for s in scenes] == [
        ("done", 8001, 2),
        ("failed", None, None),
    ]
    assert scenes[1].failure_reason == "injected user_error"
    assert list(preview_now.photos.values_list("image", "thumbnail")) == [
        ("studio/previews/a.jpg", "studio/previews/a-t.jpg"),
        ("studio/previews/b.jpg", "studio/previews/b-t.jpg"),
    ]
