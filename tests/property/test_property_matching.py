"""Hypothesis: the vectorised engine equals the scalar rule and the reference on any valid input.

Strategies cover the full on-chain field widths (uint96 prices and ceilings, uint64 masks, scores
from 0 to 5 stars, rating weights as large as the index holds, uint16 reliability counters,
attestations by named and removed attestors, currencies, owners), with values clustered around the
edges the maths can get wrong.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.domain import MAX_SCORE, UINT64_MAX, UINT96_MAX
from marketplace.matching.eligibility import (
    CriteriaView,
    ProviderView,
    first_failed_criterion,
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
