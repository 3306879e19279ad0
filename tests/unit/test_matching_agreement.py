"""The fast engine agrees with the scalar rule and the brute-force reference on random datasets.

Datasets are built to hit the edges: prices exactly at, one wei under and one wei over the
score-adjusted ceiling, scores exactly at the minimum, prices and ceilings beyond int64, blocked and
inactive providers, other categories, unset criteria, and many exact ties in the ranking value;
and v2's criteria: other currencies, blocked owners, attributes verified by trusted and untrusted,
named and removed attestors, track records and reliability exactly at the minimum.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import numpy as np

from marketplace.domain import (
    MAX_SCORE,
    STAR,
    UINT64_MAX,
    UINT96_MAX,
    count_outcome,
    weighted_score,
)
from marketplace.matching.eligibility import (
    CriteriaView,
    ProviderView,
    first_failed_criterion,
    price_ceiling,
)
from marketplace.matching.index import PRICE_CAP, OwnerHistory, ProviderIndex
from marketplace.matching.ranking import (
    Affinity,
    Match,
    ProviderAffinity,
    TraitAffinity,
    _affinity_reasons,
    owner_history_reason,
    price_reason,
    price_term,
    rank,
    reliability_reason,
    score_reason,
    score_term,
    verified_attributes,
    verified_reason,
)
from marketplace.matching.reference import rank_reference
from marketplace.matching.vectorised import ceiling_by_score, eligible_rows, first_failed_criteria

DATASETS = 500
FINNEY = 10**15


def random_criteria(rng: random.Random) -> CriteriaView | None:
    if rng.random() < 0.05:
        return None
    required = rng.choice([0, 0, 1 << rng.randrange(6), rng.getrandbits(3)])
    refused = rng.choice([0, 0, 1 << rng.randrange(6), 1 << 63]) & ~required
    max_price = rng.choice([
        rng.randint(1, 150) * FINNEY,
        rng.randint(1, 150) * FINNEY + rng.randrange(FINNEY),
        0,
        PRICE_CAP - rng.randrange(1, 3),
        PRICE_CAP,
        UINT96_MAX,
    ])
    premium = rng.choice([
        0,
        rng.randint(1, 50) * FINNEY,
        rng.randrange(10**20),  # not a multiple of STAR: exercises the remainder
        (PRICE_CAP // 10_000) * rng.randint(1, 3),
        UINT96_MAX,
    ])
    verified = rng.choice([0, 0, 0, 0, required, required & rng.getrandbits(6)])
    return CriteriaView(
        category=rng.choice([1, 1, 1, 2]),
        region=rng.choice([0, 0, 1, 2, 3]),
        currency=rng.choice([0, 0, 0, 1]),
        verified_attributes=verified,
        trusted_attestors=rng.choice([0, 0b1, 0b11, 0b101, 0b1000]) if verified or (
            rng.random() < 0.2) else 0,
        min_rating_weight=rng.choice([0, 0, 0, 0, 1_000, 5_000, rng.randrange(20_000)]),
        min_reliability=rng.choice([0, 0, 0, 0, 9_000, 9_500, rng.randrange(10_001)]),
        blocked_owners=frozenset(rng.sample(OWNERS, k=rng.choice([0, 0, 0, 0, 1, 2]))),
        min_score=rng.choice([0, 0, 30_000, 35_000, 38_000, 40_000, MAX_SCORE]),
        max_price=max_price,
        premium_per_star=premium,
        required_attributes=required,
        refused_attributes=refused,
        score_weight=rng.choice([0, 1, 5_000, 10_000, rng.randrange(10_001)]),
        price_weight=rng.choice([0, 1, 5_000, 10_000, rng.randrange(10_001)]),
        version=rng.choice([0, 1, 1, 1, 1, 1, 1, 1, 1, 7]),
        blocked=frozenset(rng.sample(range(1, 40), k=rng.randint(0, 3))),
    )


OWNERS = [f"0x{i:040x}" for i in range(1, 6)]


def random_provider(rng: random.Random, provider_id: int, c: CriteriaView | None) -> ProviderView:
    weight = rng.choice([0, 0, rng.randint(1, 5) * 1_000, rng.randint(1, 500) * rng.randint(
        1, 3_000), 1_000, 5_000])
    total = rng.randint(weight, 5 * weight)
    if rng.random() < 0.05 and weight:
        total = 5 * weight  # five stars exactly
    completed = rng.choice([0, 0, rng.randint(1, 50), 65_535])
    failures = rng.choice([0, 0, 0, rng.randint(1, 5), rng.randint(0, 65_535)])
    attestations = {a: rng.getrandbits(6) for a in rng.sample([1, 2, 3, 4], k=rng.randint(0, 3))}
    provider = ProviderView(
        provider_id=provider_id,
        owner=rng.choice(OWNERS),
        currency=c.currency if c is not None and rng.random() < 0.85 else rng.choice([0, 1, 2]),
        rating_weight=weight,
        weighted_stars=total,
        completed=completed,
        failures=failures,
        attestations={a: b for a, b in attestations.items() if b},
        category=c.category if c is not None and rng.random() < 0.8 else rng.choice([1, 2]),
        region=c.region if c is not None and c.region and rng.random() < 0.6 else rng.randint(1, 3),
        attributes=rng.getrandbits(6) | rng.choice([0, 0, 1 << 63]),
        price=rng.choice([rng.randint(1, 150) * FINNEY, rng.randint(1, 10**18),
                          PRICE_CAP + rng.randrange(3) - 1, UINT96_MAX]),
        active=rng.random() > 0.1,
    )
    if c is not None and provider.score >= c.min_score:
        ceiling = price_ceiling(c, provider.score)
        draw = rng.random()
        if draw < 0.3:  # right at the edge of the ceiling
            price = ceiling + rng.choice([-1, 0, 0, 1])
        elif draw < 0.8:  # somewhere under it
            price = rng.randint(0, ceiling)
        else:
            price = provider.price
        provider = replace(provider, price=min(max(price, 0), UINT96_MAX))
    return provider


def random_affinity(rng: random.Random) -> Affinity | None:
    if rng.random() < 0.3:
        return None
    # Weights on a coarse grid, so that exact ties in the ranking value are common.
    def weight() -> float:
        return rng.choice([-0.5, -0.25, 0.0, 0.125, 0.25])

    traits = tuple(TraitAffinity(bit, weight(), f"trait {bit}")
                   for bit in rng.sample([0, 1, 2, 3, 4, 5, 63], k=rng.randint(0, 4)))
    providers = tuple(ProviderAffinity(pid, weight(), f"provider {pid}")
                      for pid in rng.sample(range(1, 60), k=rng.randint(0, 4)))
    learned = rng.choice([None, (7_000, 3_000), (0, 10_000)])
    if learned is None:
        return Affinity(traits, providers)
    return Affinity(traits, providers, learned[0], learned[1], "learned")


def random_named(rng: random.Random) -> frozenset[int] | None:
    """Which attestors the operator names: None (all that attested), or some of them."""
    return rng.choice([None, None, frozenset({1, 2, 3, 4}), frozenset({1}), frozenset({2, 3})])


def index_of(providers: list[ProviderView], named: frozenset[int] | None) -> ProviderIndex:
    return ProviderIndex.from_views(providers, named_attestors=named)


def named_of(providers: list[ProviderView], named: frozenset[int] | None) -> frozenset[int]:
    return named if named is not None else frozenset(a for p in providers for a in p.attestations)


def random_dataset(rng: random.Random) -> tuple[list[ProviderView], CriteriaView | None]:
    criteria = random_criteria(rng)
    providers = [random_provider(rng, pid, criteria) for pid in range(1, rng.randint(2, 60))]
    if rng.random() < 0.2 and providers:  # clones of one provider: ties broken by id only
        template = rng.choice(providers)
        start = len(providers) + 1
        providers += [replace(template, provider_id=start + i) for i in range(rng.randint(2, 8))]
    return providers, criteria


def test_vectorised_eligibility_equals_the_scalar_rule_on_500_random_datasets() -> None:
    rng = random.Random(4)
    checked = 0
    for _ in range(DATASETS):
        providers, criteria = random_dataset(rng)
        named = random_named(rng)
        index = index_of(providers, named)
        with index.read() as columns:
            codes = first_failed_criteria(columns, criteria).tolist()
            fast = set(columns.provider_id[eligible_rows(columns, criteria)].tolist())
        scalar = [int(first_failed_criterion(p, criteria, named_of(providers, named)))
                  for p in providers]
        assert codes == scalar
        assert fast == {p.provider_id for p, code in zip(providers, scalar, strict=True)
                        if code == 0}
        checked += len(providers)
    assert checked > 10_000


def test_fast_top_k_equals_the_brute_force_reference_on_500_random_datasets() -> None:
    rng = random.Random(5)
    nonempty = 0
    for _ in range(DATASETS):
        providers, criteria = random_dataset(rng)
        affinity = random_affinity(rng)
        k = rng.choice([1, 3, 5, 20, 100])
        named = random_named(rng)
        ranking = rank(index_of(providers, named), criteria, affinity=affinity, k=k)
        expected = rank_reference(providers, criteria, affinity, k, named_of(providers, named))
        assert [(m.provider_id, m.utility) for m in ranking.matches] == expected
        by_id = {p.provider_id: p for p in providers}
        for position, match in enumerate(ranking.matches, 1):
            assert criteria is not None and match.rank == position
            assert match == match_of(match, by_id[match.provider_id], criteria, affinity,
                                     providers, named_of(providers, named))
        nonempty += bool(expected)
    assert nonempty > DATASETS // 3  # v2 has six more ways to exclude everyone


def match_of(ranked: Match, p: ProviderView, c: CriteriaView, affinity: Affinity | None,
             providers: list[ProviderView], named: frozenset[int]) -> Match:
    """The match a ranked listing must be, from its own record (not the index's columns): the
    numbers a booking needs and every reason, in order."""
    score, ceiling = p.score, price_ceiling(c, p.score)
    verified = verified_attributes(p.attributes, p.attestations, named, c.trusted_attestors)
    history = (owner_history_by_scan(providers, p.owner, p.provider_id)
               if p.rating_weight == 0 else None)
    reasons = [score_reason(p.rating_weight, score, c.min_score),
               price_reason(p.price, ceiling, p.currency, None),
               reliability_reason(p.reliability, p.completed, p.failures)]
    if verified:
        reasons.append(verified_reason(verified, {}))
    if history is not None:
        reasons.append(owner_history_reason(history))
    if affinity is not None:
        reasons += _affinity_reasons(p.provider_id, p.attributes, affinity)
    return Match(ranked.rank, p.provider_id, ranked.utility, score, p.price, ceiling,
                 score_term(score, c.min_score), price_term(p.price, score, c), tuple(reasons),
                 currency=p.currency, rating_weight=p.rating_weight, reliability=p.reliability,
                 completed=p.completed, failures=p.failures,
                 adjusted_price=p.price - c.premium_per_star * (score - c.min_score) // STAR,
                 verified=verified, owner=p.owner.lower(), owner_history=history,
                 category=p.category, region=p.region, attributes=p.attributes)


def test_an_index_updated_by_events_answers_like_one_built_from_scratch() -> None:
    rng = random.Random(6)
    for _ in range(100):
        providers, criteria = random_dataset(rng)
        current = {p.provider_id: p for p in providers}
        index = ProviderIndex.from_views(providers)
        for _ in range(rng.randint(1, 30)):
            pid = rng.choice(list(current) + [len(current) + 1])
            if pid not in current:
                current[pid] = random_provider(rng, pid, criteria)
                index.upsert(current[pid])
                continue
            p = current[pid]
            action = rng.randrange(8)
            if action == 0:
                p = replace(p, price=random_provider(rng, pid, criteria).price)
                index.update_listing(pid, price=p.price)
            elif action == 1:
                p = replace(p, attributes=rng.getrandbits(6), region=rng.randint(1, 3))
                index.update_listing(pid, attributes=p.attributes, region=p.region)
            elif action == 2:
                stars, weight = rng.randint(1, 5), rng.choice([1_000, rng.randint(1, 10**6)])
                p = replace(p, rating_weight=p.rating_weight + weight,
                            weighted_stars=p.weighted_stars + stars * weight)
                index.add_rating(pid, stars, weight)
            elif action == 3:
                failure = rng.random() < 0.3
                completed, failures = count_outcome(p.completed, p.failures, failure=failure)
                p = replace(p, completed=completed, failures=failures)
                index.record_outcome(pid, failure=failure)
            elif action == 4:
                attestor, bits = rng.randint(1, 4), rng.choice([0, rng.getrandbits(6)])
                records = {**p.attestations, attestor: bits}
                p = replace(p, attestations={a: b for a, b in records.items() if b})
                index.attest(pid, attestor, bits)
            elif action == 5:
                currency = rng.choice([0, 1])
                p = replace(p, currency=currency)
                index.update_listing(pid, currency=currency)
            elif action == 6:  # a listing rewritten whole, perhaps under another owner
                p = replace(random_provider(rng, pid, criteria), owner=rng.choice(OWNERS))
                index.upsert(p)
            else:
                p = replace(p, active=not p.active)
                index.set_active(pid, p.active)
            current[pid] = p
        fresh = ProviderIndex.from_views(current.values(), named_attestors=index.named_attestors())
        assert rank(index, criteria, k=50) == rank(fresh, criteria, k=50)
        assert [index.view(pid) for pid in current] == list(current.values())
        assert_owner_histories(index, list(current.values()))


def owner_history_by_scan(providers: list[ProviderView], owner: str, excluding: int | None
                          ) -> OwnerHistory:
    """The owner's listings (but `excluding`) summed one by one: what the index's running
    sums must equal."""
    mine = [p for p in providers if p.owner.lower() == owner.lower()
            and p.provider_id != excluding]
    weight, stars = sum(p.rating_weight for p in mine), sum(p.weighted_stars for p in mine)
    return OwnerHistory(owner.lower(), len(mine), weight, weighted_score(weight, stars),
                        sum(p.completed for p in mine), sum(p.failures for p in mine))


def assert_owner_histories(index: ProviderIndex, providers: list[ProviderView]) -> None:
    with index.read() as columns:
        for owner in [*OWNERS, "0x" + "ee" * 20]:
            for excluding in [None, 10**6, *(p.provider_id for p in providers)]:
                assert columns.owner_history(owner, excluding) == owner_history_by_scan(
                    providers, owner, excluding)


def test_owner_histories_are_exact_sums_also_beyond_64_bits() -> None:
    rng = random.Random(8)
    for _ in range(50):
        providers, _criteria = random_dataset(rng)
        providers = [p for p in providers if p.price < PRICE_CAP]
        for p in rng.sample(providers, k=min(3, len(providers))):  # sums beyond 64 bits
            providers[providers.index(p)] = replace(p, rating_weight=UINT64_MAX // 5,
                                                    weighted_stars=UINT64_MAX // 5 * 5)
        columns: dict[str, Any] = {
            name: [getattr(p, name) for p in providers]
            for name in ("provider_id", "owner", "category", "region", "currency", "price",
                         "active", "completed", "failures")}
        for name in ("attributes", "rating_weight", "weighted_stars"):  # as the store loads them
            columns[name] = np.array([getattr(p, name) for p in providers], np.uint64)
        index = ProviderIndex.from_columns(**columns)
        assert_owner_histories(index, providers)
        for _ in range(5):  # then updates, some to sums beyond 64 bits, some back down
            i = rng.randrange(len(providers))
            p = providers[i]
            weight = rng.choice([0, 1_000, UINT64_MAX // 5])
            stars = rng.choice([weight, 5 * weight])
            if rng.random() < 0.5:
                providers[i] = replace(p, rating_weight=weight, weighted_stars=stars)
                index.set_rating(p.provider_id, weight, stars)
            else:
                providers[i] = replace(p, rating_weight=weight, weighted_stars=stars,
                                       owner=rng.choice(OWNERS))
                index.upsert(providers[i])
            assert_owner_histories(index, providers)


def test_top_k_over_a_large_index_with_many_ties_equals_the_reference() -> None:
    # Large enough for the sampled pre-filter of the top-k; few distinct prices and scores, so
    # whole blocks of providers tie and only the provider id orders them.
    rng = random.Random(7)
    providers = [
        ProviderView(pid, OWNERS[pid % 5], 1, rng.randint(1, 2), rng.getrandbits(3), 0,
                     rng.choice([6, 7, 8]) * FINNEY, rng.random() > 0.05, 10_000,
                     rng.choice([35_000, 40_000, 45_000]))
        for pid in range(1, 20_001)
    ]
    rng.shuffle(providers)  # rows in no particular id order
    index = ProviderIndex.from_views(providers)
    criteria = CriteriaView(category=1, max_price=8 * FINNEY, premium_per_star=FINNEY, version=1)
    affinity = Affinity(traits=(TraitAffinity(1, -0.25, "t"),),
                        providers=(ProviderAffinity(providers[0].provider_id, 0.5, "p"),))
    for k in (1, 20, 500):
        for personal in (None, affinity):
            ranking = rank(index, criteria, affinity=personal, k=k)
            assert [(m.provider_id, m.utility) for m in ranking.matches] == rank_reference(
                providers, criteria, personal, k)


def test_the_ceiling_table_is_the_contracts_ceiling_below_the_cap() -> None:
    # Exact wherever the score-adjusted ceiling is below PRICE_CAP (every column price is), at
    # least PRICE_CAP elsewhere, and -1 below the minimum score: no price passes there.
    rng = random.Random(9)
    for _ in range(500):
        criteria = CriteriaView(
            category=1,
            min_score=rng.choice([0, 1, 30_000, MAX_SCORE - 1, MAX_SCORE, rng.randrange(50_001)]),
            max_price=rng.choice([0, 1, 10**17, PRICE_CAP - 1, PRICE_CAP - rng.randrange(10**6),
                                  PRICE_CAP, UINT96_MAX, rng.randrange(PRICE_CAP)]),
            premium_per_star=rng.choice([0, 1, 9_999, 10_000, 5 * 10**15, rng.randrange(10**20),
                                         rng.randrange(10**4), (PRICE_CAP // 10_000) * 3,
                                         (PRICE_CAP - 1) * 10_000, PRICE_CAP * 10_000 + 5,
                                         UINT96_MAX]))
        table = ceiling_by_score(criteria)
        m = criteria.min_score
        assert table.shape == (MAX_SCORE + 1,) and bool(np.all(table[:m] == -1))
        for score in {m, m + 1, MAX_SCORE, *(rng.randint(m, MAX_SCORE) for _ in range(50))}:
            if score > MAX_SCORE:
                continue
            exact, held = price_ceiling(criteria, score), int(table[score])
            assert held == exact if exact < PRICE_CAP else held >= PRICE_CAP
        # never decreasing in the score: a better score never lowers the ceiling
        assert bool(np.all(np.diff(table[m:]) >= 0))
