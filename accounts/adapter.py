"""How allauth's account flows fit the portal."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter

from .services import OutgoingEmail, email_queue


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render allauth's e-mail here, send it from a Celery worker."""
        message = self.render_mail(template_prefix, email, context)
        email_queue(email=OutgoingEmail.from_message(message))
