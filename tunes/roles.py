"""The Support group: staff who help customers, and nothing that changes roles.

They find users, see balances and ledgers, grant or take credits, and see and act on
photoshoots (poll, retry, mark failed, send the ready e-mail again) and see their models. They
cannot change users (nor anyone's roles, e-mail or password), groups, selfies, packs or prices.
"""

from __future__ import annotations

from accounts.roles import Role

SUPPORT = Role(
    "Support",
    {
        "accounts": ["view_user", "view_creditentry", "grant_credits"],
        "tunes": [
            "view_photoshoot",
            "change_photoshoot",  # the actions on photoshoots; every field is read-only
            "view_trainedmodel",
            "view_prompt",
            "change_prompt",  # retrying failed scenes
            "view_photo",
            "view_callbackevent",
            "view_astriacall",
        ],
    },
)
