from django.urls import path

from oms.common.staff_views import StaffLoginView, StaffLogoutView

# The staff home at /staff/ is the dashboard's (dashboard:home).
urlpatterns = [
    path("login/", StaffLoginView.as_view(), name="staff-login"),
    path("logout/", StaffLogoutView.as_view(), name="staff-logout"),
]
