"""Ratings and the Bayesian score: once per booking, only by its customer, only after settlement
or resolution; lost disputes count as one star. Expected scores are Score.sol's integer maths:
(5 * 35000 + 10000 * stars) // (5 + count)."""

from __future__ import annotations

import pytest

from marketplace.domain import Criterion, Status
from tests.support.market_driver import MarketDriver


def test_the_customer_rates_a_settled_booking(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.SETTLED, customer, provider_id)

    receipt = market.transact("rate", booking_id, 5, 0b1010, sender=customer)

    assert market.only_event(receipt, "BookingRated") == {
        "bookingId": booking_id,
        "customer": customer,
        "providerId": provider_id,
        "stars": 5,
        "complaintTags": 0b1010,
        "newScore": 37_500,  # (175000 + 50000) // 6
    }
    assert market.booking(booking_id)["rated"] is True
    listing = market.provider_of(provider_id)
    assert (listing["scoreCount"], listing["scoreSum"]) == (1, 5)
    assert market.call("scoreOf", provider_id) == 37_500


def test_the_customer_rates_a_resolved_booking(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.RESOLVED, customer, provider_id)  # an even split

    receipt = market.transact("rate", booking_id, 2, 0, sender=customer)

    assert market.only_event(receipt, "BookingRated")["newScore"] == 32_500  # (175000 + 20000) // 6
    assert market.call("scoreOf", provider_id) == 32_500


def test_scores_follow_the_bayesian_average_exactly(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    expected = [37_500, 37_857, 34_375, 33_888, 32_500]  # after 5, 4, 1, 3, 2 stars
    ratings = [5, 4, 1, 3, 2]

    scores = []
    for stars in ratings:
        booking_id = market.booking_in(Status.SETTLED, customer, provider_id)
        receipt = market.transact("rate", booking_id, stars, 0, sender=customer)
        scores.append(market.events("BookingRated", receipt)[0]["newScore"])

    assert scores == expected
    assert scores == [market.bayesian(n + 1, sum(ratings[: n + 1])) for n in range(len(ratings))]
    assert market.call("scoreOf", provider_id) == expected[-1]
    listing = market.provider_of(provider_id)
    assert (listing["scoreCount"], listing["scoreSum"]) == (5, 15)


def test_a_booking_is_rated_only_once(
    market: MarketDriver, customer: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.SETTLED, customer, provider_id)
    market.transact("rate", booking_id, 5, 0, sender=customer)

    with market.reverts("MarketplaceAlreadyRated", bookingId=booking_id):
        market.transact("rate", booking_id, 1, 0, sender=customer)

    assert market.provider_of(provider_id)["scoreCount"] == 1


@pytest.mark.parametrize("role", ["provider", "stranger", "other_customer", "arbiter"])
def test_only_the_customer_rates(
    market: MarketDriver, roles: dict[str, str], customer: str, provider_id: int, role: str
) -> None:
    booking_id = market.booking_in(Status.SETTLED, customer, provider_id)

    with market.reverts("MarketplaceNotCustomer", bookingId=booking_id, caller=roles[role]):
        market.transact("rate", booking_id, 5, 0, sender=roles[role])


@pytest.mark.parametrize("stars", [0, 6, 255])
def test_ratings_are_one_to_five_stars(
    market: MarketDriver, customer: str, provider_id: int, stars: int
) -> None:
    booking_id = market.booking_in(Status.SETTLED, customer, provider_id)

    with market.reverts("MarketplaceInvalidStars", stars=stars):
        market.transact("rate", booking_id, stars, 0, sender=customer)


def test_rate_checks_the_caller_before_the_stars_and_the_stars_before_repetition(
    market: MarketDriver, customer: str, stranger: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.SETTLED, customer, provider_id)
    market.transact("rate", booking_id, 5, 0, sender=customer)

    with market.reverts("MarketplaceNotCustomer", bookingId=booking_id, caller=stranger):
        market.transact("rate", booking_id, 0, 0, sender=stranger)
    with market.reverts("MarketplaceInvalidStars", stars=0):
        market.transact("rate", booking_id, 0, 0, sender=customer)


@pytest.mark.parametrize(
    ("refund_bps", "lost"), [(0, False), (5_000, False), (5_001, True), (10_000, True)]
)
def test_a_dispute_refunding_more_than_half_counts_as_a_lost_one_star(
    market: MarketDriver, customer: str, arbiter: str, provider_id: int, refund_bps: int, lost: int
) -> None:
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)

    market.transact("resolve", booking_id, refund_bps, sender=arbiter)

    listing = market.provider_of(provider_id)
    if lost:
        assert (listing["disputesLost"], listing["scoreCount"], listing["scoreSum"]) == (1, 1, 1)
        assert market.call("scoreOf", provider_id) == 30_833  # (175000 + 10000) // 6
    else:
        assert (listing["disputesLost"], listing["scoreCount"], listing["scoreSum"]) == (0, 0, 0)
        assert market.call("scoreOf", provider_id) == 35_000


def test_the_default_split_is_not_a_lost_dispute(
    market: MarketDriver, customer: str, stranger: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)
    market.mine_at(market.booking(booking_id)["deadline"] + 1)

    market.transact("resolveByDefault", booking_id, sender=stranger)

    assert market.provider_of(provider_id)["disputesLost"] == 0
    assert market.call("scoreOf", provider_id) == 35_000


def test_a_lost_dispute_and_the_customer_rating_both_count(
    market: MarketDriver, customer: str, arbiter: str, provider_id: int
) -> None:
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)
    market.transact("resolve", booking_id, 10_000, sender=arbiter)

    receipt = market.transact("rate", booking_id, 5, 0, sender=customer)

    assert market.events("BookingRated", receipt)[0]["newScore"] == 33_571  # (175000 + 60000) // 7
    listing = market.provider_of(provider_id)
    assert (listing["scoreCount"], listing["scoreSum"], listing["disputesLost"]) == (2, 6, 1)


def test_a_lost_dispute_can_drop_a_provider_below_a_customer_minimum(
    market: MarketDriver, customer: str, other_customer: str, arbiter: str, provider_id: int
) -> None:
    market.set_criteria(other_customer, minScore=35_000)
    booking_id = market.booking_in(Status.DISPUTED, customer, provider_id)

    market.transact("resolve", booking_id, 5_001, sender=arbiter)

    assert market.call("firstFailedCriterion", other_customer, provider_id) == Criterion.MIN_SCORE


def test_good_ratings_lift_a_provider_over_a_customer_minimum(
    market: MarketDriver, customer: str, other_customer: str, provider_id: int
) -> None:
    market.set_criteria(other_customer, minScore=37_500)
    assert market.call("firstFailedCriterion", other_customer, provider_id) == Criterion.MIN_SCORE
    booking_id = market.booking_in(Status.SETTLED, customer, provider_id)

    market.transact("rate", booking_id, 5, 0, sender=customer)

    assert market.call("firstFailedCriterion", other_customer, provider_id) == Criterion.NONE
