"""Grants the label and hand-over permissions: packers and shippers fix labels, shippers scan
parcels out to the courier, support and integrators read shipments and tracking."""

from django.db import migrations

from oms.common import roles

MODELS = ["shipment", "label", "manifest", "trackingevent"]
VIEW = [f"view_{m}" for m in MODELS]
GRANTS = {
    roles.PACKER: [*VIEW, "manage_labels"],
    roles.SHIPPER: [*VIEW, "manage_labels", "hand_over"],
    roles.SUPPORT: VIEW,
    roles.MANAGER: [*VIEW, "manage_labels", "hand_over"],
    roles.INTEGRATOR: VIEW,
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "shipping", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "shipping", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("shipping", "0003_shipments_labels_tracking"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
