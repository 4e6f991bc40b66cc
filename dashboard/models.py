"""What the dashboard keeps of its own: the exception inbox (``Incident``: something wrong
with an order, who took it, how it ended), background bulk work (``BulkJob``: its
progress, the orders it could not process and why, the file it made) and the KPI rollup
(``KpiDay``: each day's figures, kept up to date by a periodic task). Everything else it
shows is read from the other apps."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dashboard.enums import IncidentKind, JobKind, JobState


class Incident(models.Model):
    """One problem in the exception inbox. ``key`` names its cause (``label_failed:<label>:
    <failure>``, ``late_order:<order>``...): the same cause is one incident, and a cause that
    comes back after it was resolved opens a new one under a new key."""

    key = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=30, choices=IncidentKind.choices)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="incidents")
    summary = models.CharField(max_length=255, help_text="What is wrong, in a sentence.")
    detail = models.JSONField(default=dict, blank=True, help_text="The figures behind it (ids, amounts, errors).")
    raised_at = models.DateTimeField(help_text="When the problem began (its age counts from here).")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(
        max_length=255, blank=True, help_text="How it ended: staff's note, or why it cleared by itself."
    )

    class Meta:
        ordering = ["raised_at", "id"]
        indexes = [
            models.Index(fields=["resolved_at", "kind", "raised_at"], name="incident_open_kind_age"),
            models.Index(fields=["owner", "resolved_at"], name="incident_owner_open"),
        ]
        permissions = [("work_incident", "Can take and resolve incidents")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.summary}"


class BulkJob(models.Model):
    """Work on many orders run by a worker (labels for 500 orders, a year's CSV): what was
    asked, how far it got, each order it could not process and why, and the file made."""

    kind = models.CharField(max_length=30, choices=JobKind.choices)
    params = models.JSONField(default=dict, help_text="What was asked: order numbers, a date range, a format.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="bulk_jobs"
    )
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text="Orders to process.")
    processed = models.PositiveIntegerField(default=0, help_text="Orders processed so far, failed ones included.")
    failures = models.JSONField(default=list, help_text="[{order, reason}] for each order it could not process.")
    result = models.FileField(upload_to="jobs/%Y/%m/", blank=True)
    result_name = models.CharField(max_length=200, blank=True, help_text="The file name offered on download.")
    error = models.TextField(blank=True, help_text="Why the whole job failed, if it did.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "created_at"], name="bulkjob_requester_created")]
        permissions = [("view_all_bulkjob", "Can see and download everyone's bulk jobs")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"


class KpiDay(models.Model):
    """The KPI figures of one shop day for one scope: all orders (``warehouse`` and
    ``carrier`` empty), one dispatch warehouse, one carrier, or both. An order counts in each
    scope it belongs to, so the page reads one row per day whatever its filter.

    ``placed`` counts the orders placed that day; every other figure the orders shipped that
    day. Derived data: ``dashboard.services.kpi_rollup`` rewrites a day's rows whenever one
    of its orders changes (ADR 0011).
    """

    day = models.DateField()
    # "<warehouse id or *>:<carrier id or *>": unique with the day, and what the page filters
    # on (a unique key over the two nullable columns would treat every empty one as distinct).
    scope = models.CharField(max_length=41)
    warehouse = models.ForeignKey("inventory.Warehouse", null=True, on_delete=models.CASCADE, related_name="+")
    carrier = models.ForeignKey("shipping.Carrier", null=True, on_delete=models.CASCADE, related_name="+")
    placed = models.PositiveIntegerField(default=0)
    shipped = models.PositiveIntegerField(default=0)
    with_ship_by = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    flawed = models.PositiveIntegerField(default=0, help_text="Shipped orders with an accuracy-ledger entry.")
    flawed_returned = models.PositiveIntegerField(default=0, help_text="Of those, the ones returned.")
    durations = models.JSONField(default=dict, help_text="{stage: histogram} (dashboard.histograms).")
    return_reasons = models.JSONField(default=dict, help_text="{reason: orders}.")
    accuracy_errors = models.JSONField(default=dict, help_text="{kind: [events, orders]}.")
    ratings = models.JSONField(default=dict, help_text="{rating 1-5: orders}: customers' ratings.")
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "day"], name="kpiday_scope_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.scope}"

    @staticmethod
    def scope_for(warehouse_id: int | None, carrier_id: int | None) -> str:
        return f"{warehouse_id or '*'}:{carrier_id or '*'}"


class KpiRollupState(models.Model):
    """One row: how far the KPI rollup has looked for changed orders."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    scanned_from = models.DateTimeField(
        null=True, help_text="Changes from this moment on are still to be looked at; empty: never built."
    )
    refreshed_at = models.DateTimeField(null=True, help_text="When the figures were last brought up to date.")

    def __str__(self) -> str:
        return f"KPI rollup as of {self.refreshed_at}"


class DashboardPermissions(models.Model):
    """No table: carries the permissions of dashboard pages that have no model of their own."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_kpis", "Can see the KPIs")]

    def __str__(self) -> str:
        return "dashboard permissions"
