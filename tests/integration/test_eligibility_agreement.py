"""Python's eligibility rule gives the contract's answer on random (customer, provider) pairs."""

from __future__ import annotations

import random

from web3 import Web3

from marketplace.chain.market import Market
from marketplace.domain import Criterion
from marketplace.matching.eligibility import CriteriaView, ProviderView, first_failed_criterion

N_PROVIDERS = 30
N_CUSTOMERS = 8
ROUNDS = 2  # criteria are redrawn each round: 2 x 8 x 30 = 480 pairs


def _provider_view(market: Market, provider_id: int) -> ProviderView:
    p = market.call("getProvider", provider_id)
    # Field order of IProviderRegistry.Provider.
    (
        _owner,
        _stake,
        price,
        attributes,
        category,
        region,
        active,
        count,
        total,
        _meta,
        _unlock,
        _lost,
    ) = p
    return ProviderView(provider_id, category, region, attributes, price, active, count, total)


def _criteria_view(market: Market, customer: str, category: int) -> CriteriaView:
    c = market.call("getCriteria", customer, category)
    (
        max_price,
        premium,
        min_score,
        region,
        score_w,
        price_w,
        required,
        refused,
        version,
        _blocked_count,
    ) = c
    blocked = frozenset(
        pid for pid in range(1, N_PROVIDERS + 1) if market.call("isBlocked", customer, pid)
    )
    return CriteriaView(
        category,
        region,
        min_score,
        max_price,
        premium,
        required,
        refused,
        score_w,
        price_w,
        version,
        blocked,
    )


def _random_criteria(rng: random.Random, category: int) -> tuple[int, ...]:
    required = rng.choice([0, 0, 1 << rng.randrange(6)])
    refused = rng.choice([0, 1 << rng.randrange(6)]) & ~required
    return (
        category,
        rng.choice([0, 0, 1, 2, 3]),
        rng.choice([0, 30_000, 34_000, 35_000, 36_000, 40_000]),
        rng.randint(1, 12) * 10**16,
        rng.choice([0, 10**16, 5 * 10**16]),
        required,
        refused,
        rng.randint(0, 10_000),
        rng.randint(1, 10_000),
    )


def test_python_and_contract_agree_on_the_first_failed_criterion(w3: Web3, market: Market) -> None:
    rng = random.Random(20261122)
    accounts = list(w3.eth.accounts)  # web3 types the tuple as having one element
    owners, customers, rater = accounts[1:5], accounts[5 : 5 + N_CUSTOMERS], accounts[15]
    stake = market.call("minStake")
    for i in range(N_PROVIDERS):
        market.transact(
            "register",
            1 + i % 2,
            rng.randint(1, 3),
            rng.getrandbits(6),
            rng.randint(2, 15) * 10**16,
            b"\x00" * 32,
            sender=owners[i % 4],
            value=stake,
        )
    # Spread scores: a rater books, settles and rates a third of the providers.
    for category in (1, 2):
        market.transact("setCriteria", (category, 0, 0, 10**18, 0, 0, 0, 1, 1), sender=rater)
    for pid in rng.sample(range(1, N_PROVIDERS + 1), k=N_PROVIDERS // 3):
        provider = _provider_view(market, pid)
        version = market.call("getCriteria", rater, provider.category)[8]
        for stars in rng.sample([1, 2, 3, 4, 5], k=rng.randint(1, 3)):
            receipt = market.transact(
                "book", pid, provider.price, version, sender=rater, value=provider.price
            )
            booking = market.events("BookingRequested", receipt)[0]["bookingId"]
            owner = owners[(pid - 1) % 4]
            market.transact("accept", booking, sender=owner)
            market.transact("complete", booking, sender=owner)
            market.transact("confirm", booking, sender=rater)
            market.transact("rate", booking, stars, 0, sender=rater)
    for pid in rng.sample(range(1, N_PROVIDERS + 1), k=3):
        market.transact("deactivate", pid, sender=owners[(pid - 1) % 4])

    compared, outcomes = 0, set()
    for _ in range(ROUNDS):
        for customer in customers:
            for category in (1, 2):
                if rng.random() < 0.9:
                    market.transact("setCriteria", _random_criteria(rng, category), sender=customer)
            for pid in rng.sample(range(1, N_PROVIDERS + 1), k=2):
                if market.call("getCriteria", customer, 1 + (pid - 1) % 2)[8] != 0:
                    blocked = market.call("isBlocked", customer, pid)
                    market.transact("setBlocked", pid, not blocked, sender=customer)
        for customer in customers:
            views = {cat: _criteria_view(market, customer, cat) for cat in (1, 2)}
            for pid in range(1, N_PROVIDERS + 1):
                provider = _provider_view(market, pid)
                expected = Criterion(market.call("firstFailedCriterion", customer, pid))
                assert first_failed_criterion(provider, views[provider.category]) is expected, (
                    customer,
                    pid,
                    provider,
                    views[provider.category],
                )
                compared += 1
                outcomes.add(expected)
    assert compared >= 200
    # The random data must exercise most criteria, or agreement proves little.
    assert len(outcomes) >= 6, outcomes
