from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from oms.common.models import TimeStampedModel

# No slash: a SKU is part of the product's URL (/api/v1/products/<sku>/).
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]*$"
sku_validator = RegexValidator(
    SKU_PATTERN, "Use letters, digits, dot, dash or underscore, starting with a letter or digit."
)
barcode_validator = RegexValidator(r"^[0-9A-Za-z\-]+$", "Use digits, letters or dashes only.")


class Product(TimeStampedModel):
    """A stock-keeping unit the shop sells. Order lines snapshot its name and price."""

    sku = models.CharField("SKU", max_length=64, unique=True, validators=[sku_validator])
    name = models.CharField(max_length=255)
    barcode = models.CharField(max_length=64, blank=True, validators=[barcode_validator])
    weight_grams = models.PositiveIntegerField(default=0)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["barcode"], condition=~models.Q(barcode=""), name="product_barcode_unique"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
