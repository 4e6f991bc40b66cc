"""Staff tokens: a handheld scanner signs in as the picker or packer holding it and calls the
API with that person's own permissions, until the token expires or is revoked."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from oms.common.actors import Actor, ActorKind
from oms.common.models import ApiClient, StaffToken
from oms.common.services import staff_token_revoke
from orders.enums import OrderStatus
from orders.models import OrderEvent
from tests.factories import make_api_client, make_order, make_staff

pytestmark = pytest.mark.django_db

TOKENS_URL = "/api/v1/auth/tokens/"
CURRENT_URL = "/api/v1/auth/tokens/current/"
ORDERS_URL = "/api/v1/orders/"
_addresses = itertools.count(1)
PASSWORD = "pw"  # make_staff's


@pytest.fixture
def address() -> Iterator[str]:
    """A client address of this test alone, so the sign-in throttle (counted per address in
    Redis, which other tests and runs share) starts from zero and is left clean."""
    addr = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{next(_addresses) % 250 + 1}"
    yield addr
    cache.delete(f"throttle_staff_token_{addr}")


@pytest.fixture
def scanner(address: str) -> APIClient:
    """A device with no credentials yet."""
    return APIClient(REMOTE_ADDR=address)


def sign_in(scanner: APIClient, username: str, password: str = PASSWORD, device: str = "scanner-07") -> Any:
    return scanner.post(TOKENS_URL, {"username": username, "password": password, "device": device}, format="json")


def bearer(address: str, token: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def token_of(scanner: APIClient, role: str | None, username: str) -> str:
    make_staff(role, username)
    response = sign_in(scanner, username)
    assert response.status_code == 201, response.data
    return str(response.data["token"])


# --- signing in -----------------------------------------------------------------------------


def test_a_staff_user_gets_a_token_for_their_device(scanner: APIClient) -> None:
    # Given
    make_staff("picker", "anna")
    before = timezone.now()

    # When
    response = sign_in(scanner, "anna", device="scanner-07")

    # Then
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expires_at", "user"}
    assert body["token"].startswith("oms_staff_")
    assert body["user"] == {"username": "anna", "roles": ["picker"]}
    expires_at = parse_datetime(body["expires_at"])
    assert expires_at is not None
    assert before + timedelta(hours=12) <= expires_at <= timezone.now() + timedelta(hours=12)
    assert response["Cache-Control"] == "no-store"
    token = StaffToken.objects.get()
    assert (token.user.username, token.device, token.revoked_at) == ("anna", "scanner-07", None)
    assert token.expires_at == expires_at


def test_signing_in_stamps_the_users_last_login(scanner: APIClient) -> None:
    user = make_staff("picker", "anna")
    assert user.last_login is None

    sign_in(scanner, "anna")

    user.refresh_from_db()
    assert user.last_login is not None


def test_the_token_lifetime_follows_the_setting(scanner: APIClient, settings: Any) -> None:
    settings.OMS_STAFF_TOKEN_TTL_HOURS = 8
    make_staff("packer", "ben")

    response = sign_in(scanner, "ben")

    token = StaffToken.objects.get()
    assert token.expires_at - token.created_at == pytest.approx(timedelta(hours=8), abs=timedelta(seconds=5))
    assert parse_datetime(response.data["expires_at"]) == token.expires_at


def test_the_response_lists_every_role_of_the_user(scanner: APIClient) -> None:
    user = make_staff("picker", "anna")
    user.groups.add(Group.objects.get(name="packer"))

    response = sign_in(scanner, "anna")

    assert response.data["user"]["roles"] == ["packer", "picker"]


def test_only_the_sha256_of_the_token_is_stored(scanner: APIClient) -> None:
    # When
    raw = token_of(scanner, "picker", "anna")

    # Then the row holds the hash, and the raw token appears in no column
    row = StaffToken.objects.get()
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = [str(value) for value in StaffToken.objects.filter(pk=row.pk).values().get().values()]
    assert all(raw not in value for value in stored)
    assert raw.startswith(f"oms_staff_{row.token_prefix}_")


def test_each_sign_in_gets_a_different_token(scanner: APIClient, address: str) -> None:
    make_staff("picker", "anna")

    first, second = sign_in(scanner, "anna").data["token"], sign_in(scanner, "anna", device="scanner-08").data["token"]

    assert first != second
    assert StaffToken.objects.count() == 2
    assert bearer(address, first).get(ORDERS_URL).status_code == 200
    assert bearer(address, second).get(ORDERS_URL).status_code == 200


def test_a_wrong_password_answers_401_and_stores_nothing(scanner: APIClient) -> None:
    # Given
    user = make_staff("picker", "anna")

    # When
    response = sign_in(scanner, "anna", password="wrong")

    # Then
    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"
    assert response.data["message"].startswith("The username or password is wrong")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not StaffToken.objects.exists()
    user.refresh_from_db()
    assert user.last_login is None


def test_an_unknown_username_answers_like_a_wrong_password(scanner: APIClient) -> None:
    make_staff("picker", "anna")
    wrong_password = sign_in(scanner, "anna", password="wrong")

    response = sign_in(scanner, "nobody")

    assert response.status_code == 401
    assert response.data == wrong_password.data
    assert not StaffToken.objects.exists()


def test_a_disabled_account_gets_no_token(scanner: APIClient) -> None:
    user = make_staff("picker", "anna")
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = sign_in(scanner, "anna")

    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"
    assert not StaffToken.objects.exists()


def test_a_non_staff_account_is_refused_with_403(scanner: APIClient) -> None:
    # Given a user with the right password but no staff access
    get_user_model().objects.create_user(username="customer", password="pw", is_staff=False)

    # When
    response = sign_in(scanner, "customer")

    # Then
    assert response.status_code == 403
    assert response.data["code"] == "not_staff"
    assert "staff access" in response.data["message"]
    assert not StaffToken.objects.exists()
    assert get_user_model().objects.get(username="customer").last_login is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "anna", "password": "pw"}, "device"),
        ({"username": "anna", "password": "pw", "device": "   "}, "device"),
        ({"username": "anna", "device": "scanner-07"}, "password"),
        ({"password": "pw", "device": "scanner-07"}, "username"),
    ],
)
def test_a_missing_field_answers_400_naming_it(scanner: APIClient, body: dict[str, str], field: str) -> None:
    make_staff("picker", "anna")

    response = scanner.post(TOKENS_URL, body, format="json")

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert field in response.data["fields"]
    assert not StaffToken.objects.exists()


def test_signing_in_ignores_an_old_token_the_device_still_sends(scanner: APIClient, address: str) -> None:
    # Given a device whose token expired
    old = token_of(scanner, "picker", "anna")
    StaffToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    device = bearer(address, old)

    # When it signs in again, still sending the old token
    response = sign_in(device, "anna")

    # Then
    assert response.status_code == 201
    assert bearer(address, response.data["token"]).get(ORDERS_URL).status_code == 200


# --- using the token ------------------------------------------------------------------------


def test_a_picker_token_reads_orders(scanner: APIClient, address: str) -> None:
    make_order(OrderStatus.PAID)
    token = token_of(scanner, "picker", "anna")

    response = bearer(address, token).get(ORDERS_URL)

    assert response.status_code == 200
    assert len(response.data["results"]) == 1


def test_a_picker_token_acts_as_the_picker_in_the_audit_trail(scanner: APIClient, address: str) -> None:
    # Given
    order = make_order(OrderStatus.PAID)
    token = token_of(scanner, "picker", "anna")

    # When
    response = bearer(address, token).post(f"{ORDERS_URL}{order.number}/start-picking/", {}, format="json")

    # Then the event names the person, not an API client
    assert response.status_code == 200
    assert response.data["events"][-1]["actor"] == {"kind": "staff", "label": "anna"}
    event = OrderEvent.objects.filter(order=order).latest("pk")
    assert event.actor_user == get_user_model().objects.get(username="anna")
    assert event.actor_api_client is None


@pytest.mark.parametrize("action", ["start-picking", "cancel"])
def test_a_packer_token_cannot_do_what_packers_may_not(scanner: APIClient, address: str, action: str) -> None:
    # Given a paid order and a packer's token (packers may neither pick nor cancel)
    order = make_order(OrderStatus.PAID)
    token = token_of(scanner, "packer", "ben")
    events_before = OrderEvent.objects.filter(order=order).count()

    # When
    response = bearer(address, token).post(
        f"{ORDERS_URL}{order.number}/{action}/", {"reason": "customer asked"}, format="json"
    )

    # Then
    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert OrderEvent.objects.filter(order=order).count() == events_before


def test_a_staff_user_without_a_role_can_sign_in_but_do_nothing(scanner: APIClient, address: str) -> None:
    token = token_of(scanner, None, "newcomer")

    response = bearer(address, token).get(ORDERS_URL)

    assert response.status_code == 403


def test_the_actor_of_a_token_request_is_the_staff_user(scanner: APIClient) -> None:
    token_of(scanner, "picker", "anna")
    token = StaffToken.objects.select_related("user").get()

    actor = Actor.for_request(SimpleNamespace(auth=token, user=token.user))

    assert actor == Actor(kind=ActorKind.STAFF, label="anna", user_id=token.user.pk)


def test_an_api_client_key_still_acts_as_the_api_client() -> None:
    created = make_api_client("webshop")

    actor = Actor.for_request(SimpleNamespace(auth=created.client, user=created.client.user))

    assert actor.kind == ActorKind.API_CLIENT
    assert actor.api_client_id == created.client.pk


def test_using_a_token_stamps_its_last_use(scanner: APIClient, address: str) -> None:
    token = token_of(scanner, "picker", "anna")
    assert StaffToken.objects.get().last_used_at is None

    bearer(address, token).get(ORDERS_URL)

    last_used_at = StaffToken.objects.get().last_used_at
    assert last_used_at is not None
    assert timezone.now() - last_used_at < timedelta(minutes=1)


# --- when a token stops working -------------------------------------------------------------


def test_an_expired_token_answers_401_saying_so(scanner: APIClient, address: str) -> None:
    # Given a token whose shift is over
    token = token_of(scanner, "picker", "anna")
    StaffToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    # When
    response = bearer(address, token).get(ORDERS_URL)

    # Then
    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"
    assert "expired" in response.data["message"]
    assert "Sign in again" in response.data["message"]
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_signing_out_revokes_the_token(scanner: APIClient, address: str) -> None:
    # Given a token that works
    token = token_of(scanner, "picker", "anna")
    device = bearer(address, token)
    assert device.get(ORDERS_URL).status_code == 200

    # When the device signs out
    response = device.delete(CURRENT_URL)

    # Then the token stops working at once
    assert response.status_code == 204
    assert StaffToken.objects.get().revoked_at is not None
    after = device.get(ORDERS_URL)
    assert after.status_code == 401
    assert after.data["code"] == "authentication_failed"
    assert "revoked" in after.data["message"]


def test_signing_out_revokes_only_that_token(scanner: APIClient, address: str) -> None:
    make_staff("picker", "anna")
    first = sign_in(scanner, "anna", device="scanner-07").data["token"]
    second = sign_in(scanner, "anna", device="scanner-08").data["token"]

    bearer(address, first).delete(CURRENT_URL)

    assert bearer(address, first).get(ORDERS_URL).status_code == 401
    assert bearer(address, second).get(ORDERS_URL).status_code == 200


def test_signing_out_twice_answers_401(scanner: APIClient, address: str) -> None:
    device = bearer(address, token_of(scanner, "picker", "anna"))
    device.delete(CURRENT_URL)
    revoked_at = StaffToken.objects.get().revoked_at

    response = device.delete(CURRENT_URL)

    assert response.status_code == 401
    assert StaffToken.objects.get().revoked_at == revoked_at


def test_signing_out_with_an_api_key_answers_404_and_leaves_the_key_working() -> None:
    created = make_api_client("webshop")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")

    response = client.delete(CURRENT_URL)

    assert response.status_code == 404
    assert response.data["code"] == "no_staff_token"
    assert ApiClient.objects.get().revoked_at is None
    assert client.get(ORDERS_URL).status_code == 200


def test_signing_out_without_credentials_answers_401() -> None:
    response = APIClient().delete(CURRENT_URL)

    assert response.status_code == 401
    assert response.data["code"] == "not_authenticated"


def test_a_token_revoked_by_a_manager_answers_401(scanner: APIClient, address: str) -> None:
    token = token_of(scanner, "picker", "anna")

    staff_token_revoke(token=StaffToken.objects.get())

    response = bearer(address, token).get(ORDERS_URL)
    assert response.status_code == 401
    assert "revoked" in response.data["message"]


@pytest.mark.parametrize("change", [{"is_active": False}, {"is_staff": False}])
def test_a_token_stops_working_when_its_user_is_disabled_or_loses_staff_access(
    scanner: APIClient, address: str, change: dict[str, bool]
) -> None:
    # Given a working token
    token = token_of(scanner, "picker", "anna")
    device = bearer(address, token)
    assert device.get(ORDERS_URL).status_code == 200

    # When the account changes
    get_user_model().objects.filter(username="anna").update(**change)

    # Then
    response = device.get(ORDERS_URL)
    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"
    assert "ask a manager" in response.data["message"]


def test_a_token_with_a_wrong_secret_answers_401_without_saying_more(scanner: APIClient, address: str) -> None:
    # Given a real token, revoked, with its secret part altered
    token = token_of(scanner, "picker", "anna")
    staff_token_revoke(token=StaffToken.objects.get())
    prefix = token.split("_")[2]

    # When
    response = bearer(address, f"oms_staff_{prefix}_{'x' * 43}").get(ORDERS_URL)

    # Then it is simply not valid: only the holder of the real token learns it was revoked
    assert response.status_code == 401
    assert response.data["message"] == "This staff token is not valid. Sign in again to get a new one."


@pytest.mark.parametrize("raw", ["oms_staff_", "oms_staff_abc", "oms_staff__secret", "oms_staff_abc_"])
def test_a_malformed_staff_token_answers_401(address: str, raw: str) -> None:
    response = bearer(address, raw).get(ORDERS_URL)

    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"


# --- throttling -----------------------------------------------------------------------------


def test_the_eleventh_sign_in_in_a_minute_from_one_address_answers_429(scanner: APIClient) -> None:
    # Given ten attempts from one address
    make_staff("picker", "anna")
    for _ in range(10):
        assert sign_in(scanner, "anna", password="guess").status_code == 401

    # When the eleventh comes, even with the right password
    response = sign_in(scanner, "anna")

    # Then
    assert response.status_code == 429
    assert response.data["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    assert not StaffToken.objects.exists()


def test_another_address_is_not_held_back(scanner: APIClient) -> None:
    # Given one address that used up its attempts
    make_staff("picker", "anna")
    for _ in range(11):
        sign_in(scanner, "anna", password="guess")
    other_address = f"10.251.{secrets.randbelow(250)}.{secrets.randbelow(250)}"  # outside the fixture's range

    # When another device signs in
    try:
        response = sign_in(APIClient(REMOTE_ADDR=other_address), "anna")
    finally:
        cache.delete(f"throttle_staff_token_{other_address}")

    # Then
    assert response.status_code == 201


def test_a_forged_x_forwarded_for_does_not_escape_the_limit(scanner: APIClient) -> None:
    make_staff("picker", "anna")
    for n in range(10):
        scanner.post(
            TOKENS_URL,
            {"username": "anna", "password": "guess", "device": "scanner-07"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )

    response = scanner.post(
        TOKENS_URL,
        {"username": "anna", "password": "pw", "device": "scanner-07"},
        format="json",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )

    assert response.status_code == 429


# --- admin ----------------------------------------------------------------------------------


@pytest.fixture
def admin_browser(client: Any) -> Any:
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_the_admin_lists_tokens_read_only(admin_browser: Any, scanner: APIClient) -> None:
    token_of(scanner, "picker", "anna")
    token = StaffToken.objects.get()

    listing = admin_browser.get("/admin/common/stafftoken/")
    detail = admin_browser.get(f"/admin/common/stafftoken/{token.pk}/change/")
    add = admin_browser.get("/admin/common/stafftoken/add/")

    assert listing.status_code == 200
    assert "scanner-07" in listing.text and token.token_prefix in listing.text
    assert detail.status_code == 200
    assert 'name="device"' not in detail.text
    assert token.token_hash not in detail.text
    assert add.status_code == 403


def test_the_admin_revokes_tokens(admin_browser: Any, scanner: APIClient, address: str) -> None:
    raw = token_of(scanner, "picker", "anna")
    token = StaffToken.objects.get()

    response = admin_browser.post(
        "/admin/common/stafftoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "Revoked 1 staff token(s)" in response.text
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(address, raw).get(ORDERS_URL).status_code == 401


# --- the schema -----------------------------------------------------------------------------


def test_the_schema_documents_the_endpoints_and_the_token_scheme() -> None:
    schema = yaml.safe_load(APIClient().get("/api/v1/schema/").content)

    assert schema["components"]["securitySchemes"]["StaffToken"]["scheme"] == "bearer"
    obtain = schema["paths"][TOKENS_URL]["post"]
    assert obtain["security"] == [{}]
    assert {"201", "400", "401", "403", "429"} <= set(obtain["responses"])
    revoke = schema["paths"][CURRENT_URL]["delete"]
    assert {"StaffToken": []} in revoke["security"]
    assert {"204", "401", "404"} <= set(revoke["responses"])
    assert {"StaffToken": []} in schema["paths"][ORDERS_URL]["get"]["security"]
