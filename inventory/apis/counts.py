"""Cycle counts over the API: open a count, enter what is found (blind), submit, and let a
manager see the variance and approve it into adjustments."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from inventory.models import CountStatus, CycleCount, Location, Product
from inventory.services import counts as services
from oms.common.actors import Actor
from oms.common.api_errors import ErrorSerializer
from oms.common.errors import InvalidInput, NotFound
from oms.common.pagination import INVALID_CURSOR, DefaultCursorPagination
from oms.common.permissions import ActionPermission


def _err(text: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=text)


AUTH = {401: _err("No or invalid credentials."), 403: _err("The caller's role does not allow this.")}
NOT_FOUND = {404: _err("No count with this reference (`count_not_found`).")}
CONFLICT = {
    409: _err(
        "Not allowed in the count's status (`count_transition_not_allowed`), or, on submit, SKUs the system "
        "holds in the bins have no entry yet (`count_incomplete`, listed in `extra.missing`). Nothing changed."
    )
}
INVALID = {400: _err("Invalid input; `fields` names every bad field.")}


class CountCreateInput(serializers.Serializer):
    locations = serializers.ListField(
        child=serializers.CharField(max_length=32), allow_empty=False, max_length=500, help_text="Bin codes."
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CountEntryInput(serializers.Serializer):
    location = serializers.CharField(max_length=32)
    sku = serializers.CharField(max_length=64)
    counted = serializers.IntegerField(min_value=0, max_value=10_000_000, help_text="Units found in the bin.")


class CountOutput(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=CountStatus.choices)
    note = serializers.CharField()
    locations = serializers.SerializerMethodField(help_text="The bins to count, in walking order.")
    entries = serializers.SerializerMethodField(help_text="What was entered; blind: no expected quantities.")
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.CharField()

    def get_locations(self, count: CycleCount) -> list[str]:
        return [loc.code for loc in sorted(count.locations.all(), key=lambda loc: (loc.pick_sequence, loc.code))]

    def get_entries(self, count: CycleCount) -> list[dict[str, Any]]:
        return [
            {"location": e.location.code, "sku": e.product.sku, "counted": e.counted, "counted_by": e.counted_by}
            for e in count.entries.all()
        ]


class VarianceOutput(serializers.Serializer):
    location = serializers.CharField(source="location.code")
    sku = serializers.CharField(source="product.sku")
    expected = serializers.IntegerField(help_text="On hand when the entry was made.")
    counted = serializers.IntegerField()
    variance = serializers.IntegerField(help_text="counted - expected; approval adds it to on hand.")
    counted_by = serializers.CharField()


def _counts() -> QuerySet[CycleCount]:
    return CycleCount.objects.prefetch_related("locations", "entries__location", "entries__product")


def _count(reference: str) -> CycleCount:
    count = _counts().filter(reference=reference).first()
    if count is None:
        raise NotFound(f"No cycle count {reference}.", code="count_not_found")
    return count


def _locations(codes: list[str]) -> list[Location]:
    found = {loc.code: loc for loc in Location.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise InvalidInput(
            f"Unknown location(s): {', '.join(unknown)}.",
            fields={f"locations.{codes.index(c)}": [f"No location {c}."] for c in unknown},
        )
    return [found[c] for c in dict.fromkeys(codes)]


def _decision(name: str, service: Any, summary: str) -> Any:
    def view(self: CycleCountViewSet, request: Request, reference: str | None = None) -> Response:
        service(actor=Actor.for_request(request), reference=str(reference))
        return Response(CountOutput(_count(str(reference))).data)

    view.__name__ = name
    view = action(detail=True, methods=["post"], url_path=name)(view)
    return extend_schema(summary=summary, request=None, responses={200: CountOutput, **AUTH, **NOT_FOUND, **CONFLICT})(
        view
    )


@extend_schema_view(
    list=extend_schema(summary="List cycle counts", responses={200: CountOutput(many=True), **AUTH, **INVALID_CURSOR}),
    retrieve=extend_schema(
        summary="Get a cycle count",
        description="The bins to count and what was entered. Blind: expected quantities are never shown here.",
        responses={200: CountOutput, **AUTH, **NOT_FOUND},
    ),
)
class CycleCountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "reference"
    lookup_value_regex = r"[^/]+"
    serializer_class = CountOutput
    pagination_class = DefaultCursorPagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": "inventory.view_cyclecount",
        "retrieve": "inventory.view_cyclecount",
        "create": "inventory.add_cyclecount",
        "entries": "inventory.count_stock",
        "submit": "inventory.count_stock",
        "variances": "inventory.approve_count",
        "approve": "inventory.approve_count",
        "reject": "inventory.approve_count",
        "reopen": "inventory.approve_count",
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        queryset = _counts()
        wanted = self.request.query_params.get("status")
        return queryset.filter(status=wanted) if wanted else queryset

    def retrieve(self, request: Request, *args: Any, reference: str | None = None, **kwargs: Any) -> Response:
        return Response(CountOutput(_count(str(reference))).data)

    @extend_schema(
        summary="Open a cycle count", request=CountCreateInput, responses={201: CountOutput, **INVALID, **AUTH}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CountCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.count_create(
            actor=Actor.for_request(request),
            locations=_locations(data.validated_data["locations"]),
            note=data.validated_data["note"],
        )
        return Response(CountOutput(_count(count.reference)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Enter what a bin holds",
        description="Blind entry: the answer does not say what the system expected. Entering the same bin and "
        "SKU again replaces the earlier entry.",
        request=CountEntryInput,
        responses={200: CountOutput, **INVALID, **AUTH, **NOT_FOUND, **CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def entries(self, request: Request, reference: str | None = None) -> Response:
        data = CountEntryInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        location = Location.objects.filter(code=v["location"]).first()
        product = Product.objects.filter(sku=v["sku"]).first()
        fields = {}
        if location is None:
            fields["location"] = [f"No location {v['location']}."]
        if product is None:
            fields["sku"] = [f"No product with SKU {v['sku']}."]
        if fields:
            raise InvalidInput("The entry names something that does not exist.", fields=fields)
        assert location is not None and product is not None
        services.count_enter(
            actor=Actor.for_request(request),
            reference=str(reference),
            location=location,
            product=product,
            counted=v["counted"],
        )
        return Response(CountOutput(_count(str(reference))).data)

    @extend_schema(
        summary="Variances for the manager",
        description="Expected (on hand when entered), counted, and the variance approval would apply.",
        responses={200: VarianceOutput(many=True), **AUTH, **NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def variances(self, request: Request, reference: str | None = None) -> Response:
        count = _count(str(reference))
        return Response(VarianceOutput(count.entries.all(), many=True).data)

    submit = _decision("submit", services.count_submit, "Submit the count to a manager")
    approve = _decision("approve", services.count_approve, "Approve: apply the variances as count adjustments")
    reject = _decision("reject", services.count_reject, "Reject: close without changing stock")
    reopen = _decision("reopen", services.count_reopen, "Send back for a recount")
