"""The JSON API: every endpoint, its happy path and its 4xx answers in the shared error shape."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from eth_utils.crypto import keccak
from web3.types import RPCEndpoint
from werkzeug.test import TestResponse

from marketplace.domain import booking_id
from tests.support.world import (
    ATTESTOR,
    ATTR,
    CLEANING,
    CUSTOMERS,
    DUSD,
    DUSD_UNIT,
    ESPOO,
    HELSINKI,
    PROVIDERS,
    RIDES,
    World,
)

ETH = 10**18


@pytest.fixture(scope="module")
def market(world: World) -> World:
    """Providers in two categories; a customer with rides criteria and one booking."""
    for i in range(12):
        world.register(f"Ride {i}", RIDES, HELSINKI if i % 2 else ESPOO,
                       1 << ATTR["compact_car"] if i % 3 == 0 else 0, (2 + i) * 10**16,
                       owner=PROVIDERS[i % 3])
    world.register("Clean One", CLEANING, HELSINKI, 1 << 9, 5 * 10**16)
    world.set_criteria(CUSTOMERS[0], RIDES, max_price=10**17)
    world.sync()
    return world


def error_shape(response: TestResponse, status: int, field: str | None = None) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == status, body
    assert set(body) >= {"error", "message", "field"}, body
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert body["field"] == field, body
    return dict(body)


def test_the_catalogue_names_every_category_region_attribute_and_tag(market: World) -> None:
    body = market.client().get("/api/v1/catalogue").get_json()

    assert [c["key"] for c in body["categories"]][:2] == ["rides", "cleaning"]
    assert len(body["attributes"]) == 20 and body["complaint_tags"][0]["key"] == "late"


def test_providers_are_listed_with_filters_and_pages(market: World) -> None:
    client = market.client()

    first = client.get("/api/v1/providers?category=rides&per_page=5").get_json()
    second = client.get("/api/v1/providers?category=rides&per_page=5&page=3").get_json()
    helsinki = client.get("/api/v1/providers?category=rides&region=helsinki").get_json()
    compact = client.get("/api/v1/providers?attributes=compact_car&max_price=0.06%20ether"
                         ).get_json()

    assert first["total"] == 12 and first["pages"] == 3 and len(first["items"]) == 5
    assert [p["id"] for p in second["items"]] == [11, 12]
    assert {p["region"] for p in helsinki["items"]} == {"helsinki"}
    assert [p["name"] for p in compact["items"]] == ["Ride 0", "Ride 3"]
    assert first["items"][0]["price"] == str(2 * 10**16)


@pytest.mark.parametrize(("query", "field"), [
    ("page=0", "page"), ("per_page=1000", "per_page"), ("category=boats", "category"),
    ("region=mars", "region"), ("active=maybe", "active"), ("attributes=wings", "attributes"),
    ("min_stars=6", "min_stars"), ("max_price=-1", "max_price"), ("owner=0x12", "owner"),
    ("page=1e9", "page"),
])
def test_a_bad_provider_filter_is_a_400_naming_it(market: World, query: str, field: str) -> None:
    error_shape(market.client().get(f"/api/v1/providers?{query}"), 400, field)


def test_one_provider_comes_with_its_history_reviews_and_eligibility(market: World) -> None:
    customer = market.address(CUSTOMERS[0])
    body = market.client().get(f"/api/v1/providers/1?customer={customer}").get_json()

    assert body["name"] == "Ride 0" and body["metadata_known"] is True
    assert body["score_history"] == [] and body["reviews"] == []
    assert body["eligibility"]["eligible"] is True
    cleaning = market.client().get(f"/api/v1/providers/13?customer={customer}").get_json()
    assert cleaning["eligibility"]["criterion"] == "criteria_not_set"


def test_an_unknown_provider_is_a_404_in_the_error_shape(market: World) -> None:
    error_shape(market.client().get("/api/v1/providers/999"), 404)
    error_shape(market.client().get("/api/v1/providers/1?customer=bob"), 400, "customer")


def test_match_takes_criteria_and_returns_the_ranking_with_reasons_and_quotes(
    market: World,
) -> None:
    body = market.client().post("/api/v1/match", json={
        "category": "rides", "region": "helsinki", "max_price": "0.1 ether", "k": 3,
        "score_weight": 0, "price_weight": 1, "explain": True}).get_json()

    assert body["eligible_count"] == 4 and len(body["matches"]) == 3
    assert [m["price"] for m in body["matches"]] == [str(p * 10**16) for p in (3, 5, 7)]
    assert all(m["reasons"] for m in body["matches"])
    assert body["criteria_version"] is None  # nobody's on-chain criteria
    assert body["summary"]["excluded"]["region"]["count"] == 6


def test_match_for_a_customer_with_those_criteria_on_chain_quotes_their_version(
    market: World,
) -> None:
    body = market.client().post("/api/v1/match", json={
        "category": "rides", "max_price": str(10**17), "customer": market.address(CUSTOMERS[0]),
    }).get_json()

    assert body["criteria_version"] == 1 and body["eligible_count"] == 9


@pytest.mark.parametrize(("payload", "field"), [
    ({"max_price": "1"}, "category"),
    ({"category": "rides", "max_price": "ten"}, "max_price"),
    ({"category": "rides", "max_price": 1.5}, "max_price"),
    ({"category": "rides", "max_price": "1", "min_stars": "5.5"}, "min_stars"),
    ({"category": "rides", "max_price": "1", "required": ["wings"]}, "required"),
    ({"category": "rides", "max_price": "1", "required": "pet_friendly"}, "required"),
    ({"category": "rides", "max_price": "1", "k": 0}, "k"),
    ({"category": "rides", "max_price": "1", "k": 101}, "k"),
    ({"category": "rides", "max_price": "1", "customer": "me"}, "customer"),
    ({"category": "rides", "max_price": str(2**96)}, "max_price"),
    ({"category": ["rides"], "max_price": "1"}, "category"),
    ({"category": "rides", "max_price": "1", "personalise": "sure"}, "personalise"),
    ({"category": "rides", "max_price": "1", "k": "5"}, "k"),
    ({"category": "rides", "max_price": "1", "explain": 1}, "explain"),
    ({"category": "rides", "max_price": "1", "min_stars": "4.55555"}, "min_stars"),
])
def test_bad_match_criteria_are_a_400_naming_the_field(
    market: World, payload: dict[str, object], field: str
) -> None:
    error_shape(market.client().post("/api/v1/match", json=payload), 400, field)


@pytest.mark.parametrize(("payload", "field"), [
    ({"category": "rides", "max_price": "1", "required": ["pet_friendly"],
      "refused": ["pet_friendly"]}, "refused"),
    ({"category": "rides", "max_price": "1", "score_weight": 0, "price_weight": 0},
     "score_weight"),
])
def test_criteria_that_match_the_schema_but_break_a_rule_are_a_422_naming_the_field(
    market: World, payload: dict[str, object], field: str
) -> None:
    body = error_shape(market.client().post("/api/v1/match", json=payload), 422, field)

    assert body["error"] == "unprocessable"


def test_a_match_body_that_is_not_a_json_object_is_refused_in_the_error_shape(
    market: World,
) -> None:
    client = market.client()

    error_shape(client.post("/api/v1/match", data="category=rides"), 415)
    error_shape(client.post("/api/v1/match", data="[1, 2",
                            content_type="application/json"), 400)
    error_shape(client.post("/api/v1/match", json=[1, 2]), 400)
    error_shape(client.post("/api/v1/match", data="x" * 100_000,
                            content_type="application/json"), 413)


def test_match_count_says_how_many_qualify_and_why_the_rest_do_not(market: World) -> None:
    body = market.client().post("/api/v1/match/count", json={
        "category": "rides", "max_price": "0.05 ether", "refused": ["compact_car"]}).get_json()

    assert body["in_category"] == 12
    assert body["eligible"] + sum(x["count"] for x in body["excluded"].values()) == 12
    assert "refused_attributes" in body["excluded"]


def test_criteria_can_be_read_per_customer_and_category(market: World) -> None:
    customer = market.address(CUSTOMERS[0])
    client = market.client()

    every = client.get(f"/api/v1/criteria/{customer}").get_json()
    rides = client.get(f"/api/v1/criteria/{customer}/rides").get_json()

    assert [c["category"] for c in every["criteria"]] == [RIDES]
    assert rides["version"] == 1 and rides["criteria"]["max_price"] == str(10**17)
    error_shape(client.get(f"/api/v1/criteria/{customer}/cleaning"), 404, "category")
    error_shape(client.get("/api/v1/criteria/nobody"), 404)
    assert client.get("/api/v1/criteria/tx").status_code == 405


def test_the_criteria_transaction_is_unsigned_calldata_for_the_wallet(market: World) -> None:
    sender = market.address(CUSTOMERS[1])
    body = market.client().post("/api/v1/criteria/tx", json={
        "from": sender, "category": "cleaning", "max_price": "0.2 ether",
        "refused": ["smoker"]}).get_json()

    tx = body["tx"]
    assert body["function"] == "setCriteria"
    assert tx["to"].lower() == market.market.address.lower()
    assert tx["from"].lower() == sender and tx["chainId"] == "0x7a69" and tx["value"] == "0x0"
    selector = keccak(text="setCriteria((uint16,uint16,uint8,uint16,uint88,uint88,uint64,uint64,"
                           "uint64,uint32,uint32,uint16,uint16,uint16))")[:4].hex()
    assert tx["data"].startswith("0x" + selector) and int(tx["gas"], 16) > 21_000
    assert "signature" not in body and "raw" not in str(body)


def test_a_transaction_needs_a_sender_or_a_signed_in_account(market: World) -> None:
    error_shape(market.client().post("/api/v1/criteria/tx", json={
        "category": "rides", "max_price": "1"}), 401, "from")
    error_shape(market.client().post("/api/v1/criteria/tx", json={
        "from": "0xZZ", "category": "rides", "max_price": "1"}), 400, "from")


def slot_body(market: World, provider_id: int, customer: int, **changes: Any) -> dict[str, Any]:
    """A booking request a day ahead, for the listing's current offer, in ether."""
    return {"from": market.address(customer), "provider_id": provider_id,
            "start": market.now() + 24 * 3600, "duration": 60, "offer_version": 1,
            "currency": 0, **changes}


def test_a_booking_transaction_that_would_revert_comes_back_decoded(market: World) -> None:
    start = market.now() + 30 * 3600
    market.book_direct(CUSTOMERS[0], 3, start=start, salt=9)  # the store has not seen it yet
    body = error_shape(market.client().post("/api/v1/bookings/tx", json=slot_body(
        market, 3, CUSTOMERS[0], start=start, salt=9)), 409)

    assert body["error"] == "contract_revert"
    assert body["details"]["error"] == "MarketplaceBookingExists"
    market.sync()


def test_a_booking_transaction_escrows_the_price_of_the_offer(market: World) -> None:
    body = market.client().post("/api/v1/bookings/tx", json=slot_body(
        market, 2, CUSTOMERS[0], salt=3)).get_json()

    assert body["kind"] == "transaction" and body["function"] == "book"
    assert int(body["tx"]["value"], 16) == 3 * 10**16 == int(body["price"])
    request = body["request"]
    assert body["args"] == [[2, request["start"], 60, 3, 1, 1]]
    assert int(body["booking_id"], 16) == booking_id(
        market.address(CUSTOMERS[0]), 2, request["start"], 60, 3)
    assert body["currency"]["symbol"] == "ETH" and body["terms"] == {
        "free_cancel_hours": 0, "late_cancel_pct": 0}


def test_a_token_booking_is_one_permit_signed_as_a_wallet_does_and_one_transaction(
        market: World) -> None:
    provider_id = market.register("Dollar Rides", RIDES, HELSINKI, 0, 12 * DUSD_UNIT,
                                  owner=PROVIDERS[2], currency=DUSD)
    market.set_criteria(CUSTOMERS[2], RIDES, currency=DUSD, max_price=20 * DUSD_UNIT)
    market.sync()
    client = market.client()
    customer = market.address(CUSTOMERS[2])
    body = slot_body(market, provider_id, CUSTOMERS[2], currency="DUSD")

    prepared = client.post("/api/v1/bookings/tx", json=body).get_json()
    assert prepared["kind"] == "permit", prepared
    typed = prepared["typed_data"]
    assert typed["primaryType"] == "Permit" and typed["message"]["value"] == str(12 * DUSD_UNIT)
    # What a browser wallet does with it: eth_signTypedData_v4 over the JSON, as anvil signs.
    signature = market.market.w3.provider.make_request(
        RPCEndpoint("eth_signTypedData_v4"), [customer, json.dumps(typed)])["result"]
    then = {**prepared["then"]["body"], "from": customer, "signature": signature}

    built = client.post("/api/v1/bookings/permit/tx", json=then).get_json()
    approve = client.post("/api/v1/bookings/tx", json={**body, "payment": "approve"}).get_json()
    wrong = client.post("/api/v1/bookings/permit/tx", json={**then, "value": "11000000"})
    forged = client.post("/api/v1/bookings/permit/tx", json={
        **then, "signature": "0x" + "11" * 64 + "1b"})

    assert built.get("kind") == "transaction", built
    assert built["function"] == "bookWithPermit"
    assert built["args"][1] == prepared["deadline"] and int(built["tx"]["value"], 16) == 0
    assert approve["kind"] == "approve" and approve["approve"]["function"] == "approve"
    assert approve["then"]["body"]["payment"] == "allowance"
    assert "exactly the price" in error_shape(wrong, 422, "value")["message"]
    error_shape(forged, 422, "signature")


def test_a_listing_and_a_match_say_which_attributes_are_verified_and_by_whom(
        market: World) -> None:
    electric = 1 << ATTR["electric_vehicle"]
    provider_id = market.register("Volt Rides", RIDES, HELSINKI, electric, 5 * 10**16,
                                  owner=PROVIDERS[2])
    market.transact("attest", provider_id, electric, sender=ATTESTOR)
    market.sync()
    client = market.client()

    listing = client.get(f"/api/v1/providers/{provider_id}").get_json()
    found = client.post("/api/v1/match", json={
        "category": "rides", "max_price": "0.1 ether", "verified": ["electric_vehicle"],
        "trusted_attestors": [1], "k": 50}).get_json()
    refused = client.post("/api/v1/match", json={
        "category": "rides", "max_price": "0.1 ether", "verified": ["electric_vehicle"],
        "k": 50})

    attestor = market.address(ATTESTOR)
    assert listing["verified_by"] == [{"attribute": "electric_vehicle", "trusted": False,
                                       "attestors": [{"id": 1, "account": attestor}]}]
    assert listing["owner_history"]["listings"] >= 4  # PROVIDERS[2]'s other listings
    (volt,) = [m for m in found["matches"] if m["provider_id"] == provider_id]
    assert [m["provider_id"] for m in found["matches"]] == [provider_id]
    assert volt["verified"][0]["trusted"] is True
    assert any("verified: 'electric vehicle' by attestor #1" in r for r in volt["reasons"])
    assert any(r.startswith("new listing; its owner's") for r in volt["reasons"])
    assert int(volt["adjusted_price"]) == 5 * 10**16
    error_shape(refused, 422, "trusted_attestors")


def test_v2_criteria_go_on_chain_in_the_contracts_order(market: World) -> None:
    body = market.client().post("/api/v1/criteria/tx", json={
        "from": market.address(CUSTOMERS[1]), "category": "rides", "currency": "dUSD",
        "max_price": 15 * DUSD_UNIT, "verified": ["electric_vehicle"], "trusted_attestors": [1],
        "min_track_record": 2.5, "min_reliability": 90}).get_json()
    too_many = market.client().post("/api/v1/criteria/tx", json={
        "from": market.address(CUSTOMERS[1]), "category": "rides", "max_price": "0.1 ether",
        "trusted_attestors": [1, 2, 3, 4, 5]})

    electric = 1 << ATTR["electric_vehicle"]
    assert body["function"] == "setCriteria", body
    (criteria,) = body["args"]
    assert criteria[:3] == [RIDES, 0, DUSD] and int(criteria[4]) == 15 * DUSD_UNIT
    assert criteria[6] == criteria[8] == electric and criteria[9] == 1
    assert criteria[10:12] == [2_500, 9_000]
    error_shape(too_many, 422, "trusted_attestors")


def test_a_sender_without_the_funds_gets_a_409_in_the_products_words(market: World) -> None:
    response = market.client().post("/api/v1/providers/1/tx/top_up", json={
        "from": "0x" + "de" * 20, "amount": str(10**15)})

    body = error_shape(response, 409)
    assert body["error"] == "insufficient_funds" and body["field"] == "from"
    assert str(body["message"]).startswith("The sending account cannot pay")


def test_bad_booking_inputs_are_400s_naming_each_field(market: World) -> None:
    body = error_shape(market.client().post("/api/v1/bookings/tx", json={
        "from": market.address(CUSTOMERS[0]), "provider_id": 0, "start": "x",
        "duration": True, "currency": 0}), 400)

    assert set(body["fields"]) == {"provider_id", "start", "duration", "offer_version"}


def test_a_booking_and_its_action_transactions_are_served(market: World) -> None:
    booking = market.book_direct(CUSTOMERS[0], 2, salt=1)
    market.sync()
    client = market.client()
    customer, provider = market.address(CUSTOMERS[0]), market.address(PROVIDERS[1])

    shown = client.get(f"/api/v1/bookings/{hex(booking)}").get_json()
    decimal = client.get(f"/api/v1/bookings/{booking}").get_json()
    listed = client.get(f"/api/v1/bookings?customer={customer}").get_json()
    accept = client.post(f"/api/v1/bookings/{hex(booking)}/tx/accept",
                         json={"from": provider}).get_json()
    refused = client.post(f"/api/v1/bookings/{hex(booking)}/tx/accept",
                          json={"from": market.address(CUSTOMERS[3])})
    cancel = client.post(f"/api/v1/bookings/{hex(booking)}/tx/cancel",
                         json={"from": customer}).get_json()

    assert shown["status"] == "requested" and shown["timeline"][0]["event"] == (
        "BookingRequested")
    assert decimal["id"] == shown["id"] and listed["total"] >= 1
    assert accept["function"] == "accept"
    assert error_shape(refused, 409)["error"] == "contract_revert"
    assert cancel["function"] == "cancel"
    assert cancel["refund_preview"]["refund"] == str(3 * 10**16)
    assert cancel["refund_preview"]["free"] is True
    error_shape(client.post(f"/api/v1/bookings/{hex(booking)}/tx/fly", json={
        "from": customer}), 404)
    error_shape(client.post(f"/api/v1/bookings/{hex(booking)}/tx/rate", json={
        "from": customer}), 400, "stars")
    error_shape(client.post(f"/api/v1/bookings/{hex(booking)}/tx/confirm_and_rate", json={
        "from": customer, "stars": 6}), 400, "stars")
    error_shape(client.get("/api/v1/bookings/0xabc"), 404)
    error_shape(client.get("/api/v1/bookings/0"), 404, "booking_id")
    error_shape(client.get("/api/v1/bookings/nope"), 404)
    assert client.get("/api/v1/bookings").get_json()["total"] >= 1  # every booking
    not_allowed = client.get("/api/v1/bookings/tx")
    assert error_shape(not_allowed, 405) and "POST" in not_allowed.headers["Allow"]


def test_a_dispute_sends_exactly_the_bond(market: World) -> None:
    start = market.now() + 2 * 3600
    booking = market.book_direct(CUSTOMERS[0], 2, start=start, salt=2)
    owner = PROVIDERS[1]
    market.transact("accept", booking, sender=owner)
    market.mine(2 * 3600 + 60)
    market.transact("complete", booking, sender=owner)
    market.sync()

    body = market.client().post(f"/api/v1/bookings/{hex(booking)}/tx/dispute", json={
        "from": market.address(CUSTOMERS[0])}).get_json()

    bond = int(market.market.call("disputeBond"))
    assert body["function"] == "dispute" and int(body["tx"]["value"], 16) == bond > 0


def test_registering_builds_a_staked_transaction_and_stores_the_metadata(market: World) -> None:
    client = market.client()
    body = client.post("/api/v1/providers/tx", json={
        "from": market.address(9), "category": "repairs", "region": "tampere",
        "attributes": ["certified", "insured"], "price": "0.03 ether", "stake": str(10**15),
        "free_cancel_hours": 24, "late_cancel_pct": 50, "instant": True,
        "name": "Otso Fixes", "description": "Pipes and sockets"}).get_json()

    assert body["function"] == "register" and int(body["tx"]["value"], 16) == 10**15
    listing = body["args"][0]
    expected = keccak(b'{"description":"Pipes and sockets","name":"Otso Fixes"}').hex()
    assert listing[5] == "0x" + expected
    assert listing[6:] == [True, 24, 50]
    error_shape(client.post("/api/v1/providers/tx", json={
        "from": market.address(9), "category": "repairs", "price": "0.03 ether",
        "stake": "1", "name": "Cheap"}), 422, "stake")
    error_shape(client.post("/api/v1/providers/tx", json={
        "from": market.address(9), "category": "repairs", "price": "0", "stake": str(10**15),
        "name": "x" * 81}), 400)
    error_shape(client.post("/api/v1/providers/tx", json={
        "from": market.address(9), "category": "repairs", "price": "0.03 ether",
        "stake": str(10**15), "name": "Late", "late_cancel_pct": 101}), 400, "late_cancel_pct")


def test_listing_changes_stake_blocks_attestations_and_withdrawals_have_transactions(
        market: World) -> None:
    client = market.client()
    owner = market.address(PROVIDERS[0])

    update = client.post("/api/v1/providers/1/tx/update", json={
        "from": owner, "region": "espoo", "price": "0.02 ether", "name": "Ride 0"}).get_json()
    deactivate = client.post("/api/v1/providers/1/tx/deactivate", json={"from": owner})
    top_up = client.post("/api/v1/providers/1/tx/top_up", json={
        "from": owner, "amount": str(10**15)}).get_json()
    withdraw = client.post("/api/v1/withdraw/tx", json={"from": owner, "currency": 0})
    owner_block = client.post("/api/v1/blocks/tx", json={
        "from": market.address(CUSTOMERS[2]), "owner": owner}).get_json()

    assert update["function"] == "updateListing"
    assert deactivate.get_json()["function"] == "deactivate"
    assert top_up["function"] == "topUpStake" and int(top_up["tx"]["value"], 16) == 10**15
    assert error_shape(withdraw, 409)["error"] == "contract_revert"
    assert owner_block["function"] == "setOwnerBlocked" and owner_block["args"][1] is True
    error_shape(client.post("/api/v1/blocks/tx", json={
        "from": owner, "owner": owner, "provider_id": 1}), 422)
    error_shape(client.post("/api/v1/withdraw/tx", json={"from": owner, "currency": 77}), 422,
                "currency")
    error_shape(client.post("/api/v1/providers/1/tx/explode", json={"from": owner}), 404)


def test_operator_changes_are_timelocked_transactions(market: World) -> None:
    client = market.client()
    operator = market.address(0)

    scheduled = client.post("/api/v1/operator/changes/tx", json={
        "from": operator, "step": "schedule", "kind": "fee-rate", "value": 300}).get_json()
    early = client.post("/api/v1/operator/changes/tx", json={
        "from": operator, "step": "apply", "kind": "fee-rate", "value": 300})

    assert scheduled["function"] == "scheduleChange" and scheduled["args"][0] == 0
    assert error_shape(early, 409)["error"] == "contract_revert"
    error_shape(client.post("/api/v1/operator/changes/tx", json={
        "from": operator, "step": "schedule", "kind": "fee", "value": 1}), 400, "kind")
    assert client.get("/api/v1/operator/changes?status=scheduled").status_code == 200


def test_the_status_of_a_transaction_follows_it_until_indexed(market: World) -> None:
    receipt = market.transact("setCriteria", (5, 0, 0, 0, 10**17, 0, 0, 0, 0, 0, 0, 0, 1, 1),
                              sender=CUSTOMERS[2])
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    client = market.client()

    before = client.get(f"/api/v1/tx/{tx_hash}").get_json()
    market.sync()
    after = client.get(f"/api/v1/tx/{tx_hash}").get_json()

    assert before["status"] == "mined" and after["status"] == "indexed"
    assert after["events"] == ["CriteriaSet"]
    assert client.get("/api/v1/tx/0x" + "00" * 32).get_json()["status"] == "unknown"
    error_shape(client.get("/api/v1/tx/0x1234"), 404)


def test_profile_endpoints_need_a_signed_in_account(market: World) -> None:
    client = market.client()

    error_shape(client.get("/api/v1/profile"), 401)
    error_shape(client.get("/api/v1/profile/export"), 401)
    error_shape(client.raw.delete("/api/v1/profile"), 401)
    error_shape(client.raw.put("/api/v1/profile/consent", json={"granted": True}), 401)


def test_a_signed_in_customer_grants_consent_exports_and_erases_through_the_api(
    market: World,
) -> None:
    client = market.client()
    client.sign_in(CUSTOMERS[0])

    granted = client.post_json("/api/v1/profile/consent", {"granted": True}, method="PUT")
    profile = client.raw.get("/api/v1/profile").get_json()
    exported = client.raw.get("/api/v1/profile/export").get_json()
    bad = client.post_json("/api/v1/profile/consent", {"granted": "perhaps"}, method="PUT")
    erased = client.post_json("/api/v1/profile", method="DELETE")
    after = client.raw.get("/api/v1/profile").get_json()

    assert granted.get_json()["consent"] is True and profile["consent"] is True
    assert exported["consents"] and exported["customer"] == market.address(CUSTOMERS[0])
    error_shape(bad, 400, "granted")
    assert erased.get_json()["erased"] is True and after["consent"] is False


def test_state_changing_calls_from_a_browser_session_need_the_csrf_header(market: World) -> None:
    client = market.client()
    client.sign_in(CUSTOMERS[0])

    response = client.post_json("/api/v1/profile/consent", {"granted": True}, csrf=False,
                                method="PUT")

    assert error_shape(response, 403)["error"] == "csrf_failed"


def _urls(path: str, parameters: list[dict[str, Any]]) -> list[str]:
    """Every concrete URL of a documented path: each enum value, else the first example."""
    urls = [path]
    for param in parameters:
        if param["in"] != "path":
            continue
        schema = param["schema"]
        values = schema.get("enum") or schema.get("examples") or [schema.get("minimum", 1)]
        urls = [u.replace("{" + param["name"] + "}", str(v)) for u in urls for v in values]
    return urls


def test_the_openapi_document_and_the_routes_describe_the_same_operations(
        market: World) -> None:
    document = market.client().get("/api/v1/openapi.json").get_json()
    adapter = market.app.url_map.bind("localhost")

    reached: set[tuple[str, str]] = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for url in _urls(path, operation.get("parameters", [])):
                endpoint, _args = adapter.match("/api/v1" + url, method=method.upper())
                reached.add((str(endpoint), method.upper()))
    served = {(rule.endpoint, method) for rule in market.app.url_map.iter_rules()
              if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}

    assert document["openapi"] == "3.1.0"
    assert reached == served


def test_every_request_body_carries_an_example(market: World) -> None:
    document = market.client().get("/api/v1/openapi.json").get_json()

    bodies = [op["requestBody"]["content"]["application/json"]
              for item in document["paths"].values() for op in item.values()
              if "application/json" in op.get("requestBody", {}).get("content", {})]

    assert bodies and all("example" in media for media in bodies)


def test_healthz_reports_chain_store_and_indexer_lag(market: World) -> None:
    market.sync()
    body = market.client().get("/healthz").get_json()

    assert body["status"] == "ok"
    assert body["chain"]["ok"] and body["store"]["ok"] and body["indexer"]["ok"]
    assert body["payouts"] == {"ok": True, "evm_version": "cancun", "missing": []}
    assert body["indexer"]["lag_blocks"] == 0
    assert body["matching"]["providers"] == len(market.providers)


def test_granting_consent_through_the_api_learns_the_ratings_given_before(market: World) -> None:
    customer, provider_id = CUSTOMERS[3], 5  # "Ride 4", owned by PROVIDERS[1], 0.06 ether
    market.set_criteria(customer, RIDES, max_price=10**17)
    start = market.now() + 3600
    booking = market.book_direct(customer, provider_id, start=start)
    market.transact("accept", booking, sender=PROVIDERS[1])
    market.mine(3600 + 60)
    market.transact("complete", booking, sender=PROVIDERS[1])
    market.transact("confirmAndRate", booking, 2, 1 << 3, sender=customer)
    market.sync()
    client = market.client()
    client.sign_in(customer)

    before = client.raw.get("/api/v1/profile").get_json()
    granted = client.post_json("/api/v1/profile/consent", {"granted": True}, method="PUT")
    after = client.raw.get("/api/v1/profile").get_json()

    assert before["consent"] is False and before["learned"] is None
    assert granted.get_json()["consent"] is True
    assert after["learned"] is not None


# ------------------------------------------------------------------ contract v2, no chain needed
#
# An app over a fresh SQLite store and a node that does not answer: availability, the checks a
# booking preparation makes before it needs the chain, and the cancellation preview, with the
# store rows the indexer would have written.

OWNER = "0x" + "0a" * 20
CUSTOMER = "0x" + "0c" * 20
NOW = int(time.time())


def _row(table: Any, **values: Any) -> dict[str, Any]:
    """Every NOT NULL column of `table` (0, False, '' by type), then `values`."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.nullable or column.name in values:
            continue
        python = getattr(column.type, "python_type", int) if not hasattr(
            column.type, "impl") else int
        row[column.name] = False if python is bool else "" if python is str else 0
    row.update(values)
    return row


@pytest.fixture(scope="module")
def chainless(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app over a store with two listings (ether with hours, a DUSD token one), DUSD
    enabled, XUSD disabled, a customer with criteria in DUSD, and an accepted booking with
    cancellation terms."""
    from sqlalchemy import insert

    from marketplace.config import Settings
    from marketplace.store import schema
    from marketplace.web import create_app
    from marketplace.web.config import WebConfig

    tmp = tmp_path_factory.mktemp("chainless")
    app = create_app(WebConfig(
        settings=Settings(rpc_url="http://127.0.0.1:9", database_url=f"sqlite:///{tmp}/s.db",
                          retry_for=0.1),
        secret_key="k" * 40, testing=True, secure_cookies=False))
    engine = app.extensions["marketplace"].engine
    with engine.begin() as conn:
        conn.execute(insert(schema.blocks).values(_row(schema.blocks, number=1, timestamp=NOW,
                                                       hash="0x" + "00" * 32)))
        for pid, currency, price in ((1, 0, 4 * 10**16), (2, 1, 12_500_000)):
            conn.execute(insert(schema.providers).values(_row(
                schema.providers, provider_id=pid, owner=OWNER, category=1, region=1,
                attributes=0, currency=currency, price=price, active=True, offer_version=2,
                metadata_hash="0x" + "00" * 32, score=35_000, reliability=9_000,
                free_cancel_hours=24, late_cancel_pct=40)))
        for currency, symbol, enabled in ((1, "DUSD", True), (2, "XUSD", False)):
            conn.execute(insert(schema.currencies).values(_row(
                schema.currencies, currency=currency, token="0x" + f"{currency:02x}" * 20,
                enabled=enabled, min_fee=10_000, symbol=symbol, decimals=6)))
        conn.execute(insert(schema.criteria).values(_row(
            schema.criteria, customer=CUSTOMER, category=1, version=1, currency=1,
            max_price=10**9, score_weight=5_000, price_weight=5_000)))
        conn.execute(insert(schema.bookings).values(_row(
            schema.bookings, booking_id=77, customer=CUSTOMER, owner=OWNER, provider_id=1,
            start=NOW + 10 * 3600, duration_minutes=60, status=2, price=10**17,
            free_cancel_hours=24, late_cancel_pct=40, offer_version=2, instant=False)))
    return app


def signed_in(app: Any, account: str) -> Any:
    client = app.test_client()
    with client.session_transaction() as session:
        session["account"] = account
        session["csrf"] = "token"
    return client


CSRF = {"X-CSRF-Token": "token"}
WEEKDAYS = {"time_zone": "Europe/Helsinki",
            "hours": [{"day": d, "from": "09:00", "to": "17:00"}
                      for d in ("mon", "tue", "wed", "thu", "fri")]}


def test_weekly_hours_are_published_by_the_owner_only_and_validated(chainless: Any) -> None:
    anonymous = chainless.test_client()
    assert anonymous.get("/api/v1/providers/1/availability").get_json()["bookable_any_time"]
    error_shape(anonymous.get("/api/v1/providers/9/availability"), 404, "provider_id")
    error_shape(anonymous.put("/api/v1/providers/1/availability", json=WEEKDAYS), 401)
    stranger = signed_in(chainless, CUSTOMER)
    error_shape(stranger.put("/api/v1/providers/1/availability", json=WEEKDAYS,
                             headers=CSRF), 403)
    owner = signed_in(chainless, OWNER)
    bad = {**WEEKDAYS, "time_zone": "Mars/Olympus"}
    assert "IANA" in error_shape(owner.put("/api/v1/providers/1/availability", json=bad,
                                           headers=CSRF), 422, "time_zone")["message"]
    overlap = {"time_zone": "UTC", "hours": [{"day": "mon", "from": "09:00", "to": "12:00"},
                                             {"day": "mon", "from": "11:00", "to": "13:00"}]}
    assert "overlap" in error_shape(owner.put("/api/v1/providers/1/availability", json=overlap,
                                              headers=CSRF), 422, "hours")["message"]
    error_shape(owner.put("/api/v1/providers/1/availability", json={
        "time_zone": "UTC", "hours": [{"day": "moon", "from": "09:00", "to": "10:00"}]},
        headers=CSRF), 400, "hours")
    saved = owner.put("/api/v1/providers/1/availability", json=WEEKDAYS, headers=CSRF)
    assert saved.status_code == 200, saved.get_json()
    shown = anonymous.get("/api/v1/providers/1/availability").get_json()
    assert shown["schedule"]["time_zone"] == "Europe/Helsinki"
    assert shown["description"].startswith("Monday 09:00-17:00")
    assert not shown["bookable_any_time"]


def test_free_slots_keep_to_the_hours_and_skip_open_bookings(chainless: Any) -> None:
    client = chainless.test_client()
    hel = ZoneInfo("Europe/Helsinki")
    body = client.get(f"/api/v1/providers/1/slots?duration=60&step=60&from={NOW}"
                      f"&to={NOW + 7 * 86_400}").get_json()
    assert body["slots"] and body["time_zone"] == "Europe/Helsinki"
    booked = (NOW + 10 * 3600, NOW + 11 * 3600)
    for slot in body["slots"]:
        local = datetime.fromtimestamp(slot["start"], hel)
        assert local.weekday() < 5 and 9 <= local.hour and local.hour + 1 <= 17
        assert slot["end"] <= booked[0] or slot["start"] >= booked[1]
    assert body["booked"] == [{"start": booked[0], "end": booked[1]}]
    any_time = client.get("/api/v1/providers/2/slots?duration=30&step=30").get_json()
    assert any_time["bookable_any_time"] and len(any_time["slots"]) == 500
    error_shape(client.get(f"/api/v1/providers/1/slots?from={NOW + 10}&to={NOW}"), 422, "to")
    error_shape(client.get("/api/v1/providers/1/slots?duration=0"), 400, "duration")


def _next_weekday_at(hour: int, weekday: int = 2) -> int:
    """A Unix time next week on `weekday` (0 = Monday) at `hour` Helsinki time."""
    hel = ZoneInfo("Europe/Helsinki")
    day = datetime.fromtimestamp(NOW, hel).date() + timedelta(days=7)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return int(datetime.combine(day, dtime(hour), hel).timestamp())


@pytest.mark.parametrize(("change", "status", "field", "words"), [
    ({"offer_version": 1}, 409, "offer_version", "changed the offer"),
    ({"currency": "DUSD"}, 422, "currency", "priced in ETH, not DUSD"),
    ({"currency": 9}, 422, "currency", "allowlist"),
    ({"start": NOW - 3600}, 422, "start", "past"),
    ({"start": NOW + 400 * 86_400}, 422, "start", "365 days"),
    ({"start": "saturday"}, 400, "start", None),
    ({"start": _next_weekday_at(20)}, 422, "start", "not available then"),
    ({"duration": 0}, 400, "duration", None),
])
def test_a_booking_the_contract_or_the_hours_refuse_is_a_4xx_naming_the_field(
        chainless: Any, change: dict[str, Any], status: int, field: str,
        words: str | None) -> None:
    customer = signed_in(chainless, CUSTOMER)
    body = {"provider_id": 1, "start": _next_weekday_at(10), "duration": 60,
            "offer_version": 2, "currency": 0, **change}
    error = error_shape(customer.post("/api/v1/bookings/tx", json=body, headers=CSRF),
                        status, field)
    if words is not None:
        assert words in error["message"], error


def test_a_token_not_allowlisted_and_an_own_listing_are_refused(chainless: Any) -> None:
    owner = signed_in(chainless, OWNER)
    body = {"provider_id": 2, "start": _next_weekday_at(10), "duration": 60,
            "offer_version": 2, "currency": "DUSD"}
    error_shape(owner.post("/api/v1/bookings/tx", json=body, headers=CSRF), 422, "provider_id")
    customer = signed_in(chainless, CUSTOMER)
    disabled = {**body, "currency": "XUSD"}
    assert "XUSD" in error_shape(customer.post("/api/v1/bookings/tx", json=disabled,
                                               headers=CSRF), 422, "currency")["message"]


def test_an_expired_or_wrong_amount_permit_is_refused_before_anything_is_sent(
        chainless: Any) -> None:
    customer = signed_in(chainless, CUSTOMER)
    body = {"provider_id": 2, "start": _next_weekday_at(10), "duration": 60,
            "offer_version": 2, "currency": "DUSD", "salt": 1, "criteria_version": 1,
            "deadline": NOW + 600, "signature": "0x" + "11" * 65}
    wrong = customer.post("/api/v1/bookings/permit/tx", json={**body, "value": 12_000_000},
                          headers=CSRF)
    assert "exactly the price" in error_shape(wrong, 422, "value")["message"]
    expired = customer.post("/api/v1/bookings/permit/tx", json={**body, "deadline": NOW - 1},
                            headers=CSRF)
    assert "expired" in error_shape(expired, 422, "deadline")["message"]


def test_the_cancellation_preview_follows_the_locked_terms(chainless: Any) -> None:
    client = chainless.test_client()
    early = client.get(f"/api/v1/bookings/0x4d/cancellation?at={NOW - 20 * 3600}").get_json()
    late = client.get(f"/api/v1/bookings/77/cancellation?at={NOW}").get_json()
    after = client.get(f"/api/v1/bookings/0x4d/cancellation?at={NOW + 11 * 3600}").get_json()
    assert (early["refund"], early["compensation"], early["free"]) == (str(10**17), "0", True)
    assert (late["refund"], late["compensation"]) == (str(6 * 10**16), str(4 * 10**16))
    assert "40% late-cancellation compensation" in late["message"]
    assert not after["cancellable"] and "refund" not in after
    error_shape(client.get("/api/v1/bookings/0x99/cancellation"), 404, "booking_id")


def test_a_match_priced_in_a_token_reads_in_its_symbol(chainless: Any) -> None:
    body = chainless.test_client().post("/api/v1/match", json={
        "category": "rides", "currency": "DUSD", "max_price": 20_000_000}).get_json()

    assert [m["provider_id"] for m in body["matches"]] == [2]
    found = body["matches"][0]
    assert found["price_label"] == "12.5 DUSD"
    assert any(r.startswith("price 12.5 DUSD") for r in found["reasons"])


def test_the_document_describes_every_v2_operation(chainless: Any) -> None:
    paths = chainless.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in [("/providers/{provider_id}/availability", "put"),
                         ("/providers/{provider_id}/slots", "get"),
                         ("/bookings/tx", "post"), ("/bookings/permit/tx", "post"),
                         ("/bookings/{booking_id}/cancellation", "get"),
                         ("/bookings/{booking_id}/tx/confirm_and_rate", "post"),
                         ("/attestations/tx", "post"), ("/operator/changes/tx", "post"),
                         ("/providers/{provider_id}/tx/top_up", "post")]:
        assert method in paths[path], path
    book = paths["/bookings/tx"]["post"]["requestBody"]["content"]["application/json"]
    assert book["example"]["offer_version"] == 1
