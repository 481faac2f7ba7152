"""Account services: sending the portal's e-mail, demo data, housekeeping."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from operations import leases

from .credits import credits_grant
from .models import OutboxEmail, User

logger = logging.getLogger(__name__)

# What every e-mail calls the portal: "Hello from PhotoShoot!".
SITE_NAME = "PhotoShoot"


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


def email_render(
    *, template_prefix: str, to: list[str], context: dict[str, object]
) -> OutgoingEmail:
    """One of the portal's own e-mails, from `<template_prefix>_subject.txt`, `_message.txt`
    and `_message.html` (which extends email/base.html), as allauth renders its own: a plain
    text part and an HTML part with the same words and links, and the site's name."""
    context = {
        "site_name": SITE_NAME,
        "site_domain": urlsplit(settings.PUBLIC_BASE_URL).netloc,
        **context,
    }
    subject = " ".join(render_to_string(f"{template_prefix}_subject.txt", context).split())
    return OutgoingEmail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body=render_to_string(f"{template_prefix}_message.txt", context).strip() + "\n",
        html=render_to_string(f"{template_prefix}_message.html", context).strip(),
        to=to,
    )


def email_queue(*, email: OutgoingEmail) -> OutboxEmail:
    """Write `email` to the outbox in the current transaction, and have a worker send it once
    that commits. A broker that is down then, a lost task or a failing mail server delays the
    e-mail (outbox_flush sends it again), never loses it; a slow mail server never delays the
    page that caused it."""
    from .tasks import email_send

    row = OutboxEmail.objects.create(
        subject=email.subject[:300],
        body=email.body,
        html=email.html or "",
        to=email.to,
        from_email=email.from_email or "",
        headers=email.headers,
        next_try_at=timezone.now() + OUTBOX_FIRST_WAIT,
    )
    # robust: with the broker down the commit stands, and the flush sends it later.
    transaction.on_commit(lambda: email_send.delay(row.pk), robust=True)
    return row


OUTBOX_FIRST_WAIT = timedelta(seconds=30)  # the task queued on commit goes first
OUTBOX_MAX_ATTEMPTS = 10
OUTBOX_KEEP = timedelta(days=7)  # sent e-mails (with their links) are forgotten after this
MAIL_ERRORS = (smtplib.SMTPException, OSError)  # OSError: refused, reset, timed out


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


def outbox_send(*, email_id: int) -> bool:
    """Send one outbox e-mail if it is pending and no other worker is sending it; a failure
    is recorded and tried again later (doubling waits, at most an hour apart), up to
    OUTBOX_MAX_ATTEMPTS. Returns whether this call sent it."""
    # A send under a lease (operations/leases.py): a dead worker's claim lapses in seconds.
    lease = leases.claim(
        OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING),
        email_id,
        "claimed_at",
        attempts=F("attempts") + 1,
    )
    if lease is None:
        return False
    with leases.held(lease):
        return _outbox_deliver(email_id, lease)


def _outbox_deliver(email_id: int, lease: leases.Lease) -> bool:
    row = OutboxEmail.objects.get(pk=email_id)
    email = OutgoingEmail(
        subject=row.subject,
        body=row.body,
        to=list(row.to),
        from_email=row.from_email or None,
        html=row.html or None,
        headers=dict(row.headers),
    )
    try:
        email_deliver(email=email)
    except MAIL_ERRORS as exc:
        gave_up = row.attempts >= OUTBOX_MAX_ATTEMPTS
        now = timezone.now()
        lease.release(
            # The class only: a mail server's words may quote the addresses.
            last_error=type(exc).__name__,
            status=OutboxEmail.Status.FAILED if gave_up else OutboxEmail.Status.PENDING,
            next_try_at=now + min(timedelta(minutes=2**row.attempts), timedelta(hours=1)),
        )
        logger.warning("e-mail %s not sent (attempt %s): %s", email_id, row.attempts, type(exc))
        return False
    OutboxEmail.objects.filter(pk=email_id).update(
        status=OutboxEmail.Status.SENT, sent_at=timezone.now(), claimed_at=None, last_error=""
    )
    return True


def outbox_flush(*, limit: int = 500) -> int:
    """Beat: queue the sending of every pending e-mail whose turn has come (a task lost with
    the broker, a mail server that failed), and forget sent ones past OUTBOX_KEEP. Returns how
    many were queued."""
    from .tasks import email_send

    now = timezone.now()
    OutboxEmail.objects.filter(
        status=OutboxEmail.Status.SENT, sent_at__lt=now - OUTBOX_KEEP
    ).delete()
    due = OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING, next_try_at__lte=now)
    ids = list(due.order_by("next_try_at").values_list("pk", flat=True)[:limit])
    for email_id in ids:
        email_send.delay(email_id)
    return len(ids)


def outbox_resend(*, email_id: int) -> bool:
    """Staff: try a failed (or pending) e-mail again now, with its attempts counted afresh."""
    from .tasks import email_send

    again = OutboxEmail.objects.filter(
        pk=email_id, status__in=[OutboxEmail.Status.FAILED, OutboxEmail.Status.PENDING]
    ).update(status=OutboxEmail.Status.PENDING, attempts=0, next_try_at=timezone.now())
    if again:
        transaction.on_commit(lambda: email_send.delay(email_id), robust=True)
    return bool(again)


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
