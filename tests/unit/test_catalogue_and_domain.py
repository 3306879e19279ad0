"""Catalogue names map to the on-chain codes and back; booking ids encode their customer; the
contract's pure rules (transitions, lost disputes, fee and split arithmetic) hold together."""

from __future__ import annotations

import pytest

from marketplace import catalogue
from marketplace.domain import (
    BPS,
    OPEN_STATUSES,
    RATEABLE_STATUSES,
    STATUS_AFTER,
    TERMINAL_STATUSES,
    TRANSITIONS,
    Status,
    bayesian_score,
    booking_id,
    customer_of,
    lost_dispute,
    resolution_split,
    settlement_fee,
)


def test_attribute_names_round_trip_through_a_mask() -> None:
    mask = catalogue.mask("attribute", ["electric_vehicle", "pet_friendly"])
    assert mask == 0b101
    assert catalogue.names("attribute", mask) == ["electric_vehicle", "pet_friendly"]


def test_unknown_attribute_name_is_a_clear_error() -> None:
    with pytest.raises(catalogue.UnknownName, match="unknown attribute 'jetpack'"):
        catalogue.mask("attribute", ["jetpack"])


def test_attribute_bits_are_unique_and_fit_the_64_bit_mask() -> None:
    codes = [entry.code for entry in catalogue.ATTRIBUTES]
    assert len(codes) == len(set(codes)) and max(codes) < 64


def test_complaint_tags_fit_the_32_bit_mask() -> None:
    assert max(entry.code for entry in catalogue.COMPLAINT_TAGS) < 32


def test_booking_id_encodes_the_customer_and_the_sequence_number() -> None:
    customer = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
    booking = booking_id(customer, 3)
    assert booking & (2**64 - 1) == 3
    assert customer_of(booking) == customer


def test_terminal_and_escrow_holding_states_partition_the_lifecycle() -> None:
    live = [s for s in Status if s is not Status.NONE]
    assert all(s.is_terminal != s.holds_escrow for s in live)


def test_every_transition_leaves_an_open_state_and_terminal_states_have_no_way_out() -> None:
    for name, (before, after) in TRANSITIONS.items():
        assert before <= OPEN_STATUSES | {Status.NONE}, name
        assert STATUS_AFTER[name] is after
    reachable_from = {s for before, _ in TRANSITIONS.values() for s in before}
    assert not reachable_from & TERMINAL_STATUSES
    assert RATEABLE_STATUSES <= TERMINAL_STATUSES


def test_a_dispute_is_lost_only_when_more_than_half_is_refunded() -> None:
    assert not lost_dispute(0)
    assert not lost_dispute(BPS // 2)  # the 50/50 default
    assert lost_dispute(BPS // 2 + 1)
    assert lost_dispute(BPS)


@pytest.mark.parametrize("price", [1, 999, 10**17 + 3, 2**96 - 1])
@pytest.mark.parametrize("refund_bps", [0, 1, 5_000, 7_777, 10_000])
@pytest.mark.parametrize("fee_bps", [0, 250, 1_000])
def test_a_resolution_pays_out_exactly_the_price(price: int, refund_bps: int, fee_bps: int) -> None:
    refund, payout, fee = resolution_split(price, refund_bps, fee_bps)

    assert refund + payout + fee == price
    assert min(refund, payout, fee) >= 0
    assert fee == settlement_fee(price - refund, fee_bps)
    assert resolution_split(price, 0, fee_bps) == (0, price - settlement_fee(price, fee_bps),
                                                   settlement_fee(price, fee_bps))


def test_a_new_provider_scores_three_and_a_half_stars_and_lost_disputes_pull_it_down() -> None:
    assert bayesian_score(0, 0) == 35_000
    assert bayesian_score(1, 5) == 37_500  # (5 * 35000 + 10000 * 5) // 6
    assert bayesian_score(2, 6) < bayesian_score(1, 5)  # a lost dispute is a one-star rating
