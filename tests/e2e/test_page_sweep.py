"""The issue-14 sweep: every page of the app and of /audit in Debian's Chromium, signed out and as
a customer, a provider, an arbiter, an attestor and an auditor, at 390x844 and 1280x900.

On each page: no horizontal overflow, no serious or critical axe-core violation (axe is injected
from node_modules, never a CDN), no raw machine value (wei, Unix timestamps, bitmasks, long
decimal ids) in the visible text, and a full-page screenshot under reports/sweep/.

The pages are listed per role below; `test_the_sweep_visits_every_page_of_the_url_map` keeps that
list honest against Flask's url_map, so a new page cannot be left out of the sweep.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from marketplace.catalogue import lookup
from tests.e2e.test_browser_flows import TIMEOUT
from tests.support.browser import ROOT, Stack
from tests.support.waiting import wait_for
from tests.support.world import ARBITER, ATTESTOR, CUSTOMERS, HOUR, PROVIDERS

pytestmark = pytest.mark.e2e

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SWEEP = ROOT / "reports" / "sweep"
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}

# GET routes that are not pages for people: data, downloads, assets, pictures, the JSON API.
NOT_PAGES = re.compile(r"^/(api/|static/|audit/static/|media/|favicon\.ico$|healthz$"
                       r"|auth/session$|profile/export$)")

# Raw machine values in text meant for people (issue 14: "Raw machine values for people").
RAW_PATTERNS: dict[str, re.Pattern[str]] = {
    "wei": re.compile(r"\bwei\b", re.I),
    "long number (wei amount, decimal id or timestamp)": re.compile(r"(?<![\w.,])\d{10,}(?![\w.])"),
    "long grouped number (wei amount)": re.compile(r"\b\d{1,3}(?:,\d{3}){3,}\b"),
    "scientific notation": re.compile(r"\b\d+(?:\.\d+)?e[+-]\d+\b", re.I),
    # a bitmask, a Unix time or a scaled score as a bare number after its contract name
    # ("complaintTags=5", "respondBy=1796308721", "newScore=32500"); dates and amounts pass.
    "bare bitmask, time or score": re.compile(
        r"\b(?:\w*(?:Tags|Attributes|Attestors|Mask|By|At|Until|Time|Score)|tags|attributes"
        r"|mask|score)\s*=\s*\d+(?![\d:.\-]|\s*(?:(?:stars?|ETH|dUSD|hours?|minutes?)\b|★|%))"),
}
HEX = re.compile(r"0x[0-9a-fA-F]+")
COMPLAINT = {"uncomfortable_vehicle": lookup("complaint tag", "uncomfortable_vehicle").code}


@dataclass(frozen=True)
class Data:
    """What the market holds for the sweep: ids to put in URLs."""

    provider_id: int
    own_listing: int
    requested: str  # booking refs (0x hex)
    disputed: str
    rated: str
    tx_hash: str


def _hex(booking: int) -> str:
    return f"0x{booking:064x}"


def _api(stack: Stack, path: str) -> int:
    try:
        with urllib.request.urlopen(stack.url(path), timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.fixture(scope="module")
def data(stack: Stack) -> Data:
    """A requested booking and a disputed one (for the arbiter), made straight on the contract
    and waited for until the app's indexer has them."""
    world = stack.world
    customer, provider_name = CUSTOMERS[2], "Aino's Rides"
    provider_id = world.providers[provider_name]
    owner = PROVIDERS[0]
    # consent first: the indexer then feeds the rating below to the profile (learned traits)
    world.services.profiles.grant_consent(world.address(customer))
    requested = world.book_direct(customer, provider_id, start=world.now() + 48 * HOUR, salt=91)
    disputed = world.book_direct(customer, provider_id, start=world.now() + 2 * HOUR, salt=92)
    rated = world.book_direct(customer, provider_id, start=world.now() + 2 * HOUR, salt=93)
    for booking in (disputed, rated):
        world.market.act("accept", booking, sender=world.address(owner))
    world.mine(3 * HOUR)
    for booking in (disputed, rated):
        world.market.act("complete", booking, sender=world.address(owner))
    receipt = world.market.dispute(disputed, sender=world.address(customer))
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex().removeprefix("0x")
    world.market.confirm_and_rate(rated, 2, 0b1 | 1 << COMPLAINT["uncomfortable_vehicle"],
                                  sender=world.address(customer))
    for booking in (requested, disputed, rated):
        wait_for(lambda b=booking: _api(stack, f"/api/v1/bookings/{_hex(b)}") == 200,  # type: ignore[misc]
                 f"the app to index booking {booking:#x}")
    wait_for(lambda: _disputed(stack, disputed), "the dispute to be indexed")
    return Data(provider_id, provider_id, _hex(requested), _hex(disputed), _hex(rated),
                tx_hash)


def _disputed(stack: Stack, booking: int) -> bool:
    with urllib.request.urlopen(stack.url(f"/api/v1/bookings/{_hex(booking)}"),
                                timeout=60) as response:
        body: Any = json.loads(response.read())
    return "disput" in json.dumps(body.get("status", body)).lower()


# role -> (dev account or None, the pages it sees). Paths are templates filled from Data.
ROLES: dict[str, tuple[int | None, list[str]]] = {
    "anonymous": (None, [
        "/", "/auth/signin", "/matches?category=rides", "/providers/{provider_id}",
        "/no-such-page",
    ]),
    "customer": (CUSTOMERS[2], [
        "/", "/criteria?category=rides", "/matches?category=rides", "/providers/{provider_id}",
        "/book/{provider_id}", "/bookings", "/bookings/{requested}", "/bookings/{disputed}",
        "/bookings/{rated}",
        "/notifications", "/profile", "/tx/{tx_hash}", "/auth/signin",
    ]),
    "provider": (PROVIDERS[0], [
        "/provider/", "/provider/requests", "/provider/register",
        "/provider/listings/{own_listing}/edit", "/providers/{own_listing}",
        "/bookings/{requested}", "/bookings/{rated}",
    ]),
    "arbiter": (ARBITER, ["/", "/bookings/{disputed}"]),
    "attestor": (ATTESTOR, ["/attest?provider_id={provider_id}"]),
    # The audit pages have no roles: an auditor reads them signed out.
    "auditor": (None, [
        "/audit/", "/audit/bookings", "/audit/bookings/{disputed}", "/audit/bookings/{rated}",
        "/audit/charts",
        "/audit/customers", "/audit/events", "/audit/providers", "/audit/violations",
    ]),
}


def _rule_of(path: str) -> str:
    """A swept path reduced to the shape of its url_map rule (ids become <...>)."""
    path = path.split("?", 1)[0]
    return re.sub(r"\{[a-z_]+\}", "<>", path)


def test_the_sweep_visits_every_page_of_the_url_map(stack: Stack) -> None:
    rules = {re.sub(r"<[^>]+>", "<>", rule.rule)
             for rule in stack.world.app.url_map.iter_rules()
             if "GET" in (rule.methods or set()) and not NOT_PAGES.match(rule.rule)}
    swept = {_rule_of(path) for _, paths in ROLES.values() for path in paths}
    assert rules - swept == set(), "pages the sweep does not visit"


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height},
                                  timezone_id="Europe/Helsinki",
                                  # the app's CSP forbids inline script: let axe (from
                                  # node_modules, injected inline) run; nothing else changes.
                                  bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.set_default_navigation_timeout(TIMEOUT)
    try:
        yield request.param, page
    finally:
        context.close()


def _sign_in(page: Page, stack: Stack, index: int) -> None:
    page.goto(stack.url("/auth/signin"))
    page.select_option("#dev-account", str(index))
    page.click("#dev-switcher button[type=submit]")
    expect(page.get_by_test_id("current-account")).to_have_attribute(
        "title", stack.world.address(index), timeout=TIMEOUT)


def raw_values(text: str) -> list[str]:
    """The raw machine values in a page's visible text, each with the pattern that found it."""
    text = HEX.sub("0x…", text)
    found = []
    for name, pattern in RAW_PATTERNS.items():
        for match in pattern.finditer(text):
            start = max(0, match.start() - 40)
            found.append(f"{name}: …{text[start:match.end() + 20]!r}")
    return found


def check_page(page: Page, width: int) -> list[str]:
    """Overflow, axe-core serious/critical violations and raw values on the loaded page."""
    problems: list[str] = []
    scroll_width = int(page.evaluate("document.documentElement.scrollWidth"))
    if scroll_width > width:
        wide = page.evaluate("""(w) => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > w + 1)
            .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
              + (e.className && typeof e.className === 'string' ? '.' + e.className : '')
              + ' ' + Math.round(e.getBoundingClientRect().right))""", width)
        problems.append(f"overflow: scrollWidth {scroll_width} > {width}: {wide}")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result: Any = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
          .map(v => ({id: v.id, impact: v.impact,
                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    problems.extend(f"axe {v['impact']} {v['id']}: {v['nodes']}" for v in result)
    problems.extend(raw_values(page.inner_text("body")))
    return problems


def sweep(page: Page, stack: Stack, size: str, role: str, paths: list[str], data: Data,
          visit: Callable[[str], Any] | None = None) -> dict[str, list[str]]:
    """Visit each path, check it and keep its screenshot; the problems per path."""
    width = SIZES[size][0]
    out = SWEEP / size
    out.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    for template in paths:
        path = template.format(**data.__dict__)
        response = page.goto(stack.url(path))
        page.wait_for_load_state("load")
        status = response.status if response is not None else 0
        found = [f"HTTP {status}"] if status >= 500 else []
        found.extend(check_page(page, width))
        slug = re.sub(r"[^a-z0-9]+", "-", template.lower()).strip("-") or "home"
        page.screenshot(path=str(out / f"{role}-{slug}.png"), full_page=True)
        if found:
            problems[path] = found
    return problems


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_fits_is_accessible_and_speaks_human_units(
    role: str, sized_page: tuple[str, Page], stack: Stack, data: Data,
) -> None:
    size, page = sized_page
    account, paths = ROLES[role]
    if account is not None:
        _sign_in(page, stack, account)
    problems = sweep(page, stack, size, role, paths, data)
    assert not problems, json.dumps(problems, indent=1)


@pytest.mark.parametrize(("text", "raw"), [
    ("Owed 8,327,000,000,000,000,000 wei", True), ("respondBy=1796308721", True),
    ("complaintTags=5", True), ("newScore=32500", True), ("axis 1.5e+04 ETH", True),
    ("booking 26959946667150639794667015087019630673637144422540572481103610249216", True),
    ("respondBy=2026-12-03 09:32 UTC", False), ("price=0.04 ETH", False),
    ("booking 0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc00000001006b11373d003c5c", False),
    ("complaintTags=Uncomfortable vehicle", False), ("1,234 providers", False),
    ("minScore=0 stars, maxPrice=0.1 ETH", False), ("newScore=3 stars complaintTags=5", True),
])
def test_the_raw_value_patterns_find_what_the_issue_quoted(text: str, raw: bool) -> None:
    assert bool(raw_values(text)) is raw


def test_pages_reached_by_a_form_fit_and_are_accessible_too(
    sized_page: tuple[str, Page], stack: Stack, data: Data,
) -> None:
    """The review before booking and a form re-rendered with its errors (POST answers)."""
    size, page = sized_page
    width = SIZES[size][0]
    out = SWEEP / size
    out.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}

    def check(name: str) -> None:
        found = check_page(page, width)
        page.screenshot(path=str(out / f"form-{name}.png"), full_page=True)
        if found:
            problems[name] = found

    _sign_in(page, stack, CUSTOMERS[2])
    page.goto(stack.url(f"/book/{stack.world.providers['Helmi Vans']}"))
    page.locator("[data-slot-time]").first.click()
    page.click("[data-testid=book-review]")
    expect(page.get_by_test_id("tx-review")).to_be_visible()
    check("booking-review")

    _sign_in(page, stack, PROVIDERS[1])
    page.goto(stack.url("/provider/register"))
    page.select_option("#category", "cleaning")
    page.fill("#name", "Sweep Cleaning")
    page.fill("#price", "lots")
    page.click("#register-form button[type=submit]")
    expect(page.locator("#price-error")).to_be_visible()
    check("register-errors")
    assert not problems, json.dumps(problems, indent=1)
