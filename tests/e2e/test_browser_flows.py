"""Browser flows on a live stack: dev accounts, the wallet path, and provider registration."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from marketplace.domain import decode_booking_id
from tests.support.browser import SCREENSHOTS, Stack

pytestmark = pytest.mark.e2e

TIMEOUT = 120_000  # ms: bounds a hang; every wait is for a condition


def shot(page: Page, name: str, *, full: bool = True) -> None:
    """Keep a screenshot under reports/screenshots/ (full page unless the test clicks next:
    Chromium may drop the next click after the viewport resize a full-page shot makes)."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full)


def act_as(page: Page, stack: Stack, index: int) -> None:
    """Switch to dev account `index` with the switcher on the sign-in page."""
    page.goto(stack.url("/auth/signin"))
    page.select_option("#dev-account", str(index))
    page.click("#dev-switcher button[type=submit]")
    expect(page.get_by_test_id("current-account")).to_have_attribute(
        "title", stack.world.address(index), timeout=TIMEOUT)


def owner_index(stack: Stack, provider_id: int) -> int:
    """The dev account owning a provider."""
    owner = str(stack.world.market.listing(provider_id)["owner"]).lower()
    return stack.world.addresses.index(owner)


def confirm_review(page: Page) -> None:
    """The review step before anything is signed (issue 14): check it is there, confirm."""
    expect(page.get_by_test_id("tx-review")).to_be_visible(timeout=TIMEOUT)
    page.click("[data-testid=review-confirm]")


def booking_action(page: Page, name: str) -> None:
    """Press an action button on a booking page, confirm its review, and wait for the booking
    page again."""
    page.click(f"button[data-action={name}]")
    confirm_review(page)
    page.wait_for_url(re.compile(r".*/bookings/0x[0-9a-f]+$"), timeout=TIMEOUT)


def pick_slot(page: Page, stack: Stack, days: int = 2) -> None:
    """Fill the booking page's slot: `days` ahead at 10:00, an hour."""
    import time

    page.fill("#slot_date", time.strftime("%Y-%m-%d", time.gmtime(stack.world.now()
                                                                  + days * 86_400)))
    page.fill("#slot_time", "10:00")


def test_a_customer_sets_criteria_books_and_the_provider_delivers_and_the_customer_rates(
    page: Page, stack: Stack
) -> None:
    customer = 4
    act_as(page, stack, customer)
    shot(page, "01-home")

    page.goto(stack.url("/criteria?category=rides"))
    page.select_option("#region", "helsinki")
    page.fill("#min_stars", "3")
    page.fill("#max_price", "0.1")
    page.fill("#premium_per_star", "0.01")
    page.check("input[name=refused][value=smoker]")
    page.fill("#score_weight", "60")
    page.fill("#price_weight", "40")
    expect(page.get_by_test_id("live-count")).to_contain_text("3 of 4 providers",
                                                              timeout=TIMEOUT)
    page.get_by_test_id("live-count").scroll_into_view_if_needed()
    shot(page, "02-criteria-editor", full=False)
    page.click("#criteria-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/matches\?category=rides$"), timeout=TIMEOUT)
    expect(page.get_by_test_id("match-summary")).to_contain_text("3")
    first = page.locator("li.match").first
    expect(first.locator(".reasons li").first).to_contain_text("score")
    shot(page, "03-matches")

    provider_id = int(first.get_attribute("data-provider-id") or 0)
    first.locator("a.button").click()
    expect(page.get_by_test_id("quoted-price")).to_contain_text("ETH")
    pick_slot(page, stack)
    shot(page, "04-quote")
    page.click("#book-form button[type=submit]")
    confirm_review(page)
    page.wait_for_url(re.compile(r".*/bookings/0x[0-9a-f]+$"), timeout=TIMEOUT)
    expect(page.get_by_test_id("booking-status")).to_have_attribute("data-status", "requested")
    booking_url = page.url
    shot(page, "05-booking-requested")

    act_as(page, stack, owner_index(stack, provider_id))
    page.goto(stack.url("/provider/"))
    shot(page, "06-provider-dashboard")
    booking_id = booking_url.rsplit("/", 1)[1]
    page.click(f"tr[data-booking-id='{booking_id}'] button[data-action=accept]")
    confirm_review(page)
    page.wait_for_url(re.compile(r".*/bookings/0x[0-9a-f]+$"), timeout=TIMEOUT)
    expect(page.get_by_test_id("booking-status")).to_have_attribute("data-status", "accepted")
    # To the slot's start (from the booking id), whatever the time of day: a provider
    # completes only from then, and not after the end and grace.
    start = decode_booking_id(int(booking_id, 16)).start
    stack.world.mine(max(0, start - stack.world.now()))
    page.reload()
    booking_action(page, "complete")
    expect(page.get_by_test_id("booking-status")).to_have_attribute("data-status", "completed")

    act_as(page, stack, customer)
    page.goto(booking_url)
    booking_action(page, "confirm")
    expect(page.get_by_test_id("booking-status")).to_have_attribute("data-status", "settled")
    expect(page.locator("#rate-form input[name=stars]:checked")).to_have_count(0)  # no preset
    page.check("#rate-form input[name=stars][value='2']")
    page.check("#rate-form input[name=complaint_tags][value=uncomfortable_vehicle]")
    page.click("#rate-form button[type=submit]")
    confirm_review(page)
    page.wait_for_url(re.compile(r".*/bookings/0x[0-9a-f]+$"), timeout=TIMEOUT)
    expect(page.locator(".facts")).to_contain_text("Uncomfortable vehicle", timeout=TIMEOUT)
    expect(page.get_by_test_id("timeline")).to_contain_text("Rated")
    shot(page, "07-booking-rated")

    page.goto(stack.url(f"/providers/{provider_id}"))
    expect(page.get_by_test_id("reviews")).to_contain_text("Uncomfortable vehicle")
    shot(page, "08-provider-page")

    page.goto(stack.url("/profile"))
    page.click("[data-testid=consent] button")
    expect(page.get_by_test_id("learned")).to_contain_text("Ranked lower")
    shot(page, "09-profile")
    page.goto(stack.url("/matches?category=rides"))
    expect(page.locator("li.match").last).to_contain_text("ranked lower")
    shot(page, "10-matches-personalised")


INJECTED_WALLET = """
(() => {
  const account = "%s";
  window.ethereum = {
    isTestWallet: true,
    request: async ({ method, params }) => {
      if (method === "eth_requestAccounts" || method === "eth_accounts") { return [account]; }
      const reply = JSON.parse(await window.__anvilRpc(method, JSON.stringify(params || [])));
      if (reply.error) {
        const error = new Error(reply.error.message);
        error.code = reply.error.code;
        throw error;
      }
      return reply.result;
    },
  };
})();
"""


def test_the_wallet_path_signs_in_with_ethereum_and_sends_transactions_through_eip1193(
    page: Page, stack: Stack
) -> None:
    account = stack.world.address(7)
    calls: list[str] = []

    def forward(method: str, params: str) -> str:
        calls.append(method)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                           "params": json.loads(params)}).encode()
        request = urllib.request.Request(stack.world.node.url, body,
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            reply: Any = response.read().decode()
        return str(reply)

    page.expose_function("__anvilRpc", forward)
    page.add_init_script(INJECTED_WALLET % account)

    page.goto(stack.url("/auth/signin"))
    shot(page, "11-sign-in")
    page.click("#siwe-button")
    expect(page.get_by_test_id("current-account")).to_have_attribute("title", account,
                                                                     timeout=TIMEOUT)
    expect(page.locator(".who .badge")).to_have_text("wallet")
    assert "personal_sign" in calls

    page.goto(stack.url("/criteria?category=rides"))
    page.fill("#max_price", "0.05")
    page.click("#criteria-form button[type=submit]")
    expect(page.locator("#wallet-tx h1")).to_contain_text("Save your rides criteria")
    shot(page, "12-wallet-confirm")
    page.click("#wallet-send")
    page.wait_for_url(re.compile(r".*/matches\?category=rides$"), timeout=TIMEOUT)
    assert "eth_sendTransaction" in calls
    expect(page.get_by_test_id("match-summary")).to_be_visible()

    page.locator("li.match a.button").first.click()
    pick_slot(page, stack)
    page.click("#book-form button[type=submit]")
    confirm_review(page)
    page.click("#wallet-send")
    page.wait_for_url(re.compile(r".*/bookings/0x[0-9a-f]+$"), timeout=TIMEOUT)
    expect(page.get_by_test_id("booking-status")).to_have_attribute("data-status", "requested")
    assert calls.count("eth_sendTransaction") == 2
    shot(page, "13-wallet-booking")


def test_a_new_provider_registers_after_fixing_a_field_the_form_flagged(
    page: Page, stack: Stack
) -> None:
    act_as(page, stack, 10)
    page.goto(stack.url("/provider/register"))
    page.select_option("#category", "cleaning")
    page.fill("#name", "Noora's Spotless Homes")
    page.fill("#description", "Eco-friendly cleaning in Espoo")
    page.select_option("#region", "espoo")
    page.check("input[name=attributes][value=eco_products]")
    page.fill("#price", "lots")
    page.click("#register-form button[type=submit]")
    expect(page.locator("#price-error")).to_be_visible()
    shot(page, "14-register-error")
    page.fill("#price", "0.08")
    page.click("#register-form button[type=submit]")
    confirm_review(page)
    page.wait_for_url(re.compile(r".*/providers/\d+$"), timeout=TIMEOUT)
    expect(page.locator("h1")).to_contain_text("Noora's Spotless Homes")
    expect(page.get_by_test_id("provider-price")).to_contain_text("0.08 ETH")
    shot(page, "15-registered-provider")
    page.goto(stack.url("/provider/"))
    expect(page.get_by_test_id("listings")).to_contain_text("Noora's Spotless Homes")


def test_a_provider_uploads_a_picture_and_sees_it_on_the_listing_page(
    page: Page, stack: Stack
) -> None:
    """Issue 14: a picture per listing. A refused file is said next to the field with the
    form kept; the accepted one shows on the listing page, served from /media by its SHA-256."""
    import hashlib

    from playwright.sync_api import FilePayload

    from marketplace.web.demo_pictures import demo_picture

    picture = demo_picture("delivery", 1)
    digest = hashlib.sha256(picture).hexdigest()
    act_as(page, stack, 11)
    page.goto(stack.url("/provider/register"))
    page.select_option("#category", "delivery")
    page.fill("#name", "Otso's Bike Post")
    page.fill("#description", "Parcels across Tampere by cargo bike")
    page.select_option("#region", "tampere")
    page.fill("#price", "0.02")
    # too large: said at once by the page, and the file is not sent
    page.set_input_files("#picture_file", files=FilePayload(
        name="huge.png", mimeType="image/png", buffer=picture + bytes(2 * 2**20)))
    expect(page.locator("#picture-client-error")).to_contain_text("at most 2 MB")
    assert page.input_value("#picture_file") == ""
    # an SVG under a .png name: the server reads the bytes and refuses it next to the field
    page.set_input_files("#picture_file", files=FilePayload(
        name="logo.png", mimeType="image/png",
        buffer=b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'))
    page.click("#register-form button[type=submit]")
    expect(page.locator("#picture-error")).to_contain_text("SVG pictures are not accepted")
    expect(page.locator("#name")).to_have_value("Otso's Bike Post")
    expect(page.locator("#price")).to_have_value("0.02")
    shot(page, "16-register-picture-refused")

    page.set_input_files("#picture_file", files=FilePayload(
        name="bike.png", mimeType="image/png", buffer=picture))
    page.click("#register-form button[type=submit]")
    expect(page.get_by_test_id("review-facts")).to_contain_text("PNG, 360×240 pixels")
    confirm_review(page)
    page.wait_for_url(re.compile(r".*/providers/\d+$"), timeout=TIMEOUT)

    hero = page.locator("img.pic-hero")
    expect(hero).to_have_attribute("src", f"/media/{digest}")
    expect(hero).to_have_attribute("alt", "Picture of Otso's Bike Post")
    hero.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth === 360",
                           arg=hero.element_handle())
    page.set_viewport_size({"width": 390, "height": 844})
    box = hero.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    assert abs(box["width"] / box["height"] - 1.5) < 0.02  # 3:2 whatever the viewport
    assert int(page.evaluate("document.documentElement.scrollWidth")) <= 390
    shot(page, "17-listing-with-picture")
