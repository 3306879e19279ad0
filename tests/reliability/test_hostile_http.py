"""Hostile HTTP input the tests in tests/web do not already cover, each refused with a 4xx in the
shared error shape and never a 5xx: wrong content types, odd unicode, huge integers, bad
addresses, oversized bodies on every kind of endpoint, replayed sign-ins after signing out,
and CSRF tokens from another session or in the query string.

Covered elsewhere (not repeated here): a 413 for an oversized /api/v1/match body, forms without
a CSRF token, API JSON without the CSRF header, a nonce used twice, expired or foreign sign-in
messages, random junk in JSON, query, path and form inputs (tests/web/test_security.py,
tests/web/test_auth.py, tests/web/test_api.py).

"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from tests.support.world import CUSTOMERS, HELSINKI, RIDES, World, make_world

BASE = {"category": "rides", "max_price": "0.1 ether"}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = make_world(Path(tmp_path_factory.mktemp("hostile")))
    try:
        world.register("Aino's Rides", RIDES, HELSINKI, 0, 4 * 10**16)
        world.set_criteria(CUSTOMERS[0], RIDES)
        world.sync()
        yield world
    finally:
        world.close()


def refused(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.get_data()[:300])
    assert response.is_json, response.content_type
    body = response.get_json()
    assert {"error", "message", "field"} <= set(body), body
    return dict(body)


@pytest.mark.parametrize("content_type, data", [
    ("text/plain", json.dumps(BASE)),
    ("application/xml", "<criteria><category>rides</category></criteria>"),
    ("application/x-www-form-urlencoded", "category=rides&max_price=1"),
    ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1"
                                        "\r\n--x--\r\n"),
    (None, json.dumps(BASE)),
])
def test_a_json_endpoint_refuses_other_content_types_with_a_415(
        market: World, content_type: str | None, data: str) -> None:
    for path in ("/api/v1/match", "/api/v1/bookings/tx", "/api/v1/withdraw/tx"):
        response = market.client().raw.post(path, data=data, content_type=content_type)

        assert refused(response, 415)["error"] == "unsupported_media_type"


@pytest.mark.parametrize("path", ["/api/v1/match", "/api/v1/providers/tx", "/auth/nonce",
                                  "/auth/verify", "/api/v1/bookings/tx"])
def test_an_oversized_body_is_a_413_on_every_kind_of_json_endpoint(market: World,
                                                                     path: str) -> None:
    body = json.dumps({"name": "a" * 200_000}).encode()

    response = market.client().raw.post(path, data=body, content_type="application/json")

    assert refused(response, 413)["error"] == "too_large"


def test_an_oversized_form_is_a_413_and_not_a_crash(market: World) -> None:
    response = market.client().raw.post("/criteria", data={"category": "r" * 200_000})

    assert response.status_code == 413


@pytest.mark.parametrize("category", ["rides\u202e", "ri\u200bdes", "\ufeffrides", "RİDES",
                                      "rides\x00", "\udcff", "💥", "ｒｉｄｅｓ"])
def test_odd_unicode_in_a_choice_is_a_400_naming_the_field(market: World, category: str) -> None:
    response = market.client().raw.post(
        "/api/v1/match", data=json.dumps({**BASE, "category": category}).encode(),
        content_type="application/json")

    assert refused(response, 400)["field"] == "category"


@pytest.mark.parametrize("name", ["a\x00b", "\x1b[31mred", "line\u2028break\x07"])
def test_control_characters_in_a_listing_name_are_a_400(market: World, name: str) -> None:
    response = market.client().raw.post("/api/v1/providers/tx", json={
        "from": market.address(1), "category": "rides", "region": "helsinki", "price": "1",
        "stake": "0.001 ether", "name": name})

    assert refused(response, 400)["field"] == "name"


@pytest.mark.parametrize("field, value", [
    ("provider_id", 2**300), ("provider_id", -1), ("provider_id", 2**32),
    ("start", 2**256), ("start", -5), ("duration", 2**16), ("duration", 0),
    ("offer_version", 2**32), ("salt", 256),
    ("criteria_version", 2**32), ("criteria_version", 10**100),
])
def test_huge_or_negative_integers_in_a_booking_are_a_400_naming_the_field(
        market: World, field: str, value: Any) -> None:
    body = {"from": market.address(CUSTOMERS[0]), "provider_id": 1,
            "start": market.market.now() + 86_400, "duration": 60, "offer_version": 1,
            "currency": "ETH", "criteria_version": 1, field: value}

    response = market.client().raw.post("/api/v1/bookings/tx", json=body)

    assert refused(response, 400)["field"] == field


@pytest.mark.parametrize("query", [f"page={10**30}", f"per_page={10**30}", "page=-1",
                                   f"min_stars={'9' * 400}", f"max_price={'9' * 400}"])
def test_huge_integers_in_a_provider_query_are_a_400(market: World, query: str) -> None:
    refused(market.client().raw.get(f"/api/v1/providers?{query}"), 400)


@pytest.mark.parametrize("address", ["0x" + "a" * 39, "0x" + "a" * 41, "0x" + "g" * 40,
                                     "0x" + "ａ" * 40, "0X" + "a" * 40, "a" * 40,
                                     "0x" + "a" * 38 + "\u0661\u0662"])
def test_a_bad_address_is_a_400_wherever_an_address_goes(market: World, address: str) -> None:
    client = market.client().raw
    # In a path, an address that is no address matches no route: a 404 in the same shape.
    refused(client.get(f"/api/v1/criteria/{address}"), 404)
    responses = [
        client.get("/api/v1/providers", query_string={"owner": address}),
        client.post("/api/v1/withdraw/tx", json={"from": address}),
        client.post("/api/v1/match", json={**BASE, "customer": address}),
        client.post("/auth/nonce", json={"address": address}),
    ]
    for response in responses:
        refused(response, 400)


def test_json_nested_ten_levels_deep_is_a_400(market: World) -> None:
    body = b'{"category":' + b"[" * 10 + b"]" * 10 + b',"max_price":"1"}'

    response = market.client().raw.post("/api/v1/match", data=body,
                                        content_type="application/json")

    refused(response, 400)


def test_json_nested_twenty_thousand_levels_deep_is_a_400_not_a_500(market: World) -> None:
    response = market.client().raw.post("/api/v1/match", data=b"[" * 20_000 + b"]" * 20_000,
                                        content_type="application/json")

    refused(response, 400)


@pytest.mark.parametrize("amount", ["\u0661\u0660\u0660", "１００", "1_000"])
def test_an_amount_in_non_ascii_digits_or_with_underscores_is_a_400(market: World,
                                                                     amount: str) -> None:
    response = market.client().raw.post("/api/v1/match", json={**BASE, "max_price": amount})

    assert refused(response, 400)["field"] == "max_price"


def test_an_unfunded_sender_gets_a_4xx_and_not_a_503_while_the_chain_is_up(market: World) -> None:
    response = market.client().raw.post("/api/v1/bookings/tx", json={
        "from": "0x" + "12" * 20, "provider_id": 1, "expected_price": str(4 * 10**16),
        "criteria_version": 1})

    refused(response, 400, 409)


def _sign_in(world: World, client: Any, wallet: Any) -> tuple[str, str]:
    message = client.post("/auth/nonce", json={"address": wallet.address}).get_json()["message"]
    signature = Account.sign_message(encode_defunct(text=message), wallet.key).signature.hex()
    token = client.get("/auth/session").get_json()["csrf_token"]
    response = client.post("/auth/verify", json={"message": message, "signature": signature},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.get_json()
    return message, signature


def test_a_sign_in_replayed_after_signing_out_or_from_another_browser_is_refused(
        market: World) -> None:
    wallet = Account.create()
    client = market.client().raw
    message, signature = _sign_in(market, client, wallet)
    token = client.get("/auth/session").get_json()["csrf_token"]
    assert client.post("/auth/signout", headers={"X-CSRF-Token": token}).status_code < 400
    token = client.get("/auth/session").get_json()["csrf_token"]

    again = client.post("/auth/verify", json={"message": message, "signature": signature},
                        headers={"X-CSRF-Token": token})
    elsewhere = market.client().raw.post("/auth/verify", json={"message": message,
                                                               "signature": signature})

    assert refused(again, 400, 401, 403)["error"] != "internal_error"
    refused(elsewhere, 400, 401, 403)
    assert client.get("/auth/session").get_json().get("account") is None


def test_a_csrf_token_from_another_session_or_in_the_query_string_is_refused(
        market: World) -> None:
    victim, attacker = market.client(), market.client()
    victim.sign_in(CUSTOMERS[0])
    attacker.sign_in(CUSTOMERS[1])
    stolen = attacker.csrf()

    cross = victim.raw.put("/api/v1/profile/consent", json={"granted": True},
                           headers={"X-CSRF-Token": stolen})
    in_query = victim.raw.put(f"/api/v1/profile/consent?csrf_token={victim.csrf()}",
                              json={"granted": True})
    empty = victim.raw.put("/api/v1/profile/consent", json={"granted": True},
                           headers={"X-CSRF-Token": ""})

    for response in (cross, in_query, empty):
        assert refused(response, 403)["error"] == "csrf_failed"
    assert victim.raw.get("/api/v1/profile").get_json()["consent"] is False
