"""The staff side's door: log-in and log-out. Where a log-in lands is the dashboard's
(``LOGIN_REDIRECT_URL``: each role's own work)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm


class StaffAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That user name and password do not match. Check them and try again.",
        "not_staff": "This account is not a staff account. Ask a manager to give you a role.",
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise forms.ValidationError(self.error_messages["not_staff"], code="not_staff")


class StaffLoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    authentication_form = StaffAuthenticationForm
    redirect_authenticated_user = True
    # The form is shown and sent: Django's LoginView would treat PUT as a POST too.
    http_method_names = ["get", "post", "head", "options"]


class StaffLogoutView(auth_views.LogoutView):
    pass
