"""Carriers' tracking webhooks: ``POST /api/v1/carriers/{code}/tracking-events/``.

No API key: a call is authenticated by the HMAC-SHA256 signature of its exact body with the
carrier's webhook secret (docs/tracking-webhooks.md). The view hands the raw body to the
service untouched, since parsing and re-serialising it would change the bytes signed.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiRequest, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.common.api_errors import ErrorSerializer
from oms.common.throttling import PerAddressScopedThrottle
from shipping.enums import TrackingStatus
from shipping.serializers_tracking import TrackingReceiptOutput
from shipping.services.tracking import EASYPOST_SIGNATURE_HEADER, SIGNATURE_HEADER, tracking_receive


class TrackingWebhookThrottle(PerAddressScopedThrottle):
    """A carrier posts from a few addresses, in bursts after a sorting run: a generous limit
    that still stops a flood (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["tracking_webhook"]``
    overrides it)."""

    default_rate = "600/min"


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


OWN_EVENT = {
    "type": "object",
    "required": ["tracking_number", "status", "occurred_at"],
    "properties": {
        "tracking_number": {"type": "string", "example": "FL000000017PL"},
        "status": {"type": "string", "enum": TrackingStatus.values, "description": "The canonical vocabulary."},
        "occurred_at": {"type": "string", "format": "date-time", "description": "ISO 8601 with a time zone."},
        "event_id": {
            "type": "string",
            "description": "Your id of the event; the same id is stored once. Without it, status and time key it.",
        },
        "description": {"type": "string", "maxLength": 500},
        "location": {"type": "string", "maxLength": 200},
    },
}
OWN_PAYLOAD = {
    "type": "object",
    "title": "Our tracking payload",
    "required": ["events"],
    "properties": {"events": {"type": "array", "minItems": 1, "items": OWN_EVENT}},
}
EASYPOST_EVENT = {
    "type": "object",
    "title": "EasyPost tracker Event",
    "description": "EasyPost's webhook Event as EasyPost sends it; only the fields read here are listed.",
    "required": ["object", "result"],
    "properties": {
        "object": {"type": "string", "enum": ["Event"]},
        "id": {"type": "string"},
        "description": {"type": "string", "example": "tracker.updated"},
        "result": {
            "type": "object",
            "required": ["object", "tracking_code"],
            "properties": {
                "object": {"type": "string", "enum": ["Tracker"]},
                "tracking_code": {"type": "string"},
                "tracking_details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["status", "datetime"],
                        "properties": {
                            "status": {"type": "string"},
                            "status_detail": {"type": "string"},
                            "message": {"type": "string"},
                            "datetime": {"type": "string", "format": "date-time"},
                            "tracking_location": {"type": "object", "additionalProperties": True},
                        },
                    },
                },
            },
        },
    },
}

OWN_EXAMPLE = {
    "events": [
        {
            "tracking_number": "FL000000017PL",
            "status": "delivered",
            "occurred_at": "2026-03-04T14:05:00+01:00",
            "event_id": "scan-88412",
            "description": "Left with the neighbour at no. 5",
            "location": "Warsaw",
        }
    ]
}
EASYPOST_EXAMPLE = {
    "id": "evt_3f1c0b9e",
    "object": "Event",
    "description": "tracker.updated",
    "result": {
        "id": "trk_8a71",
        "object": "Tracker",
        "tracking_code": "1Z999AA10123456784",
        "status": "in_transit",
        "tracking_details": [
            {
                "object": "TrackingDetail",
                "status": "pre_transit",
                "status_detail": "label_created",
                "message": "Shipping label created",
                "datetime": "2026-03-02T09:12:00Z",
                "tracking_location": {"city": None, "state": None, "country": None, "zip": None},
            },
            {
                "object": "TrackingDetail",
                "status": "in_transit",
                "status_detail": "arrived_at_facility",
                "message": "Arrived at facility",
                "datetime": "2026-03-03T04:40:00Z",
                "tracking_location": {"city": "Poznań", "state": None, "country": "PL", "zip": "61-001"},
            },
        ],
    },
}


class CarrierTrackingEventsView(APIView):
    # Carriers hold no API key and no session: the signature authenticates the call, and
    # with no session there is no CSRF check (APIView is exempt from Django's).
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [TrackingWebhookThrottle]
    throttle_scope = "tracking_webhook"

    @extend_schema(
        operation_id="carriers_tracking_events_create",
        tags=["carriers"],
        summary="Receive a carrier's tracking events (webhook)",
        description=(
            "For carriers, not integrators. Takes our tracking payload or an EasyPost tracker Event, told apart "
            "by shape. Needs no API key: sign the exact body with HMAC-SHA256 and the carrier's webhook secret "
            f"and send `{SIGNATURE_HEADER}: sha256=<hex>`, or EasyPost's own `{EASYPOST_SIGNATURE_HEADER}: "
            "hmac-sha256-hex=<hex>`. Each event is stored once per parcel (a repeated event answers `duplicate`), "
            "raw and normalised to the canonical statuses; events may arrive in any order, and a parcel shows the "
            "one that happened last. A first carrier scan hands a labelled shipment over (the order becomes "
            "shipped), every parcel delivered makes the order executed, a parcel returned to sender makes it "
            "returned. Events for tracking numbers we do not know do not fail the call: each event has its own "
            "`result`. The events are recorded when the answer comes (200). At most 600 calls a minute per "
            "address; more answer 429. See docs/tracking-webhooks.md."
        ),
        parameters=[
            OpenApiParameter("code", str, OpenApiParameter.PATH, description="The carrier's code, such as FLEET."),
            OpenApiParameter(
                SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="`sha256=` and the hex HMAC-SHA256 of the body with the carrier's webhook secret.",
            ),
            OpenApiParameter(
                EASYPOST_SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="EasyPost's signature, `hmac-sha256-hex=<hex>` (the secret NFKD-normalised), instead.",
            ),
        ],
        request={
            "application/json": OpenApiRequest(
                {"oneOf": [OWN_PAYLOAD, EASYPOST_EVENT]},
                examples=[
                    OpenApiExample("Our payload", value=OWN_EXAMPLE),
                    OpenApiExample("An EasyPost tracker Event", value=EASYPOST_EXAMPLE),
                ],
            )
        },
        responses={
            200: OpenApiResponse(
                TrackingReceiptOutput,
                description="Recorded. `results` says for each event whether it was stored, already known "
                "(`duplicate`) or names a tracking number of no parcel of this carrier (`unknown_tracking_number`).",
                examples=[
                    OpenApiExample(
                        "One event stored",
                        value={
                            "carrier": "FLEET",
                            "source": "own",
                            "message": "1 event(s): 1 stored, 0 already known, 0 for tracking numbers of no parcel "
                            "of carrier FLEET.",
                            "stored": 1,
                            "duplicates": 0,
                            "unknown": 0,
                            "results": [
                                {
                                    "index": 0,
                                    "tracking_number": "FL000000017PL",
                                    "status": "delivered",
                                    "occurred_at": "2026-03-04T13:05:00Z",
                                    "result": "stored",
                                }
                            ],
                        },
                    )
                ],
            ),
            400: _err(
                "The body is not JSON or not one of the two shapes (`payload_invalid`); `fields.body` says what "
                "to fix. Nothing was recorded."
            ),
            401: _err(
                "The signature is missing or wrong, the carrier has no webhook secret, or there is no such "
                "carrier (`signature_invalid`; one answer for all, on purpose). Nothing was recorded."
            ),
            429: _err("Too many calls from this address (`throttled`); `Retry-After` says how many seconds to wait."),
        },
    )
    def post(self, request: Request, code: str) -> Response:
        receipt = tracking_receive(carrier_code=code, body=request.body, headers=request.headers)
        return Response(TrackingReceiptOutput(receipt).data)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if response.status_code == 401:
            # Name the scheme that works here, not the API keys of the rest of the API.
            response["WWW-Authenticate"] = f'HMAC-SHA256 header="{SIGNATURE_HEADER}"'
        return response
