"""Does the living profile keep customers away from what they dislike? (section `personalization`)

A simulation. Providers have public attributes, prices and scores. Each customer has on-chain
criteria, and hidden from the engine: one or two disliked attributes, drawn from every attribute
that some complaint tag can implicate, and a personal trade-off between score and price that
drives their other ratings. Booking a provider with a disliked attribute (a hit) spoils the
booking: one or two stars, and with the setting's complaint probability the customer names it
with its tag ("smelled of smoke" for a smoker). Independently, with the setting's stray rate, a
booking draws a stray complaint: a tag chosen uniformly among all of them, whatever the provider,
which costs a star. Each customer books ten times, always the top-ranked eligible provider, and
rates. The world never looks at the learner; the learner sees only what the app sees (the
provider's public attributes, stars, tags, the customer's criteria).

Two arms run over the same world and the same outcome noise: the baseline ranks by the customer's
stated weights over score and price only; the personalised arm ranks through the living profile
(consent given), which learns from every rating. The sweep runs every complaint probability in
COMPLAINT_PROBABILITIES with every stray rate in STRAY_RATES, over each seed. Per setting (`sweep`,
keyed `complain<p>_stray<r>`), pooled over the seeds:

- `complaint_rate_baseline`, `complaint_rate_personalized`: share of customers whose n-th
  booking hit a hidden dislike and drew its complaint, by booking number (1..10);
- `complaint_ratio_at_5`: personalised / baseline at the 5th booking, and per seed;
- `hit_ratio_at_5`: the same for hits whether named or not;
- `mean_stars_baseline`, `mean_stars_personalized`, `stars_gain` (personalised minus baseline);
- `refusal_proposals`, `proposal_precision`: "refuse attribute" proposals made after the ten
  bookings, and the share of them naming a real hidden dislike;
- `eligible_share`: share of recommended providers (the top 5 of every ranking in both arms)
  that pass the scalar on-chain rule `first_failed_criterion`.

Over all settings: `worst_complaint_ratio_at_5` (target <= 0.40), `complaint_ratio_at_5` of the
original setting (complaints 90%, strays 3%; target <= 0.10), `worst_stars_gain` (>= 0),
`proposal_precision` (>= 0.9) and `eligible_share` (1).
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
from marketplace.catalogue import COMPLAINT_TAGS, lookup
from marketplace.domain import HOUR, RATING_WEIGHT_UNIT, Criterion, booking_id
from marketplace.matching.criteria import CriteriaInput
from marketplace.matching.eligibility import CriteriaView, first_failed_criterion
from marketplace.matching.index import ProviderIndex
from marketplace.matching.ranking import rank
from marketplace.profile.proposals import ProposalKind
from marketplace.profile.repository import InMemoryProfileRepository
from marketplace.profile.service import ProfileService
from marketplace.profile.traits import TAG_TRAITS

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
# Hidden dislikes: every attribute some complaint tag implicates, with the tag that names it.
DISLIKES = tuple(
    (attribute, tag) for tag, attributes in TAG_TRAITS.items() for attribute in attributes
)
COMPLAINT_PROBABILITIES = (0.9, 0.5, 0.3)  # a hit is named with its tag this often
STRAY_RATES = (0.03, 0.10, 0.15)  # a booking draws a stray complaint (any tag) this often
SEEDS = (20_260_401, 7_319, 4_242)
ORIGINAL = (0.9, 0.03)  # the setting the section first reported
STRAY_TAGS = tuple(entry.code for entry in COMPLAINT_TAGS)
TARGETS = {"worst_complaint_ratio_at_5": 0.40, "complaint_ratio_at_5": 0.10,
           "worst_stars_gain": 0.0, "proposal_precision": 0.9, "eligible_share": 1}


@dataclass(frozen=True)
class Setting:
    """How the customers complain: a hit is named with `complain`, strays come at `stray`.

    `silent_hits_spoil` False is the section's first world, kept as a stress test: a hit the
    customer does not name is rated as if nothing happened, so only tags carry the signal.
    """

    complain: float
    stray: float
    silent_hits_spoil: bool = True

    @property
    def key(self) -> str:
        """The setting's key under `sweep`."""
        return f"complain{self.complain:g}_stray{self.stray:g}"


@dataclass
class Customer:
    """A synthetic customer: public criteria, hidden tastes."""

    address: str
    criteria: CriteriaView
    dislikes: list[tuple[int, int]]  # (attribute bit, complaint tag bit)
    score_share: float  # hidden: how much score matters against price, 0..1


SLOT_ZERO = 1_800_000_000  # the synthetic bookings' slots: hourly from here (booking ids only)


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
    # Every rating a minimum-fee one (weight 1,000), each listing its own owner, all in ether.
    unit = RATING_WEIGHT_UNIT
    return ProviderIndex.from_columns(
        provider_id=np.arange(1, n + 1),
        owner=[f"0x{i:040x}" for i in range(1, n + 1)],
        category=categories,
        region=rng.integers(1, 6, n),
        attributes=attributes,
        currency=np.zeros(n, np.int64),
        price=price,
        active=rng.random(n) > 0.03,
        rating_weight=counts * unit,
        weighted_stars=sums * unit,
        completed=counts,
        failures=np.zeros(n, np.int64),
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
    customers: list[Customer], index: ProviderIndex, setting: Setting, personalised: bool,
    seed: int,
) -> dict[str, Any]:
    """Ten bookings per customer in one arm; complaint flags by booking, stars, checks."""
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]

    def tick() -> datetime:
        clock[0] += timedelta(seconds=1)
        return clock[0]

    service = ProfileService(InMemoryProfileRepository(), clock=tick)
    complaints = np.zeros((len(customers), BOOKINGS), np.bool_)  # a hit, named
    hits = np.zeros((len(customers), BOOKINGS), np.bool_)  # a hit, named or not
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
            # Every draw in a fixed order, so both arms and every setting share the noise.
            naming = [rng.random() for _ in customer.dislikes]
            stray = rng.random() < setting.stray
            stray_tag = rng.choice(STRAY_TAGS)
            noise = rng.gauss(0, 0.4)
            spoilt = rng.choice([1, 2])
            tags = 0
            hit = False
            for (attribute, tag), u in zip(customer.dislikes, naming, strict=True):
                if provider.attributes >> attribute & 1:
                    hit = True
                    if u < setting.complain:
                        tags |= 1 << tag
            named = tags != 0
            if stray:
                tags |= 1 << stray_tag
            satisfaction = (
                customer.score_share * top.score_term + (1 - customer.score_share) * top.price_term
            )
            stars = int(np.clip(round(1 + 4 * satisfaction + noise), 1, 5))
            if named or (hit and setting.silent_hits_spoil):  # spoilt
                stars = spoilt
            elif stray:
                stars = max(stars - 1, 1)
            complaints[c, b] = named
            hits[c, b] = hit
            stars_given.append(stars)
            if personalised:
                service.record_rating(
                    customer.address,
                    booking_id(customer.address, provider.provider_id, SLOT_ZERO + b * HOUR, 60),
                    provider,
                    customer.criteria,
                    stars,
                    tags,
                )
    return {
        "complaints": complaints,
        "hits": hits,
        "stars": stars_given,
        "shown": shown,
        "eligible": eligible,
        "service": service,
    }


def refusal_proposals(customers: list[Customer], service: ProfileService) -> tuple[int, int]:
    """'Refuse attribute' proposals after the bookings: how many, how many name a real dislike."""
    named = correct = 0
    for customer in customers:
        truth = {attribute for attribute, _ in customer.dislikes}
        for proposal in service.proposals(customer.address, customer.criteria):
            if proposal.kind is not ProposalKind.REFUSE_ATTRIBUTE:
                continue
            assert proposal.criteria is not None
            added = proposal.criteria.refused_attributes & ~customer.criteria.refused_attributes
            named += 1
            correct += any(added >> bit & 1 for bit in truth)
    return named, correct


def run_seed(seed: int, settings: list[Setting], n_customers: int, n_providers: int,
             ) -> dict[str, dict[str, Any]]:
    """Both arms of every setting over one seed's world; raw counts per setting key."""
    index = build_world(np.random.default_rng(seed), n_providers)
    rng = random.Random(seed)
    customers = [make_customer(rng, i, index) for i in range(n_customers)]
    out: dict[str, dict[str, Any]] = {}
    for setting in settings:
        baseline = simulate(customers, index, setting, personalised=False, seed=seed)
        personal = simulate(customers, index, setting, personalised=True, seed=seed)
        proposals, correct = refusal_proposals(customers, personal["service"])
        out[setting.key] = {
            "customers": len(customers),
            "complaints_baseline": baseline["complaints"].sum(axis=0),
            "complaints_personalized": personal["complaints"].sum(axis=0),
            "hits_baseline": baseline["hits"].sum(axis=0),
            "hits_personalized": personal["hits"].sum(axis=0),
            "stars_baseline": float(np.sum(baseline["stars"])),
            "stars_personalized": float(np.sum(personal["stars"])),
            "ratings": len(baseline["stars"]),
            "shown": baseline["shown"] + personal["shown"],
            "eligible": baseline["eligible"] + personal["eligible"],
            "proposals": proposals,
            "correct_proposals": correct,
        }
    return out


def summarise(runs: dict[int, dict[str, dict[str, Any]]], setting: Setting) -> dict[str, Any]:
    """One setting pooled over the seeds (and each seed's ratio at the 5th booking)."""
    per_seed = [runs[seed][setting.key] for seed in sorted(runs)]

    def pooled(key: str) -> Any:
        return sum(run[key] for run in per_seed)

    customers = pooled("customers")
    base, personal = pooled("complaints_baseline"), pooled("complaints_personalized")
    hits_base, hits_personal = pooled("hits_baseline"), pooled("hits_personalized")
    ratings = pooled("ratings")
    stars_base, stars_personal = pooled("stars_baseline") / ratings, pooled(
        "stars_personalized") / ratings
    proposals, correct = pooled("proposals"), pooled("correct_proposals")
    return {
        "complaint_probability": setting.complain,
        "stray_complaint_rate": setting.stray,
        "seeds": sorted(runs),
        "customers": customers,
        "complaint_rate_baseline": [round(float(x) / customers, 4) for x in base],
        "complaint_rate_personalized": [round(float(x) / customers, 4) for x in personal],
        "complaint_ratio_at_5": round(float(personal[4] / base[4]), 4),
        "complaint_ratio_at_5_by_seed": [
            round(float(run["complaints_personalized"][4] / run["complaints_baseline"][4]), 4)
            for run in per_seed
        ],
        "hit_ratio_at_5": round(float(hits_personal[4] / hits_base[4]), 4),
        "mean_stars_baseline": round(stars_base, 4),
        "mean_stars_personalized": round(stars_personal, 4),
        "stars_gain": round(stars_personal - stars_base, 4),
        "refusal_proposals": proposals,
        "proposal_precision": round(correct / proposals, 4) if proposals else 1.0,
        "eligible_share": pooled("eligible") / pooled("shown"),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the sweep, print a summary and write section `personalization`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_200, help="per seed")
    parser.add_argument("--providers", type=int, default=6_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS),
                        help="worlds to pool per setting (at least 3 for the reported section)")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write results")
    parser.add_argument("--silent-hits-rated-as-usual", action="store_true",
                        help="stress test (implies --dry-run): a hit the customer does not name "
                             "is rated as if nothing happened, so only tags carry the signal")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.providers < 1:
        parser.error("--customers and --providers must be positive")
    started = time.perf_counter()
    spoil = not args.silent_hits_rated_as_usual
    settings = [Setting(p, r, spoil) for p in COMPLAINT_PROBABILITIES for r in STRAY_RATES]
    runs = {seed: run_seed(seed, settings, args.customers, args.providers)
            for seed in args.seeds}
    sweep = {setting.key: summarise(runs, setting) for setting in settings}
    original = sweep[Setting(*ORIGINAL, spoil).key]
    proposals = sum(v["refusal_proposals"] for v in sweep.values())
    correct = sum(
        run["correct_proposals"] for seed_runs in runs.values() for run in seed_runs.values()
    )
    data: dict[str, Any] = {
        "customers_per_seed": args.customers,
        "providers": args.providers,
        "seeds": sorted(args.seeds),
        "bookings_per_customer": BOOKINGS,
        "complaint_ratio_at_5": original["complaint_ratio_at_5"],
        "worst_complaint_ratio_at_5": max(v["complaint_ratio_at_5"] for v in sweep.values()),
        "worst_stars_gain": min(v["stars_gain"] for v in sweep.values()),
        "proposal_precision": round(correct / proposals, 4) if proposals else 1.0,
        "refusal_proposals": proposals,
        "eligible_share": min(v["eligible_share"] for v in sweep.values()),
        "sweep": sweep,
        "hidden_dislikes": sorted({attribute for attribute, _ in DISLIKES}),
        "seconds": round(time.perf_counter() - started, 1),
    }
    data["targets"] = TARGETS
    data["meets_targets"] = (
        data["worst_complaint_ratio_at_5"] <= TARGETS["worst_complaint_ratio_at_5"]
        and data["complaint_ratio_at_5"] <= TARGETS["complaint_ratio_at_5"]
        and data["worst_stars_gain"] >= TARGETS["worst_stars_gain"]
        and data["proposal_precision"] >= TARGETS["proposal_precision"]
        and data["eligible_share"] == TARGETS["eligible_share"]
    )
    if not (args.dry_run or args.silent_hits_rated_as_usual):
        write_section("personalization", data)
    print(f"{'setting':28} {'ratio@5':>8} {'by seed':>24} {'hits@5':>7} {'stars':>15} "
          f"{'gain':>7} {'refusals':>8} {'precision':>9}")
    for key, v in sweep.items():
        print(f"{key:28} {v['complaint_ratio_at_5']:8.3f} "
              f"{str(v['complaint_ratio_at_5_by_seed']):>24} {v['hit_ratio_at_5']:7.3f} "
              f"{v['mean_stars_baseline']:6.2f} -> {v['mean_stars_personalized']:5.2f} "
              f"{v['stars_gain']:+7.3f} {v['refusal_proposals']:8d} {v['proposal_precision']:9.3f}")
    for key, value in data.items():
        if key != "sweep":
            print(f"{key}: {value}")
    print("targets:", "met" if data["meets_targets"] else "MISSED")
    return 0 if data["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
