"""The carrier's side: labels that failed, delivery problems the carrier reported, shipments
without tracking news."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from dashboard.enums import IncidentKind
from dashboard.models import Incident
from dashboard.services.incidents.watches.base import (
    LOOKBACK_DAYS,
    TRACKING_PROBLEMS,
    Cause,
    detail_ids,
    local_moment,
    sentence,
)
from shipping.enums import LabelStatus, ShipmentStatus, TrackingStatus
from shipping.models import Label, Shipment, ShipmentEvent, TrackingEvent

# --- label failures -------------------------------------------------------------------------


def find_label_failures(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    labels = list(
        Label.objects.filter(status=LabelStatus.FAILED)
        .order_by("pk")
        .values(
            "pk",
            "shipment_id",
            "shipment__order_id",
            "shipment__order__number",
            "shipment__carrier__code",
            "package__sequence",
            "attempts",
            "last_error",
        )
    )
    if not labels:
        return []
    # Each failure is recorded as a shipment event; a label that fails again after a retry has
    # a newer one, and so a new key.
    failures: dict[int, Mapping[str, Any]] = {}
    for event in (
        ShipmentEvent.objects.filter(kind="label_failed", shipment_id__in={row["shipment_id"] for row in labels})
        .order_by("pk")
        .values("pk", "data", "created_at")
    ):
        label_id = event["data"].get("label") if isinstance(event["data"], dict) else None
        if label_id is not None:
            failures[int(label_id)] = event  # ordered by pk: the latest wins
    causes = []
    for row in labels:
        failure = failures.get(row["pk"])
        error = row["last_error"] or "no reason given"
        causes.append(
            Cause(
                key=(
                    f"label_failed:{row['pk']}:{failure['pk']}"
                    if failure
                    else f"label_failed:{row['pk']}:attempt{row['attempts']}"
                ),
                kind=IncidentKind.LABEL_FAILED,
                order_id=row["shipment__order_id"],
                summary=sentence(
                    f"{row['shipment__carrier__code']} refused the label of package {row['package__sequence']}: "
                    f"{error}. Fix what it says, then retry."
                ),
                detail={
                    "order": row["shipment__order__number"],
                    "label": row["pk"],
                    "failure": failure["pk"] if failure else None,
                    "shipment": row["shipment_id"],
                    "package": row["package__sequence"],
                    "carrier": row["shipment__carrier__code"],
                    "attempts": row["attempts"],
                    "error": row["last_error"],
                },
                raised_at=failure["created_at"] if failure else now,
            )
        )
    return causes


def explain_label_failures(incidents: list[Incident]) -> dict[int, str]:
    status = dict(Label.objects.filter(pk__in=detail_ids(incidents, "label")).values_list("pk", "status"))
    reasons: dict[str | None, str] = {
        LabelStatus.LIVE: "Cleared: the label was made on a retry.",
        LabelStatus.REQUESTED: "Cleared: the label is being made again.",
        LabelStatus.VOIDED: "Cleared: the label was voided.",
        LabelStatus.FAILED: "Cleared: it failed again; a new incident shows the latest error.",
    }
    return {i.pk: reasons.get(status.get(i.detail.get("label")), "Cleared: the label is gone.") for i in incidents}


# --- tracking exceptions --------------------------------------------------------------------


def find_tracking_exceptions(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    shipments = list(
        Shipment.objects.filter(
            Q(status__in=[ShipmentStatus.LABELLED, ShipmentStatus.HANDED_OVER], tracking_status__in=TRACKING_PROBLEMS)
            | Q(
                status=ShipmentStatus.RETURNED,
                tracking_status=TrackingStatus.RETURNED_TO_SENDER,
                last_event_at__gte=now - timedelta(days=LOOKBACK_DAYS),
            )
            | Q(pk__in=detail_ids(open_incidents, "shipment"), tracking_status__in=TRACKING_PROBLEMS)
        )
        .order_by("pk")
        .values("pk", "order_id", "order__number", "carrier__code", "tracking_status", "last_event_at")
    )
    if not shipments:
        return []
    events: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for event in (
        TrackingEvent.objects.filter(
            label__shipment_id__in=[s["pk"] for s in shipments], label__status=LabelStatus.LIVE
        )
        .order_by("occurred_at", "pk")
        .values("label__shipment_id", "label__tracking_number", "status", "description", "location", "occurred_at")
    ):
        events[event["label__shipment_id"]].append(event)
    causes = []
    for shipment in shipments:
        status = shipment["tracking_status"]
        # The problem began with the first event of the latest unbroken run of this status:
        # more "delayed" news is the same problem; "delayed" after "in transit" is a new one.
        run = []
        for event in reversed(events[shipment["pk"]]):
            if event["status"] != status:
                break
            run.append(event)
        began = run[-1]["occurred_at"] if run else (shipment["last_event_at"] or now)
        latest = run[0] if run else None
        said = ""
        if latest is not None:
            said = ", ".join(p for p in (latest["description"], latest["location"]) if p)
        label = TrackingStatus(status).label
        causes.append(
            Cause(
                key=f"tracking_exception:{shipment['pk']}:{status}:{began.isoformat()}",
                kind=IncidentKind.TRACKING_EXCEPTION,
                order_id=shipment["order_id"],
                summary=sentence(
                    f"{label}, says {shipment['carrier__code']}"
                    + (f": {said}" if said else "")
                    + ". Contact the customer or the carrier."
                ),
                detail={
                    "order": shipment["order__number"],
                    "shipment": shipment["pk"],
                    "carrier": shipment["carrier__code"],
                    "tracking_status": status,
                    "tracking_number": latest["label__tracking_number"] if latest else "",
                    "description": latest["description"] if latest else "",
                    "location": latest["location"] if latest else "",
                },
                raised_at=began,
            )
        )
    return causes


def explain_tracking_exceptions(incidents: list[Incident]) -> dict[int, str]:
    now_says = dict(
        Shipment.objects.filter(pk__in=detail_ids(incidents, "shipment")).values_list("pk", "tracking_status")
    )
    why = {}
    for incident in incidents:
        status = now_says.get(incident.detail.get("shipment"))
        if status and status != incident.detail.get("tracking_status"):
            why[incident.pk] = f"Cleared: tracking now says {TrackingStatus(status).label.lower()}."
        elif status:
            why[incident.pk] = "Cleared: the parcel moved on since; a new incident shows the latest problem."
        else:
            why[incident.pk] = "Cleared: the shipment has no tracking problem any more."
    return why


# --- stale shipments ------------------------------------------------------------------------


def find_stale_shipments(now: datetime, open_incidents: list[Incident]) -> list[Cause]:
    rows = (
        Shipment.objects.filter(status=ShipmentStatus.HANDED_OVER, stale_since__isnull=False)
        .order_by("pk")
        .values("pk", "order_id", "order__number", "carrier__code", "stale_since", "last_event_at", "handed_over_at")
    )
    causes = []
    for row in rows:
        stale_since: datetime = row["stale_since"]  # type: ignore[assignment]  # filtered on not null
        quiet_since = row["last_event_at"] or row["handed_over_at"] or stale_since
        causes.append(
            Cause(
                key=f"stale_shipment:{row['pk']}:{stale_since.isoformat()}",
                kind=IncidentKind.STALE_SHIPMENT,
                order_id=row["order_id"],
                summary=sentence(
                    f"No tracking news from {row['carrier__code']} since {local_moment(quiet_since)}. "
                    "Ask the carrier where the parcel is."
                ),
                detail={
                    "order": row["order__number"],
                    "shipment": row["pk"],
                    "carrier": row["carrier__code"],
                    "quiet_since": quiet_since.isoformat(),
                },
                raised_at=stale_since,
            )
        )
    return causes


def explain_stale_shipments(incidents: list[Incident]) -> dict[int, str]:
    rows = {
        row["pk"]: row
        for row in Shipment.objects.filter(pk__in=detail_ids(incidents, "shipment")).values(
            "pk", "status", "stale_since", "tracking_status"
        )
    }
    why = {}
    for incident in incidents:
        row = rows.get(incident.detail.get("shipment"))
        if row is None:
            why[incident.pk] = "Cleared: the shipment is gone."
        elif row["stale_since"] is None:
            news = TrackingStatus(row["tracking_status"]).label.lower() if row["tracking_status"] else "news"
            why[incident.pk] = f"Cleared: tracking resumed ({news})."
        elif row["status"] != ShipmentStatus.HANDED_OVER:
            why[incident.pk] = f"Cleared: the shipment is {ShipmentStatus(row['status']).label.lower()}."
        else:
            why[incident.pk] = "Cleared: flagged again; a new incident counts from the new flag."
    return why
