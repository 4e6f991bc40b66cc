"""Row locks of shipping's labels (lock order: docs/architecture.md, item 6: a shipment, then
its labels by id, then a carrier counter row)."""

from __future__ import annotations

from shipping.enums import LabelStatus
from shipping.models import Label, Shipment


def lock_label(label_id: int, *related: str) -> Label:
    """The label, locked for the rest of the transaction (FOR NO KEY UPDATE), with ``related``
    rows read along but not locked (``of=self``: a label's worker must not queue on its
    shipment's carrier row)."""
    return Label.objects.select_for_update(no_key=True, of=("self",)).select_related(*related).get(pk=label_id)


def lock_failed_labels(shipment: Shipment) -> list[Label]:
    """The shipment's failed labels, locked (FOR NO KEY UPDATE) in id order; the shipment is
    locked first by the caller."""
    return list(
        Label.objects.select_for_update(no_key=True).filter(shipment=shipment, status=LabelStatus.FAILED).order_by("id")
    )
