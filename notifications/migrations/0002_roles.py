"""Support and managers read customers' notifications, resend them and preview the
templates; managers and integrators manage webhook subscriptions and redeliver dead
deliveries; support reads the delivery log to answer an integrator."""

from django.db import migrations

from oms.common import roles

_WEBHOOKS = [
    "view_webhooksubscription",
    "add_webhooksubscription",
    "change_webhooksubscription",
    "delete_webhooksubscription",
    "view_webhookevent",
    "view_webhookdelivery",
    "redeliver_webhookdelivery",
]
GRANTS = {
    roles.SUPPORT: [
        "view_notification",
        "resend_notification",
        "preview_notification",
        "view_webhookevent",
        "view_webhookdelivery",
    ],
    roles.MANAGER: ["view_notification", "resend_notification", "preview_notification", *_WEBHOOKS],
    roles.INTEGRATOR: [*_WEBHOOKS],
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "notifications", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "notifications", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
