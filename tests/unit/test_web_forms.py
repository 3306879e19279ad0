"""The criteria form and the JSON body parse each input once and obey the domain's rules."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from marketplace.matching.criteria import parse_criteria
from marketplace.web.errors import FieldError, FormErrors
from marketplace.web.forms import Inputs, choice, criteria_json, parse_criteria_inputs


def form(**fields: str | list[str]) -> Inputs:
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        pairs.extend((name, v) for v in (value if isinstance(value, list) else [value]))
    return Inputs(MultiDict(pairs))


def test_a_form_gives_the_same_tuple_as_the_domain_parser() -> None:
    parsed = parse_criteria_inputs(form(
        category="rides", region="espoo", min_stars="4.25", max_price="0.1",
        premium_per_star="0.02", required=["pet_friendly", "insured"], refused=["smoker"],
        score_weight="60", price_weight="40"))

    assert parsed == parse_criteria(
        "rides", region="espoo", min_stars="4.25", max_price="0.1 ether",
        premium_per_star="0.02 ether", required=["pet_friendly", "insured"],
        refused=["smoker"], score_weight=60, price_weight=40)


def test_json_takes_codes_wei_and_defaults_and_reads_back_the_same() -> None:
    body: dict[str, Any] = {"category": 1, "region": "any", "max_price": str(10**17),
                            "required": "2,insured"}

    parsed = parse_criteria_inputs(Inputs(body))

    assert (parsed.category, parsed.region, parsed.max_price) == (1, 0, 10**17)
    assert (parsed.premium_per_star, parsed.score_weight, parsed.price_weight) == (0, 5_000, 5_000)
    assert parse_criteria_inputs(Inputs(criteria_json(parsed))) == parsed


def test_every_bad_field_is_reported_at_once_with_the_domains_words() -> None:
    with pytest.raises(FormErrors) as raised:
        parse_criteria_inputs(form(category="rides", region="atlantis", min_stars="7",
                                   max_price="abc", score_weight="-1"))

    fields = raised.value.fields
    assert set(fields) == {"region", "min_stars", "max_price", "score_weight"}
    assert fields["min_stars"] == "7 stars is above 5 stars."
    assert fields["score_weight"] == "Weights must not be negative (got -1)."


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"required": ["pet_friendly"], "refused": ["pet_friendly"]}, "refused",
     "'pet_friendly' cannot be both required and refused."),
    ({"score_weight": "0", "price_weight": "0"}, "score_weight",
     "Score and price weights cannot both be zero."),
])
def test_rules_across_fields_are_the_domains_and_name_the_form_field(
    fields: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(FieldError) as raised:
        parse_criteria_inputs(form(category="rides", max_price="0.1", **fields))

    assert raised.value.field == field and raised.value.message == words


def test_a_relative_weight_has_an_input_limit() -> None:
    with pytest.raises(FormErrors) as raised:
        parse_criteria_inputs(form(category="rides", max_price="0.1",
                                   score_weight=str(10**9 + 1)))

    assert set(raised.value.fields) == {"score_weight"}


def test_a_choice_is_a_catalogue_key_or_code_and_nothing_else() -> None:
    assert choice(" Rides ", "category", "category", allow_any=False) == 1
    assert choice("3", "category", "category", allow_any=False) == 3
    assert choice(0, "region", "region", allow_any=True) == 0
    for bad in ("gardening", 99, True, 1.0, "²", "١"):
        with pytest.raises(FieldError, match="catalogue|pick one of: rides"):
            choice(bad, "category", "category", allow_any=False)
