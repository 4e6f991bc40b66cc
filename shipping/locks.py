"""Row locks of shipping's labels (lock order: docs/architecture.md, item 6: a shipment, then
its labels by id, then a carrier counter row)."""

from __future__ import annotations

from shipping.models import Label


def lock_label(label_id: int, *related: str) -> Label:
    """The label, locked for the rest of the transaction (FOR NO KEY UPDATE), with ``related``
    rows read along but not locked (``of=self``: a label's worker must not queue on its
    shipment's carrier row)."""
    return Label.objects.select_for_update(no_key=True, of=("self",)).select_related(*related).get(pk=label_id)
