from __future__ import annotations

from typing import Any

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
        return bool(user.has_perm(perm))
