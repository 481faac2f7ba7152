"""The migrations of issue 15, run from the schema before them on the real PostgreSQL: the
ledger's grant-once constraint refuses to go on over causes granted twice (and says which),
and the first credit packages are added once, never over staff's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BEFORE_CONSTRAINT = ("accounts", "0006_email_taken_message")
CONSTRAINT = ("accounts", "0007_grant_once_per_cause")
BEFORE_PACKAGES = ("payments", "0001_initial")
PACKAGES = ("payments", "0002_first_packages")


def migrate(target: tuple[str, str]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return MigrationExecutor(connection)  # a fresh loader: what is applied now


@pytest.fixture
def back_to_the_latest() -> Iterator[None]:
    yield
    MigrationExecutor(connection).migrate(
        [key for key in MigrationExecutor(connection).loader.graph.leaf_nodes()]
    )


def old_ledger(target: tuple[str, str]):
    executor = migrate(target)
    apps = executor.loader.project_state([target]).apps
    return apps.get_model("accounts", "User"), apps.get_model("accounts", "CreditEntry"), apps


def test_a_cause_granted_twice_stops_the_migration_and_is_named(back_to_the_latest):
    User, CreditEntry, apps = old_ledger(BEFORE_CONSTRAINT)
    ContentType = apps.get_model("contenttypes", "ContentType")
    user = User.objects.create(email="twice@example.com", credits=20)
    cause = ContentType.objects.get(app_label="accounts", model="user")
    for _ in range(2):
        CreditEntry.objects.create(
            user=user, kind="grant", amount=10, reason="x", cause_type=cause, cause_id=user.pk
        )
    with pytest.raises(RuntimeError, match=f"{cause.pk}:{user.pk}"):
        migrate(CONSTRAINT)
    CreditEntry.objects.filter(user=user).delete()


def test_grants_without_a_cause_may_repeat_and_the_constraint_applies(back_to_the_latest):
    User, CreditEntry, _ = old_ledger(BEFORE_CONSTRAINT)
    user = User.objects.create(email="welcome@example.com", credits=20)
    for _ in range(2):
        CreditEntry.objects.create(user=user, kind="grant", amount=10, reason="Welcome credits")
    migrate(CONSTRAINT)
    with connection.cursor() as cursor:
        cursor.execute(
            "select 1 from pg_indexes where indexname = 'accounts_credit_once_per_cause'"
            " and indexdef like '%grant%'"
        )
        assert cursor.fetchone() is not None


def packages(target: tuple[str, str]) -> list[str]:
    executor = migrate(target)
    CreditPackage = executor.loader.project_state([target]).apps.get_model(
        "payments", "CreditPackage"
    )
    return list(CreditPackage.objects.order_by("order").values_list("name", flat=True))


def test_the_first_packages_are_added_once(back_to_the_latest):
    assert packages(BEFORE_PACKAGES) == []
    assert packages(PACKAGES) == ["Starter", "Plus", "Studio"]


def test_staffs_own_packages_stand(back_to_the_latest):
    executor = migrate(BEFORE_PACKAGES)
    CreditPackage = executor.loader.project_state([BEFORE_PACKAGES]).apps.get_model(
        "payments", "CreditPackage"
    )
    CreditPackage.objects.create(name="Launch offer", credits=40, price=500, currency="eur")
    assert packages(PACKAGES) == ["Launch offer"]
