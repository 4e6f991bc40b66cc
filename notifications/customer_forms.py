"""The forms customers fill in on their order-status page: cancelling the order and sending
it to another address (``notifications/customer_actions.py``), asking for a return
(``notifications/customer_returns.py``), rating the order (``customer_actions.py``)."""

from __future__ import annotations

from typing import Any

from django import forms

from oms.common.errors import InvalidInput
from orders.enums import CustomerCancelReason
from orders.models import OrderLine
from orders.services.feedback import COMMENT_MAX as FEEDBACK_COMMENT_MAX
from returns.enums import ReturnReason
from returns.services import ReturnLineData

COMMENT_MAX = 500


class CancelForm(forms.Form):
    label_suffix = ""
    reason = forms.ChoiceField(
        label="Why do you want to cancel?",
        choices=CustomerCancelReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a reason.", "invalid_choice": "Choose one of the reasons listed."},
    )
    comment = forms.CharField(
        label="Anything you would like us to know (optional)",
        required=False,
        max_length=COMMENT_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label="Yes, cancel my order. This cannot be undone.",
        error_messages={"required": "Tick the box to confirm: a cancelled order cannot be restored."},
    )


def _text(
    label: str, autocomplete: str, *, max_length: int, required: bool = True, help_text: str = ""
) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        strip=True,
        help_text=help_text,
        widget=forms.TextInput(
            attrs={"autocomplete": autocomplete, **({"inputmode": "tel"} if "tel" in autocomplete else {})}
        ),
    )


class AddressForm(forms.Form):
    """A whole new delivery address, in the order's country. Nothing of the current address is
    filled in: anyone the link was forwarded to would read it. The email address the order
    was placed with proves it is the customer who sends the parcel elsewhere."""

    label_suffix = ""

    email = forms.EmailField(
        label="The email address you ordered with",
        max_length=254,
        help_text="So that only you can send your order elsewhere, even if this link was passed on.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    name = _text("Recipient's name", "shipping name", max_length=200)
    company = _text("Company (optional)", "shipping organization", max_length=200, required=False)
    line1 = _text("Street and house number", "shipping address-line1", max_length=200)
    line2 = _text("Flat, floor, door code (optional)", "shipping address-line2", max_length=200, required=False)
    postal_code = _text("Postal code", "shipping postal-code", max_length=20)
    city = _text("Town or city", "shipping address-level2", max_length=100)
    region = _text("Region or state (optional)", "shipping address-level1", max_length=100, required=False)
    phone = _text(
        "Phone for the courier (optional)",
        "shipping tel",
        max_length=32,
        required=False,
        help_text="The courier calls it only about this delivery.",
    )

    ADDRESS_FIELDS = ("name", "company", "line1", "line2", "postal_code", "city", "region", "phone")


NOTHING_CHOSEN = "Choose how many units of at least one item you are sending back."


class ReturnForm(forms.Form):
    """How many units of each order line the customer sends back (up to what can still be
    returned) and why. Whether the order can be returned at all, and when a comment is needed,
    the returns service decides (``returns.services.return_request``); its answers about a
    line land on that line's fields (``add_service_errors``)."""

    label_suffix = ""

    comment = forms.CharField(
        label="Anything you would like us to know",
        required=False,
        max_length=COMMENT_MAX,
        strip=True,
        help_text="Needed when the reason is “Another reason”: tell us what is wrong.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, lines: list[OrderLine], left: dict[int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_lines = [line for line in lines if left.get(line.pk, 0) > 0]
        self.spent = [line for line in lines if left.get(line.pk, 0) < 1]
        self.left = left
        line_fields: dict[str, forms.Field] = {}
        for line in self.order_lines:
            units = left[line.pk]
            line_fields[f"quantity_{line.pk}"] = forms.TypedChoiceField(
                label="Units to send back",
                coerce=int,
                choices=[(n, str(n)) for n in range(units + 1)],
                initial=0,
                help_text=f"Up to {units}." if units == line.quantity else f"Up to {units}: the rest is on a return.",
                error_messages={
                    "required": "Choose how many units you send back (0 to keep them).",
                    "invalid_choice": f"Choose between 0 and {units} units.",
                },
            )
            line_fields[f"reason_{line.pk}"] = forms.ChoiceField(
                label="Why it goes back",
                required=False,
                choices=[("", "Choose a reason"), *ReturnReason.choices],
                error_messages={"invalid_choice": "Choose one of the reasons listed."},
            )
        self.fields = {**line_fields, **self.fields}

    def rows(self) -> list[tuple[OrderLine, forms.BoundField, forms.BoundField]]:
        """Each order line that can still go back, with its quantity and reason fields."""
        return [(line, self[f"quantity_{line.pk}"], self[f"reason_{line.pk}"]) for line in self.order_lines]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = [line for line in self.order_lines if data.get(f"quantity_{line.pk}")]
        if not chosen and not any(f"quantity_{line.pk}" in self.errors for line in self.order_lines):
            raise forms.ValidationError(NOTHING_CHOSEN, code="nothing_chosen")
        for line in chosen:
            if not data.get(f"reason_{line.pk}") and f"reason_{line.pk}" not in self.errors:
                self.add_error(f"reason_{line.pk}", "Choose why it goes back.")
        return data

    def asked(self) -> list[tuple[OrderLine, ReturnLineData]]:
        """The lines asked back, in the order the service is given them."""
        return [
            (
                line,
                ReturnLineData(
                    sku=line.sku,
                    quantity=self.cleaned_data[f"quantity_{line.pk}"],
                    reason=self.cleaned_data[f"reason_{line.pk}"],
                ),
            )
            for line in self.order_lines
            if self.cleaned_data.get(f"quantity_{line.pk}")
        ]

    def add_service_errors(self, exc: InvalidInput, asked: list[OrderLine]) -> None:
        """Puts the service's reasons on the fields they are about: ``lines.<i>.<field>`` names
        the i-th line it was given (``asked``), ``comment`` the comment; anything else goes
        above the form."""
        for key, reasons in exc.fields.items():
            parts = key.split(".")
            field: str | None = None
            if key == "comment":
                field = "comment"
            elif len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(asked):
                line = asked[int(parts[1])]
                field = f"reason_{line.pk}" if parts[2] == "reason" else f"quantity_{line.pk}"
            for reason in reasons:
                self.add_error(field if field in self.fields else None, reason)


class FeedbackForm(forms.Form):
    label_suffix = ""
    rating = forms.TypedChoiceField(
        label="How was your order?",
        choices=[(5, "5: excellent"), (4, "4: good"), (3, "3: all right"), (2, "2: poor"), (1, "1: very poor")],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a rating from 1 to 5.", "invalid_choice": "Choose a rating from 1 to 5."},
    )
    comment = forms.CharField(
        label="What should we keep, or fix? (optional)",
        required=False,
        max_length=FEEDBACK_COMMENT_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
