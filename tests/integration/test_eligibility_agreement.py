"""Python's eligibility rule (`marketplace.domain`, as matching uses it) gives the contract's
answer on random (customer, listing) pairs, with every v2 criterion in play: currencies (ether
and DemoUSD), owner blocks, attributes verified by the named attestor (and trust in one that is
not named), rating weights from real bookings, reliability after declines, and inactive
listings. Both the scalar rule and the vectorised index are compared with the chain's."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace.domain import Criterion, attestor_ids, attestor_mask
from marketplace.matching.eligibility import CriteriaView, ProviderView, first_failed_criterion
from marketplace.matching.index import ProviderIndex
from marketplace.matching.vectorised import first_failed_criteria
from tests.support.world import (
    ATTESTOR,
    CUSTOMERS,
    DUSD,
    DUSD_UNIT,
    ETHER,
    PROVIDERS,
    STRANGER,
    World,
    make_world,
)

N_LISTINGS = 24
ROUNDS = 3  # criteria are redrawn each round: 3 x 3 customers x 24 listings = 216 pairs
NAMED = 1  # the world's attestor (named at deployment); attestor 2 is never named


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = make_world(Path(tmp_path_factory.mktemp("agreement")), accounts=12)
    try:
        yield built
    finally:
        built.close()


def listing_view(world: World, provider_id: int) -> ProviderView:
    chain = world.market
    listing = chain.listing(provider_id)
    attestations = {a: int(chain.call("attestationOf", provider_id, a)) for a in (1, 2)}
    return ProviderView(
        provider_id=provider_id, owner=str(listing["owner"]).lower(),
        category=int(listing["category"]), region=int(listing["region"]),
        attributes=int(listing["attributes"]), currency=int(listing["currency"]),
        price=int(listing["price"]), active=bool(listing["active"]),
        rating_weight=int(listing["ratingWeight"]),
        weighted_stars=int(listing["weightedStars"]),
        completed=int(listing["completed"]), failures=int(listing["failures"]),
        attestations={a: bits for a, bits in attestations.items() if bits})


def criteria_view(world: World, customer: str, category: int, owners: list[str]) -> CriteriaView:
    chain = world.market
    c = chain.criteria(customer, category)
    checksummed = world.market.w3.to_checksum_address(customer)
    blocked = frozenset(pid for pid in range(1, N_LISTINGS + 1)
                        if chain.call("isBlocked", checksummed, pid))
    blocked_owners = frozenset(o for o in owners if chain.call(
        "isOwnerBlocked", checksummed, world.market.w3.to_checksum_address(o)))
    return CriteriaView(
        category=category, region=int(c["region"]), currency=int(c["currency"]),
        min_score=int(c["minScore"]), max_price=int(c["maxPrice"]),
        premium_per_star=int(c["premiumPerStar"]),
        required_attributes=int(c["requiredAttributes"]),
        refused_attributes=int(c["refusedAttributes"]),
        verified_attributes=int(c["verifiedAttributes"]),
        trusted_attestors=int(c["trustedAttestors"]),
        min_rating_weight=int(c["minRatingWeight"]), min_reliability=int(c["minReliability"]),
        score_weight=int(c["scoreWeight"]), price_weight=int(c["priceWeight"]),
        version=int(c["version"]), blocked=blocked, blocked_owners=blocked_owners)


def random_criteria(world: World, rng: random.Random, customer: int, category: int) -> None:
    currency = rng.choice([ETHER, ETHER, DUSD])
    unit = 10**16 if currency == ETHER else DUSD_UNIT
    required = rng.choice([0, 0, 1 << rng.randrange(6), rng.getrandbits(6) & 0b1010])
    refused = rng.choice([0, 1 << rng.randrange(6)]) & ~required
    verified = rng.choice([0, 0, required, required & rng.getrandbits(6)])
    trusted = rng.choice([attestor_mask([NAMED]), attestor_mask([2]), attestor_mask([1, 2])])
    world.set_criteria(
        customer, category, region=rng.choice([0, 0, 1, 2, 3]), currency=currency,
        min_score=rng.choice([0, 30_000, 34_000, 35_000, 36_000, 40_000]),
        max_price=rng.randint(2, 20) * unit, premium=rng.choice([0, unit, 5 * unit]),
        required=required, refused=refused, verified=verified,
        trusted_attestors=trusted if verified or rng.random() < 0.3 else 0,
        min_rating_weight=rng.choice([0, 0, 0, 1_000, 20_000]),
        min_reliability=rng.choice([0, 0, 0, 8_500, 9_000]),
        weights=(rng.randint(0, 10_000), rng.randint(1, 10_000)))


def test_python_and_contract_agree_on_the_first_failed_criterion(world: World) -> None:
    rng = random.Random(20261203)
    owners_ix = [*PROVIDERS, STRANGER]
    for i in range(N_LISTINGS):
        currency = DUSD if i % 5 == 4 else ETHER
        price = (rng.randint(2, 15) * 10**16 if currency == ETHER
                 else rng.randint(3, 18) * DUSD_UNIT)
        world.register(f"Listing {i}", 1 + i % 2, rng.randint(1, 3), rng.getrandbits(6), price,
                       owner=owners_ix[i % 4], currency=currency)
    for pid in rng.sample(range(1, N_LISTINGS + 1), k=N_LISTINGS // 2):
        world.transact("attest", pid, rng.getrandbits(6), sender=ATTESTOR)
    # Track records: a rater books, serves and rates a third of the ether listings; a quarter
    # of those bookings the provider declines after accepting (a reliability failure).
    rater = CUSTOMERS[3]
    for category in (1, 2):
        world.set_criteria(rater, category, max_price=10**18)
    ether = [pid for pid in range(1, N_LISTINGS + 1) if pid % 5 != 0]
    for n, pid in enumerate(rng.sample(ether, k=N_LISTINGS // 3)):
        owner = owners_ix[(pid - 1) % 4]
        start = world.now() + 600
        booking = world.book_direct(rater, pid, start=start, salt=n % 256)
        world.transact("accept", booking, sender=owner)
        if n % 4 == 3:
            world.transact("decline", booking, sender=owner)
            continue
        world.mine(600 + 60)
        world.transact("complete", booking, sender=owner)
        world.transact("confirmAndRate", booking, rng.randint(1, 5), 0, sender=rater)
    for pid in rng.sample(range(1, N_LISTINGS + 1), k=3):
        world.transact("deactivate", pid, sender=owners_ix[(pid - 1) % 4])

    owners = [world.address(i) for i in owners_ix]
    named = frozenset(attestor_ids(int(world.market.call("namedAttestors"))))
    assert named == {NAMED}
    customers = [c for c in CUSTOMERS if c != rater]
    compared, outcomes = 0, set()
    for _ in range(ROUNDS):
        for customer in customers:
            for category in (1, 2):
                random_criteria(world, rng, customer, category)
            for pid in rng.sample(range(1, N_LISTINGS + 1), k=2):
                blocked = world.market.call("isBlocked", world.checksum(customer), pid)
                world.transact("setBlocked", pid, not blocked, sender=customer)
            if rng.random() < 0.5:
                owner = rng.choice(owners_ix)
                blocked = world.market.call("isOwnerBlocked", world.checksum(customer),
                                            world.checksum(owner))
                world.transact("setOwnerBlocked", world.checksum(owner), not blocked,
                               sender=customer)
        listings = [listing_view(world, pid) for pid in range(1, N_LISTINGS + 1)]
        index = ProviderIndex.from_views(listings, named_attestors=named)
        for customer in customers:
            address = world.address(customer)
            views = {cat: criteria_view(world, address, cat, owners) for cat in (1, 2)}
            for listing in listings:
                expected = Criterion(world.market.call(
                    "firstFailedCriterion", world.checksum(customer), listing.provider_id))
                criteria = views[listing.category]
                assert first_failed_criterion(listing, criteria, named) is expected, (
                    customer, listing, criteria)
                compared += 1
                outcomes.add(expected)
            for category, criteria in views.items():
                with index.read() as columns:
                    codes = first_failed_criteria(columns, criteria).tolist()
                scalar = [int(first_failed_criterion(p, criteria, named)) if p.category == category
                          else None for p in listings]
                assert [c for c, s in zip(codes, scalar, strict=True) if s is not None] == [
                    s for s in scalar if s is not None]
    assert compared >= 200
    # The random data must exercise most criteria, or agreement proves little.
    assert len(outcomes) >= 9, sorted(outcomes)
