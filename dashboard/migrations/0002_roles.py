"""Who works the dashboard's own things: support, shippers and managers take and resolve
incidents in the exception inbox; support, shippers and managers run bulk jobs (labels,
packing slips, exports) and see their own; managers see everyone's jobs and the KPIs."""

from django.db import migrations

from oms.common import roles

_INCIDENTS = ["view_incident", "work_incident"]
_JOBS = ["view_bulkjob", "add_bulkjob"]
GRANTS = {
    roles.SUPPORT: [*_INCIDENTS, *_JOBS],
    roles.SHIPPER: [*_INCIDENTS, *_JOBS],
    roles.PACKER: ["view_incident"],
    roles.PICKER: ["view_incident"],
    roles.MANAGER: [*_INCIDENTS, *_JOBS, "view_all_bulkjob", "view_kpis"],
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "dashboard", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "dashboard", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
