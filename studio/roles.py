"""The Creatives group: who may write packs and preview them, and nothing else.

Creatives need staff status to sign in to admin, and this group's permissions: packs, their
prompts and sample photos (add, change, delete, reorder), running previews and seeing the
sample subjects. Nothing of users, selfies, tunes or photos.
"""

from __future__ import annotations

from typing import Any

from accounts.roles import Permissions, group_ensure

CREATIVES = "Creatives"
PERMISSIONS: Permissions = {
    "packs": [
        f"{action}_{model}"
        for model in ("pack", "packprompt", "packsample")
        for action in ("add", "change", "delete", "view")
    ],
    "studio": ["add_packpreview", "view_packpreview", "delete_packpreview", "view_previewsubject"],
}


def creatives_group_ensure(apps: Any) -> None:
    """The Creatives group with every permission above (`apps`: a migration's registry)."""
    group_ensure(apps, CREATIVES, PERMISSIONS)
