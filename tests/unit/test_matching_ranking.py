"""Ranking: the customer's weights decide, affinity adjusts, lower ids win ties, reasons say why."""

from __future__ import annotations

from dataclasses import astuple, fields, replace
from typing import Any

import pytest

from marketplace.catalogue import lookup
from marketplace.domain import Criterion
from marketplace.matching.eligibility import CriteriaView, ProviderView
from marketplace.matching.explain import explain_exclusion, format_stars
from marketplace.matching.index import ProviderIndex
from marketplace.matching.ranking import (
    Affinity,
    Match,
    ProviderAffinity,
    TraitAffinity,
    _new_match,
    exclusion_counts,
    rank,
    utility,
)
from marketplace.units import format_wei

COMPACT = lookup("attribute", "compact_car").code
ELECTRIC = lookup("attribute", "electric_vehicle").code
SMOKER = lookup("attribute", "smoker").code
CRITERIA = CriteriaView(category=1, region=0, min_score=40_000, max_price=10**17,
                        premium_per_star=0, score_weight=5_000, price_weight=5_000, version=2)


OWNER = "0x" + "0c" * 20


def provider(pid: int, stars: tuple[int, int], price: int, attributes: int = 0) -> ProviderView:
    """`count` ratings of 4,000 weight each (a fifth of the prior) with `total` stars."""
    count, total = stars
    return ProviderView(pid, OWNER, 1, 1, attributes, 0, price, True, count * 4_000,
                        total * 4_000)


# score = (20,000 * 35,000 + 10,000 * 4,000 * total) // (20,000 + 4,000 * count)
#       = (5 * 35,000 + 10,000 * total) // (5 + count)
GOOD = provider(2, (20, 95), 9 * 10**16)  # 45,000: 4.5 stars
CHEAP = provider(3, (10, 45), 5 * 10**16)  # 41,666


def test_the_customers_weights_decide_between_score_and_price() -> None:
    index = ProviderIndex.from_views([GOOD, CHEAP])
    assert GOOD.score > CHEAP.score and GOOD.price > CHEAP.price
    by_score = replace(CRITERIA, score_weight=10_000, price_weight=0)
    by_price = replace(CRITERIA, score_weight=0, price_weight=10_000)
    assert [m.provider_id for m in rank(index, by_score).matches] == [2, 3]
    assert [m.provider_id for m in rank(index, by_price).matches] == [3, 2]


def test_equal_values_are_ordered_by_provider_id() -> None:
    clones = [replace(GOOD, provider_id=pid) for pid in (9, 4, 7, 5)]
    ranking = rank(ProviderIndex.from_views(clones), CRITERIA, k=3)
    assert [m.provider_id for m in ranking.matches] == [4, 5, 7]
    assert [m.rank for m in ranking.matches] == [1, 2, 3]
    assert ranking.eligible_count == 4


def test_each_result_says_its_score_and_price_against_the_customers_own_limits() -> None:
    p = provider(1, (20, 90), 88 * 10**15)  # (175,000 + 900,000) // 25 = 43,000: 4.3 stars
    match = rank(ProviderIndex.from_views([p]), CRITERIA).matches[0]
    assert match.reasons[:3] == (
        "score 4.3 at rating weight 80, above your 4.0",
        "price 0.088 ETH, 12% under your ceiling",
        "reliability 90% (the starting figure: no bookings yet)",
    )
    assert (match.rating_weight, match.reliability, match.owner_history) == (80_000, 9_000, None)
    assert (match.score, match.price, match.ceiling) == (43_000, 88 * 10**15, 10**17)


def test_a_provider_exactly_at_the_limits_says_so() -> None:
    p = provider(1, (0, 0), 10**17)  # a new provider: 3.5 stars
    criteria = replace(CRITERIA, min_score=35_000)
    assert rank(ProviderIndex.from_views([p]), criteria).matches[0].reasons == (
        "score 3.5 (new listing, no ratings yet), exactly your minimum",
        "price 0.1 ETH, at your ceiling",
        "reliability 90% (the starting figure: no bookings yet)",
        "new listing; its owner has no other listings",
    )


def test_a_new_listing_shows_its_owners_history_and_verified_attributes_name_who() -> None:
    new = replace(provider(1, (0, 0), 9 * 10**16, 1 << ELECTRIC | 1 << COMPACT),
                  attestations={1: 1 << ELECTRIC, 2: 1 << ELECTRIC | 1 << SMOKER})
    older = replace(provider(2, (20, 90), 99 * 10**16), completed=40, failures=2, active=False)
    index = ProviderIndex.from_views([new, older])
    index.set_attestor(2, "0x" + "12" * 19 + "ab", True)
    criteria = replace(CRITERIA, min_score=0, required_attributes=1 << ELECTRIC,
                       verified_attributes=1 << ELECTRIC, trusted_attestors=0b10)
    match = rank(index, criteria).matches[0]
    assert match.reasons[3:] == (
        "verified: 'electric vehicle' by attestor #1 and attestor #2 (0x1212…12ab) (an "
        "attestor you trust)",
        "new listing; its owner's one other listing: 4.3 stars at rating weight 80, "
        "reliability 94.2%",
    )
    assert [(v.attribute, v.attestors, v.trusted) for v in match.verified] == [
        (ELECTRIC, (1, 2), True)]
    assert match.owner_history is not None and match.owner_history.listings == 1


def test_reliability_reads_with_its_counts() -> None:
    p = replace(provider(1, (20, 90), 8 * 10**16), completed=48, failures=1)
    reasons = rank(ProviderIndex.from_views([p]), CRITERIA).matches[0].reasons
    assert reasons[2] == "reliability 96.6% (48 completed, one failure)"


def test_prices_in_a_token_read_in_its_symbol() -> None:
    from marketplace.units import Currency

    p = replace(provider(1, (20, 90), 12_500_000), currency=1)
    index = ProviderIndex.from_views([p])
    index.set_currency(Currency(1, "DUSD", 6, "0x" + "99" * 20))
    criteria = replace(CRITERIA, currency=1, max_price=20_000_000)
    match = rank(index, criteria).matches[0]
    assert match.currency == 1
    assert match.reasons[1] == "price 12.5 DUSD, 37% under your ceiling"


def test_a_complained_about_trait_ranks_every_provider_sharing_it_lower_and_says_why() -> None:
    compact = provider(1, (20, 90), 80 * 10**15, 1 << COMPACT)
    plain = provider(2, (20, 90), 85 * 10**15)
    index = ProviderIndex.from_views([compact, plain])
    assert rank(index, CRITERIA).matches[0].provider_id == 1  # cheaper wins without a profile
    reason = "you complained about 'uncomfortable vehicle' on providers with 'compact car'"
    affinity = Affinity(traits=(TraitAffinity(COMPACT, -0.5, reason),))
    ranking = rank(index, CRITERIA, affinity=affinity)
    assert [m.provider_id for m in ranking.matches] == [2, 1]
    assert f"ranked lower: {reason}" in ranking.matches[1].reasons
    assert not any("ranked lower" in r for r in ranking.matches[0].reasons)


def test_liked_traits_and_providers_say_so_once() -> None:
    p = provider(1, (20, 90), 80 * 10**15, 1 << ELECTRIC | 1 << COMPACT)
    affinity = Affinity(
        traits=(TraitAffinity(ELECTRIC, 0.05, "you rated two similar providers highly"),
                TraitAffinity(COMPACT, 0.02, "you rated one similar provider highly")),
        providers=(ProviderAffinity(1, 0.3, "you rated this provider 5 stars"),),
    )
    reasons = rank(ProviderIndex.from_views([p]), CRITERIA, affinity=affinity).matches[0].reasons
    assert reasons[-2:] == ("you rated this provider 5 stars",
                           "you rated two similar providers highly")


def test_learned_weights_replace_the_criteria_weights_and_the_note_says_so() -> None:
    index = ProviderIndex.from_views([GOOD, CHEAP])
    stated = replace(CRITERIA, score_weight=0, price_weight=10_000)
    learned = Affinity(score_weight=10_000, price_weight=0, weights_reason="learned from you")
    plain = rank(index, stated)
    personal = rank(index, stated, affinity=learned)
    assert [m.provider_id for m in plain.matches] == [3, 2]
    assert [m.provider_id for m in personal.matches] == [2, 3]
    assert plain.notes == ("ranked 0% on score and 100% on price, as your criteria say",)
    assert personal.notes == ("ranked 100% on score and 0% on price: learned from you",)


def test_the_utility_of_a_provider_follows_the_documented_formula() -> None:
    p = provider(1, (20, 90), 80 * 10**15, 1 << SMOKER)  # 43,000
    criteria = replace(CRITERIA, premium_per_star=10**16, score_weight=6_000, price_weight=2_000)
    ceiling = 10**17 + 10**16 * 0.3
    base = (6_000 * (3_000 / 10_000) + 2_000 * (1 - 80 * 10**15 / ceiling)) / 8_000
    assert utility(p, criteria, None) == pytest.approx(base, rel=1e-12)
    trait = Affinity(traits=(TraitAffinity(SMOKER, -0.25, "smoke"),))
    assert utility(p, criteria, trait) == pytest.approx(base - 0.25, rel=1e-12)


def test_without_criteria_or_eligible_providers_the_ranking_is_empty() -> None:
    index = ProviderIndex.from_views([GOOD])
    assert rank(index, None).matches == ()
    assert rank(index, replace(CRITERIA, version=0)).matches == ()
    assert rank(index, replace(CRITERIA, region=5)).eligible_count == 0
    assert rank(index, CRITERIA, k=0).matches == ()
    with pytest.raises(ValueError):
        rank(index, CRITERIA, k=-1)


def test_a_match_built_without_its_init_is_the_match_its_init_builds() -> None:
    index = ProviderIndex.from_views([GOOD, CHEAP])
    for found in rank(index, CRITERIA).matches:
        values = tuple(getattr(found, f.name) for f in fields(Match))
        built = _new_match(values)
        assert type(built) is Match
        assert built == Match(*values) == found
        assert astuple(built) == astuple(found)
        assert hash(built) == hash(found)
        with pytest.raises(AttributeError):
            built.rank = 2  # type: ignore[misc]
    with pytest.raises(ValueError):  # every field, no fewer
        _new_match(values[:-1])


def test_affinity_must_be_well_formed() -> None:
    with pytest.raises(ValueError):
        Affinity(traits=(TraitAffinity(1, -1.0, "a"), TraitAffinity(1, 0.1, "b")))
    with pytest.raises(ValueError):
        Affinity(traits=(TraitAffinity(64, -1.0, "a"),))
    with pytest.raises(ValueError):
        Affinity(providers=(ProviderAffinity(1, float("nan"), "a"),))
    with pytest.raises(ValueError):
        Affinity(score_weight=1)


@pytest.mark.parametrize(
    ("change", "criterion", "detail"),
    [
        ({"active": False}, Criterion.PROVIDER_INACTIVE, "the provider has paused its listing"),
        ({"category": 2}, Criterion.CRITERIA_NOT_SET,
         "the provider offers Cleaning; these criteria are for Rides"),
        ({"region": 2}, Criterion.REGION, "the provider works in Espoo; you chose Helsinki"),
        ({"provider_id": 13}, Criterion.BLOCKED, "you blocked this provider"),
        ({"attributes": 0}, Criterion.REQUIRED_ATTRIBUTES,
         "the provider lacks 'child seat', which you require"),
        ({"attributes": 1 << 8 | 1 << 15 | 1 << 2}, Criterion.REFUSED_ATTRIBUTES,
         "the provider has 'pet friendly' and 'smoker', which you refuse"),
        ({"currency": 1}, Criterion.CURRENCY,
         "the provider prices in currency 1; your criteria are in ETH"),
        ({"owner": "0x" + "0d" * 20}, Criterion.OWNER_BLOCKED,
         f"you blocked its owner 0x{'0d' * 20}, and so every listing the owner has"),
        ({"attestations": {2: 1 << 8}}, Criterion.VERIFIED_ATTRIBUTES,
         "'child seat' is not verified by an attestor you trust (you trust #1)"),
        ({"rating_weight": 40_000, "weighted_stars": 120_000}, Criterion.MIN_SCORE,
         "score 3.2, below your minimum 4.0"),
        ({"rating_weight": 79_000, "weighted_stars": 360_000}, Criterion.TRACK_RECORD,
         "track record 79 (rating weight in minimum-fee ratings), below your minimum 80"),
        ({"failures": 2}, Criterion.RELIABILITY,
         "reliability 75% (0 completed, 2 failed), below your minimum 80%"),
        ({"price": 12 * 10**16}, Criterion.MAX_PRICE,
         "price 0.12 ETH is 16% above your ceiling of 0.103 ETH for a 4.3-star provider"),
        ({"price": 103 * 10**15 + 5}, Criterion.MAX_PRICE,
         "price 0.103 ETH is 5 wei above your ceiling of 0.103 ETH for a 4.3-star provider"),
        ({}, Criterion.NONE, "meets all your criteria"),
    ],
)
def test_an_exclusion_is_the_contracts_first_failed_criterion_with_its_numbers(
    change: dict[str, Any], criterion: Criterion, detail: str
) -> None:
    criteria = replace(CRITERIA, region=1, premium_per_star=10**16, blocked=frozenset({13}),
                       blocked_owners=frozenset({"0x" + "0d" * 20}),
                       required_attributes=1 << 8, refused_attributes=1 << 15 | 1 << 2,
                       verified_attributes=1 << 8, trusted_attestors=0b1,
                       min_rating_weight=80_000, min_reliability=8_000)
    p = replace(provider(1, (20, 90), 9 * 10**16, 1 << 8), **{"attestations": {1: 1 << 8},
                                                                 **change})
    exclusion = explain_exclusion(p, criteria)
    assert exclusion.criterion is criterion
    assert exclusion.reason == criterion.reason
    assert exclusion.detail == detail
    assert exclusion.excluded == (criterion is not Criterion.NONE)


def test_an_exclusion_without_criteria_names_the_category() -> None:
    exclusion = explain_exclusion(GOOD, None)
    assert exclusion.criterion is Criterion.CRITERIA_NOT_SET
    assert exclusion.detail == "you have not set criteria for Rides yet"


def test_exclusion_counts_add_up_to_every_provider() -> None:
    providers = [GOOD, CHEAP, replace(GOOD, provider_id=4, active=False),
                 replace(GOOD, provider_id=5, price=2 * 10**17)]
    counts = exclusion_counts(ProviderIndex.from_views(providers), CRITERIA)
    assert counts[Criterion.NONE] == 2
    assert counts[Criterion.PROVIDER_INACTIVE] == 1
    assert counts[Criterion.MAX_PRICE] == 1
    assert sum(counts.values()) == 4


def test_amounts_and_stars_read_naturally() -> None:
    assert format_wei(10**17) == "0.1 ETH"
    assert format_wei(123_456_789_012_345_678) == "0.123457 ETH"
    assert format_wei(20 * 10**9) == "20 gwei"
    assert format_wei(5) == "5 wei"
    assert format_stars(45_500) == "4.6"
    assert format_stars(45_449) == "4.5"
