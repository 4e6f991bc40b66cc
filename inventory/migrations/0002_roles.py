"""Grants the staff roles their product permissions."""

from django.db import migrations

from oms.common import roles

GRANTS = {
    roles.PICKER: ["view_product"],
    roles.PACKER: ["view_product"],
    roles.SHIPPER: ["view_product"],
    roles.SUPPORT: ["view_product"],
    roles.MANAGER: ["view_product", "add_product", "change_product"],
    roles.INTEGRATOR: ["view_product", "add_product", "change_product"],
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "inventory", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "inventory", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
