"""Carrier adapters by kind (``Carrier.adapter``)."""

from __future__ import annotations

from shipping.carriers.base import CarrierAdapter
from shipping.enums import AdapterKind
from shipping.models import Carrier


def adapter_for(carrier: Carrier) -> CarrierAdapter:
    if carrier.adapter == AdapterKind.KARRIO:
        from shipping.carriers.karrio_adapter import KarrioAdapter

        return KarrioAdapter(carrier)
    from shipping.carriers.own_fleet import OwnFleetAdapter

    return OwnFleetAdapter(carrier)
