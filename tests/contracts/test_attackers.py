"""Hostile contracts (contracts/test/): a receiver that re-enters the marketplace, one that refuses
payments and one that burns all the gas it is given. None gets more than its credit, and none can
block anybody else's refund, settlement or withdrawal."""

from __future__ import annotations

from typing import Any

import pytest

from marketplace.domain import Status
from tests.support.market_driver import Actor, MarketDriver

HOSTILE_KINDS = ["RevertingReceiver", "GasBurningReceiver"]


# ---------------------------------------------------------------------- re-entrancy


@pytest.fixture
def attacker(market: MarketDriver, stranger: str) -> Actor:
    """A ReentrantReceiver controlled by `stranger`, with open criteria and its own listing."""
    actor = market.deploy_actor("ReentrantReceiver", controller=stranger)
    actor.act("setCriteria", market.criteria_input())
    actor.act(
        "register", market.CATEGORY, 0, 0, market.PRICE, market.METADATA, value=market.MIN_STAKE
    )
    actor.listing = int(market.call("providerCount"))
    return actor


def attacker_books(market: MarketDriver, attacker: Actor, provider_id: int) -> int:
    """The attacker books `provider_id` as a customer; returns the booking id."""
    version = market.criteria(attacker.address)["version"]
    receipt = attacker.act("book", provider_id, market.PRICE, version, value=market.PRICE)
    return int(market.events("BookingRequested", receipt)[0]["bookingId"])


def credit_attacker(market: MarketDriver, attacker: Actor, provider: str, provider_id: int) -> None:
    """Arrange: the attacker holds exactly PRICE of credit (a declined booking's refund)."""
    market.transact("decline", attacker_books(market, attacker, provider_id), sender=provider)
    assert market.credit(attacker.address) == market.PRICE


# Arranges one guarded call for the attacker to re-enter with: ((function, arguments), value sent,
# the booking it concerns or None).
Reentry = tuple[tuple[str, tuple[Any, ...]], int, int | None]


def _reenter_withdraw(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> Reentry:
    return ("withdraw", ()), 0, None


def _reenter_withdraw_to(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> Reentry:
    return ("withdrawTo", (attacker.address,)), 0, None


def _reenter_book(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> Reentry:
    version = market.criteria(attacker.address)["version"]
    return ("book", (provider_id, market.PRICE, version)), market.PRICE, None


def _reenter_cancel(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> Reentry:
    booking_id = attacker_books(market, attacker, provider_id)
    return ("cancel", (booking_id,)), 0, booking_id


def _reenter_decline(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> Reentry:
    booking_id = market.book(roles["customer"], attacker.listing)
    return ("decline", (booking_id,)), 0, booking_id


def _reenter_expire(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> Reentry:
    booking_id = attacker_books(market, attacker, provider_id)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)
    return ("expire", (booking_id,)), 0, booking_id


def _completed_by_attacker(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> int:
    booking_id = attacker_books(market, attacker, provider_id)
    market.transact("accept", booking_id, sender=roles["provider"])
    market.transact("complete", booking_id, sender=roles["provider"])
    return booking_id


def _reenter_confirm(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> Reentry:
    booking_id = _completed_by_attacker(market, roles, attacker, provider_id)
    return ("confirm", (booking_id,)), 0, booking_id


def _reenter_settle(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> Reentry:
    booking_id = _completed_by_attacker(market, roles, attacker, provider_id)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)
    return ("settle", (booking_id,)), 0, booking_id


def _reenter_resolve(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> Reentry:
    market.transact("setArbiter", attacker.address, True, sender=roles["owner"])
    booking_id = market.booking_in(Status.DISPUTED, roles["customer"], provider_id)
    return ("resolve", (booking_id, 0)), 0, booking_id


def _reenter_resolve_by_default(
    market: MarketDriver, roles: dict[str, str], attacker: Actor, provider_id: int
) -> Reentry:
    booking_id = market.booking_in(Status.DISPUTED, roles["customer"], provider_id)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)
    return ("resolveByDefault", (booking_id,)), 0, booking_id


GUARDED_REENTRIES = {
    "withdraw": _reenter_withdraw,
    "withdrawTo": _reenter_withdraw_to,
    "book": _reenter_book,
    "cancel": _reenter_cancel,
    "decline": _reenter_decline,
    "expire": _reenter_expire,
    "confirm": _reenter_confirm,
    "settle": _reenter_settle,
    "resolve": _reenter_resolve,
    "resolveByDefault": _reenter_resolve_by_default,
}


@pytest.mark.parametrize("target", list(GUARDED_REENTRIES))
def test_a_reentrant_receiver_gets_its_credit_and_not_a_wei_more(
    market: MarketDriver,
    roles: dict[str, str],
    provider: str,
    provider_id: int,
    attacker: Actor,
    target: str,
) -> None:
    (function, args), value, booking_id = GUARDED_REENTRIES[target](
        market, roles, attacker, provider_id
    )
    credit_attacker(market, attacker, provider, provider_id)
    status_before = market.status(booking_id) if booking_id else None
    attacker.binding.transact(
        "arm",
        market.codec.encode(function, args),
        value,
        sender=attacker.controller,
    )

    receipt = attacker.act("withdraw")

    assert attacker.call("reentryAttempts") == 1
    assert attacker.call("reentrySucceeded") is False
    assert (
        market.decoder.decode(attacker.call("reentryResult")).error
        == "ReentrancyGuardReentrantCall"
    )
    assert market.only_event(receipt, "Withdrawn") == {
        "account": attacker.address,
        "to": attacker.address,
        "amount": market.PRICE,
    }
    assert attacker.call("received") == market.PRICE
    assert market.balance(attacker.address) == market.PRICE
    assert market.credit(attacker.address) == 0
    if booking_id:
        assert market.status(booking_id) == status_before
    market.assert_solvent()


def test_release_stake_is_guarded_against_reentry_from_a_withdrawal(
    market: MarketDriver, provider: str, provider_id: int, attacker: Actor
) -> None:
    credit_attacker(market, attacker, provider, provider_id)
    receipt = attacker.act("deactivate", attacker.listing)
    market.mine_at(market.timestamp_of(receipt) + market.WINDOWS["stakeCooldown"])
    attacker.binding.transact(
        "arm",
        market.codec.encode("releaseStake", (attacker.listing,)),
        0,
        sender=attacker.controller,
    )

    attacker.act("withdraw")

    assert attacker.call("reentrySucceeded") is False
    assert (
        market.decoder.decode(attacker.call("reentryResult")).error
        == "ReentrancyGuardReentrantCall"
    )
    assert attacker.call("received") == market.PRICE
    assert market.credit(attacker.address) == 0
    attacker.act("releaseStake", attacker.listing)
    assert market.credit(attacker.address) == market.MIN_STAKE
    market.assert_solvent()


def test_a_payment_from_someone_else_cannot_be_used_to_reenter(
    market: MarketDriver,
    provider: str,
    customer: str,
    provider_id: int,
    booking_id: int,
    attacker: Actor,
) -> None:
    credit_attacker(market, attacker, provider, provider_id)
    market.transact("decline", booking_id, sender=provider)
    attacker.binding.transact(
        "arm", market.codec.encode("withdraw", ()), 0, sender=attacker.controller
    )

    market.transact("withdrawTo", attacker.address, sender=customer)

    assert (
        market.decoder.decode(attacker.call("reentryResult")).error
        == "ReentrancyGuardReentrantCall"
    )
    assert attacker.call("received") == market.PRICE  # the customer's refund only
    assert market.credit(attacker.address) == market.PRICE  # its own credit is untouched
    attacker.act("withdraw")
    assert attacker.call("received") == 2 * market.PRICE
    assert market.credit(customer) == 0
    market.assert_solvent()


# ---------------------------------------------------------------------- hostile receivers


@pytest.fixture(params=HOSTILE_KINDS)
def hostile(request: pytest.FixtureRequest, market: MarketDriver, other_provider: str) -> Actor:
    """A contract that cannot be paid, controlled by `other_provider`, owning listing `.listing`."""
    actor = market.deploy_actor(request.param, controller=other_provider)
    actor.act(
        "register", market.CATEGORY, 0, 0, market.PRICE, market.METADATA, value=market.MIN_STAKE
    )
    actor.listing = int(market.call("providerCount"))
    return actor


def hostile_booking(market: MarketDriver, hostile: Actor, customer: str, status: Status) -> int:
    """Arrange: `customer`'s booking of the hostile listing, moved on by the hostile owner."""
    booking_id = market.book(customer, hostile.listing)
    if status in (Status.ACCEPTED, Status.COMPLETED):
        hostile.act("accept", booking_id)
    if status == Status.COMPLETED:
        hostile.act("complete", booking_id)
    return booking_id


def test_a_hostile_provider_cannot_withdraw_to_itself_and_keeps_its_credit(
    market: MarketDriver, customer: str, hostile: Actor
) -> None:
    booking_id = hostile_booking(market, hostile, customer, Status.COMPLETED)
    market.transact("confirm", booking_id, sender=customer)
    payout = market.credit(hostile.address)
    assert payout > 0

    with market.reverts("MarketplaceTransferFailed", to=hostile.address, amount=payout):
        hostile.act("withdraw")

    assert market.credit(hostile.address) == payout
    market.assert_solvent()


def test_a_hostile_provider_withdraws_to_a_good_address(
    market: MarketDriver, customer: str, stranger: str, hostile: Actor
) -> None:
    booking_id = hostile_booking(market, hostile, customer, Status.COMPLETED)
    market.transact("confirm", booking_id, sender=customer)
    payout = market.credit(hostile.address)
    before = market.balance(stranger)

    receipt = hostile.act("withdrawTo", stranger)

    assert market.only_event(receipt, "Withdrawn") == {
        "account": hostile.address,
        "to": stranger,
        "amount": payout,
    }
    assert market.balance(stranger) == before + payout
    assert market.credit(hostile.address) == 0
    market.assert_solvent()


@pytest.mark.parametrize("exit_", ["decline", "expire"])
def test_a_hostile_provider_cannot_block_the_customer_refund(
    market: MarketDriver, customer: str, stranger: str, hostile: Actor, exit_: str
) -> None:
    booking_id = hostile_booking(market, hostile, customer, Status.ACCEPTED)
    if exit_ == "decline":
        hostile.act("decline", booking_id)
    else:
        market.mine_at(market.booking(booking_id)["deadline"] + 1)
        market.transact("expire", booking_id, sender=stranger)
    before = market.balance(customer)

    receipt = market.transact("withdraw", sender=customer)

    assert market.balance(customer) == before + market.PRICE - market.gas_cost(receipt)
    market.assert_solvent()


def test_a_hostile_provider_cannot_block_settlement_disputes_or_other_providers(
    market: MarketDriver,
    owner: str,
    provider: str,
    customer: str,
    stranger: str,
    arbiter: str,
    treasury: str,
    provider_id: int,
    hostile: Actor,
) -> None:
    settled_late = hostile_booking(market, hostile, customer, Status.COMPLETED)
    disputed = hostile_booking(market, hostile, customer, Status.COMPLETED)
    honest = market.booking_in(Status.COMPLETED, customer, provider_id)
    market.transact("dispute", disputed, sender=customer)

    market.transact("resolve", disputed, 6_000, sender=arbiter)
    market.transact("confirm", honest, sender=customer)
    market.mine_at(market.booking(settled_late)["deadline"] + 1)
    market.transact("settle", settled_late, sender=stranger)
    market.transact("withdraw", sender=provider)
    market.transact("withdraw", sender=customer)
    market.transact("collectFees", treasury, market.call("accruedFees"), sender=owner)
    market.transact("withdraw", sender=treasury)

    assert market.status(settled_late) == Status.SETTLED
    assert market.status(disputed) == Status.RESOLVED
    assert market.credit(provider) == market.credit(customer) == market.credit(treasury) == 0
    stuck = market.credit(hostile.address)
    assert stuck > 0
    with market.reverts("MarketplaceTransferFailed", to=hostile.address, amount=stuck):
        hostile.act("withdraw")  # only the hostile account's own withdraw fails
    parts = market.assert_solvent()
    assert parts["credits"] == market.credit(hostile.address)


def test_a_payment_to_a_hostile_address_fails_only_for_the_payer_who_chose_it(
    market: MarketDriver, provider: str, customer: str, booking_id: int, hostile: Actor
) -> None:
    market.transact("decline", booking_id, sender=provider)

    with market.reverts("MarketplaceTransferFailed", to=hostile.address, amount=market.PRICE):
        market.transact("withdrawTo", hostile.address, sender=customer)

    assert market.credit(customer) == market.PRICE
    market.transact("withdraw", sender=customer)
    assert market.credit(customer) == 0
    market.assert_solvent()


def test_a_hostile_customer_recovers_its_refund_through_withdraw_to(
    market: MarketDriver, provider: str, other_customer: str, provider_id: int, hostile: Actor
) -> None:
    hostile.act("setCriteria", market.criteria_input())
    version = market.criteria(hostile.address)["version"]
    receipt = hostile.act("book", provider_id, market.PRICE, version, value=market.PRICE)
    booking_id = market.events("BookingRequested", receipt)[0]["bookingId"]
    market.transact("decline", booking_id, sender=provider)

    with market.reverts("MarketplaceTransferFailed", to=hostile.address, amount=market.PRICE):
        hostile.act("withdraw")
    before = market.balance(other_customer)
    hostile.act("withdrawTo", other_customer)

    assert market.balance(other_customer) == before + market.PRICE
    assert market.credit(hostile.address) == 0
    market.assert_solvent()
