"""Tracking numbers in the UPU S10 shape used by postal operators and many couriers: two
letters, eight serial digits, a check digit, and the two-letter country of origin
(``FL473124829PL``). The check digit catches a mistyped digit or two swapped ones when a
number is keyed in at the dock or by a customer."""

from __future__ import annotations

import re

_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_PATTERN = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
MAX_SERIAL = 99_999_999


def check_digit(serial: str) -> int:
    """The S10 check digit of eight serial digits."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError("An S10 serial is exactly eight digits.")
    remainder = sum(int(d) * w for d, w in zip(serial, _WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    return {10: 0, 11: 5}.get(check, check)


def tracking_number(*, prefix: str, serial: int, country: str) -> str:
    """Formats the ``serial``-th number of a carrier (``prefix``) shipping from ``country``."""
    if not (len(prefix) == 2 and prefix.isalpha() and len(country) == 2 and country.isalpha()):
        raise ValueError("The prefix and the country are two letters each.")
    if not 0 < serial <= MAX_SERIAL:
        raise ValueError(f"The serial must be between 1 and {MAX_SERIAL}.")
    digits = f"{serial:08d}"
    return f"{prefix.upper()}{digits}{check_digit(digits)}{country.upper()}"


def is_valid(number: str) -> bool:
    """Whether ``number`` has the S10 shape and its check digit agrees."""
    match = _PATTERN.match(number.strip().upper())
    return bool(match) and check_digit(match.group(2)) == int(match.group(3))  # type: ignore[union-attr]
