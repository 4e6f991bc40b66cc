"""Reads of the returns pages: the queue (a fixed number of queries for a page of any size)
and one return with everything staff need to handle it, and the actions this user may take
on it now."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from inventory.models import Location
from oms.common.errors import NotFound
from orders.models import OrderLine, Payment
from returns import transitions
from returns.enums import InspectionOutcome, ReturnErrorCode, ReturnEventKind, ReturnReason, ReturnStatus
from returns.models import Return, ReturnEvent, ReturnInspection, ReturnLabel, ReturnLine
from returns.services import return_refund_due

VIEW_RETURN = "returns.view_return"
ADD_RETURN = "returns.add_return"
HANDLE_RETURN = "returns.handle_return"
RECEIVE_RETURN = "returns.receive_return"
LATE_RETURN = "returns.request_late_return"

# Who may take each action, as the returns API decides it (returns/apis.py): deciding and
# refunding is one permission, receiving and inspecting parcels another (the dock's work;
# returns/migrations/0005_receive_roles.py); cancelling is also open to whoever may ask for
# returns on a customer's behalf.
HANDLE = (HANDLE_RETURN,)
RECEIVE = (RECEIVE_RETURN,)
WITHDRAW = (HANDLE_RETURN, ADD_RETURN)

# The returns someone still has to act on, the queue's default.
NEEDS_WORK = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED, ReturnStatus.INSPECTED)

_REASONS = dict(ReturnReason.choices)
_STATUSES = dict(ReturnStatus.choices)
_OUTCOMES = dict(InspectionOutcome.choices)


# --- the queue ------------------------------------------------------------------------------


def return_queue(*, statuses: tuple[str, ...] | None, search: str = "") -> QuerySet[Return]:
    """Returns in ``statuses`` (every status when None), newest first, each with its order
    and lines (one query for the page, one for the lines of its returns). ``search`` matches
    an RMA number or an order number exactly, in any case."""
    returns = (
        Return.objects.select_related("order")
        .only("id", "number", "status", "created_at", "order__id", "order__number", "order__customer_name")
        .prefetch_related(Prefetch("lines", queryset=ReturnLine.objects.only("id", "ret_id", "quantity", "reason")))
        .order_by("-created_at", "-id")
    )
    if statuses is not None:
        returns = returns.filter(status__in=statuses)
    search = search.strip()
    if search:
        returns = returns.filter(Q(number__iexact=search) | Q(order__number__iexact=search))
    return returns


def return_status_counts() -> dict[str, int]:
    """Returns per status (one query), for the status filter."""
    rows = Return.objects.order_by().values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def reason_summary(lines: list[ReturnLine]) -> str:
    """The reasons of a return's lines, most units first: "Too small, Arrived damaged"."""
    units: Counter[str] = Counter()
    for line in lines:
        units[line.reason] += line.quantity
    return ", ".join(str(_REASONS.get(reason, reason)) for reason, _ in units.most_common())


# --- one return -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnAction:
    """One thing this user may do to the return now: the user needs any one of ``perms``.
    ``irreversible`` ones are confirmed first."""

    name: str
    label: str
    url_name: str
    perms: tuple[str, ...]
    irreversible: bool = False
    hint: str = ""


ACTIONS: dict[str, ReturnAction] = {
    action.name: action
    for action in (
        ReturnAction(
            "approve", "Approve", "dashboard:return-approve", HANDLE, hint="The customer is told how to send it"
        ),
        ReturnAction(
            "reject", "Reject", "dashboard:return-reject", HANDLE, irreversible=True, hint="The customer is told why"
        ),
        ReturnAction(
            "receive", "Record the parcel", "dashboard:return-receive", RECEIVE, hint="How many units came back"
        ),
        ReturnAction("inspect", "Inspect", "dashboard:return-inspect", RECEIVE, hint="Back to a bin, or scrapped"),
        ReturnAction(
            "refund", "Refund", "dashboard:return-refund", HANDLE, irreversible=True, hint="The customer is told"
        ),
        ReturnAction(
            "cancel",
            "Cancel the return",
            "dashboard:return-cancel",
            WITHDRAW,
            irreversible=True,
            hint="Nothing came back; the items can be asked for again",
        ),
    )
}

# The status each action moves a return to: an action is offered when the lifecycle table
# allows that move (inspecting records units one by one while the return is received).
_MOVES = {
    "approve": ReturnStatus.APPROVED,
    "reject": ReturnStatus.REJECTED,
    "receive": ReturnStatus.RECEIVED,
    "inspect": ReturnStatus.INSPECTED,
    "refund": ReturnStatus.REFUNDED,
    "cancel": ReturnStatus.CANCELLED,
}


def return_actions(user: Any, ret: Return) -> list[ReturnAction]:
    """What ``user`` may do to ``ret`` now: the move must be in the lifecycle table and the
    user must hold one of the action's permissions. The views check the permissions again and the
    services the status, so a stale page refuses cleanly."""
    return [
        action
        for name, action in ACTIONS.items()
        if transitions.can_move(ret.status, _MOVES[name]) and any(user.has_perm(perm) for perm in action.perms)
    ]


@dataclass(frozen=True)
class InspectionRow:
    """Units of one line inspected alike: same outcome, bin, note and inspector."""

    sku: str
    outcome: str
    location: str
    note: str
    who: str
    at: datetime
    units: int


@dataclass
class LineRow:
    line: ReturnLine
    order_line: OrderLine
    restocked: int
    scrapped: int

    @property
    def inspected(self) -> int:
        return self.restocked + self.scrapped

    @property
    def left_to_inspect(self) -> int:
        return self.line.quantity_received - self.inspected

    @property
    def reason_label(self) -> str:
        return str(_REASONS.get(self.line.reason, self.line.reason))


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    details: list[str]
    who: str


@dataclass
class ReturnPage:
    ret: Return
    lines: list[LineRow]
    inspections: list[InspectionRow]
    timeline: list[TimelineEntry]
    actions: list[ReturnAction]
    bins: list[Location]  # active bins to restock into; read only when inspecting is offered
    refund_due: Decimal | None  # read only when refunding is offered
    refund_method: str  # how the customer paid, the refund's usual way back

    @property
    def label(self) -> ReturnLabel | None:
        """The customer's return label, when the order's carrier takes them (read with the
        return; a reverse one-to-one without a row raises on access)."""
        return getattr(self.ret, "label", None)

    @property
    def action_names(self) -> set[str]:
        return {action.name for action in self.actions}

    @property
    def units(self) -> int:
        return sum(row.line.quantity for row in self.lines)


def _return(number: str) -> Return:
    ret = (
        Return.objects.select_related("order", "refund", "label__carrier")
        .defer("label__pdf")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ReturnLine.objects.select_related("order_line")
                .prefetch_related(Prefetch("inspections", queryset=ReturnInspection.objects.select_related("location")))
                .order_by("order_line__position", "id"),
            ),
            Prefetch("events", queryset=ReturnEvent.objects.order_by("created_at", "id")),
        )
        .filter(number=number)
        .first()
    )
    if ret is None:
        raise NotFound(
            f"There is no return {number}. Check the RMA number, or open the order and see its returns.",
            code=ReturnErrorCode.RETURN_NOT_FOUND,
        )
    return ret


def _inspection_rows(lines: list[ReturnLine]) -> list[InspectionRow]:
    grouped: dict[tuple[str, str, str, str, str], list[ReturnInspection]] = {}
    for line in lines:
        for inspection in line.inspections.all():
            key = (
                line.order_line.sku,
                inspection.outcome,
                inspection.location.code if inspection.location is not None else "",
                inspection.note,
                inspection.actor_label,
            )
            grouped.setdefault(key, []).append(inspection)
    rows = [
        InspectionRow(
            sku=sku,
            outcome=str(_OUTCOMES.get(outcome, outcome)),
            location=location,
            note=note,
            who=who,
            at=max(i.created_at for i in inspections),
            units=len(inspections),
        )
        for (sku, outcome, location, note, who), inspections in grouped.items()
    ]
    return sorted(rows, key=lambda row: row.at)


def _timeline_entry(event: ReturnEvent) -> TimelineEntry:
    data = event.data or {}
    details = []
    if event.kind == ReturnEventKind.UNIT_INSPECTED:
        outcome = _OUTCOMES.get(data.get("outcome", ""), data.get("outcome", ""))
        title = f"Inspected {data.get('quantity', '?')} x {data.get('sku', '?')}: {str(outcome).lower()}"
        if data.get("location"):
            title += f" into bin {data['location']}"
    else:
        before = _STATUSES.get(event.from_status, event.from_status) if event.from_status else "New"
        title = f"{before} → {_STATUSES.get(event.to_status, event.to_status)}"
        for line in data.get("lines", []):
            details.append(
                f"{line.get('quantity')} x {line.get('sku')}: {_REASONS.get(line.get('reason'), line.get('reason'))}"
            )
    if event.note:
        details.append(event.note)
    return TimelineEntry(at=event.created_at, title=title, details=details, who=event.actor_label)


def return_page(*, number: str, user: Any) -> ReturnPage:
    """Everything the return's page shows, in a fixed number of queries whatever the number
    of lines, units or events. Raises NotFound ``return_not_found``."""
    ret = _return(number)
    lines = list(ret.lines.all())
    rows = []
    for line in lines:
        outcomes = Counter(inspection.outcome for inspection in line.inspections.all())
        rows.append(
            LineRow(
                line=line,
                order_line=line.order_line,
                restocked=outcomes[InspectionOutcome.RESTOCK],
                scrapped=outcomes[InspectionOutcome.SCRAP],
            )
        )
    actions = return_actions(user, ret)
    names = {action.name for action in actions}
    refund_method = ""
    if "refund" in names:
        payment = Payment.objects.filter(order=ret.order).order_by("-received_at", "-id").only("method").first()
        refund_method = payment.method if payment is not None else ""
    return ReturnPage(
        ret=ret,
        lines=rows,
        inspections=_inspection_rows(lines),
        timeline=sorted((_timeline_entry(e) for e in ret.events.all()), key=lambda e: e.at, reverse=True),
        actions=actions,
        bins=active_bins() if "inspect" in names else [],
        refund_due=return_refund_due(ret) if "refund" in names else None,
        refund_method=refund_method,
    )


def active_bins() -> list[Location]:
    """The bins a returned unit can go back into, in walking order (one query)."""
    return list(Location.objects.filter(is_active=True).order_by("warehouse__code", "pick_sequence", "code"))


def order_returns(order_id: int) -> list[Return]:
    """The returns of one order, oldest first (one query), for the order page."""
    return list(
        Return.objects.filter(order_id=order_id)
        .only("id", "number", "status", "created_at", "order_id")
        .order_by("created_at", "id")
    )
