"""The KPI page for managers and the CSV export of each of its tables, both read from the
same filter (date range in shop time, warehouse, carrier) in the query string."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from dashboard import charts
from dashboard.selectors.kpis import (
    MAX_RANGE_DAYS,
    KpiFilter,
    Kpis,
    kpi_default_range,
    kpi_figures,
)
from dashboard.views.common import staff_permission
from inventory.models import Warehouse
from shipping.models import Carrier

PERMISSION = "dashboard.view_kpis"


class KpiFilterForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (included)", widget=forms.DateInput(attrs={"type": "date"}))
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="All warehouses",
        label="Warehouse",
    )
    carrier = forms.ModelChoiceField(
        queryset=Carrier.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="All carriers",
        label="Carrier",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("The range ends before it starts: put the earlier day in “From”.")
            if (end - start).days + 1 > MAX_RANGE_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_RANGE_DAYS} days.")
        return data

    def kpi_filter(self) -> KpiFilter:
        data = self.cleaned_data
        return KpiFilter(start=data["start"], end=data["end"], warehouse=data["warehouse"], carrier=data["carrier"])


def _filter_form(request: HttpRequest) -> KpiFilterForm:
    """The form bound to the query string, the last 30 days filling in a missing date."""
    start, end = kpi_default_range()
    data = {
        "start": request.GET.get("start") or start.isoformat(),
        "end": request.GET.get("end") or end.isoformat(),
        "warehouse": request.GET.get("warehouse", ""),
        "carrier": request.GET.get("carrier", ""),
    }
    return KpiFilterForm(data)


@require_GET
@staff_permission(PERMISSION)
def kpis(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    context: dict[str, Any] = {"form": form, "tz_name": settings.TIME_ZONE}
    if form.is_valid():
        figures = kpi_figures(form.kpi_filter())
        query = _query(figures.filter)
        context |= {
            "k": figures,
            "orders_chart": charts.day_bar_chart(
                chart_id="chart-orders-per-day",
                title="Orders per day",
                points=[(d.day, d.orders) for d in figures.orders_per_day],
            ),
            "stages_chart": charts.duration_chart(
                chart_id="chart-stage-times",
                title="Time per stage: median and 90th percentile",
                spans=[charts.Span(s.label, s.median, s.p90) for s in figures.stages],
            ),
            "rating_average": f"{figures.rating_average:.1f}" if figures.rating_average is not None else "",
            "ratings": sorted(figures.ratings.items(), reverse=True),
            "stages": [
                {"stage": s, "median": charts.duration_text(s.median), "p90": charts.duration_text(s.p90)}
                for s in figures.stages
            ],
            # Keyed with underscores: templates cannot read a key with a hyphen.
            "csv": {name.replace("-", "_"): f"{reverse('dashboard:kpis-csv', args=[name])}?{query}" for name in TABLES},
        }
    return render(request, "dashboard/kpis/page.html", context, status=200 if form.is_valid() else 400)


def _query(f: KpiFilter) -> str:
    parts = [f"start={f.start.isoformat()}", f"end={f.end.isoformat()}"]
    if f.warehouse is not None:
        parts.append(f"warehouse={f.warehouse.code}")
    if f.carrier is not None:
        parts.append(f"carrier={f.carrier.code}")
    return "&".join(parts)


# --- CSV ------------------------------------------------------------------------------------


def _seconds(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds():g}"


def _fraction(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _orders_per_day(k: Kpis) -> Iterable[list[Any]]:
    yield ["day", "orders"]
    for d in k.orders_per_day:
        yield [d.day.isoformat(), d.orders]


def _stage_times(k: Kpis) -> Iterable[list[Any]]:
    yield ["stage", "orders", "median_seconds", "p90_seconds"]
    for s in k.stages:
        yield [s.key, s.orders, _seconds(s.median), _seconds(s.p90)]


def _shipping(k: Kpis) -> Iterable[list[Any]]:
    yield ["measure", "orders", "out_of", "rate"]
    yield ["shipped_on_time", k.on_time.part, k.on_time.whole, _fraction(k.on_time.value)]
    yield ["perfect_orders", k.perfect.part, k.perfect.whole, _fraction(k.perfect.value)]
    yield ["accuracy_errors", k.with_errors, k.shipped, _fraction(k.with_errors / k.shipped if k.shipped else None)]
    yield ["returned", k.returned.part, k.returned.whole, _fraction(k.returned.value)]


def _return_reasons(k: Kpis) -> Iterable[list[Any]]:
    yield ["reason", "orders"]
    for r in k.return_reasons:
        yield [r.reason, r.orders]


def _ratings(k: Kpis) -> Iterable[list[Any]]:
    yield ["rating", "orders"]
    for rating, orders in sorted(k.ratings.items(), reverse=True):
        yield [rating, orders]


def _accuracy_errors(k: Kpis) -> Iterable[list[Any]]:
    yield ["kind", "description", "events", "orders"]
    for e in k.error_kinds:
        yield [e.kind, e.label, e.events, e.orders]


# Every table on the page, by the name in its CSV's URL.
TABLES: dict[str, Callable[[Kpis], Iterable[list[Any]]]] = {
    "orders-per-day": _orders_per_day,
    "stage-times": _stage_times,
    "shipping": _shipping,
    "return-reasons": _return_reasons,
    "accuracy-errors": _accuracy_errors,
    "ratings": _ratings,
}


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
@staff_permission(PERMISSION)
def kpis_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One table as CSV (UTF-8, header row, plain numbers: seconds and fractions), for the
    same filter as the page. An invalid filter answers 400 with the reason."""
    rows_of = TABLES.get(table)
    if rows_of is None:
        raise Http404("No such KPI table.")
    form = _filter_form(request)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    f = form.kpi_filter()
    writer = csv.writer(_Echo())
    body = "".join(writer.writerow(row) for row in rows_of(kpi_figures(f)))
    response = HttpResponse(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    scope = "".join(f"-{o.code}" for o in (f.warehouse, f.carrier) if o is not None)
    filename = f"kpis-{table}-{f.start.isoformat()}-to-{f.end.isoformat()}{scope}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
