"""Shared by the permission-matrix tests: the table format and a client per role."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework.test import APIClient

from tests.factories import make_api_client


def parse_matrix(table: str) -> tuple[list[str], dict[tuple[str, str], str]]:
    """``endpoint role role ...`` header, then one row per endpoint of A/F/U marks."""
    header, *rows = [line.split() for line in table.strip().splitlines()]
    roles = header[1:]
    return roles, {(row[0], role): mark for row in rows for role, mark in zip(roles, row[1:], strict=True)}


def client_for_role(role: str, staff_client: Callable[[str | None], APIClient]) -> APIClient:
    """A client acting as ``role``: a staff user, the integrator's API key, no role, or anonymous."""
    if role == "anonymous":
        return APIClient()
    if role == "integrator":
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_client('perm-integrator').raw_key}")
        return client
    return staff_client(None if role == "no_role" else role)
