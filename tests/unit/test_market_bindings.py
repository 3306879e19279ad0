"""The typed bindings' structs match the contract's ABI field by field, in order."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from marketplace.chain.market import BookingRequest, CriteriaInput, ListingInput, snake_to_camel
from marketplace.domain import decode_booking_id


def _inputs(function: str) -> list[dict[str, Any]]:
    from marketplace.chain.scan import marketplace_abi

    abi = marketplace_abi()
    entry = next(e for e in abi if e.get("type") == "function" and e["name"] == function)
    return list(entry["inputs"][0 if function != "updateListing" else 1]["components"])


@pytest.mark.parametrize(
    ("struct", "function"),
    [
        (ListingInput, "register"),
        (BookingRequest, "book"),
        (CriteriaInput, "setCriteria"),
        (ListingInput, "updateListing"),
    ],
)
def test_each_struct_lists_the_abi_components_in_order(struct: type, function: str) -> None:
    names = [snake_to_camel(f.name) for f in fields(struct)]
    assert names == [c["name"] for c in _inputs(function)]


def test_a_request_knows_the_id_its_booking_will_have() -> None:
    customer = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
    request = BookingRequest(7, 1_800_000_000, 60, 2, offer_version=3, criteria_version=5)
    key = decode_booking_id(request.booking_id(customer))
    assert (key.customer, key.provider_id, key.start, key.duration_minutes, key.salt) == (
        customer,
        7,
        1_800_000_000,
        60,
        2,
    )
    assert request.as_tuple() == (7, 1_800_000_000, 60, 2, 3, 5)
