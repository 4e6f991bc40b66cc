"""Use cases of returns: asking and deciding (requests), receiving, inspecting and refunding
(handling)."""

from returns.services.common import ReturnTransitionNotAllowed, format_return_number
from returns.services.handling import (
    NothingLeftToInspect,
    RefundData,
    return_inspect,
    return_receive,
    return_refund,
    return_refund_due,
)
from returns.services.requests import (
    ReturnLineData,
    ReturnNotAllowed,
    ReturnWindowClosed,
    return_approve,
    return_cancel,
    return_reject,
    return_request,
    return_require_requestable,
    return_window_closes,
    returnable_quantities,
)

__all__ = [
    "NothingLeftToInspect",
    "RefundData",
    "ReturnLineData",
    "ReturnNotAllowed",
    "ReturnTransitionNotAllowed",
    "ReturnWindowClosed",
    "format_return_number",
    "return_approve",
    "return_cancel",
    "return_inspect",
    "return_receive",
    "return_refund",
    "return_refund_due",
    "return_reject",
    "return_request",
    "return_require_requestable",
    "return_window_closes",
    "returnable_quantities",
]
