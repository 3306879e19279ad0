"""Feedback in the customer's own words on the rating step (issue 15): the text suggests
complaint tags the customer reviews before signing; only the tags go on-chain; the text is kept
only with consent, shown on the profile, exported, and deleted by erasure.

Runs without JavaScript: the suggestion is a form post that renders the page again.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace.catalogue import COMPLAINT_TAGS, lookup
from marketplace.language import feedback
from marketplace.language.model import ModelUnavailable
from marketplace.profile.sql import feedback_texts
from marketplace.store import queries as store_queries
from tests.support.world import (
    ATTR,
    CUSTOMERS,
    HELSINKI,
    PROVIDERS,
    RIDES,
    Client,
    World,
    follow_pending,
    main_part,
    signed_in,
)
from tests.web.reviewing import send, settled_booking

PRICE = 3 * 10**16
COMPLAINT = "The driver was 40 minutes late and very rude to me."
PRAISE = "Great ride, friendly driver, spotless car."
_CHECKBOX = re.compile(
    r'<input type="checkbox" name="complaint_tags" value="([a-z_]+)"( checked)?>')
_CONFIDENCE = re.compile(r'data-confidence-for="([a-z_]+)">([^<]*)</span>')


@pytest.fixture(scope="module")
def market(world: World) -> World:
    world.register("Kind Cabs", RIDES, HELSINKI, 1 << ATTR["compact_car"], PRICE,
                   owner=PROVIDERS[0])
    for customer in CUSTOMERS:
        world.set_criteria(customer, RIDES, max_price=10**17)
    world.sync()
    return world


def rateable_booking(world: World, customer: int) -> int:
    """A settled booking of `customer`, indexed, waiting for its rating."""
    booking = settled_booking(world, customer, world.providers["Kind Cabs"], PROVIDERS[0])
    world.sync()
    return booking


def checkboxes(page: str) -> dict[str, bool]:
    """Complaint tag key -> whether it is ticked, as the rating form shows them."""
    return {key: bool(ticked) for key, ticked in _CHECKBOX.findall(page)}


def stored_texts(world: World, customer: int) -> list[str]:
    """The feedback texts in the profile table itself, bypassing every service."""
    statement = select(feedback_texts.c.text).where(
        feedback_texts.c.customer == world.address(customer))
    with world.services.engine.connect() as conn:
        return [str(text) for (text,) in conn.execute(statement)]


def suggest(client: Client, booking: int, text: str) -> str:
    response = client.post(f"/bookings/{hex(booking)}/rate/suggest", {"feedback_text": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, main_part(page)
    return page


def test_the_words_become_ticked_tags_to_review_and_only_the_kept_tags_go_on_chain(
    market: World,
) -> None:
    customer = CUSTOMERS[0]
    market.services.profiles.grant_consent(market.address(customer))
    booking = rateable_booking(market, customer)
    client = signed_in(market, customer)

    page = suggest(client, booking, COMPLAINT)

    ticks = checkboxes(page)
    understood = [key for key, ticked in ticks.items() if ticked]
    # which tags a model reads is the language bench's business; this flow needs one at least
    assert understood and set(understood) <= {"late", "rude"}, main_part(page)
    assert not all(ticks.values())  # the category's other tags are offered unticked
    confidences = dict(_CONFIDENCE.findall(page))
    for key in understood:
        assert re.fullmatch(r"(very likely|likely|possibly) \(\d{1,3}%\)", confidences[key])
    assert re.search(r'name="stars" value="\d" checked', page) is None  # stars are chosen
    assert COMPLAINT in page  # the words stay in the textarea for the rating post
    assert "kept in your living profile" in page

    kept = understood[1:]  # drop one of the understood tags, add another below
    response = send(client, f"/bookings/{hex(booking)}/rate", {
        "feedback_text": COMPLAINT, "stars": "2", "complaint_tags": kept + ["no_show"]})
    assert response.status_code == 302, main_part(response.get_data(as_text=True))
    follow_pending(market, client, response.headers["Location"])

    with market.services.engine.connect() as conn:
        row = store_queries.get_booking(conn, booking)
    assert row is not None and row["rated"] and row["stars"] == 2
    expected = sum(1 << lookup("complaint tag", key).code for key in {*kept, "no_show"})
    assert int(row["complaint_tags"]) == expected  # the tags as kept and added, no text
    assert stored_texts(market, customer) == [COMPLAINT]


def test_praise_yields_no_tag(market: World) -> None:
    customer = CUSTOMERS[1]
    booking = rateable_booking(market, customer)

    page = suggest(signed_in(market, customer), booking, PRAISE)

    assert not any(checkboxes(page).values()), main_part(page)
    assert "No complaint understood in your words" in page


def test_with_consent_the_text_is_on_the_profile_in_the_export_and_gone_after_erase(
    market: World,
) -> None:
    customer = CUSTOMERS[2]
    market.services.profiles.grant_consent(market.address(customer))
    booking = rateable_booking(market, customer)
    client = signed_in(market, customer)
    words = "Seats were filthy & the car smelled of smoke <b>badly</b>."
    response = send(client, f"/bookings/{hex(booking)}/rate", {
        "feedback_text": words, "stars": "1", "complaint_tags": ["dirty"]})
    assert response.status_code == 302, main_part(response.get_data(as_text=True))

    profile = client.get("/profile").get_data(as_text=True)
    assert 'data-testid="feedback-texts"' in profile
    assert "Seats were filthy &amp; the car smelled of smoke &lt;b&gt;badly&lt;/b&gt;." in profile
    exported = client.get("/profile/export").get_json(force=True)
    assert [t["text"] for t in exported["feedback_texts"]] == [words]
    assert exported["feedback_texts"][0]["booking_id"] == str(booking)

    response = client.post("/profile/erase", {"confirm": "erase"})
    assert response.status_code == 302

    assert stored_texts(market, customer) == []
    assert "Seats were filthy" not in client.get("/profile").get_data(as_text=True)


def test_withdrawing_consent_deletes_the_texts(market: World) -> None:
    customer = CUSTOMERS[3]
    profiles = market.services.profiles
    profiles.grant_consent(market.address(customer))
    booking = rateable_booking(market, customer)
    client = signed_in(market, customer)
    send(client, f"/bookings/{hex(booking)}/rate", {
        "feedback_text": "Late again.", "stars": "3", "complaint_tags": ["late"]})
    assert stored_texts(market, customer) == ["Late again."]

    client.post("/profile/consent", {"grant": "0"})

    assert stored_texts(market, customer) == []


def test_without_consent_the_text_only_suggests_tags_and_is_discarded(market: World) -> None:
    customer = CUSTOMERS[1]
    assert not market.services.profiles.has_consent(market.address(customer))
    booking = rateable_booking(market, customer)
    client = signed_in(market, customer)

    page = client.get(f"/bookings/{hex(booking)}").get_data(as_text=True)
    assert "used only to suggest tags and is then discarded" in page
    response = send(client, f"/bookings/{hex(booking)}/rate", {
        "feedback_text": COMPLAINT, "stars": "2", "complaint_tags": ["late"]})
    assert response.status_code == 302, main_part(response.get_data(as_text=True))
    follow_pending(market, client, response.headers["Location"])

    assert stored_texts(market, customer) == []
    assert "40 minutes late" not in client.get("/profile").get_data(as_text=True)
    assert client.get("/profile/export").get_json(force=True)["feedback_texts"] == []


def test_a_too_long_text_or_unknown_stars_is_flagged_next_to_the_field(market: World) -> None:
    customer = CUSTOMERS[0]
    booking = rateable_booking(market, customer)
    client = signed_in(market, customer)
    too_long = "late " * 401  # 2,005 characters

    suggested = client.post(f"/bookings/{hex(booking)}/rate/suggest",
                            {"feedback_text": too_long})
    rated = send(client, f"/bookings/{hex(booking)}/rate", {
        "feedback_text": too_long, "stars": "9", "complaint_tags": ["late"]})

    assert suggested.status_code == 400
    assert 'id="feedback_text-error"' in suggested.get_data(as_text=True)
    assert "at most 2,000" in suggested.get_data(as_text=True)
    assert rated.status_code == 400
    page = rated.get_data(as_text=True)
    assert 'id="feedback_text-error"' in page and 'id="stars-error"' in page, main_part(page)
    assert 'value="late" checked' in page  # what the customer ticked is still ticked
    with market.services.engine.connect() as conn:
        row = store_queries.get_booking(conn, booking)
    assert row is not None and not row["rated"]


def test_suggesting_needs_words_and_the_bookings_customer(market: World) -> None:
    booking = rateable_booking(market, CUSTOMERS[3])

    empty = signed_in(market, CUSTOMERS[3]).post(f"/bookings/{hex(booking)}/rate/suggest",
                                                 {"feedback_text": "  "})
    stranger = signed_in(market, CUSTOMERS[2]).post(f"/bookings/{hex(booking)}/rate/suggest",
                                                    {"feedback_text": COMPLAINT})

    assert empty.status_code == 400
    assert "Write what happened first" in empty.get_data(as_text=True)
    assert stranger.status_code == 403


def test_without_the_language_model_the_customer_is_told_and_can_still_tick_tags(
    market: World, monkeypatch: pytest.MonkeyPatch,
) -> None:
    booking = rateable_booking(market, CUSTOMERS[2])

    def missing() -> None:
        raise ModelUnavailable("wordllama is not installed")

    monkeypatch.setattr(feedback, "feedback_interpreter", missing)
    response = signed_in(market, CUSTOMERS[2]).post(f"/bookings/{hex(booking)}/rate/suggest",
                                                    {"feedback_text": COMPLAINT})

    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert 'id="feedback_text-error"' in page and "choose them yourself" in page
    assert len(checkboxes(page)) == len(COMPLAINT_TAGS) and COMPLAINT in page
