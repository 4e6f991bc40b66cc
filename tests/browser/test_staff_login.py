"""Staff log in from a browser (real Chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_staff

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_picker_logs_in_and_sees_their_role(page: Page, live_server) -> None:
    user = make_staff("picker", username="pia")
    user.set_password("correct horse battery")
    user.save()

    page.goto(f"{live_server.url}/staff/")
    page.get_by_label("User name").fill("pia")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Hello, pia")).to_be_visible()
    expect(page.get_by_text("Your roles: picker.")).to_be_visible()


def test_a_wrong_password_says_what_to_check_and_stays_on_the_log_in(page: Page, live_server) -> None:
    make_staff("packer", username="pat")

    page.goto(f"{live_server.url}/staff/login/")
    page.get_by_label("User name").fill("pat")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect(page).to_have_url(f"{live_server.url}/staff/login/")


def test_the_staff_pages_load_only_the_projects_own_assets(page: Page, live_server) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/staff/login/")
    page.wait_for_load_state("networkidle")

    assert requested and all(url.startswith(live_server.url) for url in requested), requested
    assert page.evaluate("typeof window.htmx") == "object"
