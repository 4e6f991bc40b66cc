"""Return labels: asked for when a return is approved and its order's carrier takes return
labels, made by a worker from the outbox (``return.approved``), recorded on the return.

A carrier that refuses fails the label at once (staff see why on the return and give the
customer another way to send it); one that does not answer is retried with backoff, and
fails the label once the attempts run out.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oms.common.actors import Actor
from oms.common.outbox import TryLater, outbox_emit
from returns.enums import ReturnEventKind, ReturnLabelStatus
from returns.locks import lock_return_label
from returns.models import Return, ReturnLabel
from returns.services.common import record_return_event
from shipping.carriers.base import CarrierRejected, CarrierUnavailable
from shipping.services.return_labels import return_label_carrier, return_label_make, return_tracking_number_reserve

SYSTEM = Actor.system("return labels")


def return_label_ask(ret: Return) -> ReturnLabel | None:
    """In the approving transaction: a requested label when the order's carrier takes
    return labels (made after commit by the worker); None otherwise."""
    carrier = return_label_carrier(ret.order)
    if carrier is None:
        return None
    label, _ = ReturnLabel.objects.get_or_create(ret=ret, defaults={"carrier": carrier})
    return label


def _weight_grams(ret: Return) -> int:
    lines = ret.lines.select_related("order_line__product")
    return sum(line.quantity * (line.order_line.product.weight_grams or 0) for line in lines)


def return_label_issue(payload: dict[str, Any], attempt: int) -> None:
    """Outbox handler (``return.approved``): makes the return's requested label, if it has
    one. Raises TryLater while the carrier does not answer."""
    label = (
        ReturnLabel.objects.select_related("ret__order__shipping_address", "carrier")
        .filter(ret__number=payload["return"])
        .first()
    )
    if label is None or label.status != ReturnLabelStatus.REQUESTED:
        return
    ret = label.ret
    try:
        if not label.tracking_number:
            number = return_tracking_number_reserve(
                label.carrier, origin_country=str(ret.order.shipping_address.country)
            )
            if number:
                # Kept for every later attempt; a worker that raced us keeps its own number.
                ReturnLabel.objects.filter(pk=label.pk, tracking_number__isnull=True).update(tracking_number=number)
                label.refresh_from_db(fields=["tracking_number"])
        result = return_label_make(
            order=ret.order,
            reference=f"return-label-{label.pk}",
            weight_grams=_weight_grams(ret),
            tracking_number=label.tracking_number or "",
        )
    except CarrierRejected as exc:
        return_label_failed(label.pk, str(exc), attempt)
        return
    except CarrierUnavailable as exc:
        ReturnLabel.objects.filter(pk=label.pk).update(attempts=attempt, last_error=str(exc))
        raise TryLater(str(exc)) from exc
    with transaction.atomic():
        label = lock_return_label(label.pk)
        if label.status != ReturnLabelStatus.REQUESTED:
            return
        label.status = ReturnLabelStatus.LIVE
        label.tracking_number = result.tracking_number
        label.carrier_reference = result.carrier_reference
        label.pdf = result.pdf
        label.attempts = attempt
        label.last_error = ""
        label.issued_at = timezone.now()
        label.save()
        event = record_return_event(
            ret=label.ret,
            actor=SYSTEM,
            kind=ReturnEventKind.LABEL_CREATED,
            note=f"Return label {result.tracking_number}",
            data={"tracking_number": result.tracking_number},
        )
        outbox_emit(
            topic="return.label_created",
            key=f"return.label_created:{label.ret.number}:{event.pk}",
            payload={
                "return": label.ret.number,
                "order": label.ret.order.number,
                "event": event.pk,
                "tracking_number": result.tracking_number,
                "occurred_at": event.created_at.isoformat(),
            },
        )


def return_label_failed(label_id: int, error: str, attempt: int | None = None) -> None:
    """Fails a requested label with the carrier's reason, on the return's timeline."""
    with transaction.atomic():
        label = lock_return_label(label_id)
        if label.status != ReturnLabelStatus.REQUESTED:
            return
        label.status = ReturnLabelStatus.FAILED
        label.last_error = error
        if attempt is not None:
            label.attempts = attempt
        label.save(update_fields=["status", "last_error", "attempts"])
        record_return_event(ret=label.ret, actor=SYSTEM, kind=ReturnEventKind.LABEL_FAILED, note=error)


def return_label_give_up(payload: dict[str, Any], error: str) -> None:
    """Outbox final failure: the carrier never answered."""
    label_id = ReturnLabel.objects.filter(ret__number=payload["return"]).values_list("pk", flat=True).first()
    if label_id is not None:
        return_label_failed(
            label_id, f"The carrier did not answer after {settings.OMS_LABEL_MAX_ATTEMPTS} attempts: {error}"
        )
