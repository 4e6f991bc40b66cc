"""What a carrier service costs: the price rule for the destination country (or the
service's default rule), flat plus a price per started kilogram."""

from __future__ import annotations

from decimal import Decimal

from oms.common.errors import InvalidInput
from shipping.models import CarrierService, PriceRule


def price_rule_for(rules: list[PriceRule], country: str) -> PriceRule | None:
    country = country.upper()
    named = next((r for r in rules if country in {c.upper() for c in r.countries}), None)
    return named or next((r for r in rules if not r.countries), None)


def price_for(rule: PriceRule, weight_grams: int) -> Decimal:
    started_kg = -(-max(weight_grams, 0) // 1000)  # 0 g costs the flat price; 1 g starts a kilogram
    return (rule.flat + rule.per_kg * started_kg).quantize(Decimal("0.01"))


def service_quote(*, service: CarrierService, country: str, weight_grams: int) -> Decimal:
    """The price of sending ``weight_grams`` to ``country`` with ``service``.

    Raises InvalidInput when the service has no rule for the country and no default rule.
    """
    rule = price_rule_for(list(service.price_rules.all()), country)
    if rule is None:
        raise InvalidInput(
            f"{service.carrier_id}/{service.code} has no price for {country}: add a price rule for it "
            "or a default rule without countries.",
            fields={"country": [f"No price rule covers {country}."]},
            code="no_price_for_destination",
        )
    return price_for(rule, weight_grams)
