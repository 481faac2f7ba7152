"""Password-reset links: the newest one sent is the only one that works.

Django's tokens (which allauth uses) are signed over the password hash, the last login and the
time, so a link dies once it is used or the password changes; but every link sent before it
stays good until then, and two asked for in the same second are the same link. A leaked old
e-mail (a shared inbox, a forwarded message) would then still reset the password.
"""

from __future__ import annotations

import secrets

from allauth.account.forms import EmailAwarePasswordResetTokenGenerator
from django.contrib.auth.base_user import AbstractBaseUser

from .models import User


class LatestLinkTokenGenerator(EmailAwarePasswordResetTokenGenerator):
    """allauth's token, also signed over a nonce that each new link replaces."""

    def make_token(self, user: AbstractBaseUser) -> str:
        """A token for a new link; every earlier link of `user` stops working."""
        nonce = secrets.token_hex(16)
        type(user)._default_manager.filter(pk=user.pk).update(password_reset_nonce=nonce)
        if isinstance(user, User):  # always: Django's signature names the base class
            user.password_reset_nonce = nonce
        return super().make_token(user)

    def _make_hash_value(self, user: AbstractBaseUser, timestamp: int) -> str:
        nonce = getattr(user, "password_reset_nonce", "")
        return f"{super()._make_hash_value(user, timestamp)}|{nonce}"
