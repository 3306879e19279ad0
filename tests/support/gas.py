"""Gas used on anvil per marketplace operation: measured by bench/gas.py (section `gas` of
bench/results.json) and checked against the committed baseline by
tests/integration/test_gas_snapshot.py.

Each figure is a transaction's `gasUsed` (21,000 base included, refunds deducted), measured in the
steady state: the customer already has criteria, the provider already has some credit and fees
have accrued before, so no figure includes a one-off zero-to-nonzero storage write that only the
very first operation of its kind pays. Those one-off costs are reported as `*_cold`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marketplace.chain.anvil import running_anvil
from marketplace.chain.connection import connected
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from marketplace.chain.market import Market

TARGETS = {"book": 85_000, "lifecycle": 220_000, "register": 120_000, "withdraw": 40_000}
PRICE = 10**17
CRITERIA = (1, 7, 30_000, 2 * 10**17, 10**16, 0b1, 0b100, 6_000, 4_000)


def measure(
    market: Market, owner: str, provider: str, customer: str, arbiter: str
) -> dict[str, int]:
    """Run every operation once (after warming the accounts involved) and return gasUsed by key."""
    gas: dict[str, int] = {}

    def run(function: str, *args: Any, sender: str, value: int = 0) -> Any:
        return market.transact(function, *args, sender=sender, value=value)

    stake = market.call("minStake")
    gas["register"] = run(
        "register", 1, 7, 0b1011, PRICE, b"\x11" * 32, sender=provider, value=stake
    )["gasUsed"]
    run("setArbiter", arbiter, True, sender=owner)
    gas["set_criteria_first"] = run("setCriteria", CRITERIA, sender=customer)["gasUsed"]
    gas["set_criteria_update"] = run("setCriteria", CRITERIA, sender=customer)["gasUsed"]

    def book() -> tuple[int, int]:
        version = market.call("criteriaVersionOf", customer)
        receipt = run("book", 1, PRICE, version, sender=customer, value=PRICE)
        return int(receipt["gasUsed"]), market.events("BookingRequested", receipt)[0]["bookingId"]

    # The very first booking, settlement and refund pay for zero-to-nonzero slots once.
    gas["book_cold"], first = book()
    run("accept", first, sender=provider)
    run("complete", first, sender=provider)
    gas["confirm_cold"] = run("confirm", first, sender=customer)["gasUsed"]
    _, refunded = book()
    gas["cancel_cold"] = run("cancel", refunded, sender=customer)["gasUsed"]

    gas["book"], booking = book()
    gas["accept"] = run("accept", booking, sender=provider)["gasUsed"]
    gas["complete"] = run("complete", booking, sender=provider)["gasUsed"]
    gas["confirm"] = run("confirm", booking, sender=customer)["gasUsed"]
    gas["rate"] = run("rate", booking, 4, 0b1000, sender=customer)["gasUsed"]
    gas["lifecycle"] = sum(gas[k] for k in ("book", "accept", "complete", "confirm", "rate"))

    _, booking = book()
    gas["decline"] = run("decline", booking, sender=provider)["gasUsed"]
    _, booking = book()
    gas["cancel"] = run("cancel", booking, sender=customer)["gasUsed"]
    _, booking = book()
    run("accept", booking, sender=provider)
    run("complete", booking, sender=provider)
    gas["dispute"] = run("dispute", booking, sender=customer)["gasUsed"]
    gas["resolve"] = run("resolve", booking, 7_000, sender=arbiter)["gasUsed"]
    gas["withdraw"] = run("withdraw", sender=provider)["gasUsed"]
    return gas


# Rewritten by `python -m bench.gas --update-baseline`; commit it with the change that moved it.
BASELINE = Path(__file__).with_name("gas-baseline.json")
REGRESSION_TOLERANCE = 0.02


def measure_fresh() -> dict[str, int]:
    """Deploy on a fresh anvil and measure every operation."""
    with running_anvil() as node, connected(node.url) as w3:
        owner, provider, customer, arbiter = list(w3.eth.accounts)[:4]
        market, _ = deploy_marketplace(w3, DeployParams(), deployer=owner, record=False)
        return measure(market, owner, provider, customer, arbiter)


def regressions(gas: dict[str, int], baseline: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Operations whose gas grew more than the tolerance over the baseline: key -> (old, new)."""
    return {
        key: (old, gas[key])
        for key, old in baseline.items()
        if key in gas and gas[key] > old * (1 + REGRESSION_TOLERANCE)
    }
