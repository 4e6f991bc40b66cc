from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from rest_framework.permissions import BasePermission


class ActionPermission(BasePermission):
    """Checks the Django permission a view names for the current action.

    Views declare ``required_permissions = {"list": "orders.view_order", ...}``; an action
    without an entry is refused, so a new endpoint cannot be left open by accident.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action = getattr(view, "action", None)
        if action is None:
            # No handler for this method: let the view answer 405 Method Not Allowed.
            return True
        if action == "metadata":  # OPTIONS describes the endpoint and changes nothing
            return True
        perm = view.required_permissions.get(action)
        if perm is None:
            return False
        load_permissions(user)
        return bool(user.has_perm(perm))


def load_permissions(user: Any) -> None:
    """Fills the permission caches Django's ModelBackend keeps on a user object with one query
    (the backend makes two, one for the user's own permissions and one for its groups'), so
    the ``has_perm`` that follows reads no more. The sets are the ones the backend would build.

    The query reads what the user is granted, live, on every request: a permission taken from
    a role is refused on the next request. It returns permission ids; their names
    (``app_label.codename``) come from ``permission_names``, which only changes when a
    migration adds a permission.

    Leaves alone a user whose caches are filled already, and inactive users and superusers,
    for whom the backend decides without these sets.
    """
    if hasattr(user, "_perm_cache") or not user.is_active or user.is_superuser:
        return
    with connection.cursor() as cursor:
        cursor.execute(_grants_sql(), [user.pk, user.pk])
        grants = cursor.fetchall()
    names = permission_names({permission_id for _from_group, permission_id in grants})
    own = {names[permission_id] for from_group, permission_id in grants if not from_group}
    via_group = {names[permission_id] for from_group, permission_id in grants if from_group}
    user._user_perm_cache = own
    user._group_perm_cache = via_group
    user._perm_cache = own | via_group


# Permission id -> "app_label.codename", for every permission of the database. Permissions are
# rows that migrations add and nothing renames, so each process reads them once, and again
# when it meets an id it does not know (a permission added since).
_names: dict[int, str] = {}


def permission_names(ids: set[int]) -> dict[int, str]:
    """The ``app_label.codename`` of each permission id."""
    global _names
    if not ids <= _names.keys():
        _names = {
            pk: f"{app_label}.{codename}"
            for pk, app_label, codename in Permission.objects.values_list("pk", "content_type__app_label", "codename")
        }
    return _names


@functools.cache
def _grants_sql() -> str:
    """The ids of the user's own permissions, then those of its groups, as (from a group,
    permission id) rows; table and column names from the models."""

    def quote(name: str | None) -> str:
        assert name is not None  # a concrete field always has a column
        return connection.ops.quote_name(name)

    user_model = get_user_model()
    own = user_model._meta.get_field("user_permissions")
    member = user_model._meta.get_field("groups")
    granted = Group._meta.get_field("permissions")
    return (
        f"SELECT FALSE, {quote(own.m2m_reverse_name())} FROM {quote(own.m2m_db_table())} "  # noqa: S608  (names from the models)
        f"WHERE {quote(own.m2m_column_name())} = %s "
        f"UNION ALL SELECT TRUE, {quote('gp')}.{quote(granted.m2m_reverse_name())} "
        f"FROM {quote(granted.m2m_db_table())} {quote('gp')} "
        f"JOIN {quote(member.m2m_db_table())} {quote('ug')} "
        f"ON {quote('ug')}.{quote(member.m2m_reverse_name())} = {quote('gp')}.{quote(granted.m2m_column_name())} "
        f"WHERE {quote('ug')}.{quote(member.m2m_column_name())} = %s"
    )
