"""API keys: how integrators authenticate, what is stored, and the command that issues keys."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from oms.common.models import ApiClient
from oms.common.services import api_client_revoke
from tests.factories import make_api_client, make_order

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/orders/"


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_a_request_without_credentials_answers_401_not_authenticated() -> None:
    response = APIClient().get(ORDERS_URL)

    assert response.status_code == 401
    assert response.data["code"] == "not_authenticated"
    assert "Bearer" in response.data["message"]


def test_a_401_tells_the_client_how_to_authenticate() -> None:
    response = APIClient().get(ORDERS_URL)

    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_valid_key_is_accepted() -> None:
    created = make_api_client("webshop")

    response = key_client(created.raw_key).get(ORDERS_URL)

    assert response.status_code == 200


def test_the_bearer_keyword_is_case_insensitive() -> None:
    created = make_api_client("webshop")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {created.raw_key}")

    assert client.get(ORDERS_URL).status_code == 200


@pytest.mark.parametrize(
    "raw_key",
    ["not-a-key", "oms_deadbeef_secret", "oms__secret", "oms_deadbeef_"],
)
def test_an_unknown_key_answers_401_authentication_failed(raw_key: str) -> None:
    make_api_client("webshop")

    response = key_client(raw_key).get(ORDERS_URL)

    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_key_with_a_known_prefix_but_wrong_secret_answers_401() -> None:
    # Given a real key with its secret part altered
    created = make_api_client("webshop")
    tag, prefix, _secret = created.raw_key.split("_", 2)

    # When
    response = key_client(f"{tag}_{prefix}_{'x' * 43}").get(ORDERS_URL)

    # Then
    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"


def test_an_authorization_header_with_extra_parts_answers_401() -> None:
    created = make_api_client("webshop")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw_key} extra")

    response = client.get(ORDERS_URL)

    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"


def test_another_authorization_scheme_is_not_authenticated() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    response = client.get(ORDERS_URL)

    assert response.status_code == 401
    assert response.data["code"] == "not_authenticated"


def test_a_revoked_key_answers_401() -> None:
    # Given a key that worked
    created = make_api_client("webshop")
    client = key_client(created.raw_key)
    assert client.get(ORDERS_URL).status_code == 200

    # When it is revoked
    api_client_revoke(client=created.client)

    # Then it stops working at once
    response = client.get(ORDERS_URL)
    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"
    assert ApiClient.objects.get(pk=created.client.pk).revoked_at is not None


def test_a_revoked_key_cannot_change_anything() -> None:
    created = make_api_client("webshop")
    order = make_order("unhandled")
    api_client_revoke(client=created.client)

    response = key_client(created.raw_key).post(f"{ORDERS_URL}{order.number}/cancel/", {"reason": "x"}, format="json")

    assert response.status_code == 401
    order.refresh_from_db()
    assert order.status == "unhandled"


def test_a_key_of_a_deactivated_service_user_answers_401() -> None:
    created = make_api_client("webshop")
    created.client.user.is_active = False
    created.client.user.save(update_fields=["is_active"])

    response = key_client(created.raw_key).get(ORDERS_URL)

    assert response.status_code == 401


def test_only_the_sha256_of_the_key_is_stored() -> None:
    # When
    created = make_api_client("webshop")

    # Then the row holds the hash, and the raw key appears in no column
    row = ApiClient.objects.get(pk=created.client.pk)
    assert row.key_hash == hashlib.sha256(created.raw_key.encode()).hexdigest()
    stored = [str(value) for value in ApiClient.objects.filter(pk=row.pk).values().get().values()]
    assert all(created.raw_key not in value for value in stored)
    assert created.raw_key.startswith(f"oms_{row.key_prefix}_")


def test_each_key_is_different() -> None:
    first, second = make_api_client("one"), make_api_client("two")

    assert first.raw_key != second.raw_key
    assert first.client.key_prefix != second.client.key_prefix


def test_using_a_key_stamps_its_last_use() -> None:
    created = make_api_client("webshop")
    assert created.client.last_used_at is None

    key_client(created.raw_key).get(ORDERS_URL)

    created.client.refresh_from_db()
    assert created.client.last_used_at is not None
    assert timezone.now() - created.client.last_used_at < timedelta(minutes=1)


def test_a_staff_session_works_in_the_api(staff_client) -> None:
    client = staff_client("manager")

    response = client.get(ORDERS_URL)

    assert response.status_code == 200


def test_a_staff_session_acts_as_the_staff_user(staff_client) -> None:
    order = make_order("paid")

    response = staff_client("manager").post(f"{ORDERS_URL}{order.number}/start-picking/", {}, format="json")

    assert response.status_code == 200
    assert response.data["events"][-1]["actor"]["kind"] == "staff"


# --- create_api_client ----------------------------------------------------------------------


def run_create_api_client(*args: str) -> str:
    out = StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_key_alone_on_its_last_line() -> None:
    # When
    output = run_create_api_client("erp")

    # Then
    raw_key = output.strip().splitlines()[-1]
    assert raw_key.startswith("oms_")
    assert " " not in raw_key
    client = ApiClient.objects.get(name="erp")
    assert client.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()


def test_the_key_the_command_printed_works() -> None:
    raw_key = run_create_api_client("erp").strip().splitlines()[-1]

    response = key_client(raw_key).get(ORDERS_URL)

    assert response.status_code == 200


def test_the_command_gives_the_integrator_role_by_default() -> None:
    run_create_api_client("erp")

    user = ApiClient.objects.get(name="erp").user
    assert [g.name for g in user.groups.all()] == ["integrator"]
    assert not user.has_usable_password()


def test_the_command_takes_other_roles() -> None:
    run_create_api_client("warehouse-robot", "--role", "picker", "--role", "packer")

    user = ApiClient.objects.get(name="warehouse-robot").user
    assert sorted(g.name for g in user.groups.all()) == ["packer", "picker"]


def test_the_command_refuses_a_taken_name() -> None:
    # Given
    run_create_api_client("erp")

    # When / Then
    with pytest.raises(CommandError, match="already exists"):
        run_create_api_client("erp")
    assert ApiClient.objects.filter(name="erp").count() == 1


def test_the_command_refuses_an_unknown_role() -> None:
    with pytest.raises(CommandError):
        run_create_api_client("erp", "--role", "wizard")
    assert not ApiClient.objects.exists()


def test_the_command_refuses_a_blank_name() -> None:
    with pytest.raises(CommandError):
        run_create_api_client("   ")
    assert not ApiClient.objects.exists()
