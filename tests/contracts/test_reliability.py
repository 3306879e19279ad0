"""Reliability: completed and failures per listing, (completed + 9) x 10,000 / (completed +
failures + 10); a no-show refunds in full and moves 10 % of the stake to the customer's ether
credit (the rest stays); a token booking's no-show slashes ether; the stake cannot leave while a
booking could still slash it."""

from __future__ import annotations

from web3.types import TxReceipt

from tests.contracts import driver as d
from tests.contracts.driver import V2


def reliability(completed: int, failures: int) -> int:
    return (completed + 9) * 10_000 // (completed + failures + 10)


def no_show(market: V2, customer: str, listing: int, salt: int = 0) -> tuple[int, TxReceipt]:
    booking = market.booking_in("Accepted", customer, listing, salt=salt)
    market.mine_at(market.booking(booking)["deadline"] + 1)
    receipt = market.tx("expire", booking, sender=market.roles["stranger"])
    return booking, receipt


def test_a_new_listing_is_ninety_percent(market: V2, provider_id: int) -> None:
    assert market.call("reliabilityOf", provider_id) == 9_000


def test_settlements_count_as_completed(market: V2, customer: str, provider_id: int) -> None:
    for salt in range(3):
        market.booking_in("Settled", customer, provider_id, salt=salt)
    assert market.listing(provider_id)["completed"] == 3
    assert market.call("reliabilityOf", provider_id) == reliability(3, 0)


def test_a_no_show_refunds_and_slashes_ten_percent(
    market: V2, customer: str, provider_id: int
) -> None:
    booking, receipt = no_show(market, customer, provider_id)
    expired = market.one(receipt, "BookingExpired")
    slashed = market.one(receipt, "StakeSlashed")
    assert (expired["refund"], expired["noShow"]) == (d.PRICE, True)
    assert (slashed["to"], slashed["amount"]) == (customer, d.MIN_STAKE // 10)
    assert slashed["bookingId"] == booking
    assert market.credit(customer) == d.PRICE + d.MIN_STAKE // 10
    listing = market.listing(provider_id)
    assert listing["stake"] == d.MIN_STAKE - d.MIN_STAKE // 10
    assert listing["failures"] == 1
    assert market.call("reliabilityOf", provider_id) == reliability(0, 1)
    market.solvency([booking], [provider_id])


def test_a_token_no_show_slashes_ether(market: V2, customer: str, usd_provider_id: int) -> None:
    booking, receipt = no_show(market, customer, usd_provider_id)
    assert market.credit(customer, d.USD) == d.PRICE_USD
    assert market.credit(customer, d.ETH) == d.MIN_STAKE // 10
    market.solvency([booking], [usd_provider_id])


def test_a_topped_up_stake_slashes_more(
    market: V2, provider: str, customer: str, provider_id: int
) -> None:
    market.tx("topUpStake", provider_id, sender=provider, value=9 * d.MIN_STAKE)
    no_show(market, customer, provider_id)
    assert market.credit(customer) == d.PRICE + d.MIN_STAKE


def test_an_expired_request_is_not_a_failure(
    market: V2, customer: str, stranger: str, booking_id: int
) -> None:
    market.mine_at(market.booking(booking_id)["deadline"] + 1)
    receipt = market.tx("expire", booking_id, sender=stranger)
    assert market.one(receipt, "BookingExpired")["noShow"] is False
    assert market.listing(1)["failures"] == 0
    assert market.credit(customer) == d.PRICE


def test_the_stake_is_locked_until_a_no_show_could_no_longer_slash(
    market: V2, provider: str, customer: str, provider_id: int
) -> None:
    booking = market.booking_in("Accepted", customer, provider_id)
    locked = market.listing(provider_id)["lockedUntil"]
    market.tx("deactivate", provider_id, sender=provider)
    service_by = market.booking(booking)["deadline"]
    market.mine_at(service_by + 1)
    with market.reverts("MarketplaceStakeLocked", providerId=provider_id, until=locked):
        market.tx("releaseStake", provider_id, sender=provider)
    market.tx("expire", booking, sender=market.roles["stranger"])  # the slash still finds the stake
    assert market.credit(customer) == d.PRICE + d.MIN_STAKE // 10
    market.at(locked, "releaseStake", provider_id, sender=provider)
    assert market.credit(provider) == d.MIN_STAKE - d.MIN_STAKE // 10


def test_a_reactivation_needs_the_minimum_stake(
    market: V2, provider: str, customer: str, provider_id: int
) -> None:
    no_show(market, customer, provider_id)
    market.tx("deactivate", provider_id, sender=provider)
    with market.reverts("MarketplaceInsufficientStake"):
        market.tx("reactivate", provider_id, sender=provider)
    market.tx("topUpStake", provider_id, sender=provider, value=d.MIN_STAKE // 10)
    market.tx("reactivate", provider_id, sender=provider)
