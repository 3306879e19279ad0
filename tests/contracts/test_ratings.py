"""Ratings, weights and the score: a rating weighs min(fee x 1,000 / minFee, 2^40) (a minimum-fee
booking's weighs 1,000); the score is the weighted Bayesian mean with a prior of 20,000 at 3.5
stars; ratings only by the customer, once, of a settled or resolved booking, one to five stars."""

from __future__ import annotations

import pytest

from tests.contracts import driver as d
from tests.contracts.driver import V2


def weight(fee: int, min_fee: int = d.MIN_FEE_ETH) -> int:
    return min(fee * 1_000 // min_fee, 2**40)


def score(rating_weight: int, weighted_stars: int) -> int:
    return (20_000 * 35_000 + weighted_stars * 10_000) // (20_000 + rating_weight)


def test_the_constants_are_the_specs(market: V2) -> None:
    assert market.call("MAX_RATING_WEIGHT") == 2**40
    assert market.call("PRIOR_WEIGHT") == 20_000
    assert market.call("PRIOR_SCORE") == 35_000
    assert market.call("SLASH_BPS") == 1_000


def test_a_minimum_fee_rating_weighs_one_thousand(market: V2, provider: str, customer: str) -> None:
    listing = market.register(provider, price=d.MIN_FEE_ETH)
    booking = market.booking_in("Settled", customer, listing)
    receipt = market.tx("rate", booking, 5, 0, sender=customer)
    rated = market.one(receipt, "BookingRated")
    assert rated["weight"] == 1_000
    assert rated["newScore"] == score(1_000, 5_000) == market.call("scoreOf", listing)
    stored = market.listing(listing)
    assert (stored["ratingWeight"], stored["weightedStars"]) == (1_000, 5_000)


@pytest.mark.parametrize("price", [d.PRICE, 10**18, 3 * 10**21])
def test_the_weight_is_the_fee_paid(market: V2, provider: str, customer: str, price: int) -> None:
    listing = market.register(provider, price=price)
    market.rpc("anvil_setBalance", [customer, hex(10**24)])
    booking = market.booking_in("Completed", customer, listing)
    receipt = market.tx("confirmAndRate", booking, 4, 0, sender=customer)
    fee = market.booking(booking)["fee"]
    assert market.one(receipt, "BookingRated")["weight"] == weight(fee)
    assert market.call("scoreOf", listing) == score(weight(fee), 4 * weight(fee))


def test_token_ratings_weigh_by_the_tokens_min_fee(
    market: V2, customer: str, usd_provider_id: int
) -> None:
    booking = market.booking_in("Completed", customer, usd_provider_id)
    receipt = market.tx("confirmAndRate", booking, 5, 0, sender=customer)
    fee = market.booking(booking)["fee"]
    assert market.one(receipt, "BookingRated")["weight"] == weight(fee, d.MIN_FEE_USD)


def test_twenty_minimum_fee_five_star_ratings_move_half_way(
    market: V2, provider: str, customer: str, other_customer: str
) -> None:
    listing = market.register(provider, price=d.MIN_FEE_ETH, instant=True)
    for salt in range(20):
        who = customer if salt % 2 else other_customer
        booking = market.book_as(who, listing, salt=salt, start=market.now() + 60)
        market.drive(booking, "Completed")
        market.tx("confirmAndRate", booking, 5, 0, sender=who)
    assert market.listing(listing)["ratingWeight"] == 20_000
    assert market.call("scoreOf", listing) == 42_500  # prior weight == rating weight


def test_only_the_customer_rates_once_a_settled_or_resolved_booking(
    market: V2, provider: str, customer: str, booking_id: int
) -> None:
    with market.reverts("MarketplaceInvalidStatus"):
        market.tx("rate", booking_id, 5, 0, sender=customer)
    market.drive(booking_id, "Settled")
    with market.reverts("MarketplaceNotCustomer"):
        market.tx("rate", booking_id, 5, 0, sender=provider)
    for stars in (0, 6):
        with market.reverts("MarketplaceInvalidStars", stars=stars):
            market.tx("rate", booking_id, stars, 0, sender=customer)
    market.tx("rate", booking_id, 3, 0, sender=customer)
    with market.reverts("MarketplaceAlreadyRated", bookingId=booking_id):
        market.tx("rate", booking_id, 5, 0, sender=customer)


def test_a_resolved_booking_can_be_rated(market: V2, customer: str, provider_id: int) -> None:
    booking = market.booking_in("Resolved", customer, provider_id, refund_bps=2_000)
    market.tx("rate", booking, 2, 0, sender=customer)
    assert market.booking(booking)["rated"] is True


def test_a_lost_dispute_is_the_bookings_one_rating(
    market: V2, customer: str, provider_id: int
) -> None:
    """The ruling against the provider counts one star at the booking's weight; a second rating
    by the customer for the same fee would count the booking twice."""
    booking = market.booking_in("Resolved", customer, provider_id, refund_bps=8_000)
    assert market.booking(booking)["rated"] is True
    with market.reverts("MarketplaceAlreadyRated", bookingId=booking):
        market.tx("rate", booking, 1, 0, sender=customer)


def test_the_criteria_see_the_track_record(
    market: V2, provider: str, customer: str, other_customer: str
) -> None:
    listing = market.register(provider, price=d.MIN_FEE_ETH)
    market.set_criteria(other_customer, minRatingWeight=1_000)
    assert market.call("firstFailedCriterion", other_customer, listing) == 11  # TrackRecord
    booking = market.booking_in("Settled", customer, listing)
    market.tx("rate", booking, 5, 0, sender=customer)
    assert market.call("firstFailedCriterion", other_customer, listing) == 0
