"""The Content Security Policy holds on the pages staff and customers use: real Chromium loads
each one under the policy the server sends, and not one script, style sheet, inline style or
image is refused (Chromium reports each refusal as a console error and as a
``securitypolicyviolation`` event; both are collected)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import ConsoleMessage, Page, expect

from notifications.status_links import status_link_path
from orders.enums import OrderStatus
from tests.browser.test_dashboard_a11y import dashboard  # noqa: F401 - the fixture
from tests.browser.test_picking_packing import PASSWORD, log_in
from tests.factories import make_order
from tests.notifications.test_status_page import shipped_in_two_parcels

pytestmark = pytest.mark.django_db(transaction=True)

# Runs in every document before its own scripts; CDP puts it there, so the policy allows it.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = e.sourceFile || e.documentURI;
  window.__cspViolations.push(`${e.violatedDirective} refused ${e.blockedURI || "inline"} in ${where}`);
});
"""


class Violations:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def visit(self, url: str) -> list[str]:
        """Opens ``url``, waits until it has loaded everything, and answers every refusal."""
        self.console.clear()
        answer = self.page.goto(url, wait_until="networkidle")
        assert answer is not None and answer.status == 200, (url, answer and answer.status)
        assert "default-src 'self'" in (answer.header_value("content-security-policy") or ""), url
        events = self.page.evaluate("window.__cspViolations")
        return [*self.console, *events]


@pytest.fixture
def violations(page: Page) -> Iterator[Violations]:
    yield Violations(page)


def assert_clean(found: dict[str, list[str]]) -> None:
    assert not {name: v for name, v in found.items() if v}, found


def test_no_dashboard_or_warehouse_page_breaks_the_content_security_policy(
    page: Page,
    live_server: Any,
    violations: Violations,
    dashboard: dict[str, str],  # noqa: F811
) -> None:
    pages = {
        **dashboard,
        "notifications": f"{live_server.url}/staff/notifications/",
        "email previews": f"{live_server.url}/staff/notifications/previews/",
        # The email itself is framed from its own address, under its own policy.
        "an email preview": f"{live_server.url}/staff/notifications/previews/order_received/",
        "labels": f"{live_server.url}/staff/labels/",
        "ship today": f"{live_server.url}/staff/ship-today/",
        "hand-over": f"{live_server.url}/staff/handover/",
        "picking": f"{live_server.url}/staff/picking/",
        "packing": f"{live_server.url}/staff/packing/",
    }
    log_in(page, live_server.url, "max")

    assert_clean({name: violations.visit(url) for name, url in pages.items()})


def test_the_queue_selects_every_order_from_its_script_file(
    page: Page,
    live_server: Any,
    violations: Violations,
    dashboard: dict[str, str],  # noqa: F811
) -> None:
    log_in(page, live_server.url, "max")
    assert violations.visit(dashboard["queue"]) == []

    page.get_by_label("All on this page").check()

    boxes = page.locator('.bulk-actions input[name="orders"]')
    expect(boxes.first).to_be_checked()
    assert boxes.count() >= 2
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))


def test_a_dismissed_confirmation_cancels_nothing(
    page: Page,
    live_server: Any,
    violations: Violations,
    dashboard: dict[str, str],  # noqa: F811
) -> None:
    from orders.models import Order

    log_in(page, live_server.url, "max")
    violations.visit(dashboard["queue"])
    page.get_by_label("All on this page").check()
    page.get_by_label("Reason for cancelling").fill("Asked by the customer")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Cancel the orders").click()

    assert asked == ["Cancel the selected orders? This cannot be undone."]
    assert not Order.objects.filter(status=OrderStatus.CANCELLED).exists()


def test_no_customer_page_breaks_the_content_security_policy(
    page: Page, live_server: Any, violations: Violations
) -> None:
    order = shipped_in_two_parcels()
    placed = make_order(OrderStatus.PAID)

    assert_clean(
        {
            "status page": violations.visit(f"{live_server.url}{status_link_path(order)}"),
            "paid order": violations.visit(f"{live_server.url}{status_link_path(placed)}"),
            "look-up": violations.visit(f"{live_server.url}/track/"),
        }
    )


def test_the_log_in_admin_and_api_docs_keep_to_the_content_security_policy(
    page: Page, live_server: Any, violations: Violations
) -> None:
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    found = {"staff log-in": violations.visit(f"{live_server.url}/staff/login/")}

    found["API docs"] = violations.visit(f"{live_server.url}/api/v1/docs/")
    # Swagger UI built the page from the schema it fetched: the script file ran.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("OMS API")
    expect(page.locator(".opblock").first).to_be_visible()

    found["admin log-in"] = violations.visit(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    found["admin index"] = violations.visit(f"{live_server.url}/admin/")
    found["admin orders"] = violations.visit(f"{live_server.url}/admin/orders/order/")
    found["admin add product"] = violations.visit(f"{live_server.url}/admin/inventory/product/add/")

    assert_clean(found)
