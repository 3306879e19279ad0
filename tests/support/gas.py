"""Gas used on anvil per marketplace operation: measured by bench/gas.py (section `gas` of
bench/results.json) and checked against the committed baseline by
tests/integration/test_gas_snapshot.py.

Each figure is a transaction's `gasUsed` (21,000 base included, refunds deducted), measured in the
steady state: the customer already has criteria, the provider already has some credit and fees
have accrued before, so no figure includes a one-off zero-to-nonzero storage write that only the
very first operation of its kind pays. Those one-off costs are reported as `*_cold`.

Contract v2 keys (docs/contract-v2.md, "Gas targets"): `lifecycle` = book + accept + complete +
confirm + rate (ether); `lifecycle_instant` = book + complete + confirmAndRate (instant listing);
`book_token` after an approval; `book_permit` with an EIP-2612 permit; `lifecycle_token` as
`lifecycle` in DemoUSD. A slot starts an hour after it is booked; `complete` waits for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from marketplace.chain.accounts import dev_accounts
from marketplace.chain.anvil import running_anvil
from marketplace.chain.connection import connected
from marketplace.chain.deploy import DeployParams, deploy_marketplace, fund_dev_accounts
from marketplace.chain.market import CriteriaInput, ListingInput, Market
from marketplace.chain.token import Token, token_permit

TARGETS = {
    "book": 85_000,
    "lifecycle": 220_000,
    "lifecycle_instant": 160_000,
    "book_token": 110_000,
    "book_permit": 150_000,
    "register": 120_000,
    "withdraw": 40_000,
}
PRICE = 10**17  # ether listings
TOKEN_PRICE = 50 * 10**6  # DemoUSD listings: 50 dUSD
RIDES, CLEANING = 1, 2
LISTING = ListingInput(RIDES, 7, 0b1011, 0, PRICE, b"\x11" * 32, False, 24, 50)
INSTANT = ListingInput(RIDES, 7, 0b1011, 0, PRICE, b"\x12" * 32, True, 24, 50)
TOKEN_LISTING = ListingInput(CLEANING, 7, 0b1011, 1, TOKEN_PRICE, b"\x13" * 32, False, 24, 50)
CRITERIA = CriteriaInput(
    RIDES, 7, 0, 30_000, 2 * PRICE, 10**16, 0b1, 0b100, 0, 0, 0, 0, 6_000, 4_000
)
TOKEN_CRITERIA = CriteriaInput(
    CLEANING, 7, 1, 30_000, 2 * TOKEN_PRICE, 10**6, 0b1, 0b100, 0, 0, 0, 0, 6_000, 4_000
)
LEAD = 3_600  # a slot starts an hour after it is booked
DURATION = 60


def measure(
    market: Market, token: Token, owner: str, provider: str, customer: str, arbiter: str,
    customer_key: Any,
) -> dict[str, int]:
    """Run every operation once (after warming the accounts involved) and return gasUsed by key.

    `customer_key`: the customer's LocalAccount, to sign permits.
    """
    w3 = market.w3
    gas: dict[str, int] = {}
    salt = iter(range(256))

    def run(function: str, *args: Any, sender: str, value: int = 0) -> int:
        return int(market.transact(function, *args, sender=sender, value=value)["gasUsed"])

    def now() -> int:
        return int(w3.eth.get_block("latest")["timestamp"])

    def until_start(booking: int) -> None:
        start = booking >> 24 & (2**40 - 1)
        w3.provider.make_request(RPCEndpoint("evm_setNextBlockTimestamp"), [start])
        w3.provider.make_request(RPCEndpoint("evm_mine"), [])

    def book(provider_id: int, *, value: int = PRICE, approve: bool = False) -> tuple[int, int]:
        request = market.request_for(customer, provider_id, now() + LEAD, DURATION, next(salt))
        if approve:
            token.approve(market.address, TOKEN_PRICE, sender=customer)
        receipt = market.transact("book", request.as_tuple(), sender=customer, value=value)
        return int(receipt["gasUsed"]), market.events("BookingRequested", receipt)[0]["bookingId"]

    stake = int(market.call("minStake"))
    first = market.register(LISTING, sender=provider, stake=stake)
    receipt = market.transact("register", LISTING.as_tuple(), sender=provider, value=stake)
    gas["register"] = int(receipt["gasUsed"])
    listing = int(market.events("ListingRegistered", receipt)[0]["providerId"])
    instant = market.register(INSTANT, sender=provider, stake=stake)
    token_listing = market.register(TOKEN_LISTING, sender=provider, stake=stake)
    gas["set_criteria_first"] = run("setCriteria", CRITERIA.as_tuple(), sender=customer)
    gas["set_criteria_update"] = run("setCriteria", CRITERIA.as_tuple(), sender=customer)
    market.set_criteria(TOKEN_CRITERIA, sender=customer)
    del first

    # The very first booking, settlement and refund pay for zero-to-nonzero slots once.
    gas["book_cold"], booking = book(listing)
    run("accept", booking, sender=provider)
    until_start(booking)
    run("complete", booking, sender=provider)
    gas["confirm_cold"] = run("confirm", booking, sender=customer)
    _, refunded = book(listing)
    gas["cancel_cold"] = run("cancel", refunded, sender=customer)
    _, warm = book(token_listing, value=0, approve=True)  # the first token escrow
    run("accept", warm, sender=provider)
    until_start(warm)
    run("complete", warm, sender=provider)
    run("confirm", warm, sender=customer)

    gas["book"], booking = book(listing)
    gas["accept"] = run("accept", booking, sender=provider)
    until_start(booking)
    gas["complete"] = run("complete", booking, sender=provider)
    gas["confirm"] = run("confirm", booking, sender=customer)
    gas["rate"] = run("rate", booking, 4, 0b1000, sender=customer)
    gas["lifecycle"] = sum(gas[k] for k in ("book", "accept", "complete", "confirm", "rate"))

    gas["book_instant"], booking = book(instant)
    until_start(booking)
    complete = run("complete", booking, sender=provider)
    gas["confirm_and_rate"] = run("confirmAndRate", booking, 5, 0, sender=customer)
    gas["lifecycle_instant"] = gas["book_instant"] + complete + gas["confirm_and_rate"]

    gas["book_token"], booking = book(token_listing, value=0, approve=True)
    accept = run("accept", booking, sender=provider)
    until_start(booking)
    complete = run("complete", booking, sender=provider)
    confirm = run("confirm", booking, sender=customer)
    rate = run("rate", booking, 5, 0, sender=customer)
    gas["lifecycle_token"] = gas["book_token"] + accept + complete + confirm + rate

    request = market.request_for(customer, token_listing, now() + LEAD, DURATION, next(salt))
    permit = token_permit(token, customer_key, market.address, TOKEN_PRICE, now() + 3_600)
    gas["book_permit"] = run(
        "bookWithPermit", request.as_tuple(), permit.deadline, permit.v, permit.r, permit.s,
        sender=customer,
    )

    _, booking = book(listing)
    gas["decline"] = run("decline", booking, sender=provider)
    _, booking = book(listing)
    gas["cancel"] = run("cancel", booking, sender=customer)
    _, booking = book(listing)
    run("accept", booking, sender=provider)
    until_start(booking)
    run("complete", booking, sender=provider)
    gas["dispute"] = run("dispute", booking, sender=customer, value=int(market.call("disputeBond")))
    gas["resolve"] = run("resolve", booking, 7_000, sender=arbiter)
    gas["withdraw"] = run("withdraw", 0, sender=provider)
    gas["withdraw_token"] = run("withdraw", 1, sender=provider)
    del owner
    return gas


# Rewritten by `python -m bench.gas --update-baseline`; commit it with the change that moved it.
BASELINE = Path(__file__).with_name("gas-baseline.json")
REGRESSION_TOLERANCE = 0.02


def measure_fresh() -> dict[str, int]:
    """Deploy (with DemoUSD as currency 1) on a fresh anvil and measure every operation."""
    with running_anvil() as node, connected(node.url) as w3:
        owner, provider, customer, arbiter = list(w3.eth.accounts)[:4]
        market, deployment = deploy_marketplace(
            w3, DeployParams(arbiter=arbiter, demo_token=True), deployer=owner, record=False
        )
        token = Token(w3, str(deployment.currencies[0]["token"]))
        fund_dev_accounts(w3, token.address, [provider, customer], minter=owner)
        key = dev_accounts(4)[2]
        assert Web3.to_checksum_address(key.address) == Web3.to_checksum_address(customer)
        return measure(market, token, owner, provider, customer, arbiter, key)


def regressions(gas: dict[str, int], baseline: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Operations whose gas grew more than the tolerance over the baseline: key -> (old, new)."""
    return {
        key: (old, gas[key])
        for key, old in baseline.items()
        if key in gas and gas[key] > old * (1 + REGRESSION_TOLERANCE)
    }
