"""Disputes and bonds: a dispute costs exactly the bond (ether, whatever the currency); the arbiter
is fixed at booking and must not be a party; the fee is taken on every ruling; a provider's loss
returns the bond, pays the arbiter min(bond, stake) from the stake, and records a one-star rating
at the booking's weight and a failure; a customer's loss pays the bond to the arbiter; the default
after the deadline splits 50/50, returns the bond and touches nothing else."""

from __future__ import annotations

import pytest

from tests.contracts import driver as d
from tests.contracts.driver import V2


def disputed(market: V2, customer: str, listing: int, salt: int = 0) -> int:
    booking = market.booking_in("Completed", customer, listing, salt=salt)
    receipt = market.tx("dispute", booking, sender=customer, value=d.DISPUTE_BOND)
    event = market.one(receipt, "BookingDisputed")
    assert event["bond"] == d.DISPUTE_BOND
    assert event["arbitrateBy"] == market.now() + d.WINDOWS["arbitration"]
    assert market.call("disputeBondOf", booking) == d.DISPUTE_BOND
    return booking


@pytest.mark.parametrize("value", [0, d.DISPUTE_BOND - 1, d.DISPUTE_BOND + 1])
def test_a_dispute_costs_exactly_the_bond(
    market: V2, customer: str, booking_id: int, value: int
) -> None:
    market.drive(booking_id, "Completed")
    with market.reverts("MarketplaceValueMismatch", sent=value, due=d.DISPUTE_BOND):
        market.tx("dispute", booking_id, sender=customer, value=value)


def test_the_provider_loses(
    market: V2, provider: str, customer: str, arbiter: str, provider_id: int
) -> None:
    booking = disputed(market, customer, provider_id)
    receipt = market.tx("resolve", booking, 8_000, sender=arbiter)
    event = market.one(receipt, "DisputeResolved")
    fee = market.booking(booking)["fee"]
    refund = (d.PRICE - fee) * 8_000 // 10_000
    assert (event["refund"], event["payout"], event["fee"]) == (refund, d.PRICE - fee - refund, fee)
    assert event["providerLost"] is True and event["arbiter"] == arbiter
    assert event["weight"] == min(fee * 1_000 // d.MIN_FEE_ETH, 2**40)
    assert market.credit(customer) == refund + d.DISPUTE_BOND
    assert market.credit(arbiter) == min(d.DISPUTE_BOND, d.MIN_STAKE)
    slashed = market.one(receipt, "StakeSlashed")
    assert (slashed["to"], slashed["amount"]) == (arbiter, d.DISPUTE_BOND)
    listing = market.listing(provider_id)
    assert listing["stake"] == d.MIN_STAKE - d.DISPUTE_BOND
    assert (listing["ratingWeight"], listing["weightedStars"]) == (event["weight"], event["weight"])
    assert (listing["completed"], listing["failures"]) == (1, 1)
    assert market.fees() == fee
    assert market.call("disputeBondOf", booking) == 0
    market.solvency([booking], [provider_id])


@pytest.mark.parametrize("bps", [0, 2_500, 5_000])
def test_the_customer_loses_or_splits(
    market: V2, provider: str, customer: str, arbiter: str, provider_id: int, bps: int
) -> None:
    booking = disputed(market, customer, provider_id)
    receipt = market.tx("resolve", booking, bps, sender=arbiter)
    event = market.one(receipt, "DisputeResolved")
    fee = market.booking(booking)["fee"]
    refund = (d.PRICE - fee) * bps // 10_000
    assert event["providerLost"] is False
    assert market.credit(customer) == refund
    assert market.credit(provider) == d.PRICE - fee - refund
    assert market.credit(arbiter) == d.DISPUTE_BOND
    assert market.listing(provider_id)["ratingWeight"] == 0
    assert market.listing(provider_id)["stake"] == d.MIN_STAKE
    market.solvency([booking], [provider_id])


def test_the_arbiter_pay_is_capped_by_the_stake(
    market: V2, owner: str, provider: str, customer: str, arbiter: str
) -> None:
    listing = market.register(provider)
    # shrink the stake below the bond with no-shows (10 % each)
    for salt in range(30):
        booking = market.booking_in("Accepted", customer, listing, salt=salt)
        market.mine_at(market.booking(booking)["deadline"] + 1)
        market.tx("expire", booking, sender=market.roles["stranger"])
    stake = market.listing(listing)["stake"]
    assert stake < d.DISPUTE_BOND
    booking = disputed(market, customer, listing, salt=99)
    market.tx("resolve", booking, 10_000, sender=arbiter)
    assert market.credit(arbiter) == stake
    assert market.listing(listing)["stake"] == 0


def test_only_the_bookings_arbiter_resolves(
    market: V2,
    owner: str,
    customer: str,
    provider: str,
    stranger: str,
    other_arbiter: str,
    provider_id: int,
) -> None:
    booking = disputed(market, customer, provider_id)
    assert market.booking(booking)["arbiterId"] == 1
    # name another arbiter and make it the default: the booking keeps its own
    for kind, value in ((4, 1), (5, 0)):
        eta = market.one(
            market.tx("scheduleChange", kind, other_arbiter, value, sender=owner), "ChangeScheduled"
        )["eta"]
        market.mine_at(eta)
        market.tx("applyChange", kind, other_arbiter, value, sender=owner)
    for who in (other_arbiter, stranger, owner, customer, provider):
        with market.reverts("MarketplaceNotArbiter", bookingId=booking, caller=who):
            market.tx("resolve", booking, 5_000, sender=who)


def test_an_arbiter_that_is_a_party_cannot_resolve(market: V2, customer: str, arbiter: str) -> None:
    listing = market.register(arbiter)  # the arbiter owns the listing
    booking = disputed(market, customer, listing)
    with market.reverts("MarketplaceNotArbiter", bookingId=booking, caller=arbiter):
        market.tx("resolve", booking, 5_000, sender=arbiter)


def test_a_refund_share_above_everything(
    market: V2, customer: str, arbiter: str, provider_id: int
) -> None:
    booking = disputed(market, customer, provider_id)
    with market.reverts("MarketplaceInvalidRefundBps", refundBps=10_001):
        market.tx("resolve", booking, 10_001, sender=arbiter)


def test_the_default_ruling(
    market: V2, provider: str, customer: str, arbiter: str, stranger: str, provider_id: int
) -> None:
    booking = disputed(market, customer, provider_id)
    deadline = market.booking(booking)["deadline"]
    with market.reverts("MarketplaceDeadlineNotReached", bookingId=booking, deadline=deadline):
        market.tx("resolveByDefault", booking, sender=stranger)
    market.mine_at(deadline + 1)
    with market.reverts("MarketplaceDeadlinePassed", bookingId=booking, deadline=deadline):
        market.tx("resolve", booking, 10_000, sender=arbiter)
    receipt = market.tx("resolveByDefault", booking, sender=stranger)
    event = market.one(receipt, "DisputeResolved")
    fee = market.booking(booking)["fee"]
    half = (d.PRICE - fee) * 5_000 // 10_000
    assert event["arbiter"] == "0x" + "00" * 20 or int(event["arbiter"], 16) == 0
    assert market.credit(customer) == half + d.DISPUTE_BOND
    assert market.credit(provider) == d.PRICE - fee - half
    assert market.credit(arbiter) == 0
    listing = market.listing(provider_id)
    assert (listing["completed"], listing["failures"], listing["ratingWeight"]) == (0, 0, 0)
    market.solvency([booking], [provider_id])


def test_a_token_booking_is_disputed_with_an_ether_bond(
    market: V2, customer: str, arbiter: str, usd_provider_id: int
) -> None:
    booking = disputed(market, customer, usd_provider_id)
    market.tx("resolve", booking, 10_000, sender=arbiter)
    fee = market.booking(booking)["fee"]
    assert market.credit(customer, d.USD) == d.PRICE_USD - fee
    assert market.credit(customer, d.ETH) == d.DISPUTE_BOND
    assert market.fees(d.USD) == fee
    market.solvency([booking], [usd_provider_id])


def test_without_a_default_arbiter_only_the_default_ruling_ends_a_dispute(
    market: V2, owner: str, customer: str, arbiter: str, stranger: str, provider_id: int
) -> None:
    eta = market.one(
        market.tx("scheduleChange", 5, "0x" + "00" * 20, 0, sender=owner), "ChangeScheduled"
    )["eta"]
    market.mine_at(eta)
    market.tx("applyChange", 5, "0x" + "00" * 20, 0, sender=owner)
    assert market.call("defaultArbiter") == 0
    booking = disputed(market, customer, provider_id)
    assert market.booking(booking)["arbiterId"] == 0
    with market.reverts("MarketplaceNotArbiter", bookingId=booking, caller=arbiter):
        market.tx("resolve", booking, 10_000, sender=arbiter)
    market.mine_at(market.booking(booking)["deadline"] + 1)
    market.tx("resolveByDefault", booking, sender=stranger)
    assert market.credit(customer) >= d.DISPUTE_BOND


def test_an_arbiter_that_is_the_customer_cannot_resolve(
    market: V2, arbiter: str, provider_id: int
) -> None:
    booking = disputed(market, arbiter, provider_id)
    with market.reverts("MarketplaceNotArbiter", bookingId=booking, caller=arbiter):
        market.tx("resolve", booking, 10_000, sender=arbiter)
