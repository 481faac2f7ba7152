from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_it_creates_a_demo_account_that_logs_in(client, capsys):
    call_command("demo_setup")
    out = capsys.readouterr().out
    assert "Created the demo account" in out
    assert "demo@example.com" in out and "photoshoot-demo" in out

    response = client.post(
        "/accounts/login/", {"login": "demo@example.com", "password": "photoshoot-demo"}
    )
    assert response["Location"] == "/dashboard/"


def test_running_it_again_reuses_the_account(capsys):
    call_command("demo_setup")
    call_command("demo_setup")
    assert "Reusing the demo account" in capsys.readouterr().out
    assert User.objects.filter(email="demo@example.com").count() == 1


def test_it_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(SystemExit):
        call_command("demo_setup")
    assert not User.objects.exists()
