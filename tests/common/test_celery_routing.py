"""Celery queues: emails, labels and webhooks each on their own queue in production, every
other task on the default one, and everything on the test process's queue under the tests.

The production routes are read from ``oms.settings`` itself (the test settings turn routing
off), by a Celery app configured from them the way ``oms/celery.py`` configures the real one,
on kombu's in-memory transport.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery import Celery
from celery._state import get_current_app
from django.conf import settings
from django.utils import timezone

import oms.settings as production_settings
from oms.celery import app as oms_app
from oms.common.models import OutboxMessage
from oms.common.outbox import outbox_relay

DEFAULT = "celery"

# Every task of ours and the queue it runs on in production. A new task fails
# test_every_task_of_ours_has_a_decided_queue until it is added here: route it in
# CELERY_TASK_ROUTES when it waits on another party's server, else put it on DEFAULT.
EXPECTED_QUEUE = {
    # SMTP
    "notifications.tasks.email_customer": "emails",
    "notifications.tasks.send_notification": "emails",
    "notifications.tasks.alert_staff": "emails",
    # Courier APIs
    "shipping.tasks.create_order_labels": "labels",
    "returns.tasks.create_return_label": "labels",
    # Integrators' endpoints
    "notifications.tasks.publish_webhook_event": "webhooks",
    "notifications.tasks.deliver_webhook": "webhooks",
    # Database work: beat housekeeping, the outbox sweep, invoices, KPIs, incidents.
    "oms.common.tasks.sweep_outbox": DEFAULT,
    "oms.common.tasks.purge_idempotency_keys": DEFAULT,
    "orders.tasks.expire_unpaid_orders": DEFAULT,
    "orders.tasks.issue_invoice": DEFAULT,
    "shipping.tasks.stamp_delivery_promises": DEFAULT,
    "shipping.tasks.flag_stale_shipments": DEFAULT,
    "dashboard.tasks.sync_incidents": DEFAULT,
    "dashboard.tasks.refresh_kpis": DEFAULT,
    # Prints labels already made (no courier call): PDF work and files, not network.
    "dashboard.tasks.run_bulk_job": DEFAULT,
    # Both only query and write outbox messages; the emails they cause go to "emails".
    "notifications.tasks.request_feedback": DEFAULT,
    "notifications.tasks.send_late_orders_digest": DEFAULT,
}


def our_task_names() -> set[str]:
    oms_app.loader.import_default_modules()  # what a worker imports at start (autodiscovery)
    return {name for name in oms_app.tasks if not name.startswith("celery.")}


@pytest.fixture
def production_app() -> Iterator[Celery]:
    """A Celery app with the production CELERY_* settings, publishing to kombu's in-memory
    broker (emptied first)."""
    app = Celery("oms-routing", set_as_current=False)
    app.config_from_object(production_settings, namespace="CELERY")
    app.conf.broker_url = "memory://"
    with app.connection_for_write() as conn:
        for queue in app.amqp.queues.values():
            queue(conn.default_channel).declare()
            queue(conn.default_channel).purge()
    yield app


def queued(app: Celery) -> dict[str, list[tuple[str, list[int]]]]:
    """What waits on each declared queue: (task name, args) per message, consumed."""
    found: dict[str, list[tuple[str, list[int]]]] = {}
    with app.connection_for_read() as conn:
        for name in app.amqp.queues:
            queue = conn.SimpleQueue(name)
            messages = []
            while queue.qsize():
                message = queue.get(timeout=1)
                messages.append((message.headers["task"], message.payload[0]))
                message.ack()
            found[name] = messages
    return found


def test_every_task_of_ours_has_a_decided_queue() -> None:
    names = our_task_names()

    assert names - EXPECTED_QUEUE.keys() == set(), "new task: decide its queue (CELERY_TASK_ROUTES) and list it"
    assert EXPECTED_QUEUE.keys() - names == set(), "listed task no longer exists"


@pytest.mark.parametrize(("task_name", "queue"), sorted(EXPECTED_QUEUE.items()))
def test_in_production_each_task_is_routed_to_its_queue(production_app: Celery, task_name: str, queue: str) -> None:
    route = production_app.amqp.router.route({}, task_name)

    assert route["queue"].name == queue
    assert route["queue"].routing_key == queue


def test_every_route_names_a_task_of_ours_and_a_declared_queue() -> None:
    declared = {queue.name for queue in production_settings.CELERY_TASK_QUEUES}
    routes = production_settings.CELERY_TASK_ROUTES

    # A misspelt task name would leave its task on the default queue without a word.
    assert routes.keys() - our_task_names() == set()
    # A worker started without -Q consumes the declared queues only: a routed queue that is
    # not declared would fill up with nobody reading it.
    assert {route["queue"] for route in routes.values()} | {DEFAULT} == declared
    assert production_settings.CELERY_TASK_DEFAULT_QUEUE == DEFAULT


def test_a_worker_without_q_consumes_every_queue(production_app: Celery) -> None:
    # What `celery -A oms worker` (make run, docker compose) subscribes to when given no -Q.
    assert set(production_app.amqp.queues.consume_from or production_app.amqp.queues) == {
        DEFAULT,
        "emails",
        "labels",
        "webhooks",
    }


@pytest.mark.django_db
def test_the_outbox_relays_by_task_name_to_the_routed_queue(production_app: Celery) -> None:
    later = timezone.now() + timedelta(minutes=5)
    messages = [
        OutboxMessage.objects.create(key=f"routing:{name}", task=name, payload={}, available_at=later)
        for name in (
            "notifications.tasks.email_customer",
            "shipping.tasks.create_order_labels",
            "notifications.tasks.deliver_webhook",
            "orders.tasks.issue_invoice",
        )
    ]
    previous = get_current_app()
    production_app.set_current()  # what outbox_relay's current_app.send_task publishes through
    try:
        relayed = outbox_relay([message.pk for message in messages])
        # A retry is relayed the same way, with a countdown, and lands on the same queue.
        outbox_relay([messages[0].pk], countdown=30)
    finally:
        previous.set_current()

    assert relayed == 4
    email, label, webhook, invoice = messages
    assert queued(production_app) == {
        "emails": [("notifications.tasks.email_customer", [email.pk])] * 2,
        "labels": [("shipping.tasks.create_order_labels", [label.pk])],
        "webhooks": [("notifications.tasks.deliver_webhook", [webhook.pk])],
        DEFAULT: [("orders.tasks.issue_invoice", [invoice.pk])],
    }


def test_under_the_test_settings_every_task_goes_to_the_test_process_queue() -> None:
    # The real-worker tests (tests/celery_worker.py) consume only this queue.
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    assert queue.startswith("oms-test-")

    assert {oms_app.amqp.router.route({}, name)["queue"].name for name in our_task_names()} == {queue}
    assert set(oms_app.amqp.queues) == {queue}
