from __future__ import annotations

import pytest

from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def test_managers_maintain_carriers_and_everyone_else_only_sees_them() -> None:
    manager, shipper, support = make_staff("manager"), make_staff("shipper"), make_staff("support")

    assert manager.has_perms(["shipping.add_carrier", "shipping.change_carrierservice", "shipping.delete_pricerule"])
    for user in (shipper, support):
        assert user.has_perm("shipping.view_carrierservice")
        assert not user.has_perm("shipping.change_carrierservice")
