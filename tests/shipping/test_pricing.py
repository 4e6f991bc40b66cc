from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from oms.common.errors import ApplicationError
from shipping.models import Carrier, CarrierService, PriceRule
from shipping.pricing import service_quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def service() -> CarrierService:
    carrier = Carrier.objects.create(code="FLEET", name="Own fleet")
    service = CarrierService.objects.create(
        carrier=carrier, code="STD", name="Standard", transit_days=1, pickup_weekdays=[0, 1, 2, 3, 4]
    )
    PriceRule.objects.create(
        service=service, zone="domestic", countries=["PL"], flat=Decimal("9.00"), per_kg=Decimal("1.50")
    )
    PriceRule.objects.create(
        service=service, zone="EU", countries=["DE", "FR"], flat=Decimal("19.00"), per_kg=Decimal("3.00")
    )
    return service


def test_the_rule_naming_the_country_prices_each_started_kilogram(service: CarrierService) -> None:
    assert service_quote(service=service, country="PL", weight_grams=0) == Decimal("9.00")
    assert service_quote(service=service, country="pl", weight_grams=1) == Decimal("10.50")
    assert service_quote(service=service, country="PL", weight_grams=1000) == Decimal("10.50")
    assert service_quote(service=service, country="DE", weight_grams=2500) == Decimal("28.00")


def test_a_country_no_rule_names_takes_the_default_rule_or_is_refused(service: CarrierService) -> None:
    with pytest.raises(ApplicationError) as refused:
        service_quote(service=service, country="US", weight_grams=500)
    PriceRule.objects.create(service=service, zone="world", countries=[], flat=Decimal("40.00"), per_kg=Decimal("8"))

    assert refused.value.code == "no_price_for_destination" and "US" in refused.value.message
    assert service_quote(service=service, country="US", weight_grams=500) == Decimal("48.00")


def test_carrier_master_data_is_validated() -> None:
    carrier = Carrier(code="X", name="X", tracking_url_template="https://track.example/")
    service = CarrierService(carrier=carrier, code="S", name="S", transit_days=1, pickup_weekdays=[7])
    rule = PriceRule(service=service, zone="z", countries=["pl"], flat=Decimal("1"))

    with pytest.raises(ValidationError, match="tracking_number"):
        carrier.full_clean()
    with pytest.raises(ValidationError, match="pickup weekdays"):
        service.full_clean(exclude=["carrier"])
    with pytest.raises(ValidationError, match="ISO 3166"):
        rule.full_clean(exclude=["service"])


def test_the_tracking_url_puts_the_number_in_the_template() -> None:
    carrier = Carrier(code="X", name="X", tracking_url_template="https://track.example/?n={tracking_number}")
    assert carrier.tracking_url("FL123") == "https://track.example/?n=FL123"
    assert Carrier(code="Y", name="Y").tracking_url("FL123") == ""
