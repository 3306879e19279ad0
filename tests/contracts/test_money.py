"""Money: fee arithmetic and snapshot, dispute splits to the wei, the pause that never traps funds,
and solvency through a long mixed flow down to an empty contract."""

from __future__ import annotations

from typing import Any

import pytest

from marketplace.domain import Status
from tests.support.market_driver import MarketDriver

UINT96_MAX = 2**96 - 1


def priced_booking(
    market: MarketDriver, owner: str, provider: str, customer: str, price: int, fee_bps: int
) -> int:
    """Arrange: a Requested booking of a listing priced `price`, made at fee rate `fee_bps`."""
    if fee_bps != market.FEE_BPS:
        market.transact("setFeeRate", fee_bps, sender=owner)
    provider_id = market.register(provider, price=price)
    market.set_criteria(customer, maxPrice=UINT96_MAX)
    return market.book(customer, provider_id)


# ---------------------------------------------------------------------- settlement and fees


@pytest.mark.parametrize(
    ("price", "fee_bps"),
    [(1, 1_000), (9_999, 1_000), (10_001, 250), (10**18 + 9, 999), (10**21 + 1, 0), (123_457, 1)],
)
def test_settlement_pays_price_minus_the_floored_fee(
    market: MarketDriver, owner: str, provider: str, customer: str, price: int, fee_bps: int
) -> None:
    booking_id = priced_booking(market, owner, provider, customer, price, fee_bps)
    market.drive(booking_id, Status.COMPLETED)

    receipt = market.transact("confirm", booking_id, sender=customer)

    fee = price * fee_bps // 10_000
    settled = market.only_event(receipt, "BookingSettled")
    assert (settled["payout"], settled["fee"]) == (price - fee, fee)
    assert settled["payout"] + settled["fee"] == price
    assert market.credit(provider) == price - fee
    assert market.call("accruedFees") == fee
    market.assert_solvent()


def test_the_fee_at_the_cap_is_at_most_ten_percent(
    market: MarketDriver, owner: str, provider: str, customer: str
) -> None:
    booking_id = priced_booking(market, owner, provider, customer, 10**18 + 19, 1_000)
    market.drive(booking_id, Status.SETTLED)

    fee = market.call("accruedFees")
    assert fee == (10**18 + 19) // 10
    assert fee * 10 <= 10**18 + 19


@pytest.mark.parametrize("new_fee_bps", [1_000, 0])
def test_changing_the_fee_after_booking_does_not_change_that_booking_fee(
    market: MarketDriver,
    owner: str,
    provider: str,
    customer: str,
    provider_id: int,
    booking_id: int,
    new_fee_bps: int,
) -> None:
    market.transact("setFeeRate", new_fee_bps, sender=owner)
    market.drive(booking_id, Status.COMPLETED)

    receipt = market.transact("confirm", booking_id, sender=customer)

    assert market.booking(booking_id)["feeBps"] == market.FEE_BPS
    assert (
        market.only_event(receipt, "BookingSettled")["fee"]
        == market.PRICE * market.FEE_BPS // 10_000
    )
    later = market.booking_in(Status.SETTLED, customer, provider_id)
    assert market.booking(later)["feeBps"] == new_fee_bps
    assert market.call("accruedFees") == (
        market.PRICE * market.FEE_BPS // 10_000 + market.PRICE * new_fee_bps // 10_000
    )
    market.assert_solvent()


def test_the_fee_snapshot_also_applies_to_a_dispute_split(
    market: MarketDriver, owner: str, customer: str, arbiter: str, booking_id: int
) -> None:
    market.drive(booking_id, Status.DISPUTED)
    market.transact("setFeeRate", 1_000, sender=owner)

    receipt = market.transact("resolve", booking_id, 0, sender=arbiter)

    assert (
        market.only_event(receipt, "DisputeResolved")["fee"]
        == market.PRICE * market.FEE_BPS // 10_000
    )


# ---------------------------------------------------------------------- dispute splits


@pytest.mark.parametrize(
    ("price", "fee_bps", "refund_bps"),
    [
        (10_001, 250, 3_333),
        (1, 1_000, 5_000),
        (3, 1_000, 5_001),
        (7, 999, 0),
        (7, 999, 10_000),
        (999_999_999_999_999_999, 1_000, 9_999),
        (10**21 + 1, 1_000, 1),
        (123_456_789, 0, 7_777),
    ],
)
def test_a_dispute_split_adds_up_to_the_price_to_the_wei(
    market: MarketDriver,
    owner: str,
    provider: str,
    customer: str,
    arbiter: str,
    price: int,
    fee_bps: int,
    refund_bps: int,
) -> None:
    booking_id = priced_booking(market, owner, provider, customer, price, fee_bps)
    market.drive(booking_id, Status.DISPUTED)

    receipt = market.transact("resolve", booking_id, refund_bps, sender=arbiter)

    refund = price * refund_bps // 10_000
    fee = (price - refund) * fee_bps // 10_000
    payout = price - refund - fee
    resolved = market.only_event(receipt, "DisputeResolved")
    assert (resolved["refund"], resolved["payout"], resolved["fee"]) == (refund, payout, fee)
    assert refund + payout + fee == price
    assert market.credit(customer) == refund
    assert market.credit(provider) == payout
    assert market.call("accruedFees") == fee
    market.assert_solvent()


def test_the_default_split_floors_the_customer_half_of_an_odd_price(
    market: MarketDriver, owner: str, provider: str, customer: str, stranger: str
) -> None:
    booking_id = priced_booking(market, owner, provider, customer, 10_001, 250)
    market.drive(booking_id, Status.DISPUTED)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)

    receipt = market.transact("resolveByDefault", booking_id, sender=stranger)

    # refund 5000 (floored), the other 5001 carries the fee: 125 fee, 4876 payout.
    resolved = market.only_event(receipt, "DisputeResolved")
    assert (resolved["refund"], resolved["payout"], resolved["fee"]) == (5_000, 4_876, 125)
    market.assert_solvent()


# ---------------------------------------------------------------------- the pause

# Arranges one action that must work while paused: (function, arguments, role that sends it).
PausedAction = tuple[str, tuple[Any, ...], str]


def _cancel(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    booking_id = market.book(roles["customer"], provider_id)
    return "cancel", (booking_id,), "customer"


def _decline(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    booking_id = market.booking_in(Status.ACCEPTED, roles["customer"], provider_id)
    return "decline", (booking_id,), "provider"


def _expire(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    booking_id = market.book(roles["customer"], provider_id)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)
    return "expire", (booking_id,), "stranger"


def _accept(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    return "accept", (market.book(roles["customer"], provider_id),), "provider"


def _complete(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    booking_id = market.booking_in(Status.ACCEPTED, roles["customer"], provider_id)
    return "complete", (booking_id,), "provider"


def _confirm(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    booking_id = market.booking_in(Status.COMPLETED, roles["customer"], provider_id)
    return "confirm", (booking_id,), "customer"


def _dispute(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    booking_id = market.booking_in(Status.COMPLETED, roles["customer"], provider_id)
    return "dispute", (booking_id,), "customer"


def _settle(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    booking_id = market.booking_in(Status.COMPLETED, roles["customer"], provider_id)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)
    return "settle", (booking_id,), "stranger"


def _resolve(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    booking_id = market.booking_in(Status.DISPUTED, roles["customer"], provider_id)
    return "resolve", (booking_id, 7_000), "arbiter"


def _resolve_by_default(
    market: MarketDriver, roles: dict[str, str], provider_id: int
) -> PausedAction:
    booking_id = market.booking_in(Status.DISPUTED, roles["customer"], provider_id)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)
    return "resolveByDefault", (booking_id,), "stranger"


def _rate(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    booking_id = market.booking_in(Status.SETTLED, roles["customer"], provider_id)
    return "rate", (booking_id, 4, 0), "customer"


def _withdraw(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    market.drive(market.book(roles["customer"], provider_id), Status.DECLINED)
    return "withdraw", (), "customer"


def _withdraw_to(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    market.drive(market.book(roles["customer"], provider_id), Status.DECLINED)
    return "withdrawTo", (roles["stranger"],), "customer"


def _release_stake(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    receipt = market.transact("deactivate", provider_id, sender=roles["provider"])
    market.mine_at(market.timestamp_of(receipt) + market.WINDOWS["stakeCooldown"])
    return "releaseStake", (provider_id,), "provider"


def _deactivate(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    return "deactivate", (provider_id,), "provider"


def _collect_fees(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    market.booking_in(Status.SETTLED, roles["customer"], provider_id)
    return "collectFees", (roles["treasury"], market.call("accruedFees")), "owner"


def _set_criteria(market: MarketDriver, roles: dict[str, str], provider_id: int) -> PausedAction:
    return "setCriteria", (market.criteria_input(minScore=1),), "customer"


NEVER_PAUSED = {
    "cancel": _cancel,
    "decline": _decline,
    "expire": _expire,
    "accept": _accept,
    "complete": _complete,
    "confirm": _confirm,
    "dispute": _dispute,
    "settle": _settle,
    "resolve": _resolve,
    "resolveByDefault": _resolve_by_default,
    "rate": _rate,
    "withdraw": _withdraw,
    "withdrawTo": _withdraw_to,
    "releaseStake": _release_stake,
    "deactivate": _deactivate,
    "collectFees": _collect_fees,
    "setCriteria": _set_criteria,
}


@pytest.mark.parametrize("action", list(NEVER_PAUSED))
def test_the_pause_never_stops_an_exit_or_a_payout(
    market: MarketDriver, roles: dict[str, str], owner: str, provider_id: int, action: str
) -> None:
    function, args, role = NEVER_PAUSED[action](market, roles, provider_id)
    market.transact("setPaused", True, sender=owner)

    receipt = market.transact(function, *args, sender=roles[role])

    assert receipt["status"] == 1
    market.assert_solvent()


# ---------------------------------------------------------------------- solvency


def test_the_books_balance_through_a_mixed_flow_down_to_an_empty_contract(
    market: MarketDriver, roles: dict[str, str]
) -> None:
    owner, provider, customer = roles["owner"], roles["provider"], roles["customer"]
    other_provider, other_customer = roles["other_provider"], roles["other_customer"]
    first = market.register(provider, price=10_007)
    second = market.register(other_provider, price=3 * 10**15 + 1, stake=market.MIN_STAKE + 3)
    market.assert_solvent()

    outcomes = {}
    for who, listing in ((customer, first), (other_customer, second)):
        for status in (
            Status.SETTLED,
            Status.RESOLVED,
            Status.CANCELLED,
            Status.EXPIRED,
            Status.DECLINED,
            Status.DISPUTED,
            Status.ACCEPTED,
        ):
            outcomes[market.booking_in(status, who, listing)] = status
        market.assert_solvent()
        market.transact(
            "setFeeRate", 1_000, sender=owner
        )  # later bookings pay more, earlier keep theirs

    # Close every open booking by its timed exit, then pay everybody out.
    market.mine_at(market.now() + 30 * 86_400)
    for booking_id, status in outcomes.items():
        if status == Status.DISPUTED:
            market.transact("resolveByDefault", booking_id, sender=roles["stranger"])
        elif status == Status.ACCEPTED:
            market.transact("expire", booking_id, sender=roles["stranger"])
    market.assert_solvent()
    for listing, owner_of in ((first, provider), (second, other_provider)):
        market.transact("deactivate", listing, sender=owner_of)
    market.mine_at(market.now() + market.WINDOWS["stakeCooldown"])
    for listing, owner_of in ((first, provider), (second, other_provider)):
        market.transact("releaseStake", listing, sender=owner_of)
    market.transact("collectFees", roles["treasury"], market.call("accruedFees"), sender=owner)
    market.assert_solvent()
    for account in (provider, other_provider, customer, other_customer, roles["treasury"]):
        market.transact("withdraw", sender=account)

    assert market.balance(market.address) == 0
