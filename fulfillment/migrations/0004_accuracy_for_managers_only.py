"""The accuracy ledger names each picker's and packer's mistakes: staff performance data, which
the manager needs to coach the floor and neither support (answering customers) nor an
integrator's system (placing and following orders) does. Both lose ``view_accuracyevent``."""

from django.db import migrations

from oms.common import roles

GRANTS: dict[str, list[str]] = {}
TAKEN = {roles.SUPPORT: ["view_accuracyevent"], roles.INTEGRATOR: ["view_accuracyevent"]}


def forwards(apps, schema_editor):
    roles.revoke_permissions(apps, "fulfillment", TAKEN)


def backwards(apps, schema_editor):
    roles.grant_permissions(apps, "fulfillment", TAKEN)


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0003_packingstation_label_format")]
    operations = [migrations.RunPython(forwards, backwards)]
