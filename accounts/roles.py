"""Staff roles as groups that migrations make: one way to define a group and its permissions.

An app that defines a role declares it as a `Role` (`studio/roles.py`: Creatives,
`tunes/roles.py`: Support); a migration makes it with `role.migration()`, and test factories
make it again with `role.ensure(django.apps.apps)`, since transactional tests empty the
database. Superusers alone change roles: who is staff or superuser, groups and permissions
(accounts/admin.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import migrations


@dataclass(frozen=True)
class Role:
    name: str
    permissions: dict[str, list[str]]  # {app_label: [codename, …]}

    def ensure(self, apps: Any) -> None:
        """Create the group if it is missing and give it every permission listed (never
        removes one a superuser added). `apps`: a migration's registry, or django.apps.apps."""
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
        group, _ = group_model.objects.get_or_create(name=self.name)
        for app_label, codenames in self.permissions.items():
            group.permissions.add(
                *permission_model.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )

    def migration(self) -> migrations.RunPython:
        """The operation that makes the group (and takes it away when migrated back)."""

        def create(apps: Any, schema_editor: Any) -> None:
            permissions_create(apps, list(self.permissions))
            self.ensure(apps)

        def delete(apps: Any, schema_editor: Any) -> None:
            apps.get_model("auth", "Group").objects.filter(name=self.name).delete()

        return migrations.RunPython(create, delete)


def permissions_create(apps: Any, app_labels: list[str]) -> None:
    """Make the permissions of these apps now. Django makes them after all migrations have run
    (post_migrate), so on a new database a group's permissions would not exist yet."""
    from django.contrib.auth.management import create_permissions

    for label in app_labels:
        config = apps.get_app_config(label)
        models_module = getattr(config, "models_module", None)
        config.models_module = True
        create_permissions(config, verbosity=0, apps=apps)
        config.models_module = models_module
