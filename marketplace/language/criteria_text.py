"""A criteria sentence becomes a criteria draft the customer reviews and signs.

"A quiet electric car in Tampere, no smokers, at least 4 stars" ->
category rides, region tampere, required [electric_vehicle], refused [smoker], min_stars 4.0;
phrases: "electric car" -> required, "Tampere" -> region, "no smokers" -> refused,
"at least 4 stars" -> min_stars; unparsed: ["quiet"].

Rules over the catalogue's words (lexicon.py), not a learned model: every field a customer signs
must come from words they can see highlighted, and a rule that misreads is fixed by editing a
word list. Amounts follow the app: a number with a unit (wei, gwei, eth, ether) is a price
ceiling, reported in wei as a decimal string like the API's criteria.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from marketplace.catalogue import ATTRIBUTES
from marketplace.language import lexicon
from marketplace.language.errors import InvalidText, checked_category, checked_text
from marketplace.matching.criteria import InvalidCriteria, parse_amount

_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5"}
_NUM = r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five)(?:\s+and\s+a\s+half)?"
_STARS = re.compile(
    r"(?:(?:at\s+least|minimum(?:\s+of)?|min\.?|no\s+less\s+than|not\s+less\s+than|over|above|"
    r"more\s+than|rating\s+of(?:\s+at\s+least)?|rated(?:\s+at\s+least|\s+over|\s+above)?)\s+)?"
    rf"(?P<n>{_NUM})\s*(?:\+\s*)?-?\s*stars?\b"
    r"(?:\s*\+|\s+or\s+(?:more|better|higher|above)|\s+and\s+(?:up|above|higher|over)|"
    r"\s+minimum|\s+min\b|\s+at\s+least|\s+only|\s+is\s+enough)?"
    rf"|rated\s+(?:at\s+least\s+|over\s+|above\s+)?(?P<r>{_NUM})"
    r"(?:\s*\+|\s+or\s+(?:more|better|higher|above)|\s+and\s+(?:up|above))?",
    re.IGNORECASE,
)
_PRICE = re.compile(
    r"(?:(?:under|below|less\s+than|for\s+less\s+than|for\s+under|at\s+most|max(?:imum)?"
    r"(?:\s+price)?(?:\s+of)?|no\s+more\s+than|not\s+more\s+than|up\s+to|cheaper\s+than|"
    r"budget(?:\s+of)?|nothing\s+(?:above|over|more\s+expensive\s+than)|within|"
    r"price\s+(?:limit|cap)(?:\s+of)?)\s+)?"
    r"(?P<amount>\d+(?:[.,]\d+)?)\s*(?P<unit>eth|ether|gwei|wei)\b"
    r"(?:\s+(?:max(?:imum)?|tops|or\s+less|at\s+most|per\s+(?:session|ride|hour|visit)))?",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+(?:[.,]\d+)?|[,.;!?]", re.UNICODE)
_BREAKS = frozenset([",", ".", ";", "!", "?", "but"])
_MAX_PHRASE = 5  # words


@dataclass(frozen=True)
class Phrase:
    """A stretch of the sentence and the criteria field it set."""

    text: str
    field: str
    value: str


@dataclass
class CriteriaDraft:
    """What a sentence states: only the fields it mentions, for the customer to review."""

    criteria: dict[str, Any] = field(default_factory=dict)
    phrases: list[Phrase] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The API's shape: criteria, phrases (text, field, value), unparsed words."""
        return {
            "criteria": self.criteria,
            "phrases": [{"text": p.text, "field": p.field, "value": p.value}
                        for p in self.phrases],
            "unparsed": self.unparsed,
        }


@dataclass
class _Token:
    word: str
    start: int
    end: int
    used: bool = False


def parse_criteria_sentence(text: str, category: str | None = None) -> CriteriaDraft:
    """Read a criteria sentence into a draft; `category` applies when the text names none.

    Raises `InvalidText` for an empty or too long text or an unknown category.
    """
    text = checked_text(text)
    if category is not None:
        category = checked_category(category)
    draft = CriteriaDraft()
    spans: list[tuple[int, int, str, str]] = []  # start, end, field, value
    taken = [False] * len(text)

    def claim(start: int, end: int) -> bool:
        if any(taken[start:end]):
            return False
        taken[start:end] = [True] * (end - start)
        return True

    for match in _STARS.finditer(text):
        stars = _stars(match.group("n") or match.group("r"))
        if stars is not None and "min_stars" not in draft.criteria and claim(*match.span()):
            draft.criteria["min_stars"] = float(stars)
            spans.append((*match.span(), "min_stars", str(stars)))
    for match in _PRICE.finditer(text):
        wei = _wei(match.group("amount"), match.group("unit"))
        if wei is not None and "max_price" not in draft.criteria and claim(*match.span()):
            draft.criteria["max_price"] = str(wei)
            spans.append((*match.span(), "max_price", str(wei)))

    tokens = [_Token(m.group().lower().replace("’", "'"), *m.span())
              for m in _TOKEN.finditer(text) if not any(taken[m.start():m.end()])]
    matches = _match_phrases(tokens)
    strong: list[tuple[str, int, int]] = []
    weak: list[tuple[str, int, int]] = []
    required: dict[str, tuple[int, int]] = {}
    refused: dict[str, tuple[int, int]] = {}
    region: tuple[str, int, int] | None = None
    attributes: list[tuple[int, int, str, int]] = []  # first token, last token, key, polarity
    for first, last, kind, value in matches:
        start, end = tokens[first].start, tokens[last].end
        if kind == "strong":
            strong.append((value[0], start, end))
        elif kind == "weak":
            weak.append((value[0], start, end))
        elif kind == "region" and region is None:
            region = (value[0], start, end)
        elif kind == "attribute":
            key, polarity, implied = value
            attributes.append((first, last, key, polarity))
            if implied:
                weak.append((implied, -1, -1))
        else:
            continue
        for token in tokens[first : last + 1]:
            token.used = True

    _apply_polarity(tokens, attributes, required, refused, draft)

    chosen = strong[0] if strong else (weak[0] if weak else None)
    if chosen is not None:
        draft.criteria["category"] = chosen[0]
        if chosen[1] >= 0:
            spans.append((chosen[1], chosen[2], "category", chosen[0]))
    elif category is not None:
        draft.criteria["category"] = category
    if region is not None:
        draft.criteria["region"] = region[0]
        spans.append((region[1], region[2], "region", region[0]))
    order = [entry.key for entry in ATTRIBUTES]
    for name, chosen_keys in (("required", required), ("refused", refused)):
        if chosen_keys:
            draft.criteria[name] = sorted(chosen_keys, key=order.index)
            for key, (start, end) in chosen_keys.items():
                spans.append((start, end, name, key))

    draft.phrases = [Phrase(text[s:e], f, v) for s, e, f, v in sorted(spans)]
    draft.unparsed += [t.word for t in tokens if not t.used and t.word not in lexicon.STOPWORDS
                       and t.word not in _BREAKS]
    return draft


def _match_phrases(tokens: list[_Token]) -> list[tuple[int, int, str, tuple[Any, ...]]]:
    """Greedy longest match, left to right, of category, region and attribute phrases."""
    found = []
    i = 0
    while i < len(tokens):
        hit = None
        for length in range(min(_MAX_PHRASE, len(tokens) - i), 0, -1):
            phrase = " ".join(t.word for t in tokens[i : i + length])
            hit = _lookup(phrase)
            if hit is not None:
                found.append((i, i + length - 1, hit[0], hit[1]))
                i += length
                break
        if hit is None:
            i += 1
    return found


def _lookup(phrase: str) -> tuple[str, tuple[Any, ...]] | None:
    if phrase in lexicon.ATTRIBUTE_PHRASES:
        return "attribute", lexicon.ATTRIBUTE_PHRASES[phrase]
    if phrase in lexicon.CATEGORY_STRONG:
        return "strong", (lexicon.CATEGORY_STRONG[phrase],)
    if phrase in lexicon.CATEGORY_WEAK:
        return "weak", (lexicon.CATEGORY_WEAK[phrase],)
    if phrase in lexicon.REGIONS:
        return "region", (lexicon.REGIONS[phrase],)
    if " " not in phrase:
        for stem, region in lexicon.REGION_STEMS.items():
            if phrase.startswith(stem):
                return "region", (region,)
    return None


def _apply_polarity(
    tokens: list[_Token],
    attributes: list[tuple[int, int, str, int]],
    required: dict[str, tuple[int, int]],
    refused: dict[str, tuple[int, int]],
    draft: CriteriaDraft,
) -> None:
    """Required or refused per attribute: its own polarity, flipped by a negation before it."""
    previous_negated: int | None = None  # last token of the previous negated attribute
    previous_positive: tuple[int, int, str] | None = None
    for first, last, key, polarity in attributes:
        start = tokens[first].start
        negated = False
        # A negation word shortly before, with only fillers between: "no smokers".
        j = first - 1
        while j >= 0 and tokens[j].word in lexicon.NEGATION_FILLERS and not tokens[j].used:
            j -= 1
        if j >= 0 and tokens[j].word in lexicon.NEGATIONS and not tokens[j].used:
            negated = True
            tokens[j].used = True
            start = tokens[j].start
        elif previous_negated is not None and all(
            t.word in lexicon.JOINERS for t in tokens[previous_negated + 1 : first]
        ):
            negated = True  # "no smokers or pets"
        after = " ".join(t.word for t in tokens[last + 1 : last + 4])
        end = tokens[last].end
        if any(after.startswith(cue) or after.startswith(f"is {cue}") or
               after.startswith(f"are {cue}") for cue in lexicon.DONT_CARE):
            draft.unparsed.append(" ".join(t.word for t in tokens[first : last + 1]))
            previous_negated = None
            continue
        for cue in lexicon.POST_NEGATIONS:
            for lead in ("", "is ", "are "):
                if after.startswith(lead + cue):
                    negated = True
                    words = len((lead + cue).split())
                    for token in tokens[last + 1 : last + 1 + words]:
                        token.used = True
                    end = tokens[last + words].end
        effective = -polarity if negated else polarity
        span = (start, end)
        if effective > 0:
            if previous_positive is not None and all(
                t.word == "or" for t in tokens[previous_positive[1] + 1 : first]
            ) and first > previous_positive[1] + 1:
                # "Swedish or English": an alternative the on-chain criteria cannot express.
                required.pop(previous_positive[2], None)
                both = tokens[previous_positive[0] : last + 1]
                draft.unparsed.append(" ".join(t.word for t in both))
                previous_positive = None
                continue
            refused.pop(key, None)
            required.setdefault(key, span)
            previous_positive = (first, last, key)
            previous_negated = None
        else:
            required.pop(key, None)
            refused.setdefault(key, span)
            previous_negated = last
            previous_positive = None


def _stars(raw: str) -> Decimal | None:
    words = raw.lower().split()
    half = len(words) > 1  # "four and a half"
    number = _NUMBER_WORDS.get(words[0], words[0]).replace(",", ".")
    try:
        value = Decimal(number) + (Decimal("0.5") if half else 0)
    except InvalidOperation:
        return None
    return value if 0 < value <= 5 else None


def _wei(amount: str, unit: str) -> int | None:
    try:
        return parse_amount(f"{amount.replace(',', '.')} {unit.lower()}")
    except InvalidCriteria:
        return None


__all__ = ["CriteriaDraft", "InvalidText", "Phrase", "parse_criteria_sentence"]
