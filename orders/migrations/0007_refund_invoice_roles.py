"""Managers and integrators record refunds; support, managers and integrators download
invoices and see refunds; support and managers revoke an order's status-page links."""

from django.db import migrations

from oms.common import roles

GRANTS = {
    roles.SUPPORT: ["download_invoice", "view_invoice", "view_refund", "revoke_status_links"],
    roles.MANAGER: ["refund_order", "download_invoice", "view_invoice", "view_refund", "revoke_status_links"],
    roles.INTEGRATOR: ["refund_order", "download_invoice", "view_invoice", "view_refund"],
}


def forwards(apps, schema_editor):
    roles.grant_permissions(apps, "orders", GRANTS)


def backwards(apps, schema_editor):
    roles.revoke_permissions(apps, "orders", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("orders", "0006_refunds_invoices")]
    operations = [migrations.RunPython(forwards, backwards)]
