"""The Creatives group, with the permissions studio.roles lists."""

from __future__ import annotations

from django.db import migrations

from studio.roles import CREATIVES


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0001_initial"),
        ("packs", "0002_demo_packs"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [CREATIVES.migration()]
