"""Support and managers change an order's address, lines and shipping method before picking."""

from django.db import migrations

from oms.common import roles

GRANTS = {roles.SUPPORT: ["edit_order"], roles.MANAGER: ["edit_order"]}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "orders", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "orders", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_order_edits")]
    operations = [migrations.RunPython(forwards, backwards)]
