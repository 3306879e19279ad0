"""A realistic demo market for `make run`: hundreds of listings, customers with histories.

`seed_market` registers listings in every category and region (with off-chain metadata stored for
the web app, and for five listings in six a picture drawn by `demo_pictures`), priced mostly in
the demo stablecoin (DemoUSD, currency 1) and some in ether, a third of them instant, each with
its cancellation terms; the deployment's attestor verifies some listings' attributes; every
customer gets criteria in several categories (in dUSD or ether).
Booking histories run through the contract with real time slots: most settled and rated (some
with complaint tags that follow the listings' traits: compact cars are uncomfortable, smokers
smell of smoke, pet-friendly cars have pet hair, and with confirmAndRate on instant listings),
some cancelled, a few disputed and resolved by the deployment's arbiter, and some still open
(requested or accepted, days ahead) for the providers to answer.

The past slots all start a quarter of an hour after the seeding began: the seeding books them,
moves the chain's clock past their start once (`evm_setNextBlockTimestamp`, a dev chain only),
then delivers them, so the chain's clock ends at most about half an hour ahead of the wall clock.

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

from marketplace.availability import seed_demo_schedules
from marketplace.catalogue import (
    ATTRIBUTES,
    CATEGORIES,
    CATEGORY_ATTRIBUTES,
    COMPLAINT_TAGS,
    REGIONS,
    Entry,
    lookup,
)
from marketplace.chain.market import BookingRequest, CriteriaInput, ListingInput, Market
from marketplace.chain.token import Token
from marketplace.domain import ETHER, ZERO_ADDRESS, attestor_bit
from marketplace.profile.service import ProfileService
from marketplace.profile.sql import SqlProfileRepository, create_profile_schema
from marketplace.web.db import create_web_schema, put_metadata, put_picture
from marketplace.web.demo_pictures import demo_picture
from marketplace.web.pictures import inspect

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
CATEGORY_TRAITS = CATEGORY_ATTRIBUTES
PRICE_RANGES = {  # whole dUSD; an ether listing costs the same number of finney (0.001 ETH)
    "rides": (20, 90), "cleaning": (40, 150), "tutoring": (30, 120), "repairs": (50, 200),
    "delivery": (10, 60),
}
TRAIT_COMPLAINTS = {"compact_car": "uncomfortable_vehicle", "smoker": "smoke_smell",
                    "pet_friendly": "pet_hair"}
FINNEY = 10**15
DUSD = 1  # the demo stablecoin's currency id
DUSD_UNIT = 10**6
UNIT = {ETHER: FINNEY, DUSD: DUSD_UNIT}
ETHER_SHARE = 0.25  # of listings and criteria priced in ether; the rest in dUSD
INSTANT_SHARE = 0.3
FREE_CANCEL_HOURS = (0, 2, 12, 24, 48)
LATE_CANCEL_PCT = (0, 25, 50, 100)
VERIFIABLE = ("certified", "insured", "electric_vehicle", "wheelchair_access", "child_seat",
              "allergy_safe", "eco_products")
PICTURELESS_EVERY = 6  # one listing in six has no picture (the pages' placeholder shows)
PAST_SLOT_LEAD = 900  # the past slots start this long after the seeding began (seconds)
SLOT_MINUTES = 60
DAY = 86_400


@dataclass
class SeededProvider:
    """One seeded listing."""

    provider_id: int
    owner: str
    name: str
    category: str
    region: str
    attributes: list[str]
    price: int  # in the smallest unit of `currency`
    quality: float  # how good the service is (drives the demo ratings)
    currency: int = ETHER
    instant: bool = False
    free_cancel_hours: int = 0
    late_cancel_pct: int = 0


@dataclass
class DemoMarket:
    """What the seeding created, and the accounts' roles for the dev switcher."""

    providers: list[SeededProvider] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    bookings: int = 0
    complaints: int = 0
    open_bookings: int = 0
    disputes: int = 0
    attested: int = 0
    story_customer: str = ""
    roles: list[str] = field(default_factory=list)


@dataclass
class _Pending:
    """A past-slot booking waiting for its start, and what happens to it then."""

    booking: int
    customer: str
    provider: SeededProvider
    stars: int
    tags: list[str]
    dispute_refund_bps: int | None = None


def roles_for(count: int, owners: int, customers: int) -> list[str]:
    """Role names of accounts 0..count-1: operator, owners, customers, arbiter, attestor,
    strangers (the order `make run` deploys with: the arbiter and the attestor come from the
    deployment's Setup)."""
    roles = ["operator"] + ["provider"] * owners + ["customer"] * customers
    roles += ["arbiter", "attestor"]
    return (roles + ["stranger"] * count)[:count]


STORY_ROLE = "customer (the demo story: compact cars)"


def _roles(market: Market, addresses: Sequence[str], owners: Sequence[str],
           customers: Sequence[str], arbiter: str | None, attestor: str | None) -> list[str]:
    """Each account's role as the chain and the demo see it."""
    operator = str(market.call("owner")).lower()
    by_address = {a.lower(): "provider" for a in owners}
    by_address.update({a.lower(): "customer" for a in customers})
    if customers:  # the README's story: the switcher marks it (issue 14)
        by_address[customers[0].lower()] = STORY_ROLE
    for account, role in ((arbiter, "arbiter"), (attestor, "attestor"), (operator, "operator")):
        if account:
            by_address[account.lower()] = role
    return [by_address.get(a.lower(), "stranger") for a in addresses]


def _named(market: Market, function: str, member_id: int) -> str | None:
    if member_id == 0:
        return None
    account, allowed = market.call(function, member_id)
    return str(account) if allowed and str(account) != ZERO_ADDRESS else None


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
    """Seed the market from `accounts` (operator, owners, customers, in that order; the arbiter
    and the attestor are the deployment's: its default arbiter and attestor 1). The customers
    must hold DemoUSD (`fund_dev_accounts`) and the chain must be a dev chain (time moves).

    `engine` is the store's database: listing metadata and the story customer's consent go
    there (the web app reads them). Needs `1 + n_owners + n_customers` accounts.
    """
    needed = 1 + n_owners + n_customers
    if len(accounts) < needed:
        raise ValueError(f"the demo needs {needed} accounts, got {len(accounts)}")
    say = progress or (lambda _m: None)
    rng = random.Random(seed)
    addresses = [to_checksum_address(a) for a in accounts]
    owners = addresses[1:1 + n_owners]
    customers = addresses[1 + n_owners:1 + n_owners + n_customers]
    arbiter = _named(market, "arbiter", int(market.call("defaultArbiter")))
    attestor = _named(market, "attestor", 1)
    demo = DemoMarket(roles=_roles(market, addresses, owners, customers, arbiter, attestor))
    if engine is not None:
        create_web_schema(engine)
        create_profile_schema(engine)
    token_address = str(market.currency(DUSD)["token"])
    token = Token(market.w3, token_address) if int(token_address, 16) else None
    currencies = (ETHER, DUSD) if token is not None else (ETHER,)

    say(f"registering {n_providers} listings")
    stake = int(market.call("minStake"))
    story_rides: list[SeededProvider] = []
    for i in range(n_providers):  # the market's first random draws: see `plan_listings`
        provider = _register(market, engine, owners[i % len(owners)], stake,
                             _plan(i, rng, currencies))
        demo.providers.append(provider)
        if provider.category == "rides":
            story_rides.append(provider)
    if engine is not None:
        say("publishing weekly hours")
        seed_demo_schedules(engine, {p.provider_id: p.owner for p in demo.providers})
    if attestor is not None:
        say("attesting verified attributes")
        demo.attested = _attest(market, attestor, demo.providers, rng)

    say(f"giving {n_customers} customers criteria")
    trusted = attestor_bit(1) if attestor is not None else 0
    for customer in customers:
        if token is not None:
            token.approve(market.address, 2**255, sender=customer)
        for category in rng.sample(list(TRADES), k=rng.randint(2, 4)) + ["rides"]:
            _set_criteria(market, customer, category, rng, generous=customer == customers[0],
                          currencies=currencies, trusted=trusted)
        demo.customers.append(customer.lower())

    say("running booking histories")
    start = _now(market) + PAST_SLOT_LEAD
    pending: list[_Pending] = []
    demo.story_customer = customers[0].lower()
    _story(market, customers[0], story_rides, start, pending)
    for customer in customers[1:]:
        for _ in range(rng.randint(2, 4)):
            _history(market, customer, demo, rng, start, pending)
    if pending:
        say(f"delivering {len(pending)} past slots")
        for item in pending:  # accepted before the start (their respondBy is at most it)
            if not item.provider.instant:
                market.act("accept", item.booking, sender=item.provider.owner)
        _advance_to(market, start + 1)
        for item in pending:
            _deliver(market, item, arbiter, demo)
    if engine is not None:
        ProfileService(SqlProfileRepository(engine)).grant_consent(demo.story_customer)
    return demo


def _now(market: Market) -> int:
    return market.now()


def _advance_to(market: Market, timestamp: int) -> None:
    """Mine a block at `timestamp` (a dev chain's clock moves forward)."""
    market.dev_mine_at(timestamp)


@dataclass(frozen=True)
class ListingPlan:
    """What the demo registers as its `index`-th listing, before it is on a chain."""

    index: int
    category: Entry
    region: Entry
    traits: list[str]
    mask: int
    currency: int
    price: int  # in the smallest unit of `currency`
    instant: bool
    free_cancel_hours: int
    late_cancel_pct: int
    name: str
    description: str
    quality: float


def plan_listings(n_providers: int = 320, seed: int = 7,
                  currencies: Sequence[int] = (ETHER, DUSD)) -> list[ListingPlan]:
    """The listings `seed_market(..., n_providers=n, seed=seed)` registers, computed without a
    chain (its random draws start with them): what the reputation benchmark reads its median
    price from. `currencies` is (ETHER,) for a deployment without the demo token."""
    rng = random.Random(seed)
    return [_plan(i, rng, currencies) for i in range(n_providers)]


def _plan(i: int, rng: random.Random, currencies: Sequence[int]) -> ListingPlan:
    category = CATEGORIES[i % len(CATEGORIES)]
    region = REGIONS[rng.randrange(len(REGIONS))] if i % 7 else REGIONS[0]
    traits = rng.sample(CATEGORY_TRAITS[category.key], k=rng.randint(1, 3))
    compact = category.key == "rides" and i % 10 == 0
    if compact:
        traits = sorted(set(traits) | {"compact_car"} - {"large_vehicle"})
    mask = sum(1 << lookup("attribute", t).code for t in traits)
    # The story's compact cars (and most listings) are in dUSD; a quarter in ether.
    currency = (currencies[-1] if compact or rng.random() >= ETHER_SHARE else currencies[0])
    low, high = PRICE_RANGES[category.key]
    price = rng.randint(low, high) * UNIT[currency] + rng.choice((0, UNIT[currency] // 2))
    instant = rng.random() < INSTANT_SHARE
    hours, pct = rng.choice(FREE_CANCEL_HOURS), rng.choice(LATE_CANCEL_PCT)
    name = f"{FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]}'s {rng.choice(TRADES[category.key])}"
    labels = [a.label.lower() for a in ATTRIBUTES if a.key in traits]
    description = f"{category.label} in {region.label}: {', '.join(labels)}."
    quality = rng.uniform(0.3, 1.0) * (0.7 if "smoker" in traits else 1.0)
    return ListingPlan(i, category, region, traits, mask, currency, price, instant, hours, pct,
                       name, description, quality)


def _register(market: Market, engine: Engine | None, owner: str, stake: int,
              plan: ListingPlan) -> SeededProvider:
    i, category = plan.index, plan.category
    document = {"name": plan.name, "description": plan.description}
    if engine is not None and i % PICTURELESS_EVERY != PICTURELESS_EVERY - 1:
        # Drawn here, deterministic; from the listing's index, so the rng sequence (and with
        # it the rest of the market) is what it was before listings had pictures.
        picture = inspect(demo_picture(category.key, i // len(CATEGORIES)))
        document["picture"] = put_picture(engine, picture)
    digest = put_metadata(engine, document) if engine is not None else "0x" + "00" * 32
    listing = ListingInput(category.code, plan.region.code, plan.mask, plan.currency, plan.price,
                           bytes.fromhex(digest[2:]), plan.instant, plan.free_cancel_hours,
                           plan.late_cancel_pct)
    provider_id = market.register(listing, sender=owner, stake=stake)
    return SeededProvider(provider_id, owner, plan.name, category.key, plan.region.key,
                          plan.traits, plan.price, plan.quality, plan.currency, plan.instant,
                          plan.free_cancel_hours, plan.late_cancel_pct)


def _attest(market: Market, attestor: str, providers: Sequence[SeededProvider],
            rng: random.Random) -> int:
    """The attestor verifies the verifiable attributes of about a fifth of the listings."""
    count = 0
    for provider in providers:
        verifiable = [a for a in provider.attributes if a in VERIFIABLE]
        if verifiable and rng.random() < 0.2:
            bits = sum(1 << lookup("attribute", a).code for a in verifiable)
            market.attest(provider.provider_id, bits, sender=attestor)
            count += 1
    return count


def _set_criteria(market: Market, customer: str, category: str, rng: random.Random,
                  generous: bool, currencies: Sequence[int], trusted: int) -> None:
    low, high = PRICE_RANGES[category]
    region = 0 if generous or rng.random() < 0.5 else lookup("region", rng.choice(
        [r.key for r in REGIONS])).code
    refused = 0
    if category == "rides" and rng.random() < 0.4 and not generous:
        refused = 1 << lookup("attribute", "smoker").code
    currency = currencies[-1] if generous or rng.random() >= ETHER_SHARE else currencies[0]
    score_share = rng.choice((3_000, 5_000, 6_000, 7_000))
    market.set_criteria(CriteriaInput(
        category=lookup("category", category).code,
        region=region,
        currency=currency,
        min_score=25_000 if not generous else 0,
        max_price=(high + 1) * UNIT[currency],
        premium_per_star=5 * UNIT[currency],
        refused_attributes=refused,
        trusted_attestors=trusted,
        min_reliability=0 if generous else rng.choice((0, 0, 6_000)),
        score_weight=score_share,
        price_weight=10_000 - score_share,
    ), sender=customer)


def _book(market: Market, customer: str, provider: SeededProvider, start: int,
          salt: int = 0) -> int | None:
    if market.call("firstFailedCriterion", customer, provider.provider_id) != 0:
        return None
    request: BookingRequest = market.request_for(customer, provider.provider_id, start,
                                                 SLOT_MINUTES, salt)
    value = provider.price if provider.currency == ETHER else 0
    return market.book(request, sender=customer, value=value)


def _deliver(market: Market, item: _Pending, arbiter: str | None, demo: DemoMarket) -> None:
    """Take a past-slot booking from Requested/Accepted to settled and rated, or disputed."""
    market.act("complete", item.booking, sender=item.provider.owner)
    mask = sum(1 << lookup("complaint tag", t).code for t in item.tags)
    if item.dispute_refund_bps is not None and arbiter is not None:
        market.dispute(item.booking, sender=item.customer)
        market.resolve(item.booking, item.dispute_refund_bps, sender=arbiter)
        demo.disputes += 1
        return
    if item.provider.instant:
        market.confirm_and_rate(item.booking, item.stars, mask, sender=item.customer)
    else:
        market.act("confirm", item.booking, sender=item.customer)
        market.rate(item.booking, item.stars, mask, sender=item.customer)
    demo.bookings += 1
    demo.complaints += bool(item.tags)


def _story(market: Market, customer: str, rides: list[SeededProvider], start: int,
           pending: list[_Pending]) -> None:
    """Two compact-car rides rated 2 stars, 'uncomfortable vehicle'; one other ride liked."""
    compact = [p for p in rides if "compact_car" in p.attributes]
    others = [p for p in rides if "compact_car" not in p.attributes and "smoker" not in
              p.attributes]
    for provider in compact[:2]:
        booking = _book(market, customer, provider, start)
        if booking is not None:
            pending.append(_Pending(booking, customer, provider, 2, ["uncomfortable_vehicle"]))
    for provider in others[:1]:
        booking = _book(market, customer, provider, start)
        if booking is not None:
            pending.append(_Pending(booking, customer, provider, 5, []))


def _history(market: Market, customer: str, demo: DemoMarket, rng: random.Random, start: int,
             pending: list[_Pending]) -> None:
    """One booking of a random eligible listing, taken to a random point of its life."""
    for provider in rng.sample(demo.providers, k=min(40, len(demo.providers))):
        fate = rng.random()
        ahead = fate < 0.24  # still open: a slot days ahead
        slot = _now(market) + rng.randint(1, 7) * DAY + rng.choice((9, 13, 17)) * 3_600 \
            if ahead else start
        booking = _book(market, customer, provider, slot, salt=rng.randrange(256))
        if booking is None:
            continue
        if fate < 0.06:
            market.act("cancel", booking, sender=customer)
            return
        if ahead:
            if fate >= 0.15 and not provider.instant:
                market.act("accept", booking, sender=provider.owner)
            demo.open_bookings += 1
            return
        stars = max(1, min(5, round(1 + 4 * provider.quality + rng.uniform(-1, 1))))
        tags = [tag for trait, tag in TRAIT_COMPLAINTS.items()
                if trait in provider.attributes and rng.random() < 0.7]
        if stars <= 3 and rng.random() < 0.5:
            tags.append(rng.choice([t.key for t in COMPLAINT_TAGS[:3]]))
        if tags:
            stars = min(stars, 3)
        dispute = None
        if stars <= 2 and rng.random() < 0.35:
            dispute = rng.choice((8_000, 3_000))
        pending.append(_Pending(booking, customer, provider, stars, sorted(set(tags)), dispute))
        return
