"""Support, managers and integrators may split off the in-stock lines of an order."""

from django.db import migrations

from oms.common import roles

GRANTS = {
    roles.SUPPORT: ["split_order"],
    roles.MANAGER: ["split_order"],
    roles.INTEGRATOR: ["split_order"],
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "orders", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "orders", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_split_orders")]
    operations = [migrations.RunPython(forwards, backwards)]
