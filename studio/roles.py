"""The Creatives group: who may write packs and preview them, and nothing else.

Creatives need staff status to sign in to admin, and this group's permissions: packs, their
prompts and sample photos (add, change, delete, reorder), running previews and seeing the
sample subjects. Nothing of users, selfies, tunes or photos.
"""

from __future__ import annotations

from typing import Any

CREATIVES = "Creatives"
PERMISSIONS = {
    "packs": [
        f"{action}_{model}"
        for model in ("pack", "packprompt", "packsample")
        for action in ("add", "change", "delete", "view")
    ],
    "studio": ["add_packpreview", "view_packpreview", "delete_packpreview", "view_previewsubject"],
}


def creatives_group_ensure(apps: Any) -> None:
    """Create the group if it is missing and give it every permission above (never removes
    one that staff added). `apps`: a migration's app registry, or django.apps.apps."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name=CREATIVES)
    for app_label, codenames in PERMISSIONS.items():
        group.permissions.add(
            *permission_model.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        )
