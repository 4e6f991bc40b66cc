from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
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

    Leaves alone a user whose caches are filled already, and inactive users and superusers,
    for whom the backend decides without these sets.
    """
    if hasattr(user, "_perm_cache") or not user.is_active or user.is_superuser:
        return
    own: set[str] = set()
    via_group: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute(_permissions_sql(), [user.pk, user.pk])
        for from_group, app_label, codename in cursor.fetchall():
            (via_group if from_group else own).add(f"{app_label}.{codename}")
    user._user_perm_cache = own
    user._group_perm_cache = via_group
    user._perm_cache = own | via_group


@functools.cache
def _permissions_sql() -> str:
    """The user's own permissions, then those of its groups, as (from a group, app label,
    codename) rows; table and column names from the models."""

    def quote(name: str | None) -> str:
        assert name is not None  # a concrete field always has a column
        return connection.ops.quote_name(name)

    user_model = get_user_model()
    own = user_model._meta.get_field("user_permissions")
    member = user_model._meta.get_field("groups")
    granted = Group._meta.get_field("permissions")
    permission, content_type = Permission._meta, ContentType._meta
    columns = (
        f"{quote('ct')}.{quote(content_type.get_field('app_label').column)}, "
        f"{quote('p')}.{quote(permission.get_field('codename').column)} "
        f"FROM {quote(permission.db_table)} {quote('p')} "
        f"JOIN {quote(content_type.db_table)} {quote('ct')} "
        f"ON {quote('ct')}.{quote(content_type.pk.column)} = "
        f"{quote('p')}.{quote(permission.get_field('content_type').column)} "
    )
    return (
        f"SELECT FALSE, {columns}"
        f"JOIN {quote(own.m2m_db_table())} {quote('up')} "
        f"ON {quote('up')}.{quote(own.m2m_reverse_name())} = {quote('p')}.{quote(permission.pk.column)} "
        f"WHERE {quote('up')}.{quote(own.m2m_column_name())} = %s "
        f"UNION ALL SELECT TRUE, {columns}"
        f"JOIN {quote(granted.m2m_db_table())} {quote('gp')} "
        f"ON {quote('gp')}.{quote(granted.m2m_reverse_name())} = {quote('p')}.{quote(permission.pk.column)} "
        f"JOIN {quote(member.m2m_db_table())} {quote('ug')} "
        f"ON {quote('ug')}.{quote(member.m2m_reverse_name())} = {quote('gp')}.{quote(granted.m2m_column_name())} "
        f"WHERE {quote('ug')}.{quote(member.m2m_column_name())} = %s"
    )
