"""Drill: the worker is killed (SIGKILL, the whole process group) in the middle of making a
courier label and in the middle of sending an email. After a new worker starts, the label
and the email each exist exactly once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from notifications.enums import NotificationState
from notifications.models import Notification
from oms.common.models import OutboxMessage, OutboxState
from shipping.enums import LabelStatus
from shipping.models import Carrier, Label, ShipmentEvent
from tests.celery_worker import suite_database_url
from tests.drills.conftest import outbox_environment
from tests.drills.services import RedisServer, Worker, running, wait_until
from tests.notifications.smtp import Inbox, SmtpServer
from tests.shipping.helpers import packed_order

pytestmark = pytest.mark.drill


class HeldInbox(Inbox):
    """A mail server that, while ``held`` is set, keeps each sender waiting for its answer to
    RCPT TO: the email is in the middle of its SMTP conversation, nothing is delivered yet."""

    def __init__(self) -> None:
        super().__init__()
        self.held = threading.Event()
        self.waiting = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.held.is_set():
            self.waiting += 1
            while self.held.is_set():
                await asyncio.sleep(0.05)
            return "421 4.3.0 Closing the connection: the server was held"  # the sender is gone by now
        return await super().handle_RCPT(server, session, envelope, address, options)


@pytest.fixture
def held_smtp() -> Iterator[tuple[SmtpServer, HeldInbox]]:
    server = SmtpServer()
    inbox = HeldInbox()
    server.inbox = inbox
    server.start()
    yield server, inbox
    inbox.held.clear()
    server.stop()


def waiting_queries(db_name: str) -> list[str]:
    """What the backends of the test database that wait for a lock are running."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'", [db_name])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_a_label_and_an_email_cut_off_by_a_killed_worker_are_each_made_once_after_restart(
    held_smtp: tuple[SmtpServer, HeldInbox], tmp_path: Path
) -> None:
    smtp, inbox = held_smtp
    order = packed_order()  # paid, then packed: its emails and its label wait in the outbox
    # The drill's worker listens on its own Redis: what this process relayed went elsewhere.
    # Due now, the worker's sweep relays it, as after a relay that was lost.
    OutboxMessage.objects.filter(state=OutboxState.PENDING).update(available_at=timezone.now())
    redis = RedisServer()
    env = outbox_environment(redis.url, smtp.port, tmp_path)  # a killed worker's message back after 10 s
    db_name = connection.settings_dict["NAME"]
    carrier = Carrier.objects.get(code="FLEET")
    serial_before = carrier.last_serial
    # The carrier's counter row held (FOR NO KEY UPDATE: rows that merely reference the carrier
    # are still written): the worker making the label stops inside its numbering transaction,
    # after the label was requested and before it has a number.
    holder = psycopg2.connect(suite_database_url())
    inbox.held.set()
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT 1 FROM shipping_carrier WHERE id = %s FOR NO KEY UPDATE", [carrier.pk])
        first = Worker(env, tmp_path, concurrency=4)
        with running(redis, first):
            wait_until(
                lambda: any('UPDATE "shipping_carrier"' in q for q in waiting_queries(db_name)) and inbox.waiting >= 1,
                60,
                "The worker did not reach the middle of the label and of an email",
                lambda: f"{waiting_queries(db_name)}\n{first.output()}",
            )
            assert Label.objects.get(shipment__order=order).status == LabelStatus.REQUESTED
            assert inbox.count() == 0

            first.kill()
    finally:
        holder.rollback()
        holder.close()
        inbox.held.clear()

    emails = Notification.objects.filter(order=order)
    second = Worker(env, tmp_path, concurrency=2)
    with running(redis, second):
        wait_until(
            lambda: (
                Label.objects.filter(shipment__order=order, status=LabelStatus.LIVE).exists()
                and emails.count() >= 2
                and not emails.exclude(state=NotificationState.SENT).exists()
            ),
            90,
            "The label and the emails were not made after the restart",
            second.output,
        )
        time.sleep(3)  # a second label or a doubled email would appear in this time

    label = Label.objects.get(shipment__order=order)  # one label, not two
    assert label.status == LabelStatus.LIVE
    carrier.refresh_from_db()
    assert carrier.last_serial == serial_before + 1  # one tracking number taken
    assert ShipmentEvent.objects.filter(shipment__order=order, kind="label_created").count() == 1
    sent = list(emails.values_list("message_id", flat=True))
    assert inbox.count() == len(sent)  # each prepared email delivered once
    assert sorted(str(m["Message-ID"]) for m in inbox.messages) == sorted(sent)
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxState.DONE}
