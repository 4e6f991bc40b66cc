"""Who buys, through which channel, how they pay, and why they send things back: the mix of a
mid-sized European web shop. Customers are numbered; the ``k``-th is always the same person,
so returning customers order again under the same name and email."""

from __future__ import annotations

import unicodedata
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orders.enums import PaymentMethod, SalesChannel

# country: share, first names, last names, (street, city, postal code pattern), phone prefix
_COUNTRIES: dict[str, tuple[int, list[str], list[str], list[tuple[str, str, str]], str]] = {
    "PL": (
        45,
        ["Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Paweł", "Agnieszka", "Michał", "Zofia", "Jakub"],
        ["Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański"],
        [
            ("Marszałkowska", "Warszawa", "00-{:03d}"),
            ("Floriańska", "Kraków", "31-{:03d}"),
            ("Piotrkowska", "Łódź", "90-{:03d}"),
            ("Świdnicka", "Wrocław", "50-{:03d}"),
            ("Długa", "Gdańsk", "80-{:03d}"),
            ("Półwiejska", "Poznań", "61-{:03d}"),
        ],
        "+48 5",
    ),
    "DE": (
        20,
        ["Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Paul", "Sophie", "Jürgen", "Hanna"],
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"],
        [
            ("Hauptstraße", "Berlin", "10{:03d}"),
            ("Bahnhofstraße", "Hamburg", "20{:03d}"),
            ("Schillerstraße", "München", "80{:03d}"),
            ("Gartenweg", "Köln", "50{:03d}"),
        ],
        "+49 15",
    ),
    "GB": (
        8,
        ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily"],
        ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans"],
        [
            ("High Street", "Leeds", "LS{} 4AP"),
            ("Station Road", "Bristol", "BS{} 1QA"),
            ("Church Lane", "York", "YO{} 7HT"),
        ],
        "+44 7",
    ),
    "FR": (
        8,
        ["Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Camille", "Jules"],
        ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Lefèvre"],
        [("rue de Rivoli", "Paris", "75{:03d}"), ("rue de la République", "Lyon", "69{:03d}")],
        "+33 6",
    ),
    "NL": (
        7,
        ["Daan", "Emma", "Sem", "Julia", "Lucas", "Tess"],
        ["de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser"],
        [("Kerkstraat", "Amsterdam", "10{:02d} AB"), ("Dorpsstraat", "Utrecht", "35{:02d} CD")],
        "+31 6",
    ),
    "CZ": (
        7,
        ["Jan", "Tereza", "Petr", "Eliška", "Lukáš", "Anna"],
        ["Novák", "Svobodová", "Dvořák", "Černá", "Procházka", "Kučerová"],
        [("Václavské náměstí", "Praha", "110 {:02d}"), ("Masarykova", "Brno", "602 {:02d}")],
        "+420 6",
    ),
    "ES": (
        5,
        ["Lucía", "Hugo", "Martina", "Daniel", "Sofía", "Pablo"],
        ["García", "Fernández", "López", "Martínez", "Sánchez", "Pérez"],
        [("Calle Mayor", "Madrid", "28{:03d}"), ("Carrer de Balmes", "Barcelona", "08{:03d}")],
        "+34 6",
    ),
}
_COUNTRY_TABLE = [code for code, spec in _COUNTRIES.items() for _ in range(spec[0])]
# Reserved for documentation (RFC 2606): mail to the demo customers goes nowhere.
_DOMAINS = ["example.com", "example.net", "example.org"]

CHANNELS: list[tuple[str, float]] = [
    (SalesChannel.WEB, 58),
    (SalesChannel.MARKETPLACE, 25),
    (SalesChannel.API, 7),
    (SalesChannel.PHONE, 5),
    (SalesChannel.EMAIL, 3),
    (SalesChannel.STAFF, 2),
]
# The channel's own order reference; phone, email and staff orders have none.
REFERENCE_PREFIX = {SalesChannel.WEB: "WEB-", SalesChannel.MARKETPLACE: "MP-", SalesChannel.API: "ERP-"}
PAYMENT_METHODS: dict[str, list[tuple[str, float]]] = {
    SalesChannel.WEB: [(PaymentMethod.CARD, 60), (PaymentMethod.PAYPAL, 25), (PaymentMethod.BANK_TRANSFER, 15)],
    SalesChannel.MARKETPLACE: [(PaymentMethod.MARKETPLACE, 1)],
    SalesChannel.API: [(PaymentMethod.CARD, 70), (PaymentMethod.BANK_TRANSFER, 30)],
    SalesChannel.PHONE: [(PaymentMethod.BANK_TRANSFER, 60), (PaymentMethod.CARD, 40)],
    SalesChannel.EMAIL: [(PaymentMethod.BANK_TRANSFER, 80), (PaymentMethod.CARD, 20)],
    SalesChannel.STAFF: [(PaymentMethod.CASH, 50), (PaymentMethod.CARD, 50)],
}
METHOD_SHARE = {"standard": 60, "pickup": 25, "express": 15}  # any other method: 10
CANCEL_REASONS = ["Customer changed their mind", "Duplicate order", "Address could not be verified"]
RETURN_REASONS = [
    "Wrong size",
    "Not as described",
    "Damaged in transit",
    "Changed their mind",
    "Arrived too late",
    "Wrong item sent",
]
# Orders per hour of the shop's day, with the evening peak; per weekday, Monday first.
HOURS = [1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4.5, 5, 5, 5, 4.8, 4.6, 4.5, 4.8, 5.5, 6.5, 7, 6, 4, 2]
WEEKDAYS = [1.1, 1.05, 1.0, 1.0, 0.95, 0.8, 0.9]
ACCURACY = [("wrong_scan", 35), ("short_pick", 15), ("wrong_pack_scan", 25), ("over_pack", 10), ("weight_override", 15)]


class Weighted:
    """Draws items by weight with one ``random()`` and a bisection (``random.choices`` costs
    several times more, and the loader draws tens of millions of times)."""

    def __init__(self, weights: Sequence[tuple[Any, float]]) -> None:
        self.items = [item for item, _weight in weights]
        self.cum: list[float] = []
        total = 0.0
        for _item, weight in weights:
            total += weight
            self.cum.append(total)
        self.total = total

    def pick(self, r: float) -> Any:
        """The item at ``r`` (0 <= r < 1) of the weight line."""
        return self.items[min(bisect(self.cum, r * self.total), len(self.items) - 1)]


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and c.isalnum()).lower()


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    phone: str
    line1: str
    city: str
    postal_code: str
    country: str


def demo_customer(k: int) -> Customer:
    """The ``k``-th demo customer."""
    country = _COUNTRY_TABLE[k % len(_COUNTRY_TABLE)]
    _share, firsts, lasts, streets, phone = _COUNTRIES[country]
    first = firsts[(k // 7) % len(firsts)]
    last = lasts[(k // 3 + k // 11) % len(lasts)]
    street, city, postal = streets[(k // 13) % len(streets)]
    house = k % 140 + 1
    return Customer(
        name=f"{first} {last}",
        email=f"{_ascii(first)}.{_ascii(last)}{k}@{_DOMAINS[k % 3]}",
        phone=f"{phone}{k % 100:02d} {k * 7919 % 1000:03d} {k * 104_729 % 1000:03d}" if k % 4 else "",
        line1=f"{house} {street}" if country in ("GB", "FR") else f"{street} {house}",
        city=city,
        postal_code=postal.format(k % 90 + 1),
        country=country,
    )
