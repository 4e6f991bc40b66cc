"""Every answer carries the security headers: on an HTML page, an API answer and /healthz. HSTS
and the HTTPS redirect only when the settings say the system runs behind a TLS proxy: those
settings are computed from the environment at import, so that case runs in a new process
started with the environment production uses. ``manage.py check --deploy`` with that
environment reports nothing."""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from notifications.previews import PREVIEW_KINDS
from oms.common import roles
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(header: str) -> dict[str, str]:
    parts = [part.strip().split(None, 1) for part in header.split(";") if part.strip()]
    return {name: (rest[0] if rest else "") for name, *rest in parts}


def assert_common_headers(response: Any) -> None:
    assert directives(response["Content-Security-Policy"]) == POLICY
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def staff_page() -> Any:
    response = Client().get("/staff/login/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response


def api_answer(integrator: APIClient) -> Any:
    response = integrator.get("/api/v1/orders/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response


# --- in this process: the settings the suite runs with (no TLS proxy) ------------------------


def test_an_html_page_carries_every_security_header() -> None:
    assert_common_headers(staff_page())


def test_an_api_answer_carries_every_security_header(integrator: APIClient) -> None:
    assert_common_headers(api_answer(integrator))


def test_an_api_error_carries_every_security_header() -> None:
    response = Client().get("/api/v1/orders/")

    assert response.status_code == 401
    assert_common_headers(response)


def test_healthz_carries_every_security_header() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert_common_headers(response)


def test_the_customer_lookup_and_the_api_docs_carry_the_policy() -> None:
    for url in ("/track/", "/api/v1/docs/", "/admin/login/"):
        response = Client().get(url)
        assert response.status_code == 200, url
        assert_common_headers(response)


def test_the_email_frame_keeps_its_own_stricter_policy_and_may_be_framed_by_the_site() -> None:
    client = Client()
    client.force_login(make_staff(roles.SUPPORT))

    response = client.get(f"/staff/notifications/previews/{PREVIEW_KINDS[0]}/html/")

    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == "'none'"
    assert "script-src" not in policy  # falls back to default-src 'none': no script at all
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_without_the_proxy_setting_no_hsts_and_a_forwarded_https_header_is_not_trusted() -> None:
    assert settings.SECURE_HSTS_SECONDS == 0
    assert settings.SECURE_SSL_REDIRECT is False

    for response in (
        Client().get("/staff/login/", HTTP_X_FORWARDED_PROTO="https"),
        Client().get("/healthz", HTTP_X_FORWARDED_PROTO="https"),
        Client().get("/staff/login/", secure=True),
    ):
        assert "Strict-Transport-Security" not in response
        assert response.status_code == 200


# --- a new process with the production environment -------------------------------------------

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client

def headers(response):
    return {"status": response.status_code, **{k: v for k, v in response.items()}}

out = {}
client = Client(HTTP_HOST="shop.example.com")
out["html_https"] = headers(client.get("/staff/login/", HTTP_X_FORWARDED_PROTO="https"))
out["html_http"] = headers(client.get("/staff/login/"))
out["api_https"] = headers(client.get("/api/v1/orders/", HTTP_X_FORWARDED_PROTO="https"))
out["healthz_https"] = headers(client.get("/healthz", HTTP_X_FORWARDED_PROTO="https"))
out["healthz_http"] = headers(client.get("/healthz"))
out["settings"] = {
    "debug": settings.DEBUG,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
}
print(json.dumps(out))
"""


def production_env(**extra: str) -> dict[str, str]:
    """The environment of a production web process, on this test run's database and Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OMS_", "PYTEST_"))}
    db = connection.settings_dict
    env.update(
        DJANGO_SECRET_KEY="".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(50)),
        DJANGO_ALLOWED_HOSTS="shop.example.com",
        OMS_BEHIND_HTTPS_PROXY="true",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=os.environ["REDIS_URL"],
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


@pytest.fixture(scope="module")
def behind_proxy(django_db_blocker: Any) -> dict[str, Any]:
    # oms.settings_test only swaps the static files storage (no collectstatic in tests); the
    # security settings are those oms.settings computes from this environment.
    with django_db_blocker.unblock():
        env = production_env(DJANGO_SETTINGS_MODULE="oms.settings_test")
    done = run([sys.executable, "-c", PROBE], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_behind_the_proxy_https_answers_carry_hsts_and_every_other_header(behind_proxy: dict[str, Any]) -> None:
    for name in ("html_https", "api_https", "healthz_https"):
        answer = behind_proxy[name]
        assert answer["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", name
        assert "preload" not in answer["Strict-Transport-Security"]
        assert directives(answer["Content-Security-Policy"]) == POLICY, name
        assert answer["X-Frame-Options"] == "DENY", name
        assert answer["Referrer-Policy"] == "same-origin", name
        assert answer["X-Content-Type-Options"] == "nosniff", name
    assert behind_proxy["html_https"]["status"] == 200
    assert behind_proxy["api_https"]["status"] == 401  # no credentials: the API's own answer
    assert behind_proxy["healthz_https"]["status"] == 200


def test_behind_the_proxy_plain_http_is_redirected_except_the_health_check(behind_proxy: dict[str, Any]) -> None:
    assert behind_proxy["html_http"]["status"] == 301
    assert behind_proxy["html_http"]["Location"] == "https://shop.example.com/staff/login/"
    assert "Strict-Transport-Security" not in behind_proxy["html_http"]  # only sent over HTTPS
    # The load balancer probes over plain HTTP inside the network.
    assert behind_proxy["healthz_http"]["status"] == 200
    assert behind_proxy["settings"] == {"debug": False, "session_cookie_secure": True, "csrf_cookie_secure": True}


def test_check_deploy_reports_no_issue_with_the_production_environment() -> None:
    env = production_env(DJANGO_SETTINGS_MODULE="oms.settings")
    env.pop("DJANGO_DEBUG", None)

    done = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout + done.stderr
    assert "WARNINGS" not in done.stdout + done.stderr


def test_check_deploy_does_complain_without_the_https_proxy() -> None:
    """The check above can fail: without TLS it names the missing HSTS and redirect."""
    env = production_env(DJANGO_SETTINGS_MODULE="oms.settings", OMS_BEHIND_HTTPS_PROXY="false")

    done = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert done.returncode != 0
    assert "security.W004" in done.stderr  # no HSTS
    assert "security.W008" in done.stderr  # no redirect to HTTPS
