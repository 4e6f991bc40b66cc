"""Who did something: a staff user, an integrator's API client, a customer on the order-status
page, or the system itself.

Every audit row records an ``Actor`` so the timeline can say who did what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oms.common.models import ApiClient


@dataclass(frozen=True)
class Actor:
    kind: str  # one of ActorKind
    label: str
    user_id: int | None = None
    api_client_id: int | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind=ActorKind.SYSTEM, label=label)

    @classmethod
    def customer(cls) -> Actor:
        """The customer acting on their order-status page (the signed link is their proof)."""
        return cls(kind=ActorKind.CUSTOMER, label="customer")

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        return cls(kind=ActorKind.STAFF, label=user.get_username(), user_id=user.pk)

    @classmethod
    def for_request(cls, request: Any) -> Actor:
        """The actor behind a DRF or Django request: an API client's key, or a staff user
        (logged in, or with a personal staff token)."""
        client = getattr(request, "auth", None)
        if isinstance(client, ApiClient):
            return cls(
                kind=ActorKind.API_CLIENT,
                label=f"api:{client.name}",
                user_id=client.user_id,
                api_client_id=client.pk,
            )
        return cls.for_user(request.user)


class ActorKind:
    STAFF = "staff"
    API_CLIENT = "api_client"
    SYSTEM = "system"
    CUSTOMER = "customer"

    choices = [(STAFF, "Staff user"), (API_CLIENT, "API client"), (SYSTEM, "System"), (CUSTOMER, "Customer")]
