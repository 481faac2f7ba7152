"""Flux1.dev, the gallery tune 1504944 that every Flux LoRA is trained on and prompted through."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import migrations

FLUX_BASE_TUNE_ID = 1504944


def create(apps, schema_editor):
    SandboxTune = apps.get_model("astria_sandbox", "SandboxTune")
    at = datetime(2024, 8, 1, tzinfo=UTC)
    SandboxTune.objects.update_or_create(
        pk=FLUX_BASE_TUNE_ID,
        defaults={
            "is_public": True,
            "title": "Flux1.dev",
            "name": "flux",
            "token": "",
            "model_type": "checkpoint",
            "branch": "flux1",
            "base_url": "http://127.0.0.1:8000/sandbox/astria",
            "eta": at,
            "started_training_at": at,
            "trained_at": at,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("astria_sandbox", "SandboxTune").objects.filter(pk=FLUX_BASE_TUNE_ID).delete()


class Migration(migrations.Migration):
    dependencies = [("astria_sandbox", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
