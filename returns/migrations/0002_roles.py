"""Who works returns: support and managers see, ask for (on a customer's behalf) and handle
returns, managers also after the window; shippers see them and receive and inspect the
parcels (handling); integrators (API clients) see and ask for returns on a customer's
behalf, as a shop front end or marketplace does."""

from django.db import migrations

from oms.common import roles

_SEE = ["view_return"]
_ASK = [*_SEE, "add_return"]
_HANDLE = [*_ASK, "handle_return"]
GRANTS = {
    roles.SUPPORT: _HANDLE,
    roles.MANAGER: [*_HANDLE, "request_late_return"],
    roles.SHIPPER: [*_SEE, "handle_return"],
    roles.INTEGRATOR: _ASK,
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "returns", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "returns", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("returns", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
