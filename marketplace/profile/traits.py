"""Which provider attributes a complaint tag implicates.

A complaint names a symptom ("uncomfortable vehicle"); the provider's attributes name traits
("compact car"). Blaming the traits a complaint is about, among those the provider has, is what
lets one complaint lower every provider sharing that trait. Tags about the service itself
(late, rude, no show, ...) implicate no trait: they count against the provider alone.
"""

from __future__ import annotations

from marketplace.catalogue import lookup, mask

TAG_TRAITS: dict[str, tuple[str, ...]] = {
    "uncomfortable_vehicle": ("electric_vehicle", "compact_car", "large_vehicle", "child_seat"),
    "smoke_smell": ("smoker",),
    "pet_hair": ("pet_friendly",),
    "language_barrier": ("speaks_finnish", "speaks_english", "speaks_swedish"),
}

_TRAIT_MASKS: dict[int, int] = {
    lookup("complaint tag", tag).code: mask("attribute", traits)
    for tag, traits in TAG_TRAITS.items()
}

# "Overcharged" implicates no trait: it says the customer weighs price more than their weights do.
OVERCHARGED_TAG = lookup("complaint tag", "overcharged").code


def implicated(tag: int, attributes: int) -> int:
    """The attributes (mask) among `attributes` that complaint tag bit `tag` is about."""
    return _TRAIT_MASKS.get(tag, 0) & attributes


def tag_bits(complaints: int) -> list[int]:
    """The set bits of a 32-bit complaint mask."""
    return [bit for bit in range(32) if complaints >> bit & 1]


def bits(mask_value: int) -> list[int]:
    """The set bits of a 64-bit attribute mask."""
    return [bit for bit in range(64) if mask_value >> bit & 1]
