"""The Support group, with the permissions tunes.roles lists."""

from __future__ import annotations

from django.db import migrations

from tunes.roles import SUPPORT


class Migration(migrations.Migration):
    dependencies = [
        ("tunes", "0004_submit_claims_and_clocks"),
        ("accounts", "0003_grant_credits_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [SUPPORT.migration()]
