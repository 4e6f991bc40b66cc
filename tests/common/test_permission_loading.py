"""ActionPermission loads a caller's permissions in one query, into the caches Django's
ModelBackend keeps on the user object, and nothing outlives the request."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from oms.common.permissions import load_permissions, permission_names

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/orders/"


def _permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_one_query_gives_the_sets_djangos_backend_builds(django_assert_num_queries: Any) -> None:
    # Given a user with a permission of its own and two groups with overlapping permissions
    user = get_user_model().objects.create_user(username="clerk")
    user.user_permissions.add(_permission("orders.cancel_order"))
    first, second = Group.objects.create(name="first"), Group.objects.create(name="second")
    first.permissions.add(_permission("orders.view_order"), _permission("orders.add_order"))
    second.permissions.add(_permission("orders.view_order"), _permission("inventory.view_product"))
    user.groups.add(first, second)

    # When its permissions are loaded (the process knows the permissions' names already)
    permission_names({_permission("orders.view_order").pk})
    with django_assert_num_queries(1):
        load_permissions(user)

    # Then they are what the backend would have found with its own queries, and has_perm reads no more
    fresh = get_user_model().objects.get(pk=user.pk)
    backend = ModelBackend()
    assert user._user_perm_cache == backend.get_user_permissions(fresh) == {"orders.cancel_order"}
    assert user._group_perm_cache == backend.get_group_permissions(fresh)
    assert user._group_perm_cache == {"orders.view_order", "orders.add_order", "inventory.view_product"}
    assert user._perm_cache == backend.get_all_permissions(fresh)
    with django_assert_num_queries(0):
        assert user.has_perm("orders.add_order")
        assert not user.has_perm("orders.ship_order")


def test_a_superuser_and_an_inactive_user_are_left_to_the_backend(django_assert_num_queries: Any) -> None:
    boss = get_user_model().objects.create_superuser(username="boss", password="pw")
    gone = get_user_model().objects.create_user(username="gone", is_active=False)

    with django_assert_num_queries(0):
        load_permissions(boss)
        load_permissions(gone)

    assert not hasattr(boss, "_perm_cache") and not hasattr(gone, "_perm_cache")
    assert boss.has_perm("orders.ship_order")
    assert not gone.has_perm("orders.view_order")


def test_a_permission_taken_from_a_role_is_refused_on_the_next_request(integrator: Any) -> None:
    # Given an integrator that may list orders
    assert integrator.get(ORDERS_URL).status_code == 200

    # When the role loses the permission
    Group.objects.get(name="integrator").permissions.remove(_permission("orders.view_order"))

    # Then the very next request is refused
    assert integrator.get(ORDERS_URL).status_code == 403


def test_a_permission_added_after_the_names_were_read_is_named_too() -> None:
    # Given a process that has read the permissions' names
    user = get_user_model().objects.create_user(username="clerk")
    permission_names({_permission("orders.view_order").pk})

    # When a migration adds a permission and a role grants it
    added = Permission.objects.create(
        codename="reprint_invoice",
        name="Can reprint invoices",
        content_type=ContentType.objects.get_by_natural_key("orders", "order"),
    )
    role = Group.objects.create(name="billing")
    role.permissions.add(added)
    user.groups.add(role)

    # Then the user holds it by its full name
    load_permissions(user)
    assert user._perm_cache == {"orders.reprint_invoice"}
    assert user.has_perm("orders.reprint_invoice")
