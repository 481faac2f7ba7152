"""The Creatives group, with the permissions studio.roles lists."""

from __future__ import annotations

from django.db import migrations


def creatives_group_create(apps, schema_editor) -> None:
    from accounts.roles import permissions_create
    from studio.roles import creatives_group_ensure

    permissions_create(apps, ["packs", "studio"])
    creatives_group_ensure(apps)


def creatives_group_delete(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name="Creatives").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0001_initial"),
        ("packs", "0002_demo_packs"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(creatives_group_create, creatives_group_delete)]
