"""The v2 pages' building blocks without a chain: slots in the viewer's time zone, amounts in a
listing's currency, permits, the review's words, and what a listing shows beside its stars."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from eth_account import Account
from werkzeug.datastructures import MultiDict

from marketplace.chain.token import permit_typed_data, sign_permit
from marketplace.domain import Status
from marketplace.units import Currency
from marketplace.web.customer.bookings import available_actions
from marketplace.web.errors import FieldError
from marketplace.web.forms import Inputs
from marketplace.web.money import ETHER, local_time, parse_amount, viewer_zone
from marketplace.web.permit import check_permit, permit_of
from marketplace.web.present import reliability_label, verified_json, weight_label
from marketplace.web.review import action_review, book_review, terms_text
from marketplace.web.slots import Slot, Window, check_slot, parse_slot, picker_days

HELSINKI = ZoneInfo("Europe/Helsinki")
DUSD = Currency(1, "DUSD", 6, "0x" + "ab" * 20)
NOW = int(datetime(2026, 12, 3, 8, 0, tzinfo=UTC).timestamp())


def form(**fields: str) -> Inputs:
    return Inputs(MultiDict(fields))


# ------------------------------------------------------------------ slots


def test_a_slot_is_read_in_the_viewers_time_zone() -> None:
    slot = parse_slot(form(slot_date="2026-12-04", slot_time="10:00", duration="90"), HELSINKI)

    assert slot == Slot(int(datetime(2026, 12, 4, 8, 0, tzinfo=UTC).timestamp()), 90)


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"slot_date": "", "slot_time": "10:00", "duration": "60"}, "slot_date", "Choose a date"),
    ({"slot_date": "2026-02-30", "slot_time": "10:00", "duration": "60"}, "slot_date",
     "no such date"),
    ({"slot_date": "2026-12-04", "slot_time": "25:00", "duration": "60"}, "slot_time",
     "no such time"),
    ({"slot_date": "2026-12-04", "slot_time": "10:00", "duration": "0"}, "duration",
     "at least one minute"),
    ({"slot_date": "2026-12-04", "slot_time": "10:00", "duration": "x"}, "duration",
     "whole number of minutes"),
])
def test_every_bad_slot_field_is_a_sentence_for_that_field(fields: dict[str, str], field: str,
                                                           words: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_slot(form(**fields), HELSINKI)

    assert words in caught.value.fields[field]


def test_a_slot_in_the_past_says_when_it_was_in_the_viewers_zone() -> None:
    with pytest.raises(FieldError) as caught:
        check_slot(Slot(NOW - 3600, 60), NOW, HELSINKI, None)

    assert caught.value.field == "slot_date"
    assert "has already passed" in caught.value.message and "EET" in caught.value.message


def test_a_slot_more_than_a_year_ahead_is_refused() -> None:
    with pytest.raises(FieldError, match="at most 365 days ahead"):
        check_slot(Slot(NOW + 366 * 86_400, 60), NOW, UTC, None)


def test_a_slot_outside_the_providers_free_time_names_the_field_and_the_times() -> None:
    free = [Window(NOW + 86_400, NOW + 86_400 + 4 * 3600)]
    check_slot(Slot(NOW + 86_400, 240), NOW, UTC, free)  # exactly fits

    with pytest.raises(FieldError) as caught:
        check_slot(Slot(NOW + 86_400 + 3600, 240), NOW, UTC, free)

    assert caught.value.field == "slot_time"
    assert "not available" in caught.value.message


def test_the_picker_lists_free_start_times_per_day_in_the_viewers_zone() -> None:
    start = int(datetime(2026, 12, 4, 7, 0, tzinfo=UTC).timestamp())  # 09:00 in Helsinki
    days = picker_days([Window(start, start + 2 * 3600)], HELSINKI, NOW)

    assert [d["date"] for d in days] == ["2026-12-04"]
    assert [t["time"] for t in days[0]["times"]] == ["09:00", "09:30", "10:00", "10:30"]
    assert days[0]["times"][0]["start"] == start


# ------------------------------------------------------------------ money and time


def test_amounts_are_typed_in_the_currencys_units() -> None:
    assert parse_amount("12.50", "price", DUSD) == 12_500_000
    assert parse_amount("12.5 DUSD", "price", DUSD) == 12_500_000
    assert parse_amount("0.05", "price", ETHER) == 5 * 10**16
    with pytest.raises(FieldError, match="6 decimals at most"):
        parse_amount("1.0000001", "price", DUSD)
    with pytest.raises(FieldError, match="like 12.50"):
        parse_amount("twelve", "price", DUSD)


def test_times_read_in_the_viewers_zone_and_unknown_zones_fall_back_to_utc() -> None:
    assert local_time(NOW, HELSINKI) == "Thu 2026-12-03 10:00 EET"
    assert viewer_zone("Mars/Olympus") is UTC
    assert viewer_zone(None) is UTC


# ------------------------------------------------------------------ permits


def test_a_wallet_signature_becomes_a_permit_that_is_checked_before_sending() -> None:
    owner = Account.create()
    typed = permit_typed_data(token_name="DemoUSD", token_address=DUSD.token or "",
                              chain_id=31337, owner=owner.address, spender="0x" + "cd" * 20,
                              value=12_500_000, nonce=0, deadline=NOW + 1200)
    signed = sign_permit(typed, owner)
    signature = "0x" + signed.r.hex() + signed.s.hex() + bytes([signed.v]).hex()

    permit = permit_of(typed, signature)
    check_permit(typed, permit, price=12_500_000, now=NOW)
    assert (permit.v, permit.r, permit.s) == (signed.v, signed.r, signed.s)

    with pytest.raises(FieldError, match="expired"):
        check_permit(typed, permit, price=12_500_000, now=NOW + 1200)
    with pytest.raises(FieldError, match="exactly the price"):
        check_permit(typed, permit, price=13_000_000, now=NOW)
    with pytest.raises(FieldError, match="wrong length"):
        permit_of(typed, "0x1234")


def test_a_permit_signed_by_another_account_is_refused_in_words() -> None:
    owner, other = Account.create(), Account.create()
    typed = permit_typed_data(token_name="DemoUSD", token_address=DUSD.token or "",
                              chain_id=31337, owner=owner.address, spender="0x" + "cd" * 20,
                              value=5, nonce=0, deadline=NOW + 1200)
    signed = sign_permit(typed, other)
    signature = "0x" + signed.r.hex() + signed.s.hex() + bytes([signed.v]).hex()

    with pytest.raises(FieldError) as caught:
        check_permit(typed, permit_of(typed, signature), price=5, now=NOW)

    assert caught.value.field == "permit" and "switch the wallet's account" in caught.value.message


# ------------------------------------------------------------------ review words


def test_the_booking_review_states_slot_amounts_terms_and_what_cannot_be_undone() -> None:
    review = book_review(
        provider={"name": "Lumi Cleaning", "id": 5}, price=12_500_000, currency=DUSD,
        fee=312_500, start=NOW + 86_400, minutes=90, zone=HELSINKI, terms=(24, 50),
        instant=True, offer_version=3, permit=True, back_url="/book/5")
    facts = dict(review.facts)

    assert facts["Price escrowed now"] == "12.5 DUSD"
    fee = facts["Marketplace fee (taken from the provider's payment at settlement)"]
    assert "0.3125 DUSD" in fee
    assert facts["Slot"] == "Fri 2026-12-04 10:00 EET, 90 minutes"
    assert "24 hours before the start" in facts["Cancellation terms"]
    assert "50%" in facts["Cancellation terms"]
    assert facts["Acceptance"].startswith("Instant")
    assert "version 3" in facts["Offer"]
    assert "One signature" in facts["Signatures"]
    assert review.final and "escrow" in review.final[0]


def test_a_late_cancellation_review_shows_the_refund_under_the_terms() -> None:
    booking = {"booking_id": 1, "price": 100_000_000, "status": int(Status.ACCEPTED),
               "start": NOW + 3600, "free_cancel_hours": 24, "late_cancel_pct": 30}
    review = action_review("cancel", booking, currency=DUSD, settings={}, now=NOW, zone=UTC,
                           inputs={}, back_url="/")
    facts = dict(review.facts)

    assert facts["Refund"] == "70 DUSD"
    assert facts["Kept by the provider (late cancellation, no fee)"] == "30 DUSD"


def test_a_rating_review_says_the_rating_is_final_and_names_the_complaints() -> None:
    booking = {"booking_id": 1, "price": 10**16, "status": int(Status.COMPLETED), "fee": 10**14}
    review = action_review("confirm_and_rate", booking, currency=ETHER, settings={}, now=NOW,
                           zone=UTC, inputs={"stars": "2", "complaint_tags": ["late"]},
                           back_url="/")
    facts = dict(review.facts)

    assert facts["Your rating"] == "2 stars"
    assert facts["Paid to the provider"] == "0.0099 ETH"
    assert any("cannot be changed" in line for line in review.final)


def test_a_dispute_review_states_the_bond_and_who_pays_it() -> None:
    booking = {"booking_id": 1, "price": 10**16, "status": int(Status.COMPLETED),
               "arbiter": "0x" + "11" * 20}
    review = action_review("dispute", booking, currency=ETHER,
                           settings={"dispute_bond": 10**15}, now=NOW, zone=UTC, inputs={},
                           back_url="/")
    facts = dict(review.facts)

    assert facts["Dispute bond (ether, sent now)"] == "0.001 ETH"
    assert "losing side" in facts["Who pays the bond"]


def test_terms_read_as_a_sentence() -> None:
    assert terms_text(0, 0) == "Free cancellation until the start."
    assert terms_text(1, 100).startswith("Free cancellation until 1 hour before")


# ------------------------------------------------------------------ listing signals


def test_stars_carry_their_weight_and_reliability_its_counts() -> None:
    assert weight_label(1_000) == "weight 1 (as much as 1 minimum-fee rating)"
    assert weight_label(12_500).startswith("weight 12.5")
    assert reliability_label(9_000, 0, 0) == "90% reliable (0 completed, 0 failed)"


def test_verified_attributes_name_their_attestor_and_ignore_unnamed_or_unclaimed_ones() -> None:
    electric, pets = 1 << 0, 1 << 2
    shown = verified_json(
        electric, [{"attestor_id": 1, "attributes": electric | pets},
                   {"attestor_id": 2, "attributes": electric}],
        {1: {"account": "0x" + "aa" * 20, "allowed": True},
         2: {"account": "0x" + "bb" * 20, "allowed": False}})

    assert len(shown) == 1 and shown[0]["by"] == ["attestor #1 (0xaaaa…aaaa)"]


# ------------------------------------------------------------------ actions by state and time


def _booking(status: Status, start: int) -> dict[str, object]:
    return {"status": int(status), "deadline": start + 7200, "start": start, "rated": False}


def test_a_customer_can_cancel_an_accepted_booking_only_before_its_start() -> None:
    assert "cancel" in available_actions(_booking(Status.ACCEPTED, NOW + 60), "customer",
                                         False, NOW)
    assert "cancel" not in available_actions(_booking(Status.ACCEPTED, NOW - 60), "customer",
                                             False, NOW)


def test_complete_is_offered_only_from_the_start() -> None:
    assert "complete" not in available_actions(_booking(Status.ACCEPTED, NOW + 60), "provider",
                                               False, NOW)
    assert "complete" in available_actions(_booking(Status.ACCEPTED, NOW - 60), "provider",
                                           False, NOW)


def test_a_completed_booking_offers_confirm_and_rate_in_one_step() -> None:
    actions = available_actions(_booking(Status.COMPLETED, NOW - 3600), "customer", False, NOW)

    assert actions[0] == "confirm_and_rate" and "dispute" in actions
