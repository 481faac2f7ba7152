"""A cause may now be granted credits once (a purchase): before the constraint, say which
causes the ledger already grants twice, instead of the database's bare IntegrityError."""

from django.db import migrations, models
from django.db.models import Count


def no_cause_granted_twice(apps, schema_editor):
    CreditEntry = apps.get_model("accounts", "CreditEntry")
    twice = (
        CreditEntry.objects.filter(kind="grant", cause_type__isnull=False)
        .values("cause_type", "cause_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    if twice:
        causes = ", ".join(f"{row['cause_type']}:{row['cause_id']}" for row in twice[:20])
        raise RuntimeError(
            f"These causes have more than one grant; merge them before migrating: {causes}"
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_email_taken_message")]

    operations = [
        migrations.RunPython(no_cause_granted_twice, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="creditentry", name="accounts_credit_once_per_cause"
        ),
        migrations.AddConstraint(
            model_name="creditentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("kind__in", ["debit", "refund"]),
                    models.Q(("cause_type__isnull", False), ("kind", "grant")),
                    _connector="OR",
                ),
                fields=("kind", "cause_type", "cause_id"),
                name="accounts_credit_once_per_cause",
            ),
        ),
    ]
