"""The labelled corpus written for this project: feedback texts and criteria sentences.

It ships inside the package (`data/`) because the feedback classifier is trained from its
training part when the model loads: a few hundred texts train in a fraction of a second, and
keeping the readable text rather than a pickled model means anyone can read, correct or extend
what the classifier learns from.

Feedback texts: `data/feedback.txt` is the training part (every line `train`; its former test
lines were evaluated more than once and were moved to training on 2026-12-03), and
`data/feedback_heldout.txt` is the test part, written before the model was tuned, frozen, and
evaluated once. Criteria sentences: `data/criteria.txt`, split once (seeded, stratified), the
split stored on every line. The benchmark reports on `test` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from marketplace.catalogue import lookup

Split = Literal["train", "test"]

# The frozen held-out feedback texts (every line `test`); never trained on.
HELDOUT_FILE = "feedback_heldout.txt"


@dataclass(frozen=True)
class FeedbackExample:
    """A feedback text, its category and the complaint tags it states (empty: no complaint)."""

    split: Split
    category: str
    tags: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class CriteriaExample:
    """A criteria sentence, the category sent with it (if any) and the draft it should give."""

    split: Split
    category_hint: str | None
    text: str
    expected: dict[str, str]


def _lines(name: str, only: Split | None = None) -> list[list[str]]:
    raw = resources.files("marketplace.language").joinpath("data", name).read_text("utf-8")
    rows = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("|")
        if fields[0] not in ("train", "test") or (only is not None and fields[0] != only):
            raise ValueError(f"{name}:{number}: split must be {only or 'train or test'}")
        rows.append(fields)
    return rows


@cache
def feedback_examples() -> tuple[FeedbackExample, ...]:
    """Every labelled feedback text (tags checked against the catalogue): the training part
    (`feedback.txt`) then the held-out test part (`feedback_heldout.txt`)."""
    examples = []
    rows = _lines("feedback.txt", "train") + _lines(HELDOUT_FILE, "test")
    for split, category, tags, text in rows:
        lookup("category", category)
        keys = () if tags == "-" else tuple(tags.split(","))
        for key in keys:
            lookup("complaint tag", key)
        examples.append(FeedbackExample(split, category, keys, text))  # type: ignore[arg-type]
    return tuple(examples)


@cache
def criteria_examples() -> tuple[CriteriaExample, ...]:
    """Every criteria sentence with its expected draft as field -> text value."""
    examples = []
    for split, hint, text, expected in _lines("criteria.txt"):
        fields = {}
        for pair in expected.split(";"):
            name, _, value = pair.strip().partition("=")
            fields[name] = value.strip()
        examples.append(
            CriteriaExample(split, None if hint == "-" else hint, text, fields)  # type: ignore[arg-type]
        )
    return tuple(examples)
