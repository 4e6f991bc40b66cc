"""The transactional outbox: side effects that must happen are written with the state change
that causes them, relayed to Celery after commit, swept periodically, and run at most once at
a time by a worker holding a lease.

- ``outbox_emit(topic, key, payload)`` inside the caller's transaction writes one message per
  task routed to the topic in ``settings.OMS_OUTBOX_ROUTES`` (the composition root decides
  which app acts on which event, so the app emitting it names no other app).
- After commit each message is relayed (``send_task(task, args=[message_id])``); a broker that
  is down loses nothing, since ``outbox_sweep`` relays every pending message that is due.
- ``outbox_run(message_id, handler)`` is what a task calls: it takes the lease, runs the
  handler outside any transaction, and records the outcome. A handler raises ``TryLater`` for
  a recoverable failure (retried with exponential backoff up to ``max_attempts``) or
  ``GiveUp`` for a permanent one. Handlers must be idempotent: a message may run again after
  a worker dies between the handler's work and the outcome being recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from oms.common.inserts import insert_new
from oms.common.locks import lock_due_messages
from oms.common.models import OutboxMessage, OutboxState

logger = logging.getLogger(__name__)


class TryLater(Exception):
    """A recoverable failure (a carrier or mail server that does not answer)."""


class GiveUp(Exception):
    """A failure that retrying cannot fix (an address the carrier rejects)."""


def _lease() -> timedelta:
    return timedelta(seconds=settings.OMS_OUTBOX_LEASE_SECONDS)


def outbox_enqueue(*, task: str, key: str, payload: dict[str, Any]) -> OutboxMessage | None:
    """Writes a message for ``task`` in the caller's transaction and relays it after commit.
    Returns None when a message with this key exists already (the same cause, written once)."""
    written = _write([OutboxMessage(key=key, task=task, payload=payload)])
    return written[0] if written else None


def outbox_emit(*, topic: str, key: str, payload: dict[str, Any]) -> list[OutboxMessage]:
    """Writes one message per task routed to ``topic``; nothing when none is. A message whose
    key exists already is not written again (the same cause, written once). Returns the
    messages written, which are relayed together after commit."""
    return _write(
        [
            OutboxMessage(key=f"{key}>{task}", task=task, payload={**payload, "topic": topic})
            for task in settings.OMS_OUTBOX_ROUTES.get(topic, ())
        ]
    )


def _write(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Inserts the messages whose key is new (one statement on PostgreSQL) and relays them
    after commit, from memory: they are new, so pending."""
    available_at = timezone.now() + _lease()
    for message in messages:
        message.available_at = available_at
    written = insert_new(messages, unique=["key"])
    if written:
        # Robust: the change is committed whatever happens here; a relay that fails is logged
        # and left to the sweep.
        rows = [(message.pk, message.task) for message in written]
        transaction.on_commit(partial(_send, rows), robust=True)
    return written


# After the broker refused a message, this process sends nothing for a few seconds: every
# send would wait for the broker to refuse again (about half a second each), and the sweep
# relays what was not sent once the broker is back.
BROKER_PAUSE_SECONDS = 5.0
_broker_paused_until = 0.0


def outbox_relay(message_ids: Iterable[int], *, countdown: float | None = None) -> int:
    """Hands messages to the broker; returns how many went. A broker that is down is logged
    and left to the sweep: the messages not sent become due at once, so the first sweep after
    the broker is back relays them, and the rest of this batch is not tried (each attempt
    would wait for the broker again), nor anything else for ``BROKER_PAUSE_SECONDS``."""
    rows = list(
        OutboxMessage.objects.filter(pk__in=list(message_ids), state=OutboxState.PENDING).values_list("pk", "task")
    )
    return _send(rows, countdown=countdown)


def _send(rows: list[tuple[int, str]], *, countdown: float | None = None) -> int:
    """Sends (message id, task) pairs to the broker; see ``outbox_relay``."""
    global _broker_paused_until
    sent = 0
    for pk, task_name in rows:
        if time.monotonic() < _broker_paused_until:
            break
        try:
            # By name: the relaying process need not import the app that carries the task out.
            current_app.send_task(task_name, args=[pk], countdown=countdown)
        except Exception as exc:
            _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
            logger.warning("The broker refused outbox message %s (%s); the sweep will relay it.", pk, exc)
            break
        sent += 1
    unsent = [pk for pk, _task in rows[sent:]]
    if unsent and countdown is None:  # a delayed retry keeps the due time its backoff set
        OutboxMessage.objects.filter(pk__in=unsent, state=OutboxState.PENDING).filter(
            Q(locked_until__isnull=True) | Q(locked_until__lt=timezone.now())
        ).update(available_at=timezone.now())
    return sent


def outbox_sweep(*, limit: int = 500) -> int:
    """Periodic: relays pending messages that are due (never relayed, relay lost, worker
    died, retry whose delayed task was lost). Returns how many were relayed."""
    now = timezone.now()
    with transaction.atomic():
        due = lock_due_messages(now, limit)
        OutboxMessage.objects.filter(pk__in=due).update(available_at=now + _lease())
    return outbox_relay(due) if due else 0


def outbox_extend_lease(key: str) -> None:
    """A handler that runs longer than the lease (a bulk job of thousands of orders) calls
    this between steps, so the sweep does not hand its message to a second worker meanwhile."""
    lease = timezone.now() + _lease()
    OutboxMessage.objects.filter(key=key, state=OutboxState.PENDING, locked_until__isnull=False).update(
        locked_until=lease, available_at=lease
    )


def backoff_seconds(attempt: int) -> int:
    """Delay before retry ``attempt`` + 1: the base doubled per attempt, capped at an hour."""
    base = settings.OMS_OUTBOX_RETRY_BASE_SECONDS
    return int(min(base * 2 ** max(attempt - 1, 0), 3600))


@dataclass(frozen=True)
class Outcome:
    state: str  # done, retry, failed, skipped
    attempts: int = 0
    error: str = ""


def _claim(message_id: int) -> OutboxMessage | None:
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, state=OutboxState.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + _lease(), available_at=now + _lease())
    )
    if not claimed:
        return None
    return OutboxMessage.objects.get(pk=message_id)


def outbox_run(
    message_id: int,
    handler: Callable[[dict[str, Any], int], None],
    *,
    max_attempts: int,
    on_final_failure: Callable[[dict[str, Any], str], None] | None = None,
) -> Outcome:
    """Runs one message if it is pending and nobody else is running it.

    ``handler(payload, attempt)`` does the work (attempt counts from 1). On ``TryLater`` the
    message is retried after ``backoff_seconds(attempt)`` until ``max_attempts``; then, or on
    ``GiveUp``, it is marked failed and ``on_final_failure(payload, error)`` records what
    staff should see. Any other exception counts as recoverable too, so a bug fixed by a
    deploy heals on the next attempt instead of losing the message.
    """
    message = _claim(message_id)
    if message is None:
        return Outcome("skipped")
    attempt = message.attempts + 1
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=attempt)
    try:
        handler(message.payload, attempt)
    except GiveUp as exc:
        return _fail(message, attempt, str(exc), on_final_failure)
    except Exception as exc:
        error = str(exc) if isinstance(exc, TryLater) else f"{exc.__class__.__name__}: {exc}"
        if not isinstance(exc, TryLater):
            logger.exception("Outbox message %s (%s) failed on attempt %s", message.pk, message.task, attempt)
        if attempt >= max_attempts:
            return _fail(message, attempt, error, on_final_failure)
        delay = backoff_seconds(attempt)
        OutboxMessage.objects.filter(pk=message.pk).update(
            last_error=error,
            locked_until=None,
            available_at=timezone.now() + timedelta(seconds=delay) + _lease(),
        )
        outbox_relay([message.pk], countdown=delay)
        return Outcome("retry", attempt, error)
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxState.DONE, done_at=timezone.now(), locked_until=None, last_error=""
    )
    return Outcome("done", attempt)


def _fail(
    message: OutboxMessage,
    attempt: int,
    error: str,
    on_final_failure: Callable[[dict[str, Any], str], None] | None,
) -> Outcome:
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxState.FAILED, last_error=error, locked_until=None, done_at=timezone.now()
    )
    if on_final_failure is not None:
        on_final_failure(message.payload, error)
    return Outcome("failed", attempt, error)
