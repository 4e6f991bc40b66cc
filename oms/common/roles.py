"""Staff roles are Django groups; each app's data migration grants its permissions to them.

``integrator`` is the role given to API clients by default.
"""

from __future__ import annotations

from typing import Any

PICKER = "picker"
PACKER = "packer"
SHIPPER = "shipper"
SUPPORT = "support"
MANAGER = "manager"
INTEGRATOR = "integrator"

STAFF_ROLES = (PICKER, PACKER, SHIPPER, SUPPORT, MANAGER)
ALL_ROLES = (*STAFF_ROLES, INTEGRATOR)


def grant_permissions(apps: Any, app_label: str, grants: dict[str, list[str]]) -> None:
    """For data migrations: gives each role (creating its group) the app's permissions.

    Permissions are normally created after migrations run; this creates the ones it needs
    first so a fresh database gets complete roles in one ``migrate``.
    """
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, codenames in grants.items():
        group, _ = group_model.objects.get_or_create(name=role)
        perms = list(permission_model.objects.filter(content_type__app_label=app_label, codename__in=codenames))
        missing = set(codenames) - {p.codename for p in perms}
        if missing:
            raise RuntimeError(f"Permissions missing in {app_label}: {sorted(missing)}")
        group.permissions.add(*perms)


def revoke_permissions(apps: Any, app_label: str, grants: dict[str, list[str]]) -> None:
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, codenames in grants.items():
        group = group_model.objects.filter(name=role).first()
        if group:
            group.permissions.remove(
                *permission_model.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )
