"""The criteria-sentence parser: each stated field, and only those, with the phrase behind it."""

from __future__ import annotations

import pytest

from marketplace.language.criteria_text import parse_criteria_sentence
from marketplace.language.errors import MAX_TEXT_CHARS, InvalidText


def test_the_issue_example_becomes_a_full_draft() -> None:
    draft = parse_criteria_sentence("A quiet electric car in Tampere, no smokers, at least 4 stars")
    assert draft.criteria == {
        "category": "rides",
        "region": "tampere",
        "required": ["electric_vehicle"],
        "refused": ["smoker"],
        "min_stars": 4.0,
    }
    fields = {p.text: p.field for p in draft.phrases}
    assert fields == {
        "electric car": "required",
        "Tampere": "region",
        "no smokers": "refused",
        "at least 4 stars": "min_stars",
    }
    assert draft.unparsed == ["quiet"]


@pytest.mark.parametrize(
    "sentence",
    ["no smokers please", "a driver who doesn't smoke", "non-smoking driver",
     "smoking not allowed", "must not smoke"],
)
def test_a_negated_attribute_is_refused_not_required(sentence: str) -> None:
    draft = parse_criteria_sentence(sentence, "rides")
    assert draft.criteria.get("refused") == ["smoker"]
    assert "required" not in draft.criteria


def test_negation_carries_over_or_but_stops_at_a_comma() -> None:
    draft = parse_criteria_sentence("no smokers or pets, Swedish speaking", "cleaning")
    assert draft.criteria["refused"] == ["pet_friendly", "smoker"]
    assert draft.criteria["required"] == ["speaks_swedish"]


def test_a_double_negation_requires() -> None:
    draft = parse_criteria_sentence("plumber in Oulu, no uninsured workers")
    assert draft.criteria["required"] == ["insured"]


def test_prices_are_wei_whatever_unit_the_customer_wrote() -> None:
    assert parse_criteria_sentence("taxi, max 0.05 eth").criteria["max_price"] == str(5 * 10**16)
    gwei = parse_criteria_sentence("taxi under 20 gwei").criteria["max_price"]
    assert gwei == str(20 * 10**9)


def test_an_amount_in_a_currency_the_app_does_not_use_is_listed_not_guessed() -> None:
    draft = parse_criteria_sentence("ride in Helsinki under 20 euros")
    assert "max_price" not in draft.criteria
    assert "euros" in draft.unparsed


@pytest.mark.parametrize(
    ("sentence", "stars"),
    [("4.5 stars or better", 4.5), ("rated at least 3.5", 3.5), ("four stars and up", 4.0),
     ("four and a half stars", 4.5), ("5 star only", 5.0)],
)
def test_minimum_stars_in_several_wordings(sentence: str, stars: float) -> None:
    assert parse_criteria_sentence(sentence, "rides").criteria["min_stars"] == stars


def test_fields_the_sentence_does_not_mention_are_absent() -> None:
    draft = parse_criteria_sentence("something good in Helsinki")
    assert draft.criteria == {"region": "helsinki"}
    assert draft.unparsed == ["good"]


def test_the_given_category_applies_only_when_the_sentence_names_none() -> None:
    assert parse_criteria_sentence("Turku, insured", "repairs").criteria["category"] == "repairs"
    named = parse_criteria_sentence("a cleaner in Turku", "repairs")
    assert named.criteria["category"] == "cleaning"


def test_alternatives_cannot_be_signed_so_they_are_listed() -> None:
    draft = parse_criteria_sentence("Helsinki, Swedish or English is fine", "repairs")
    assert "required" not in draft.criteria
    assert "swedish or english" in draft.unparsed


def test_finnish_place_names_in_their_case_forms() -> None:
    draft = parse_criteria_sentence("siivous Tampereella", "cleaning")
    assert draft.criteria["region"] == "tampere"


@pytest.mark.parametrize("text", ["", "   ", "x" * (MAX_TEXT_CHARS + 1)])
def test_empty_or_too_long_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidText) as caught:
        parse_criteria_sentence(text)
    assert caught.value.field == "text"


def test_an_unknown_category_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InvalidText, match="known: rides, cleaning"):
        parse_criteria_sentence("in Oulu", "gardening")
