"""Hand-written joined reads (oms.common.rows) give what the ORM's select_related gives."""

from __future__ import annotations

from typing import Any

import pytest
from django.forms.models import model_to_dict

from oms.common.models import ApiClient
from oms.common.rows import Joined
from orders.models import OrderEvent
from tests.factories import make_api_client, make_order

pytestmark = pytest.mark.django_db


def _fields(instance: Any) -> dict[str, Any]:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_a_client_read_with_its_user_equals_the_orm_read_and_needs_no_further_query(
    django_assert_num_queries: Any,
) -> None:
    created = make_api_client(name="shop-front")
    joined = Joined(ApiClient, ["user"])
    expected = ApiClient.objects.select_related("user").get(pk=created.client.pk)

    with django_assert_num_queries(1):
        client = joined.first(key_prefix=created.client.key_prefix)
        assert client.user.api_client is client  # the one-to-one's reverse side, as select_related fills it
        assert client.user.username == expected.user.username

    assert _fields(client) == _fields(expected)
    assert _fields(client.user) == _fields(expected.user)
    assert not client._state.adding and client._state.db == "default"
    assert joined.first(key_prefix="nope") is None


def test_converted_columns_come_back_as_the_orm_gives_them() -> None:
    order = make_order()
    expected = OrderEvent.objects.select_related("order__shipping_method").filter(order=order).first()
    assert expected is not None and expected.data  # a JSON document: text from PostgreSQL until converted

    event = Joined(OrderEvent, ["order", "order__shipping_method"]).first(pk=expected.pk)

    assert _fields(event) == _fields(expected)
    assert isinstance(event.data, dict)
    assert model_to_dict(event.order) == model_to_dict(expected.order)
    assert event.order.shipping_method.code == expected.order.shipping_method.code


def test_a_key_that_can_be_null_is_refused() -> None:
    with pytest.raises(ValueError, match="actor_user"):
        Joined(OrderEvent, ["actor_user"])
