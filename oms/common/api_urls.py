"""Staff token endpoints, included under ``/api/v1/auth/``."""

from django.urls import path

from oms.common.apis import StaffTokenCurrentView, StaffTokenObtainView

urlpatterns = [
    path("tokens/", StaffTokenObtainView.as_view(), name="staff-token-obtain"),
    path("tokens/current/", StaffTokenCurrentView.as_view(), name="staff-token-current"),
]
