"""How allauth's account flows fit the portal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest

from .credits import credits_grant
from .models import User
from .services import SITE_NAME, OutgoingEmail, email_queue


@dataclass(frozen=True)
class EmailSite:
    """What allauth's e-mail templates call `current_site`: "Hello from {name}!"."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    # The portal's words ("e-mail") in the messages a person reads on allauth's forms.
    error_messages = DefaultAccountAdapter.error_messages | {
        "email_password_mismatch": "That e-mail and password do not match. Check both, or "
        "reset your password.",
        "email_taken": "An account already uses this e-mail address.",
        "unknown_email": "No account uses this e-mail address.",
        "duplicate_email": "This e-mail address is already on your account.",
        "cannot_remove_primary_email": "You cannot remove your main e-mail address.",
        "unverified_primary_email": "Your main e-mail address must be confirmed first.",
    }

    @transaction.atomic
    def save_user(self, request: HttpRequest, user: User, form: Form, commit: bool = True) -> User:
        """A new account, with the sign-up gift of credits in the same transaction."""
        user = super().save_user(request, user, form, commit=commit)
        if commit and settings.SIGNUP_FREE_CREDITS:
            credits_grant(user=user, amount=settings.SIGNUP_FREE_CREDITS, reason="Welcome credits")
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render allauth's e-mail here, send it from a Celery worker.

        allauth's own send_mail adds `current_site` to the context, which its templates greet
        with; without the Sites framework that would be the bare host, so the portal names
        itself here, beside the host the visitor used (as in the links the e-mail holds). The
        portal's HTML parts (templates/account/email/*_message.html, in the layout of
        email/base.html) read the same two as site_name and site_domain."""
        request = allauth_context.request
        site = EmailSite(name=SITE_NAME, domain=get_current_site(request).domain)
        context = {
            "request": request,
            "email": email,
            "current_site": site,
            "site_name": site.name,
            "site_domain": site.domain,
            **context,
        }
        message = self.render_mail(template_prefix, email, context)
        email_queue(email=OutgoingEmail.from_message(message))
