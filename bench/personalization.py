"""Does the living profile keep customers away from what they dislike? (section `personalization`)

A simulation. Providers have public attributes, prices and scores. Each customer has on-chain
criteria, and hidden from the engine: one or two disliked attributes (a hit means a complaint
tag naming the symptom, e.g. "smelled of smoke" for a smoker, 90% of the time, and one or two
stars) and a personal trade-off between score and price that drives their other ratings.
Each customer books ten times, always the top-ranked eligible provider, and rates.

Two arms run over the same world: the baseline ranks by the customer's stated weights over score
and price only; the personalised arm ranks through the living profile (consent given), which
learns from every rating. Keys:

- `complaint_rate_baseline`, `complaint_rate_personalized`: share of customers whose n-th
  booking hit a hidden dislike and drew its complaint, by booking number (1..10);
- `any_complaint_rate_*`: the same with the background noise: 3% of bookings draw a "late"
  complaint whatever the provider, in both arms (the profile must not over-learn from it);
- `complaint_ratio_at_5`: personalised / baseline at the 5th booking (target <= 0.30);
- `eligible_share`: share of recommended providers (the top 5 of every ranking in both arms)
  that pass the scalar on-chain rule `first_failed_criterion` (target 1).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bench.results import write_section
from marketplace.catalogue import lookup
from marketplace.domain import Criterion, booking_id
from marketplace.matching.criteria import CriteriaInput
from marketplace.matching.eligibility import CriteriaView, first_failed_criterion
from marketplace.matching.index import ProviderIndex
from marketplace.matching.ranking import rank
from marketplace.profile.proposals import ProposalKind
from marketplace.profile.repository import InMemoryProfileRepository
from marketplace.profile.service import ProfileService

BOOKINGS = 10
SHOWN = 5  # recommendations checked against the on-chain rule per ranking
CATEGORY_SHARES = {1: 0.4, 2: 0.15, 3: 0.15, 4: 0.15, 5: 0.15}
ATTRIBUTE_FREQUENCY = {
    "electric_vehicle": 0.25,
    "wheelchair_access": 0.1,
    "pet_friendly": 0.25,
    "speaks_finnish": 0.6,
    "speaks_english": 0.6,
    "speaks_swedish": 0.2,
    "compact_car": 0.3,
    "large_vehicle": 0.2,
    "child_seat": 0.15,
    "eco_products": 0.2,
    "own_equipment": 0.3,
    "weekend_service": 0.4,
    "night_service": 0.2,
    "certified": 0.3,
    "insured": 0.5,
    "smoker": 0.15,
    "allergy_safe": 0.15,
    "online": 0.1,
    "bike_courier": 0.1,
    "cash_free": 0.3,
}
# Hidden dislikes and the complaint tag a customer uses when one is hit.
DISLIKES = (
    ("compact_car", "uncomfortable_vehicle"),
    ("large_vehicle", "uncomfortable_vehicle"),
    ("smoker", "smoke_smell"),
    ("pet_friendly", "pet_hair"),
)
COMPLAINT_PROBABILITY = 0.9
BACKGROUND_COMPLAINT = 0.03  # "late", whatever the provider: noise both arms share


@dataclass
class Customer:
    """A synthetic customer: public criteria, hidden tastes."""

    address: str
    criteria: CriteriaView
    dislikes: list[tuple[int, int]]  # (attribute bit, complaint tag bit)
    score_share: float  # hidden: how much score matters against price, 0..1


def build_world(rng: np.random.Generator, n: int) -> ProviderIndex:
    """`n` providers: attributes, quality-linked prices, and rating histories."""
    categories = rng.choice(list(CATEGORY_SHARES), size=n, p=list(CATEGORY_SHARES.values()))
    attributes = np.zeros(n, np.uint64)
    for key, frequency in ATTRIBUTE_FREQUENCY.items():
        bit = np.uint64(1 << lookup("attribute", key).code)
        attributes |= np.where(rng.random(n) < frequency, bit, np.uint64(0))
    quality = rng.beta(5, 2, n)  # the mean stars a provider earns, on 1..5: 1 + 4 * quality
    counts = rng.integers(0, 60, n)
    sums = np.clip(
        np.rint(counts * (1 + 4 * quality) + rng.normal(0, 1, n) * np.sqrt(counts)),
        counts,
        5 * counts,
    ).astype(np.int64)
    base = rng.lognormal(np.log(5e16), 0.25, n)  # about 0.05 ether
    price = (base * (0.6 + 0.8 * quality) // 10**12 * 10**12).astype(np.int64)
    return ProviderIndex.from_columns(
        provider_id=np.arange(1, n + 1),
        category=categories,
        region=rng.integers(1, 6, n),
        attributes=attributes,
        price=price,
        active=rng.random(n) > 0.03,
        score_count=counts,
        score_sum=sums,
    )


def make_customer(rng: random.Random, i: int, index: ProviderIndex) -> Customer:
    """A customer whose criteria leave at least 30 eligible providers."""
    while True:
        category = rng.choices(list(CATEGORY_SHARES), weights=list(CATEGORY_SHARES.values()))[0]
        refused = rng.choice([0, 0, 0, 1 << lookup("attribute", "cash_free").code])
        required = rng.choice([0, 0, 0, 1 << lookup("attribute", "insured").code])
        score_weight = rng.randint(30, 70) * 100
        criteria = CriteriaInput(
            category=category,
            region=rng.choice([0, 0, rng.randint(1, 5)]),
            min_score=rng.choice([0, 30_000, 35_000]),
            max_price=rng.randint(4, 8) * 10**16,
            premium_per_star=rng.randint(0, 2) * 10**16,
            required_attributes=required,
            refused_attributes=refused,
            score_weight=score_weight,
            price_weight=10_000 - score_weight,
        ).to_view(version=1)
        if rank(index, criteria, k=1).eligible_count >= 30:
            break
    dislikes = [
        (lookup("attribute", a).code, lookup("complaint tag", t).code)
        for a, t in rng.sample(DISLIKES, k=rng.choice([1, 2]))
    ]
    return Customer(f"0x{i + 1:040x}", criteria, dislikes, rng.uniform(0.1, 0.9))


def simulate(
    customers: list[Customer], index: ProviderIndex, personalised: bool, seed: int
) -> dict[str, Any]:
    """Ten bookings per customer in one arm; complaint flags by booking, stars, checks."""
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]

    def tick() -> datetime:
        clock[0] += timedelta(seconds=1)
        return clock[0]

    service = ProfileService(InMemoryProfileRepository(), clock=tick)
    complaints = np.zeros((len(customers), BOOKINGS), np.bool_)  # about a hidden dislike
    any_complaints = np.zeros((len(customers), BOOKINGS), np.bool_)  # background noise too
    stars_given: list[int] = []
    shown = eligible = 0
    for c, customer in enumerate(customers):
        if personalised:
            service.grant_consent(customer.address)
        for b in range(BOOKINGS):
            rng = random.Random(f"{seed}/{c}/{b}")  # the same outcome noise in both arms
            affinity = service.affinity(customer.address, customer.criteria)
            ranking = rank(index, customer.criteria, affinity=affinity, k=SHOWN)
            for match in ranking.matches:
                shown += 1
                eligible += (
                    first_failed_criterion(index.view(match.provider_id), customer.criteria)
                    is Criterion.NONE
                )
            top = ranking.matches[0]
            provider = index.view(top.provider_id)
            tags = 0
            for attribute, tag in customer.dislikes:
                if provider.attributes >> attribute & 1 and rng.random() < COMPLAINT_PROBABILITY:
                    tags |= 1 << tag
            disliked = tags != 0
            if rng.random() < BACKGROUND_COMPLAINT:
                tags |= 1 << lookup("complaint tag", "late").code
            satisfaction = (
                customer.score_share * top.score_term + (1 - customer.score_share) * top.price_term
            )
            stars = int(np.clip(round(1 + 4 * satisfaction + rng.gauss(0, 0.4)), 1, 5))
            if disliked:
                stars = rng.choice([1, 2])
            elif tags:
                stars = max(stars - 1, 1)
            complaints[c, b] = disliked
            any_complaints[c, b] = tags != 0
            stars_given.append(stars)
            if personalised:
                service.record_rating(
                    customer.address,
                    booking_id(customer.address, b),
                    provider,
                    customer.criteria,
                    stars,
                    tags,
                )
    return {
        "complaints": complaints,
        "any_complaints": any_complaints,
        "stars": stars_given,
        "shown": shown,
        "eligible": eligible,
        "service": service,
    }


def proposal_quality(customers: list[Customer], service: ProfileService) -> dict[str, float]:
    """How often 'refuse attribute' proposals name a real hidden dislike, and how many get one."""
    named = correct = helped = 0
    errors_learned: list[float] = []
    errors_stated: list[float] = []
    for customer in customers:
        proposals = service.proposals(customer.address, customer.criteria)
        truth = {attribute for attribute, _ in customer.dislikes}
        refusals = [p for p in proposals if p.kind is ProposalKind.REFUSE_ATTRIBUTE]
        hits = 0
        for proposal in refusals:
            assert proposal.criteria is not None
            added = proposal.criteria.refused_attributes & ~customer.criteria.refused_attributes
            hits += any(added >> bit & 1 for bit in truth)
        named += len(refusals)
        correct += hits
        helped += hits > 0
        profile = service.profile(customer.address)
        assert profile is not None
        stated = customer.criteria.score_weight / 10_000
        learned = profile.learned_weights(customer.criteria)
        share = stated if learned is None else learned[0] / 10_000
        errors_learned.append(abs(share - customer.score_share))
        errors_stated.append(abs(stated - customer.score_share))
    return {
        "refusal_proposal_precision": round(correct / named, 4) if named else 1.0,
        "customers_with_a_correct_refusal_proposal": round(helped / len(customers), 4),
        "trade_off_error_stated": round(float(np.mean(errors_stated)), 4),
        "trade_off_error_learned": round(float(np.mean(errors_learned)), 4),
    }


def main(argv: list[str] | None = None) -> int:
    """Run both arms, print a summary and write section `personalization`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_200)
    parser.add_argument("--providers", type=int, default=6_000)
    parser.add_argument("--seed", type=int, default=20_260_401)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write results")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    index = build_world(np.random.default_rng(args.seed), args.providers)
    rng = random.Random(args.seed)
    customers = [make_customer(rng, i, index) for i in range(args.customers)]
    baseline = simulate(customers, index, personalised=False, seed=args.seed)
    personal = simulate(customers, index, personalised=True, seed=args.seed)
    rate_base = baseline["complaints"].mean(axis=0)
    rate_personal = personal["complaints"].mean(axis=0)
    data: dict[str, Any] = {
        "customers": len(customers),
        "providers": len(index),
        "bookings_per_customer": BOOKINGS,
        "complaint_rate_baseline": [round(float(x), 4) for x in rate_base],
        "complaint_rate_personalized": [round(float(x), 4) for x in rate_personal],
        "complaint_ratio_at_5": round(float(rate_personal[4] / rate_base[4]), 4),
        "any_complaint_rate_baseline": [
            round(float(x), 4) for x in baseline["any_complaints"].mean(axis=0)
        ],
        "any_complaint_rate_personalized": [
            round(float(x), 4) for x in personal["any_complaints"].mean(axis=0)
        ],
        "eligible_share": (baseline["eligible"] + personal["eligible"])
        / (baseline["shown"] + personal["shown"]),
        "recommendations_checked": baseline["shown"] + personal["shown"],
        "mean_stars_baseline": round(float(np.mean(baseline["stars"])), 4),
        "mean_stars_personalized": round(float(np.mean(personal["stars"])), 4),
        **proposal_quality(customers, personal["service"]),
        "attribute_frequency": {
            k: v for k, v in ATTRIBUTE_FREQUENCY.items() if k in {a for a, _ in DISLIKES}
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    data["targets"] = {"complaint_ratio_at_5": 0.30, "eligible_share": 1}
    data["meets_targets"] = data["complaint_ratio_at_5"] <= 0.30 and data["eligible_share"] == 1
    if not args.dry_run:
        write_section("personalization", data)
    for key, value in data.items():
        print(f"{key}: {value}")
    print("targets:", "met" if data["meets_targets"] else "MISSED")
    return 0 if data["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
