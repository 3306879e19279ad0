"""Criteria written as a sentence on the criteria page (issue 15): read, reviewed, then signed.

Through the Flask test client against a live chain, store and indexer, without JavaScript: the
sentence is posted as a form, the page answers with the highlights and the pre-filled criteria
form, and that form is saved as the usual setCriteria transaction.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from marketplace.store import queries as store_queries
from tests.support.world import (
    ATTR,
    CUSTOMERS,
    HELSINKI,
    PROVIDERS,
    RIDES,
    World,
    follow_pending,
    main_part,
    signed_in,
)

ISSUE_SENTENCE = "A quiet electric car in Tampere, no smokers, at least 4 stars"
TAMPERE = 3  # catalogue code of the region "tampere"
CUSTOMER = CUSTOMERS[2]


class _CriteriaForm(HTMLParser):
    """The values the criteria form (id="criteria-form") would submit, as a browser sends them."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.select: str | None = None
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == "criteria-form"
        elif not self.inside:
            return
        elif tag == "input" and a.get("type") == "checkbox":
            if "checked" in a:
                self.fields.append((a["name"], a["value"]))
        elif tag == "input" and "name" in a:
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select is not None and "selected" in a:
            self.fields.append((self.select, a["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def criteria_form(page: str) -> dict[str, Any]:
    """The criteria form's submitted values (multi-valued fields as lists)."""
    parser = _CriteriaForm()
    parser.feed(page)
    values: dict[str, Any] = {}
    for name, value in parser.fields:
        if name in ("required", "refused"):
            values.setdefault(name, []).append(value)
        else:
            values[name] = value
    return values


def describe(client: Any, sentence: str, *, page: str = "rides",
             category: str | None = "rides") -> tuple[int, str]:
    """POST the "Describe what you want" box of the criteria page; (status, page text)."""
    client.get(f"/criteria?category={page}")
    form = {"sentence": sentence, "sentence_category": category or ""}
    response = client.post(f"/criteria/describe?category={page}", form)
    return response.status_code, response.get_data(as_text=True)


@pytest.fixture(scope="module")
def market(world: World) -> World:
    """A Tampere ride provider, and a customer whose ride criteria already say something."""
    world.register("Tampere Volt", RIDES, TAMPERE, 1 << ATTR["electric_vehicle"], 5 * 10**16,
                   owner=PROVIDERS[0])
    world.set_criteria(CUSTOMER, RIDES, region=HELSINKI, min_score=20_000, max_price=10**17,
                       premium=10**16, required=1 << ATTR["compact_car"],
                       refused=1 << ATTR["pet_friendly"], weights=(6_000, 4_000))
    world.sync()
    return world


def _version(world: World) -> int:
    with world.indexer.engine.connect() as conn:
        row = store_queries.current_criteria(conn, world.address(CUSTOMER), RIDES)
    assert row is not None
    return int(row["version"])


def test_the_criteria_page_offers_a_describe_box_that_posts_without_javascript(
    market: World,
) -> None:
    page = signed_in(market, CUSTOMER).get("/criteria?category=rides").get_data(as_text=True)

    assert 'action="/criteria/describe?category=rides"' in page
    assert '<textarea name="sentence" id="sentence"' in page
    assert '<option value="rides" selected>' in page.split('id="sentence_category"', 1)[1]


def test_the_issue_sentence_prefills_the_form_over_the_current_criteria(market: World) -> None:
    client = signed_in(market, CUSTOMER)
    before = _version(market)

    status, page = describe(client, ISSUE_SENTENCE)

    assert status == 200, main_part(page)
    values = criteria_form(page)
    assert values["category"] == "rides"
    assert values["region"] == "tampere"
    assert values["min_stars"] == "4"
    assert values["required"] == ["electric_vehicle"]  # the sentence states the required list
    assert values["refused"] == ["smoker"]  # ... and the refused list
    # Unmentioned fields keep the current criteria.
    assert values["max_price"] == "0.1" and values["premium_per_star"] == "0.01"
    assert (values["score_weight"], values["price_weight"]) == ("60", "40")
    assert _version(market) == before  # nothing is signed before the review


def test_each_understood_phrase_is_highlighted_with_its_field_named_in_text(
    market: World,
) -> None:
    _status, page = describe(signed_in(market, CUSTOMER), ISSUE_SENTENCE)

    reading = page.split('data-testid="read-sentence">', 1)[1].split("</p>", 1)[0]
    marks = re.findall(r'<mark data-field="(\w+)">(.*?)<span class="field-name"> \[(.*?)\]</span>'
                       r"</mark>", reading)
    assert [(f, html.unescape(t), html.unescape(n)) for f, t, n in marks] == [
        ("required", "electric car", "Required attributes: Electric vehicle"),
        ("region", "Tampere", "Region: Tampere"),
        ("refused", "no smokers", "Refused attributes: Smoker"),
        ("min_stars", "at least 4 stars", "Minimum score: at least 4 stars"),
    ]
    plain = html.unescape(re.sub(r'<span class="field-name">.*?</span>|<[^>]+>', "", reading))
    assert plain.strip() == ISSUE_SENTENCE  # nothing of the sentence is lost or reordered
    unparsed = page.split('data-testid="unparsed"', 1)[1].split("</ul>", 1)[0]
    assert "<li>quiet</li>" in unparsed


def test_the_page_says_which_fields_the_sentence_changed(market: World) -> None:
    _status, page = describe(signed_in(market, CUSTOMER), ISSUE_SENTENCE)

    changes = page.split('data-testid="changes"', 1)[1].split("</ul>", 1)[0]
    assert re.search(r'data-field="region"><strong>Region</strong>: Helsinki → Tampere', changes)
    assert re.search(r'data-field="min_stars"><strong>Minimum score</strong>: 2 stars → 4 stars',
                     changes)
    assert 'data-field="required"' in changes and 'data-field="refused"' in changes
    assert 'data-field="max_price"' not in changes  # the sentence states no price
    form = page.split('id="criteria-form"', 1)[1]
    assert 'data-changed="region"' in form and 'data-changed="max_price"' not in form


def test_submitting_the_reviewed_form_sets_the_criteria_on_chain(market: World) -> None:
    client = signed_in(market, CUSTOMER)
    _status, page = describe(client, ISSUE_SENTENCE + ", under 0.08 eth")
    values = criteria_form(page)
    assert values["max_price"] == "0.08"
    before = _version(market)

    response = client.post("/criteria", values)

    assert response.status_code == 302, main_part(response.get_data(as_text=True))
    assert follow_pending(market, client, response.headers["Location"]) == (
        "/matches?category=rides")
    with market.indexer.engine.connect() as conn:
        row = store_queries.current_criteria(conn, market.address(CUSTOMER), RIDES)
    assert row is not None and int(row["version"]) > before
    assert int(row["region"]) == TAMPERE
    assert int(row["min_score"]) == 40_000
    assert int(row["max_price"]) == 8 * 10**16
    assert int(row["premium_per_star"]) == 10**16  # kept from the current criteria
    assert int(row["required_attributes"]) == 1 << ATTR["electric_vehicle"]
    assert int(row["refused_attributes"]) == 1 << ATTR["smoker"]
    assert (int(row["score_weight"]), int(row["price_weight"])) == (6_000, 4_000)


def test_a_category_in_the_sentence_wins_over_the_page(market: World) -> None:
    status, page = describe(signed_in(market, CUSTOMER), "cleaning in Espoo with eco products")

    assert status == 200, main_part(page)
    values = criteria_form(page)
    assert values["category"] == "cleaning" and values["region"] == "espoo"
    assert values["required"] == ["eco_products"]
    assert "(from your sentence)" in page
    assert '<a href="/criteria?category=cleaning" class="active">Cleaning</a>' in page


@pytest.mark.parametrize(("sentence", "category", "field", "message"), [
    ("   ", "rides", "sentence", "Text is empty"),
    ("electric car " * 200, "rides", "sentence", "at most 2000 are accepted"),
    ("at least 4 stars in Tampere", None, "sentence_category", "names no service"),
    ("at least 4 stars in Tampere", "boats", "sentence_category", "Unknown category"),
])
def test_bad_sentences_show_a_message_next_to_the_box_and_keep_the_text(
    market: World, sentence: str, category: str | None, field: str, message: str,
) -> None:
    client = signed_in(market, CUSTOMER)
    status, page = describe(client, sentence, category=category)

    assert status == 400
    error = re.search(rf'<p class="error" id="{field}-error"[^>]*>(.*?)</p>', page)
    assert error is not None, main_part(page)
    assert message.lower() in html.unescape(error.group(1)).lower()
    box = re.search(r'<textarea name="sentence"[^>]*>(.*?)</textarea>', page, re.S)
    assert box is not None and html.unescape(box.group(1)) == sentence
    assert 'id="sentence-reading"' not in page
    # The criteria form still shows the current criteria, untouched.
    current = client.get("/criteria?category=rides").get_data(as_text=True)
    assert criteria_form(page) == criteria_form(current)


def test_a_visitor_sees_the_reading_over_the_defaults_and_is_asked_to_sign_in_to_save(
    market: World,
) -> None:
    status, page = describe(market.client(), ISSUE_SENTENCE)

    assert status == 200, main_part(page)
    values = criteria_form(page)
    assert (values["region"], values["min_stars"]) == ("tampere", "4")
    assert values["max_price"] == "0.1"  # the editor's default, not someone's criteria
    assert "Sign in to save" in page
