"""Contract v2 in a real browser: a slot picked from the provider's free times in the viewer's
time zone, the review before anything is signed, and a token booking with one EIP-2612 permit
signature (eth_signTypedData_v4) and one transaction through an EIP-1193 wallet."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_browser_flows import INJECTED_WALLET, TIMEOUT, act_as, shot
from tests.support.browser import Stack
from tests.support.world import CUSTOMERS

pytestmark = pytest.mark.e2e


def test_a_customer_picks_a_free_slot_in_their_time_zone_and_reviews_before_booking(
    browser: Browser, stack: Stack,
) -> None:
    context = browser.new_context(timezone_id="Europe/Helsinki",
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        act_as(page, stack, CUSTOMERS[1])
        provider_id = stack.world.providers["Helmi Vans"]
        page.goto(stack.url(f"/book/{provider_id}"))
        # app.js tells the server the browser's zone; the free times are then Helsinki times.
        expect(page.get_by_test_id("viewer-zone")).to_have_text("Europe/Helsinki")
        # The first free time with room for the 90 minutes chosen below (which one depends on
        # the time of day the test runs at).
        chips = page.locator("[data-slot-time]")
        fits = page.evaluate("() => [...document.querySelectorAll('[data-slot-time]')]"
                             ".findIndex(c => Number(c.dataset.freeMinutes) >= 90)")
        assert fits >= 0, "no free time with room for 90 minutes"
        chip = chips.nth(fits)
        day, clock = chip.get_attribute("data-slot-date"), chip.get_attribute("data-slot-time")
        chip.click()
        expect(page.locator("#slot_date")).to_have_value(day or "")
        expect(page.locator("#slot_time")).to_have_value(clock or "")
        page.select_option("#duration", "90")
        shot(page, "v2-01-slot-picker-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.click("[data-testid=book-review]")
        review = page.get_by_test_id("tx-review")
        expect(review).to_contain_text("Price escrowed now")
        expect(review).to_contain_text("0.05 ETH")
        expect(review).to_contain_text("Marketplace fee")
        expect(review).to_contain_text("The provider answers by")
        expect(review).to_contain_text(f"{clock} EET, 90 minutes")
        expect(page.get_by_test_id("review-final")).to_contain_text("escrow")
        expect(page.get_by_test_id("review-account")).to_contain_text(
            stack.world.address(CUSTOMERS[1]))
        shot(page, "v2-02-booking-review-phone")
        # Nothing was sent before the confirmation: the customer has no booking yet.
        assert not _bookings_of(stack, stack.world.address(CUSTOMERS[1]))

        page.click("[data-testid=review-confirm]")
        page.wait_for_url(re.compile(r".*/bookings/0x[0-9a-f]+$"), timeout=TIMEOUT)
        expect(page.get_by_test_id("booking-status")).to_have_attribute("data-status",
                                                                        "requested")
        expect(page.get_by_test_id("booking-slot")).to_contain_text(f"{clock} EET, 90 minutes")
        shot(page, "v2-03-booked-slot-phone")
    finally:
        context.close()


def test_a_bad_slot_is_a_sentence_next_to_its_field(page: Page, stack: Stack) -> None:
    act_as(page, stack, CUSTOMERS[1])
    page.goto(stack.url(f"/book/{stack.world.providers['Helmi Vans']}"))
    page.fill("#slot_date", "2020-01-01")
    page.fill("#slot_time", "10:00")
    page.click("[data-testid=book-review]")
    expect(page.locator("#slot_date-error")).to_contain_text("has already passed")
    shot(page, "v2-04-slot-in-the-past")


def test_a_token_booking_takes_one_permit_signature_and_one_transaction(
    page: Page, stack: Stack,
) -> None:
    customer = CUSTOMERS[3]
    account = stack.world.address(customer)
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
    page.click("#siwe-button")
    expect(page.get_by_test_id("current-account")).to_have_attribute("title", account,
                                                                     timeout=TIMEOUT)
    token = stack.world.token
    before = token.balance_of(account)

    provider_id = stack.world.providers["Sini Sparkle"]
    page.goto(stack.url(f"/book/{provider_id}"))
    expect(page.get_by_test_id("quoted-price")).to_have_text("45 dUSD")
    expect(page.get_by_test_id("terms")).to_contain_text("24 hours before the start")
    expect(page.get_by_test_id("permit-note")).to_contain_text("one permit")
    day = time.strftime("%Y-%m-%d", time.gmtime(stack.world.now() + 3 * 86_400))
    page.fill("#slot_date", day)
    page.fill("#slot_time", "10:00")
    page.click("[data-testid=book-review]")
    expect(page.get_by_test_id("tx-review")).to_contain_text(
        "One signature: a permit for exactly 45 dUSD")
    shot(page, "v2-05-token-review")
    assert "eth_sendTransaction" not in calls and "eth_signTypedData_v4" not in calls

    page.click("[data-testid=review-confirm]")
    expect(page.locator("#wallet-permit h1")).to_contain_text("45 dUSD")
    shot(page, "v2-06-permit-page")
    page.click("[data-testid=permit-send]")
    page.wait_for_url(re.compile(r".*/bookings/0x[0-9a-f]+$"), timeout=TIMEOUT)
    # Instant listing: accepted in the same transaction.
    expect(page.get_by_test_id("booking-status")).to_have_attribute("data-status", "accepted")
    expect(page.get_by_test_id("booking-price")).to_have_text("45 dUSD")
    expect(page.get_by_test_id("timeline")).to_contain_text("45 dUSD escrowed")
    shot(page, "v2-07-token-booked")

    assert calls.count("eth_signTypedData_v4") == 1
    assert calls.count("eth_sendTransaction") == 1  # no separate approval
    assert before - token.balance_of(account) == 45 * 10**6


def _bookings_of(stack: Stack, account: str) -> list[Any]:
    from marketplace.store import queries as store_queries

    with stack.world.services.engine.connect() as conn:
        return store_queries.bookings_of(conn, customer=account)
