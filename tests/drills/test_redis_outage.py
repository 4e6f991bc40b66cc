"""Drill: Redis (the broker) stops while integrators place orders. The orders are still
accepted, and once Redis is back every email and webhook they cause goes out, once each."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from oms.common.models import OutboxMessage, OutboxState
from orders.models import Order
from tests.drills.conftest import Shop, order_body, outbox_environment
from tests.drills.services import RedisServer, WebServer, Worker, running, wait_until

pytestmark = pytest.mark.drill


def place(web: WebServer, shop: Shop, index: int) -> requests.Response:
    return requests.post(
        f"{web.url}/api/v1/orders/", json=order_body(index), headers=shop.headers(f"drill-{index}"), timeout=30
    )


def test_orders_placed_while_redis_is_down_are_accepted_and_their_side_effects_go_out_once(
    shop: Shop, tmp_path: Path
) -> None:
    redis = RedisServer()
    # Redis keeps nothing on disk: what was queued in it when it stopped is gone, and only the
    # sweep brings it back, once the message's lease has ended.
    env = outbox_environment(redis.url, shop.smtp.port, tmp_path)
    web, worker = WebServer(env, tmp_path), Worker(env, tmp_path)
    with running(redis, web, worker):
        before = [place(web, shop, i) for i in range(3)]

        redis.stop()
        during = [place(web, shop, i) for i in range(3, 9)]
        health = requests.get(f"{web.url}/healthz", timeout=10)

        assert [r.status_code for r in before + during] == [201] * 9, [r.text for r in before + during]
        assert health.status_code == 503 and health.json()["checks"]["broker"].startswith("unavailable")
        assert Order.objects.filter(external_reference__startswith="DRILL-").count() == 9
        time.sleep(2)  # the outage lasts: nothing can have gone out for the orders placed in it
        assert not {f"customer{i}@example.com" for i in range(3, 9)} & set(shop.emails_to())

        redis.start()  # the same port: the web and the worker reconnect by themselves
        wait_until(
            lambda: len(shop.emails_to()) == 9 and len(shop.created_events()) == 9,
            90,
            "Not every email and webhook went out",
            lambda: f"{shop.emails_to()}\n{shop.created_events()}\n{worker.output()}\n{web.output()}",
        )
        time.sleep(3)  # a doubled email or delivery would arrive in this time

    assert shop.emails_to() == {f"customer{i}@example.com": 1 for i in range(9)}
    numbers = set(Order.objects.filter(external_reference__startswith="DRILL-").values_list("number", flat=True))
    assert shop.created_events() == dict.fromkeys(numbers, 1)
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxState.DONE}
