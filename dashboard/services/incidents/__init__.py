"""The exception inbox: opened and closed by a periodic sync over the other apps' data (ADR
0010), taken, released and resolved by staff.

``incidents_sync`` looks at each kind of problem in turn (``WATCHES``). For each it finds the
problems that exist now, each named by a key (``label_failed:<label>:<failure>``,
``late_order:<order>:ship_by:<day>``...), opens an incident for every key not seen before,
and closes the open incidents whose key no longer names a current problem, saying why
("Cleared: the label was made on a retry."). A key seen before is never opened again, even
when staff resolved it while the problem went on: they said it was handled. A problem that
clears and comes back gets a new key, because what it names changed (a new failure event, a
new stale flag, new amounts).

Every look is a few queries, whatever the number of orders: each starts from an index of
the active part of the data (orders by status, failed labels by status, short reservations
by their partial index, accuracy events by time, shipments by status), plus the subjects of
the incidents still open, by primary key. Short picks and weight overrides are read back
``LOOKBACK_DAYS`` (14) days; they never clear by themselves, staff resolve them.
"""

from dashboard.services.incidents.sync import incidents_sync
from dashboard.services.incidents.watches import LOOKBACK_DAYS
from dashboard.services.incidents.work import WORK_INCIDENT, incident_release, incident_resolve, incident_take

__all__ = [
    "LOOKBACK_DAYS",
    "WORK_INCIDENT",
    "incident_release",
    "incident_resolve",
    "incident_take",
    "incidents_sync",
]
