"""The order history: one order at a time, every row it would have left behind."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.utils import timezone

from fulfillment.models import AccuracyEvent, Package, PackageItem, PackageType, PackingSession, PackingStation
from inventory.models import Location, Product, StockLevel
from oms.common import roles
from oms.common.actors import ActorKind
from orders.models import Address, Order, OrderEvent, OrderLine, Payment, Refund, ShippingMethod
from orders.services.placement import format_order_number
from shipping.bulk_demo import people
from shipping.bulk_demo.clock import DAY, HOUR, MethodCalendar, ShopClock
from shipping.bulk_demo.tables import NULL, TABLES, Chunk, ChunkWriter, Ids, check_columns, counters_advance
from shipping.models import Carrier, Label, Manifest, Shipment, TrackingEvent
from shipping.selectors import services_by_method
from shipping.tracking_numbers import tracking_number
from shipping.tracking_payloads import SOURCE_OWN

ACTOR = "demo data"
CHUNK = 20_000
# History ends this long before now: the orders of the last hours are still open, and open
# orders are placed through the services (``open_orders_place``).
RECENT = 20 * HOUR


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class _Product:
    id: int
    sku: str
    name: str
    cents: int
    grams: int
    bin: str


@dataclass(frozen=True)
class LoadResult:
    orders: int
    by_status: dict[str, int]
    rows: dict[str, int]


class _History:
    """Makes the rows of history orders into the current chunk; see the package docstring."""

    def __init__(self, *, clock: ShopClock, now: int, rng: random.Random, customers: int) -> None:
        self.clock, self.now, self.rng, self.customers = clock, now, rng, customers
        self.ids = Ids.start()
        self.rows: dict[type[models.Model], list[str]] = {model: [] for model, _columns in TABLES}
        self.counts: dict[str, int] = {model._meta.db_table: 0 for model, _columns in TABLES}
        self.by_status: dict[str, int] = {}
        bins = dict(StockLevel.objects.order_by("id").values_list("product_id", "location__code"))
        any_bin = Location.objects.order_by("pick_sequence", "code").values_list("code", flat=True).first() or ""
        self.products = [
            _Product(p.pk, p.sku, p.name, int(p.price * 100), p.weight_grams, bins.get(p.pk, any_bin))
            for p in Product.objects.filter(is_active=True).order_by("id")
        ]
        if not self.products:
            raise RuntimeError("The catalogue is empty: load products before the order history.")
        # A few best sellers and a long tail: the i-th product sells 1/(i+2) as often.
        self.pick_product = people.Weighted([(p, 1 / (i + 2)) for i, p in enumerate(self.products)])
        by_method = services_by_method()
        self.methods = [
            MethodCalendar(
                code, int(price * 100), by_method[code][0].pk, by_method[code][0].carrier_id, by_method[code][1]
            )
            for code, price in ShippingMethod.objects.filter(is_active=True).values_list("code", "price")
            if code in by_method
        ]
        if not self.methods:
            raise RuntimeError("No shipping method is delivered by a carrier service: load the carriers first.")
        self.pick_method = people.Weighted([(m, people.METHOD_SHARE.get(m.code, 10)) for m in self.methods])
        self.pick_channel = people.Weighted([(str(c), w) for c, w in people.CHANNELS])
        self.pick_payment = {
            str(ch): people.Weighted([(str(m), w) for m, w in spec]) for ch, spec in people.PAYMENT_METHODS.items()
        }
        self.pick_accuracy = people.Weighted(people.ACCURACY)
        self.boxes = list(
            PackageType.objects.filter(is_active=True).order_by("tare_grams", "id").values_list("pk", "tare_grams")
        )
        if not self.boxes:
            raise RuntimeError("No package types: load the boxes before the order history.")
        station = PackingStation.objects.order_by("id").values_list("pk", flat=True).first()
        self.station = str(station) if station else NULL
        users = dict(get_user_model().objects.values_list("username", "pk"))
        if roles.PACKER not in users:
            raise RuntimeError("Packing sessions need a packer: load the demo users first.")
        self.packer = str(users[roles.PACKER])
        self.picker = str(users.get(roles.PICKER, users[roles.PACKER]))
        self.manager = str(users[roles.MANAGER]) if roles.MANAGER in users else NULL
        self.carriers = {c.pk: c for c in Carrier.objects.filter(pk__in={m.carrier_id for m in self.methods})}
        self.serial_start = {pk: c.last_serial for pk, c in self.carriers.items()}
        self.serial = dict(self.serial_start)  # the last serial used, per carrier
        warehouse_country = StockLevel.objects.values_list("location__warehouse__country", flat=True).first()
        self.origin = (warehouse_country or "PL").upper()
        self.manifests: dict[tuple[int, int], int] = {}

    def take(self, model: type[models.Model]) -> int:
        pk = self.ids.next[model]
        self.ids.next[model] = pk + 1
        return pk

    def chunk(self) -> Chunk:
        """Hands over the rows made so far and starts afresh."""
        rows, self.rows = self.rows, {model: [] for model, _columns in TABLES}
        for model, lines in rows.items():
            self.counts[model._meta.db_table] += len(lines)
        return rows

    # -- one order -------------------------------------------------------------------------

    def order(self, created: int) -> None:
        rng, stamp, r = self.rng, self.clock.stamp, self.rng.random
        oid, aid = self.take(Order), self.take(Address)
        number = format_order_number(oid)
        customer = people.demo_customer(int(self.customers * r() ** 1.5))
        channel = self.pick_channel.pick(r())
        method = self.pick_method.pick(r())
        lines: dict[int, tuple[_Product, int]] = {}
        wanted = 1 + bisect_count(r(), (0.5, 0.8, 0.95))
        for _ in range(wanted * 2):
            product = self.pick_product.pick(r())
            if product.id not in lines:
                lines[product.id] = (product, 1 + bisect_count(r(), (0.75, 0.95)))
                if len(lines) == wanted:
                    break
        subtotal = sum(p.cents * q for p, q in lines.values())
        total = subtotal + method.cents
        prefix = people.REFERENCE_PREFIX.get(channel)
        reference = f"{prefix}{oid:08d}" if prefix else ""
        events = [
            (
                "created", "", "unhandled", "",
                f'{{"channel": "{channel}", "external_reference": "{reference}", "total": "{_money(total)}"}}',
                created,
            )
        ]  # fmt: skip
        times: dict[str, int] = {}
        paid = refunded = 0
        ship_by = promised = NULL
        cancel_reason = ""
        status = "cancelled"
        fate = r()
        if fate < 0.025:  # never paid: cancelled by the expiry sweep, or on request
            expiry = created + 72 * HOUR + int(r() * 2 * HOUR)
            if expiry < self.now - HOUR and r() < 0.7:
                cancel_reason, at = "payment not received", expiry
            else:
                cancel_reason, at = rng.choice(people.CANCEL_REASONS), created + 1800 + int(r() * 15 * HOUR)
            times["cancelled_at"] = at
            events.append(("status_changed", "unhandled", "cancelled", cancel_reason, "{}", at))
        else:
            pay_method = self.pick_payment[channel].pick(r())
            delay = int(2 * HOUR + r() * 28 * HOUR) if pay_method == "bank_transfer" else int(5 + r() * 300)
            paid_at = times["paid_at"] = created + min(delay, self.now - 3 * HOUR - created)
            paid = total
            pay_id = self.take(Payment)
            money = _money(total)
            self.rows[Payment].append(
                f"{pay_id}\t{oid}\t{pay_method}\t{money}\tEUR\tdemo-{number}\tcaptured\t{stamp(paid_at)}"
            )
            ship_day, promised_day = self.clock.ship_by(method, paid_at)
            ship_by, promised = self.clock.day_text(ship_day), self.clock.day_text(promised_day)
            events += [
                ("payment_recorded", "", "", "", f'{{"payment_id": {pay_id}, "amount": "{money}", "method": '
                 f'"{pay_method}", "reference": "demo-{number}", "amount_paid": "{money}", "total": "{money}"}}',
                 paid_at),
                ("status_changed", "unhandled", "paid", "Payments cover the total.", "{}", paid_at),
                ("promised", "", "", f"ship by {ship_by}, delivery promised for {promised}",
                 f'{{"ship_by": "{ship_by}", "promised_delivery": "{promised}"}}', paid_at + 1),
            ]  # fmt: skip
            if fate < 0.035:  # paid, then cancelled before picking: the money goes back
                cancel_reason = rng.choice(people.CANCEL_REASONS)
                at = times["cancelled_at"] = min(paid_at + 1800 + int(r() * 5 * HOUR), self.now - 600)
                events.append(("status_changed", "paid", "cancelled", cancel_reason, "{}", at))
                refunded = self._refund(oid, number, total, pay_method, cancel_reason, at + 60, events)
            else:
                status, refunded = self._fulfil(
                    oid, number, paid_at, ship_day, method, lines, subtotal, pay_method, times, events
                )

        self.by_status[status] = self.by_status.get(status, 0) + 1
        c = customer
        self.rows[Address].append(f"{aid}\t{c.name}\t\t{c.line1}\t\t{c.city}\t\t{c.postal_code}\t{c.country}\t")
        stamps = "\t".join(
            stamp(times[f]) if f in times else NULL
            for f in ("paid_at", "picking_at", "packed_at", "shipped_at", "executed_at", "returned_at", "cancelled_at")
        )
        self.rows[Order].append(
            f"{oid}\t{stamp(created)}\t{stamp(max(e[5] for e in events))}\t{number}\t{channel}\t{reference}\t"
            f"{status}\tEUR\t{c.email}\t{c.name}\t{c.phone}\t{aid}\t{aid}\t{method.code}\t{_money(method.cents)}\t"
            f"{_money(subtotal)}\t{_money(total)}\t{_money(paid)}\t{_money(refunded)}\t\t{cancel_reason}\t{NULL}\t"
            f"{stamps}\t{ship_by}\t{promised}\t0"
        )
        package = self.package
        self.package = 0
        lines_out, items_out = self.rows[OrderLine], self.rows[PackageItem]
        for position, (product, quantity) in enumerate(lines.values()):
            line_id = self.take(OrderLine)
            lines_out.append(
                f"{line_id}\t{oid}\t{position}\t{product.id}\t{product.sku}\t{product.name}\t"
                f"{_money(product.cents)}\t{quantity}"
            )
            if package:
                items_out.append(f"{self.take(PackageItem)}\t{package}\t{line_id}\t{product.id}\t{quantity}")
        events_out, take = self.rows[OrderEvent], self.take
        for kind, from_status, to_status, note, data, at in events:
            events_out.append(
                f"{take(OrderEvent)}\t{oid}\t{kind}\t{from_status}\t{to_status}\t{note}\t{data}\t"
                f"{ActorKind.SYSTEM}\t{ACTOR}\t{NULL}\t{NULL}\t{stamp(at)}"
            )

    package = 0  # the package the order's lines go in, once packed

    def _refund(self, oid: int, number: str, cents: int, method: str, reason: str, at: int, events: list) -> int:
        refund_id, money = self.take(Refund), _money(cents)
        self.rows[Refund].append(
            f"{refund_id}\t{oid}\t{money}\tEUR\t{method}\tdemo-refund-{number}\t{reason}\t{self.clock.stamp(at)}\t{ACTOR}"
        )
        events.append(
            ("refund_recorded", "", "", reason, f'{{"refund_id": {refund_id}, "amount": "{money}", "method": '
             f'"{method}", "reference": "demo-refund-{number}", "amount_refunded": "{money}"}}', at)
        )  # fmt: skip
        return cents

    def _fulfil(
        self,
        oid: int,
        number: str,
        paid_at: int,
        ship_by_day: int,
        method: MethodCalendar,
        lines: dict[int, tuple[_Product, int]],
        subtotal: int,
        pay_method: str,
        times: dict[str, int],
        events: list,
    ) -> tuple[str, int]:
        """Picked on working hours, packed, handed over at the carrier's cut-off (a few late),
        tracked, delivered after the transit days, and a few sent back."""
        clock, now, r, stamp = self.clock, self.now, self.rng.random, self.clock.stamp
        picking = clock.working(paid_at + 300 + int(r() * 5100), r())
        packed = picking + 240 + int(r() * 1860)
        ship_day = ship_by_day
        if packed > clock.cutoff(method, ship_day) - 600 or r() < 0.03:  # missed the truck: late
            ship_day = clock.next_pickup(method, max(ship_day, clock.local_day(packed)))
        handover = max(clock.cutoff(method, ship_day) - 600 - int(r() * 2400), packed + 300)
        if handover > now - 600:  # the last day: the warehouse beat the deadline
            span = max(now - 600 - int(r() * HOUR) - paid_at, 600)
            picking, packed, handover = paid_at + span // 4, paid_at + span // 2, paid_at + span * 9 // 10
            ship_day = clock.local_day(handover)
        times.update(picking_at=picking, packed_at=packed, shipped_at=handover)
        events += [
            ("status_changed", "paid", "picking", "", "{}", picking),
            ("status_changed", "picking", "packed", "", "{}", packed),
            ("status_changed", "packed", "shipped", "", "{}", handover),
        ]
        s_packed = stamp(packed)

        # The warehouse: one weighed box with every line in it.
        grams = sum(p.grams * q for p, q in lines.values())
        box, tare = self.boxes[min(len(self.boxes) - 1, grams // 700)]
        session, package = self.take(PackingSession), self.take(Package)
        self.package = package
        self.rows[PackingSession].append(
            f"{session}\t{stamp(picking + 60)}\t{s_packed}\t{oid}\t{self.station}\t{self.packer}\tcompleted\t{s_packed}"
        )
        self.rows[Package].append(
            f"{package}\t{stamp(packed - 120)}\t{s_packed}\t{oid}\t{session}\t1\t{box}\tclosed\t{grams + tare}\t"
            f"{grams + tare}\t\t\t{s_packed}"
        )
        if r() < 0.02:
            self._accuracy(number, package, lines, picking, packed)

        # The carrier: tracking as it would have arrived, nothing from the future.
        fate = r()
        delayed = 1 if fate < 0.03 else 0
        delivery_day = clock.delivery(method, ship_day, delayed)
        day_start = clock.day_start(delivery_day)
        delivered = max(day_start + 9 * HOUR + int(r() * 9 * HOUR), handover + 2 * HOUR)
        track = [("in_transit", "Parcel at the sorting centre", handover + HOUR + int(r() * 3 * HOUR))]
        status, refunded, shipment_status, delivered_at = "shipped", 0, "handed_over", 0
        if fate < 0.002 and handover > now - 30 * DAY:  # damaged on the way, stuck in transit
            track.append(("exception", "Parcel damaged, held at the depot", handover + (20 + int(r() * 20)) * HOUR))
        elif 0.032 <= fate < 0.036:  # nobody collected it: back to the shop
            back = delivered + (4 + int(r() * 3)) * DAY
            track += [
                ("attempted_delivery", "Recipient not at home", delivered),
                ("returned_to_sender", "Returned to sender", back),
            ]
            returned = back + 4 * HOUR + int(r() * 26 * HOUR)
            if returned < now - 2 * HOUR:
                status, shipment_status = "returned", "returned"
                times["returned_at"] = returned
                note = "Returned to sender: not collected"
                events.append(("status_changed", "shipped", "returned", note, "{}", returned))
                refunded = self._refund(oid, number, subtotal, pay_method, "Not collected", returned + HOUR, events)
        else:
            if delayed:
                track.append(("delayed", "Delayed by the carrier", handover + (20 + int(r() * 10)) * HOUR))
            track += [
                (
                    "out_for_delivery",
                    "With the courier for delivery",
                    min(day_start + 7 * HOUR + 1800, delivered - 600),
                ),
                ("delivered", "Delivered", delivered),
            ]
            if delivered < now:
                status, shipment_status, delivered_at = "executed", "delivered", delivered
                times["executed_at"] = delivered
                events.append(("status_changed", "shipped", "executed", "", "{}", delivered))
                if fate > 0.97:  # the customer sent it back
                    returned = delivered + (3 + int(r() * 18)) * DAY + int(r() * DAY)
                    if returned < now - 2 * HOUR:
                        reason = self.rng.choice(people.RETURN_REASONS)
                        status, times["returned_at"] = "returned", returned
                        events.append(("status_changed", "executed", "returned", reason, "{}", returned))
                        refunded = self._refund(oid, number, subtotal, pay_method, reason, returned + HOUR, events)
        track = [t for t in track if t[2] < now - 60]
        self._shipment(oid, package, method, packed, handover, ship_day, shipment_status, track, delivered_at)
        return status, refunded

    def _accuracy(
        self, number: str, package: int, lines: dict[int, tuple[_Product, int]], picking: int, packed: int
    ) -> None:
        r = self.rng.random
        kind = self.pick_accuracy.pick(r())
        product, quantity = self.rng.choice(list(lines.values()))
        other = self.rng.choice(self.products).sku
        expected, actual, note = {
            "wrong_scan": (product.sku, other, ""),
            "short_pick": (str(quantity), str(quantity - 1), "Bin short by one unit"),
            "wrong_pack_scan": ("", other, ""),
            "over_pack": (str(quantity), str(quantity + 1), ""),
            "weight_override": ("", "", "Scale recalibrated; weight confirmed by hand"),
        }[kind]
        if kind in ("wrong_scan", "short_pick"):
            who, user, where, bin_code, at = (
                roles.PICKER,
                self.picker,
                NULL,
                product.bin,
                picking + int(r() * (packed - picking)),
            )
        else:
            who, user, where, bin_code, at = roles.PACKER, self.packer, str(package), "", packed - 60
        supervisor = self.manager if kind == "weight_override" else NULL
        self.rows[AccuracyEvent].append(
            f"{self.take(AccuracyEvent)}\t{kind}\t{number}\t{NULL}\t{where}\t{product.sku}\t{bin_code}\t{expected}\t"
            f"{actual}\t{note}\t{who}\t{user}\t{supervisor}\t{self.clock.stamp(at)}"
        )

    def _shipment(
        self,
        oid: int,
        package: int,
        method: MethodCalendar,
        packed: int,
        handover: int,
        ship_day: int,
        status: str,
        track: list[tuple[str, str, int]],
        delivered: int,
    ) -> None:
        stamp = self.clock.stamp
        carrier = self.carriers[method.carrier_id]
        serial = self.serial[carrier.pk] = self.serial[carrier.pk] + 1
        number = tracking_number(prefix=carrier.tracking_prefix or "DM", serial=serial, country=self.origin)
        manifest = self._manifest(carrier.pk, method, ship_day, handover)
        last_status, _text, last_at = track[-1] if track else ("", "", handover)
        s_last = stamp(last_at) if track else NULL
        s_handover, s_packed = stamp(handover), stamp(packed)
        shipment, label = self.take(Shipment), self.take(Label)
        self.rows[Shipment].append(
            f"{shipment}\t{s_packed}\t{stamp(max(last_at, handover))}\t{oid}\t{method.service_id}\t{carrier.pk}\t"
            f"{status}\t{s_handover}\t{stamp(delivered) if delivered else NULL}\t{last_status}\t{s_last}\t{NULL}"
        )
        issued = stamp(packed + 5)
        self.rows[Label].append(
            f"{label}\t{shipment}\t{package}\tlive\t{number}\t{number}\tpdf\t{NULL}\t\t1\t\t{s_packed}\t{issued}\t1\t"
            f"{issued}\t{NULL}\t\t\t{manifest}\t{s_handover}\t{roles.SHIPPER}\t{last_status}\t{s_last}"
        )
        out, iso = self.rows[TrackingEvent], self.clock.iso
        for step, (kind, text, at) in enumerate(track):
            event_id = f"demo-{number}-{step}"
            raw = (
                f'{{"status": "{kind}", "event_id": "{event_id}", "location": "{text}", '
                f'"occurred_at": "{iso(at)}", "tracking_number": "{number}"}}'
            )
            out.append(
                f"{self.take(TrackingEvent)}\t{label}\town:{event_id}\t{kind}\t{kind}\t{text}\t\t{stamp(at)}\t"
                f"{stamp(at + 90)}\t{SOURCE_OWN}\t{raw}"
            )

    def _manifest(self, carrier_id: int, method: MethodCalendar, ship_day: int, handover: int) -> int:
        """The day's manifest the parcel was scanned out on: one per carrier and pickup day."""
        key = (carrier_id, ship_day)
        found = self.manifests.get(key)
        if found is None:
            clock = self.clock
            found = self.manifests[key] = self.take(Manifest)
            closed = clock.stamp(min(max(clock.cutoff(method, ship_day) + 600, handover + 60), self.now - 60))
            opened = clock.stamp(min(clock.day_start(ship_day) + 6 * HOUR, handover))
            self.rows[Manifest].append(
                f"{found}\t{opened}\t{closed}\tMF-{found:06d}\t{carrier_id}\t{clock.day_text(ship_day)}\tclosed\t"
                f"{roles.SHIPPER}\t{closed}\t{roles.SHIPPER}"
            )
        return found


def bisect_count(r: float, bounds: tuple[float, ...]) -> int:
    """How many of the ascending ``bounds`` lie at or below ``r``."""
    n = 0
    for bound in bounds:
        if r < bound:
            break
        n += 1
    return n


def creation_times(count: int, start: int, end: int, clock: ShopClock, rng: random.Random) -> Iterator[int]:
    """``count`` order times between ``start`` and ``end``, in time order: busier as the shop
    grows over the year, on weekdays, in the evening and in the weeks before Christmas."""
    first, last = clock.local_day(start), clock.local_day(end)
    weights = []
    for day in range(first, last + 1):
        local = clock.date(day)
        season = 1.8 if (local.month == 11 and local.day >= 24) or (local.month == 12 and local.day <= 20) else 1.0
        weights.append((0.55 + 0.45 * (day - first) / max(last - first, 1)) * people.WEEKDAYS[(day + 3) % 7] * season)
    hours = people.Weighted(list(enumerate(people.HOURS)))
    total, cum, given = sum(weights), 0.0, 0
    r = rng.random
    for index, weight in enumerate(weights):
        cum += weight
        n = round(count * cum / total) - given
        given += n
        base = clock.day_start(first + index)
        low, high = max(base, start), min(base + DAY, end)
        times = []
        for _ in range(n):
            t = base + hours.pick(r()) * HOUR + int(r() * HOUR)
            times.append(t if low <= t < high else low + int(r() * max(high - low, 1)))
        yield from sorted(times)


def history_load(
    *,
    count: int,
    now: datetime | None = None,
    days: int = 365,
    chunk: int = CHUNK,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """Writes ``count`` finished or in-transit orders placed over the last ``days`` days
    (up to 20 hours ago), ``chunk`` orders per transaction, and calls ``progress(done,
    count)`` after each chunk.

    Side effects: rows in the order, fulfilment and shipping tables; table sequences and
    carrier serial counters moved past them; the planner's statistics refreshed. No outbox
    message. Raises RuntimeError when master data (products, methods delivered by carrier
    services, boxes, a packer) is missing or a model's columns changed."""
    check_columns()
    postgres = connection.vendor == "postgresql"
    clock = ShopClock(ZoneInfo(settings.TIME_ZONE), suffix="+00" if postgres else "")
    moment = int((now or timezone.now()).timestamp())
    rng = random.Random(seed)
    history = _History(clock=clock, now=moment, rng=rng, customers=max(50, count // 3))
    writer = ChunkWriter()
    done = 0
    try:
        for created in creation_times(count, moment - days * DAY, moment - RECENT, clock, rng):
            history.order(created)
            done += 1
            if done % chunk == 0 or done == count:
                writer.submit(history.chunk())
                if progress:
                    progress(done, count)
    finally:
        try:
            writer.close()
        finally:  # even after a failure: rows of chunks already written keep their ids
            counters_advance(history.ids, {pk: (history.serial_start[pk], last) for pk, last in history.serial.items()})
    if postgres and done:
        with connection.cursor() as cursor:  # the planner learns the new sizes before the first page
            for model, _columns in TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return LoadResult(orders=done, by_status=dict(history.by_status), rows=dict(history.counts))
