"""Forms of the staff dashboard. They check the shape of what was typed; the services decide
whether it can be done. Every error is a sentence a busy person can act on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django_countries import countries

from orders.enums import PaymentMethod
from orders.models import Order, OrderLine, ShippingMethod
from orders.services import AddressData, LineData


def first_error(form: forms.Form) -> str:
    """The first error of an invalid form, as the sentence to show (with the field's label)."""
    for name, errors in form.errors.items():
        for error in errors:
            field = form.fields.get(name)
            return f"{field.label}: {error}" if field is not None and field.label else str(error)
    return "Check what you entered and try again."


# --- order actions --------------------------------------------------------------------------


class NoteForm(forms.Form):
    """Actions that take only an optional note for the timeline."""

    note = forms.CharField(label="Note for the timeline", max_length=255, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is it cancelled?",
        max_length=255,
        error_messages={"required": "Say why the order is cancelled; the customer and the timeline see it."},
    )


class ReturnForm(forms.Form):
    note = forms.CharField(label="What came back, and its condition", max_length=255, required=False)


class RevokeLinksForm(forms.Form):
    reason = forms.CharField(label="Why", max_length=255, required=False)


class _MoneyForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={"required": "Enter the amount.", "invalid": "Enter the amount as a number, such as 19.90."},
    )
    method = forms.ChoiceField(label="Method", choices=PaymentMethod.choices)
    reference = forms.CharField(
        label="Reference",
        max_length=255,
        help_text="The payment provider's or bank's reference.",
        error_messages={"required": "Enter the provider's or bank's reference, so the money can be traced."},
    )


class PaymentForm(_MoneyForm):
    pass


class RefundForm(_MoneyForm):
    reason = forms.CharField(label="Reason", max_length=255, required=False)


# --- changing an order before picking -------------------------------------------------------


def _country_choices() -> list[tuple[str, str]]:
    return [(str(code), str(name)) for code, name in countries]


class OrderEditForm(forms.Form):
    """The shipping address, a quantity per line (0 removes it), one new line by SKU, and the
    shipping method. The fields start with the order as it is; the service changes only what
    differs."""

    name = forms.CharField(label="Name", max_length=200)
    company = forms.CharField(label="Company", max_length=200, required=False)
    line1 = forms.CharField(label="Address line 1", max_length=200)
    line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    postal_code = forms.CharField(label="Postal code", max_length=20)
    city = forms.CharField(label="City", max_length=100)
    region = forms.CharField(label="Region", max_length=100, required=False)
    country = forms.ChoiceField(label="Country", choices=_country_choices)
    phone = forms.CharField(label="Phone", max_length=32, required=False)
    shipping_method = forms.ChoiceField(label="Shipping method")
    add_sku = forms.CharField(label="Add an item: SKU", max_length=64, required=False)
    add_quantity = forms.IntegerField(label="Quantity to add", min_value=1, max_value=9999, required=False)
    note = forms.CharField(label="Note for the timeline", max_length=255, required=False)

    ADDRESS_FIELDS = ("name", "company", "line1", "line2", "postal_code", "city", "region", "country", "phone")

    def __init__(self, *args: Any, order: Order, lines: list[OrderLine], **kwargs: Any) -> None:
        if not args and "data" not in kwargs:
            address = order.shipping_address
            kwargs["initial"] = {
                **{name: str(getattr(address, name) or "") for name in self.ADDRESS_FIELDS},
                "shipping_method": order.shipping_method_id,
                **{f"qty_{line.pk}": line.quantity for line in lines},
            }
        super().__init__(*args, **kwargs)
        self.order_lines = lines
        methods = [
            (m.code, f"{m.name} ({m.price} {order.currency})") for m in ShippingMethod.objects.filter(is_active=True)
        ]
        if order.shipping_method_id not in {code for code, _ in methods}:
            methods.insert(0, (order.shipping_method_id, f"{order.shipping_method_id} (current, no longer offered)"))
        cast(forms.ChoiceField, self.fields["shipping_method"]).choices = methods
        for line in lines:
            self.fields[f"qty_{line.pk}"] = forms.IntegerField(
                label=f"{line.name} ({line.sku})",
                min_value=0,
                max_value=9999,
                help_text="0 removes the item.",
                error_messages={"min_value": "A quantity cannot be below 0; 0 removes the item."},
            )

    def quantity_fields(self) -> list[tuple[OrderLine, forms.BoundField]]:
        return [(line, self[f"qty_{line.pk}"]) for line in self.order_lines]

    def address_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ADDRESS_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        sku = (data.get("add_sku") or "").strip()
        data["add_sku"] = sku
        if sku and not data.get("add_quantity"):
            self.add_error("add_quantity", f"Say how many of {sku} to add.")
        if data.get("add_quantity") and not sku:
            self.add_error("add_sku", "Enter the SKU of the item to add.")
        if sku and sku in {line.sku for line in self.order_lines}:
            self.add_error("add_sku", f"{sku} is already on the order: change its quantity above instead.")
        return data

    def address_data(self) -> AddressData:
        return AddressData(**{name: self.cleaned_data[name] for name in self.ADDRESS_FIELDS})

    def line_data(self) -> list[LineData]:
        wanted = [LineData(sku=line.sku, quantity=self.cleaned_data[f"qty_{line.pk}"]) for line in self.order_lines]
        if self.cleaned_data.get("add_sku"):
            wanted.append(LineData(sku=self.cleaned_data["add_sku"], quantity=self.cleaned_data["add_quantity"]))
        return wanted
