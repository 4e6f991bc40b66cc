"""What every return service shares: the one function that writes a return's status, its
audit events, numbers and messages."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.utils import timezone

from oms.common.actors import Actor
from oms.common.errors import Conflict
from oms.common.outbox import outbox_emit
from returns import transitions
from returns.enums import ReturnErrorCode, ReturnEventKind
from returns.models import Return, ReturnEvent


class ReturnTransitionNotAllowed(Conflict):
    code = ReturnErrorCode.RETURN_TRANSITION_NOT_ALLOWED


def return_number_placeholder() -> str:
    return f"pending-{uuid.uuid4().hex[:24]}"  # unique until the number replaces it; fits 32


def format_return_number(return_id: int) -> str:
    """``RMA-000042``: the prefix (``OMS_RETURN_NUMBER_PREFIX``) and the primary key."""
    return f"{settings.OMS_RETURN_NUMBER_PREFIX}{return_id:06d}"


def record_return_event(
    *,
    ret: Return,
    actor: Actor,
    kind: str,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> ReturnEvent:
    return ReturnEvent.objects.create(
        ret=ret,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note[:255],
        data=data or {},
        actor_kind=actor.kind,
        actor_label=actor.label,
    )


def return_require_move(ret: Return, to_status: str) -> None:
    """Raises ReturnTransitionNotAllowed (409) when ``ret`` cannot move to ``to_status``."""
    if not transitions.can_move(ret.status, to_status):
        allowed = sorted(transitions.allowed_from(ret.status))
        raise ReturnTransitionNotAllowed(
            f"Return {ret.number} is {ret.status} and cannot become {to_status}"
            + (f"; from {ret.status} it can become: {', '.join(allowed)}." if allowed else "; it is closed."),
            extra={"number": ret.number, "status": ret.status, "requested": to_status, "allowed": allowed},
        )


def return_set_status(
    *, ret: Return, to_status: str, actor: Actor, note: str = "", extra_fields: dict[str, Any] | None = None
) -> Return:
    """Moves a locked return to ``to_status``, stamps the time, audits the move and emits
    ``return.<status>`` for what follows it (emails, webhooks) through the outbox. The caller
    holds the row lock. Raises ReturnTransitionNotAllowed."""
    from_status = ret.status
    return_require_move(ret, to_status)
    ret.status = to_status
    update_fields = ["status", "updated_at"]
    stamp = transitions.STAMP_FIELD.get(to_status)
    if stamp:
        setattr(ret, stamp, timezone.now())
        update_fields.append(stamp)
    for name, value in (extra_fields or {}).items():
        setattr(ret, name, value)
        update_fields.append(name)
    ret.save(update_fields=update_fields)
    event = record_return_event(
        ret=ret,
        actor=actor,
        kind=ReturnEventKind.STATUS_CHANGED,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    return_emit(ret, event)
    return ret


def return_emit(ret: Return, event: ReturnEvent) -> None:
    outbox_emit(
        topic=f"return.{event.to_status}",
        key=f"return.{event.to_status}:{ret.number}:{event.pk}",
        payload={
            "return": ret.number,
            "order": ret.order.number,
            "from": event.from_status,
            "to": event.to_status,
            "event": event.pk,
            "occurred_at": event.created_at.isoformat(),
        },
    )
