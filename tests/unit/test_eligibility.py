"""The Python eligibility rule: each criterion in the contract's order, and the score maths."""

from __future__ import annotations

from dataclasses import replace

import pytest

from marketplace.domain import Criterion, bayesian_score
from marketplace.matching.eligibility import (
    CriteriaView,
    ProviderView,
    first_failed_criterion,
    is_eligible,
    price_ceiling,
)

PROVIDER = ProviderView(
    provider_id=3, category=1, region=7, attributes=0b0110, price=10**17, active=True
)
CRITERIA = CriteriaView(
    category=1,
    region=7,
    min_score=30_000,
    max_price=10**17,
    premium_per_star=2 * 10**16,
    required_attributes=0b0010,
    refused_attributes=0b1000,
    version=4,
)


def test_new_provider_scores_the_prior_mean_of_three_and_a_half_stars() -> None:
    assert bayesian_score(0, 0) == 35_000


def test_score_moves_toward_the_average_rating_and_floors_like_solidity() -> None:
    assert bayesian_score(1, 5) == (5 * 35_000 + 50_000) // 6
    assert bayesian_score(3, 4) == (175_000 + 40_000) // 8
    assert bayesian_score(1000, 5000) <= 50_000


def test_price_ceiling_adds_the_premium_per_star_above_the_minimum() -> None:
    assert price_ceiling(CRITERIA, 30_000) == 10**17
    assert price_ceiling(CRITERIA, 45_000) == 10**17 + (2 * 10**16 * 15_000) // 10_000


def test_price_ceiling_is_zero_below_the_minimum_score() -> None:
    assert price_ceiling(CRITERIA, 29_999) == 0


def test_a_provider_meeting_every_criterion_is_eligible() -> None:
    assert first_failed_criterion(PROVIDER, CRITERIA) is Criterion.NONE
    assert is_eligible(PROVIDER, CRITERIA)


@pytest.mark.parametrize(
    ("provider", "criteria", "expected"),
    [
        (replace(PROVIDER, active=False), CRITERIA, Criterion.PROVIDER_INACTIVE),
        (PROVIDER, None, Criterion.CRITERIA_NOT_SET),
        (PROVIDER, replace(CRITERIA, version=0), Criterion.CRITERIA_NOT_SET),
        (PROVIDER, replace(CRITERIA, category=2), Criterion.CRITERIA_NOT_SET),
        (replace(PROVIDER, region=8), CRITERIA, Criterion.REGION),
        (PROVIDER, replace(CRITERIA, blocked=frozenset({3})), Criterion.BLOCKED),
        (replace(PROVIDER, attributes=0b0100), CRITERIA, Criterion.REQUIRED_ATTRIBUTES),
        (replace(PROVIDER, attributes=0b1110), CRITERIA, Criterion.REFUSED_ATTRIBUTES),
        (replace(PROVIDER, score_count=10, score_sum=10), CRITERIA, Criterion.MIN_SCORE),
        (replace(PROVIDER, price=10**17 + 10**16 + 1), CRITERIA, Criterion.MAX_PRICE),
    ],
)
def test_each_failed_criterion_is_named(
    provider: ProviderView, criteria: CriteriaView | None, expected: Criterion
) -> None:
    assert first_failed_criterion(provider, criteria) is expected


def test_region_zero_in_criteria_accepts_any_region() -> None:
    assert first_failed_criterion(replace(PROVIDER, region=99), replace(CRITERIA, region=0)) is (
        Criterion.NONE
    )


def test_the_first_failure_wins_when_several_criteria_fail() -> None:
    bad = replace(PROVIDER, region=8, attributes=0, price=10**19)
    assert first_failed_criterion(bad, CRITERIA) is Criterion.REGION


def test_price_exactly_at_the_ceiling_is_accepted_and_one_wei_more_is_not() -> None:
    ceiling = price_ceiling(CRITERIA, PROVIDER.score)
    assert is_eligible(replace(PROVIDER, price=ceiling), CRITERIA)
    assert first_failed_criterion(replace(PROVIDER, price=ceiling + 1), CRITERIA) is (
        Criterion.MAX_PRICE
    )
