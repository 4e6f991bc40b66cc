"""Grants the stock permissions: managers adjust and approve counts; warehouse staff count
and receive; integrators sync stock."""

from django.db import migrations

from oms.common import roles

VIEW = ["view_warehouse", "view_location", "view_stocklevel", "view_stockmovement", "view_lowstockalert"]
GRANTS = {
    roles.PICKER: [*VIEW, "view_cyclecount", "count_stock"],
    roles.PACKER: [*VIEW],
    roles.SHIPPER: [*VIEW, "receive_stock"],
    roles.SUPPORT: [*VIEW],
    roles.MANAGER: [
        *VIEW,
        "add_warehouse",
        "change_warehouse",
        "add_location",
        "change_location",
        "receive_stock",
        "adjust_stock",
        "view_cyclecount",
        "add_cyclecount",
        "count_stock",
        "approve_count",
        "view_reorderrule",
        "add_reorderrule",
        "change_reorderrule",
        "delete_reorderrule",
    ],
    roles.INTEGRATOR: [
        *VIEW,
        "add_warehouse",
        "change_warehouse",
        "add_location",
        "change_location",
        "receive_stock",
        "adjust_stock",
        "view_reorderrule",
        "add_reorderrule",
        "change_reorderrule",
        "delete_reorderrule",
    ],
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "inventory", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "inventory", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_stock")]
    operations = [migrations.RunPython(forwards, backwards)]
