from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest

from oms.common import roles
from oms.common.models import ApiClient, OutboxMessage, StaffToken
from oms.common.services import api_client_create, api_client_revoke, staff_token_revoke


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["user", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiClient | None = None) -> list[str]:
        return ["name", *self.readonly_fields] if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: ApiClient | None = None) -> bool:
        return False  # revoke instead: the audit trail keeps pointing at the client

    def save_model(self, request: HttpRequest, obj: ApiClient, form: Any, change: bool) -> None:
        if change:
            return
        # The form already checked the name is free; the service makes the user and the key.
        created = api_client_create(name=obj.name, roles=[roles.INTEGRATOR])
        obj.__dict__.update(created.client.__dict__)
        self.message_user(
            request,
            f"API key for {obj.name} (copy it now, it is not shown again): {created.raw_key}",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            api_client_revoke(client=client)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")


@admin.register(StaffToken)
class StaffTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are issued only by signing in (POST /api/v1/auth/tokens/)."""

    list_display = ["user", "device", "token_prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    fields = ["user", "device", "token_prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "device", "token_prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["created_at", "expires_at", "revoked_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "device", "token_prefix"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StaffToken | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StaffToken | None = None) -> bool:
        return False  # revoke instead: the row shows when and from which device the user signed in

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("common.change_stafftoken")

    @admin.action(description="Revoke the selected staff tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[StaffToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            staff_token_revoke(token=token)
            count += 1
        self.message_user(request, f"Revoked {count} staff token(s); those devices must sign in again.")


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name"]
    filter_horizontal = ["permissions"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: what the workers were asked to do and how it went."""

    list_display = ["key", "task", "state", "attempts", "created_at", "available_at", "done_at"]
    list_filter = ["state", "task"]
    search_fields = ["key"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False
