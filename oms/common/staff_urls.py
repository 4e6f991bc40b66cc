from django.urls import path

from oms.common.staff_views import StaffLoginView, StaffLogoutView, staff_home

urlpatterns = [
    path("", staff_home, name="staff-home"),
    path("login/", StaffLoginView.as_view(), name="staff-login"),
    path("logout/", StaffLogoutView.as_view(), name="staff-logout"),
]
