"""Shipping labels: one live label per package, made by the carrier's adapter in a Celery
worker after the order is packed, never inside a transaction.

The lifecycle of a label: requested -> live, or requested -> failed (the carrier refused, or
stayed unreachable through every retry); failed -> requested (staff retry); live or failed ->
voided (kept as history; a new label may then be requested for the package). The partial
unique index ``label_one_current_per_package`` is the database's word that a package never
has two current labels, whichever workers race.

Lock order: order -> shipment -> labels (by id) -> carrier counter row.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.selectors import closed_packages, dispatch_warehouse
from oms.common.actors import Actor
from oms.common.errors import ApplicationError, Conflict, InvalidInput, NotFound
from oms.common.outbox import GiveUp, TryLater, outbox_emit, outbox_enqueue
from orders.models import Order
from shipping.carriers import adapter_for
from shipping.carriers.base import CarrierRejected, CarrierUnavailable, LabelRequest, PostalAddress
from shipping.enums import CURRENT_LABEL_STATES, LabelFormat, LabelStatus, ShipmentStatus, ShippingErrorCode
from shipping.locks import lock_failed_labels, lock_label
from shipping.models import Carrier, Label, Shipment
from shipping.services.shipments import _shipment_set_status, lock_shipment, shipment_open, shipment_record

logger = logging.getLogger(__name__)

LABELS_TASK = "shipping.tasks.create_order_labels"
SYSTEM = "system: labels"


# --- requesting -----------------------------------------------------------------------------


def _format_for(package_station_format: str, carrier: Carrier) -> str:
    return package_station_format or carrier.label_format or LabelFormat.PDF


@transaction.atomic
def labels_request(*, actor: Actor, order_number: str) -> list[int]:
    """Opens the order's shipment and gives each closed package without a current label a
    requested one. Returns the ids of the order's labels still to be made. Idempotent.

    Raises NotFound, Conflict ``order_not_packed`` / ``no_carrier_service``.
    """
    shipment = lock_shipment(shipment_open(actor=actor, order_number=order_number).pk)
    current = set(
        Label.objects.filter(shipment=shipment, status__in=CURRENT_LABEL_STATES).values_list("package_id", flat=True)
    )
    for package in closed_packages(shipment.order):
        if package.pk in current:
            continue
        station = package.session.station
        Label.objects.create(
            shipment=shipment,
            package=package,
            format=_format_for(station.label_format if station else "", shipment.carrier),
        )
    return list(
        Label.objects.filter(shipment=shipment, status=LabelStatus.REQUESTED)
        .order_by("id")
        .values_list("pk", flat=True)
    )


def labels_enqueue(*, order_number: str, reason: str) -> None:
    """Queues label creation for the order (in the caller's transaction, relayed after
    commit). Each call is a new cause, so staff retries are never swallowed."""
    outbox_enqueue(
        task=LABELS_TASK,
        key=f"labels:{order_number}:{reason}:{uuid.uuid4().hex[:12]}",
        payload={"order": order_number},
    )


# --- making one label -----------------------------------------------------------------------


def warehouse_address(order: Order) -> PostalAddress:
    """The address of the warehouse the order leaves from: the sender of its labels, the
    recipient of its return labels. Raises CarrierRejected when there is none to print."""
    warehouse = dispatch_warehouse(order)
    if warehouse is None:
        raise CarrierRejected(f"Order {order.number} has no warehouse it left from; labels need a sender address.")
    if not (warehouse.line1 and warehouse.postal_code and warehouse.city and warehouse.country):
        raise CarrierRejected(
            f"Warehouse {warehouse.code} has no complete address (street, postal code, city, country): "
            "fill it in the admin, then retry the label."
        )
    return PostalAddress(
        name=warehouse.sender_name or settings.OMS_SHOP_NAME,
        line1=warehouse.line1,
        line2=warehouse.line2,
        postal_code=warehouse.postal_code,
        city=warehouse.city,
        country=warehouse.country.upper(),
        phone=warehouse.phone,
    )


def delivery_address(order: Order) -> PostalAddress:
    """Where the order goes, with the customer's phone and email for the courier."""
    address = order.shipping_address
    return PostalAddress(
        name=address.name,
        company=address.company,
        line1=address.line1,
        line2=address.line2,
        postal_code=address.postal_code,
        city=address.city,
        region=address.region,
        country=str(address.country),
        phone=address.phone or order.customer_phone,
        email=order.customer_email,
    )


def _reserve_number(label_id: int, sender: PostalAddress) -> None:
    """Own numbering: takes the next serial from the carrier's counter row, once per label."""
    with transaction.atomic():
        label = lock_label(label_id, "shipment__carrier")
        if label.tracking_number or label.status != LabelStatus.REQUESTED:
            return
        carrier = label.shipment.carrier
        adapter = adapter_for(carrier)
        if not adapter.needs_serial():
            return
        Carrier.objects.filter(pk=carrier.pk).update(last_serial=F("last_serial") + 1)
        serial = Carrier.objects.values_list("last_serial", flat=True).get(pk=carrier.pk)
        label.tracking_number = adapter.reserve_tracking_number(serial=serial, origin_country=sender.country)
        label.save(update_fields=["tracking_number"])


def _request_of(label: Label, sender: PostalAddress) -> LabelRequest:
    shipment = label.shipment
    order = shipment.order
    package = label.package
    return LabelRequest(
        reference=f"label-{label.pk}",
        carrier_code=shipment.carrier.code,
        carrier_name=shipment.carrier.name,
        service_code=shipment.service.code,
        service_name=shipment.service.name,
        sender=sender,
        recipient=delivery_address(order),
        weight_grams=package.weight_grams or 0,
        package=package.sequence,
        packages=order.packages.filter(status="closed").count(),
        order_number=order.number,
        length_mm=package.package_type.length_mm,
        width_mm=package.package_type.width_mm,
        height_mm=package.package_type.height_mm,
        tracking_number=label.tracking_number or "",
    )


@dataclass(frozen=True)
class IssueOutcome:
    label_id: int
    state: str  # live, failed, retry, skipped
    error: str = ""


def _load(label_id: int) -> Label:
    return Label.objects.select_related(
        "shipment__carrier", "shipment__service", "shipment__order__shipping_address", "package__package_type"
    ).get(pk=label_id)


def label_issue(label_id: int, *, attempt: int = 1) -> IssueOutcome:
    """Makes one requested label with the carrier (outside any transaction), then records it.
    A label voided or made by another worker meanwhile keeps its state: the result is thrown
    away, so a package never has two live labels. Errors are recorded on the label: a refusal
    fails it at once; an unreachable carrier leaves it requested for the next attempt."""
    label = _load(label_id)
    if label.status != LabelStatus.REQUESTED:
        return IssueOutcome(label_id, "skipped")
    try:
        sender = warehouse_address(label.shipment.order)
        _reserve_number(label_id, sender)
        label.refresh_from_db(fields=["tracking_number", "status"])
        if label.status != LabelStatus.REQUESTED:
            return IssueOutcome(label_id, "skipped")
        adapter = adapter_for(label.shipment.carrier)
        result = adapter.create_label(_request_of(label, sender))
    except CarrierRejected as exc:
        _label_failed(label_id, str(exc), attempt)
        return IssueOutcome(label_id, "failed", str(exc))
    except CarrierUnavailable as exc:
        Label.objects.filter(pk=label_id, status=LabelStatus.REQUESTED).update(attempts=attempt, last_error=str(exc))
        return IssueOutcome(label_id, "retry", str(exc))
    with transaction.atomic():
        shipment = lock_shipment(label.shipment_id)
        label = lock_label(label_id)
        if label.status != LabelStatus.REQUESTED:
            kept = label.status
        else:
            kept = ""
            label.status = LabelStatus.LIVE
            label.tracking_number = result.tracking_number
            label.carrier_reference = result.carrier_reference
            label.pdf = result.pdf
            label.zpl = result.zpl
            label.issued_at = timezone.now()
            label.attempts = attempt
            label.last_error = ""
            label.save()
            shipment_record(
                shipment,
                Actor.system(SYSTEM),
                "label_created",
                f"Package {label.package.sequence}: {result.tracking_number}",
                data={"label": label.pk, "tracking_number": result.tracking_number},
            )
            _labelled_if_complete(shipment)
    if kept:
        # Voided (or otherwise settled) while the carrier worked: cancel the carrier's copy.
        if result.tracking_number != (label.tracking_number or ""):
            _void_quietly(label.shipment.carrier, result.tracking_number, result.carrier_reference)
        return IssueOutcome(label_id, "skipped")
    return IssueOutcome(label_id, "live")


def _void_quietly(carrier: Carrier, tracking_number: str, reference: str) -> None:
    try:
        adapter_for(carrier).void(tracking_number=tracking_number, carrier_reference=reference)
    except (CarrierRejected, CarrierUnavailable) as exc:
        logger.warning("Could not void unused label %s at %s: %s", tracking_number, carrier.code, exc)


def _labelled_if_complete(shipment: Shipment) -> None:
    """With the shipment locked: waiting for labels -> labelled once every closed package has
    a live label."""
    if shipment.status != ShipmentStatus.AWAITING_LABELS:
        return
    packages = {p.pk for p in closed_packages(shipment.order)}
    live = set(Label.objects.filter(shipment=shipment, status=LabelStatus.LIVE).values_list("package_id", flat=True))
    if packages and packages <= live:
        _shipment_set_status(shipment, ShipmentStatus.LABELLED, actor=Actor.system(SYSTEM))


def _label_failed(label_id: int, error: str, attempt: int) -> None:
    with transaction.atomic():
        label = lock_label(label_id, "shipment__order", "shipment__carrier", "package")
        if label.status != LabelStatus.REQUESTED:
            return
        label.status = LabelStatus.FAILED
        label.last_error = error
        label.attempts = attempt
        label.save(update_fields=["status", "last_error", "attempts"])
        failure = shipment_record(
            label.shipment,
            Actor.system(SYSTEM),
            "label_failed",
            f"Package {label.package.sequence}: {error}",
            data={"label": label.pk},
        )
        # Staff who act on label failures hear of it (notifications, from the outbox); a label
        # that fails again after a retry is a new failure, told again.
        outbox_emit(
            topic="label.failed",
            key=f"label.failed:{label.pk}:{failure.pk}",
            payload={
                "order": label.shipment.order.number,
                "label": label.pk,
                "failure": failure.pk,
                "package": label.package.sequence,
                "carrier": label.shipment.carrier.code,
                "error": error,
                "occurred_at": timezone.now().isoformat(),
            },
        )


# --- the task's handler ---------------------------------------------------------------------


def labels_create_for_order(payload: dict[str, Any], attempt: int) -> None:
    """Outbox handler: requests and makes the order's labels. Raises TryLater while a
    carrier is unreachable, GiveUp when the order cannot get labels at all."""
    number = payload["order"]
    try:
        ids = labels_request(actor=Actor.system(SYSTEM), order_number=number)
    except ApplicationError as exc:
        raise GiveUp(exc.message) from exc
    waiting = [o for o in (label_issue(pk, attempt=attempt) for pk in ids) if o.state == "retry"]
    if waiting:
        raise TryLater(f"{len(waiting)} label(s) of {number} not made yet: {waiting[0].error}")


def labels_fail_remaining(payload: dict[str, Any], error: str) -> None:
    """Outbox final failure: the order's labels still requested become failed, for staff to
    see and retry."""
    for pk in Label.objects.filter(shipment__order__number=payload["order"], status=LabelStatus.REQUESTED).values_list(
        "pk", flat=True
    ):
        _label_failed(pk, f"Gave up after retries: {error}", settings.OMS_LABEL_MAX_ATTEMPTS)


# --- staff actions --------------------------------------------------------------------------


def _lock_label(label_id: int) -> tuple[Shipment, Label]:
    shipment_id = Label.objects.filter(pk=label_id).values_list("shipment_id", flat=True).first()
    if shipment_id is None:
        raise NotFound(f"No label {label_id}.", code="label_not_found")
    shipment = lock_shipment(shipment_id)
    return shipment, lock_label(label_id, "package")


@transaction.atomic
def labels_retry(*, actor: Actor, order_number: str) -> list[int]:
    """Staff retry: the order's failed labels are requested again and label creation is
    queued now. Also queues it when labels are still waiting for an unreachable carrier (tried
    now instead of after the backoff), when a package was left without a label (voided without
    a new one), and when the order got no label at all (such as an unmapped shipping method
    since fixed). Returns the labels requested again (the failed ones).

    Raises NotFound, Conflict ``label_not_failed`` when there is nothing to retry.
    """
    order = Order.objects.filter(number=order_number).first()
    if order is None:
        raise NotFound(f"No order with number {order_number}.", code="order_not_found")
    shipment = Shipment.objects.filter(order=order).first()
    retried: list[int] = []
    waiting = False
    if shipment is not None:
        shipment = lock_shipment(shipment.pk)
        for label in lock_failed_labels(shipment):
            label.status = LabelStatus.REQUESTED
            label.attempts = 0
            label.save(update_fields=["status", "attempts"])
            retried.append(label.pk)
        waiting = not retried and (
            Label.objects.filter(shipment=shipment, status=LabelStatus.REQUESTED).exists()
            or (shipment.status == ShipmentStatus.AWAITING_LABELS and _packages_without_label(shipment))
        )
        if retried:
            shipment_record(shipment, actor, "labels_retried", f"{len(retried)} label(s)", data={"labels": retried})
        elif waiting:
            shipment_record(shipment, actor, "labels_retried", "label creation queued again")
    missing_shipment = shipment is None and order.status == "packed"
    if not retried and not waiting and not missing_shipment:
        raise Conflict(f"Order {order_number} has no failed label to retry.", code=ShippingErrorCode.LABEL_NOT_FAILED)
    labels_enqueue(order_number=order_number, reason="retry")
    return retried


def _packages_without_label(shipment: Shipment) -> bool:
    current = set(
        Label.objects.filter(shipment=shipment, status__in=CURRENT_LABEL_STATES).values_list("package_id", flat=True)
    )
    return any(package.pk not in current for package in closed_packages(shipment.order))


def label_void(*, actor: Actor, label_id: int, reason: str, regenerate: bool = False) -> Label:
    """Voids a live or failed label (kept as history) and, with ``regenerate``, requests a new
    one for its package and queues it. The carrier is told first, outside the transaction.

    Raises NotFound, InvalidInput (no reason), Conflict ``label_not_live`` (already voided,
    still being made, or the parcel is already handed over), CarrierUnavailable as Conflict
    ``carrier_unavailable``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the label is voided.", fields={"reason": ["This field is required."]})
    label = Label.objects.select_related("shipment__carrier").filter(pk=label_id).first()
    if label is None:
        raise NotFound(f"No label {label_id}.", code="label_not_found")
    _require_voidable(label)
    if label.status == LabelStatus.LIVE and label.tracking_number:
        try:
            adapter_for(label.shipment.carrier).void(
                tracking_number=label.tracking_number, carrier_reference=label.carrier_reference
            )
        except CarrierUnavailable as exc:
            raise Conflict(
                f"The carrier did not answer ({exc}); the label stays live. Try again in a minute.",
                code="carrier_unavailable",
            ) from exc
        except CarrierRejected as exc:
            raise Conflict(f"The carrier refused to void the label: {exc}", code="carrier_refused") from exc
    with transaction.atomic():
        shipment, label = _lock_label(label_id)
        _require_voidable(label)
        label.status = LabelStatus.VOIDED
        label.voided_at = timezone.now()
        label.voided_by = actor.label
        label.void_reason = reason[:255]
        label.save(update_fields=["status", "voided_at", "voided_by", "void_reason"])
        shipment_record(
            shipment,
            actor,
            "label_voided",
            f"Package {label.package.sequence}: {label.tracking_number or 'no number'} ({reason})"[:255],
            data={"label": label.pk},
        )
        if shipment.status == ShipmentStatus.LABELLED:
            _shipment_set_status(shipment, ShipmentStatus.AWAITING_LABELS, actor=actor, note="label voided")
        if regenerate:
            new = Label.objects.create(shipment=shipment, package=label.package, format=label.format)
            shipment_record(
                shipment, actor, "label_requested", f"Package {label.package.sequence}", data={"label": new.pk}
            )
            labels_enqueue(order_number=shipment.order.number, reason="regenerate")
    return label


def _require_voidable(label: Label) -> None:
    if label.status not in (LabelStatus.LIVE, LabelStatus.FAILED):
        raise Conflict(
            f"Label {label.tracking_number or label.pk} is {label.get_status_display().lower()}; "
            "only a live or failed label can be voided.",
            code=ShippingErrorCode.LABEL_NOT_LIVE,
        )
    if label.scanned_out_at is not None:
        raise Conflict(
            f"Parcel {label.tracking_number} is already handed over to the carrier; it cannot be voided here.",
            code=ShippingErrorCode.LABEL_NOT_LIVE,
        )


# --- printing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelDocument:
    content: bytes
    content_type: str
    filename: str
    label_ids: list[int]


def labels_print(*, actor: Actor, label_ids: list[int], fmt: str = "") -> LabelDocument:
    """One document with the given live labels, in the given order: a PDF with one 4 x 6 page
    per label, or ZPL for a thermal printer (``fmt`` empty: the labels' own format, PDF when
    they differ). Counts the print on each label.

    Raises InvalidInput (no labels named), Conflict ``label_not_live`` naming labels that are
    not live, Conflict ``label_format_unavailable`` naming labels that exist only in the
    other format (nothing is counted as printed then).
    """
    if not label_ids:
        raise InvalidInput("Choose at least one label to print.", fields={"labels": ["Choose at least one label."]})
    labels = {label.pk: label for label in Label.objects.filter(pk__in=label_ids)}
    not_live = [str(pk) for pk in label_ids if pk not in labels or labels[pk].status != LabelStatus.LIVE]
    if not_live:
        raise Conflict(
            f"Only live labels print; these are not: {', '.join(not_live)}.",
            code=ShippingErrorCode.LABEL_NOT_LIVE,
            extra={"labels": not_live},
        )
    ordered = [labels[pk] for pk in dict.fromkeys(label_ids)]
    has: dict[str, Callable[[Label], bool]] = {
        LabelFormat.PDF: lambda label: bool(label.pdf),
        LabelFormat.ZPL: lambda label: bool(label.zpl),
    }
    if not fmt:
        formats = {label.format for label in ordered}
        fmt = formats.pop() if len(formats) == 1 else LabelFormat.PDF
        if not all(has[fmt](label) for label in ordered):  # a carrier that made only the other one
            other = LabelFormat.ZPL if fmt == LabelFormat.PDF else LabelFormat.PDF
            fmt = other if all(has[other](label) for label in ordered) else fmt
    missing = [label.tracking_number or str(label.pk) for label in ordered if not has[fmt](label)]
    if missing:
        raise Conflict(
            f"These labels have no {fmt.upper()} copy (their carrier made the other format): "
            f"{', '.join(missing)}. Print them on their own in the other format.",
            code="label_format_unavailable",
            extra={"labels": missing, "format": fmt},
        )
    if fmt == LabelFormat.ZPL:
        content = "".join(label.zpl for label in ordered).encode()
        document = LabelDocument(content, "application/zpl", "labels.zpl", [label.pk for label in ordered])
    else:
        document = LabelDocument(
            _merge_pdfs([bytes(label.pdf) for label in ordered if label.pdf]),
            "application/pdf",
            "labels.pdf",
            [label.pk for label in ordered],
        )
    Label.objects.filter(pk__in=document.label_ids).update(
        print_count=F("print_count") + 1, last_printed_at=timezone.now()
    )
    return document


def _merge_pdfs(documents: list[bytes]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for document in documents:
        for page in PdfReader(io.BytesIO(document)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def live_labels_of_orders(order_numbers: list[str]) -> tuple[list[int], list[str]]:
    """The live labels of the orders, order by order and package by package, and the orders
    that have none."""
    rows = list(
        Label.objects.filter(shipment__order__number__in=order_numbers, status=LabelStatus.LIVE)
        .order_by("shipment__order__number", "package__sequence")
        .values_list("pk", "shipment__order__number")
    )
    found = {number for _pk, number in rows}
    by_order: dict[str, list[int]] = {}
    for pk, number in rows:
        by_order.setdefault(number, []).append(pk)
    ordered = [pk for number in dict.fromkeys(order_numbers) for pk in by_order.get(number, [])]
    return ordered, [n for n in dict.fromkeys(order_numbers) if n not in found]


def labels_print_orders(*, actor: Actor, order_numbers: list[str], fmt: str = "") -> tuple[LabelDocument, list[str]]:
    """Bulk print: one document with the live labels of the orders, in the order given and
    package by package (see ``labels_print``, which counts the print), and the orders that have
    no live label (not labelled yet, failed, voided, or no such order).

    Raises InvalidInput (no orders named), Conflict ``no_labels`` when none of the orders has a
    live label (nothing is counted).
    """
    numbers = list(dict.fromkeys(n.strip() for n in order_numbers if n and n.strip()))
    if not numbers:
        raise InvalidInput("Choose at least one order to print.", fields={"orders": ["Choose at least one order."]})
    label_ids, without = live_labels_of_orders(numbers)
    if not label_ids:
        raise Conflict(
            f"Nothing to print: no live label for {', '.join(without)} (labels still being made, failed or voided).",
            code=ShippingErrorCode.NO_LABELS,
            extra={"orders_without_labels": without},
        )
    return labels_print(actor=actor, label_ids=label_ids, fmt=fmt), without
