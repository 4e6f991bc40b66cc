"""Use cases of the shared kernel: API clients and idempotency keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from oms.common.errors import IdempotencyKeyReused, InvalidInput
from oms.common.models import ApiClient, IdempotencyKey

KEY_PREFIX_TAG = "oms"


def hash_api_key(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough: nobody can brute-force it.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def split_api_key(raw_key: str) -> str | None:
    """The lookup prefix of a key shaped ``oms_<prefix>_<secret>``, or None if malformed."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX_TAG or not parts[1] or not parts[2]:
        return None
    return parts[1]


@dataclass(frozen=True)
class CreatedApiClient:
    client: ApiClient
    raw_key: str


@transaction.atomic
def api_client_create(*, name: str, roles: list[str]) -> CreatedApiClient:
    """Creates a client, its service user in ``roles`` (group names) and a new key.

    Returns the raw key, which is never stored and cannot be shown again.
    Raises InvalidInput when the name is taken or empty, or a role does not exist.
    """
    name = name.strip()
    if not name:
        raise InvalidInput("Give the API client a name.", fields={"name": ["This field may not be blank."]})
    if ApiClient.objects.filter(name=name).exists():
        raise InvalidInput(
            f"An API client named {name!r} already exists; choose another name.",
            fields={"name": ["An API client with this name already exists."]},
        )
    groups = list(Group.objects.filter(name__in=roles))
    missing = sorted(set(roles) - {g.name for g in groups})
    if missing:
        raise InvalidInput(
            f"Unknown role(s): {', '.join(missing)}.",
            fields={"roles": [f"Unknown role: {m}" for m in missing]},
        )
    user_model = get_user_model()
    username = f"api-{name}"[:150]
    if user_model.objects.filter(username=username).exists():
        raise InvalidInput(
            f"A user named {username!r} already exists; choose another client name.",
            fields={"name": ["Clashes with an existing user name."]},
        )
    user = user_model.objects.create_user(username=username, is_active=True)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user.groups.set(groups)
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_PREFIX_TAG}_{prefix}_{secrets.token_urlsafe(32)}"
    client = ApiClient.objects.create(name=name, user=user, key_prefix=prefix, key_hash=hash_api_key(raw_key))
    return CreatedApiClient(client=client, raw_key=raw_key)


def api_client_revoke(*, client: ApiClient) -> None:
    """Revokes the key at once; the client's later requests answer 401."""
    ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_client_authenticate(*, raw_key: str) -> ApiClient | None:
    prefix = split_api_key(raw_key)
    if prefix is None:
        return None
    client = ApiClient.objects.select_related("user").filter(key_prefix=prefix).first()
    if client is None or not hmac.compare_digest(client.key_hash, hash_api_key(raw_key)):
        return None
    if client.revoked_at is not None or not client.user.is_active:
        return None
    now = timezone.now()
    # One write a minute at most, so busy clients do not turn every read into a write.
    if client.last_used_at is None or now - client.last_used_at > timedelta(minutes=1):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


def idempotency_claim(*, owner: str, scope: str, key: str, fingerprint: str) -> IdempotencyKey | None:
    """Claims ``key`` for a new resource, or returns the earlier claim that finished.

    Must run inside the transaction that creates the resource. Returns None when the caller
    should create the resource (then call ``idempotency_complete``). A concurrent request
    with the same key blocks on the unique index until this transaction ends.
    Raises IdempotencyKeyReused when the key was used with a different request body.
    """
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(owner=owner, scope=scope, key=key, fingerprint=fingerprint)
        return None
    except IntegrityError:
        existing = IdempotencyKey.objects.get(owner=owner, scope=scope, key=key)
    if existing.fingerprint != fingerprint:
        raise _key_reused(key)
    return existing


def idempotency_check(*, owner: str, scope: str, key: str, fingerprint: str) -> None:
    """Raises IdempotencyKeyReused early, before the body is even validated, when ``key``
    already belongs to a different request body."""
    existing = IdempotencyKey.objects.filter(owner=owner, scope=scope, key=key).first()
    if existing is not None and existing.fingerprint != fingerprint:
        raise _key_reused(key)


def _key_reused(key: str) -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        "This Idempotency-Key was already used with a different request body. "
        "Send the original body again, or use a new key for a new request.",
        extra={"idempotency_key": key},
    )


def idempotency_complete(*, owner: str, scope: str, key: str, resource_id: str) -> None:
    IdempotencyKey.objects.filter(owner=owner, scope=scope, key=key).update(resource_id=resource_id)


def idempotency_keys_purge(*, now=None) -> int:
    """Deletes keys older than OMS_IDEMPOTENCY_KEY_TTL_HOURS; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.OMS_IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
