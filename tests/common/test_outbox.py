"""The transactional outbox: written with the state change, relayed after commit, swept when
the relay was lost, run once at a time, retried with backoff, failed visibly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from oms.common import outbox
from oms.common.models import OutboxMessage, OutboxState

pytestmark = pytest.mark.django_db

TASK = "tests.outbox.work"


class FakeBroker:
    """Stands in for the Celery app's ``send_task``: records what was relayed."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[list[Any], float | None]] = []
        self.fail = fail

    def send_task(self, name: str, args: list[Any], countdown: float | None = None) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        assert name == TASK
        self.calls.append((args, countdown))


@pytest.fixture
def task(monkeypatch: pytest.MonkeyPatch) -> FakeBroker:
    fake = FakeBroker()
    monkeypatch.setattr(outbox, "current_app", fake)
    return fake


def enqueue(key: str = "k1") -> OutboxMessage:
    message = outbox.outbox_enqueue(task=TASK, key=key, payload={"order": "OMS-1"})
    assert message is not None
    return message


@override_settings(OMS_OUTBOX_ROUTES={"order.packed": [TASK, "tests.outbox.other"]})
def test_an_event_writes_one_message_per_routed_task_and_none_for_an_unrouted_one(task: FakeBroker) -> None:
    outbox.outbox_emit(topic="order.packed", key="order.packed:OMS-1:1", payload={"order": "OMS-1"})
    outbox.outbox_emit(topic="order.paid", key="order.paid:OMS-1:2", payload={"order": "OMS-1"})

    assert sorted(OutboxMessage.objects.values_list("task", "payload__topic")) == [
        ("tests.outbox.other", "order.packed"),
        (TASK, "order.packed"),
    ]


def test_the_same_cause_is_written_once_without_breaking_the_callers_transaction(task: FakeBroker) -> None:
    with transaction.atomic():
        enqueue("same")
        assert outbox.outbox_enqueue(task=TASK, key="same", payload={}) is None
        OutboxMessage.objects.count()  # the transaction is still usable

    assert OutboxMessage.objects.count() == 1


def test_a_message_is_relayed_after_commit_with_its_id_only(
    task: FakeBroker, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue()
        assert task.calls == []

    assert task.calls == [([message.pk], None)]


def test_a_rolled_back_change_relays_and_keeps_nothing(
    task: FakeBroker, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        enqueue()
        raise RuntimeError("the state change failed")

    assert task.calls == [] and not OutboxMessage.objects.exists()


class CountingDownBroker(FakeBroker):
    def __init__(self) -> None:
        super().__init__(fail=True)
        self.attempts = 0

    def send_task(self, name: str, args: list[Any], countdown: float | None = None) -> None:
        self.attempts += 1
        super().send_task(name, args, countdown)


def test_a_relay_the_broker_refuses_stays_pending_and_is_due_for_the_next_sweep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    down = CountingDownBroker()
    monkeypatch.setattr(outbox, "current_app", down)
    first, second = enqueue("first"), enqueue("second")

    assert outbox.outbox_relay([first.pk, second.pk]) == 0

    assert down.attempts == 1  # the broker is down: the second is not tried in vain
    up = FakeBroker()
    monkeypatch.setattr(outbox, "current_app", up)
    assert outbox.outbox_sweep() == 0  # paused: no send waits for a broker that just refused
    outbox._broker_paused_until = 0.0  # the pause is over
    assert outbox.outbox_sweep() == 2  # due at once, not a lease later
    assert sorted(call[0][0] for call in up.calls) == sorted([first.pk, second.pk])
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxState.PENDING}


def test_a_retry_the_broker_refuses_keeps_its_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "current_app", FakeBroker(fail=True))
    message = enqueue()
    later = timezone.now() + timedelta(minutes=5)
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=later)

    assert outbox.outbox_relay([message.pk], countdown=60) == 0

    assert OutboxMessage.objects.get(pk=message.pk).available_at == later


def test_the_sweep_relays_only_due_messages_and_not_twice_in_a_row(task: FakeBroker) -> None:
    due = enqueue("due")
    enqueue("not-yet")  # relayed after commit: due again only after the lease
    OutboxMessage.objects.filter(pk=due.pk).update(available_at=timezone.now() - timedelta(seconds=1))

    assert outbox.outbox_sweep() == 1
    assert outbox.outbox_sweep() == 0
    assert task.calls == [([due.pk], None)]


def test_a_run_marks_the_message_done_and_a_second_run_skips_it(task: FakeBroker) -> None:
    message = enqueue()
    seen: list[tuple[dict[str, Any], int]] = []

    first = outbox.outbox_run(message.pk, lambda payload, attempt: seen.append((payload, attempt)), max_attempts=3)
    second = outbox.outbox_run(message.pk, lambda payload, attempt: seen.append((payload, attempt)), max_attempts=3)

    message.refresh_from_db()
    assert (first.state, second.state) == ("done", "skipped")
    assert seen == [({"order": "OMS-1"}, 1)]
    assert message.state == OutboxState.DONE and message.done_at is not None


def test_a_message_another_worker_holds_is_not_run_twice(task: FakeBroker) -> None:
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(locked_until=timezone.now() + timedelta(minutes=1))

    outcome = outbox.outbox_run(message.pk, lambda payload, attempt: pytest.fail("ran twice"), max_attempts=3)

    assert outcome.state == "skipped"


def test_a_worker_killed_mid_run_leaves_the_message_to_the_sweep_after_its_lease(task: FakeBroker) -> None:
    message = enqueue()
    # A worker took the lease and died: nothing recorded the outcome.
    OutboxMessage.objects.filter(pk=message.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1), available_at=timezone.now() - timedelta(seconds=1)
    )

    assert outbox.outbox_sweep() == 1
    assert outbox.outbox_run(message.pk, lambda payload, attempt: None, max_attempts=3).state == "done"


@override_settings(OMS_OUTBOX_LEASE_SECONDS=60)
def test_a_long_handler_that_extends_its_lease_is_not_handed_to_the_sweep(task: FakeBroker) -> None:
    message = enqueue()
    swept: list[int] = []

    def long_handler(payload: dict[str, Any], attempt: int) -> None:
        # Its first lease has run out (a long step), then it reports progress.
        OutboxMessage.objects.filter(pk=message.pk).update(
            locked_until=timezone.now() - timedelta(seconds=1), available_at=timezone.now() - timedelta(seconds=1)
        )
        outbox.outbox_extend_lease(message.key)
        swept.append(outbox.outbox_sweep())

    assert outbox.outbox_run(message.pk, long_handler, max_attempts=3).state == "done"
    assert swept == [0]


def test_extending_the_lease_of_a_message_nobody_runs_changes_nothing(task: FakeBroker) -> None:
    message = enqueue()
    before = OutboxMessage.objects.values("locked_until", "available_at").get(pk=message.pk)

    outbox.outbox_extend_lease(message.key)

    assert OutboxMessage.objects.values("locked_until", "available_at").get(pk=message.pk) == before


@override_settings(OMS_OUTBOX_RETRY_BASE_SECONDS=10)
def test_a_recoverable_failure_is_retried_with_a_growing_delay(task: FakeBroker) -> None:
    message = enqueue()

    def unreachable(payload: dict[str, Any], attempt: int) -> None:
        raise outbox.TryLater("carrier timeout")

    outcomes = [outbox.outbox_run(message.pk, unreachable, max_attempts=5) for _ in range(3)]

    message.refresh_from_db()
    assert [o.state for o in outcomes] == ["retry"] * 3
    assert [countdown for _args, countdown in task.calls] == [10, 20, 40]
    assert message.state == OutboxState.PENDING and message.attempts == 3
    assert message.last_error == "carrier timeout"
    assert message.available_at > timezone.now() + timedelta(seconds=40)


def test_after_the_last_attempt_the_message_fails_and_staff_get_the_error(task: FakeBroker) -> None:
    message = enqueue()
    recorded: list[tuple[dict[str, Any], str]] = []

    def unreachable(payload: dict[str, Any], attempt: int) -> None:
        raise outbox.TryLater("carrier timeout")

    outcomes = [
        outbox.outbox_run(
            message.pk, unreachable, max_attempts=2, on_final_failure=lambda p, e: recorded.append((p, e))
        )
        for _ in range(2)
    ]

    message.refresh_from_db()
    assert [o.state for o in outcomes] == ["retry", "failed"]
    assert message.state == OutboxState.FAILED and message.last_error == "carrier timeout"
    assert recorded == [({"order": "OMS-1"}, "carrier timeout")]


def test_a_permanent_failure_is_not_retried(task: FakeBroker) -> None:
    message = enqueue()

    def refused(payload: dict[str, Any], attempt: int) -> None:
        raise outbox.GiveUp("address rejected")

    outcome = outbox.outbox_run(message.pk, refused, max_attempts=5)

    message.refresh_from_db()
    assert outcome.state == "failed" and message.attempts == 1 and task.calls == []


def test_an_unexpected_error_is_retried_rather_than_lost(task: FakeBroker) -> None:
    message = enqueue()

    def buggy(payload: dict[str, Any], attempt: int) -> None:
        raise KeyError("missing")

    outcome = outbox.outbox_run(message.pk, buggy, max_attempts=5)

    message.refresh_from_db()
    assert outcome.state == "retry" and message.state == OutboxState.PENDING
    assert "KeyError" in message.last_error


@override_settings(OMS_OUTBOX_ROUTES={"order.packed": [TASK]})
def test_an_event_emitted_twice_is_written_once_without_breaking_the_callers_transaction(task: FakeBroker) -> None:
    with transaction.atomic():
        first = outbox.outbox_emit(topic="order.packed", key="order.packed:OMS-1:1", payload={"order": "OMS-1"})
        again = outbox.outbox_emit(topic="order.packed", key="order.packed:OMS-1:1", payload={"order": "OMS-1"})
        OutboxMessage.objects.count()  # the transaction is still usable

    assert again == []
    assert [m.pk for m in first] == list(OutboxMessage.objects.values_list("pk", flat=True))
    stored = OutboxMessage.objects.get()
    assert (stored.key, stored.task, stored.payload) == (
        f"order.packed:OMS-1:1>{TASK}",
        TASK,
        {"order": "OMS-1", "topic": "order.packed"},
    )
    assert stored.state == OutboxState.PENDING and stored.available_at > stored.created_at


class AnyTaskBroker(FakeBroker):
    def send_task(self, name: str, args: list[Any], countdown: float | None = None) -> None:
        self.calls.append(([name, *args], countdown))


@override_settings(OMS_OUTBOX_ROUTES={"order.packed": [TASK, "tests.outbox.other"]})
def test_the_messages_of_an_event_are_relayed_after_commit(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    broker = AnyTaskBroker()
    monkeypatch.setattr(outbox, "current_app", broker)

    with django_capture_on_commit_callbacks(execute=True):
        messages = outbox.outbox_emit(topic="order.packed", key="order.packed:OMS-1:1", payload={"order": "OMS-1"})
        assert broker.calls == []

    assert sorted(broker.calls) == sorted(([m.task, m.pk], None) for m in messages)
    assert len(messages) == 2
