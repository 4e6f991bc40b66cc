"""Bulk actions on the orders ticked on a queue page, done while the person waits: cancel
with a reason, put them on pick lists, print their labels or packing slips.

Every order is processed on its own, in its own transaction: one order that cannot be
cancelled (already shipped) or picked (short of stock) is named with the reason and the
others go ahead. The result says which orders were done and, for each one that was not, the
sentence the owning service gave. Larger print runs go to a background job
(``dashboard.services.jobs``); the caller decides by ``SYNC_PRINT_LIMIT``.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from dashboard.enums import DashboardErrorCode
from fulfillment.documents import packing_slip_pdf
from fulfillment.services.picking import pick_list_create
from inventory.models import Allocation, Warehouse
from oms.common.actors import Actor
from oms.common.errors import ApplicationError, Conflict, InvalidInput
from orders.models import Order
from orders.services import order_cancel
from shipping.enums import ShippingErrorCode
from shipping.services.labels import LabelDocument, labels_print_orders

MAX_SELECTED = 500  # order numbers in one request: a long morning's queue, still one page load
SYNC_PRINT_LIMIT = 50  # more labels or slips than this are printed by a background job
NO_LIVE_LABEL = "No label to print: not labelled yet, label failed or voided, or not packed yet."


@dataclass
class BulkResult:
    """Which orders a bulk action was done for, and each one it could not do with why."""

    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    made: list[str] = field(default_factory=list)  # what it created, such as pick list numbers

    def as_dict(self) -> dict[str, Any]:
        return {"done": self.done, "failed": [list(f) for f in self.failed], "made": self.made}


def selected_numbers(numbers: list[str], *, limit: int = MAX_SELECTED) -> list[str]:
    """The ticked order numbers, blanks and repeats dropped, in the order given.

    Raises InvalidInput ``nothing_selected`` when none is left, ``too_many_selected`` past
    ``limit``."""
    clean = list(dict.fromkeys(n.strip() for n in numbers if n and n.strip()))
    if not clean:
        raise InvalidInput(
            "Tick at least one order first.",
            fields={"orders": ["Choose at least one order."]},
            code=DashboardErrorCode.NOTHING_SELECTED,
        )
    if len(clean) > limit:
        raise InvalidInput(
            f"{len(clean)} orders are selected; do at most {limit} at once.",
            fields={"orders": [f"At most {limit} orders."]},
            code=DashboardErrorCode.TOO_MANY_SELECTED,
        )
    return clean


def bulk_cancel(*, actor: Actor, numbers: list[str], reason: str) -> BulkResult:
    """Cancels each order with ``reason`` (``orders.services.order_cancel``: its stock is
    released, the customer told), each in its own transaction.

    Raises InvalidInput before touching any order when nothing is selected, too much is, or
    the reason is blank."""
    numbers = selected_numbers(numbers)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(
            "Say why the orders are cancelled; the reason goes on each order's timeline.",
            fields={"reason": ["Give a reason."]},
        )
    result = BulkResult()
    for number in numbers:
        try:
            with transaction.atomic():
                order_cancel(actor=actor, number=number, reason=reason)
        except ApplicationError as exc:
            result.failed.append((number, exc.message))
        else:
            result.done.append(number)
    return result


def bulk_pick_list(*, actor: Actor, picker: User, numbers: list[str]) -> BulkResult:
    """Puts the orders on new pick lists assigned to ``picker``: one list per warehouse the
    orders are held in, at most ``OMS_PICK_BATCH_SIZE`` orders a list (what a picker's trolley
    takes). ``made`` names the lists. An order that cannot be picked now (not paid, short of
    stock, on another list, held in two warehouses) is left out with the reason.

    Raises InvalidInput when nothing or too much is selected."""
    numbers = selected_numbers(numbers)
    result = BulkResult()
    known = set(Order.objects.filter(number__in=numbers).values_list("number", flat=True))
    held: dict[str, set[int]] = defaultdict(set)
    for number, warehouse_id in Allocation.objects.filter(reservation__order_number__in=numbers).values_list(
        "reservation__order_number", "stock__location__warehouse_id"
    ):
        held[number].add(warehouse_id)
    codes = dict(Warehouse.objects.filter(pk__in={w for ws in held.values() for w in ws}).values_list("pk", "code"))
    groups: dict[int | None, list[str]] = defaultdict(list)
    for number in numbers:
        if number not in known:
            result.failed.append((number, f"There is no order {number}."))
        elif len(held[number]) > 1:
            where = " and ".join(sorted(codes[w] for w in held[number]))
            result.failed.append(
                (number, f"Its stock is held in {where}: move the stock or split the order, then pick it.")
            )
        else:
            # Orders holding nothing in a bin go alone: pick_list_create says why (short of
            # stock, not paid) without holding back the others.
            groups[next(iter(held[number])) if held[number] else None].append(number)
    size = settings.OMS_PICK_BATCH_SIZE
    for held_in, group in groups.items():
        chunks = [[n] for n in group] if held_in is None else [group[i : i + size] for i in range(0, len(group), size)]
        for chunk in chunks:
            _pick_chunk(actor, picker, chunk, result)
    return result


def _pick_chunk(actor: Actor, picker: User, numbers: list[str], result: BulkResult) -> None:
    """One pick list of ``numbers``; orders the service refuses by name are dropped with its
    reason and the list is made of the rest (``pick_list_create`` is all or nothing)."""
    while numbers:
        try:
            pick_list = pick_list_create(actor=actor, picker=picker, order_numbers=numbers)
        except Conflict as exc:
            refused = _refused_orders(exc, numbers)
            if not refused:
                result.failed += [(n, exc.message) for n in numbers]
                return
            result.failed += [(n, refused[n]) for n in numbers if n in refused]
            numbers = [n for n in numbers if n not in refused]
        except ApplicationError as exc:
            result.failed += [(n, exc.message) for n in numbers]
            return
        else:
            result.made.append(pick_list.number)
            result.done += numbers
            return


def _refused_orders(exc: Conflict, numbers: list[str]) -> dict[str, str]:
    """The orders a pick-list refusal names, each with its own reason when it gives one."""
    named = exc.extra.get("orders") or []
    refused: dict[str, str] = {}
    for item in named:
        if isinstance(item, dict) and item.get("number") in numbers:
            reason = str(item.get("reason") or exc.message)
            refused[item["number"]] = reason[:1].upper() + reason[1:] + "."
        elif isinstance(item, str) and item in numbers:
            refused[item] = exc.message
    return refused


def bulk_print_labels(*, actor: Actor, numbers: list[str], fmt: str = "") -> tuple[LabelDocument | None, BulkResult]:
    """One file with the live labels of the orders (``labels_print_orders``: counts the
    print), and the orders left out because they have no live label. No file when none has.

    Raises InvalidInput when nothing is selected or more than ``SYNC_PRINT_LIMIT``."""
    numbers = selected_numbers(numbers, limit=SYNC_PRINT_LIMIT)
    result = BulkResult()
    try:
        document, without = labels_print_orders(actor=actor, order_numbers=numbers, fmt=fmt)
    except ApplicationError as exc:
        reason = NO_LIVE_LABEL if exc.code == ShippingErrorCode.NO_LABELS else exc.message
        result.failed = [(n, reason) for n in numbers]
        return None, result
    left_out = set(without)
    result.done = [n for n in numbers if n not in left_out]
    result.failed = [(n, NO_LIVE_LABEL) for n in numbers if n in left_out]
    return document, result


def bulk_packing_slips(*, numbers: list[str]) -> tuple[bytes | None, BulkResult]:
    """One PDF with the packing slip of each order, in the order given. No file when no
    order could be printed.

    Raises InvalidInput when nothing is selected or more than ``SYNC_PRINT_LIMIT``."""
    from pypdf import PdfReader, PdfWriter

    numbers = selected_numbers(numbers, limit=SYNC_PRINT_LIMIT)
    result = BulkResult()
    writer = PdfWriter()
    for number in numbers:
        try:
            slip = packing_slip_pdf(number)
        except ApplicationError as exc:
            result.failed.append((number, exc.message))
            continue
        for page in PdfReader(io.BytesIO(slip)).pages:
            writer.add_page(page)
        result.done.append(number)
    if not result.done:
        return None, result
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), result
