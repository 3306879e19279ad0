"""Criteria input: what a customer types becomes the on-chain tuple, or an error naming a field."""

from __future__ import annotations

from typing import Any

import pytest

from marketplace.catalogue import mask
from marketplace.domain import UINT88_MAX
from marketplace.errors import MarketplaceError
from marketplace.matching.criteria import (
    CriteriaInput,
    InvalidCriteria,
    parse_amount,
    parse_criteria,
    parse_stars,
)
from marketplace.units import Currency


def test_typed_criteria_become_the_on_chain_tuple_in_the_contracts_field_order() -> None:
    criteria = parse_criteria(
        "rides", region="helsinki", min_stars="4.2", max_price="0.1 ether",
        premium_per_star="20000000 gwei", required=["child_seat"], refused=["smoker"],
        score_weight=60, price_weight=40,
    )
    assert criteria.as_tuple() == (
        1, 1, 0, 42_000, 10**17, 2 * 10**16, mask("attribute", ["child_seat"]),
        mask("attribute", ["smoker"]), 0, 0, 0, 0, 6_000, 4_000,
    )


def test_defaults_mean_ether_any_region_no_minimum_and_equal_weights() -> None:
    assert parse_criteria("cleaning", max_price=10**17).as_tuple() == (
        2, 0, 0, 0, 10**17, 0, 0, 0, 0, 0, 0, 0, 5_000, 5_000,
    )


def test_v2_criteria_verified_attributes_track_record_reliability_and_a_token() -> None:
    dusd = Currency(1, "DUSD", 6, "0x" + "99" * 20)
    criteria = parse_criteria(
        "rides", currency=dusd, max_price="12.5 DUSD", premium_per_star="2",
        verified=["electric_vehicle"], trusted_attestors=[1, 3], min_ratings="2.5",
        min_reliability="92.5")
    electric = mask("attribute", ["electric_vehicle"])
    assert (criteria.currency, criteria.max_price, criteria.premium_per_star) == (
        1, 12_500_000, 2_000_000)
    assert criteria.required_attributes == criteria.verified_attributes == electric
    assert criteria.trusted_attestors == 0b101
    assert (criteria.min_rating_weight, criteria.min_reliability) == (2_500, 9_250)
    assert parse_amount(1_000, "max_price", dusd) == 1_000  # an integer: smallest units
    with pytest.raises(InvalidCriteria, match="in DUSD"):
        parse_amount("5 USDC", "max_price", dusd)
    with pytest.raises(InvalidCriteria, match="more than 6 decimals"):
        parse_amount("0.0000001", "max_price", dusd)


def test_weights_on_any_scale_are_scaled_to_basis_points_summing_to_ten_thousand() -> None:
    assert parse_criteria(1, score_weight=1, price_weight=2).score_weight == 3_333
    assert parse_criteria(1, score_weight=1, price_weight=2).price_weight == 6_667
    assert parse_criteria(1, score_weight=0, price_weight="0.5").as_tuple()[-2:] == (0, 10_000)


def test_stars_convert_exactly_to_basis_points() -> None:
    assert parse_stars("4.1") == 41_000
    assert parse_stars(4.1) == 41_000
    assert parse_stars(5) == 50_000
    assert parse_stars("3.0005") == 30_005


def test_amounts_accept_wei_gwei_and_ether() -> None:
    assert parse_amount("0.25 ether") == 25 * 10**16
    assert parse_amount("0.25 ETH") == 25 * 10**16
    assert parse_amount("7 gwei") == 7 * 10**9
    assert parse_amount("123") == 123
    assert parse_amount(UINT88_MAX) == UINT88_MAX


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"score_weight": -1}, "score_weight"),
        ({"price_weight": "-0.5"}, "price_weight"),
        ({"score_weight": 0, "price_weight": 0}, "score_weight"),
        ({"score_weight": float("nan")}, "score_weight"),
        ({"min_stars": "5.1"}, "min_score"),
        ({"min_stars": -1}, "min_score"),
        ({"min_stars": "4.00001"}, "min_score"),
        ({"min_stars": "four"}, "min_score"),
        ({"required": ["teleporter"]}, "required_attributes"),
        ({"refused": ["smoker", "flying_car"]}, "refused_attributes"),
        ({"required": ["smoker"], "refused": ["smoker"]}, "refused_attributes"),
        ({"max_price": UINT88_MAX + 1}, "max_price"),
        ({"max_price": "80000000000 ether"}, "max_price"),
        ({"verified": ["insured"]}, "trusted_attestors"),
        ({"trusted_attestors": [1, 2, 3, 4, 5]}, "trusted_attestors"),
        ({"trusted_attestors": [33]}, "trusted_attestors"),
        ({"min_ratings": -1}, "min_rating_weight"),
        ({"min_ratings": "0.0001"}, "min_rating_weight"),
        ({"min_ratings": 5_000_000}, "min_rating_weight"),  # past the uint32 field
        ({"min_reliability": "100.5"}, "min_reliability"),
        ({"max_price": -5}, "max_price"),
        ({"max_price": "0.1 dollars"}, "max_price"),
        ({"max_price": "0.0000000000000000001 ether"}, "max_price"),
        ({"premium_per_star": str(UINT88_MAX + 1)}, "premium_per_star"),
        ({"region": "atlantis"}, "region"),
    ],
)
def test_invalid_input_raises_an_error_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"region": "helsinki", "max_price": 10**17, **changes}
    with pytest.raises(InvalidCriteria) as raised:
        parse_criteria("rides", **arguments)
    assert raised.value.field == field
    assert field in str(raised.value)
    assert isinstance(raised.value, MarketplaceError)


def test_an_unknown_category_is_named_with_the_known_ones() -> None:
    with pytest.raises(InvalidCriteria) as raised:
        parse_criteria("gardening")
    assert raised.value.field == "category"
    assert "rides" in raised.value.message


def test_an_overlap_of_required_and_refused_names_the_attribute() -> None:
    with pytest.raises(InvalidCriteria, match="'pet_friendly' cannot be both"):
        parse_criteria("rides", required=["pet_friendly", "insured"], refused=["pet_friendly"])


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"category": 0}, "category"),
        ({"min_score": 50_001}, "min_score"),
        ({"score_weight": 10_001}, "score_weight"),
        ({"price_weight": -1}, "price_weight"),
        ({"max_price": UINT88_MAX + 1}, "max_price"),
        ({"required_attributes": 2**64}, "required_attributes"),
        ({"currency": 256}, "currency"),
        ({"verified_attributes": 1}, "verified_attributes"),
        ({"required_attributes": 1, "verified_attributes": 1}, "trusted_attestors"),
        ({"trusted_attestors": 0b11111}, "trusted_attestors"),
        ({"min_reliability": 10_001}, "min_reliability"),
        ({"region": True}, "region"),
    ],
)
def test_a_raw_tuple_is_checked_against_the_contracts_rules_too(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidCriteria) as raised:
        CriteriaInput(**{"category": 1, **fields})
    assert raised.value.field == field


def test_an_input_round_trips_through_the_stored_view() -> None:
    criteria = parse_criteria("rides", min_stars=4, max_price=10**17, refused=["smoker"])
    view = criteria.to_view(version=3, blocked=[7], blocked_owners=["0xAB"])
    assert view.version == 3 and view.blocked == frozenset({7})
    assert view.blocked_owners == frozenset({"0xab"})
    assert CriteriaInput.from_view(view) == criteria
    assert criteria.changed(min_score=45_000).min_score == 45_000
    with pytest.raises(InvalidCriteria):
        criteria.changed(required_attributes=mask("attribute", ["smoker"]))
