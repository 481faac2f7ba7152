"""Account tasks on a real Celery worker, with Redis as the broker and PostgreSQL behind it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts import services, tasks
from tests.conftest import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_a_worker_sends_the_email_that_a_page_queued(celery_worker, tmp_path):
    with transaction.atomic():
        row = services.email_queue(
            email=services.OutgoingEmail(
                subject="[PhotoShoot] Your gallery is ready",
                body="Open it here.",
                to=["owner@example.com"],
                from_email="PhotoShoot <noreply@localhost>",
                html="<p>Open it here.</p>",
            )
        )
    mail_dir = tmp_path / "mail"

    def delivered() -> str:
        # The file backend creates the file, writes the message, then a line of 79 dashes.
        text = mail_dir.exists() and "".join(f.read_text() for f in mail_dir.iterdir())
        return text if text and "-" * 79 in text else ""

    message = wait_until(delivered)
    assert "Subject: [PhotoShoot] Your gallery is ready" in message
    assert "To: owner@example.com" in message
    assert "text/html" in message
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 1


def test_a_worker_clears_expired_sessions_from_the_database(celery_worker):
    for expired in (True, False):
        store = SessionStore()
        store.set_expiry(timezone.now() + timedelta(days=-1 if expired else 1))
        store.save()
    assert Session.objects.count() == 2

    tasks.sessions_clear.delay()

    wait_until(lambda: Session.objects.count() == 1)
    assert Session.objects.get().expire_date > timezone.now()
