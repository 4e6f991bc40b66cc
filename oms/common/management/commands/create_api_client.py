from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.common import roles
from oms.common.errors import ApplicationError
from oms.common.services import api_client_create


class Command(BaseCommand):
    help = "Creates an API client and prints its key (alone, on the last line). The key is shown only once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A name for the integrator, such as 'webshop' or 'erp'.")
        parser.add_argument(
            "--role",
            action="append",
            dest="role_names",
            choices=roles.ALL_ROLES,
            help=f"Role(s) the client acts with; repeatable. Default: {roles.INTEGRATOR}.",
        )

    def handle(self, *args: Any, name: str, role_names: list[str] | None, **options: Any) -> None:
        chosen = role_names or [roles.INTEGRATOR]
        try:
            created = api_client_create(name=name, roles=chosen)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Created API client {created.client.name} (roles: {', '.join(chosen)}). "
            "Store this key now; it cannot be shown again:"
        )
        self.stdout.write(created.raw_key)
