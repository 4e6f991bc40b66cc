"""Use cases of the shared kernel: API clients, staff tokens and idempotency keys."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from oms.common.errors import AuthenticationFailed, Forbidden, IdempotencyKeyReused, InvalidInput
from oms.common.inserts import insert_new
from oms.common.models import ApiClient, IdempotencyKey, StaffToken
from oms.common.rows import Joined

KEY_PREFIX_TAG = "oms"
STAFF_TOKEN_TAG = "staff"  # noqa: S105 (marks a staff token; not a secret)


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


# Every API request looks its caller up: hand-written SQL (oms.common.rows), no ORM compiling.
_CLIENT_WITH_USER: Joined = Joined(ApiClient, ["user"])
_TOKEN_WITH_USER: Joined = Joined(StaffToken, ["user"])


def api_client_authenticate(*, raw_key: str) -> ApiClient | None:
    prefix = split_api_key(raw_key)
    if prefix is None:
        return None
    client = _CLIENT_WITH_USER.first(key_prefix=prefix)
    if client is None or not hmac.compare_digest(client.key_hash, hash_api_key(raw_key)):
        return None
    if client.revoked_at is not None or not client.user.is_active:
        return None
    _stamp_last_use(ApiClient, client.pk, client.last_used_at, timezone.now())
    return client


def _stamp_last_use(
    model: type[ApiClient] | type[StaffToken], pk: int, last_used_at: datetime | None, now: datetime
) -> None:
    # One write a minute at most, so busy callers do not turn every read into a write.
    if last_used_at is None or now - last_used_at > timedelta(minutes=1):
        model.objects.filter(pk=pk).update(last_used_at=now)


# --- staff tokens ---------------------------------------------------------------------------


def is_staff_token(raw_key: str) -> bool:
    """Whether ``raw_key`` is shaped like a staff token (``oms_staff_<prefix>_<secret>``)
    rather than an API client's key (``oms_<prefix>_<secret>``, whose prefix is hex)."""
    return raw_key.startswith(f"{KEY_PREFIX_TAG}_{STAFF_TOKEN_TAG}_")


def split_staff_token(raw_key: str) -> str | None:
    """The lookup prefix of a token shaped ``oms_staff_<prefix>_<secret>``, or None if malformed."""
    parts = raw_key.split("_", 3)
    if len(parts) != 4 or parts[0] != KEY_PREFIX_TAG or parts[1] != STAFF_TOKEN_TAG or not parts[2] or not parts[3]:
        return None
    return parts[2]


@dataclass(frozen=True)
class IssuedStaffToken:
    token: StaffToken
    raw_key: str
    roles: list[str]


def staff_token_issue(*, username: str, password: str, device: str) -> IssuedStaffToken:
    """Checks a staff user's password and issues a token for ``device``, valid for
    OMS_STAFF_TOKEN_TTL_HOURS.

    Writes the token (its hash only) and the user's ``last_login``; returns the raw token,
    which cannot be shown again.
    Raises InvalidInput for a blank device; AuthenticationFailed when the username or
    password is wrong or the account is disabled; Forbidden (``not_staff``) when the account
    is not a staff account. Nothing is written then.
    """
    device = device.strip()
    if not device:
        raise InvalidInput(
            "Name the device the token is for, such as scanner-07.",
            fields={"device": ["This field may not be blank."]},
        )
    # Outside the transaction: hashing the password is slow and needs no lock. Django's
    # backend hashes even for an unknown username, so timing does not reveal which exist.
    user = authenticate(username=username, password=password)
    if user is None:
        raise AuthenticationFailed(
            "The username or password is wrong, or the account is disabled. "
            "Check them and try again; a manager can reset the password or enable the account."
        )
    if not user.is_staff:
        raise Forbidden(
            f"The account {user.get_username()!r} is not a staff account, so it cannot get a staff token. "
            "Ask a manager to give it staff access.",
            code="not_staff",
        )
    now = timezone.now()
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_PREFIX_TAG}_{STAFF_TOKEN_TAG}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = StaffToken.objects.create(
            user=user,
            device=device,
            token_prefix=prefix,
            token_hash=hash_api_key(raw_key),
            expires_at=now + timedelta(hours=settings.OMS_STAFF_TOKEN_TTL_HOURS),
        )
        user.last_login = now
        user.save(update_fields=["last_login"])
    roles = sorted(user.groups.values_list("name", flat=True))
    return IssuedStaffToken(token=token, raw_key=raw_key, roles=roles)


def staff_token_authenticate(*, raw_key: str) -> StaffToken:
    """The token behind ``raw_key``, with its user loaded; stamps its last use.

    Raises AuthenticationFailed, saying why, when the token is unknown, revoked or expired,
    or its user is deactivated or no longer staff.
    """
    prefix = split_staff_token(raw_key)
    token = _TOKEN_WITH_USER.first(token_prefix=prefix) if prefix else None
    if token is None or not hmac.compare_digest(token.token_hash, hash_api_key(raw_key)):
        raise AuthenticationFailed("This staff token is not valid. Sign in again to get a new one.")
    # Only a caller holding the real token learns why it stopped working.
    if token.revoked_at is not None:
        raise AuthenticationFailed(
            f"This staff token was revoked at {token.revoked_at.isoformat()}. Sign in again to get a new one."
        )
    now = timezone.now()
    if token.expires_at <= now:
        raise AuthenticationFailed(
            f"This staff token expired at {token.expires_at.isoformat()}. Sign in again to get a new one."
        )
    if not token.user.is_active or not token.user.is_staff:
        raise AuthenticationFailed(
            f"The account {token.user.get_username()!r} is disabled or no longer has staff access; ask a manager."
        )
    _stamp_last_use(StaffToken, token.pk, token.last_used_at, now)
    return token


def staff_token_revoke(*, token: StaffToken) -> None:
    """Revokes the token at once (signing the device out); its later requests answer 401."""
    StaffToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


# --- idempotency keys -----------------------------------------------------------------------


def idempotency_claim(*, owner: str, scope: str, key: str, fingerprint: str) -> IdempotencyKey | None:
    """Claims ``key`` for a new resource, or returns the earlier claim that finished.

    Must run inside the transaction that creates the resource. Returns None when the caller
    should create the resource (then call ``idempotency_complete``). A concurrent request
    with the same key blocks on the unique index until this transaction ends.
    Raises IdempotencyKeyReused when the key was used with a different request body.
    """
    if _claim_key(owner=owner, scope=scope, key=key, fingerprint=fingerprint):
        return None
    existing = IdempotencyKey.objects.get(owner=owner, scope=scope, key=key)
    if existing.fingerprint != fingerprint:
        raise _key_reused(key)
    return existing


def _claim_key(*, owner: str, scope: str, key: str, fingerprint: str) -> bool:
    """Inserts the key; returns False when it exists already (after waiting for a concurrent
    transaction holding it to end)."""
    claim = IdempotencyKey(owner=owner, scope=scope, key=key, fingerprint=fingerprint)
    return bool(insert_new([claim], unique=["owner", "scope", "key"]))


def idempotency_check(*, owner: str, scope: str, key: str, fingerprint: str) -> None:
    """Raises IdempotencyKeyReused early, before the body is even validated, when ``key``
    already belongs to a different request body."""
    stored = IdempotencyKey.objects.filter(owner=owner, scope=scope, key=key).values_list("fingerprint", flat=True)
    earlier = next(iter(stored), None)  # the key is unique: no ordering needed
    if earlier is not None and earlier != fingerprint:
        raise _key_reused(key)


def _key_reused(key: str) -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        "This Idempotency-Key was already used with a different request body. "
        "Send the original body again, or use a new key for a new request.",
        extra={"idempotency_key": key},
    )


def idempotency_complete(*, owner: str, scope: str, key: str, resource_id: str) -> None:
    # Every placement with a key completes it: one hand-written statement, no ORM compiling.
    with connection.cursor() as cursor:
        cursor.execute(_complete_sql(), [resource_id, owner, scope, key])


@functools.cache
def _complete_sql() -> str:
    meta, quote = IdempotencyKey._meta, connection.ops.quote_name

    def column(name: str) -> str:
        return quote(str(meta.get_field(name).column))  # type: ignore[union-attr]

    return (
        f"UPDATE {quote(meta.db_table)} SET {column('resource_id')} = %s "  # noqa: S608  (names from the model)
        f"WHERE {column('owner')} = %s AND {column('scope')} = %s AND {column('key')} = %s"
    )


def idempotency_keys_purge(*, now=None) -> int:
    """Deletes keys older than OMS_IDEMPOTENCY_KEY_TTL_HOURS; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.OMS_IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
