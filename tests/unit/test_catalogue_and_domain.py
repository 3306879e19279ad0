"""Catalogue names map to the on-chain codes and back; booking ids encode their customer; the
contract's pure rules (transitions, lost disputes, fee and split arithmetic) hold together."""

from __future__ import annotations

import pytest

from marketplace import catalogue
from marketplace.domain import (
    BPS,
    MAX_RATING_WEIGHT,
    OPEN_STATUSES,
    PRIOR_SCORE,
    RATEABLE_STATUSES,
    STATUS_AFTER,
    TERMINAL_STATUSES,
    TRANSITIONS,
    CancelTerms,
    ChangeKind,
    CriteriaFacts,
    Criterion,
    ListingFacts,
    Status,
    Windows,
    attestor_bit,
    attestor_ids,
    attestor_mask,
    booking_fee,
    booking_id,
    cancellation_split,
    change_kind,
    count_outcome,
    count_resolution,
    counts_as_failure,
    criteria_problem,
    customer_of,
    decode_booking_id,
    fee_exceeds_price,
    first_failed_criterion,
    lost_dispute,
    no_show_slash,
    price_ceiling,
    rating_weight,
    reliability,
    resolution_split,
    resolve_by_default,
    resolve_dispute,
    respond_by,
    service_by,
    slot_problem,
    stake_locked_until,
    verified_bits,
    weighted_score,
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


CUSTOMER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"


def test_booking_id_packs_customer_listing_slot_and_salt_and_unpacks_them() -> None:
    booking = booking_id(CUSTOMER, 7, 1_800_000_000, 90, 3)
    assert booking == (int(CUSTOMER, 16) << 96 | 7 << 64 | 1_800_000_000 << 24 | 90 << 8 | 3)
    key = decode_booking_id(booking)
    assert (key.customer, key.provider_id, key.start, key.duration_minutes, key.salt) == (
        CUSTOMER,
        7,
        1_800_000_000,
        90,
        3,
    )
    assert key.booking_id == booking and key.end == 1_800_000_000 + 90 * 60
    assert customer_of(booking) == CUSTOMER
    top = booking_id("0x" + "ff" * 20, 2**32 - 1, 2**40 - 1, 2**16 - 1, 255)
    assert top == 2**256 - 1


@pytest.mark.parametrize("field", ["provider_id", "start", "duration_minutes", "salt"])
def test_a_booking_id_field_that_does_not_fit_is_refused(field: str) -> None:
    args = {"provider_id": 1, "start": 1, "duration_minutes": 1, "salt": 0}
    args[field] = {"provider_id": 2**32, "start": 2**40, "duration_minutes": 2**16, "salt": 256}[
        field
    ]
    with pytest.raises(ValueError, match="does not fit"):
        booking_id(CUSTOMER, **args)


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
    assert Status.ACCEPTED in TRANSITIONS["BookingCancelled"][0]  # v2: cancel after acceptance


def test_only_what_follows_an_acceptance_is_a_reliability_failure() -> None:
    assert counts_as_failure("BookingDeclined", Status.ACCEPTED)
    assert counts_as_failure("BookingExpired", Status.ACCEPTED)
    assert not counts_as_failure("BookingDeclined", Status.REQUESTED)
    assert not counts_as_failure("BookingExpired", Status.REQUESTED)
    assert not counts_as_failure("BookingCancelled", Status.ACCEPTED)


def test_a_dispute_is_lost_only_when_more_than_half_is_refunded() -> None:
    assert not lost_dispute(0)
    assert not lost_dispute(BPS // 2)  # the 50/50 default
    assert lost_dispute(BPS // 2 + 1)
    assert lost_dispute(BPS)


def test_the_fee_rounds_up_and_never_falls_below_the_minimum_fee() -> None:
    assert booking_fee(10**18, 250, 10**12) == 25 * 10**15
    assert booking_fee(41, 250, 1) == 2  # ceil(1.025)
    assert booking_fee(40, 250, 1) == 1
    assert booking_fee(1, 250, 10**12) == 10**12
    assert fee_exceeds_price(10**12 - 1, 250, 10**12)
    assert not fee_exceeds_price(10**12, 250, 10**12)
    assert booking_fee(1, 0, 1) == 1  # the minimum fee is always > 0


def test_a_rating_weighs_the_fee_paid_in_minimum_fees_and_is_capped() -> None:
    assert rating_weight(10**12, 10**12) == 1_000
    assert rating_weight(25 * 10**15, 10**12) == 25_000_000
    assert rating_weight(10**12 + 10**9 - 1, 10**12) == 1_000  # floored
    assert rating_weight(2**80 - 1, 1) == MAX_RATING_WEIGHT


def test_a_new_listing_scores_three_and_a_half_stars_and_weight_moves_the_score() -> None:
    assert weighted_score(0, 0) == PRIOR_SCORE
    one = rating_weight(10**12, 10**12)
    assert weighted_score(one, 5 * one) == (20_000 * 35_000 + 5 * one * 10_000) // 21_000
    heavy = 20_000
    assert weighted_score(heavy, 5 * heavy) == 42_500  # as much weight as the prior: halfway
    assert weighted_score(2 * heavy, 5 * heavy + heavy) < weighted_score(heavy, 5 * heavy)


def test_reliability_starts_at_nine_tenths_and_counters_halve_before_they_overflow() -> None:
    assert reliability(0, 0) == 9_000
    assert reliability(0, 1) == 9 * 10_000 // 11
    assert reliability(90, 0) == 99 * 10_000 // 100
    assert count_outcome(3, 1, failure=False) == (4, 1)
    assert count_outcome(3, 1, failure=True) == (3, 2)
    assert count_outcome(65_535, 7, failure=False) == (32_768, 3)
    assert count_outcome(9, 65_535, failure=True) == (4, 32_768)
    assert count_outcome(65_534, 7, failure=False) == (65_535, 7)
    assert count_resolution(3, 1, provider_lost=True) == (4, 2)
    assert count_resolution(3, 1, provider_lost=False) == (4, 1)


def test_deadlines_follow_the_slot() -> None:
    now, start = 1_000_000, 1_000_000 + 30 * 86_400
    assert respond_by(now, start, 86_400) == now + 86_400
    assert respond_by(now, now + 60, 86_400) == now + 60  # never after the start
    assert service_by(start, 90, 3_600) == start + 90 * 60 + 3_600
    windows = Windows(
        respond=86_400, service_grace=3_600, confirm=7_200, arbitration=10_800, stake_cooldown=1
    )
    lock = service_by(start, 90, 3_600) + 7_200 + 10_800
    assert stake_locked_until(0, start, 90, windows) == lock
    assert stake_locked_until(lock + 5, start, 90, windows) == lock + 5


def test_slot_problems_are_named() -> None:
    now = 1_000_000
    assert slot_problem(now, now + 60, 30) is None
    assert slot_problem(now, now, 30) == "the slot starts in the past"
    assert slot_problem(now, now + 366 * 86_400, 30) == "the slot starts more than 365 days ahead"
    assert slot_problem(now, now + 60, 0) == "the duration must be at least one minute"


def test_a_cancellation_is_free_until_the_terms_window_then_compensates_the_provider() -> None:
    terms = CancelTerms(free_cancel_hours=24, late_cancel_pct=30)
    start = 100 * 3_600
    assert cancellation_split(1_000, Status.ACCEPTED, start - 24 * 3_600, start, terms) == (
        1_000,
        0,
    )
    assert cancellation_split(1_000, Status.ACCEPTED, start - 24 * 3_600 + 1, start, terms) == (
        700,
        300,
    )
    assert cancellation_split(1_000, Status.REQUESTED, start - 1, start, terms) == (1_000, 0)
    assert cancellation_split(7, Status.ACCEPTED, start - 1, start, terms) == (5, 2)  # floored


@pytest.mark.parametrize("price", [10**12, 10**17 + 3, 2**88 - 1])
@pytest.mark.parametrize("refund_bps", [0, 1, 5_000, 5_001, 10_000])
def test_a_resolution_pays_out_exactly_the_price_and_the_fee_never_depends_on_the_ruling(
    price: int, refund_bps: int
) -> None:
    fee = booking_fee(price, 250, 10**12)
    refund, payout, taken = resolution_split(price, fee, refund_bps)
    assert refund + payout + taken == price and taken == fee and min(refund, payout) >= 0
    bond, stake = 10**16, 5 * 10**15
    ruling = resolve_dispute(price, fee, refund_bps, bond, stake)
    assert ruling.fee == fee and ruling.refund == refund
    if lost_dispute(refund_bps):
        assert (ruling.bond_to_customer, ruling.bond_to_arbiter, ruling.arbiter_from_stake) == (
            bond,
            0,
            stake,
        )  # min(bond, stake)
    else:
        assert (ruling.bond_to_customer, ruling.bond_to_arbiter, ruling.arbiter_from_stake) == (
            0,
            bond,
            0,
        )
    default = resolve_by_default(price, fee, bond)
    assert default.refund == (price - fee) // 2 and default.bond_to_customer == bond
    assert not default.provider_lost and default.arbiter_from_stake == 0


def test_a_no_show_slashes_a_tenth_of_the_stake() -> None:
    assert no_show_slash(10**18) == 10**17
    assert no_show_slash(9) == 0


def test_verified_attributes_need_a_trusted_still_named_attestor_and_a_claimed_bit() -> None:
    attestations = {1: 0b011, 2: 0b100}
    assert verified_bits(0b111, attestations, trusted_attestors=attestor_mask([1])) == 0b011
    assert verified_bits(0b111, attestations, trusted_attestors=0b11) == 0b111
    assert verified_bits(0b001, attestations, trusted_attestors=0b1) == 0b001  # no longer claimed
    assert verified_bits(0b111, attestations, 0b1, named_attestors=frozenset({2})) == 0
    assert attestor_ids(0b1001) == [1, 4] and attestor_bit(32) == 1 << 31


OWNER = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"


def _listing(**overrides: object) -> ListingFacts:
    fields: dict[str, object] = {
        "provider_id": 5,
        "owner": OWNER,
        "category": 1,
        "region": 2,
        "attributes": 0b11,
        "currency": 1,
        "price": 20 * 10**6,
        "active": True,
        "rating_weight": 40_000,
        "weighted_stars": 200_000,
        "completed": 10,
        "failures": 0,
        "attestations": {1: 0b01},
    }
    fields.update(overrides)
    return ListingFacts(**fields)  # type: ignore[arg-type]


def _criteria(**overrides: object) -> CriteriaFacts:
    fields: dict[str, object] = {
        "category": 1,
        "region": 2,
        "currency": 1,
        "min_score": 40_000,
        "max_price": 25 * 10**6,
        "required_attributes": 0b01,
        "verified_attributes": 0b01,
        "trusted_attestors": 0b1,
        "min_rating_weight": 10_000,
        "min_reliability": 9_000,
        "version": 3,
    }
    fields.update(overrides)
    return CriteriaFacts(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("listing", "criteria", "expected"),
    [
        ({}, {}, Criterion.NONE),
        ({"active": False, "currency": 0}, {}, Criterion.PROVIDER_INACTIVE),
        ({"currency": 0}, {"version": 0}, Criterion.CRITERIA_NOT_SET),
        ({"currency": 0, "region": 3}, {}, Criterion.CURRENCY),
        ({"region": 3}, {"blocked": frozenset({5})}, Criterion.REGION),
        ({}, {"blocked": frozenset({5}), "blocked_owners": frozenset({OWNER})}, Criterion.BLOCKED),
        (
            {"owner": OWNER.upper().replace("0X", "0x"), "attributes": 0},
            {"blocked_owners": frozenset({OWNER})},
            Criterion.OWNER_BLOCKED,
        ),
        ({"attributes": 0b10}, {}, Criterion.REQUIRED_ATTRIBUTES),
        ({"attestations": {}}, {"refused_attributes": 0b10}, Criterion.REFUSED_ATTRIBUTES),
        ({"attestations": {}, "weighted_stars": 0}, {}, Criterion.VERIFIED_ATTRIBUTES),
        ({"weighted_stars": 0, "rating_weight": 0}, {}, Criterion.MIN_SCORE),
        ({}, {"min_score": 0, "min_rating_weight": 40_001}, Criterion.TRACK_RECORD),
        ({"failures": 5, "price": 10**9}, {}, Criterion.RELIABILITY),
        ({"price": 10**9}, {}, Criterion.MAX_PRICE),
    ],
)
def test_the_first_failed_criterion_follows_the_contract_order(
    listing: dict[str, object], criteria: dict[str, object], expected: Criterion
) -> None:
    assert first_failed_criterion(_listing(**listing), _criteria(**criteria)) is expected


def test_the_criterion_enum_is_the_spec_order() -> None:
    assert [c.name for c in Criterion] == [
        "NONE",
        "PROVIDER_INACTIVE",
        "CRITERIA_NOT_SET",
        "CURRENCY",
        "REGION",
        "BLOCKED",
        "OWNER_BLOCKED",
        "REQUIRED_ATTRIBUTES",
        "REFUSED_ATTRIBUTES",
        "VERIFIED_ATTRIBUTES",
        "MIN_SCORE",
        "TRACK_RECORD",
        "RELIABILITY",
        "MAX_PRICE",
    ]
    assert all(c.reason for c in Criterion)


def test_the_price_ceiling_rises_with_the_score_above_the_minimum() -> None:
    criteria = _criteria(min_score=40_000, max_price=100, premium_per_star=50)
    assert price_ceiling(criteria, 39_999) == 0
    assert price_ceiling(criteria, 40_000) == 100
    assert price_ceiling(criteria, 45_000) == 125


def test_criteria_problems_are_named() -> None:
    assert criteria_problem(_criteria()) is None
    assert (
        criteria_problem(_criteria(verified_attributes=0b10))
        == "verified attributes must also be required"
    )
    assert criteria_problem(_criteria(trusted_attestors=0b11110)) is None
    assert criteria_problem(_criteria(trusted_attestors=0b111110)) == "at most 4 trusted attestors"


def test_change_kinds_have_cli_names() -> None:
    assert change_kind("fee-rate") is ChangeKind.FEE_RATE
    assert change_kind("MIN_FEE") is ChangeKind.MIN_FEE
    with pytest.raises(ValueError, match="unknown change kind 'x'; known: fee-rate"):
        change_kind("x")
