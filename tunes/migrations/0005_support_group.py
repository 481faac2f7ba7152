"""The Support group, with the permissions tunes.roles lists."""

from __future__ import annotations

from django.db import migrations


def support_group_create(apps, schema_editor) -> None:
    from accounts.roles import permissions_create
    from tunes.roles import support_group_ensure

    permissions_create(apps, ["accounts", "tunes"])
    support_group_ensure(apps)


def support_group_delete(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name="Support").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tunes", "0004_submit_claims_and_clocks"),
        ("accounts", "0003_grant_credits_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(support_group_create, support_group_delete)]
