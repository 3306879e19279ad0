"""Attacker contracts (contracts/test/): the reputation farm tries every cheap-stars strategy (the
owner booking itself, sybil customers, 1-unit prices, book -> complete -> confirmAndRate in one
transaction) and the weight it buys is exactly what its fees pay for; receivers that re-enter,
refuse payment or burn all gas get their credit and nothing more, and block nobody else; the event
forger emits v2 events and pays ether or tokens as told."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from marketplace.chain.market import Market
from tests.contracts import driver as d
from tests.contracts.driver import V2

STARS = 5


# ---------------------------------------------------------------------- the farm


class Farm:
    """A FarmLoop controlled by `controller`, owning one instant listing at `price`."""

    def __init__(self, market: V2, controller: str, price: int, sybils: int) -> None:
        self.market = market
        self.controller = controller
        self.price = price
        self.loop = market.deploy("FarmLoop", market.address, sender=controller)
        market.rpc("anvil_setBalance", [controller, hex(10**24)])
        listing = market.struct(
            "register", 0, category=d.CATEGORY, price=price, metadataHash=d.METADATA, instant=True
        )
        self.loop.transact(
            "asOwner",
            market.encode("register", listing),
            d.MIN_STAKE,
            sender=controller,
            value=d.MIN_STAKE,
        )
        self.listing = int(market.call("providerCount"))
        assert market.listing(self.listing)["owner"] == self.loop.address
        self.loop.transact("spawn", sybils, sender=controller)
        self.sybils = [str(self.loop.call("sybils", i)) for i in range(sybils)]
        market.accounts.extend([self.loop.address, *self.sybils])
        criteria = market.encode("setCriteria", market.criteria_input())
        for i in range(sybils):
            self.loop.transact("asSybil", i, criteria, 0, sender=controller)

    def book_calls(self, count: int, start: int) -> list[bytes]:
        calls = []
        for i in range(count):
            sybil = self.sybils[i % len(self.sybils)]
            req = self.market.struct(
                "book",
                0,
                providerId=self.listing,
                start=start,
                durationMinutes=1,
                salt=i // len(self.sybils),
                offerVersion=1,
                criteriaVersion=self.market.criteria_version(sybil),
            )
            calls.append(self.market.encode("book", req))
        return calls

    def act(self, function: str, *args: Any, value: int = 0) -> Any:
        return self.loop.transact(function, *args, sender=self.controller, value=value)


def test_the_owner_cannot_book_its_own_listing(market: V2, stranger: str) -> None:
    farm = Farm(market, stranger, d.MIN_FEE_ETH, 1)
    req = market.struct(
        "book",
        0,
        providerId=farm.listing,
        start=market.now() + 60,
        durationMinutes=1,
        offerVersion=1,
        criteriaVersion=0,
    )
    farm.act("asOwner", market.encode("setCriteria", market.criteria_input()), 0)
    req = req[:5] + (market.criteria_version(farm.loop.address),)
    with market.reverts("MarketplaceSelfBooking", providerId=farm.listing):
        farm.act("selfBook", market.encode("book", req), farm.price, value=farm.price)


def test_one_unit_prices_are_refused(market: V2, stranger: str) -> None:
    with market.reverts("MarketplacePriceBelowMinFee", price=1, minFee=d.MIN_FEE_ETH):
        Farm(market, stranger, 1, 1)


def test_a_loop_in_one_transaction_is_refused(market: V2, stranger: str) -> None:
    farm = Farm(market, stranger, d.MIN_FEE_ETH, 3)
    calls = farm.book_calls(6, market.now() + 60)
    with market.reverts("MarketplaceTooEarly"):
        farm.act("loop", calls, farm.price, False, STARS, value=6 * farm.price)


@pytest.mark.parametrize(
    ("sybils", "bookings", "price"),
    [(1, 10, d.MIN_FEE_ETH), (10, 10, d.MIN_FEE_ETH), (5, 10, 10**16 + 3)],
)
def test_the_weight_bought_equals_the_fees_paid(
    market: V2, stranger: str, sybils: int, bookings: int, price: int
) -> None:
    farm = Farm(market, stranger, price, sybils)
    start = market.now() + 60
    receipt = farm.act("bookEach", farm.book_calls(bookings, start), price, value=bookings * price)
    fees = [e["fee"] for e in market.ev(receipt, "BookingRequested")]
    market.mine_at(start)
    farm.act("completeAll", False)
    receipt = farm.act("rateAll", STARS)
    weights = [e["weight"] for e in market.ev(receipt, "BookingRated")]

    min_fee = d.MIN_FEE_ETH
    assert len(weights) == bookings
    assert weights == [min(f * 1_000 // min_fee, 2**40) for f in fees]
    assert sum(weights) <= sum(fees) * 1_000 // min_fee  # never more weight than the fees pay for
    assert sum(fees) == market.fees()
    listing = market.listing(farm.listing)
    assert listing["ratingWeight"] == sum(weights)
    # what the farm paid, net of what comes back to its owner, is exactly the fees
    assert market.credit(farm.loop.address) == bookings * price - sum(fees)
    # at the minimum price every wei paid is fee: weight per wei is the honest rate
    if price == d.MIN_FEE_ETH:
        assert sum(weights) * min_fee == sum(fees) * 1_000
    # ten minimum-fee five-star ratings are half the prior's weight: 3.5 -> 4.0 stars, not 4.5
    assert market.call("scoreOf", farm.listing) == (20_000 * 35_000 + sum(weights) * 50_000) // (
        20_000 + sum(weights)
    )


def test_farm_collects_back_everything_but_the_fees(market: V2, stranger: str) -> None:
    farm = Farm(market, stranger, 10**15, 4)
    start = market.now() + 60
    farm.act("bookEach", farm.book_calls(4, start), 10**15, value=4 * 10**15)
    market.mine_at(start)
    farm.act("completeAll", False)
    farm.act("rateAll", STARS)
    before = market.balance(stranger)
    receipt = farm.act(
        "collect", market.encode("withdraw", d.ETH), market.encode("withdraw", d.ETH)
    )
    gas = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert market.balance(stranger) - before + gas == 4 * 10**15 - market.fees()


# ---------------------------------------------------------------------- hostile receivers


def actor(market: V2, kind: str, controller: str) -> Market:
    return market.deploy(kind, market.address, sender=controller)


def execute(
    contract: Market, market: V2, controller: str, function: str, *args: Any, value: int = 0
) -> Any:
    return contract.transact(
        "execute", market.encode(function, *args), sender=controller, value=value
    )


def owned_listing(market: V2, contract: Market, controller: str) -> int:
    listing = market.struct(
        "register", 0, category=d.CATEGORY, price=d.PRICE, metadataHash=d.METADATA
    )
    execute(contract, market, controller, "register", listing, value=d.MIN_STAKE)
    return int(market.call("providerCount"))


@pytest.mark.parametrize("reentry", ["withdraw", "withdrawTo", "collectFees", "book"])
def test_a_re_entrant_withdrawal_is_refused(
    market: V2, stranger: str, customer: str, provider_id: int, reentry: str
) -> None:
    attacker = actor(market, "ReentrantReceiver", stranger)
    # the attacker as a customer whose booking is declined: a credit of PRICE
    execute(attacker, market, stranger, "setCriteria", market.criteria_input())
    req = market.request(attacker.address, provider_id)
    execute(attacker, market, stranger, "book", req, value=d.PRICE)
    booking = int(
        market.call("encodeBookingId", attacker.address, provider_id, req[1], req[2], req[3])
    )
    market.tx("decline", booking, sender=market.roles["provider"])
    assert market.credit(attacker.address) == d.PRICE
    data = {
        "withdraw": market.encode("withdraw", d.ETH),
        "withdrawTo": market.encode("withdrawTo", d.ETH, attacker.address),
        "collectFees": market.encode("collectFees", d.ETH, attacker.address, 1),
        "book": market.encode("book", market.request(attacker.address, provider_id, salt=3)),
    }[reentry]
    attacker.transact("arm", data, d.PRICE if reentry == "book" else 0, sender=stranger)
    execute(attacker, market, stranger, "withdraw", d.ETH)
    assert attacker.call("reentryAttempts") == 1
    assert attacker.call("reentrySucceeded") is False
    guard = Web3.keccak(text="ReentrancyGuardReentrantCall()")[:4]
    not_owner = Web3.keccak(text="OwnableUnauthorizedAccount(address)")[:4]
    expected = {guard, not_owner} if reentry == "collectFees" else {guard}
    assert bytes(attacker.call("reentryResult"))[:4] in expected, "ReentrancyGuardReentrantCall"
    assert attacker.call("received") == d.PRICE
    assert market.credit(attacker.address) == 0
    market.solvency([booking], [provider_id])


@pytest.mark.parametrize("kind", ["RevertingReceiver", "GasBurningReceiver"])
def test_a_refusing_owner_keeps_its_credit_and_blocks_nobody(
    market: V2, stranger: str, customer: str, other_customer: str, kind: str
) -> None:
    hostile = actor(market, kind, stranger)
    listing = owned_listing(market, hostile, stranger)
    booking = market.book_as(customer, listing)
    execute(hostile, market, stranger, "accept", booking)
    market.mine_at(market.booking_id_parts(booking)["start"])
    execute(hostile, market, stranger, "complete", booking)
    market.tx("confirm", booking, sender=customer)
    other = market.book_as(other_customer, listing, salt=1)
    market.tx("cancel", other, sender=other_customer)
    payout = market.credit(hostile.address)
    assert payout == d.PRICE - market.booking(booking)["fee"]

    with pytest.raises(Exception) as info:  # noqa: PT011 - decoded below
        execute(hostile, market, stranger, "withdraw", d.ETH)
    assert getattr(info.value, "error", "") == "MarketplaceTransferFailed"
    assert market.credit(hostile.address) == payout
    market.tx("withdraw", d.ETH, sender=other_customer)  # nobody else is blocked
    execute(hostile, market, stranger, "withdrawTo", d.ETH, stranger)
    assert market.credit(hostile.address) == 0
    market.solvency([booking, other], [listing])


# ---------------------------------------------------------------------- event forger


def test_the_event_forger_emits_v2_events_and_pays_tokens(
    market: V2, owner: str, stranger: str
) -> None:
    forger = market.deploy("EventForger", sender=owner)
    topic = Web3.keccak(
        text="BookingRequested(uint256,address,uint32,uint8,uint88,uint80,uint32,uint32,uint8,uint32)"
    )
    assert market.usd is not None
    market.usd.transact("mint", forger.address, 5, sender=owner)
    log = ([topic, b"\x00" * 31 + b"\x01", b"\x00" * 32, b"\x00" * 32], b"\x00" * 32 * 7)
    receipt = forger.transact("forgeToken", [log], market.usd.address, stranger, 5, sender=owner)
    assert receipt["logs"][0]["topics"][0] == topic
    assert market.usd.call("balanceOf", stranger) == 5
