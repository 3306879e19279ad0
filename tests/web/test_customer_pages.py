"""Customer pages through the Flask test client, against a live chain, store and indexer."""

from __future__ import annotations

import re

import pytest

from tests.support.world import (
    ARBITER,
    ATTR,
    CUSTOMERS,
    ESPOO,
    HELSINKI,
    PROVIDERS,
    RIDES,
    World,
    book,
    follow_pending,
    main_part,
    signed_in,
)
from tests.web.reviewing import send

ETH = 10**18


@pytest.fixture(scope="module")
def market(world: World) -> World:
    """Four ride providers, one customer with criteria for rides."""
    world.register("Aino's Rides", RIDES, HELSINKI, 1 << ATTR["compact_car"], 4 * 10**16,
                   owner=PROVIDERS[0])
    world.register("Eero Electric", RIDES, HELSINKI, 1 << ATTR["electric_vehicle"], 6 * 10**16,
                   owner=PROVIDERS[1])
    world.register("Smoky Cabs", RIDES, HELSINKI, 1 << ATTR["smoker"], 2 * 10**16,
                   owner=PROVIDERS[2])
    world.register("Juho Espoo", RIDES, ESPOO, 0, 3 * 10**16, owner=PROVIDERS[1])
    world.set_criteria(CUSTOMERS[0], RIDES, region=HELSINKI, max_price=10**17,
                       refused=1 << ATTR["smoker"])
    world.sync()
    return world


def test_the_home_page_invites_a_visitor_to_sign_in(market: World) -> None:
    page = market.client().get("/").get_data(as_text=True)

    assert "Sign in" in page and "You are the curator" in page


def test_the_home_page_gives_a_signed_in_customer_an_overview(market: World) -> None:
    page = signed_in(market, CUSTOMERS[0]).get("/").get_data(as_text=True)

    assert "Rides" in page and "open of" in page


def test_the_criteria_editor_has_every_field_with_catalogue_names(market: World) -> None:
    page = signed_in(market, CUSTOMERS[0]).get("/criteria?category=rides").get_data(
        as_text=True)

    for field in ("category", "region", "min_stars", "max_price", "premium_per_star",
                  "required", "refused", "score_weight", "price_weight"):
        assert f'name="{field}"' in page
    assert "Wheelchair access" in page and "Speaks Finnish" in page
    assert 'data-count-url="/api/v1/match/count"' in page
    assert re.search(r'value="smoker"\s+checked', page.split('name="refused"', 1)[1])


def test_an_unknown_category_on_the_criteria_page_is_a_400_with_the_field(market: World) -> None:
    response = market.client().get("/criteria?category=boats")

    assert response.status_code == 400
    assert "category" in response.get_data(as_text=True)


def test_saving_criteria_sends_set_criteria_and_leads_to_the_ranked_matches(
    market: World,
) -> None:
    client = signed_in(market, CUSTOMERS[1])
    response = client.post("/criteria", {
        "category": "rides", "region": "helsinki", "min_stars": "3", "max_price": "0.1",
        "premium_per_star": "0.01", "refused": ["smoker"], "score_weight": "60",
        "price_weight": "40"})

    assert response.status_code == 302
    location = follow_pending(market, client, response.headers["Location"])
    assert location == "/matches?category=rides"
    page = client.get(location).get_data(as_text=True)
    assert "<strong>2</strong> of 4 providers" in page
    assert 'role="status">Done: Save your rides criteria' in page  # confirmed (issue 14)
    assert "Aino&#39;s Rides" in page and "Eero Electric" in page and "Smoky Cabs" not in page
    assert "under your ceiling" in page and "Ranked 60% on score and 40% on price" in page
    assert "the provider is outside your region" in page


def test_invalid_criteria_show_an_error_next_to_each_bad_field(market: World) -> None:
    client = signed_in(market, CUSTOMERS[1])
    response = client.post("/criteria", {
        "category": "rides", "region": "atlantis", "min_stars": "7", "max_price": "abc",
        "premium_per_star": "-1", "required": ["pet_friendly", "wings"],
        "score_weight": "x", "price_weight": "1"})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for field in ("region", "min_stars", "max_price", "premium_per_star", "required",
                  "score_weight"):
        assert f'id="{field}-error"' in page, field
    assert 'value="abc"' in page  # the form keeps what was typed


def test_criteria_requiring_and_refusing_one_attribute_are_refused_before_signing(
    market: World,
) -> None:
    response = signed_in(market, CUSTOMERS[1]).post("/criteria", {
        "category": "rides", "max_price": "0.1", "required": ["pet_friendly"],
        "refused": ["pet_friendly"]})

    assert response.status_code == 400
    assert 'id="refused-error"' in response.get_data(as_text=True)


def test_saving_criteria_without_signing_in_asks_to_sign_in(market: World) -> None:
    client = market.client()
    client.get("/criteria")
    response = client.post("/criteria", {"category": "rides", "max_price": "0.1"})

    assert response.status_code == 401
    assert "Sign in" in response.get_data(as_text=True)


def test_a_form_posted_without_the_csrf_token_is_refused(market: World) -> None:
    client = signed_in(market, CUSTOMERS[1])
    response = client.post("/criteria", {"category": "rides", "max_price": "0.1"}, csrf=False)

    assert response.status_code == 403
    assert "did not come from this site" in response.get_data(as_text=True)


def test_the_matches_page_asks_for_criteria_in_a_category_without_any(market: World) -> None:
    page = signed_in(market, CUSTOMERS[0]).get("/matches?category=tutoring").get_data(
        as_text=True)

    assert "no criteria for this category" in page


def test_the_provider_page_shows_attributes_score_history_and_eligibility(
    market: World,
) -> None:
    page = signed_in(market, CUSTOMERS[0]).get(
        f"/providers/{market.providers['Smoky Cabs']}").get_data(as_text=True)

    assert "Smoky Cabs" in page and "Smoker" in page and "0.02 ETH" in page
    assert "Not bookable for you" in page and "which you refuse" in page
    assert "No ratings yet" in page


def test_an_unknown_provider_is_a_404_page(market: World) -> None:
    response = market.client().get("/providers/9999")

    assert response.status_code == 404
    assert "no provider #9999" in response.get_data(as_text=True)


def test_a_booking_escrows_the_quote_and_lands_on_the_booking_once_indexed(
    market: World,
) -> None:
    client = signed_in(market, CUSTOMERS[0])
    location = book(market, client, market.providers["Aino's Rides"])

    assert re.fullmatch(r"/bookings/0x[0-9a-f]+", location)
    page = client.get(location).get_data(as_text=True)
    assert 'data-status="requested"' in page and "0.04 ETH escrowed" in page
    assert 'data-action="cancel"' in page
    assert "0.04 ETH" in client.get("/bookings").get_data(as_text=True)


def test_a_quote_for_a_provider_outside_the_criteria_says_why_and_offers_no_booking(
    market: World,
) -> None:
    page = signed_in(market, CUSTOMERS[0]).get(
        f"/book/{market.providers['Juho Espoo']}").get_data(as_text=True)

    assert "You cannot book this provider" in page and "outside your region" in page
    assert 'id="book-form"' not in page


def _reach_the_start(world: World) -> None:
    """Move chain time past the start of the slot `book` chose: a provider completes only from
    the start."""
    world.reach_last_slot()
    world.sync()


def test_a_changed_offer_is_refused_in_plain_words_next_to_the_offer(market: World) -> None:
    client = signed_in(market, CUSTOMERS[0])
    provider_id = market.providers["Eero Electric"]
    page = client.get(f"/book/{provider_id}").get_data(as_text=True)
    offer = re.search(r'name="offer_version" value="(\d+)"', page)
    assert offer

    response = send(client, f"/book/{provider_id}", {
        "offer_version": str(int(offer.group(1)) + 1), "slot_date": "2099-01-01",
        "slot_time": "10:00", "duration": "60"})

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert re.search(r'data-error-for="offer_version"[^>]*>The provider changed the offer', text)


def test_a_booking_form_with_bad_slot_fields_names_each_field(market: World) -> None:
    provider_id = market.providers["Eero Electric"]
    response = send(signed_in(market, CUSTOMERS[0]), f"/book/{provider_id}", {
        "offer_version": "1", "slot_date": "someday", "slot_time": "25:99", "duration": "0"})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for field in ("slot_date", "slot_time", "duration"):
        assert f'id="{field}-error"' in page


def test_the_whole_lifecycle_shows_on_the_timeline_and_the_rating_on_the_provider_page(
    market: World,
) -> None:
    customer = signed_in(market, CUSTOMERS[0])
    provider = signed_in(market, PROVIDERS[1])
    path = book(market, customer, market.providers["Eero Electric"])

    incoming = provider.get("/provider/").get_data(as_text=True)
    assert path.rsplit("/", 1)[1] in incoming and 'data-action="accept"' in incoming
    for actor, action in ((provider, "accept"), (provider, "complete"), (customer, "confirm")):
        if action == "complete":
            _reach_the_start(market)
        response = send(actor, f"{path}/{action}")
        assert response.status_code == 302, (action, response.get_data(as_text=True)[:500])
        assert follow_pending(market, actor, response.headers["Location"]) == path
    response = send(customer, f"{path}/rate", {"stars": "2",
                                              "complaint_tags": ["late", "rude"]})
    follow_pending(market, customer, response.headers["Location"])

    page = customer.get(path).get_data(as_text=True)
    for step in ("Booked, price escrowed", "Accepted by the provider",
                 "Marked completed by the provider", "Settled: payment released", "Rated"):
        assert step in page
    assert 'data-status="settled"' in page and "Late" in page and "Rude" in page
    provider_page = customer.get(f"/providers/{market.providers['Eero Electric']}").get_data(
        as_text=True)
    assert "2 ★" in provider_page and "Rude" in provider_page and "rated (2 ★)" in provider_page
    dashboard = provider.get("/provider/").get_data(as_text=True)
    assert "Paid out over 1 booking(s)" in dashboard and 'data-testid="withdraw"' in dashboard


def test_a_rating_with_a_bad_star_count_or_tag_is_flagged_next_to_the_field(
    market: World,
) -> None:
    customer = signed_in(market, CUSTOMERS[0])
    path = book(market, customer, market.providers["Aino's Rides"])

    response = send(customer, f"{path}/rate", {"stars": "9", "complaint_tags": ["grumpy"]})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="stars-error"' in page and 'id="complaint_tags-error"' in page, main_part(page)


def test_only_the_bookings_customer_can_cancel_it(market: World) -> None:
    customer = signed_in(market, CUSTOMERS[0])
    path = book(market, customer, market.providers["Aino's Rides"])

    response = send(signed_in(market, CUSTOMERS[2]), f"{path}/cancel")

    assert response.status_code == 403
    assert "Only the booking&#39;s customer" in response.get_data(as_text=True)


def test_cancelling_refunds_and_the_credit_can_be_withdrawn(market: World) -> None:
    customer = signed_in(market, CUSTOMERS[0])
    path = book(market, customer, market.providers["Aino's Rides"])

    response = send(customer, f"{path}/cancel")
    follow_pending(market, customer, response.headers["Location"])
    bookings = customer.get("/bookings").get_data(as_text=True)
    assert 'data-testid="credit"' in bookings
    response = send(customer, "/withdraw", {"next": "/bookings"})
    assert follow_pending(market, customer, response.headers["Location"]) == "/bookings"
    assert 'data-testid="credit"' not in customer.get("/bookings").get_data(as_text=True)


def test_a_dispute_goes_to_an_independent_arbiter_who_resolves_it(market: World) -> None:
    customer = signed_in(market, CUSTOMERS[0])
    provider = signed_in(market, PROVIDERS[0])
    arbiter = signed_in(market, ARBITER)
    path = book(market, customer, market.providers["Aino's Rides"])
    for actor, action in ((provider, "accept"), (provider, "complete"), (customer, "dispute")):
        if action == "complete":
            _reach_the_start(market)
        response = send(actor, f"{path}/{action}")
        assert response.status_code == 302, (action, main_part(response.get_data(as_text=True)))
        follow_pending(market, actor, response.headers["Location"])
    assert 'action="' + path + '/resolve"' in arbiter.get(path).get_data(as_text=True)

    bad = send(arbiter, f"{path}/resolve", {"refund_percent": "150"})
    assert bad.status_code == 400 and 'id="refund_percent-error"' in bad.get_data(as_text=True)
    response = send(arbiter, f"{path}/resolve", {"refund_percent": "75"})
    follow_pending(market, arbiter, response.headers["Location"])
    page = customer.get(path).get_data(as_text=True)
    assert 'data-status="resolved"' in page and "Dispute resolved" in page


def test_after_the_deadline_anyone_is_offered_the_timed_exit(market: World) -> None:
    customer = signed_in(market, CUSTOMERS[0])
    path = book(market, customer, market.providers["Aino's Rides"])
    market.mine(2 * 24 * 3600)
    market.sync()

    stranger = signed_in(market, 9)
    assert 'data-action="expire"' in stranger.get(path).get_data(as_text=True)
    response = send(stranger, f"{path}/expire")
    follow_pending(market, stranger, response.headers["Location"])
    assert 'data-status="expired"' in customer.get(path).get_data(as_text=True)


def test_an_unreadable_booking_id_or_action_is_a_404(market: World) -> None:
    client = signed_in(market, CUSTOMERS[0])

    assert client.get("/bookings/not-a-number").status_code == 404
    assert client.get("/bookings/0x1234").status_code == 404
    assert client.post("/bookings/0x1234/fly").status_code == 404


def test_blocking_a_provider_is_a_new_criteria_version_that_excludes_it(market: World) -> None:
    client = signed_in(market, CUSTOMERS[3])
    market.set_criteria(CUSTOMERS[3], RIDES, max_price=10**17)
    market.sync()
    provider_id = market.providers["Eero Electric"]

    response = send(client, "/blocks", {"provider_id": str(provider_id), "blocked": "1"})
    follow_pending(market, client, response.headers["Location"])

    assert "you blocked this provider" in client.get(f"/providers/{provider_id}").get_data(
        as_text=True)
    assert "Blocked providers" in client.get("/criteria?category=rides").get_data(as_text=True)
    bad = send(client, "/blocks", {"provider_id": "zero"})
    assert bad.status_code == 303  # back to the page the button was on, the message on top
    assert 'data-error-for="_form"' in client.get(bad.headers["Location"]).get_data(as_text=True)


def test_the_pending_page_waits_for_the_indexer_and_rejects_a_bad_hash(market: World) -> None:
    client = signed_in(market, CUSTOMERS[1])
    response = client.post("/criteria", {"category": "cleaning", "max_price": "0.1"})
    location = response.headers["Location"]

    page = client.get(location)  # not indexed yet: the page polls
    assert page.status_code == 200 and 'id="tx-pending"' in page.get_data(as_text=True)
    assert client.get("/tx/0xnothex").status_code == 404
    unknown = client.get("/tx/0x" + "ab" * 32)
    assert 'data-status="unknown"' in unknown.get_data(as_text=True)
    market.sync()


def test_the_pending_page_never_redirects_off_site(market: World) -> None:
    client = signed_in(market, CUSTOMERS[1])
    response = client.post("/criteria", {"category": "delivery", "max_price": "0.1"})
    tx = response.headers["Location"].split("?")[0]
    market.wait(tx.removeprefix("/tx/"))  # mined (anvil answers just before) and indexed

    redirected = client.get(f"{tx}?next=//evil.example/x")

    assert redirected.headers["Location"] == "/"


def test_an_error_about_a_field_the_form_lacks_reaches_the_top_of_the_form(market: World) -> None:
    """Issue 14: every error the API can return appears on the page that caused it, also one
    naming a field the posted form did not have."""
    from marketplace.web.customer.common import errors_of
    from marketplace.web.errors import WebError

    error = WebError("Bad.", fields={"currency": "That currency is disabled.",
                                     "price": "Too low."})
    with market.app.test_request_context("/provider/register", method="POST",
                                         data={"price": "1", "attributes": "x"}):
        shown = errors_of(error)
    assert shown["_form"] == "That currency is disabled." and shown["price"] == "Too low."
    error = WebError("The account cannot pay 9,999 ETH.", "from", status=409)
    with market.app.test_request_context("/provider/register", method="POST",
                                         data={"stake": "9999"}):
        assert errors_of(error)["_form"] == "The account cannot pay 9,999 ETH."


def test_the_app_and_the_audit_link_to_each_other(market: World) -> None:
    client = market.client()
    assert 'href="/audit/"' in client.get("/").get_data(as_text=True)
    try:
        audit = client.get("/audit/")
    finally:  # the audit's own node connection, opened on first use
        service = market.app.extensions.pop("marketplace_audit", None)
        if service is not None:
            service.rpc.close()
    assert audit.status_code == 200
    assert re.search(r'<a href="/" data-testid="app-link">Marketplace</a>',
                     audit.get_data(as_text=True))
