"""What every fault drill starts from: the shop's catalogue and an integrator in the suite's
test database (committed, so the drill's processes see them), an SMTP server for the
customers' mail and an endpoint for the integrator's webhooks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from notifications.services.webhooks import webhook_subscription_create
from tests.celery_worker import suite_database_url
from tests.drills.services import ROOT, app_environment
from tests.factories import ProductFactory, ShippingMethodFactory, make_api_client, order_payload, stock_up
from tests.notifications.receiver import Receiver
from tests.notifications.smtp import SmtpServer

SKU = "DRILL-MUG"


@dataclass
class Shop:
    api_key: str
    smtp: SmtpServer
    webhooks: Receiver

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": key}

    def emails_to(self) -> Counter[str]:
        return Counter(str(message["To"]) for message in self.smtp.inbox.messages)

    def created_events(self) -> Counter[str]:
        """order.created deliveries the endpoint accepted, per order number."""
        numbers: Counter[str] = Counter()
        for received in self.webhooks.accepted():
            event: dict[str, Any] = json.loads(received.body)
            if event["type"] == "order.created":
                numbers[event["data"]["order"]["number"]] += 1
        return numbers


def order_body(index: int) -> dict[str, Any]:
    """An order of one mug for its own customer, so each email's recipient names its order."""
    return order_payload(
        external_reference=f"DRILL-{index}",
        customer={"email": f"customer{index}@example.com", "name": "Drill Customer"},
        lines=[{"sku": SKU, "quantity": 1}],
    )


def outbox_environment(redis_url: str, smtp_port: int, var_dir: Path) -> dict[str, str]:
    """The application on the test database and the drill's Redis, mailing the drill's SMTP
    server, sweeping the outbox every second and taking back a relayed message after 10 s
    (300 s by default): what a lost relay or a killed worker costs, shortened for a drill."""
    return app_environment(
        database_url=suite_database_url(),
        redis_url=redis_url,
        var_dir=var_dir,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        OMS_OUTBOX_SWEEP_SECONDS="1",
        OMS_OUTBOX_LEASE_SECONDS="10",
    )


@pytest.fixture
def shop(transactional_db: Any, tmp_path: Path) -> Iterator[Shop]:
    ShippingMethodFactory()
    ProductFactory(sku=SKU, name="Drill mug", price="12.00")
    stock_up(SKU, 1000)
    client = make_api_client("drill-shop")
    smtp = SmtpServer()
    smtp.start()
    webhooks = Receiver()
    webhooks.start()
    webhook_subscription_create(name="drill", url=webhooks.url, event_types=["order.created"])
    try:
        yield Shop(api_key=client.raw_key, smtp=smtp, webhooks=webhooks)
    finally:
        smtp.stop()
        webhooks.stop()


@pytest.fixture(scope="session")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static files collected as a deployment collects them (production settings keep a
    manifest of hashed names, and a page that names a file missing from it fails)."""
    folder = tmp_path_factory.mktemp("static")
    env = app_environment(database_url="sqlite://", redis_url="", var_dir=folder, OMS_STATIC_ROOT=str(folder))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return folder
