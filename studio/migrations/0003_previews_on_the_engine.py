"""Previews run on the generation engine: a sample subject's training becomes a TrainedModel of
its staff account, and each pack preview a photoshoot of that account (kind "preview"), its
shots the photoshoot's prompts and their images its photos. Nothing is lost: see
tests/tunes/test_migration.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import django.db.models.deletion
from django.db import migrations, models
from django.db.migrations.exceptions import IrreversibleError

ASTRIA_KEEPS = timedelta(days=30)
MODEL_STATUS = {"training": "training", "ready": "ready", "failed": "failed"}


def previews_move(apps, schema_editor) -> None:
    PreviewSubject = apps.get_model("studio", "PreviewSubject")
    PackPreview = apps.get_model("studio", "PackPreview")
    TrainedModel = apps.get_model("tunes", "TrainedModel")
    Photoshoot = apps.get_model("tunes", "Photoshoot")
    Prompt = apps.get_model("tunes", "Prompt")
    Photo = apps.get_model("tunes", "Photo")
    for subject in PreviewSubject.objects.select_related("selfie_set").iterator():
        if subject.status == "new":
            continue
        trained_at = subject.trained_at
        model = TrainedModel.objects.create(
            owner_id=subject.selfie_set.owner_id,
            selfie_set_id=subject.selfie_set_id,
            subject_class=subject.subject_class,
            # Refused before Astria gave it an id: failed still, never sent again.
            status=MODEL_STATUS[subject.status]
            if subject.astria_id or subject.status == "failed"
            else "queued",
            failure_reason=subject.failure_reason,
            astria_id=subject.astria_id,
            callback_secret_hash="",  # it was polled: no callback carries its secret
            created_at=subject.submitted_at or subject.created_at,
            queued_at=subject.submitted_at or subject.created_at,
            submitted_at=subject.submitted_at,
            trained_at=trained_at,
            expires_at=trained_at + ASTRIA_KEEPS if trained_at else None,
        )
        subject.model = model
        subject.save(update_fields=["model"])
    for preview in PackPreview.objects.select_related("subject").iterator():
        shots = list(preview.shots.order_by("order", "pk"))
        statuses = {shot.status for shot in shots}
        if statuses & {"waiting", "submitted"}:
            status = "generating"
        else:
            status = "ready" if "done" in statuses else "failed"
        model_id = preview.subject.model_id
        photoshoot = Photoshoot.objects.create(
            kind="preview",
            owner_id=TrainedModel.objects.get(pk=model_id).owner_id,
            model_id=model_id,
            pack_id=preview.pack_id,
            requested_by_id=preview.requested_by_id,
            price=0,
            start_token=uuid.uuid4(),
            status=status,
            created_at=preview.created_at,
            finished_at=max((shot.finished_at for shot in shots if shot.finished_at), default=None)
            if status != "generating"
            else None,
        )
        for shot in shots:
            prompt = Prompt.objects.create(
                photoshoot=photoshoot,
                pack_prompt_id=shot.pack_prompt_id,
                template=shot.template,
                text=shot.text,
                num_images=shot.num_images,
                options=shot.options,
                status=shot.status,
                failure_reason=shot.failure_reason,
                astria_id=shot.astria_id,
                callback_secret_hash="",
                result_count=len(shot.images) if shot.status == "done" else None,
                order=shot.order,
                waiting_since=preview.created_at,
                submitted_at=shot.submitted_at,
                finished_at=shot.finished_at,
            )
            Photo.objects.bulk_create(
                # Their sizes were not recorded: 0 stands for unknown.
                Photo(
                    photoshoot=photoshoot,
                    prompt=prompt,
                    index=index,
                    image=pair["image"],
                    thumbnail=pair["thumbnail"],
                    width=0,
                    height=0,
                )
                for index, pair in enumerate(shot.images)
            )


def refuse_to_merge_back(apps, schema_editor) -> None:
    """Back to the old schema only without rows: merging them back is not written, and
    undoing the split without it would lose what it moved."""
    if apps.get_model("tunes", "Photoshoot").objects.filter(kind="preview").exists():
        raise IrreversibleError("Migrating back would lose the rows this migration moved.")


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0002_creatives_group"),
        ("tunes", "0008_photoshoot_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="previewsubject",
            name="model",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="tunes.trainedmodel",
            ),
        ),
        migrations.RunPython(previews_move, refuse_to_merge_back, elidable=False),
        migrations.DeleteModel(name="PreviewShot"),
        migrations.DeleteModel(name="PackPreview"),
        migrations.CreateModel(
            name="PackPreview",
            fields=[],
            options={
                "verbose_name": "pack preview",
                "ordering": ["-created_at"],
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("tunes.photoshoot",),
        ),
        migrations.RemoveField(model_name="previewsubject", name="astria_id"),
        migrations.RemoveField(model_name="previewsubject", name="failure_reason"),
        migrations.RemoveField(model_name="previewsubject", name="status"),
        migrations.RemoveField(model_name="previewsubject", name="subject_class"),
        migrations.RemoveField(model_name="previewsubject", name="submitted_at"),
        migrations.RemoveField(model_name="previewsubject", name="trained_at"),
        migrations.RemoveField(model_name="previewsubject", name="trainings"),
    ]
