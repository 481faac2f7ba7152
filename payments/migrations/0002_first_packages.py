"""The packages on sale from the first deploy, so the pricing page is never empty; staff
change or replace them in admin. A data migration rather than demo_setup: production needs
them as much as the demo does."""

from django.db import migrations

FIRST_PACKAGES = [
    {"name": "Starter", "credits": 30, "price": 900, "currency": "eur", "order": 10},
    {"name": "Plus", "credits": 100, "price": 2500, "currency": "eur", "order": 20},
    {"name": "Studio", "credits": 250, "price": 4900, "currency": "eur", "order": 30},
]


def add_packages(apps, schema_editor):
    CreditPackage = apps.get_model("payments", "CreditPackage")
    if CreditPackage.objects.exists():  # staff were first: theirs stand
        return
    for fields in FIRST_PACKAGES:
        CreditPackage.objects.create(**fields)


def remove_packages(apps, schema_editor):
    # Only the untouched ones that nobody bought: a purchase keeps its package.
    CreditPackage = apps.get_model("payments", "CreditPackage")
    for fields in FIRST_PACKAGES:
        CreditPackage.objects.filter(**fields, purchases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(add_packages, remove_packages)]
