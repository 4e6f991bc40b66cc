"""Reads of returns, with their joins and prefetches decided once: a list or a detail costs
the same few queries however many returns, lines, inspections and events there are."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from oms.common.errors import NotFound
from returns.enums import ReturnErrorCode, ReturnLabelStatus
from returns.models import Return, ReturnEvent, ReturnInspection, ReturnLabel, ReturnLine
from returns.services import return_refund_due


def _lines() -> QuerySet[ReturnLine]:
    return ReturnLine.objects.select_related("order_line").order_by("id")


def return_list() -> QuerySet[Return]:
    """Returns for lists, newest first, each with its order number and lines (SKU, name)."""
    return (
        Return.objects.select_related("order")
        .prefetch_related(Prefetch("lines", queryset=_lines()))
        .order_by("-created_at", "-id")
    )


def return_detail(*, number: str) -> Return:
    """One return with its order, lines and their inspections (with the bin), refund,
    return label (without its PDF), timeline, and ``refund_due`` (what the received units
    are worth). Raises NotFound."""
    ret = (
        Return.objects.select_related("order", "refund", "label__carrier")
        .defer("label__pdf")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=_lines().prefetch_related(
                    Prefetch("inspections", queryset=ReturnInspection.objects.select_related("location").order_by("id"))
                ),
            ),
            Prefetch("events", queryset=ReturnEvent.objects.order_by("created_at", "id")),
        )
        .filter(number=number)
        .first()
    )
    if ret is None:
        raise NotFound(f"No return with number {number}.", code=ReturnErrorCode.RETURN_NOT_FOUND)
    ret.refund_due = return_refund_due(ret)  # type: ignore[attr-defined]
    # A reverse one-to-one without a row raises on access (an AttributeError): read it once.
    ret.label_or_none = getattr(ret, "label", None)  # type: ignore[attr-defined]
    return ret


def return_label_pdf(*, number: str) -> tuple[str, bytes] | None:
    """The tracking number and PDF of the return's label once made; None before (or when its
    carrier takes no return labels). Raises NotFound for an unknown return."""
    if not Return.objects.filter(number=number).exists():
        raise NotFound(f"No return with number {number}.", code=ReturnErrorCode.RETURN_NOT_FOUND)
    label = (
        ReturnLabel.objects.filter(ret__number=number, status=ReturnLabelStatus.LIVE)
        .values_list("tracking_number", "pdf")
        .first()
    )
    if label is None or label[1] is None:
        return None
    return str(label[0]), bytes(label[1])
