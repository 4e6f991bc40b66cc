"""Trigram indexes for the staff search by customer name (contains) and email (starts
with): without them, a name that matches nobody reads every order. PostgreSQL only (the
pg_trgm extension); on SQLite, the development default, nothing is created."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# The expressions Django writes for icontains / istartswith on these columns.
INDEXES = {
    "order_customer_name_trgm": 'UPPER("customer_name"::text)',
    "order_customer_email_trgm": 'UPPER("customer_email"::text)',
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "orders_order" USING gin ({expression} gin_trgm_ops)'
        )
    # Statistics of the indexed expressions: without them the planner guesses that a name
    # matches thousands of orders and walks all orders newest first instead of the index.
    schema_editor.execute('ANALYZE "orders_order"')


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_edit_roles")]
    operations = [TrigramExtension(), migrations.RunPython(create_indexes, drop_indexes)]
