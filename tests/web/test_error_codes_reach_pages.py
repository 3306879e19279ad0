"""Every error code the API can return reaches the page that caused it (issue 14).

The catalogue (`marketplace.web.errors.error_catalogue`: the web app's codes, the node's
refusals, every custom error of the marketplace's ABI as decoded) is enumerated: each code is
either driven here through the page that offers the action (Flask test client, the real forms,
one live anvil shared by every case) or listed in `NO_PAGE` with the reason no page can cause it
(the list to review). A new code in neither fails `test_every_code_is_driven_or_listed`.

A driven case asserts that the error the server raised (recorded as it is made) is on the page:
its sentence in plain words next to its field when the form shows that field, else at the top
of the form (`data-error-for="_form"`), and that every value the user posted is still in the
form. A form that is only a button (withdraw, deactivate, block) goes back to the page it was
on, with the message at the top.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from markupsafe import escape
from web3.types import Wei

from marketplace.chain.deploy import DeployParams
from marketplace.chain.market import ListingInput
from marketplace.chain.revert import UNKNOWN_REFUSAL
from marketplace.domain import ZERO_ADDRESS, ChangeKind
from marketplace.web.customer.common import NOT_ON_FORMS
from marketplace.web.errors import (
    ANY_FIELD,
    REVERT_FIELDS,
    STATUS_CODES,
    WEB_CODES,
    TxRefused,
    WebError,
    error_catalogue,
)
from tests.support.world import (
    CLEANING,
    CUSTOMERS,
    DUSD,
    DUSD_UNIT,
    HELSINKI,
    HOUR,
    MIN_STAKE,
    OPERATOR,
    PROVIDERS,
    RIDES,
    STRANGER,
    World,
    hidden_fields,
    main_part,
    signed_in,
)

WEB = Path(__file__).resolve().parents[2] / "marketplace" / "web"

# ------------------------------------------------------------------ codes no page can cause

_OPERATOR = "an operator function (timelock, fees, ownership): no page offers it"
_VALIDATED = "the page's own check refuses the input first, as invalid_field on the same field"

NO_PAGE: dict[str, str] = {
    # the API's own
    "invalid_json": "API only: pages post forms, never a JSON body",
    "unsupported_media_type": "API only: a JSON endpoint sent something else than JSON",
    "unprocessable": "API only (422): pages answer the same rules as invalid_field (400)",
    "not_owner": "API only: the availability endpoint; the page refuses a stranger as forbidden",
    "sign_in_failed": "SIWE JSON from wallet.js (/auth/verify), never a form post",
    "bad_request": "werkzeug's 400 for an unreadable request; a browser's form never is one",
    "method_not_allowed": "every page form posts to a POST route",
    "too_large": "MAX_CONTENT_LENGTH is far above any form (tests/web/test_security.py); a "
                 "picture over the listing forms' 12 MB request limit gets the error page, "
                 "which names the picture limit (tests/web/test_listing_pictures.py)",
    "too_many_requests": "nothing in the app limits rates: no code path answers 429",
    "http_error": "werkzeug statuses without a code of their own; none is raised by a form",
    "internal_error": "a bug, not an error a page offers; the error page says so",
    "csrf_failed": "refused before any handler runs (a forged or expired form): the error page "
                   "says to reload, there is no trusted form to fill in again",
    "contract_revert": "the carrier of every custom error: each is its own entry below",
    # the node: the server builds nonce, gas and fees itself, so only races or a broken node
    # cause these; they take the same path as insufficient_funds (node_refused -> errors_of)
    "nonce_conflict": "a race with another transaction of the same account (unit: test_node_"
                      "errors.py); same path to the form as insufficient_funds",
    "fee_too_low": "the server prices the transaction from the node; only a base-fee spike",
    "gas_limit_too_high": "the server estimates gas; only a node with a tiny block gas limit",
    "gas_too_low": "the server estimates gas; only a node that mis-estimates",
    "wrong_chain": "the server signs with the node's own chain id; only a misconfigured node",
    "chain_incompatible": "a chain without Cancun; /healthz and the pages' 503 report it",
    # custom errors of operator functions
    "MarketplaceFeeAboveCap": _OPERATOR,
    "MarketplaceZeroAddress": _OPERATOR,
    "MarketplaceInvalidWindow": _OPERATOR,
    "MarketplaceRenounceDisabled": _OPERATOR,
    "MarketplaceInsufficientFees": _OPERATOR,
    "MarketplaceInvalidChange": _OPERATOR,
    "MarketplaceChangeAlreadyScheduled": _OPERATOR,
    "MarketplaceChangeNotScheduled": _OPERATOR,
    "MarketplaceChangeNotReady": _OPERATOR,
    "OwnableUnauthorizedAccount": _OPERATOR,
    "OwnableInvalidOwner": _OPERATOR,
    "MarketplaceNotConstructing": "only the constructor initialises the module",
    "MarketplaceIdsExhausted": "2**32 listings or attestors: no test chain reaches it",
    "ReentrancyGuardReentrantCall": "needs a contract caller re-entering; pages send from EOAs",
    "SafeCastOverflowedUintDowncast": "amounts above uint96 are refused by forms.py first",
    "MarketplaceTransferFailed": "a payout to a contract that refuses ether; page accounts are "
                                 "EOAs",
    "SafeERC20FailedOperation": "a token that returns false; the operator enables currencies",
    "MarketplaceTokenShortfall": "a fee-on-transfer token; the operator enables currencies",
    "MarketplaceInvalidRecipient": "pages withdraw to the signed-in account itself",
    "MarketplaceBookingExists": "the booking page draws a random salt for every booking",
    # refused first by the page with the same field (tests/web: each field's own test)
    "MarketplaceZeroPrice": _VALIDATED + " (price)",
    "MarketplaceStakeTooLarge": _VALIDATED + " (stake, uint96)",
    "MarketplaceInvalidCategory": _VALIDATED + " (category)",
    "MarketplaceInvalidCancelTerms": _VALIDATED + " (late_cancel_pct)",
    "MarketplaceInvalidMinScore": _VALIDATED + " (min_stars)",
    "MarketplaceInvalidMinReliability": _VALIDATED + " (min_reliability)",
    "MarketplaceInvalidWeights": _VALIDATED + " (score_weight)",
    "MarketplaceConflictingAttributes": _VALIDATED + " (refused)",
    "MarketplaceVerifiedNotRequired": _VALIDATED + " (verified: a verified one is required)",
    "MarketplaceTooManyAttestors": _VALIDATED + " (trusted_attestors)",
    "MarketplaceInvalidStars": _VALIDATED + " (stars)",
    "MarketplaceInvalidRefundBps": _VALIDATED + " (refund_percent)",
    "MarketplaceSlotInPast": _VALIDATED + " (slot_date, in chain time)",
    "MarketplaceSlotTooFar": _VALIDATED + " (slot_date)",
    "MarketplaceInvalidDuration": _VALIDATED + " (duration)",
    "MarketplaceZeroValue": _VALIDATED + " (amount, at least 1 wei)",
    "MarketplaceSelfBooking": "the booking page refuses the owner first (_form)",
    "MarketplaceNotCustomer": "the booking page's role check answers forbidden first",
    "MarketplaceNotArbiter": "the booking page's role check answers forbidden first",
    "MarketplaceNotProviderOwner": "the listing pages answer forbidden to a non-owner first",
    "MarketplaceNotAttestor": "the attest page answers forbidden to a non-attestor first",
    "MarketplaceProviderNotFound": "pages name listings from the store: an unknown id is a 404",
    "MarketplaceBookingNotFound": "pages name bookings from the store: an unknown id is a 404",
    "MarketplaceCriteriaNotSet": "the booking page asks for criteria before it shows the form",
    "MarketplaceValueMismatch": "the page sends the offer's own price; a changed price is "
                                "MarketplaceOfferChanged first",
    # a token listing is booked with bookWithPermit: the contract calls permit in try/catch
    "MarketplacePermitFailed": "the page checks the wallet's permit against the token's current "
                               "nonce, the price and the deadline first (permit); only a race "
                               "between that check and the block",
    "ERC2612ExpiredSignature": "caught by bookWithPermit's try (MarketplacePermitFailed), and "
                               "the page refuses an expired permit first (permit)",
    "ERC2612InvalidSigner": "caught by bookWithPermit's try (MarketplacePermitFailed), and the "
                            "page refuses another signer first (permit)",
    "ERC20InsufficientAllowance": "pages book a token listing with a permit, never on an "
                                  "allowance: a missing one is MarketplacePermitFailed",
}

# ------------------------------------------------------------------ what a driver returns


@dataclass
class Caused:
    """The page a driver ended on and the values the user had posted."""

    page: str
    posted: dict[str, str] = field(default_factory=dict)


Driver = Callable[[World], Caused]
DRIVERS: dict[str, list[Driver]] = {}
"""Code -> the drivers that cause it, each on one page (a code several pages cause: several)."""


def drives(code: str) -> Callable[[Driver], Driver]:
    def register(driver: Driver) -> Driver:
        DRIVERS.setdefault(code, []).append(driver)
        return driver
    return register



@pytest.fixture(scope="module")
def market(world: World) -> World:
    world.register("Err Taxi", RIDES, HELSINKI, 0, 4 * 10**16, owner=PROVIDERS[0])
    world.register("Err Cab", RIDES, HELSINKI, 0, 3 * 10**16, owner=PROVIDERS[1])
    world.set_criteria(CUSTOMERS[0], RIDES, max_price=10**17)
    world.set_criteria(CUSTOMERS[1], RIDES, max_price=10**17)
    world.set_criteria(CUSTOMERS[2], RIDES, max_price=10**17)
    world.set_criteria(CUSTOMERS[3], RIDES, max_price=10**17)
    world.sync()
    return world


def _booked(world: World, customer: int, *, accept: bool = False) -> int:
    """A booking of "Err Cab" (its own slot), accepted if asked, indexed."""
    booking_id = world.book_direct(customer, world.providers["Err Cab"],
                                   start=world.next_slot_start())
    if accept:
        world.transact("accept", booking_id, sender=PROVIDERS[1])
    world.sync()
    return booking_id


def _post(client: Any, path: str, form: dict[str, str]) -> tuple[str, int]:
    response = client.post(path, form)
    if response.status_code in (302, 303) and not response.headers["Location"].startswith("/tx/"):
        return client.get(response.headers["Location"]).get_data(as_text=True), 303
    return response.get_data(as_text=True), response.status_code


def _register_form(**changes: str) -> dict[str, str]:
    form = {"category": "rides", "region": "helsinki", "price": "0.05", "stake": "0.002",
            "name": "Errand Rides", "description": "Door to door", "currency": "0",
            "free_cancel_hours": "6", "late_cancel_pct": "20"}
    form.update(changes)
    return form


@drives("insufficient_funds")
def _stake_above_the_balance(world: World) -> Caused:
    form = _register_form(stake="9999999")
    page, _ = _post(signed_in(world, STRANGER), "/provider/register", form)
    return Caused(page, form)


@drives("invalid_field")
def _erase_without_the_box(world: World) -> Caused:
    page, _ = _post(signed_in(world, CUSTOMERS[0]), "/profile/erase", {})
    return Caused(page)


@drives("MarketplacePaused")
def _register_while_paused(world: World) -> Caused:
    form = _register_form(confirmed="1")
    world.transact("setPaused", True, sender=OPERATOR)
    try:
        page, _ = _post(signed_in(world, STRANGER), "/provider/register", form)
    finally:
        world.transact("setPaused", False, sender=OPERATOR)
    return Caused(page, {k: v for k, v in form.items() if k != "confirmed"})


@contextmanager
def _node_down(world: World) -> Iterator[None]:
    """The app's chain node stops answering (a closed port) for the block."""
    chain = world.services.chain
    settings = chain.settings
    chain.settings = dataclasses.replace(settings, rpc_url="http://127.0.0.1:9")
    chain.reset()
    try:
        yield
    finally:
        chain.settings = settings
        chain.reset()


@drives("unavailable")
def _register_with_the_node_down(world: World) -> Caused:
    form = _register_form()
    client = signed_in(world, STRANGER)
    with _node_down(world):
        page, _ = _post(client, "/provider/register", form)
    return Caused(page, form)


@drives("sign_in_required")
def _criteria_signed_out(world: World) -> Caused:
    form = {"category": "rides", "region": "espoo", "min_stars": "3.5", "max_price": "0.07"}
    page, _ = _post(world.client(), "/criteria", form)
    return Caused(page, form)


def _book_form(world: World, client: Any, provider_id: int) -> dict[str, str]:
    page = client.get(f"/book/{provider_id}").get_data(as_text=True)
    start = datetime.fromtimestamp(world.next_slot_start() // 300 * 300, tz=UTC)
    form = {**hidden_fields(page), "slot_date": f"{start:%Y-%m-%d}",
            "slot_time": f"{start:%H:%M}", "duration": "60", "tz": "UTC"}
    assert "offer_version" in form, main_part(page)
    return form


@drives("MarketplaceOfferChanged")
def _book_after_the_offer_changed(world: World) -> Caused:
    provider_id = world.providers["Err Taxi"]
    client = signed_in(world, CUSTOMERS[0])
    form = _book_form(world, client, provider_id)
    world.market.update_listing(provider_id, ListingInput(
        RIDES, HELSINKI, 0, 0, 5 * 10**16, bytes.fromhex("11" * 32)),
        sender=world.address(PROVIDERS[0]))  # on chain, not yet indexed: the page is stale
    page, _ = _post(client, f"/book/{provider_id}", form)
    world.sync()
    return Caused(page, form)


@drives("MarketplaceCriteriaVersionMismatch")
def _book_after_the_criteria_changed(world: World) -> Caused:
    provider_id = world.providers["Err Cab"]
    client = signed_in(world, CUSTOMERS[1])
    form = _book_form(world, client, provider_id)
    world.set_criteria(CUSTOMERS[1], RIDES, max_price=9 * 10**16)  # not yet indexed
    page, _ = _post(client, f"/book/{provider_id}", form)
    world.sync()
    return Caused(page, form)


@drives("MarketplaceInvalidStatus")
def _accept_a_booking_accepted_meanwhile(world: World) -> Caused:
    provider_id = world.providers["Err Cab"]
    booking_id = world.book_direct(CUSTOMERS[2], provider_id,
                                   start=world.next_slot_start())
    world.sync()
    world.transact("accept", booking_id, sender=PROVIDERS[1])  # not yet indexed
    page, _ = _post(signed_in(world, PROVIDERS[1]), f"/bookings/{hex(booking_id)}/accept",
                    {"confirmed": "1"})
    world.sync()
    return Caused(page)


@drives("MarketplaceTooEarly")
def _complete_before_the_start(world: World) -> Caused:
    provider_id = world.providers["Err Cab"]
    booking_id = world.book_direct(CUSTOMERS[3], provider_id,
                                   start=world.next_slot_start())
    world.transact("accept", booking_id, sender=PROVIDERS[1])
    world.sync()
    page, _ = _post(signed_in(world, PROVIDERS[1]), f"/bookings/{hex(booking_id)}/complete",
                    {"confirmed": "1"})
    return Caused(page)


@drives("forbidden")
def _a_stranger_cancels(world: World) -> Caused:
    provider_id = world.providers["Err Cab"]
    booking_id = world.book_direct(CUSTOMERS[2], provider_id, start=world.next_slot_start())
    world.sync()
    page, _ = _post(signed_in(world, STRANGER), f"/bookings/{hex(booking_id)}/cancel", {})
    return Caused(page)


@drives("conflict")
def _suggest_tags_for_an_unrateable_booking(world: World) -> Caused:
    provider_id = world.providers["Err Cab"]
    booking_id = world.book_direct(CUSTOMERS[3], provider_id, start=world.next_slot_start())
    world.sync()
    page, _ = _post(signed_in(world, CUSTOMERS[3]),
                    f"/bookings/{hex(booking_id)}/rate/suggest",
                    {"feedback_text": "the car smelled of smoke"})
    # Nothing to keep: a booking that cannot be rated shows no rating form to keep it in.
    return Caused(page)


@drives("MarketplaceNothingToWithdraw")
def _withdraw_without_credit(world: World) -> Caused:
    page, _ = _post(signed_in(world, STRANGER), "/withdraw",
                    {"currency": "0", "next": "/bookings", "confirmed": "1"})
    return Caused(page)


@drives("MarketplaceProviderStateUnchanged")
def _deactivate_twice(world: World) -> Caused:
    provider_id = world.register("Err Twice", RIDES, HELSINKI, 0, 10**16, owner=PROVIDERS[2])
    world.sync()
    world.market.deactivate(provider_id, sender=world.address(PROVIDERS[2]))  # not indexed
    page, _ = _post(signed_in(world, PROVIDERS[2]),
                    f"/provider/listings/{provider_id}/deactivate",
                    {"next": "/provider/"})
    world.sync()
    return Caused(page)


@drives("stake_locked")
def _release_in_the_cooldown(world: World) -> Caused:
    provider_id = world.register("Err Cool", RIDES, HELSINKI, 0, 10**16, owner=PROVIDERS[2])
    world.market.deactivate(provider_id, sender=world.address(PROVIDERS[2]))
    world.sync()
    page, _ = _post(signed_in(world, PROVIDERS[2]),
                    f"/provider/listings/{provider_id}/release_stake", {"next": "/provider/"})
    return Caused(page)


@drives("MarketplaceBlockUnchanged")
def _block_twice(world: World) -> Caused:
    provider_id = world.providers["Err Taxi"]
    world.market.set_blocked(provider_id, True, sender=world.address(CUSTOMERS[0]))
    page, _ = _post(signed_in(world, CUSTOMERS[0]), "/blocks",
                    {"provider_id": str(provider_id), "blocked": "1", "confirmed": "1"})
    world.market.set_blocked(provider_id, False, sender=world.address(CUSTOMERS[0]))
    world.sync()
    return Caused(page)


@drives("MarketplaceDeadlineNotReached")
def _expire_before_the_deadline(world: World) -> Caused:
    booking_id = _booked(world, CUSTOMERS[2])
    page, _ = _post(signed_in(world, STRANGER), f"/bookings/{hex(booking_id)}/expire",
                    {"confirmed": "1"})
    return Caused(page)


@drives("MarketplaceSlotStarted")
def _cancel_after_the_start(world: World) -> Caused:
    booking_id = _booked(world, CUSTOMERS[2], accept=True)
    world.reach_last_slot()
    world.sync()
    page, _ = _post(signed_in(world, CUSTOMERS[2]), f"/bookings/{hex(booking_id)}/cancel",
                    {"confirmed": "1"})
    return Caused(page)


@drives("MarketplaceDeadlinePassed")
def _accept_after_the_answer_deadline(world: World) -> Caused:
    booking_id = _booked(world, CUSTOMERS[3])
    world.mine(25 * HOUR)
    world.sync()
    page, _ = _post(signed_in(world, PROVIDERS[1]), f"/bookings/{hex(booking_id)}/accept",
                    {"confirmed": "1"})
    return Caused(page)


@drives("MarketplaceAlreadyRated")
def _rate_twice(world: World) -> Caused:
    booking_id = _booked(world, CUSTOMERS[2], accept=True)
    world.reach_last_slot()
    world.transact("complete", booking_id, sender=PROVIDERS[1])
    world.transact("confirm", booking_id, sender=CUSTOMERS[2])
    world.sync()
    world.transact("rate", booking_id, 5, 0, sender=CUSTOMERS[2])  # not yet indexed
    form = {"stars": "4", "feedback_text": "fine ride"}
    page, _ = _post(signed_in(world, CUSTOMERS[2]), f"/bookings/{hex(booking_id)}/rate",
                    {**form, "confirmed": "1"})
    world.sync()
    return Caused(page, form)


@drives("MarketplaceOwnerBlockUnchanged")
def _block_an_owner_twice(world: World) -> Caused:
    owner = world.checksum(PROVIDERS[0])
    world.transact("setOwnerBlocked", owner, True, sender=CUSTOMERS[1])
    page, _ = _post(signed_in(world, CUSTOMERS[1]), "/blocks",
                    {"owner": owner.lower(), "blocked": "1", "confirmed": "1"})
    world.transact("setOwnerBlocked", owner, False, sender=CUSTOMERS[1])
    world.sync()
    return Caused(page)


@drives("MarketplaceIneligible")
def _book_a_listing_deactivated_meanwhile(world: World) -> Caused:
    provider_id = world.register("Err Gone", RIDES, HELSINKI, 0, 10**16, owner=PROVIDERS[2])
    world.sync()
    client = signed_in(world, CUSTOMERS[0])
    form = _book_form(world, client, provider_id)
    world.market.deactivate(provider_id, sender=world.address(PROVIDERS[2]))  # not indexed
    page, _ = _post(client, f"/book/{provider_id}", form)
    world.sync()
    return Caused(page, form)


@drives("MarketplaceStakeLocked")
def _release_an_active_listings_stake(world: World) -> Caused:
    provider_id = world.providers["Err Taxi"]
    page, _ = _post(signed_in(world, PROVIDERS[0]),
                    f"/provider/listings/{provider_id}/release_stake",
                    {"next": "/provider/", "confirmed": "1"})
    return Caused(page)


@drives("ERC20InsufficientBalance")
def _book_a_token_listing_above_the_balance(world: World) -> Caused:
    provider_id = world.register("Err Pricey", CLEANING, HELSINKI, 0, 20_000 * DUSD_UNIT,
                                 owner=PROVIDERS[2], currency=DUSD)
    world.set_criteria(CUSTOMERS[3], CLEANING, currency=DUSD, max_price=100_000 * DUSD_UNIT)
    world.sync()
    client = signed_in(world, CUSTOMERS[3])
    form = _book_form(world, client, provider_id)
    page, _ = _post(client, f"/book/{provider_id}", {**form, "confirmed": "1"})
    return Caused(page, form)


@drives("insufficient_funds")
def _top_up_above_the_balance(world: World) -> Caused:
    provider_id = world.providers["Err Taxi"]
    form = {"amount": "9999999"}
    page, _ = _post(signed_in(world, PROVIDERS[0]),
                    f"/provider/listings/{provider_id}/top_up", {**form, "confirmed": "1"})
    return Caused(page, form)


@drives("unavailable")
def _criteria_with_the_node_down(world: World) -> Caused:
    form = {"category": "rides", "region": "espoo", "min_stars": "3.5", "max_price": "0.07"}
    client = signed_in(world, CUSTOMERS[1])
    with _node_down(world):
        page, _ = _post(client, "/criteria", form)
    return Caused(page, form)


@drives("unavailable")
def _book_with_the_node_down(world: World) -> Caused:
    provider_id = world.providers["Err Cab"]
    client = signed_in(world, CUSTOMERS[0])
    form = _book_form(world, client, provider_id)
    with _node_down(world):
        page, _ = _post(client, f"/book/{provider_id}", form)
    return Caused(page, form)


def _apply_change(world: World, kind: ChangeKind, account: str, value: int) -> None:
    """An operator's timelocked change, scheduled, waited for and applied (not indexed)."""
    world.transact("scheduleChange", int(kind), account, value, sender=OPERATOR)
    world.mine(DeployParams.change_delay + 1)
    world.transact("applyChange", int(kind), account, value, sender=OPERATOR)


@drives("MarketplaceInsufficientStake")
def _register_below_a_raised_minimum_stake(world: World) -> Caused:
    form = _register_form(stake="0.002", confirmed="1")
    _apply_change(world, ChangeKind.MIN_STAKE, ZERO_ADDRESS, 10**17)  # the store still says 0.001
    try:
        page, _ = _post(signed_in(world, STRANGER), "/provider/register", form)
    finally:
        _apply_change(world, ChangeKind.MIN_STAKE, ZERO_ADDRESS, MIN_STAKE)
        world.sync()
    return Caused(page, {k: v for k, v in form.items() if k != "confirmed"})


@drives("MarketplacePriceBelowMinFee")
def _register_below_the_minimum_fee(world: World) -> Caused:
    form = _register_form(price="0.00005", confirmed="1")  # the ether minimum fee is 0.0001
    page, _ = _post(signed_in(world, STRANGER), "/provider/register", form)
    return Caused(page, {k: v for k, v in form.items() if k != "confirmed"})


@drives("MarketplaceCurrencyDisabled")
def _book_in_a_currency_disabled_meanwhile(world: World) -> Caused:
    provider_id = world.register("Err Tidy", CLEANING, HELSINKI, 0, 20 * DUSD_UNIT,
                                 owner=PROVIDERS[1], currency=DUSD)
    world.set_criteria(CUSTOMERS[2], CLEANING, currency=DUSD, max_price=100 * DUSD_UNIT)
    world.sync()
    client = signed_in(world, CUSTOMERS[2])
    form = _book_form(world, client, provider_id)
    token = world.deployment.currency(DUSD).token or ""
    _apply_change(world, ChangeKind.CURRENCY, token, 0)  # not yet indexed
    try:
        page, _ = _post(client, f"/book/{provider_id}", {**form, "confirmed": "1"})
    finally:
        _apply_change(world, ChangeKind.CURRENCY, token, 1)
        world.sync()
    return Caused(page, form)


@drives("unavailable")
def _edit_with_the_node_down(world: World) -> Caused:
    provider_id = world.providers["Err Cab"]
    form = {"region": "espoo", "price": "0.035", "currency": "0", "name": "Err Cab Deluxe",
            "description": "Now with leather seats", "free_cancel_hours": "2",
            "late_cancel_pct": "10"}
    client = signed_in(world, PROVIDERS[1])
    with _node_down(world):
        page, _ = _post(client, f"/provider/listings/{provider_id}/edit", form)
    return Caused(page, form)


POOR = 11  # a dev account nothing else uses: drained to less than a dispute bond


@drives("insufficient_funds")
def _dispute_without_the_bond(world: World) -> Caused:
    world.set_criteria(POOR, RIDES, max_price=10**17)
    booking_id = world.book_direct(POOR, world.providers["Err Cab"],
                                   start=world.next_slot_start())
    world.transact("accept", booking_id, sender=PROVIDERS[1])
    world.reach_last_slot()
    world.transact("complete", booking_id, sender=PROVIDERS[1])
    world.sync()
    w3 = world.market.w3
    poor = to_checksum_address(world.address(POOR))
    keep = DeployParams.dispute_bond // 5  # gas money, far below the bond
    price = 2 * int(w3.eth.gas_price)
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({
        "from": poor, "to": world.checksum(OPERATOR),
        "value": Wei(int(w3.eth.get_balance(poor)) - keep - 21_000 * price), "gas": 21_000,
        "gasPrice": Wei(price)}))
    page, _ = _post(signed_in(world, POOR), f"/bookings/{hex(booking_id)}/dispute",
                    {"confirmed": "1"})
    return Caused(page)


@drives("not_found")
def _accept_a_suggestion_that_is_gone(world: World) -> Caused:
    page, _ = _post(signed_in(world, CUSTOMERS[0]), "/profile/proposals/accept",
                    {"key": "no-such-suggestion"})
    return Caused(page)


# ------------------------------------------------------------------ the catalogue itself


def test_every_code_is_driven_or_listed() -> None:
    catalogue = set(error_catalogue())
    driven, excluded = set(DRIVERS), set(NO_PAGE)
    assert driven & excluded == set(), "a code both driven and listed as no page's"
    assert catalogue - driven - excluded == set(), "codes without a page mapping"
    assert (driven | excluded) - catalogue == set(), "listed codes that do not exist"


_RAISED_CODE = re.compile(r'\bcode\s*=\s*"([a-z_]+)"')


def test_every_code_the_web_app_raises_is_in_the_catalogue() -> None:
    raised = {code for path in WEB.rglob("*.py")
              for code in _RAISED_CODE.findall(path.read_text(encoding="utf-8"))}
    raised |= set(STATUS_CODES.values())
    assert raised - set(error_catalogue()) == set()
    web = {entry.code: entry.status for entry in WEB_CODES}
    assert all(web[code] == status for status, code in STATUS_CODES.items())


def test_a_status_of_its_own_brings_the_status_code() -> None:
    assert WebError("x", "f", status=404).code == "not_found"
    assert WebError("x", status=409).code == "conflict"
    assert WebError("x", status=422, code="unprocessable").code == "unprocessable"


def test_every_field_a_revert_blames_is_an_error_of_the_abi() -> None:
    contract = {c for c, e in error_catalogue().items() if e.source == "contract"}
    assert set(REVERT_FIELDS) - contract == set()


TEMPLATES = WEB / "templates"
_SHOWN = re.compile(r"""(?:error_for\(errors, |checkboxes\()'([a-z_]+)'""")


def test_every_field_a_code_blames_is_shown_by_a_form_or_goes_to_its_top() -> None:
    """A field a revert or a node refusal names is either next to an input of some form, or
    one no form shows (its message goes to the top of the form: NOT_ON_FORMS)."""
    shown = {name for path in TEMPLATES.rglob("*.html")
             for name in _SHOWN.findall(path.read_text(encoding="utf-8"))}
    blamed = {e.field for e in error_catalogue().values() if e.field not in (None, ANY_FIELD)}
    assert blamed - shown - NOT_ON_FORMS == set()


_RAW = re.compile(
    r"\b(?:Marketplace[A-Z]\w+|ERC\d+\w*|Ownable\w+|SafeCast\w+|Panic|0x[0-9a-fA-F]{8}\b)"
    r"|\d{10,}|\bwei\b|\de[+-]?\d", re.ASCII)


@pytest.mark.parametrize("code", sorted(c for c, e in error_catalogue().items()
                                        if e.source == "contract"))
def test_every_custom_error_reads_in_plain_words(code: str) -> None:
    """A sentence of its own, and (but for the operator's, read in the CLI where the exact
    values are what an operator needs) no raw number, unit, selector or Solidity name."""
    message = error_catalogue()[code].message
    assert message != UNKNOWN_REFUSAL and message.endswith((".", ")")), message
    if NO_PAGE.get(code) != _OPERATOR:
        assert not _RAW.search(message.replace("0x" + "ab" * 20, "the account")), message


# ------------------------------------------------------------------ each code on its page


@pytest.fixture
def raised(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[WebError]]:
    """Every WebError made while the test runs, in order."""
    made: list[WebError] = []
    original = WebError.__init__

    def recording(self: WebError, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(WebError, "__init__", recording)
    yield made


def _code_of(error: WebError) -> str:
    return error.revert.error if isinstance(error, TxRefused) else error.code


_ALERT = re.compile(r'data-error-for="([^"]+)"[^>]*>([^<]*)<')


def _kept(page: str, name: str, value: str) -> bool:
    """Whether the form in `page` still holds `value` for input `name`."""
    quoted, text = re.escape(str(escape(name))), str(escape(value))
    for tag in re.findall(rf'<input[^>]*name="{quoted}"[^>]*>', page):
        if f'value="{text}"' in tag and ('type="checkbox"' not in tag or "checked" in tag):
            return True
    select = re.search(rf'<select[^>]*name="{quoted}".*?</select>', page, re.S)
    if select and re.search(rf'<option value="{re.escape(text)}"\s*selected', select.group(0)):
        return True
    area = re.search(rf'<textarea[^>]*name="{quoted}"[^>]*>(.*?)</textarea>', page, re.S)
    return bool(area and area.group(1).strip() == text)


CASES = [pytest.param(code, driver, id=f"{code}-{driver.__name__.strip('_')}")
         for code in sorted(DRIVERS) for driver in DRIVERS[code]]


@pytest.mark.parametrize(("code", "driver"), CASES)
def test_the_error_reaches_the_page_that_caused_it(market: World, raised: list[WebError],
                                                   code: str, driver: Driver) -> None:
    caused = driver(market)
    page = caused.page
    mine = [e for e in raised if _code_of(e) == code]
    assert mine, (f"{code} was not raised; raised: {[_code_of(e) for e in raised]}",
                  main_part(page))
    error = mine[-1]
    entry = error_catalogue()[code]
    if entry.field not in (None, ANY_FIELD):
        assert error.field == entry.field, (error.field, entry.field)
    shown = error.field if error.field and re.search(
        rf'<(?:input|select|textarea)[^>]*name="{re.escape(error.field)}"', page) else "_form"
    alerts = [(where, html.unescape(text).strip()) for where, text in _ALERT.findall(page)]
    assert (shown, error.message) in alerts, (shown, error.message, alerts, main_part(page))
    assert not _RAW.search(re.sub(r"0x[0-9a-fA-F]+", "ID", error.message)), error.message
    lost = {n: v for n, v in caused.posted.items() if v and not _kept(page, n, v)}
    assert not lost, (lost, main_part(page))

