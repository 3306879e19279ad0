"""Listings and offers: registration with a stake, the whole offer in every event, offer versions
that lock a booking's terms, prices never below the minimum fee, deactivation, top-ups and the
stake release (cooldown and locks)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts import driver as d
from tests.contracts.driver import V2


def test_register_stores_the_offer_and_emits_it_whole(market: V2, provider: str) -> None:
    fields = {
        "category": 3,
        "region": 7,
        "attributes": 0b1011,
        "currency": d.USD,
        "price": 42_000_000,
        "metadataHash": d.METADATA,
        "instant": True,
        "freeCancelHours": 24,
        "lateCancelPct": 40,
    }
    receipt = market.tx(
        "register", market.struct("register", 0, **fields), sender=provider, value=d.MIN_STAKE
    )
    event = market.one(receipt, "ListingRegistered")
    assert (event["offerVersion"], event["stake"], event["owner"]) == (1, d.MIN_STAKE, provider)
    assert dict(event["listing"]) == fields or tuple(event["listing"]) == tuple(fields.values())
    listing = market.listing(event["providerId"])
    for name, value in fields.items():
        if name != "metadataHash":
            assert listing[name] == value, name
    assert listing["active"] is True
    assert market.call("providerCount") == event["providerId"]
    assert market.call("scoreOf", event["providerId"]) == 35_000
    assert market.call("reliabilityOf", event["providerId"]) == 9_000


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"price": 0}, "MarketplaceZeroPrice"),
        ({"price": d.MIN_FEE_ETH - 1}, "MarketplacePriceBelowMinFee"),
        ({"category": 0}, "MarketplaceInvalidCategory"),
        ({"lateCancelPct": 101}, "MarketplaceInvalidCancelTerms"),
        ({"currency": 9}, "MarketplaceCurrencyDisabled"),
    ],
)
def test_register_refuses_bad_input(
    market: V2, provider: str, fields: dict[str, Any], error: str
) -> None:
    with market.reverts(error):
        market.register(provider, **fields)


def test_the_minimum_price_is_the_minimum_fee(market: V2, provider: str) -> None:
    assert market.listing(market.register(provider, price=d.MIN_FEE_ETH))["price"] == d.MIN_FEE_ETH
    with market.reverts("MarketplacePriceBelowMinFee", price=1, minFee=d.MIN_FEE_ETH):
        market.register(provider, price=1)  # v1's 1-wei price is gone


def test_register_needs_the_minimum_stake(market: V2, provider: str) -> None:
    with market.reverts("MarketplaceInsufficientStake", sent=d.MIN_STAKE - 1, required=d.MIN_STAKE):
        market.register(provider, stake=d.MIN_STAKE - 1)


def test_update_bumps_the_offer_version_and_keeps_open_bookings_terms(
    market: V2, provider: str, customer: str, provider_id: int
) -> None:
    booking = market.book_as(customer, provider_id)
    receipt = market.tx(
        "updateListing",
        provider_id,
        market.listing_input(provider_id, price=3 * d.PRICE, freeCancelHours=5, lateCancelPct=77),
        sender=provider,
    )
    event = market.one(receipt, "ListingUpdated")
    assert event["offerVersion"] == 2
    assert market.listing(provider_id)["offerVersion"] == 2
    assert market.booking(booking)["price"] == d.PRICE  # the escrow and terms of the booking stay
    assert market.booking(booking)["lateCancelPct"] == 0

    # A booking against the old offer is refused: the offer changed in between.
    with market.reverts("MarketplaceOfferChanged", expected=1, current=2):
        market.book_as(customer, provider_id, offer_version=1, salt=1)
    assert market.booking(market.book_as(customer, provider_id, salt=2))["price"] == 3 * d.PRICE


def test_update_is_the_owners_and_keeps_the_category(
    market: V2, provider: str, stranger: str, provider_id: int
) -> None:
    with market.reverts("MarketplaceNotProviderOwner", providerId=provider_id, caller=stranger):
        market.tx("updateListing", provider_id, market.listing_input(provider_id), sender=stranger)
    with market.reverts("MarketplaceInvalidCategory"):
        market.tx(
            "updateListing",
            provider_id,
            market.listing_input(provider_id, category=2),
            sender=provider,
        )
    with market.reverts("MarketplaceProviderNotFound", providerId=99):
        market.tx("updateListing", 99, market.listing_input(provider_id), sender=provider)


def test_deactivate_reactivate(market: V2, provider: str, customer: str, provider_id: int) -> None:
    receipt = market.tx("deactivate", provider_id, sender=provider)
    unlock = market.one(receipt, "ListingDeactivated")["unlockAt"]
    assert unlock == market.now() + d.WINDOWS["stakeCooldown"]
    with market.reverts("MarketplaceProviderStateUnchanged", providerId=provider_id, active=False):
        market.tx("deactivate", provider_id, sender=provider)
    with market.reverts("MarketplaceIneligible"):
        market.book_as(customer, provider_id)
    receipt = market.tx("reactivate", provider_id, sender=provider)
    assert market.one(receipt, "ListingReactivated")["providerId"] == provider_id
    market.book_as(customer, provider_id)


def test_anyone_may_top_up_a_stake(market: V2, stranger: str, provider_id: int) -> None:
    receipt = market.tx("topUpStake", provider_id, sender=stranger, value=12_345)
    event = market.one(receipt, "StakeToppedUp")
    assert (event["amount"], event["stake"]) == (12_345, d.MIN_STAKE + 12_345)
    with market.reverts("MarketplaceZeroValue"):
        market.tx("topUpStake", provider_id, sender=stranger, value=0)


def test_release_waits_for_the_cooldown(market: V2, provider: str, provider_id: int) -> None:
    with market.reverts("MarketplaceStakeLocked", providerId=provider_id, until=0):
        market.tx("releaseStake", provider_id, sender=provider)
    receipt = market.tx("deactivate", provider_id, sender=provider)
    unlock = market.one(receipt, "ListingDeactivated")["unlockAt"]
    market.mine_at(unlock - 2)
    with market.reverts("MarketplaceStakeLocked", providerId=provider_id, until=unlock):
        market.tx("releaseStake", provider_id, sender=provider)
    receipt = market.at(unlock, "releaseStake", provider_id, sender=provider)
    assert market.one(receipt, "StakeReleased")["amount"] == d.MIN_STAKE
    assert market.credit(provider) == d.MIN_STAKE
    assert market.listing(provider_id)["stake"] == 0


def test_an_acceptance_locks_the_stake_until_every_exit_is_past(
    market: V2, provider: str, customer: str, provider_id: int
) -> None:
    booking = market.book_as(customer, provider_id, start=market.now() + 30 * d.DAY, duration=90)
    receipt = market.tx("accept", booking, sender=provider)
    accepted = market.one(receipt, "BookingAccepted")
    start = market.booking_id_parts(booking)["start"]
    service_by = start + 90 * 60 + d.WINDOWS["serviceGrace"]
    locked = service_by + d.WINDOWS["confirm"] + d.WINDOWS["arbitration"]
    assert accepted["serviceBy"] == service_by
    assert accepted["stakeLockedUntil"] == locked
    assert market.listing(provider_id)["lockedUntil"] == locked

    unlock = market.one(
        market.tx("deactivate", provider_id, sender=provider), "ListingDeactivated"
    )["unlockAt"]
    assert unlock == locked  # later than the cooldown
    market.mine_at(market.now() + d.WINDOWS["stakeCooldown"] + 1)
    with market.reverts("MarketplaceStakeLocked", providerId=provider_id, until=locked):
        market.tx("releaseStake", provider_id, sender=provider)


def test_an_update_may_change_the_currency_but_not_to_a_disabled_one(
    market: V2, provider: str, customer: str, provider_id: int
) -> None:
    booking = market.book_as(customer, provider_id)
    with market.reverts("MarketplaceCurrencyDisabled", currency=9):
        market.tx(
            "updateListing",
            provider_id,
            market.listing_input(provider_id, currency=9),
            sender=provider,
        )
    market.tx(
        "updateListing",
        provider_id,
        market.listing_input(provider_id, currency=d.USD, price=d.PRICE_USD),
        sender=provider,
    )
    usd = market.book_as(customer, provider_id, salt=1)
    assert (market.booking(booking)["currency"], market.booking(usd)["currency"]) == (d.ETH, d.USD)
    market.drive(booking, "Settled")  # the ether booking still settles in ether
    assert market.credit(provider, d.ETH) == d.PRICE - market.booking(booking)["fee"]


def test_a_top_up_of_an_unknown_listing_is_refused(market: V2, stranger: str) -> None:
    with market.reverts("MarketplaceProviderNotFound", providerId=999):
        market.tx("topUpStake", 999, sender=stranger, value=1)
