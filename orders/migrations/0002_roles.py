"""Creates the staff roles (groups) and grants them the orders permissions."""

from django.db import migrations

from oms.common import roles

VIEW = ["view_order", "view_orderline", "view_payment", "view_orderevent", "view_shippingmethod"]
TRANSITIONS = [
    "start_picking_order",
    "abort_picking_order",
    "pack_order",
    "ship_order",
    "execute_order",
    "return_order",
]
GRANTS = {
    roles.PICKER: [*VIEW, "start_picking_order", "abort_picking_order"],
    roles.PACKER: [*VIEW, "pack_order"],
    roles.SHIPPER: [*VIEW, "ship_order", "execute_order"],
    roles.SUPPORT: [*VIEW, "add_order", "record_payment", "cancel_order", "return_order"],
    roles.MANAGER: [
        *VIEW,
        "add_order",
        "record_payment",
        "cancel_order",
        *TRANSITIONS,
        "add_shippingmethod",
        "change_shippingmethod",
    ],
    roles.INTEGRATOR: [*VIEW, "add_order", "record_payment", "cancel_order", *TRANSITIONS],
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "orders", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "orders", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
