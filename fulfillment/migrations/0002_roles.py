"""Grants the fulfillment permissions: pickers pick, packers pack, managers also assign and
cancel anyone's pick lists and approve package weights outside the tolerance."""

from django.db import migrations

from oms.common import roles

VIEW = [
    "view_picklist",
    "view_picklistorder",
    "view_picktask",
    "view_packagetype",
    "view_packingstation",
    "view_packingsession",
    "view_package",
    "view_packageitem",
]
GRANTS = {
    roles.PICKER: [*VIEW, "pick"],
    roles.PACKER: [*VIEW, "pack"],
    roles.SHIPPER: [*VIEW],
    roles.SUPPORT: [*VIEW, "view_accuracyevent"],
    roles.MANAGER: [
        *VIEW,
        "view_accuracyevent",
        "pick",
        "manage_pick_lists",
        "pack",
        "override_package_weight",
        "add_packagetype",
        "change_packagetype",
        "add_packingstation",
        "change_packingstation",
    ],
    roles.INTEGRATOR: [*VIEW, "view_accuracyevent", "pick", "pack"],
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "fulfillment", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "fulfillment", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0001_initial"),
        ("orders", "0004_split_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
