"""Allowed moves of a cycle count, as data. The one writer is
``inventory.services.counts._count_set_status``."""

from inventory.models import CountStatus

COUNT_TRANSITIONS: dict[str, frozenset[str]] = {
    CountStatus.OPEN: frozenset({CountStatus.SUBMITTED}),
    # A manager approves or rejects the variance, or sends the count back for a recount.
    CountStatus.SUBMITTED: frozenset({CountStatus.APPROVED, CountStatus.REJECTED, CountStatus.OPEN}),
    CountStatus.APPROVED: frozenset(),
    CountStatus.REJECTED: frozenset(),
}
