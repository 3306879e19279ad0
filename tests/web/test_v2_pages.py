"""The v2 pages against a store written directly (no chain yet): the booking page's slot picker,
currency, terms and offer version; every bad slot, a changed offer and a disabled currency as a
sentence next to its field; the review before anything is signed; the listing page's signals;
the criteria form's new fields; the provider's availability, and the attestor's page.

The chain is replaced where a page would simulate a transaction (`chain.build`): these tests
are about what the pages show and refuse, the browser tests about the chain.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import BigInteger, Boolean, Integer, SmallInteger, insert

from marketplace.chain.tx import UnsignedTransaction
from marketplace.config import Settings
from marketplace.store import schema
from marketplace.store.schema import Uint
from marketplace.web import create_app
from marketplace.web.config import WebConfig
from marketplace.web.context import services

CUSTOMER = "0x" + "c1" * 20  # criteria in ether
TOKEN_CUSTOMER = "0x" + "c2" * 20  # criteria in DUSD
OWNER = "0x" + "0a" * 20
ATTESTOR = "0x" + "a7" * 20
TOKEN = "0x" + "d0" * 20
RIDES, HELSINKI = 1, 1
ELECTRIC = 1 << 0
DAY = 86_400


def _row(table: Any, **given: Any) -> dict[str, Any]:
    """A row of `table` with every NOT NULL column filled (zero, false, empty) unless given."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given:
            row[column.name] = given[column.name]
        elif column.nullable:
            row[column.name] = None
        elif isinstance(column.type, Boolean):
            row[column.name] = False
        elif isinstance(column.type, Integer | BigInteger | SmallInteger | Uint):
            row[column.name] = 0
        else:
            row[column.name] = ""
    return row


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("v2pages")
    settings = Settings(rpc_url="http://127.0.0.1:9", database_url=f"sqlite:///{tmp}/s.sqlite",
                        deployment_path=None)
    app = create_app(WebConfig(settings=settings, secret_key="k" * 40, testing=True,
                               index_refresh=0.0))
    engine = services_of(app).engine
    with engine.begin() as conn:
        conn.execute(insert(schema.market_settings), [_row(
            schema.market_settings, id=1, fee_bps=250, min_stake=10**16, dispute_bond=10**15)])
        conn.execute(insert(schema.currencies), [
            _row(schema.currencies, currency=0, token="0x" + "00" * 20, enabled=True,
                 min_fee=10**13, symbol="ETH", decimals=18),
            _row(schema.currencies, currency=1, token=TOKEN, enabled=True, min_fee=10_000,
                 symbol="DUSD", decimals=6),
            _row(schema.currencies, currency=2, token="0x" + "d2" * 20, enabled=False,
                 min_fee=1, symbol="OLD", decimals=6)])
        listing = {"owner": OWNER, "category": RIDES, "region": HELSINKI, "active": True,
                   "metadata_hash": "0x" + "00" * 32, "offer_version": 3,
                   "free_cancel_hours": 24, "late_cancel_pct": 50}
        conn.execute(insert(schema.providers), [
            _row(schema.providers, provider_id=1, currency=0, price=5 * 10**16,
                 reliability=9_000, **listing),
            _row(schema.providers, provider_id=2, currency=1, price=12_500_000, instant=True,
                 attributes=ELECTRIC, rating_weight=12_500, weighted_stars=56_000,
                 score=41_000, completed=12, failures=1, reliability=8_695, **listing),
            _row(schema.providers, provider_id=3, currency=2, price=1_000_000, reliability=9_000,
                 **listing)])
        conn.execute(insert(schema.owners), [_row(schema.owners, owner=OWNER, listings=3,
                                                  active_listings=3)])
        conn.execute(insert(schema.attestors), [
            _row(schema.attestors, attestor_id=1, attestor=ATTESTOR, allowed=True)])
        conn.execute(insert(schema.attestations), [
            _row(schema.attestations, provider_id=2, attestor_id=1, attestor=ATTESTOR,
                 attributes=ELECTRIC)])
        conn.execute(insert(schema.criteria), [
            _row(schema.criteria, customer=CUSTOMER, category=RIDES, version=1, currency=0,
                 max_price=10**18, score_weight=5_000, price_weight=5_000),
            _row(schema.criteria, customer=TOKEN_CUSTOMER, category=RIDES, version=1,
                 currency=1, max_price=100_000_000, score_weight=5_000, price_weight=5_000)])
    yield app
    engine.dispose()


def services_of(app: Flask) -> Any:
    with app.app_context():
        return services()


def signed_in(app: Flask, account: str = CUSTOMER) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as session:
        session["account"] = account
        session["signer"] = "wallet"
        session["csrf"] = "t" * 43
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={**data, "csrf_token": "t" * 43})


@pytest.fixture
def fake_chain(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """`chain.build` records what it was asked to simulate and returns an unsigned tx."""
    built: list[tuple[Any, ...]] = []
    chain = services_of(app).chain

    def build(function: str, *args: Any, sender: str, value: int = 0) -> UnsignedTransaction:
        built.append((function, args, value))
        return UnsignedTransaction(31337, sender, "0x" + "99" * 20, "0x", value, 100_000, 1, 1)

    monkeypatch.setattr(chain, "build", build)
    return built


def tomorrow(hour: str = "10:00") -> dict[str, str]:
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + DAY))
    return {"slot_date": day, "slot_time": hour, "duration": "60", "tz": "UTC"}


# ------------------------------------------------------------------ booking


def test_the_booking_page_has_a_slot_picker_price_fee_terms_and_offer_version(app: Flask) -> None:
    page = signed_in(app, TOKEN_CUSTOMER).get("/book/2").get_data(as_text=True)

    for field in ('name="slot_date"', 'name="slot_time"', 'name="duration"',
                  'name="offer_version" value="3"', 'data-timezone-field'):
        assert field in page, re.sub(r"\s+", " ", page.split("<main>")[1])[:1500]
    assert 'data-testid="quoted-price">12.5 DUSD<' in page
    assert "24 hours before the start" in page and "Instant booking" in page
    assert "one permit for exactly 12.5 DUSD" in page


def test_a_slot_in_the_past_is_a_sentence_next_to_the_date(app: Flask) -> None:
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - DAY))
    response = post(signed_in(app), "/book/1", {
        "slot_date": yesterday, "slot_time": "10:00", "duration": "60", "offer_version": "3",
        "tz": "UTC"})
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert re.search(r'data-error-for="slot_date"[^>]*>[^<]*has already passed', page)


def test_a_changed_offer_is_a_clear_message_next_to_the_offer(app: Flask) -> None:
    response = post(signed_in(app), "/book/1", {**tomorrow(), "offer_version": "2"})
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert re.search(r'data-error-for="offer_version"[^>]*>The provider changed the offer', page)
    assert 'name="offer_version" value="2"' in page  # kept: the customer reloads to accept v3


def test_a_slot_outside_the_providers_hours_is_refused_next_to_the_time(app: Flask) -> None:
    from marketplace.availability import parse_schedule
    from marketplace.availability.store import delete_schedule, save_schedule

    engine = services_of(app).engine
    save_schedule(engine, 1, parse_schedule({"time_zone": "UTC", "hours": [
        {"day": d, "from": "09:00", "to": "12:00"}
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]}), OWNER)
    try:
        client = signed_in(app)
        page = client.get("/book/1").get_data(as_text=True)
        assert 'data-testid="free-slots"' in page and 'data-slot-time="09:00"' in page

        response = post(client, "/book/1", {**tomorrow("15:00"), "offer_version": "3"})
        assert response.status_code == 400
        assert re.search(r'data-error-for="slot_time"[^>]*>The provider is not available',
                         response.get_data(as_text=True))
    finally:
        delete_schedule(engine, 1)


def test_a_listing_in_another_currency_than_the_criteria_says_so(app: Flask) -> None:
    page = signed_in(app).get("/book/2").get_data(as_text=True)

    assert "another currency than your criteria" in page and 'name="slot_date"' not in page


def test_booking_shows_the_review_and_signs_nothing_until_confirmed(
    app: Flask, fake_chain: list[tuple[Any, ...]],
) -> None:
    response = post(signed_in(app), "/book/1", {**tomorrow(), "offer_version": "3"})
    page = response.get_data(as_text=True)

    assert response.status_code == 200 and 'data-testid="tx-review"' in page
    assert "Price escrowed now</dt><dd>0.05 ETH" in page
    assert "Marketplace fee" in page and "0.00125 ETH" in page
    assert "Free cancellation until 24 hours before the start" in page
    assert CUSTOMER in page and "Cannot be undone" in page
    assert 'name="confirmed" value="1"' in page
    function, args, value = fake_chain[-1]
    assert function == "book" and value == 5 * 10**16
    provider_id, start, minutes, _salt, offer, criteria = args[0]
    assert (provider_id, minutes, offer, criteria) == (1, 60, 3, 1)
    assert start == int(time.mktime(time.strptime(tomorrow()["slot_date"] + " 10:00",
                                                  "%Y-%m-%d %H:%M"))) - time.timezone


def test_confirming_the_review_hands_the_booking_to_the_wallet(
    app: Flask, fake_chain: list[tuple[Any, ...]],
) -> None:
    client = signed_in(app)
    review = post(client, "/book/1", {**tomorrow(), "offer_version": "3"}).get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                             review.split('id="review-form"')[1]))
    fields.pop("csrf_token")

    page = post(client, "/book/1", fields).get_data(as_text=True)

    assert 'id="wallet-tx"' in page and 'data-build-url="/book/1/tx"' in page


def test_a_token_booking_review_announces_one_signature_and_one_transaction(
    app: Flask, fake_chain: list[tuple[Any, ...]],
) -> None:
    client = signed_in(app, TOKEN_CUSTOMER)
    page = post(client, "/book/2", {**tomorrow(), "offer_version": "3"}).get_data(as_text=True)

    assert 'data-testid="tx-review"' in page, page[:3000]
    assert "Price escrowed now</dt><dd>12.5 DUSD" in page
    assert "One signature: a permit for exactly 12.5 DUSD" in page


def test_the_owner_cannot_book_its_own_listing(app: Flask) -> None:
    page = signed_in(app, OWNER).get("/book/1").get_data(as_text=True)

    assert "your own listing" in page and 'name="slot_date"' not in page


# ------------------------------------------------------------------ listing page


def test_the_listing_page_shows_weight_reliability_verified_owner_history_and_terms(
    app: Flask,
) -> None:
    page = app.test_client().get("/providers/2").get_data(as_text=True)

    assert "weight 12.5 (as much as 12.5 minimum-fee ratings)" in page
    assert "86.95% reliable (12 completed, 1 failed)" in page
    assert re.search(r"✓ Electric vehicle</span> <span[^>]*>by attestor #1", page)
    assert 'data-testid="owner-history"' in page and "/providers/1" in page
    assert "Instant" in page and "24 hours before the start" in page
    assert "Sign in to book" in page


# ------------------------------------------------------------------ criteria


def test_the_criteria_form_has_the_v2_fields(app: Flask) -> None:
    page = signed_in(app).get("/criteria?category=rides").get_data(as_text=True)

    for field in ("currency", "verified", "trusted_attestors", "min_track_record",
                  "min_reliability"):
        assert f'name="{field}"' in page
    assert ">DUSD</option>" in page and "Attestor #1" in page


def test_bad_v2_criteria_are_sentences_next_to_their_fields(app: Flask) -> None:
    response = post(signed_in(app), "/criteria", {
        "category": "rides", "max_price": "10", "currency": "1", "verified": ["electric_vehicle"],
        "min_track_record": "-1", "min_reliability": "150"})
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    for field in ("trusted_attestors", "min_track_record", "min_reliability"):
        assert f'data-error-for="{field}"' in page


# ------------------------------------------------------------------ provider and attestor


def test_weekly_hours_are_saved_and_a_bad_one_is_named(app: Flask) -> None:
    client = signed_in(app, OWNER)
    bad = post(client, "/provider/listings/1/availability", {
        "time_zone": "Europe/Helsinki", "mon_from": "17:00", "mon_to": "09:00"})
    assert bad.status_code == 400
    assert 'data-error-for="mon_to"' in bad.get_data(as_text=True)

    ok = post(client, "/provider/listings/1/availability", {
        "time_zone": "Europe/Helsinki", "mon_from": "09:00", "mon_to": "17:00"})
    assert ok.status_code == 302
    page = client.get("/provider/listings/1/edit").get_data(as_text=True)
    assert "Monday 09:00-17:00 (Europe/Helsinki)" in page
    from marketplace.availability.store import delete_schedule

    delete_schedule(services_of(app).engine, 1)


def test_the_register_form_has_currency_terms_and_instant(app: Flask) -> None:
    page = signed_in(app, OWNER).get("/provider/register").get_data(as_text=True)

    for field in ("currency", "free_cancel_hours", "late_cancel_pct", "instant", "stake"):
        assert f'name="{field}"' in page


def test_an_attestor_attests_through_a_review(app: Flask,
                                              fake_chain: list[tuple[Any, ...]]) -> None:
    client = signed_in(app, ATTESTOR)
    page = client.get("/attest?provider_id=2").get_data(as_text=True)
    assert "You are attestor #1" in page and 'value="electric_vehicle" checked' in page

    review = post(client, "/attest", {"provider_id": "2", "attributes": []})
    text = review.get_data(as_text=True)
    assert 'data-testid="tx-review"' in text and "revokes your record" in text
    assert fake_chain[-1][:2] == ("attest", (2, 0))


def test_a_non_attestor_is_told_it_cannot_attest(app: Flask) -> None:
    page = signed_in(app).get("/attest?provider_id=2").get_data(as_text=True)

    assert 'data-testid="not-attestor"' in page and 'id="attest-form"' not in page


def test_a_disabled_currency_is_refused_next_to_the_currency_on_register(app: Flask) -> None:
    response = post(signed_in(app, OWNER), "/provider/register", {
        "category": "rides", "region": "helsinki", "price": "1", "currency": "2",
        "stake": "0.02", "name": "Old money"})

    assert response.status_code == 400
    assert re.search(r'data-error-for="currency"[^>]*>Currency #2 is not accepted',
                     response.get_data(as_text=True))
