"""Grants the carrier permissions: everyone in the warehouse and support sees carriers and
their calendars; managers maintain them."""

from django.db import migrations

from oms.common import roles

MODELS = ["carrier", "carrierholiday", "carrierservice", "pricerule", "shippingmethodservice"]
VIEW = [f"view_{m}" for m in MODELS]
GRANTS = {
    roles.PICKER: VIEW,
    roles.PACKER: VIEW,
    roles.SHIPPER: VIEW,
    roles.SUPPORT: VIEW,
    roles.MANAGER: [*VIEW, *(f"{verb}_{m}" for m in MODELS for verb in ("add", "change", "delete"))],
    roles.INTEGRATOR: VIEW,
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "shipping", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "shipping", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("shipping", "0001_initial"),
        ("fulfillment", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
