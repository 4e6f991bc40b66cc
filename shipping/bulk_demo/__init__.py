"""A year of order history for demos and for measuring the dashboard at scale, loaded in
minutes: rows are written straight to the tables in chunks (PostgreSQL ``COPY``; batched
inserts on other databases) instead of walking each order through the services, which
takes about a quarter of a second an order, days for a million.

Only history is written this way (``history_load``): orders that reached a terminal or
carrier-held status (executed, returned, cancelled, shipped and in transit). They hold no
stock, so the stock ledger has nothing to say about them. Orders that still hold stock
(awaiting payment, paid, picking, packed) are few in a live shop and are placed through
the real services (``open_orders_place``), so their reservations, pick lists, packages and
labels are real.

A history order has its address, 1-4 lines from the catalogue, consistent money (subtotal
is the sum of the lines, total adds shipping, paid orders paid in full), the times of each
stage it went through in shop time (picking on working hours, hand-over before the
carrier's cut-off, a few late, delivery after the service's transit days), its delivery
promise, the audit events of every move (actor "demo data"), its payment, refunds for
cancelled-after-payment and returned orders, and once packed: a packing session with one
weighed package and its items, a shipment, a live label whose tracking number comes from
the carrier's own counter, the day's manifest it was scanned out on, tracking events and,
for about 2 %, an accuracy-ledger event.

Left empty for history, because the dashboard's queues and KPIs read orders, their events,
shipments, labels, tracking and the accuracy ledger, and a shop keeps the rest only while
work is open: pick lists and pick tasks, stock reservations, allocations and ledger rows,
label documents (PDF/ZPL: a reprint of a history label is refused as having no copy),
shipment audit events, invoices, notifications and outbox messages (nothing is sent for
the past).

Ids are drawn past each table's sequence and the sequences moved past them; order numbers
are ``format_order_number`` of the id, like ``order_create``'s; each carrier's serial
counter moves past the serials used in the same transaction as their labels. The loader
expects an otherwise idle database: ``seed_demo`` runs before the server starts.
"""

from shipping.bulk_demo.history import LoadResult, history_load
from shipping.bulk_demo.open_orders import open_count_for, open_orders_place
from shipping.bulk_demo.people import Customer, demo_customer

__all__ = ["Customer", "LoadResult", "demo_customer", "history_load", "open_count_for", "open_orders_place"]
