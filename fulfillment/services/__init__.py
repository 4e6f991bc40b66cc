"""Every write to fulfillment: ``picking`` (pick lists, scans, short picks) and ``packing``
(packing sessions, packages, weights). Callers import from here."""
