"""A sample subject trained on the sandbox, from a selfie set of a staff account."""

from __future__ import annotations

import pytest

from studio import services
from studio.models import PreviewSubject
from tests.astria.conftest import loopback, sandbox  # noqa: F401 - fixtures
from tests.tunes.conftest import pack, portal, ready_selfie_set  # noqa: F401 - fixtures


def subject_for(staff, subject_class: str = "woman", name: str = "Anna") -> PreviewSubject:
    """Trained at once: the sandbox's timers are at zero and tasks run eagerly."""
    subject = PreviewSubject.objects.create(
        name=name, selfie_set=ready_selfie_set(staff, subject_class=subject_class)
    )
    services.subject_train(subject=subject)
    subject.refresh_from_db()
    return subject


@pytest.fixture
def subject(portal, staff) -> PreviewSubject:  # noqa: F811
    subject = subject_for(staff)
    assert subject.ready, subject.model and subject.model.failure_reason
    return subject
