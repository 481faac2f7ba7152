"""How allauth's account flows fit the portal."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest

from .credits import credits_grant
from .models import User
from .services import OutgoingEmail, email_queue


class AccountAdapter(DefaultAccountAdapter):
    @transaction.atomic
    def save_user(self, request: HttpRequest, user: User, form: Form, commit: bool = True) -> User:
        """A new account, with the sign-up gift of credits in the same transaction."""
        user = super().save_user(request, user, form, commit=commit)
        if commit and settings.SIGNUP_FREE_CREDITS:
            credits_grant(user=user, amount=settings.SIGNUP_FREE_CREDITS, reason="Welcome credits")
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render allauth's e-mail here, send it from a Celery worker."""
        message = self.render_mail(template_prefix, email, context)
        email_queue(email=OutgoingEmail.from_message(message))
