"""Staff pages of notifications under /staff/ (oms/urls.py includes this module there)."""

from django.urls import URLPattern, path

from notifications import views

app_name = "notifications"

urlpatterns: list[URLPattern] = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/previews/", views.preview_list, name="previews"),
    path("notifications/previews/<str:kind>/", views.preview_detail, name="preview"),
    path("notifications/previews/<str:kind>/html/", views.preview_html, name="preview-html"),
    path("notifications/<int:pk>/", views.notification_detail, name="detail"),
    path("notifications/<int:pk>/html/", views.notification_html, name="html"),
    path("notifications/<int:pk>/resend/", views.notification_resend_view, name="resend"),
    path("orders/<str:number>/notifications/", views.order_notifications, name="order"),
]
