from __future__ import annotations

from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class ApiClient(models.Model):
    """An integrator (shop front end, marketplace, ERP) calling the API with a secret key.

    The key is shown once, when it is created; only its SHA-256 hash is stored. Each client
    acts through its own service user, so the same group permissions govern API clients and
    staff alike.
    """

    name = models.CharField(max_length=100, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client")
    key_prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StaffToken(models.Model):
    """A staff user's personal API token, such as a handheld scanner's for one shift.

    Unlike an API client's key, it authenticates as the person who signed in, so pick lists
    assigned to them and their own role's permissions apply. The raw token is shown once;
    only its SHA-256 hash is stored. It stops working when it expires, is revoked, or its
    user is deactivated or loses staff access.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_tokens")
    device = models.CharField(max_length=100, help_text="The device the token was issued to, such as scanner-07.")
    # Named apart from ApiClient.key_prefix/key_hash: code that recognises an API client by
    # its key_prefix attribute must never take a staff token for one.
    token_prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "staff token"

    def __str__(self) -> str:
        return f"{self.device} ({self.token_prefix})"


class IdempotencyKey(models.Model):
    """Remembers which resource a client's ``Idempotency-Key`` created, and for which body.

    The row is inserted in the same transaction that creates the resource, so a concurrent
    retry waits on the unique index and then finds the finished resource.
    """

    owner = models.CharField(max_length=64)
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "scope", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
