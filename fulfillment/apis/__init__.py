"""The fulfillment REST API, for handheld scanner apps and integrators: pick lists and their
scans, the ready-to-pick queue, the packing station, package types, the accuracy ledger, and
the order actions ``start-picking``, ``abort-picking`` and ``pack`` (ADR 0005).

Each endpoint validates its input, calls one service and serializes the result. A refused
scan is a result of its service, not an exception, so its accuracy event is committed; it is
answered here with the usual error body and 409, built from the result after the service's
transaction has ended.

One module per subject: ``picking`` (pick lists and the ready-to-pick queue), ``packing``
(the packing station and package types), ``accuracy`` (the accuracy ledger) and
``order_actions``; what they share is in ``common``.
"""
