"""Hypothesis: the vectorised engine equals the scalar rule and the reference on any valid input.

Strategies cover the full on-chain field widths (uint96 prices and ceilings, uint64 masks, scores
from 0 to 5 stars, rating weights as large as the index holds, uint16 reliability counters,
attestations by named and removed attestors, currencies, owners), with values clustered around the
edges the maths can get wrong.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest import MonkeyPatch

from marketplace.domain import MAX_SCORE, UINT64_MAX, UINT96_MAX
from marketplace.matching import partition, ranking
from marketplace.matching.eligibility import (
    CriteriaView,
    ProviderView,
    first_failed_criterion,
    is_eligible,
    price_ceiling,
)
from marketplace.matching.index import PRICE_CAP, ProviderIndex
from marketplace.matching.ranking import Affinity, ProviderAffinity, TraitAffinity, rank
from marketplace.matching.reference import rank_reference
from marketplace.matching.vectorised import first_failed_criteria

EDGES = [0, 1, 10**17, PRICE_CAP - 1, PRICE_CAP, PRICE_CAP + 1, 2**63, UINT96_MAX]
amounts = st.one_of(st.sampled_from(EDGES), st.integers(0, UINT96_MAX),
                    st.integers(1, 200).map(lambda n: n * 10**15))
masks = st.one_of(st.integers(0, 15), st.sampled_from([0, 1 << 63, UINT64_MAX]),
                  st.integers(0, UINT64_MAX))


OWNERS = ["0x" + "01" * 20, "0x" + "02" * 20, "0x" + "03" * 20]
counters = st.sampled_from([0, 1, 65_535]) | st.integers(0, 65_535) | st.integers(0, 20)


@st.composite
def providers(draw: Any, provider_id: int) -> ProviderView:
    weight = draw(st.integers(0, UINT64_MAX // 5) | st.integers(0, 50_000)
                  | st.sampled_from([0, 1_000, 20_000]))
    total = draw(st.integers(weight, 5 * weight)) if weight else 0
    return ProviderView(
        provider_id=provider_id,
        owner=draw(st.sampled_from(OWNERS)),
        category=draw(st.integers(1, 2)),
        region=draw(st.integers(0, 3)),
        attributes=draw(masks),
        currency=draw(st.sampled_from([0, 0, 1])),
        price=draw(amounts),
        active=draw(st.booleans()),
        rating_weight=weight,
        weighted_stars=total,
        completed=draw(counters),
        failures=draw(counters),
        attestations=draw(st.dictionaries(st.integers(1, 4), masks.filter(bool), max_size=3)),
    )


@st.composite
def datasets(draw: Any) -> tuple[list[ProviderView], CriteriaView | None]:
    criteria = draw(st.none() | st.builds(
        CriteriaView,
        category=st.integers(1, 2),
        region=st.integers(0, 3),
        currency=st.sampled_from([0, 0, 1]),
        verified_attributes=st.sampled_from([0, 0, 1, 3]) | masks,
        trusted_attestors=st.integers(0, 15),
        min_rating_weight=st.sampled_from([0, 0, 1_000]) | st.integers(0, 2**32 - 1),
        min_reliability=st.sampled_from([0, 0, 9_000]) | st.integers(0, 10_000),
        blocked_owners=st.frozensets(st.sampled_from(OWNERS), max_size=1),
        min_score=st.sampled_from([0, 35_000, MAX_SCORE]) | st.integers(0, MAX_SCORE),
        max_price=amounts,
        premium_per_star=amounts,
        required_attributes=masks,
        refused_attributes=masks,
        score_weight=st.integers(0, 10_000),
        price_weight=st.integers(0, 10_000),
        version=st.integers(0, 3),
        blocked=st.frozensets(st.integers(1, 30), max_size=3),
    ))
    listed = [draw(providers(pid)) for pid in range(1, draw(st.integers(1, 25)) + 1)]
    if criteria is not None:  # some providers sit on, or one wei off, their ceiling
        for i in draw(st.lists(st.integers(0, len(listed) - 1), max_size=5)):
            ceiling = price_ceiling(criteria, listed[i].score)
            price = min(max(ceiling + draw(st.sampled_from([-1, 0, 1])), 0), UINT96_MAX)
            listed[i] = replace(listed[i], price=price)
    return listed, criteria


affinities = st.none() | st.builds(
    Affinity,
    traits=st.lists(st.integers(0, 63), unique=True, max_size=4).flatmap(
        lambda bits: st.tuples(*[st.builds(TraitAffinity, st.just(b),
                                           st.sampled_from([-0.5, -0.25, 0.125]), st.just("t"))
                                 for b in bits])),
    providers=st.lists(st.integers(1, 30), unique=True, max_size=3).flatmap(
        lambda ids: st.tuples(*[st.builds(ProviderAffinity, st.just(i),
                                          st.sampled_from([-0.25, 0.25]), st.just("p"))
                                for i in ids])),
)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_vectorised_first_failures_equal_the_scalar_rule(
    data: tuple[list[ProviderView], CriteriaView | None],
) -> None:
    listed, criteria = data
    named = frozenset({1, 3})
    with ProviderIndex.from_views(listed, named_attestors=named).read() as columns:
        codes = first_failed_criteria(columns, criteria).tolist()
    assert codes == [int(first_failed_criterion(p, criteria, named)) for p in listed]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), affinities, st.integers(1, 10))
def test_the_top_k_equals_the_brute_force_reference(
    data: tuple[list[ProviderView], CriteriaView | None], affinity: Affinity | None, k: int
) -> None:
    listed, criteria = data
    named = frozenset({2, 3})
    index = ProviderIndex.from_views(listed, named_attestors=named)
    ranking = rank(index, criteria, affinity=affinity, k=k)
    assert [(m.provider_id, m.utility) for m in ranking.matches] == rank_reference(
        listed, criteria, affinity, k, named)


# ---------------------------------------------------------------- the partitioned fast path
# Hypothesis draws a seed; the listings, the writes and the criteria come from it (drawing
# dozens of listings field by field through strategies takes seconds an example).


def _listing(rng: random.Random, pid: int) -> ProviderView:
    weight = rng.choice([0, 1_000, 20_000, rng.randint(0, 300_000),
                         rng.randint(0, UINT64_MAX // 5)])
    return ProviderView(
        provider_id=pid, owner=rng.choice(OWNERS), category=rng.choice([1, 1, 1, 2]),
        region=rng.randint(0, 3), attributes=rng.choice([0, 1, 2, 3, rng.getrandbits(64)]),
        currency=rng.choice([0, 0, 0, 1]),
        price=rng.choice([rng.randint(0, 200) * 10**15, rng.choice(EDGES)]),
        active=rng.random() < 0.85, rating_weight=weight,
        weighted_stars=rng.randint(weight, 5 * weight),
        completed=rng.choice([0, rng.randint(0, 300), 65_535]),
        failures=rng.choice([0, rng.randint(0, 20), 65_535]),
        attestations={a: rng.choice([1, 3, rng.getrandbits(64) | 1])
                      for a in rng.sample(range(1, 5), rng.randint(0, 2))},
    )


def _criteria(rng: random.Random) -> CriteriaView:
    """Criteria most listings pass (each filter mostly off), so that rankings are long."""
    def rare(value: int) -> int:
        return value if rng.random() < 0.25 else 0
    return CriteriaView(
        category=1, region=rare(1), currency=rng.choice([0, 0, 1]),
        min_score=rng.choice([0, 20_000, 35_000, 45_000, MAX_SCORE, rng.randint(0, MAX_SCORE)]),
        max_price=rng.choice([10**17, 10**18, PRICE_CAP, UINT96_MAX, rng.choice(EDGES)]),
        premium_per_star=rng.choice([0, 10**16, rng.choice(EDGES)]),
        required_attributes=rare(1), refused_attributes=rare(2), verified_attributes=rare(1),
        trusted_attestors=rng.choice([0, 2, 6, 15]), min_rating_weight=rare(1_000),
        min_reliability=rare(5_000),
        blocked=frozenset(rng.sample(range(1, 40), rng.randint(0, 3))),
        blocked_owners=frozenset(rng.sample(OWNERS, rng.randint(0, 1))),
        score_weight=rng.randint(0, 10_000), price_weight=rng.randint(0, 10_000), version=1,
    )


def _affinity(rng: random.Random, count: int) -> Affinity | None:
    if rng.random() < 0.4:
        return None
    traits = tuple(TraitAffinity(bit, rng.choice([-0.5, -0.25, 0.05, 0.125]), "t")
                   for bit in sorted(rng.sample(range(4), rng.randint(0, 3))))
    favoured = tuple(ProviderAffinity(pid, rng.choice([-0.25, 0.25, 0.5]), "p")
                     for pid in rng.sample(range(1, count + 1), min(count, rng.randint(0, 3))))
    return Affinity(traits, favoured)


def _change(rng: random.Random, index: ProviderIndex, listed: list[ProviderView],
            named: set[int]) -> None:
    """One write from the chain, to the index and to the plain list the reference reads."""
    i = rng.randrange(len(listed))
    p = listed[i]
    kind = rng.choice(["active", "listing", "rating", "outcomes", "category", "attest",
                       "attestor", "new"])
    if kind == "new":
        new = _listing(rng, max(q.provider_id for q in listed) + 1)
        index.upsert(new)
        listed.append(new)
    elif kind == "attestor":
        attestor, on = rng.randint(1, 4), rng.random() < 0.5
        index.set_attestor(attestor, None, on)
        (named.add if on else named.discard)(attestor)
    elif kind == "active":
        listed[i] = replace(p, active=not p.active)
        index.set_active(p.provider_id, listed[i].active)
    elif kind == "listing":
        listed[i] = replace(p, region=rng.randint(0, 3), currency=rng.choice([0, 1]),
                            price=rng.randint(0, 200) * 10**15)
        index.update_listing(p.provider_id, region=listed[i].region,
                             currency=listed[i].currency, price=listed[i].price)
    elif kind == "rating":
        weight = rng.randint(0, 100_000)
        listed[i] = replace(p, rating_weight=weight, weighted_stars=rng.randint(weight, 5 * weight))
        index.set_rating(p.provider_id, weight, listed[i].weighted_stars)
    elif kind == "outcomes":
        listed[i] = replace(p, completed=rng.randint(0, 50), failures=rng.randint(0, 50))
        index.set_outcomes(p.provider_id, listed[i].completed, listed[i].failures)
    elif kind == "category":
        listed[i] = replace(p, category=3 - p.category)
        index.upsert(listed[i])
    else:
        attestor, bits = rng.randint(1, 4), rng.choice([0, 1, 3])
        index.attest(p.provider_id, attestor, bits)
        attested = {a: b for a, b in p.attestations.items() if a != attestor}
        listed[i] = replace(p, attestations={**attested, **({attestor: bits} if bits else {})})


def _bulk_index(listed: list[ProviderView], named: set[int]) -> ProviderIndex:
    """`from_columns`' bulk load of `listed` (prices below PRICE_CAP), then its attestations."""
    wide = {"attributes", "rating_weight", "weighted_stars"}  # beyond int64
    index = ProviderIndex.from_columns(owner=[p.owner for p in listed], **{
        field: np.asarray([getattr(p, field) for p in listed],
                          np.uint64 if field in wide else np.int64)
        for field in ("provider_id", "category", "region", "attributes", "currency", "price",
                      "active", "rating_weight", "weighted_stars", "completed", "failures")})
    for attestor in named:
        index.set_attestor(attestor, None, True)
    for p in listed:
        for attestor, bits in p.attestations.items():
            index.attest(p.provider_id, attestor, bits)
    return index


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from([1, 2, 3, 10_000]),
       st.sampled_from([(32, 64), (1, 1), (2, 3), (4, 8)]))
def test_the_partitioned_pruned_ranking_equals_the_straightforward_rule(
    seed: int, sample: int, front: tuple[int, int]
) -> None:
    """The index keeps its per-(category, currency) partitions right through every kind of
    write (and its bulk load), in score order when read or frozen, and ranking from them, with
    the bound pruning even these small sets (from the partition's front, also one that writes
    since left behind, shallow enough to leave listings out, or from every listing to every
    third as the sample), gives exactly the reference's top k and eligible count."""
    rng = random.Random(seed)
    depth, block = front
    with MonkeyPatch.context() as patch:
        patch.setattr(ranking, "PRUNE_FROM", 0)  # prune even these few listings
        patch.setattr(ranking, "PRUNE_SAMPLE", sample)
        patch.setattr(ranking, "FRONT_DEPTH", depth)
        patch.setattr(partition, "FRONT_DEPTH", depth)
        patch.setattr(partition, "_FRONT_BLOCK", block)
        listed = [_listing(rng, pid) for pid in range(1, rng.randint(1, 80) + 1)]
        named = {2, 3}
        if rng.random() < 0.5:
            listed = [replace(p, price=min(p.price, PRICE_CAP - 1)) for p in listed]
            index = _bulk_index(listed, named)
        else:
            index = ProviderIndex.from_views(listed, named_attestors=named)
        for _ in range(rng.randint(0, 30)):
            _change(rng, index, listed, named)
        if rng.random() < 0.5:  # a frozen index sorted at freezing, or a copy written since
            index.freeze()
            if rng.random() < 0.5:
                index = index.copy()
                for _ in range(rng.randint(1, 10)):
                    _change(rng, index, listed, named)
        frozen = frozenset(named)
        for _ in range(5):
            criteria, affinity, k = _criteria(rng), _affinity(rng, len(listed)), rng.randint(1, 8)
            found = rank(index, criteria, affinity=affinity, k=k)
            assert [(m.provider_id, m.utility) for m in found.matches] == rank_reference(
                listed, criteria, affinity, k, frozen)
            assert found.eligible_count == sum(is_eligible(p, criteria, frozen) for p in listed)
