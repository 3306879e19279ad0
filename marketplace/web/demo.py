"""A realistic demo market for `make run`: hundreds of providers, customers with histories.

`seed_market` registers providers in every category and region (with off-chain metadata stored
for the web app), gives every customer criteria in several categories, and runs booking
histories through the contract: most settled and rated, some with complaint tags that follow
the providers' traits (compact cars are uncomfortable, smokers smell of smoke, pet-friendly
cars have pet hair), some still open for the providers to answer, some cancelled, one disputed.

The demo story: `story_customer` rode twice in compact cars and complained both times that the
vehicle was uncomfortable; they consented to personalised matching, so the next ranking puts
compact cars lower, says why, and proposes refusing them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eth_utils.address import to_checksum_address
from sqlalchemy import Engine

from marketplace.catalogue import ATTRIBUTES, CATEGORIES, COMPLAINT_TAGS, REGIONS, lookup
from marketplace.chain.market import Market
from marketplace.profile.service import ProfileService
from marketplace.profile.sql import SqlProfileRepository, create_profile_schema
from marketplace.web.db import create_web_schema, put_metadata

FIRST_NAMES = ("Aino", "Eero", "Helmi", "Juho", "Lumi", "Mikko", "Noora", "Otso", "Saara",
               "Veeti", "Ilona", "Kalle", "Venla", "Onni", "Elsa", "Leevi", "Aada", "Niilo")
TRADES = {
    "rides": ("Rides", "Taxi", "Cabs", "Transfers"),
    "cleaning": ("Cleaning", "Spotless Homes", "Sparkle", "Tidy Up"),
    "tutoring": ("Tutoring", "Maths Help", "Language Lessons", "Study Buddy"),
    "repairs": ("Repairs", "Fix-It", "Handyman", "Pipes & Sockets"),
    "delivery": ("Courier", "Deliveries", "Express", "Bike Post"),
}
# Attributes that make sense per category (keys of the catalogue).
CATEGORY_TRAITS = {
    "rides": ("electric_vehicle", "wheelchair_access", "pet_friendly", "compact_car",
              "large_vehicle", "child_seat", "smoker", "night_service", "speaks_finnish",
              "speaks_english", "speaks_swedish", "cash_free"),
    "cleaning": ("eco_products", "own_equipment", "allergy_safe", "pet_friendly", "insured",
                 "weekend_service", "speaks_finnish", "speaks_english"),
    "tutoring": ("online", "certified", "speaks_finnish", "speaks_english", "speaks_swedish",
                 "weekend_service"),
    "repairs": ("certified", "insured", "own_equipment", "weekend_service", "night_service",
                "speaks_finnish"),
    "delivery": ("bike_courier", "electric_vehicle", "large_vehicle", "night_service",
                 "cash_free", "weekend_service"),
}
PRICE_RANGES = {  # finney (0.001 ETH)
    "rides": (20, 90), "cleaning": (40, 150), "tutoring": (30, 120), "repairs": (50, 200),
    "delivery": (10, 60),
}
TRAIT_COMPLAINTS = {"compact_car": "uncomfortable_vehicle", "smoker": "smoke_smell",
                    "pet_friendly": "pet_hair"}
FINNEY = 10**15


@dataclass
class SeededProvider:
    """One seeded listing."""

    provider_id: int
    owner: str
    name: str
    category: str
    region: str
    attributes: list[str]
    price: int
    quality: float  # how good the service is (drives the demo ratings)


@dataclass
class DemoMarket:
    """What the seeding created, and the accounts' roles for the dev switcher."""

    providers: list[SeededProvider] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    bookings: int = 0
    complaints: int = 0
    open_bookings: int = 0
    story_customer: str = ""
    roles: list[str] = field(default_factory=list)


def roles_for(count: int, owners: int, customers: int) -> list[str]:
    """Role names of accounts 0..count-1: operator, owners, customers, arbiter, strangers."""
    roles = ["operator"] + ["provider"] * owners + ["customer"] * customers + ["arbiter"]
    return (roles + ["stranger"] * count)[:count]


def seed_market(
    market: Market,
    accounts: Sequence[str],
    engine: Engine | None = None,
    *,
    n_providers: int = 320,
    n_owners: int = 12,
    n_customers: int = 24,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> DemoMarket:
    """Seed the market from `accounts` (operator, owners, customers, arbiter, in that order).

    `engine` is the store's database: provider metadata and the story customer's consent go
    there (the web app reads them). Needs `1 + n_owners + n_customers + 1` accounts.
    """
    needed = 1 + n_owners + n_customers + 1
    if len(accounts) < needed:
        raise ValueError(f"the demo needs {needed} accounts, got {len(accounts)}")
    say = progress or (lambda _m: None)
    rng = random.Random(seed)
    addresses = [to_checksum_address(a) for a in accounts]
    operator, owners = addresses[0], addresses[1:1 + n_owners]
    customers = addresses[1 + n_owners:1 + n_owners + n_customers]
    arbiter = addresses[1 + n_owners + n_customers]
    demo = DemoMarket(roles=roles_for(len(accounts), n_owners, n_customers))
    if engine is not None:
        create_web_schema(engine)
        create_profile_schema(engine)
    market.transact("setArbiter", arbiter, True, sender=operator)

    say(f"registering {n_providers} providers")
    stake = int(market.call("minStake"))
    story_rides: list[SeededProvider] = []
    for i in range(n_providers):
        provider = _register(market, engine, owners[i % len(owners)], i, stake, rng)
        demo.providers.append(provider)
        if provider.category == "rides":
            story_rides.append(provider)

    say(f"giving {n_customers} customers criteria")
    for customer in customers:
        for category in rng.sample(list(TRADES), k=rng.randint(2, 4)) + ["rides"]:
            _set_criteria(market, customer, category, rng, generous=customer == customers[0])
        demo.customers.append(customer.lower())

    say("running booking histories")
    demo.story_customer = customers[0].lower()
    _story(market, customers[0], demo, story_rides)
    for customer in customers[1:]:
        for _ in range(rng.randint(2, 4)):
            _history(market, customer, demo, rng)
    if engine is not None:
        ProfileService(SqlProfileRepository(engine)).grant_consent(demo.story_customer)
    return demo


def _register(market: Market, engine: Engine | None, owner: str, i: int, stake: int,
              rng: random.Random) -> SeededProvider:
    category = CATEGORIES[i % len(CATEGORIES)]
    region = REGIONS[rng.randrange(len(REGIONS))] if i % 7 else REGIONS[0]
    traits = rng.sample(CATEGORY_TRAITS[category.key], k=rng.randint(1, 3))
    if category.key == "rides" and i % 10 == 0:
        traits = sorted(set(traits) | {"compact_car"} - {"large_vehicle"})
    mask = sum(1 << lookup("attribute", t).code for t in traits)
    low, high = PRICE_RANGES[category.key]
    price = rng.randint(low, high) * FINNEY
    name = f"{FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]}'s {rng.choice(TRADES[category.key])}"
    labels = [a.label.lower() for a in ATTRIBUTES if a.key in traits]
    description = f"{category.label} in {region.label}: {', '.join(labels)}."
    digest = (put_metadata(engine, {"name": name, "description": description})
              if engine is not None else "0x" + "00" * 32)
    receipt = market.transact("register", category.code, region.code, mask, price,
                              bytes.fromhex(digest[2:]), sender=owner, value=stake)
    provider_id = int(market.events("ProviderRegistered", receipt)[0]["providerId"])
    quality = rng.uniform(0.3, 1.0) * (0.7 if "smoker" in traits else 1.0)
    return SeededProvider(provider_id, owner, name, category.key, region.key, traits, price,
                          quality)


def _set_criteria(market: Market, customer: str, category: str, rng: random.Random,
                  generous: bool) -> None:
    low, high = PRICE_RANGES[category]
    region = 0 if generous or rng.random() < 0.5 else lookup("region", rng.choice(
        [r.key for r in REGIONS])).code
    refused = 0
    if category == "rides" and rng.random() < 0.4 and not generous:
        refused = 1 << lookup("attribute", "smoker").code
    score_share = rng.choice((3_000, 5_000, 6_000, 7_000))
    market.transact("setCriteria", (
        lookup("category", category).code, region, 25_000 if not generous else 0,
        high * FINNEY, 5 * FINNEY, 0, refused, score_share, 10_000 - score_share,
    ), sender=customer)


def _book(market: Market, customer: str, provider: SeededProvider) -> int | None:
    if market.call("firstFailedCriterion", customer, provider.provider_id) != 0:
        return None
    version = market.call("getCriteria", customer,
                          lookup("category", provider.category).code)[8]
    receipt = market.transact("book", provider.provider_id, provider.price, version,
                              sender=customer, value=provider.price)
    return int(market.events("BookingRequested", receipt)[0]["bookingId"])


def _deliver_and_rate(market: Market, customer: str, provider: SeededProvider, booking: int,
                      stars: int, tags: list[str], demo: DemoMarket) -> None:
    market.transact("accept", booking, sender=provider.owner)
    market.transact("complete", booking, sender=provider.owner)
    market.transact("confirm", booking, sender=customer)
    mask = sum(1 << lookup("complaint tag", t).code for t in tags)
    market.transact("rate", booking, stars, mask, sender=customer)
    demo.bookings += 1
    demo.complaints += bool(tags)


def _story(market: Market, customer: str, demo: DemoMarket,
           rides: list[SeededProvider]) -> None:
    """Two compact-car rides rated 2 stars, 'uncomfortable vehicle'; one other ride liked."""
    compact = [p for p in rides if "compact_car" in p.attributes]
    others = [p for p in rides if "compact_car" not in p.attributes and "smoker" not in
              p.attributes]
    for provider in compact[:2]:
        booking = _book(market, customer, provider)
        if booking is not None:
            _deliver_and_rate(market, customer, provider, booking, 2, ["uncomfortable_vehicle"],
                              demo)
    for provider in others[:1]:
        booking = _book(market, customer, provider)
        if booking is not None:
            _deliver_and_rate(market, customer, provider, booking, 5, [], demo)


def _history(market: Market, customer: str, demo: DemoMarket, rng: random.Random) -> None:
    """One booking of a random eligible provider, taken to a random point of its life."""
    for provider in rng.sample(demo.providers, k=min(40, len(demo.providers))):
        booking = _book(market, customer, provider)
        if booking is None:
            continue
        fate = rng.random()
        if fate < 0.12:
            demo.open_bookings += 1  # still waiting for the provider
            return
        if fate < 0.18:
            market.transact("cancel", booking, sender=customer)
            return
        if fate < 0.24:
            market.transact("accept", booking, sender=provider.owner)
            demo.open_bookings += 1
            return
        stars = max(1, min(5, round(1 + 4 * provider.quality + rng.uniform(-1, 1))))
        tags = [tag for trait, tag in TRAIT_COMPLAINTS.items()
                if trait in provider.attributes and rng.random() < 0.7]
        if stars <= 3 and rng.random() < 0.5:
            tags.append(rng.choice([t.key for t in COMPLAINT_TAGS[:3]]))
        if tags:
            stars = min(stars, 3)
        _deliver_and_rate(market, customer, provider, booking, stars, sorted(set(tags)), demo)
        return
