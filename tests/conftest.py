from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest
from rest_framework.test import APIClient

from tests.factories import ProductFactory, ShippingMethodFactory, make_api_client, make_staff, stock_up


def _unreachable() -> list[str]:
    """Names every service the suite needs that does not answer, with how to fix it."""
    import psycopg2
    import redis

    problems = []
    db_url = os.environ["DATABASE_URL"]
    try:
        parsed = urlparse(db_url)
        psycopg2.connect(
            host=parsed.hostname, port=parsed.port or 5432, user=parsed.username, password=parsed.password,
            dbname="postgres", connect_timeout=3,
        ).close()  # fmt: skip
    except Exception as exc:
        problems.append(
            f"PostgreSQL is not reachable at {parsed.hostname}:{parsed.port or 5432} ({exc.__class__.__name__}: "
            f"{str(exc).strip()}). Start it, or set DATABASE_URL to a server the tests may create databases on."
        )
    redis_url = os.environ["REDIS_URL"]
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:
        problems.append(
            f"Redis is not reachable at {redis_url} ({exc.__class__.__name__}: {exc}). Start it, or set REDIS_URL."
        )
    return problems


def pytest_sessionstart(session: pytest.Session) -> None:
    problems = _unreachable()
    if problems:
        pytest.exit("The tests run on real services, and some are missing:\n- " + "\n- ".join(problems), returncode=3)


@pytest.fixture
def shipping_method(db: Any):
    return ShippingMethodFactory(code="standard", price="4.99")


@pytest.fixture
def product(db: Any):
    """The contract's product, with 1000 units in stock."""
    product = ProductFactory(sku="TSHIRT-RED-M", name="T-shirt red M", price="29.90", weight_grams=180)
    stock_up(product.sku, 1000)
    return product


@pytest.fixture
def integrator(db: Any) -> APIClient:
    """An API client with the integrator role, authenticated with its Bearer key."""
    created = make_api_client("shop-front")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")
    return client


@pytest.fixture
def staff_client(db: Any) -> Callable[[str | None], APIClient]:
    """A session-authenticated API client for a staff user with the given role (None: no role)."""

    def make(role: str | None) -> APIClient:
        client = APIClient()
        client.force_login(make_staff(role))
        return client

    return make
