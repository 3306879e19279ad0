"""The off-chain catalogue: names for categories, regions, attribute bits and complaint tags.

The contract stores only numbers (a category code, a region code, a 64-bit attribute mask, a
32-bit complaint mask); this module is the one place that names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.errors import MarketplaceError


class UnknownName(MarketplaceError):
    """A category, region, attribute or complaint tag name that the catalogue does not know."""


@dataclass(frozen=True)
class Entry:
    """One named code: `code` is the category/region number or the bit index."""

    code: int
    key: str
    label: str


CATEGORIES: tuple[Entry, ...] = (
    Entry(1, "rides", "Rides"),
    Entry(2, "cleaning", "Cleaning"),
    Entry(3, "tutoring", "Tutoring"),
    Entry(4, "repairs", "Repairs"),
    Entry(5, "delivery", "Delivery"),
)

REGIONS: tuple[Entry, ...] = (
    Entry(1, "helsinki", "Helsinki"),
    Entry(2, "espoo", "Espoo"),
    Entry(3, "tampere", "Tampere"),
    Entry(4, "turku", "Turku"),
    Entry(5, "oulu", "Oulu"),
)

# Attribute bits: the index is the bit in the on-chain 64-bit mask.
ATTRIBUTES: tuple[Entry, ...] = (
    Entry(0, "electric_vehicle", "Electric vehicle"),
    Entry(1, "wheelchair_access", "Wheelchair access"),
    Entry(2, "pet_friendly", "Pet friendly"),
    Entry(3, "speaks_finnish", "Speaks Finnish"),
    Entry(4, "speaks_english", "Speaks English"),
    Entry(5, "speaks_swedish", "Speaks Swedish"),
    Entry(6, "compact_car", "Compact car"),
    Entry(7, "large_vehicle", "Large vehicle"),
    Entry(8, "child_seat", "Child seat"),
    Entry(9, "eco_products", "Eco-friendly products"),
    Entry(10, "own_equipment", "Brings own equipment"),
    Entry(11, "weekend_service", "Weekend service"),
    Entry(12, "night_service", "Night service"),
    Entry(13, "certified", "Certified professional"),
    Entry(14, "insured", "Insured"),
    Entry(15, "smoker", "Smoker"),
    Entry(16, "allergy_safe", "Allergy safe"),
    Entry(17, "online", "Online sessions"),
    Entry(18, "bike_courier", "Bike courier"),
    Entry(19, "cash_free", "Card or crypto only"),
)

# The attributes that make sense for each category (keys): the register form offers these.
CATEGORY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "rides": ("electric_vehicle", "wheelchair_access", "pet_friendly", "compact_car",
              "large_vehicle", "child_seat", "smoker", "night_service", "speaks_finnish",
              "speaks_english", "speaks_swedish", "cash_free"),
    "cleaning": ("eco_products", "own_equipment", "allergy_safe", "pet_friendly", "insured",
                 "weekend_service", "speaks_finnish", "speaks_english"),
    "tutoring": ("online", "certified", "speaks_finnish", "speaks_english", "speaks_swedish",
                 "weekend_service"),
    "repairs": ("certified", "insured", "own_equipment", "weekend_service", "night_service",
                "speaks_finnish"),
    "delivery": ("bike_courier", "electric_vehicle", "large_vehicle", "night_service",
                 "cash_free", "weekend_service"),
}


def categories_of_attribute(key: str) -> tuple[str, ...]:
    """The categories (keys) whose listings may claim the attribute `key`."""
    return tuple(c for c, keys in CATEGORY_ATTRIBUTES.items() if key in keys)


# Complaint tags: the index is the bit in the 32-bit complaint mask of a rating. Which provider
# attributes each tag implicates (so learning generalises) lives in marketplace/profile/traits.py.
COMPLAINT_TAGS: tuple[Entry, ...] = (
    Entry(0, "late", "Late"),
    Entry(1, "rude", "Rude"),
    Entry(2, "dirty", "Dirty"),
    Entry(3, "uncomfortable_vehicle", "Uncomfortable vehicle"),
    Entry(4, "smoke_smell", "Smelled of smoke"),
    Entry(5, "poor_quality", "Poor quality"),
    Entry(6, "overcharged", "Overcharged"),
    Entry(7, "no_show", "Did not show up"),
    Entry(8, "language_barrier", "Language barrier"),
    Entry(9, "pet_hair", "Pet hair"),
)


_ENTRIES = {
    "category": CATEGORIES,
    "region": REGIONS,
    "attribute": ATTRIBUTES,
    "complaint tag": COMPLAINT_TAGS,
}
_BY_KEY = {kind: {entry.key: entry for entry in entries} for kind, entries in _ENTRIES.items()}
_BY_CODE = {kind: {entry.code: entry for entry in entries} for kind, entries in _ENTRIES.items()}


def entries(kind: str) -> tuple[Entry, ...]:
    """Every entry of `kind` ('category', 'region', 'attribute', 'complaint tag'), by code."""
    return _ENTRIES[kind]


def lookup(kind: str, key: str) -> Entry:
    """The entry named `key` of `kind` ('category', 'region', 'attribute', 'complaint tag')."""
    entry = _BY_KEY[kind].get(key)
    if entry is None:
        known = ", ".join(sorted(_BY_KEY[kind]))
        raise UnknownName(f"unknown {kind} {key!r}; known: {known}")
    return entry


def entry_of(kind: str, code: int) -> Entry | None:
    """The entry of `kind` with this code (a category/region number or a bit), None if unnamed.

    The one lookup from the numbers the contract stores to names: keys, labels and phrases
    elsewhere all come from here.
    """
    return _BY_CODE[kind].get(code)


def key_of(kind: str, code: int) -> str | None:
    """The catalogue key of a code ('rides' for category 1), None if unnamed (or 0: 'any')."""
    entry = entry_of(kind, code)
    return None if entry is None else entry.key


def label(kind: str, code: int) -> str:
    """Human label of a code ('region 9' if unnamed)."""
    entry = entry_of(kind, code)
    return f"{kind} {code}" if entry is None else entry.label


def mask(kind: str, keys: list[str] | tuple[str, ...] | set[str]) -> int:
    """Bitmask of the named attributes or complaint tags."""
    value = 0
    for key in keys:
        value |= 1 << lookup(kind, key).code
    return value


def names(kind: str, bits: int) -> list[str]:
    """Keys of the named set bits of an attribute or complaint-tag mask, in bit order."""
    return [entry.key for entry in _ENTRIES[kind] if bits >> entry.code & 1]


def labels(kind: str, bits: int) -> list[str]:
    """Human labels of the named set bits of an attribute or complaint-tag mask, in bit order."""
    return [entry.label for entry in _ENTRIES[kind] if bits >> entry.code & 1]
