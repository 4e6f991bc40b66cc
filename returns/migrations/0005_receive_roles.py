"""Receiving and inspecting returned parcels is the dock's work, deciding and refunding is
not: shippers get ``receive_return`` and lose ``handle_return``; support and managers, who
do both, get ``receive_return`` too."""

from django.db import migrations

from oms.common import roles

GRANTS = {
    roles.SUPPORT: ["receive_return"],
    roles.MANAGER: ["receive_return"],
    roles.SHIPPER: ["receive_return"],
}
TAKEN = {roles.SHIPPER: ["handle_return"]}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "returns", GRANTS)
    roles.revoke_permissions(apps, "returns", TAKEN)


def backwards(apps, schema_editor):
    roles.grant_permissions(apps, "returns", TAKEN)
    roles.revoke_permissions(apps, "returns", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("returns", "0004_receive_permission")]
    operations = [migrations.RunPython(forwards, backwards)]
