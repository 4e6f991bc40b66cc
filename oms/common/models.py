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


class OutboxState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class OutboxMessage(models.Model):
    """Work that must happen because of a state change (a label, an email, a webhook),
    written in the same transaction as the change and run by a Celery task after commit.

    The task receives only the message id; what it needs is in ``payload`` (ids and
    numbers, never secrets) and is re-read from the database. ``available_at`` is when the
    periodic sweep may relay the message again if it is still pending: a relay lost between
    commit and broker, a message dropped by the broker, or a worker killed mid-task is
    picked up then. ``locked_until`` is the lease of the worker running it, so two copies of
    one message never run at once.
    """

    key = models.CharField(max_length=200, unique=True, help_text="What caused it; the same cause is written once.")
    task = models.CharField(max_length=200, help_text="The Celery task that carries it out.")
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=OutboxState.choices, default=OutboxState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    available_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["available_at"], name="outbox_pending_due", condition=models.Q(state=OutboxState.PENDING)
            )
        ]

    def __str__(self) -> str:
        return self.key
