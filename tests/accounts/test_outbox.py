"""The outbox: an e-mail is written in the transaction that causes it and sent by a worker;
a lost task, a failing mail server or a duplicate task neither loses it nor sends it twice."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.models import OutboxEmail
from operations import leases
from tests import factories

pytestmark = pytest.mark.django_db


def an_email(to: str = "owner@example.com") -> services.OutgoingEmail:
    return services.OutgoingEmail(subject="[PhotoShoot] Ready", body="See it.", to=[to])


def due_now() -> None:
    OutboxEmail.objects.update(next_try_at=timezone.now())


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once it is closed


def test_an_email_of_a_transaction_that_rolls_back_is_never_written_nor_sent():
    with pytest.raises(RuntimeError), transaction.atomic():
        services.email_queue(email=an_email())
        raise RuntimeError("the page failed")
    assert not OutboxEmail.objects.exists()
    services.outbox_flush()
    assert mail.outbox == []


def test_an_email_whose_task_was_lost_is_sent_by_the_flush_once():
    # This test's transaction never commits, so the task queued on commit is never sent:
    # exactly what a broker that was down at the commit leaves behind.
    row = services.email_queue(email=an_email())
    assert services.outbox_flush() == 0  # its own task has the first 30 seconds
    due_now()

    assert services.outbox_flush() == 1  # tasks run eagerly in tests: sent now

    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 1 and row.sent_at
    assert [m.subject for m in mail.outbox] == ["[PhotoShoot] Ready"]
    assert services.outbox_flush() == 0
    assert len(mail.outbox) == 1


def test_a_second_delivery_of_the_task_sends_nothing_more():
    row = services.email_queue(email=an_email())
    assert services.outbox_send(email_id=row.pk)
    assert not services.outbox_send(email_id=row.pk)
    assert len(mail.outbox) == 1


def test_a_failing_mail_server_is_tried_again_later_and_the_email_goes_once_it_is_back(
    settings,
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    row = services.email_queue(email=an_email())

    assert not services.outbox_send(email_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ConnectionRefusedError")
    assert row.next_try_at > timezone.now() + timedelta(minutes=1)
    assert services.outbox_flush() == 0  # not before its next try
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    due_now()
    assert services.outbox_flush() == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2 and row.last_error == ""
    assert len(mail.outbox) == 1


def test_after_its_last_attempt_an_email_is_failed_and_staff_can_send_it_again(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    row = services.email_queue(email=an_email())
    OutboxEmail.objects.update(attempts=services.OUTBOX_MAX_ATTEMPTS - 1)
    assert not services.outbox_send(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == "failed"
    due_now()
    assert services.outbox_flush() == 0  # given up: only staff send it again

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.outbox_resend(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 0
    assert services.outbox_send(email_id=row.pk)  # what the task queued on commit does
    assert len(mail.outbox) == 1


def test_a_claim_of_a_worker_that_died_mid_send_lapses():
    row = services.email_queue(email=an_email())
    OutboxEmail.objects.update(claimed_at=timezone.now())
    assert not services.outbox_send(email_id=row.pk)  # someone is sending it
    OutboxEmail.objects.update(claimed_at=leases.lapsed_before() - timedelta(seconds=1))
    assert services.outbox_send(email_id=row.pk)
    assert len(mail.outbox) == 1


def test_sent_emails_are_forgotten_after_a_week():
    row = services.email_queue(email=an_email())
    services.outbox_send(email_id=row.pk)
    OutboxEmail.objects.update(sent_at=timezone.now() - timedelta(days=8))
    services.outbox_flush()
    assert not OutboxEmail.objects.exists()


def test_staff_see_the_outbox_without_the_bodies_and_send_a_failed_one_again(client):
    superuser = factories.UserFactory(is_staff=True, is_superuser=True)
    row = services.email_queue(
        email=services.OutgoingEmail(
            subject="Reset your password", body="https://x/reset/SECRET-LINK/", to=["a@b.c"]
        )
    )
    OutboxEmail.objects.update(status="failed", attempts=10, last_error="SMTPDataError")
    client.force_login(superuser)

    listing = client.get("/admin/accounts/outboxemail/?status__exact=failed")
    page = client.get(f"/admin/accounts/outboxemail/{row.pk}/change/")
    assert listing.status_code == page.status_code == 200
    assert b"Reset your password" in listing.content and b"SMTPDataError" in listing.content
    assert b"SECRET-LINK" not in listing.content + page.content

    client.post(
        "/admin/accounts/outboxemail/",
        {"action": "send_again", "_selected_action": [row.pk]},
    )
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 0
