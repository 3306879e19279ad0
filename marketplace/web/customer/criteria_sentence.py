"""A criteria sentence on the criteria page (issue 15): what was understood, and the draft merged
over the customer's current criteria for them to review.

Nothing here signs or stores anything: the merged values only pre-fill the criteria form, and
the customer saves that form as the usual setCriteria transaction. The sentence is personal
data; it is echoed back in the page and neither stored nor logged.

Merging is per field: a field the sentence states replaces the current value, every other field
keeps it. The one exception keeps the draft signable: an attribute the sentence requires is
taken off the current refused list (and the other way round), since the contract refuses
criteria that require and refuse one attribute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from marketplace.catalogue import UnknownName, lookup
from marketplace.language.criteria_text import Phrase, parse_criteria_sentence
from marketplace.language.errors import InvalidText
from marketplace.units import ether_text
from marketplace.web.errors import FieldError

# Form field names of the "Describe what you want" box.
SENTENCE_FIELD = "sentence"
CATEGORY_FIELD = "sentence_category"

# What each criteria field is called on the page (highlights and the list of changes).
FIELD_LABELS = {
    "category": "Category",
    "region": "Region",
    "min_stars": "Minimum score",
    "max_price": "Maximum price",
    "required": "Required attributes",
    "refused": "Refused attributes",
}
_MERGED = ("region", "min_stars", "max_price", "required", "refused")


@dataclass(frozen=True)
class Segment:
    """A stretch of the sentence: plain text (`field` None) or a phrase that set a field."""

    text: str
    field: str | None = None
    field_label: str = ""
    value_label: str = ""


@dataclass(frozen=True)
class Change:
    """A form field the sentence changed, as the page shows it."""

    field: str
    label: str
    before: str
    after: str


@dataclass
class Reading:
    """A sentence read for the criteria page: highlights, unplaced words, the merged form."""

    sentence: str
    category: int
    category_from_sentence: bool
    segments: list[Segment]
    unparsed: list[str]
    values: dict[str, Any]
    changes: list[Change] = field(default_factory=list)

    @property
    def changed_fields(self) -> set[str]:
        """Names of the form fields the sentence changed."""
        return {change.field for change in self.changes}


def read_sentence(
    sentence: str,
    chosen_category: str | None,
    current_values: Callable[[int], dict[str, Any]],
) -> Reading:
    """Read `sentence` into a reviewable draft over `current_values(category)`.

    The category is the sentence's own, else `chosen_category` (a catalogue key, "" for none).
    Raises `FieldError` on the box's fields: `sentence` (empty, too long) or `sentence_category`
    (unknown, or none chosen and none in the sentence).
    """
    try:
        draft = parse_criteria_sentence(sentence, chosen_category or None)
    except InvalidText as exc:
        name = CATEGORY_FIELD if exc.field == "category" else SENTENCE_FIELD
        raise FieldError(_sentence_case(exc.message), name) from None
    stated = draft.criteria
    if "category" not in stated:
        raise FieldError(
            "Your sentence names no service (a ride, cleaning, tutoring, repairs, delivery): "
            "say which, or choose a category here.", CATEGORY_FIELD)
    category = lookup("category", stated["category"]).code
    # The sentence chose it when it names one, or when its words imply another ("electric car").
    from_sentence = stated["category"] != (chosen_category or None) or any(
        p.field == "category" for p in draft.phrases)
    before = current_values(category)
    values = merge(before, stated)
    changes = [
        Change(name, FIELD_LABELS[name], describe(name, before[name]), describe(name, values[name]))
        for name in _MERGED if values[name] != before[name]
    ]
    return Reading(
        sentence=sentence.strip(),
        category=category,
        category_from_sentence=from_sentence,
        segments=segments(sentence.strip(), draft.phrases),
        unparsed=draft.unparsed,
        values=values,
        changes=changes,
    )


def merge(current: dict[str, Any], stated: dict[str, Any]) -> dict[str, Any]:
    """The criteria form's values: `stated` (a draft's criteria) over `current` form values."""
    values = dict(current)
    values["category"] = stated["category"]
    if "region" in stated:
        values["region"] = stated["region"]
    if "min_stars" in stated:
        values["min_stars"] = _stars_text(stated["min_stars"])
    if "max_price" in stated:
        values["max_price"] = ether_text(int(stated["max_price"]))
    for name, other in (("required", "refused"), ("refused", "required")):
        if name in stated:
            values[name] = list(stated[name])
            if other not in stated:  # keep the draft signable: never both required and refused
                values[other] = [key for key in values[other] if key not in stated[name]]
    return values


def segments(sentence: str, phrases: list[Phrase]) -> list[Segment]:
    """The sentence cut into plain text and highlighted phrases, in order.

    The draft's phrases are in sentence order and never overlap, so each is found at or after
    the end of the one before it.
    """
    out: list[Segment] = []
    position = 0
    for phrase in phrases:
        start = sentence.find(phrase.text, position)
        if start < 0:  # not expected: the phrase text is a slice of this sentence
            continue
        if start > position:
            out.append(Segment(sentence[position:start]))
        out.append(Segment(phrase.text, phrase.field, FIELD_LABELS.get(phrase.field, phrase.field),
                           _value_label(phrase.field, phrase.value)))
        position = start + len(phrase.text)
    if position < len(sentence):
        out.append(Segment(sentence[position:]))
    return out


def describe(name: str, value: Any) -> str:
    """A form value as the page says it ("Tampere", "4 stars", "0.05 ETH", "Smoker")."""
    if name == "region":
        return "any region" if value in (None, "", "any") else _label("region", str(value))
    if name == "min_stars":
        return f"{value} stars"
    if name == "max_price":
        return f"{value} ETH"
    if name in ("required", "refused"):
        return ", ".join(_label("attribute", key) for key in value) or "none"
    return str(value)


def _value_label(name: str, value: str) -> str:
    if name == "category":
        return _label("category", value)
    if name == "min_stars":
        return f"at least {_stars_text(value)} stars"
    if name == "max_price":
        return f"at most {ether_text(int(value))} ETH"
    if name in ("required", "refused"):
        return _label("attribute", value)
    return describe(name, value)


def _label(kind: str, key: str) -> str:
    try:
        return lookup(kind, key).label
    except UnknownName:
        return key


def _stars_text(value: float | str) -> str:
    number = Decimal(str(value)).normalize()
    return format(number, "f")


def _sentence_case(message: str) -> str:
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."
