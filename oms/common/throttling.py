"""Rate limits for endpoints that take a secret (a password, an order number with its
email), so they cannot be used to guess one."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle


class PerAddressScopedThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, counted per client address in the cache (Redis in production).

    The view names its ``throttle_scope``; the rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    [scope]`` when set, else ``default_rate``. Requests are counted per address even when
    authenticated, since the endpoints it guards take no credentials.
    """

    default_rate = "10/min"

    def get_rate(self) -> str | None:
        # Read at request time: DRF binds THROTTLE_RATES once, at import.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate else self.default_rate

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def get_ident(self, request: Any) -> str:
        if api_settings.NUM_PROXIES is not None:
            return super().get_ident(request)
        # Left to itself, DRF would count by the whole X-Forwarded-For header, which a client
        # writes as it likes: a new value per request would escape the limit. Trust only the
        # address our own proxy saw (the header's last entry), and only behind one.
        remote_addr = str(request.META.get("REMOTE_ADDR", ""))
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if settings.BEHIND_HTTPS and forwarded:
            return str(forwarded.split(",")[-1].strip())
        return remote_addr


def attempt_allowed(request: Any, scope: str) -> bool:
    """For HTML views that take a secret (a supervisor's password at a packing station, an
    order number and email on the lookup page): counts the attempt in the per-address budget
    of ``scope`` (shared with the API endpoints of that scope) and says whether it is still
    within it."""
    throttle = PerAddressScopedThrottle()
    throttle.scope = scope
    throttle.rate = throttle.get_rate()
    # What ScopedRateThrottle.allow_request sets up from a DRF view, done here without one.
    throttle.num_requests, throttle.duration = throttle.parse_rate(throttle.rate)  # type: ignore[attr-defined]
    return SimpleRateThrottle.allow_request(throttle, request, cast(Any, None))
