"""Customer criteria: validation, versions, blocking, the price ceiling and the eligibility rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web3.types import TxReceipt

from marketplace.domain import Criterion, Status
from tests.support.market_driver import MarketDriver

STRICT = {  # the criteria of the eligibility-order test
    "region": 7,
    "requiredAttributes": 0b0011,
    "refusedAttributes": 0b0100,
    "minScore": 35_001,
    "premiumPerStar": 0,
}


def attempt_booking(market: MarketDriver, customer: str, provider_id: int) -> TxReceipt:
    """Act: book at the listing's price and the customer's stored version for its category."""
    listing = market.provider_of(provider_id)
    version = market.criteria(customer, listing["category"])["version"]
    return market.transact(
        "book", provider_id, listing["price"], version, sender=customer, value=listing["price"]
    )


def assert_eligibility(
    market: MarketDriver, customer: str, provider_id: int, expected: Criterion
) -> None:
    """The view and `book` agree: both name `expected`, or both let the booking through."""
    assert market.call("firstFailedCriterion", customer, provider_id) == expected
    if expected == Criterion.NONE:
        receipt = attempt_booking(market, customer, provider_id)
        assert market.events("BookingRequested", receipt)
    else:
        with market.reverts(
            "MarketplaceIneligible", providerId=provider_id, criterion=int(expected)
        ):
            attempt_booking(market, customer, provider_id)


def update(market: MarketDriver, provider: str, provider_id: int, **changes: Any) -> None:
    """Arrange: change some of a listing's mutable fields."""
    listing = {**market.provider_of(provider_id), **changes}
    market.transact(
        "updateProvider",
        provider_id,
        listing["region"],
        listing["attributes"],
        listing["price"],
        listing["metadataHash"],
        sender=provider,
    )


# ---------------------------------------------------------------------- setCriteria


def test_set_criteria_stores_every_field_and_logs_them(market: MarketDriver, customer: str) -> None:
    fields = {
        "category": 3,
        "region": 44,
        "minScore": 41_000,
        "maxPrice": 10**17 + 3,
        "premiumPerStar": 5 * 10**15 + 1,
        "requiredAttributes": 0b1001,
        "refusedAttributes": 0b0110,
        "scoreWeight": 7_000,
        "priceWeight": 3_000,
    }

    receipt = market.transact("setCriteria", market.criteria_input(**fields), sender=customer)

    assert market.only_event(receipt, "CriteriaSet") == {
        "customer": customer,
        "category": 3,
        "version": 1,
        "criteria": fields,
    }
    assert market.criteria(customer, 3) == {
        "maxPrice": 10**17 + 3,
        "premiumPerStar": 5 * 10**15 + 1,
        "minScore": 41_000,
        "region": 44,
        "scoreWeight": 7_000,
        "priceWeight": 3_000,
        "requiredAttributes": 0b1001,
        "refusedAttributes": 0b0110,
        "version": 1,
        "blockedCount": 0,
    }
    assert market.call("criteriaVersionOf", customer) == 1


def test_every_criteria_change_bumps_the_customer_version_across_categories(
    market: MarketDriver, customer: str, other_customer: str
) -> None:
    assert market.set_criteria(customer, category=1) == 1
    assert market.set_criteria(customer, category=2) == 2
    assert market.set_criteria(customer, category=1, minScore=1) == 3

    assert market.criteria(customer, 1)["version"] == 3
    assert market.criteria(customer, 2)["version"] == 2
    assert market.call("criteriaVersionOf", customer) == 3
    assert market.call("criteriaVersionOf", other_customer) == 0


def test_criteria_of_an_unset_category_read_as_zero(market: MarketDriver, customer: str) -> None:
    assert set(market.criteria(customer, 9).values()) == {0}


def test_set_criteria_refuses_category_zero(market: MarketDriver, customer: str) -> None:
    with market.reverts("MarketplaceInvalidCategory"):
        market.set_criteria(customer, category=0)


def test_set_criteria_accepts_a_minimum_of_five_stars(market: MarketDriver, customer: str) -> None:
    market.set_criteria(customer, minScore=50_000)

    assert market.criteria(customer)["minScore"] == 50_000


@pytest.mark.parametrize("min_score", [50_001, 65_535])
def test_set_criteria_refuses_a_minimum_above_five_stars(
    market: MarketDriver, customer: str, min_score: int
) -> None:
    with market.reverts("MarketplaceInvalidMinScore", minScore=min_score):
        market.set_criteria(customer, minScore=min_score)


@pytest.mark.parametrize(("score_weight", "price_weight"), [(10_000, 10_000), (0, 1), (1, 0)])
def test_set_criteria_accepts_weights_up_to_ten_thousand_not_both_zero(
    market: MarketDriver, customer: str, score_weight: int, price_weight: int
) -> None:
    market.set_criteria(customer, scoreWeight=score_weight, priceWeight=price_weight)

    stored = market.criteria(customer)
    assert (stored["scoreWeight"], stored["priceWeight"]) == (score_weight, price_weight)


@pytest.mark.parametrize(
    ("score_weight", "price_weight"), [(0, 0), (10_001, 0), (0, 10_001), (5_000, 65_535)]
)
def test_set_criteria_refuses_invalid_weights(
    market: MarketDriver, customer: str, score_weight: int, price_weight: int
) -> None:
    with market.reverts(
        "MarketplaceInvalidWeights", scoreWeight=score_weight, priceWeight=price_weight
    ):
        market.set_criteria(customer, scoreWeight=score_weight, priceWeight=price_weight)


def test_set_criteria_refuses_attributes_both_required_and_refused(
    market: MarketDriver, customer: str
) -> None:
    with market.reverts("MarketplaceConflictingAttributes", overlap=0b0010):
        market.set_criteria(customer, requiredAttributes=0b1011, refusedAttributes=0b0110)


def test_set_criteria_accepts_disjoint_required_and_refused_attributes(
    market: MarketDriver, customer: str
) -> None:
    market.set_criteria(customer, requiredAttributes=1 << 63, refusedAttributes=(1 << 63) - 1)

    stored = market.criteria(customer)
    assert (stored["requiredAttributes"], stored["refusedAttributes"]) == (1 << 63, (1 << 63) - 1)


# ---------------------------------------------------------------------- setBlocked


def test_blocking_a_provider_bumps_the_version_and_makes_it_ineligible(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    market.set_criteria(customer)

    receipt = market.transact("setBlocked", provider_id, True, sender=customer)

    assert market.only_event(receipt, "ProviderBlockChanged") == {
        "customer": customer,
        "providerId": provider_id,
        "category": market.CATEGORY,
        "blocked": True,
        "version": 2,
    }
    assert market.call("isBlocked", customer, provider_id) is True
    stored = market.criteria(customer)
    assert (stored["version"], stored["blockedCount"]) == (2, 1)
    assert market.call("criteriaVersionOf", customer) == 2
    assert_eligibility(market, customer, provider_id, Criterion.BLOCKED)


def test_unblocking_a_provider_restores_its_eligibility(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    market.set_criteria(customer)
    market.transact("setBlocked", provider_id, True, sender=customer)

    receipt = market.transact("setBlocked", provider_id, False, sender=customer)

    assert market.only_event(receipt, "ProviderBlockChanged") == {
        "customer": customer,
        "providerId": provider_id,
        "category": market.CATEGORY,
        "blocked": False,
        "version": 3,
    }
    assert market.call("isBlocked", customer, provider_id) is False
    assert market.criteria(customer)["blockedCount"] == 0
    assert_eligibility(market, customer, provider_id, Criterion.NONE)


def test_a_block_concerns_only_the_customer_who_set_it(
    market: MarketDriver, customer: str, other_customer: str, provider_id: int
) -> None:
    market.set_criteria(customer)
    market.transact("setBlocked", provider_id, True, sender=customer)
    market.set_criteria(other_customer)

    assert_eligibility(market, other_customer, provider_id, Criterion.NONE)


def test_rewriting_criteria_keeps_blocked_providers_blocked(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    market.set_criteria(customer)
    market.transact("setBlocked", provider_id, True, sender=customer)

    market.set_criteria(customer, minScore=1)

    assert market.criteria(customer)["blockedCount"] == 1
    assert_eligibility(market, customer, provider_id, Criterion.BLOCKED)


def test_set_blocked_refuses_an_unknown_provider(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    market.set_criteria(customer)

    with market.reverts("MarketplaceProviderNotFound", providerId=provider_id + 1):
        market.transact("setBlocked", provider_id + 1, True, sender=customer)


def test_set_blocked_refuses_a_customer_without_criteria_for_the_category(
    market: MarketDriver, provider: str, customer: str
) -> None:
    listing = market.register(provider, category=4)
    market.set_criteria(customer, category=1)

    with market.reverts("MarketplaceCriteriaNotSet", customer=customer, category=4):
        market.transact("setBlocked", listing, True, sender=customer)


@pytest.mark.parametrize("blocked", [True, False])
def test_set_blocked_refuses_a_change_that_changes_nothing(
    market: MarketDriver, customer: str, provider_id: int, blocked: bool
) -> None:
    market.set_criteria(customer)
    if blocked:
        market.transact("setBlocked", provider_id, True, sender=customer)

    with market.reverts("MarketplaceBlockUnchanged", providerId=provider_id, blocked=blocked):
        market.transact("setBlocked", provider_id, blocked, sender=customer)

    assert market.criteria(customer)["version"] == (2 if blocked else 1)


# ---------------------------------------------------------------------- priceCeiling


@pytest.mark.parametrize(
    ("min_score", "max_price", "premium", "score", "ceiling"),
    [
        (35_000, 1_000, 10_007, 37_500, 1_000 + 2_501),  # 10007 * 0.25 star = 2501.75, floored
        (35_000, 1_000, 10_007, 35_000, 1_000),  # exactly at the minimum: maxPrice
        (35_000, 1_000, 10_007, 34_999, 0),  # below the minimum: nothing is acceptable
        (0, 0, 3, 50_000, 15),
        (0, 2**96 - 1, 2**96 - 1, 50_000, (2**96 - 1) * 6),  # no overflow at the extremes
    ],
)
def test_price_ceiling_adds_the_premium_per_star_above_the_minimum(
    market: MarketDriver,
    customer: str,
    min_score: int,
    max_price: int,
    premium: int,
    score: int,
    ceiling: int,
) -> None:
    market.set_criteria(customer, minScore=min_score, maxPrice=max_price, premiumPerStar=premium)

    assert market.call("priceCeiling", customer, market.CATEGORY, score) == ceiling


# ---------------------------------------------------------------------- eligibility


def _reactivate(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    market.transact("reactivate", provider_id, sender=provider)


def _write_strict_criteria_and_block(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    market.set_criteria(customer, maxPrice=market.PRICE, **STRICT)
    market.transact("setBlocked", provider_id, True, sender=customer)


def _move_to_the_region(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    update(market, provider, provider_id, region=STRICT["region"])


def _unblock(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    market.transact("setBlocked", provider_id, False, sender=customer)


def _add_required_attributes(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    update(market, provider, provider_id, attributes=0b0111)


def _drop_refused_attribute(
    market: MarketDriver, provider: str, customer: str, provider_id: int
) -> None:
    update(market, provider, provider_id, attributes=0b0011)


def _lower_min_score(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    market.set_criteria(customer, maxPrice=market.PRICE, **{**STRICT, "minScore": 35_000})


def _lower_price(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    update(market, provider, provider_id, price=market.PRICE)


# Arranges one change to a listing or to the customer's criteria: (market, provider, customer,
# provider id).
Arrange = Callable[[MarketDriver, str, str, int], None]

# Each fix makes the provider pass one more criterion; every later one still fails.
FIXES: list[tuple[Criterion, Arrange | None]] = [
    (Criterion.PROVIDER_INACTIVE, _reactivate),
    (Criterion.CRITERIA_NOT_SET, _write_strict_criteria_and_block),
    (Criterion.REGION, _move_to_the_region),
    (Criterion.BLOCKED, _unblock),
    (Criterion.REQUIRED_ATTRIBUTES, _add_required_attributes),
    (Criterion.REFUSED_ATTRIBUTES, _drop_refused_attribute),
    (Criterion.MIN_SCORE, _lower_min_score),
    (Criterion.MAX_PRICE, _lower_price),
    (Criterion.NONE, None),
]


@pytest.mark.parametrize("step", range(len(FIXES)), ids=[c.name for c, _ in FIXES])
def test_eligibility_names_the_first_failed_criterion_in_order(
    market: MarketDriver, provider: str, customer: str, step: int
) -> None:
    # A listing failing every criterion: inactive, wrong region, blocked, lacking a required
    # attribute, carrying a refused one, below the minimum score, above the price ceiling.
    provider_id = market.register(provider, region=8, attributes=0b0100, price=2 * market.PRICE)
    market.transact("deactivate", provider_id, sender=provider)
    for _, fix in FIXES[:step]:
        assert fix is not None  # only the last step, Criterion.NONE, has nothing left to fix
        fix(market, provider, customer, provider_id)

    assert_eligibility(market, customer, provider_id, FIXES[step][0])


def _break_active(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    market.transact("deactivate", provider_id, sender=provider)


def _break_region(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    market.set_criteria(customer, region=3)


def _break_block(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    market.transact("setBlocked", provider_id, True, sender=customer)


def _break_required(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    market.set_criteria(customer, requiredAttributes=0b1000_0000)


def _break_refused(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    market.set_criteria(customer, refusedAttributes=0b0001)


def _break_min_score(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    market.set_criteria(customer, minScore=35_001)


def _break_max_price(market: MarketDriver, provider: str, customer: str, provider_id: int) -> None:
    market.set_criteria(customer, maxPrice=market.PRICE - 1)


SINGLE_BREAKS: list[tuple[Criterion, Arrange]] = [
    (Criterion.PROVIDER_INACTIVE, _break_active),
    (Criterion.REGION, _break_region),
    (Criterion.BLOCKED, _break_block),
    (Criterion.REQUIRED_ATTRIBUTES, _break_required),
    (Criterion.REFUSED_ATTRIBUTES, _break_refused),
    (Criterion.MIN_SCORE, _break_min_score),
    (Criterion.MAX_PRICE, _break_max_price),
]


@pytest.mark.parametrize(
    ("criterion", "breaks"), SINGLE_BREAKS, ids=[c.name for c, _ in SINGLE_BREAKS]
)
def test_each_criterion_alone_makes_a_provider_ineligible(
    market: MarketDriver, provider: str, customer: str, criterion: Criterion, breaks: Arrange
) -> None:
    provider_id = market.register(provider, region=5, attributes=0b0111)
    market.set_criteria(customer)
    breaks(market, provider, customer, provider_id)

    assert_eligibility(market, customer, provider_id, criterion)


def test_a_customer_without_criteria_for_the_category_cannot_book(
    market: MarketDriver, provider: str, customer: str
) -> None:
    provider_id = market.register(provider, category=2)
    market.set_criteria(customer, category=1)

    assert_eligibility(market, customer, provider_id, Criterion.CRITERIA_NOT_SET)


def test_region_zero_accepts_every_region(
    market: MarketDriver, provider: str, customer: str
) -> None:
    provider_id = market.register(provider, region=65_535)
    market.set_criteria(customer, region=0)

    assert_eligibility(market, customer, provider_id, Criterion.NONE)


def test_a_provider_in_the_customer_region_is_eligible(
    market: MarketDriver, provider: str, customer: str
) -> None:
    provider_id = market.register(provider, region=12)
    market.set_criteria(customer, region=12)

    assert_eligibility(market, customer, provider_id, Criterion.NONE)


def test_a_provider_with_more_than_the_required_attributes_is_eligible(
    market: MarketDriver, provider: str, customer: str
) -> None:
    provider_id = market.register(provider, attributes=0b1111)
    market.set_criteria(customer, requiredAttributes=0b0101, refusedAttributes=0b1_0000)

    assert_eligibility(market, customer, provider_id, Criterion.NONE)


def test_book_accepts_a_provider_exactly_at_the_min_score(
    market: MarketDriver, provider: str, customer: str
) -> None:
    provider_id = market.register(provider)
    market.set_criteria(customer, minScore=35_000)

    assert_eligibility(market, customer, provider_id, Criterion.NONE)


def test_book_refuses_provider_below_min_score(
    market: MarketDriver, provider: str, customer: str
) -> None:
    provider_id = market.register(provider)
    market.set_criteria(customer, minScore=35_001)

    assert_eligibility(market, customer, provider_id, Criterion.MIN_SCORE)


def test_book_accepts_a_price_exactly_at_the_ceiling(
    market: MarketDriver, provider: str, customer: str
) -> None:
    provider_id = market.register(provider)
    market.set_criteria(customer, maxPrice=market.PRICE)

    assert_eligibility(market, customer, provider_id, Criterion.NONE)


def test_price_ceiling_rises_with_the_score_by_the_premium_per_star(
    market: MarketDriver, provider: str, customer: str, other_customer: str
) -> None:
    provider_id = market.register(provider)
    rated = market.booking_in(Status.SETTLED, other_customer, provider_id)
    market.transact("rate", rated, 5, 0, sender=other_customer)  # score 35000 -> 37500
    market.set_criteria(customer, minScore=35_000, maxPrice=1_000, premiumPerStar=10_007)
    update(market, provider, provider_id, price=3_502)  # ceiling 1000 + 2501 = 3501

    assert_eligibility(market, customer, provider_id, Criterion.MAX_PRICE)
    update(market, provider, provider_id, price=3_501)
    assert_eligibility(market, customer, provider_id, Criterion.NONE)


def test_an_unknown_provider_reads_as_inactive(market: MarketDriver, customer: str) -> None:
    market.set_criteria(customer)

    assert market.call("firstFailedCriterion", customer, 77) == Criterion.PROVIDER_INACTIVE
