from __future__ import annotations

import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from . import checks

        # The check speaks at `migrate` (the release step) and runserver; gunicorn and Celery
        # run no checks, so production says it in each process's log as it starts.
        if settings.PRODUCTION and not settings.PAYMENTS_ENABLED:
            logger.warning(checks.PAYMENTS_OFF)
