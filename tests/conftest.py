from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest
from rest_framework.test import APIClient

from tests.factories import ProductFactory, ShippingMethodFactory, make_api_client, make_staff, stock_up

# Browser tests use the page and the ORM in one thread; Playwright's sync API runs an event
# loop there, which Django would otherwise take for async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = os.environ.get("OMS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium, never a downloaded browser, with nothing calling out to the network."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Browser tests need Chromium at {CHROMIUM}: apt-get install chromium (or set OMS_TEST_CHROMIUM).")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


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


ROLE_MIGRATIONS = [
    ("orders", "0002_roles"),
    ("orders", "0004_split_roles"),
    ("inventory", "0002_roles"),
    ("inventory", "0005_stock_roles"),
    ("fulfillment", "0002_roles"),
    ("shipping", "0002_roles"),
    ("shipping", "0004_label_roles"),
    ("orders", "0007_refund_invoice_roles"),
    ("notifications", "0002_roles"),
    ("orders", "0009_edit_roles"),
    ("dashboard", "0002_roles"),
    ("returns", "0002_roles"),
    ("returns", "0005_receive_roles"),
    ("fulfillment", "0004_accuracy_for_managers_only"),
]


def restore_roles() -> None:
    """Re-creates the role groups that the data migrations made (a flush empties them)."""
    from django.apps import apps

    from oms.common import roles

    for app, name in ROLE_MIGRATIONS:
        migration = importlib.import_module(f"{app}.migrations.{name}")
        roles.grant_permissions(apps, app, migration.GRANTS)
        roles.revoke_permissions(apps, app, getattr(migration, "TAKEN", {}))


@pytest.fixture(scope="session", autouse=True)
def _no_session_left_on_the_test_database(django_db_setup: Any, django_db_blocker: Any):
    """The live server's request threads may still hold a connection when the run ends; end
    them before the test database is dropped, so the drop does not fail."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _broker_not_paused() -> None:
    """A test that made the broker refuse a relay pauses relaying in this process for a few
    seconds (oms.common.outbox); the next test starts with a broker that answers."""
    from oms.common import outbox

    outbox._broker_paused_until = 0.0


@pytest.fixture(autouse=True)
def _roles_exist(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Transactional tests (threads, live server) end with a flush of every table, which
    leaves the next test without the roles the migrations created: put them back first."""
    from django.contrib.auth.models import Group

    from oms.common import roles

    with django_db_blocker.unblock():
        if not Group.objects.filter(name=roles.INTEGRATOR).exists():
            restore_roles()


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
