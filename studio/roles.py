"""The Creatives group: who may write packs and preview them, and nothing else.

Creatives need staff status to sign in to admin, and this group's permissions: packs, their
prompts and sample photos (add, change, delete, reorder), running previews and seeing the
sample subjects. Nothing of users, selfies, tunes or photos.
"""

from __future__ import annotations

from accounts.roles import Role

CREATIVES = Role(
    "Creatives",
    {
        "packs": [
            f"{action}_{model}"
            for model in ("pack", "packprompt", "packsample")
            for action in ("add", "change", "delete", "view")
        ],
        "studio": [
            "add_packpreview",
            "view_packpreview",
            "delete_packpreview",
            "view_previewsubject",
        ],
    },
)
