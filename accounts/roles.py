"""Staff roles as groups that migrations make: one way to define a group's permissions.

Each app that defines a role lists its permissions as `{app_label: [codename, …]}` and calls
`group_ensure` from a migration (and from test factories, since transactional tests empty the
database). Superusers alone change roles: who is staff or superuser, groups and permissions
(accounts/admin.py).
"""

from __future__ import annotations

from typing import Any

Permissions = dict[str, list[str]]


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


def group_ensure(apps: Any, name: str, permissions: Permissions) -> None:
    """Create the group if it is missing and give it every permission listed (never removes
    one that a superuser added). `apps`: a migration's app registry, or django.apps.apps."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name=name)
    for app_label, codenames in permissions.items():
        group.permissions.add(
            *permission_model.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        )
