"""The forms customers fill in on their order-status page: cancelling the order and sending
it to another address (``notifications/customer_actions.py``)."""

from __future__ import annotations

from django import forms

from orders.enums import CustomerCancelReason

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
