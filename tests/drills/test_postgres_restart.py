"""Drill: PostgreSQL restarts while integrators and customers use the system. Requests made
during the outage fail cleanly (503, a stable code, a sentence saying to retry, Retry-After);
the application, never restarted, serves again as soon as the database is back, and an order
sent again with its Idempotency-Key is stored once."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests
from django.test import override_settings

from orders.models import Order
from tests.celery_worker import suite_database_url
from tests.drills.conftest import SKU, order_body
from tests.drills.services import (
    DRILL_SECRET_KEY,
    PostgresCluster,
    RedisServer,
    WebServer,
    app_environment,
    running,
)
from tests.factories import ProductFactory, ShippingMethodFactory, make_api_client, make_order, stock_up

pytestmark = pytest.mark.drill


@dataclass
class Answer:
    kind: str  # place, status
    at: float
    status: int  # 0: no HTTP answer at all
    body: str
    retry_after: str | None
    key: str = ""


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    server = PostgresCluster()
    server.init()
    server.start()
    yield server
    server.destroy()


class Load:
    """Two integrators placing orders and two customers reading their status page, each in a
    loop, until stopped; every answer kept with the time it came."""

    def __init__(self, web: WebServer, api_key: str, status_path: str) -> None:
        self.web, self.api_key, self.status_path = web, api_key, status_path
        self.answers: list[Answer] = []
        self.stopping = threading.Event()
        self.numbers = itertools.count(1000)
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.place, daemon=True) for _ in range(2)]
        self.threads += [threading.Thread(target=self.status, daemon=True) for _ in range(2)]

    def record(self, kind: str, call: Any, key: str = "") -> None:
        try:
            response = call()
            retry_after = response.headers.get("Retry-After")
            answer = Answer(kind, time.monotonic(), response.status_code, response.text, retry_after, key)
        except requests.RequestException as exc:
            answer = Answer(kind, time.monotonic(), 0, repr(exc), None, key)
        with self.lock:
            self.answers.append(answer)
        time.sleep(0.05)

    def place(self) -> None:
        session = requests.Session()
        while not self.stopping.is_set():
            index = next(self.numbers)
            key = f"drill-{index}"
            headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": key}
            url = f"{self.web.url}/api/v1/orders/"
            body = order_body(index)
            self.record("place", partial(session.post, url, json=body, headers=headers, timeout=30), key)

    def resend(self, key: str) -> requests.Response:
        index = int(key.split("-")[1])
        headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": key}
        return requests.post(f"{self.web.url}/api/v1/orders/", json=order_body(index), headers=headers, timeout=30)

    def status(self) -> None:
        session = requests.Session()
        while not self.stopping.is_set():
            self.record("status", partial(session.get, f"{self.web.url}{self.status_path}", timeout=30))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)


def orders_stored(url: str, external_reference: str) -> int:
    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_order WHERE external_reference = %s", [external_reference])
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_a_postgresql_restart_answers_503_meanwhile_and_service_resumes_without_an_application_restart(
    cluster: PostgresCluster, static_root: Path, tmp_path: Path
) -> None:
    ShippingMethodFactory()
    ProductFactory(sku=SKU, name="Drill mug", price="12.00")
    stock_up(SKU, 1000)
    api_key = make_api_client("drill-shop").raw_key
    order = make_order(skus=(SKU,))
    with override_settings(SECRET_KEY=DRILL_SECRET_KEY):
        from notifications.status_links import status_link_path

        status_path = status_link_path(Order.objects.get(pk=order.pk))
    # The drill's server gets a copy of this database; the application runs on it alone.
    drill_url = cluster.copy_database(suite_database_url(), "oms_drill")
    redis = RedisServer()
    env = app_environment(
        database_url=drill_url, redis_url=redis.url, var_dir=tmp_path, OMS_STATIC_ROOT=str(static_root)
    )
    web = WebServer(env, tmp_path)
    with running(redis, web):
        with Load(web, api_key, status_path) as load:
            time.sleep(2)
            went_down = time.monotonic()
            cluster.stop()
            time.sleep(3)
            health_down = requests.get(f"{web.url}/healthz", timeout=10)
            cluster.start()
            came_back = time.monotonic()
            time.sleep(4)
            health_up = requests.get(f"{web.url}/healthz", timeout=10)
        # What an integrator does with a 503: send the same order again with the same key.
        failed = [a for a in load.answers if a.kind == "place" and a.status == 503]
        resent = [load.resend(a.key) for a in failed]

    answers = load.answers
    unexpected = [a for a in answers if a.status not in (200, 201, 503)]
    assert not unexpected, unexpected[:5]
    during = [a for a in answers if went_down + 0.5 < a.at < came_back]
    assert {a.kind for a in during if a.status == 503} == {"place", "status"}
    for answer in (a for a in answers if a.status == 503):
        assert answer.retry_after == "5"
        assert "database did not answer" in answer.body
        if answer.kind == "place":
            assert json.loads(answer.body)["code"] == "service_unavailable"
    after = [a for a in answers if a.at > came_back + 2]
    assert after and all(a.status in (200, 201) for a in after), [(a.kind, a.status) for a in after][:5]
    assert health_down.status_code == 503 and health_down.json()["checks"]["database"].startswith("unavailable")
    assert health_up.status_code == 200

    assert failed and all(response.status_code in (200, 201) for response in resent), [r.text for r in resent]
    for answer in [a for a in answers if a.kind == "place" and a.status in (201, 503)]:
        assert orders_stored(drill_url, f"DRILL-{answer.key.split('-')[1]}") == 1, answer
