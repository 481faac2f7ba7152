"""The Creatives group, with the permissions studio.roles lists."""

from __future__ import annotations

from django.db import migrations


def creatives_group_create(apps, schema_editor) -> None:
    from django.contrib.auth.management import create_permissions

    from studio.roles import creatives_group_ensure

    # Django makes permissions after all migrations have run (post_migrate); on a new database
    # the group's would not exist yet, so make those of these two apps now.
    for label in ("packs", "studio"):
        config = apps.get_app_config(label)
        models_module = getattr(config, "models_module", None)
        config.models_module = True
        create_permissions(config, verbosity=0, apps=apps)
        config.models_module = models_module
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
