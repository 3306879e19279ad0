"""Catalogue names map to the on-chain codes and back; booking ids encode their customer."""

from __future__ import annotations

import pytest

from marketplace import catalogue
from marketplace.domain import Status, booking_id, customer_of


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
