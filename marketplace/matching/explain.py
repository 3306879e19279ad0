"""Plain words for matching: stars, amounts, attribute names, and why a provider is excluded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache, partial

from marketplace.catalogue import entry_of, label
from marketplace.domain import RATING_WEIGHT_UNIT, STAR, Criterion, attestor_ids
from marketplace.matching.eligibility import (
    CriteriaView,
    ProviderView,
    first_failed_criterion,
    price_ceiling,
    verified_bits,
)
from marketplace.units import Currency, format_amount, format_wei

# The number formatters below are pure and called for every listing a ranking explains (the same
# few values again and again): memoised, bounded. Decimal arithmetic is what costs.
MEMO = 16_384

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


def explain_exclusion(
    provider: ProviderView,
    criteria: CriteriaView | None,
    *,
    named_attestors: frozenset[int] | None = None,
    currencies: Mapping[int, Currency] | None = None,
) -> Exclusion:
    """The first criterion `provider` fails (the contract's answer), with the numbers behind it.

    `named_attestors`: the attestor ids the operator names now (None: all)."""
    criterion = first_failed_criterion(provider, criteria, named_attestors)
    return Exclusion(provider.provider_id, criterion, criterion.reason,
                     _detail(criterion, provider, criteria, named_attestors, currencies))


def _detail(criterion: Criterion, p: ProviderView, c: CriteriaView | None,
            named: frozenset[int] | None, currencies: Mapping[int, Currency] | None) -> str:
    if criterion is Criterion.PROVIDER_INACTIVE:
        return "the provider has paused its listing"
    if c is None or criterion is Criterion.CRITERIA_NOT_SET:
        if c is None or c.version == 0:
            return f"you have not set criteria for {label('category', p.category)} yet"
        return (f"the provider offers {label('category', p.category)}; these criteria are for "
                f"{label('category', c.category)}")
    if criterion is Criterion.CURRENCY:
        return (f"the provider prices in {currency_name(p.currency, currencies)}; your criteria "
                f"are in {currency_name(c.currency, currencies)}")
    if criterion is Criterion.REGION:
        return (f"the provider works in {label('region', p.region)}; you chose "
                f"{label('region', c.region)}")
    if criterion is Criterion.BLOCKED:
        return "you blocked this provider"
    if criterion is Criterion.OWNER_BLOCKED:
        return f"you blocked its owner {p.owner}, and so every listing the owner has"
    if criterion is Criterion.REQUIRED_ATTRIBUTES:
        missing = c.required_attributes & ~p.attributes
        return f"the provider lacks {attribute_list(missing)}, which you require"
    if criterion is Criterion.REFUSED_ATTRIBUTES:
        present = c.refused_attributes & p.attributes
        return f"the provider has {attribute_list(present)}, which you refuse"
    if criterion is Criterion.VERIFIED_ATTRIBUTES:
        verified = verified_bits(p.attributes, p.attestations, c.trusted_attestors, named)
        unverified = c.verified_attributes & ~verified
        trusted = ", ".join(f"#{a}" for a in attestor_ids(c.trusted_attestors)) or "none"
        return (f"{attribute_list(unverified)} is not verified by an attestor you trust "
                f"(you trust {trusted})")
    if criterion is Criterion.MIN_SCORE:
        score, minimum = distinct_stars(p.score, c.min_score)
        return f"score {score}, below your minimum {minimum}"
    if criterion is Criterion.TRACK_RECORD:
        return (f"track record {weight_text(p.rating_weight)} (rating weight in minimum-fee "
                f"ratings), below your minimum {weight_text(c.min_rating_weight)}")
    if criterion is Criterion.RELIABILITY:
        return (f"reliability {percent_text(p.reliability)} ({p.completed} completed, "
                f"{p.failures} failed), below your minimum {percent_text(c.min_reliability)}")
    if criterion is Criterion.MAX_PRICE:
        ceiling = price_ceiling(c, p.score)
        over = p.price - ceiling
        amount = partial(amount_text, currency=p.currency, currencies=currencies)
        by = f"{over * 100 // ceiling}%" if ceiling and over * 100 >= ceiling else amount(over)
        return (f"price {amount(p.price)} is {by} above your ceiling of "
                f"{amount(ceiling)} for a {format_stars(p.score)}-star provider")
    return "meets all your criteria"


def currency_name(currency: int, currencies: Mapping[int, Currency] | None = None) -> str:
    """A currency's symbol ('ETH', 'DUSD'), or 'currency 2' when it is unknown here."""
    if currency == 0:
        return "ETH"
    known = (currencies or {}).get(currency)
    return known.symbol if known is not None else f"currency {currency}"


def amount_text(amount: int, currency: int, currencies: Mapping[int, Currency] | None = None
                ) -> str:
    """An amount in its currency for people: '0.05 ETH', '12.5 DUSD'; a token whose symbol is
    unknown here in its smallest units ('1250 units of currency 2')."""
    return amount_in(amount, currency, None if currency == 0 else (currencies or {}).get(
        currency))


@lru_cache(maxsize=MEMO)
def amount_in(amount: int, currency: int, known: Currency | None) -> str:
    """`amount_text` with the currency's record (`known`: None for ether, or when the currency
    is unknown here), memoised: a ranking words the same few prices again and again."""
    if currency == 0:
        return format_wei(amount)
    if known is None:
        return f"{amount} units of currency {currency}"
    return format_amount(amount, known)


@lru_cache(maxsize=MEMO)
def weight_text(rating_weight: int) -> str:
    """A rating weight in minimum-fee ratings, one decimal: 12,500 -> '12.5', 20,000 -> '20'
    (a minimum-fee booking's rating weighs 1,000)."""
    value = (Decimal(rating_weight) / RATING_WEIGHT_UNIT).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{value.normalize():f}"


@lru_cache(maxsize=MEMO)
def percent_text(bps: int) -> str:
    """Basis points as a percentage: 9,650 -> '96.5%', 9,000 -> '90%'."""
    value = (Decimal(bps) / 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{value.normalize():f}%"


@lru_cache(maxsize=MEMO)
def format_stars(score: int, decimals: int = 1) -> str:
    """A score in basis points of a star as stars, rounded half up: 45,500 -> '4.6'."""
    step = Decimal(1).scaleb(-decimals)
    return str((Decimal(score) / STAR).quantize(step, ROUND_HALF_UP))


@lru_cache(maxsize=MEMO)
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
