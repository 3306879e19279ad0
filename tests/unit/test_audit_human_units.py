"""The audit pages speak human units (issue 14): no wei, Unix time, bare bitmask or scientific
notation in an event's summary or on a chart axis."""

from __future__ import annotations

from typing import Any

from marketplace.audit.money import Money
from marketplace.audit.views import axis_number, summarise
from marketplace.chain.logs import DecodedEvent


def _event(name: str, **args: Any) -> DecodedEvent:
    return DecodedEvent(name, args, 1, "0x" + "0" * 64, 1_700_000_000, "0x" + "1" * 64, 0, 0)


MONEY = Money({})


def test_masks_scores_codes_and_amounts_read_as_words() -> None:
    text = summarise(_event("BookingRated", bookingId=1, stars=2, complaintTags=5,
                            newScore=32_500), MONEY)
    assert "complaintTags=" in text and "complaintTags=5" not in text
    assert "newScore=3.25 stars" in text
    criteria = summarise(_event("CriteriaSet", customer="0x" + "a" * 40, criteria={
        "category": 1, "region": 0, "currency": 0, "minScore": 0, "maxPrice": 10**17,
        "requiredAttributes": 0, "refusedAttributes": 1 << 6}), MONEY)
    assert "maxPrice=0.1 ETH" in criteria and "requiredAttributes=none" in criteria
    assert "category=Rides" in criteria and "region=any" in criteria
    assert "refusedAttributes=64" not in criteria


def test_operator_changes_read_in_their_unit() -> None:
    stake = summarise(_event("ChangeApplied", kind=1, account="0x" + "0" * 40, value=10**15),
                      MONEY)
    assert "kind=min stake" in stake and "value=0.001 ETH" in stake
    fee = summarise(_event("ChangeScheduled", kind=0, account="0x" + "0" * 40, value=250,
                           eta=1_700_000_000), MONEY)
    assert "value=2.5%" in fee and "eta=20" in fee


def test_chart_axes_never_use_scientific_notation() -> None:
    assert axis_number(15_000.0) == "15,000"
    assert axis_number(0.000015) == "0.000015"
    assert axis_number(1.5) == "1.5"
