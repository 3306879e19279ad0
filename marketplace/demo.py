"""Demo data for a local chain: providers in every category, customers with criteria, history."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from eth_utils.crypto import keccak

from marketplace.catalogue import ATTRIBUTES, CATEGORIES, REGIONS, lookup
from marketplace.chain.market import Market

FIRST_NAMES = ("Aino", "Eero", "Helmi", "Juho", "Lumi", "Mikko", "Noora", "Otso", "Saara", "Veeti")
TRADES = {
    "rides": "Rides",
    "cleaning": "Cleaning",
    "tutoring": "Tutoring",
    "repairs": "Repairs",
    "delivery": "Courier",
}


@dataclass
class DemoProvider:
    """A seeded provider listing and its off-chain metadata."""

    provider_id: int
    owner: str
    name: str
    category: str
    region: str
    attributes: list[str]
    price: int


@dataclass
class DemoSummary:
    """What the seeding created."""

    providers: list[DemoProvider] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    bookings: int = 0


def metadata_hash(document: Mapping[str, object]) -> bytes:
    """Content hash (keccak-256 of canonical JSON) of a provider's off-chain metadata."""
    return keccak(json.dumps(document, sort_keys=True, separators=(",", ":")).encode())


def seed(
    market: Market,
    owners: Sequence[str],
    customers: Sequence[str],
    n_providers: int = 12,
    rng_seed: int = 7,
) -> DemoSummary:
    """Register `n_providers` listings owned round-robin by `owners` and give each customer
    criteria for every category, then run one booking per customer through to a rating."""
    rng = random.Random(rng_seed)
    summary = DemoSummary()
    stake = int(market.call("minStake"))
    for i in range(n_providers):
        category = CATEGORIES[i % len(CATEGORIES)]
        region = rng.choice(REGIONS)
        attributes = rng.sample(ATTRIBUTES, k=rng.randint(1, 4))
        mask = sum(1 << a.code for a in attributes)
        price = rng.randint(20, 120) * 10**15  # 0.02-0.12 ETH
        name = f"{rng.choice(FIRST_NAMES)}'s {TRADES[category.key]}"
        doc = {"name": name, "description": f"{category.label} in {region.label}"}
        owner = owners[i % len(owners)]
        receipt = market.transact(
            "register",
            category.code,
            region.code,
            mask,
            price,
            metadata_hash(doc),
            sender=owner,
            value=stake,
        )
        provider_id = market.events("ProviderRegistered", receipt)[0]["providerId"]
        summary.providers.append(
            DemoProvider(
                provider_id,
                owner,
                name,
                category.key,
                region.key,
                [a.key for a in attributes],
                price,
            )
        )
    for customer in customers:
        for category in CATEGORIES:
            market.transact(
                "setCriteria",
                (category.code, 0, 30_000, 10**17, 2 * 10**16, 0, 0, 6_000, 4_000),
                sender=customer,
            )
        summary.customers.append(customer)
    for customer in customers:
        _book_and_rate(market, customer, summary, rng)
    return summary


def _book_and_rate(market: Market, customer: str, summary: DemoSummary, rng: random.Random) -> None:
    """One full booking: book the first eligible provider, accept, complete, confirm, rate."""
    for provider in rng.sample(summary.providers, k=len(summary.providers)):
        if market.call("firstFailedCriterion", customer, provider.provider_id) != 0:
            continue
        version = market.call("getCriteria", customer, lookup("category", provider.category).code)[
            8
        ]
        receipt = market.transact(
            "book",
            provider.provider_id,
            provider.price,
            version,
            sender=customer,
            value=provider.price,
        )
        booking = market.events("BookingRequested", receipt)[0]["bookingId"]
        market.transact("accept", booking, sender=provider.owner)
        market.transact("complete", booking, sender=provider.owner)
        market.transact("confirm", booking, sender=customer)
        market.transact("rate", booking, rng.randint(3, 5), 0, sender=customer)
        summary.bookings += 1
        return
