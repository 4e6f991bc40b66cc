"""Stock levels from CSV: ``POST /api/v1/stock/import/`` with a ``text/csv`` body."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.services.imports import ImportReport, StockImportRejected, stock_import_csv
from oms.common.actors import Actor
from oms.common.api_errors import ErrorSerializer
from oms.common.errors import InvalidInput
from oms.common.permissions import ActionPermission


class CsvParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(
                "The CSV is not UTF-8 text; save it as UTF-8 and send it again.",
                fields={"csv": ["Not UTF-8."]},
                code="invalid_csv",
            ) from None


class ImportRowOutput(serializers.Serializer):
    line = serializers.IntegerField()
    sku = serializers.CharField()
    location = serializers.CharField()
    on_hand = serializers.IntegerField(allow_null=True)
    current = serializers.IntegerField(allow_null=True, help_text="On hand now.")
    action = serializers.ChoiceField(choices=["set", "unchanged", "rejected"])
    reason = serializers.CharField(help_text="Why a row is rejected.")


class ImportReportOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField()
    summary = serializers.SerializerMethodField()
    rows = ImportRowOutput(many=True)

    def get_summary(self, report: ImportReport) -> dict[str, int]:
        return {
            "set": len(report.changes),
            "unchanged": sum(1 for r in report.rows if r.action == "unchanged"),
            "rejected": len(report.rejected),
        }


class StockImportView(APIView):
    parser_classes = [CsvParser]
    permission_classes = [ActionPermission]
    required_permissions = {"post": "inventory.adjust_stock"}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.action = (request.method or "").lower()  # ActionPermission looks the permission up by action
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Import stock levels from CSV",
        description="Body: `text/csv` with a header row `sku,location,on_hand` (one row per SKU and bin). Each "
        "row sets the absolute on hand, recorded as an adjustment with reason `import`. With `dry_run=true` "
        "nothing changes and the answer lists every row it would change and every row it rejects, and why. "
        "A real import with any rejected row changes nothing and answers 400 with the same report in "
        "`extra`.",
        parameters=[OpenApiParameter("dry_run", bool, description="Report only; change nothing.")],
        request={"text/csv": {"type": "string"}},
        responses={
            200: ImportReportOutput,
            400: OpenApiResponse(ErrorSerializer, description="Bad CSV or rejected rows (`import_rejected`)."),
            401: OpenApiResponse(ErrorSerializer, description="No or invalid credentials."),
            403: OpenApiResponse(ErrorSerializer, description="The caller's role does not allow this."),
        },
    )
    def post(self, request: Request) -> Response:
        dry_run = request.query_params.get("dry_run", "").lower() in {"1", "true", "yes"}
        text = request.data if isinstance(request.data, str) else ""
        try:
            report = stock_import_csv(actor=Actor.for_request(request), text=text, dry_run=dry_run)
        except StockImportRejected as exc:
            exc.extra = {"report": ImportReportOutput(exc.report).data}
            raise
        return Response(ImportReportOutput(report).data)
