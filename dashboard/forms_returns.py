"""Forms of the staff returns pages. Like dashboard/forms.py they check the shape of what was
typed; the returns services decide whether it can be done (how many units can still be
returned, whether a bin or a reason is needed) and say why not."""

from __future__ import annotations

from typing import Any

from django import forms

from dashboard.forms import _MoneyForm
from inventory.models import Location
from orders.models import OrderLine
from returns.enums import InspectionOutcome, ReturnReason, ReturnStatus
from returns.models import ReturnLine
from returns.services import ReturnLineData

STATUS_NEEDS_WORK = "open"
STATUS_ALL = "all"


class ReturnQueueFilter(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[(STATUS_NEEDS_WORK, "Needing work"), (STATUS_ALL, "Every status"), *ReturnStatus.choices],
    )
    q = forms.CharField(label="RMA or order number", required=False, max_length=32, strip=True)


# --- deciding -------------------------------------------------------------------------------


class ApproveForm(forms.Form):
    note = forms.CharField(label="Note for the timeline", max_length=255, required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Why is it rejected?",
        max_length=255,
        help_text="The customer is told this.",
        error_messages={"required": "Say why the return is rejected; the customer is told."},
    )


class CancelReturnForm(forms.Form):
    reason = forms.CharField(
        label="Why is it cancelled?",
        max_length=255,
        error_messages={"required": "Say why the return is cancelled, such as the customer keeping the item."},
    )


# --- the parcel -----------------------------------------------------------------------------


class ReceiveForm(forms.Form):
    """How many units of each line came back; each starts at what was asked for."""

    note = forms.CharField(label="Note for the timeline", max_length=255, required=False)

    def __init__(self, *args: Any, lines: list[ReturnLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.return_lines = lines
        fields: dict[str, forms.Field] = {}
        for line in lines:
            fields[f"qty_{line.pk}"] = forms.IntegerField(
                label=f"{line.order_line.name} ({line.order_line.sku}): units received",
                min_value=0,
                max_value=line.quantity,
                initial=line.quantity,
                help_text=f"{line.quantity} asked for.",
                error_messages={
                    "required": "Say how many came back (0 if none).",
                    "min_value": "It cannot be below 0.",
                    "max_value": f"At most {line.quantity} were asked back.",
                },
            )
        self.fields = {**fields, **self.fields}

    def received(self) -> dict[str, int]:
        return {line.order_line.sku: self.cleaned_data[f"qty_{line.pk}"] for line in self.return_lines}


class InspectForm(forms.Form):
    """Units of one line inspected alike: back into a bin, or scrapped with the reason."""

    sku = forms.CharField(widget=forms.HiddenInput, max_length=64)
    quantity = forms.IntegerField(
        label="Units",
        min_value=1,
        error_messages={"required": "Say how many units were inspected.", "min_value": "Inspect at least one unit."},
    )
    outcome = forms.ChoiceField(label="Outcome", choices=InspectionOutcome.choices)
    location = forms.ChoiceField(label="Bin to restock into", required=False)
    note = forms.CharField(label="Note", max_length=255, required=False, help_text="Required when scrapped: say why.")

    def __init__(self, *args: Any, bins: list[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bins = {str(location.pk): location for location in bins}
        choices = [("", "Choose a bin"), *((str(location.pk), location.code) for location in bins)]
        self.fields["location"].choices = choices  # type: ignore[attr-defined]

    def clean_location(self) -> Location | None:
        value = self.cleaned_data.get("location") or ""
        return self.bins.get(value) if value else None


class ReturnRefundForm(_MoneyForm):
    note = forms.CharField(label="Note", max_length=255, required=False, help_text="Added to the refund's reason.")


# --- asking on a customer's behalf ----------------------------------------------------------


class StartReturnForm(forms.Form):
    """Units of each order line to send back (up to what can still be returned) and why."""

    comment = forms.CharField(
        label="What the customer said",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when the reason is “Another reason”.",
    )

    def __init__(
        self, *args: Any, lines: list[OrderLine], left: dict[int, int], may_ask_late: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.order_lines = lines
        self.left = left
        line_fields: dict[str, forms.Field] = {}
        for line in lines:
            units = left.get(line.pk, 0)
            line_fields[f"qty_{line.pk}"] = forms.IntegerField(
                label=f"{line.name} ({line.sku}): units to return",
                min_value=0,
                initial=0,
                required=False,
                disabled=units < 1,
                help_text=f"{units} of {line.quantity} can still be returned.",
                widget=forms.NumberInput(attrs={"max": units, "min": 0}),
                error_messages={"min_value": f"Units of {line.sku} to return cannot be below 0."},
            )
            line_fields[f"reason_{line.pk}"] = forms.ChoiceField(
                label=f"Why {line.sku} comes back",
                choices=[("", "Choose a reason"), *ReturnReason.choices],
                required=False,
                disabled=units < 1,
            )
        self.fields = {**line_fields, **self.fields}
        if may_ask_late:
            self.fields["allow_late"] = forms.BooleanField(
                label="After the return window",
                required=False,
                help_text="Accept the return although the return window has closed.",
            )

    def line_fields(self) -> list[tuple[OrderLine, forms.BoundField, forms.BoundField, int]]:
        return [
            (line, self[f"qty_{line.pk}"], self[f"reason_{line.pk}"], self.left.get(line.pk, 0))
            for line in self.order_lines
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for line in self.order_lines:
            if data.get(f"qty_{line.pk}") and not data.get(f"reason_{line.pk}"):
                self.add_error(f"reason_{line.pk}", f"Choose why {line.sku} comes back.")
        return data

    def line_data(self) -> list[ReturnLineData]:
        return [
            ReturnLineData(
                sku=line.sku,
                quantity=self.cleaned_data[f"qty_{line.pk}"],
                reason=self.cleaned_data[f"reason_{line.pk}"],
            )
            for line in self.order_lines
            if self.cleaned_data.get(f"qty_{line.pk}")
        ]
