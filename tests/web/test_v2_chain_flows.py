"""v2 flows on a live chain through the pages: a dev account books a dUSD listing with a
permit the server signs (one transaction, no approval), an expired or foreign permit is a
sentence for `permit`, and a cancellation shows and pays the refund under the listing's terms."""

from __future__ import annotations

import re

import pytest
from eth_utils.address import to_checksum_address

from marketplace.store import queries as store_queries
from tests.support.world import (
    ATTESTOR,
    CLEANING,
    CUSTOMERS,
    DUSD,
    DUSD_UNIT,
    HELSINKI,
    PROVIDERS,
    RIDES,
    World,
    book,
    follow_pending,
    main_part,
    signed_in,
)
from tests.web.reviewing import confirm, send

PRICE = 45 * DUSD_UNIT
ETH_PRICE = 4 * 10**16


@pytest.fixture(scope="module")
def market(world: World) -> World:
    world.register("Sini Sparkle", CLEANING, HELSINKI, 0, PRICE, owner=PROVIDERS[0],
                   currency=DUSD, instant=True, free_cancel_hours=24, late_cancel_pct=50)
    world.register("Terms Taxi", RIDES, HELSINKI, 0, ETH_PRICE, owner=PROVIDERS[1],
                   free_cancel_hours=24, late_cancel_pct=50)
    world.set_criteria(CUSTOMERS[0], CLEANING, currency=DUSD, max_price=100 * DUSD_UNIT)
    world.set_criteria(CUSTOMERS[1], RIDES, max_price=10**17)
    world.sync()
    return world


def nonce_of(world: World, account: int) -> int:
    """How many transactions dev account `account` has sent."""
    return int(world.market.w3.eth.get_transaction_count(
        to_checksum_address(world.address(account))))


def test_a_dev_account_books_a_token_listing_with_a_server_signed_permit(market: World) -> None:
    customer = CUSTOMERS[0]
    client = signed_in(market, customer)
    provider_id = market.providers["Sini Sparkle"]
    before = market.token.balance_of(market.address(customer))
    nonce_before = nonce_of(market, customer)

    review = client.post(f"/book/{provider_id}", {
        "offer_version": "1", "criteria_version": "1", "tz": "UTC",
        "start": str(market.now() + 2 * 86_400), "duration": "60"})
    page = review.get_data(as_text=True)
    assert "One signature: a permit for exactly 45 dUSD" in page, main_part(page)
    assert "The service must be delivered by" in page and "answers by" not in page  # instant
    response = confirm(client, review)
    assert response.status_code == 302, main_part(response.get_data(as_text=True))
    path = follow_pending(market, client, response.headers["Location"])

    booking = client.get(path).get_data(as_text=True)
    assert 'data-status="accepted"' in booking  # instant
    assert "45 dUSD" in booking
    assert before - market.token.balance_of(market.address(customer)) == PRICE
    # One transaction: no approval before the booking.
    assert nonce_of(market, customer) == nonce_before + 1


def test_an_expired_permit_is_a_sentence_for_the_permit_field(market: World) -> None:
    client = signed_in(market, CUSTOMERS[0])
    provider_id = market.providers["Sini Sparkle"]
    response = client.post_json(f"/book/{provider_id}/tx", {
        "from": market.address(CUSTOMERS[0]), "start": market.now() + 3 * 86_400,
        "duration": 60, "salt": 1, "offer_version": 1, "criteria_version": 1,
        "deadline": market.now() - 1, "signature": "0x" + "11" * 65})

    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "permit" and "expired" in body["message"]


def test_the_permit_typed_data_is_for_exactly_the_price_to_the_marketplace(
    market: World,
) -> None:
    client = signed_in(market, CUSTOMERS[0])
    provider_id = market.providers["Sini Sparkle"]
    response = client.post_json(f"/book/{provider_id}/permit",
                                {"from": market.address(CUSTOMERS[0])})

    typed = response.get_json()["typed_data"]
    assert typed["primaryType"] == "Permit"
    assert typed["message"]["value"] == str(PRICE)
    assert typed["message"]["spender"].lower() == market.market.address.lower()
    assert typed["domain"]["verifyingContract"].lower() == market.token.address.lower()


def test_a_permit_for_another_account_is_refused(market: World) -> None:
    client = signed_in(market, CUSTOMERS[0])
    response = client.post_json(f"/book/{market.providers['Sini Sparkle']}/permit",
                                {"from": market.address(CUSTOMERS[2])})

    assert response.status_code == 400 and response.get_json()["field"] == "from"


def test_cancelling_early_refunds_in_full_and_late_keeps_the_providers_share(
    market: World,
) -> None:
    customer, owner = CUSTOMERS[1], PROVIDERS[1]
    client, provider = signed_in(market, customer), signed_in(market, owner)
    provider_id = market.providers["Terms Taxi"]

    early = book(market, client, provider_id, start=str(market.now() + 3 * 86_400))
    follow_pending(market, provider, send(provider, f"{early}/accept").headers["Location"])
    review = client.post(f"{early}/cancel", {}).get_data(as_text=True)
    assert re.search(r"Refund</dt><dd>0\.04 ETH \(in full: before", review), main_part(review)
    follow_pending(market, client, confirm(client, client.post(f"{early}/cancel", {}))
                   .headers["Location"])

    late = book(market, client, provider_id, start=str(market.now() + 3_600), salt="7")
    follow_pending(market, provider, send(provider, f"{late}/accept").headers["Location"])
    review = client.post(f"{late}/cancel", {}).get_data(as_text=True)
    assert "Refund</dt><dd>0.02 ETH" in review, main_part(review)
    assert "Kept by the provider (late cancellation, no fee)</dt><dd>0.02 ETH" in review
    follow_pending(market, client, confirm(client, client.post(f"{late}/cancel", {}))
                   .headers["Location"])

    with market.services.engine.connect() as conn:
        rows = {hex(int(r["booking_id"])): r for r in
                store_queries.bookings_of(conn, customer=market.address(customer))}
    assert int(rows[early.rsplit("/", 1)[1]]["refund"]) == ETH_PRICE
    assert int(rows[late.rsplit("/", 1)[1]]["refund"]) == ETH_PRICE // 2
    page = client.get(late).get_data(as_text=True)
    assert "Kept by the provider (late cancellation)" in page


def test_no_rating_stake_dispute_block_or_withdrawal_is_sent_without_the_review(
    market: World,
) -> None:
    """Issue 14: each money step answers with the review; the account's nonce does not move
    until the review is confirmed."""
    customer, owner = CUSTOMERS[1], PROVIDERS[1]
    taxi = market.providers["Terms Taxi"]
    completed = market.book_direct(customer, taxi, salt=9)
    market.transact("accept", completed, sender=owner)
    market.mine(86_400 + 60)
    market.transact("complete", completed, sender=owner)
    market.sync()
    client, provider = signed_in(market, customer), signed_in(market, owner)
    steps = [
        (client, f"/bookings/{hex(completed)}/confirm_and_rate", {"stars": "4"},
         "A rating is recorded on-chain for good"),
        (client, f"/bookings/{hex(completed)}/dispute", {}, "Dispute bond (ether, sent now)"),
        (client, "/blocks", {"provider_id": str(taxi), "blocked": "1"}, "Excluded"),
        (client, "/blocks", {"owner": market.address(owner), "blocked": "1"},
         "Every listing this owner has or registers later"),
        (provider, f"/provider/listings/{taxi}/top_up", {"amount": "0.01"},
         "Added to the stake now"),
        (provider, "/provider/register", {"category": "rides", "region": "helsinki",
                                          "price": "0.05", "stake": "0.002", "name": "New"},
         "Stake sent now"),
    ]
    for actor, path, data, words in steps:
        account = customer if actor is client else owner
        nonce = nonce_of(market, account)
        response = actor.post(path, data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and 'data-testid="tx-review"' in page, (
            path, main_part(page))
        assert words in page, (path, main_part(page))
        assert market.address(account) in page  # the signing account is named
        assert nonce_of(market, account) == nonce, path


def test_confirm_and_rate_is_one_step_with_no_star_chosen_in_advance(market: World) -> None:
    customer, owner = CUSTOMERS[1], PROVIDERS[1]
    booking = market.book_direct(customer, market.providers["Terms Taxi"], salt=21)
    market.transact("accept", booking, sender=owner)
    market.mine(86_400 + 60)
    market.transact("complete", booking, sender=owner)
    market.sync()
    client = signed_in(market, customer)
    path = f"/bookings/{hex(booking)}"

    page = client.get(path).get_data(as_text=True)
    assert f'action="{path}/confirm_and_rate"' in page
    assert not re.search(r'name="stars" value="\d" checked', page)  # no preset stars
    nonce = nonce_of(market, customer)
    response = confirm(client, client.post(f"{path}/confirm_and_rate", {
        "stars": "4", "complaint_tags": ["late"]}))
    follow_pending(market, client, response.headers["Location"])

    assert nonce_of(market, customer) == nonce + 1  # one transaction
    done = client.get(path).get_data(as_text=True)
    assert 'data-status="settled"' in done and "4 ★" in done and "Late" in done


def test_an_attestor_verifies_an_attribute_and_the_listing_page_names_it(market: World) -> None:
    electric = 1 << 0
    listing = market.register("Volt Rides", RIDES, HELSINKI, electric, ETH_PRICE,
                              owner=PROVIDERS[2])
    market.sync()
    attestor = signed_in(market, ATTESTOR)
    page = attestor.get(f"/attest?provider_id={listing}").get_data(as_text=True)
    assert "You are attestor #1" in page and 'value="electric_vehicle"' in page

    review = attestor.post("/attest", {"provider_id": str(listing),
                                       "attributes": ["electric_vehicle"]})
    assert "You attest</dt><dd>Electric vehicle" in review.get_data(as_text=True)
    follow_pending(market, attestor, confirm(attestor, review).headers["Location"])

    shown = market.client().get(f"/providers/{listing}").get_data(as_text=True)
    assert re.search(r"✓ Electric vehicle</span> <span[^>]*>by attestor #1", shown), \
        main_part(shown)
