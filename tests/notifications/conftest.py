"""What the notification tests share: a stand-in for the broker, so a test runs the outbox
messages itself, a real SMTP server the sending code is pointed at, and a real HTTP receiver
for webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from oms.common import outbox
from tests.notifications.receiver import Receiver
from tests.notifications.smtp import SmtpServer


class Relays:
    """Stands in for the broker: records what the outbox hands over (task, arguments, delay)
    and delivers nothing; the tests run the messages themselves."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[Any], float | None]] = []

    def send_task(self, name: str, args: list[Any], countdown: float | None = None) -> None:
        self.sent.append((name, args, countdown))


@pytest.fixture
def relays(monkeypatch: pytest.MonkeyPatch) -> Relays:
    """Modules whose tests run outbox messages by hand use it for every test
    (``pytest.mark.usefixtures("relays")``); a test that starts a real worker must not."""
    fake = Relays()
    monkeypatch.setattr(outbox, "current_app", fake)
    return fake


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1, with this process's mail settings pointed at it."""
    server = SmtpServer()
    server.start()
    with override_settings(**server.settings()):
        yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An integrator's endpoint on 127.0.0.1 answering 200 (set ``answers`` for others)."""
    server = Receiver()
    server.start()
    yield server
    server.stop()
