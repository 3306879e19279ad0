"""Errors and input checks shared by the feedback interpreter and the criteria parser."""

from __future__ import annotations

from marketplace.catalogue import CATEGORIES
from marketplace.errors import MarketplaceError

MAX_TEXT_CHARS = 2_000  # longer texts are refused, not truncated: the customer must know


class InvalidText(MarketplaceError):
    """A text or category that cannot be interpreted; `field` names the bad input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def checked_text(text: object) -> str:
    """`text` stripped, or `InvalidText` when it is not a string, empty or too long."""
    if not isinstance(text, str):
        raise InvalidText("text", "text must be a string")
    stripped = text.strip()
    if not stripped:
        raise InvalidText("text", "text is empty; write a few words")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidText(
            "text", f"text is {len(text)} characters long; at most {MAX_TEXT_CHARS} are accepted"
        )
    return stripped


def checked_category(category: object) -> str:
    """A known category key, or `InvalidText` naming the known ones."""
    keys = [entry.key for entry in CATEGORIES]
    if not isinstance(category, str) or category not in keys:
        raise InvalidText(
            "category", f"unknown category {category!r}; known: {', '.join(keys)}"
        )
    return category
