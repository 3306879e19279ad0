"""Cancellation terms locked into the booking: a requested booking cancels free; an accepted one
free while now + freeCancelHours <= start, else lateCancelPct % of the price to the provider (no
fee); never from the start; a provider's cancellation after acceptance refunds in full and counts
as a failure."""

from __future__ import annotations

import pytest

from tests.contracts import driver as d
from tests.contracts.driver import V2

HOURS = 24
PCT = 35


@pytest.fixture
def termed(market: V2, provider: str) -> int:
    """A listing with 24 free hours and a 35 % late-cancellation share."""
    return market.register(provider, freeCancelHours=HOURS, lateCancelPct=PCT)


def accepted(market: V2, customer: str, listing: int) -> tuple[int, int]:
    start = market.now() + 3 * d.DAY
    booking = market.booking_in("Accepted", customer, listing, start=start)
    return booking, start


def test_terms_are_locked_into_the_booking(
    market: V2, provider: str, customer: str, termed: int
) -> None:
    booking, start = accepted(market, customer, termed)
    market.tx(
        "updateListing",
        termed,
        market.listing_input(termed, freeCancelHours=0, lateCancelPct=100),
        sender=provider,
    )
    stored = market.booking(booking)
    assert (stored["freeCancelHours"], stored["lateCancelPct"]) == (HOURS, PCT)
    market.at(start - HOURS * 3600, "cancel", booking, sender=customer)  # still free
    assert market.credit(customer) == d.PRICE


def test_a_requested_booking_cancels_free(market: V2, customer: str, termed: int) -> None:
    booking = market.book_as(customer, termed, start=market.now() + 3_600)
    receipt = market.tx("cancel", booking, sender=customer)
    event = market.one(receipt, "BookingCancelled")
    assert (event["refund"], event["compensation"]) == (d.PRICE, 0)


def test_free_until_the_edge(market: V2, provider: str, customer: str, termed: int) -> None:
    booking, start = accepted(market, customer, termed)
    receipt = market.at(start - HOURS * 3600, "cancel", booking, sender=customer)
    event = market.one(receipt, "BookingCancelled")
    assert (event["refund"], event["compensation"]) == (d.PRICE, 0)
    assert market.credit(provider) == 0


def test_late_one_second_after_the_edge(
    market: V2, provider: str, customer: str, termed: int
) -> None:
    booking, start = accepted(market, customer, termed)
    receipt = market.at(start - HOURS * 3600 + 1, "cancel", booking, sender=customer)
    event = market.one(receipt, "BookingCancelled")
    compensation = d.PRICE * PCT // 100
    assert (event["refund"], event["compensation"]) == (d.PRICE - compensation, compensation)
    assert market.credit(provider) == compensation
    assert market.credit(customer) == d.PRICE - compensation
    assert market.fees() == 0  # cancellations take no fee
    assert market.listing(termed)["failures"] == 0


def test_no_cancellation_from_the_start(market: V2, customer: str, termed: int) -> None:
    booking, start = accepted(market, customer, termed)
    with market.reverts("MarketplaceSlotStarted", start=start):
        market.at(start, "cancel", booking, sender=customer)


def test_a_providers_cancellation_after_acceptance_is_a_failure(
    market: V2, provider: str, customer: str, termed: int
) -> None:
    booking, start = accepted(market, customer, termed)
    market.mine_at(start - 10)
    receipt = market.tx("decline", booking, sender=provider)
    event = market.one(receipt, "BookingDeclined")
    assert (event["refund"], event["afterAcceptance"]) == (d.PRICE, True)
    assert market.listing(termed)["failures"] == 1
    assert market.call("reliabilityOf", termed) == 9 * 10_000 // 11


def test_a_decline_before_acceptance_is_not_a_failure(
    market: V2, provider: str, customer: str, termed: int
) -> None:
    booking = market.book_as(customer, termed)
    event = market.one(market.tx("decline", booking, sender=provider), "BookingDeclined")
    assert event["afterAcceptance"] is False
    assert market.listing(termed)["failures"] == 0


def test_the_provider_cannot_decline_from_the_start(
    market: V2, provider: str, customer: str, termed: int
) -> None:
    booking, start = accepted(market, customer, termed)
    with market.reverts("MarketplaceSlotStarted", start=start):
        market.at(start, "decline", booking, sender=provider)


@pytest.mark.parametrize("pct", [0, 1, 99, 100])
def test_late_share_extremes(market: V2, provider: str, customer: str, pct: int) -> None:
    listing = market.register(provider, freeCancelHours=0, lateCancelPct=pct)
    booking, start = accepted(market, customer, listing)
    # freeCancelHours 0: free up to the start itself is impossible (no cancel at start): always free
    market.at(start - 1, "cancel", booking, sender=customer)
    assert market.credit(customer) == d.PRICE
