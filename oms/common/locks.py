"""Row locks of the shared kernel (STYLE: the only place that calls select_for_update)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from oms.common.models import OutboxMessage, OutboxState


def lock_due_messages(now: datetime, limit: int) -> list[int]:
    """Ids of up to ``limit`` pending outbox messages that are due and nobody holds, oldest
    due first, locked for the rest of the transaction. Rows another sweep has locked are
    skipped (SKIP LOCKED), so overlapping sweeps share the work instead of queueing."""
    return list(
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(state=OutboxState.PENDING, available_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("available_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
