from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PASSWORD = "a-founders-password-55"


def test_a_superuser_made_by_createsuperuser_logs_in(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", interactive=False, email="founder@example.com")
    response = client.post(
        "/accounts/login/", {"login": "founder@example.com", "password": PASSWORD}
    )
    assert response["Location"] == "/dashboard/"
    assert client.get("/admin/").status_code == 200
