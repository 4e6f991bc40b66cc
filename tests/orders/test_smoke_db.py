import pytest

from orders.enums import OrderStatus
from tests.factories import make_order


@pytest.mark.django_db
@pytest.mark.parametrize("status", OrderStatus.values)
def test_an_order_reaches_every_status_through_the_services(status: str) -> None:
    order = make_order(status)
    assert order.status == status
    assert order.number.startswith("OMS-")
