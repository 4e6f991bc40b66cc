"""``/healthz``: 200 when the database and the broker answer, 503 naming what does not.

``/healthz?check=database`` checks the database alone: what a load balancer should probe,
since a web server whose broker is down still takes orders (the outbox keeps their side
effects until the broker is back), while one without its database serves nothing."""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_broker() -> str:
    from oms.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


CHECKS = ("database", "broker")


def _check(name: str) -> str:
    return check_database() if name == "database" else check_broker()


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    asked = [name for value in request.GET.getlist("check") for name in value.split(",") if name]
    unknown = sorted(set(asked) - set(CHECKS))
    if unknown:
        return JsonResponse(
            {
                "code": "unknown_check",
                "message": f"No health check is called {', '.join(unknown)}: ask for any of {', '.join(CHECKS)}.",
            },
            status=400,
        )
    checks: dict[str, str] = {}
    healthy = True
    for name in CHECKS:
        if asked and name not in asked:
            continue
        try:
            checks[name] = _check(name)
        except Exception as exc:  # any failure means unhealthy; say which and why
            logger.warning("health check %s failed: %s", name, exc)
            checks[name] = f"unavailable: {exc.__class__.__name__}"
            healthy = False
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
