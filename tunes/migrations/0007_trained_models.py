"""Train once, shoot many: each tune becomes a trained model plus its photoshoot.

A tune held both the Astria training and the pack run on it. Its training fields move to a new
TrainedModel (with the tune's code, so an Astria callback on its way still finds it, and the
same title at Astria); what stays is the photoshoot, renamed from Tune to Photoshoot with its
ids (the credit ledger's causes, prompts and photos keep pointing at it). Nothing is lost: see
tests/tunes/test_migration.py, which migrates rows of the old schema.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import F
from django.db.migrations.exceptions import IrreversibleError

ASTRIA_KEEPS = timedelta(days=30)


def _model_status(tune, now) -> str:
    if tune.trained_at is not None:
        return "expired" if tune.trained_at + ASTRIA_KEEPS <= now else "ready"
    if tune.status in ("queued", "submitting", "training"):
        return tune.status
    return "failed"  # failed before training ended


PHOTOSHOOT_STATUS = {
    "queued": "training",
    "submitting": "training",
    "training": "training",
    "generating": "generating",
    "ready": "ready",
    "failed": "failed",
}


def tunes_split(apps, schema_editor) -> None:
    Tune = apps.get_model("tunes", "Tune")
    TrainedModel = apps.get_model("tunes", "TrainedModel")
    Prompt = apps.get_model("tunes", "Prompt")
    CallbackEvent = apps.get_model("tunes", "CallbackEvent")
    AstriaCall = apps.get_model("tunes", "AstriaCall")
    now = django.utils.timezone.now()
    for tune in Tune.objects.order_by("pk").iterator():
        status = _model_status(tune, now)
        model = TrainedModel.objects.create(
            code=tune.code,
            owner_id=tune.owner_id,
            selfie_set_id=tune.selfie_set_id,
            subject_class=tune.subject_class,
            status=status,
            failure_reason=tune.failure_reason if status == "failed" else "",
            astria_id=tune.astria_id,
            callback_secret_hash=tune.callback_secret_hash,
            submit_attempts=tune.submit_attempts,
            submit_claimed_at=tune.submit_claimed_at,
            queued_at=tune.queued_at,
            eta=tune.eta,
            created_at=tune.created_at,
            submitted_at=tune.submitted_at,
            trained_at=tune.trained_at,
            expires_at=tune.trained_at + ASTRIA_KEEPS if tune.trained_at else None,
            last_polled_at=tune.last_polled_at,
        )
        Tune.objects.filter(pk=tune.pk).update(
            model=model, status=PHOTOSHOOT_STATUS[tune.status], with_training=True
        )
        CallbackEvent.objects.filter(tune_id=tune.pk, kind="tune").update(model=model)
        AstriaCall.objects.filter(tune_id=tune.pk, prompt=None).update(model=model)
        # Scenes waited since their tune trained; a lookup at Astria walks back to then.
        Prompt.objects.filter(tune_id=tune.pk, waiting_since=None).update(
            waiting_since=tune.trained_at or tune.created_at
        )
        # A scene still waiting may have been posted already (the old code sent it again
        # after a 504 without looking): its next attempt looks it up first, back to then.
        Prompt.objects.filter(tune_id=tune.pk, status="waiting").update(
            submit_attempts=1, first_sent_at=F("waiting_since")
        )


def refuse_to_merge_back(apps, schema_editor) -> None:
    """Back to the old schema only without rows: merging them back is not written, and
    undoing the split without it would lose what it moved."""
    if apps.get_model("tunes", "Tune").objects.exists():
        raise IrreversibleError("Migrating back would lose the rows this migration moved.")


class Migration(migrations.Migration):
    dependencies = [
        ("tunes", "0006_tune_zip_claimed_at"),
        ("uploads", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TrainedModel",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("subject_class", models.CharField(max_length=20)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Waiting to start"),
                            ("submitting", "Sending your photos"),
                            ("training", "Learning your face"),
                            ("ready", "Ready"),
                            ("failed", "Failed"),
                            ("expired", "Expired"),
                        ],
                        db_index=True,
                        default="queued",
                        max_length=12,
                    ),
                ),
                ("failure_reason", models.TextField(blank=True)),
                ("astria_id", models.BigIntegerField(blank=True, null=True, unique=True)),
                ("callback_secret_hash", models.CharField(max_length=64)),
                ("submit_attempts", models.PositiveSmallIntegerField(default=0)),
                ("submit_claimed_at", models.DateTimeField(blank=True, null=True)),
                ("queued_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("eta", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                ("trained_at", models.DateTimeField(blank=True, null=True)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("last_polled_at", models.DateTimeField(blank=True, null=True)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="trained_models",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "selfie_set",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="trained_models",
                        to="uploads.selfieset",
                    ),
                ),
            ],
            options={"ordering": ["-created_at"]},
        ),
        migrations.AddField(
            model_name="tune",
            name="model",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="photoshoots",
                to="tunes.trainedmodel",
            ),
        ),
        migrations.AddField(
            model_name="tune",
            name="kind",
            field=models.CharField(
                choices=[("customer", "Customer's"), ("preview", "Pack preview")],
                default="customer",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="tune",
            name="with_training",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="tune",
            name="requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="prompt",
            name="submit_attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="prompt",
            name="submit_claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="prompt",
            name="first_sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="callbackevent",
            name="model",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="callback_events",
                to="tunes.trainedmodel",
            ),
        ),
        migrations.AddField(
            model_name="astriacall",
            name="model",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="astria_calls",
                to="tunes.trainedmodel",
            ),
        ),
        # The status values change meaning (queued/submitting become the model's), so the
        # split runs before the new choices apply.
        migrations.RunPython(tunes_split, refuse_to_merge_back, elidable=False),
        migrations.RenameModel("Tune", "Photoshoot"),
        migrations.RenameField("prompt", "tune", "photoshoot"),
        migrations.RenameField("photo", "tune", "photoshoot"),
    ]
