"""The eligibility rule as matching uses it: each v2 criterion in the contract's order, the
weighted score and reliability behind it (the rule is `marketplace.domain`'s)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from marketplace.domain import Criterion, attestor_mask, reliability, weighted_score
from marketplace.matching.eligibility import (
    CriteriaView,
    ProviderView,
    first_failed_criterion,
    is_eligible,
    price_ceiling,
)

OWNER = "0x" + "ab" * 20
PROVIDER = ProviderView(
    provider_id=3, owner=OWNER, category=1, region=7, attributes=0b0110, currency=0,
    price=10**17, active=True, attestations={1: 0b0010},
)
CRITERIA = CriteriaView(
    category=1,
    region=7,
    min_score=30_000,
    max_price=10**17,
    premium_per_star=2 * 10**16,
    required_attributes=0b0010,
    refused_attributes=0b1000,
    verified_attributes=0b0010,
    trusted_attestors=attestor_mask([1]),
    min_reliability=8_000,
    version=4,
)


def test_a_new_listing_scores_the_prior_and_starts_at_ninety_percent_reliability() -> None:
    assert PROVIDER.score == weighted_score(0, 0) == 35_000
    assert PROVIDER.reliability == reliability(0, 0) == 9_000


def test_a_rating_weighs_by_the_fee_paid() -> None:
    cheap = replace(PROVIDER, rating_weight=1_000, weighted_stars=5_000)
    dear = replace(PROVIDER, rating_weight=100_000, weighted_stars=500_000)
    assert 35_000 < cheap.score < dear.score <= 50_000


def test_price_ceiling_adds_the_premium_per_star_above_the_minimum() -> None:
    assert price_ceiling(CRITERIA, 30_000) == 10**17
    assert price_ceiling(CRITERIA, 45_000) == 10**17 + (2 * 10**16 * 15_000) // 10_000
    assert price_ceiling(CRITERIA, 29_999) == 0


def test_a_listing_meeting_every_criterion_is_eligible() -> None:
    assert first_failed_criterion(PROVIDER, CRITERIA) is Criterion.NONE
    assert is_eligible(PROVIDER, CRITERIA)


@pytest.mark.parametrize(
    ("provider", "criteria", "expected"),
    [
        (replace(PROVIDER, active=False), CRITERIA, Criterion.PROVIDER_INACTIVE),
        (PROVIDER, None, Criterion.CRITERIA_NOT_SET),
        (PROVIDER, replace(CRITERIA, version=0), Criterion.CRITERIA_NOT_SET),
        (PROVIDER, replace(CRITERIA, category=2), Criterion.CRITERIA_NOT_SET),
        (replace(PROVIDER, currency=1), CRITERIA, Criterion.CURRENCY),
        (replace(PROVIDER, region=8), CRITERIA, Criterion.REGION),
        (PROVIDER, replace(CRITERIA, blocked=frozenset({3})), Criterion.BLOCKED),
        (PROVIDER, replace(CRITERIA, blocked_owners=frozenset({OWNER})), Criterion.OWNER_BLOCKED),
        (replace(PROVIDER, attributes=0b0100), CRITERIA, Criterion.REQUIRED_ATTRIBUTES),
        (replace(PROVIDER, attributes=0b1110), CRITERIA, Criterion.REFUSED_ATTRIBUTES),
        (replace(PROVIDER, attestations={}), CRITERIA, Criterion.VERIFIED_ATTRIBUTES),
        (replace(PROVIDER, attestations={2: 0b0010}), CRITERIA, Criterion.VERIFIED_ATTRIBUTES),
        (replace(PROVIDER, rating_weight=10_000, weighted_stars=10_000), CRITERIA,
         Criterion.MIN_SCORE),
        (PROVIDER, replace(CRITERIA, min_rating_weight=1), Criterion.TRACK_RECORD),
        (replace(PROVIDER, failures=3), CRITERIA, Criterion.RELIABILITY),
        (replace(PROVIDER, price=10**17 + 10**16 + 1), CRITERIA, Criterion.MAX_PRICE),
    ],
)
def test_each_failed_criterion_is_named(
    provider: ProviderView, criteria: CriteriaView | None, expected: Criterion
) -> None:
    assert first_failed_criterion(provider, criteria) is expected


def test_an_attestor_no_longer_named_verifies_nothing() -> None:
    assert first_failed_criterion(PROVIDER, CRITERIA, frozenset({1})) is Criterion.NONE
    assert first_failed_criterion(PROVIDER, CRITERIA, frozenset({2})) is (
        Criterion.VERIFIED_ATTRIBUTES)


def test_an_attestation_of_a_bit_the_listing_no_longer_claims_does_not_count() -> None:
    dropped = replace(PROVIDER, attributes=0b0100, attestations={1: 0b0110})
    loose = replace(CRITERIA, required_attributes=0, verified_attributes=0b0010)
    assert first_failed_criterion(dropped, loose) is Criterion.VERIFIED_ATTRIBUTES


def test_region_zero_in_criteria_accepts_any_region() -> None:
    assert first_failed_criterion(replace(PROVIDER, region=99), replace(CRITERIA, region=0)) is (
        Criterion.NONE
    )


def test_the_first_failure_wins_when_several_criteria_fail() -> None:
    bad = replace(PROVIDER, region=8, attributes=0, price=10**19, currency=2)
    assert first_failed_criterion(bad, CRITERIA) is Criterion.CURRENCY
    assert first_failed_criterion(replace(bad, currency=0), CRITERIA) is Criterion.REGION


def test_price_exactly_at_the_ceiling_is_accepted_and_one_unit_more_is_not() -> None:
    ceiling = price_ceiling(CRITERIA, PROVIDER.score)
    assert is_eligible(replace(PROVIDER, price=ceiling), CRITERIA)
    assert first_failed_criterion(replace(PROVIDER, price=ceiling + 1), CRITERIA) is (
        Criterion.MAX_PRICE
    )


def test_track_record_and_reliability_exactly_at_the_minimum_pass() -> None:
    proven = replace(PROVIDER, rating_weight=5_000, weighted_stars=25_000, completed=40,
                     failures=1)
    at_minimum = replace(CRITERIA, min_rating_weight=5_000, min_reliability=proven.reliability)
    assert is_eligible(proven, at_minimum)
    assert not is_eligible(proven, replace(at_minimum, min_reliability=proven.reliability + 1))
