"""The dashboard pages are usable by everyone staff hire: on a 390 px phone without sideways
scrolling, with a screen reader (every form control has an accessible name), from the
keyboard alone, and with text dark enough to read (WCAG AA contrast, 4.5:1; 3:1 for large
text). Measured in real Chromium on the rendered pages, as a browser sees them."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.enums import IncidentKind
from dashboard.models import Incident
from dashboard.selectors.home import shop_today
from dashboard.services.incidents import incident_resolve, incidents_sync
from dashboard.services.jobs import bulk_job_start
from fulfillment.models import PickListOrder
from oms.common.actors import Actor
from orders.enums import OrderStatus, PaymentMethod
from orders.models import Order
from orders.services import payment_record
from tests.browser.test_picking_packing import PHONE, fits_the_screen, log_in, with_password
from tests.factories import SYSTEM, make_order
from tests.fulfillment.helpers import manager

pytestmark = pytest.mark.django_db(transaction=True)

# The accessible name of a form control as assistive technology computes it, in the order
# that wins: aria-labelledby, aria-label, a <label>; a title is a last resort. A placeholder
# is not a name (it vanishes once typed into). Hidden controls are left out.
UNNAMED_CONTROLS = """
() => {
  const text = (el) => (el ? el.textContent : "").trim();
  const named = (el) => {
    const by = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    if (by.some((id) => text(document.getElementById(id)))) return true;
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    if ([...(el.labels || [])].some((label) => text(label))) return true;
    return Boolean((el.getAttribute("title") || "").trim());
  };
  const controls = document.querySelectorAll("input, select, textarea, button, [role=button], summary, a[href]");
  return [...controls]
    .filter((el) => el.type !== "hidden" && !el.closest("[hidden], [aria-hidden=true]"))
    .filter((el) => {
      if (el.matches("input, select, textarea")) return !named(el);
      return !(text(el) || named(el));  // a button or link is named by its text
    })
    .map((el) => el.outerHTML.slice(0, 160));
}
"""

# Every visible element with text of its own: its text colour against the background it is
# drawn on (the nearest opaque background up the tree, with translucent layers blended in),
# by the WCAG 2 formula. Large text (24 px, or 18.66 px bold) needs 3:1, the rest 4.5:1.
LOW_CONTRAST = """
() => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  const failures = [];
  let measured = 0;
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("svg, script, style, [aria-hidden=true]") || !ownText(el)) continue;
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    if (el.matches(":disabled")) continue;  // WCAG exempts inactive controls
    measured += 1;
    const style = getComputedStyle(el);
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [light, dark] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
      const drawn = `rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)})`;
      const what = `${el.tagName.toLowerCase()} "${text.slice(0, 40)}"`;
      failures.push(`${what}: ${style.color} on ${drawn} is ${ratio.toFixed(2)}:1`);
    }
  }
  return { measured, failures: [...new Set(failures)] };
}
"""

FOCUSED = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
  return { tag: el.tagName.toLowerCase(), id: el.id, text: (el.textContent || "").trim(), ring };
}
"""


@pytest.fixture
def dashboard(live_server: Any) -> dict[str, str]:
    """A manager (who may open every dashboard page) and something on each page: orders on
    a queue and in search, one waiting for stock, an open and a resolved exception, a
    queued export job. Answers each page's
    address by a name for the failure messages."""
    boss = with_password(manager("max"))
    web = make_order(OrderStatus.PAID, email="ann@example.com", skus=("TEE",))
    make_order(OrderStatus.PAID, email="ann@example.com", skus=("MUG",), channel="marketplace")
    underpaid = make_order(OrderStatus.UNHANDLED, email="ann@example.com", skus=("CAP",))
    payment_record(
        actor=SYSTEM, number=underpaid.number, amount=Decimal("10.00"), method=PaymentMethod.BANK_TRANSFER,
        reference="part-1",
    )  # fmt: skip
    waiting = make_order(OrderStatus.PAID, skus=("BACK",), stocked=False, allow_backorder=True)
    assert incidents_sync() == 2  # the payment mismatch and the stock shortage
    shortage = Incident.objects.get(kind=IncidentKind.STOCK_SHORTAGE)
    incident_resolve(user=boss, incident_id=shortage.pk, note="Supplier delivers on Monday")
    today = shop_today(timezone.now())
    job = bulk_job_start(
        actor=Actor.for_user(boss), user=boss, kind="export_orders",
        params={"date_from": (today - timedelta(days=1)).isoformat(), "date_to": today.isoformat()},
    )  # fmt: skip
    base = live_server.url
    return {
        "home": f"{base}/staff/",
        "queue": f"{base}/staff/queues/ready_to_pick/",
        "search results": f"{base}/staff/search/?q=ann%40example.com",
        "order page": f"{base}/staff/orders/{web.number}/",
        "order waiting for stock": f"{base}/staff/orders/{waiting.number}/",
        "edit form": f"{base}/staff/orders/{web.number}/edit/",
        "exceptions": f"{base}/staff/exceptions/",
        "resolved exceptions": f"{base}/staff/exceptions/?tab=resolved",
        "KPIs": f"{base}/staff/kpis/",
        "jobs": f"{base}/staff/jobs/",
        "job": f"{base}/staff/jobs/{job.pk}/",
        "job export form": f"{base}/staff/jobs/export/",
    }


def visit_all(page: Page, live_server: Any, pages: dict[str, str], check: str) -> dict[str, Any]:
    """Runs the script ``check`` on every page; answers what it found, by page, when found."""
    log_in(page, live_server.url, "max")
    found = {}
    for name, url in pages.items():
        answer = page.goto(url)
        assert answer is not None and answer.status == 200, (name, answer and answer.status)
        result = page.evaluate(check)
        if result:
            found[name] = result
    return found


def test_every_dashboard_page_fits_a_phone_without_sideways_scrolling(
    page: Page, live_server: Any, dashboard: dict[str, str]
) -> None:
    found = visit_all(page, live_server, dashboard, "document.documentElement.scrollWidth > window.innerWidth")
    assert found == {}
    assert page.viewport_size == PHONE


def test_every_form_control_and_button_on_the_dashboard_has_an_accessible_name(
    page: Page, live_server: Any, dashboard: dict[str, str]
) -> None:
    assert visit_all(page, live_server, dashboard, UNNAMED_CONTROLS) == {}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_on_every_dashboard_page_meets_the_contrast_minimum(
    page: Page, live_server: Any, dashboard: dict[str, str], scheme: str
) -> None:
    """In the light and the dark scheme: Pico follows the phone's setting."""
    page.emulate_media(color_scheme=scheme)
    found = {}
    log_in(page, live_server.url, "max")
    for name, url in dashboard.items():
        page.goto(url)
        # Open every <details> too, so the text folded inside is measured.
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        result = page.evaluate(LOW_CONTRAST)
        assert result["measured"] >= 20, (name, result)  # the page's text was read
        if result["failures"]:
            found[name] = result["failures"]
    assert found == {}, "\n".join(f"{name}: {failure}" for name, failures in found.items() for failure in failures)


def test_a_queue_is_filtered_from_the_keyboard_alone_with_the_focus_always_visible(
    page: Page, live_server: Any, dashboard: dict[str, str]
) -> None:
    marketplace = Order.objects.get(channel="marketplace")
    web = Order.objects.get(lines__sku="TEE")
    log_in(page, live_server.url, "max")
    page.goto(dashboard["queue"])

    def tab_to(what: str, *, back: bool = False, limit: int = 60) -> dict[str, Any]:
        for _ in range(limit):
            page.keyboard.press("Shift+Tab" if back else "Tab")
            focused = page.evaluate(FOCUSED)
            if what in (focused["id"], focused["text"]):
                assert focused["ring"], f"{what} has the focus but shows no focus ring"
                return focused
        raise AssertionError(f"Tab never reached {what!r}")

    tab_to("Filter and sort")
    page.keyboard.press("Enter")  # opens the filters
    expect(page.get_by_label("Channel")).to_be_visible()
    tab_to("id_channel")
    page.keyboard.type("Marketplace")  # a closed select picks the option typed
    expect(page.get_by_label("Channel")).to_have_value("marketplace")
    tab_to("Show")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/staff/queues/ready_to_pick/\?(.*&)?channel=marketplace(&|$)"))
    table = page.get_by_role("table", name="Ready to pick: orders")
    expect(table.get_by_role("link", name=marketplace.number)).to_be_visible()
    expect(table.get_by_role("link", name=web.number)).to_have_count(0)

    tab_to(f"select-{marketplace.number}")
    page.keyboard.press("Space")
    expect(page.get_by_role("checkbox", name=f"Select {marketplace.number}")).to_be_checked()
    tab_to("Start a pick list for me", back=True)
    page.keyboard.press("Enter")

    result = page.get_by_role("status", name="Start a pick list: the result")
    expect(result).to_contain_text("Done for 1 order.")
    expect(page).to_have_url(re.compile(r"/staff/queues/ready_to_pick/\?(.*&)?channel=marketplace(&|$)"))
    assert fits_the_screen(page)
    assert Order.objects.get(pk=marketplace.pk).status == OrderStatus.PAID  # on a list, not started yet
    assert PickListOrder.objects.get().order_id == marketplace.pk
