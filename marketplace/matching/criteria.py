"""Criteria input: turn what a customer types into the on-chain `CriteriaInput` tuple.

The contract checks a few of these rules too (`setCriteria` reverts); checking them here first
means the customer sees which field is wrong before signing anything, and the rules the contract
cannot express (unknown attribute names, amounts that overflow the uint96 field) are caught too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from marketplace.catalogue import UnknownName, key_of, lookup
from marketplace.domain import (
    BPS,
    MAX_ATTESTORS,
    MAX_PRICE,
    MAX_SCORE,
    MAX_TRUSTED_ATTESTORS,
    MAX_WEIGHT,
    RATING_WEIGHT_UNIT,
    STAR,
    UINT8_MAX,
    UINT16_MAX,
    UINT32_MAX,
    UINT64_MAX,
    UINT88_MAX,
    CriteriaFields,
    attestor_ids,
    attestor_mask,
)
from marketplace.errors import MarketplaceError
from marketplace.matching.eligibility import CriteriaView
from marketplace.units import ETHER_CURRENCY, Currency

# Units a customer may type after an amount; a bare number is wei.
_UNITS = {"wei": 0, "gwei": 9, "eth": 18, "ether": 18}


class InvalidCriteria(MarketplaceError):
    """A criteria field is invalid; `field` names it as in `CriteriaInput`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# Each field's largest value: the width of its on-chain field.
_LIMITS: tuple[tuple[str, int], ...] = (
    ("category", UINT16_MAX),
    ("region", UINT16_MAX),
    ("currency", UINT8_MAX),
    ("min_score", UINT16_MAX),
    ("max_price", UINT88_MAX),
    ("premium_per_star", UINT88_MAX),
    ("required_attributes", UINT64_MAX),
    ("refused_attributes", UINT64_MAX),
    ("verified_attributes", UINT64_MAX),
    ("trusted_attestors", UINT32_MAX),
    ("min_rating_weight", UINT32_MAX),
    ("min_reliability", UINT16_MAX),
    ("score_weight", UINT16_MAX),
    ("price_weight", UINT16_MAX),
)
# The contract's criteria fields, in its order (`dataclasses.fields` is slow to ask each time).
_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(CriteriaFields))


@dataclass(frozen=True)
class CriteriaInput(CriteriaFields):
    """`domain.CriteriaFields`, validated on construction: what a customer may write.

    `verified_attributes` must be required too, each verified by one of the `trusted_attestors`
    (a mask, bit id - 1, at most four); `min_rating_weight` in weight units (1,000 = one
    minimum-fee rating); `min_reliability` in basis points."""

    def __post_init__(self) -> None:
        for name, limit in _LIMITS:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidCriteria(name, f"must be an integer, not {type(value).__name__}")
            if value < 0:
                raise InvalidCriteria(name, f"must not be negative (got {value})")
            if value > limit:
                raise InvalidCriteria(name, f"{value} overflows its on-chain field (max {limit})")
        if self.category == 0:
            raise InvalidCriteria("category", "category 0 means none; choose a category")
        if self.min_score > MAX_SCORE:
            raise InvalidCriteria("min_score", f"{self.min_score} is above 5 stars ({MAX_SCORE})")
        for name in ("score_weight", "price_weight"):
            if getattr(self, name) > MAX_WEIGHT:
                raise InvalidCriteria(name, f"must be at most {MAX_WEIGHT} basis points")
        if self.score_weight == 0 and self.price_weight == 0:
            raise InvalidCriteria("score_weight", "score and price weights cannot both be zero")
        overlap = self.required_attributes & self.refused_attributes
        if overlap:
            names = ", ".join(repr(a) for a in attribute_keys(overlap))
            raise InvalidCriteria(
                "refused_attributes", f"{names} cannot be both required and refused"
            )
        extra = self.verified_attributes & ~self.required_attributes
        if extra:
            names = ", ".join(repr(a) for a in attribute_keys(extra))
            raise InvalidCriteria("verified_attributes",
                                  f"{names} must also be required to be required verified")
        if self.min_reliability > BPS:
            raise InvalidCriteria("min_reliability",
                                  f"{self.min_reliability} is above 100% ({BPS} basis points)")
        trusted = attestor_ids(self.trusted_attestors) if self.trusted_attestors else []
        if len(trusted) > MAX_TRUSTED_ATTESTORS:
            raise InvalidCriteria("trusted_attestors",
                                  f"trust at most {MAX_TRUSTED_ATTESTORS} attestors, not "
                                  f"{len(trusted)}")
        if self.verified_attributes and not trusted:
            raise InvalidCriteria("trusted_attestors",
                                  "name the attestors you trust to verify attributes")

    def to_view(self, version: int, blocked: Iterable[int] = (),
                blocked_owners: Iterable[str] = ()) -> CriteriaView:
        """The stored criteria this input becomes at `version`, with the customer's blocks
        (listings of this category, and owners)."""
        return CriteriaView(
            **{name: getattr(self, name) for name in _FIELD_NAMES},
            version=version,
            blocked=frozenset(blocked),
            blocked_owners=frozenset(o.lower() for o in blocked_owners),
        )

    @classmethod
    def from_view(cls, view: CriteriaView) -> CriteriaInput:
        """The input that would write `view` again (version and blocks are not part of it)."""
        return cls(**{name: getattr(view, name) for name in _FIELD_NAMES})

    def changed(self, **changes: int) -> CriteriaInput:
        """A copy with `changes` applied and validated again."""
        return replace(self, **changes)


def parse_criteria(
    category: str | int,
    *,
    region: str | int | None = None,
    currency: Currency = ETHER_CURRENCY,
    min_stars: str | int | float | Decimal = 0,
    max_price: str | int = 0,
    premium_per_star: str | int = 0,
    required: Iterable[str] = (),
    refused: Iterable[str] = (),
    verified: Iterable[str] = (),
    trusted_attestors: Iterable[int] = (),
    min_ratings: str | int | float | Decimal = 0,
    min_reliability: str | int | float | Decimal = 0,
    score_weight: str | int | float | Decimal = 1,
    price_weight: str | int | float | Decimal = 1,
) -> CriteriaInput:
    """Validate what a customer typed and return the on-chain criteria tuple.

    Categories, regions and attributes are catalogue keys (codes are accepted too); `min_stars` is
    in stars ("4.5"); amounts are in `currency`: for ether wei or a decimal with a unit ("0.1
    ether", "20 gwei"), for a token its smallest units (an integer) or a decimal with or without
    its symbol ("12.5", "12.5 DUSD"). `verified` attributes are required too, each verified by one
    of the `trusted_attestors` (ids). `min_ratings` is the minimum track record in minimum-fee
    ratings (2.5 -> rating weight 2,500); `min_reliability` a percentage. Weights are any two
    non-negative numbers, scaled to basis points that sum to 10,000 (60 and 40 become 6,000 and
    4,000). Raises `InvalidCriteria` naming the first bad field.
    """
    # Parsed in field order, so the error names the first bad field.
    category_code = _code("category", category, "category", allow_any=False)
    region_code = _code("region", region, "region", allow_any=True)
    min_score = parse_stars(min_stars, "min_score")
    max_price_units = parse_amount(max_price, "max_price", currency)
    premium_units = parse_amount(premium_per_star, "premium_per_star", currency)
    verified_mask = _attributes("verified_attributes", verified)
    required_mask = _attributes("required_attributes", required) | verified_mask
    refused_mask = _attributes("refused_attributes", refused)
    trusted_mask = _attestors(trusted_attestors)
    min_weight = _scaled("min_rating_weight", min_ratings, RATING_WEIGHT_UNIT, UINT32_MAX)
    reliability_bps = _scaled("min_reliability", min_reliability, BPS // 100, BPS)
    score_bps, price_bps = weights_bps(parse_weight(score_weight, "score_weight"),
                                       parse_weight(price_weight, "price_weight"))
    return CriteriaInput(
        category=category_code,
        region=region_code,
        currency=currency.id,
        min_score=min_score,
        max_price=max_price_units,
        premium_per_star=premium_units,
        required_attributes=required_mask,
        refused_attributes=refused_mask,
        verified_attributes=verified_mask,
        trusted_attestors=trusted_mask,
        min_rating_weight=min_weight,
        min_reliability=reliability_bps,
        score_weight=score_bps,
        price_weight=price_bps,
    )


def _attestors(ids: Iterable[int]) -> int:
    listed = list(ids)
    for attestor in listed:
        if isinstance(attestor, bool) or not isinstance(attestor, int) or not (
                1 <= attestor <= MAX_ATTESTORS):
            raise InvalidCriteria("trusted_attestors",
                                  f"{attestor!r} is not an attestor id (1 to {MAX_ATTESTORS})")
    if len(set(listed)) > MAX_TRUSTED_ATTESTORS:
        raise InvalidCriteria("trusted_attestors",
                              f"trust at most {MAX_TRUSTED_ATTESTORS} attestors")
    return attestor_mask(listed)


def _scaled(field: str, value: str | int | float | Decimal, unit: int, limit: int) -> int:
    """A non-negative number of `unit`s as an integer (2.5 ratings -> 2,500 weight)."""
    number = _decimal(field, value)
    if number < 0:
        raise InvalidCriteria(field, f"{value} is negative")
    scaled = number * unit
    if scaled != scaled.to_integral_value():
        raise InvalidCriteria(field, f"{value} is finer than this field can hold")
    if scaled > limit:
        raise InvalidCriteria(field, f"{value} is above the most this field holds")
    return int(scaled)


def parse_stars(value: str | int | float | Decimal, field: str = "min_score") -> int:
    """Stars ("4.5", 4.5, 4) in basis points of a star (45,000): 0 to 5, at most 4 decimals."""
    stars = _decimal(field, value)
    if stars < 0:
        raise InvalidCriteria(field, f"{value} stars is negative")
    if stars > 5:
        raise InvalidCriteria(field, f"{value} stars is above 5 stars")
    bps = stars * STAR
    if bps != bps.to_integral_value():
        raise InvalidCriteria(field, f"{value} has more than 4 decimals")
    return int(bps)


def parse_amount(value: str | int, field: str = "max_price",
                 currency: Currency = ETHER_CURRENCY) -> int:
    """An amount in the smallest unit of `currency` from an int or text.

    Ether: "0.1 ether", "20 gwei" or "1000" (wei). A token: its smallest units as an integer,
    or a decimal of whole tokens with or without the symbol ("12.5", "12.5 DUSD")."""
    if isinstance(value, bool):
        raise InvalidCriteria(field, "must be an amount, not a boolean")
    if isinstance(value, int):
        units = value
    elif isinstance(value, str) and not currency.is_ether:
        number, _, symbol = value.strip().partition(" ")
        if symbol.strip() and symbol.strip().upper() != currency.symbol.upper():
            raise InvalidCriteria(field, f"the amount is in {currency.symbol}, not "
                                         f"{symbol.strip()!r}")
        scaled = _decimal(field, number).scaleb(currency.decimals)
        if scaled != scaled.to_integral_value():
            raise InvalidCriteria(field, f"{value!r} has more than {currency.decimals} "
                                         "decimals")
        units = int(scaled)
    elif isinstance(value, str):
        number, _, unit = value.strip().lower().partition(" ")
        unit = unit.strip() or "wei"
        if unit not in _UNITS:
            raise InvalidCriteria(field, f"unknown unit {unit!r}; use wei, gwei or ether")
        scaled = _decimal(field, number).scaleb(_UNITS[unit])
        if scaled != scaled.to_integral_value():
            raise InvalidCriteria(field, f"{value!r} is not a whole number of wei")
        units = int(scaled)
    else:
        raise InvalidCriteria(field, f"must be an amount, not {type(value).__name__}")
    if units < 0:
        raise InvalidCriteria(field, f"{value!r} is negative")
    if units > MAX_PRICE:
        raise InvalidCriteria(field, f"{value!r} overflows the uint88 price field")
    return units


def attribute_keys(mask: int) -> list[str]:
    """Catalogue keys of the set bits of an attribute mask ('attribute 40' for unnamed bits)."""
    return [key_of("attribute", bit) or f"attribute {bit}" for bit in range(64) if mask >> bit & 1]


# Plain ASCII decimals only: Decimal() and int() also take other scripts' digits ("١٠٠", "１００")
# and underscores ("1_000"), which a person typing an amount never means.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def decimal_number(value: object) -> Decimal:
    """`value` (int, float or ASCII decimal text) as a Decimal; InvalidOperation otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidOperation
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL_TEXT.fullmatch(text):
            raise InvalidOperation
        return Decimal(text)
    return Decimal(str(value))


def _decimal(field: str, value: object) -> Decimal:
    if isinstance(value, bool):
        raise InvalidCriteria(field, "must be a number, not a boolean")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidCriteria(field, f"{value} is not a finite number")
    try:
        number = decimal_number(value)
    except InvalidOperation:
        raise InvalidCriteria(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidCriteria(field, f"{value!r} is not a finite number")
    return number


def parse_weight(value: str | int | float | Decimal, field: str = "score_weight") -> Decimal:
    """A relative weight as typed ("60", 0.4): any non-negative number."""
    number = _decimal(field, value)
    if number < 0:
        raise InvalidCriteria(field, f"weights must not be negative (got {number})")
    return number


def weights_bps(score: Decimal, price: Decimal) -> tuple[int, int]:
    """Two relative weights scaled to basis points that sum to 10,000 (60 and 40: 6,000, 4,000).

    Both zero gives (0, 0), which `CriteriaInput` refuses: that rule is checked there, once.
    """
    total = score + price
    if total == 0:
        return 0, 0
    score_bps = int((score * BPS / total).quantize(Decimal(1), ROUND_HALF_EVEN))
    return score_bps, BPS - score_bps


def _code(field: str, value: str | int | None, kind: str, allow_any: bool) -> int:
    if value is None or (isinstance(value, str) and value.strip().lower() in {"", "any"}):
        if allow_any:
            return 0
        raise InvalidCriteria(field, "is required")
    if isinstance(value, bool):
        raise InvalidCriteria(field, "must be a name or a code, not a boolean")
    if isinstance(value, int):
        if not 0 <= value <= UINT16_MAX:
            raise InvalidCriteria(field, f"code {value} is outside 0..{UINT16_MAX}")
        return value
    return _lookup(field, kind, value)


def _attributes(field: str, keys: Iterable[str]) -> int:
    if isinstance(keys, str):
        keys = [keys]
    mask = 0
    for key in keys:
        mask |= 1 << _lookup(field, "attribute", str(key))
    return mask


def _lookup(field: str, kind: str, key: str) -> int:
    try:
        return lookup(kind, key.strip().lower()).code
    except UnknownName as exc:  # the catalogue's words, this field's name
        raise InvalidCriteria(field, str(exc)) from None
