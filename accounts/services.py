"""Account services: sending the portal's e-mail, demo data, housekeeping."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from importlib import import_module

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction

from .credits import credits_grant
from .models import User


@dataclass(frozen=True)
class OutgoingEmail:
    """A rendered e-mail, in a form that travels through the broker as JSON."""

    subject: str
    body: str
    to: list[str]
    from_email: str | None = None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_message(cls, message: EmailMessage) -> OutgoingEmail:
        html = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", [])
                if mimetype == "text/html"
            ),
            None,
        )
        # str(): a lazy translation would not travel as JSON.
        return cls(
            subject=str(message.subject),
            body=str(message.body),
            to=list(message.to),
            from_email=message.from_email,
            html=html,
            headers=dict(message.extra_headers),
        )


def email_queue(*, email: OutgoingEmail) -> None:
    """Send `email` from a worker once the current transaction commits.

    A slow or failing mail server then delays the e-mail, never the page that caused it.
    """
    from .tasks import email_send

    transaction.on_commit(lambda: email_send.delay(**asdict(email)))


def email_deliver(*, email: OutgoingEmail) -> None:
    """Hand `email` to the configured mail backend (SMTP in production)."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        from_email=email.from_email,
        to=email.to,
        headers=email.headers,
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    message.send()


def sessions_clear() -> None:
    """Delete expired sessions, which the session store otherwise keeps forever.

    The same as `manage.py clearsessions`, run nightly by beat.
    """
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@transaction.atomic
def demo_user_ensure() -> tuple[User, bool]:
    """Create the demo account with a verified e-mail if it is missing; say whether it was new.

    An existing demo account keeps its data; only its password is set back to DEMO_PASSWORD,
    so the password that `make run` prints always works.
    """
    user, created = User.objects.get_or_create(email=settings.DEMO_EMAIL)
    user.set_password(settings.DEMO_PASSWORD)
    user.save(update_fields=["password"])
    if created and settings.SIGNUP_FREE_CREDITS:
        credits_grant(user=user, amount=settings.SIGNUP_FREE_CREDITS, reason="Welcome credits")
    EmailAddress.objects.update_or_create(
        user=user, email=settings.DEMO_EMAIL, defaults={"verified": True, "primary": True}
    )
    return user, created
