"""Plain words for matching: stars, amounts, attribute names, and why a provider is excluded."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from marketplace.catalogue import entry_of, label
from marketplace.domain import STAR, Criterion
from marketplace.matching.eligibility import (
    CriteriaView,
    ProviderView,
    first_failed_criterion,
    price_ceiling,
)
from marketplace.units import format_wei

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


@dataclass(frozen=True)
class Exclusion:
    """Why a provider is or is not bookable: the contract's first failed criterion, explained."""

    provider_id: int
    criterion: Criterion
    reason: str
    detail: str

    @property
    def excluded(self) -> bool:
        """Whether the contract would refuse the booking."""
        return self.criterion is not Criterion.NONE


def explain_exclusion(provider: ProviderView, criteria: CriteriaView | None) -> Exclusion:
    """The first criterion `provider` fails (the contract's answer), with the numbers behind it."""
    criterion = first_failed_criterion(provider, criteria)
    return Exclusion(provider.provider_id, criterion, criterion.reason,
                     _detail(criterion, provider, criteria))


def _detail(criterion: Criterion, p: ProviderView, c: CriteriaView | None) -> str:
    if criterion is Criterion.PROVIDER_INACTIVE:
        return "the provider has paused its listing"
    if c is None or criterion is Criterion.CRITERIA_NOT_SET:
        if c is None or c.version == 0:
            return f"you have not set criteria for {label('category', p.category)} yet"
        return (f"the provider offers {label('category', p.category)}; these criteria are for "
                f"{label('category', c.category)}")
    if criterion is Criterion.REGION:
        return (f"the provider works in {label('region', p.region)}; you chose "
                f"{label('region', c.region)}")
    if criterion is Criterion.BLOCKED:
        return "you blocked this provider"
    if criterion is Criterion.REQUIRED_ATTRIBUTES:
        missing = c.required_attributes & ~p.attributes
        return f"the provider lacks {attribute_list(missing)}, which you require"
    if criterion is Criterion.REFUSED_ATTRIBUTES:
        present = c.refused_attributes & p.attributes
        return f"the provider has {attribute_list(present)}, which you refuse"
    if criterion is Criterion.MIN_SCORE:
        score, minimum = distinct_stars(p.score, c.min_score)
        return f"score {score}, below your minimum {minimum}"
    if criterion is Criterion.MAX_PRICE:
        ceiling = price_ceiling(c, p.score)
        over = p.price - ceiling
        by = f"{over * 100 // ceiling}%" if ceiling and over * 100 >= ceiling else format_wei(over)
        return (f"price {format_wei(p.price)} is {by} above your ceiling of "
                f"{format_wei(ceiling)} for a {format_stars(p.score)}-star provider")
    return "meets all your criteria"


def format_stars(score: int, decimals: int = 1) -> str:
    """A score in basis points of a star as stars, rounded half up: 45,500 -> '4.6'."""
    step = Decimal(1).scaleb(-decimals)
    return str((Decimal(score) / STAR).quantize(step, ROUND_HALF_UP))


def distinct_stars(a: int, b: int) -> tuple[str, str]:
    """Both scores as stars, with just enough decimals that different scores read differently."""
    for decimals in (1, 2, 4):
        shown = format_stars(a, decimals), format_stars(b, decimals)
        if (shown[0] == shown[1]) == (a == b):
            return shown
    return format_stars(a, 4), format_stars(b, 4)


def count_words(n: int) -> str:
    """Small counts in words ('two'), larger ones in digits."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def attribute_name(bit: int) -> str:
    """An attribute as a phrase in a sentence: 'compact car', 'speaks Finnish'."""
    entry = entry_of("attribute", bit)
    return f"attribute {bit}" if entry is None else _lower_first(entry.label)


def tag_name(bit: int) -> str:
    """A complaint tag as a phrase in a sentence: 'uncomfortable vehicle'."""
    entry = entry_of("complaint tag", bit)
    return f"complaint {bit}" if entry is None else _lower_first(entry.label)


def attribute_list(mask: int) -> str:
    """Quoted attribute names of a mask: "'smoker' and 'pet friendly'"."""
    quoted = [f"'{attribute_name(bit)}'" for bit in range(64) if mask >> bit & 1]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _lower_first(text: str) -> str:
    # "Compact car" -> "compact car", but keep "Speaks Finnish" -> "speaks Finnish".
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text
