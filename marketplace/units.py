"""Amounts as people read them: the one place that turns wei and token units into text.

Pages, template filters, the API's `*_label` fields, ranking reasons, the auditor's reports and
form inputs all show amounts through these functions, so one amount reads the same everywhere.
Contract v2 prices in a currency (`marketplace.domain.ETHER` = 0, or an ERC-20 token id): a
`Currency` carries the symbol and decimals to show an amount of it (`format_amount`), and
`parse_units` reads a typed decimal back into the smallest unit.
(Reading amounts typed by people, "0.05 ether" or "20 gwei", is `marketplace.matching.criteria
.parse_amount`, which names the field it rejects.)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache

WEI_PER_ETHER = 10**18
WEI_PER_GWEI = 10**9

# Below these an amount reads better in a smaller unit: 0.000001 ETH is 1,000 gwei.
_SHOW_ETHER_FROM = 10**12
_SHOW_GWEI_FROM = 10**6

# Enough digits for any uint256 amount: the default 28-digit context would round large ones.
_EXACT = Context(prec=100, rounding=ROUND_HALF_UP)


def ether_text(wei: int, places: int | None = None) -> str:
    """Wei as a plain decimal number of ether without a unit, trailing zeros trimmed.

    Exact when `places` is None (a form input that round-trips: 1.5 * 10**18 -> '1.5');
    otherwise rounded half up to `places` decimals (123456789012345678, 6 -> '0.123457').
    """
    ether = Decimal(wei).scaleb(-18, _EXACT)
    if places is not None:
        ether = ether.quantize(Decimal(1).scaleb(-places), context=_EXACT)
    text = format(ether, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@lru_cache(maxsize=16_384)  # pure; rankings and pages show the same prices again and again
def format_wei(wei: int) -> str:
    """An amount for people: ether with up to 6 decimals, or gwei/wei when smaller.

    0.1 ETH, 0.123457 ETH, 20 gwei, 5 wei; zero is '0 ETH' in any unit.
    """
    if wei == 0:
        return "0 ETH"
    if wei >= _SHOW_ETHER_FROM:
        return f"{ether_text(wei, 6)} ETH"
    if wei >= _SHOW_GWEI_FROM:
        gwei = Decimal(wei).scaleb(-9, _EXACT).quantize(Decimal("0.001"), context=_EXACT)
        text = format(gwei, "f").rstrip("0").rstrip(".")
        return f"{text} gwei"
    return f"{wei} wei"


def format_eth(wei: int, places: int = 6) -> str:
    """An amount always in ether (reports that line amounts up): 1.5 * 10**18 -> '1.5 ETH'."""
    return f"{ether_text(wei, places)} ETH"


@dataclass(frozen=True)
class Currency:
    """A currency of the marketplace: its id (0 = ether), symbol, decimals and token address
    (None for ether). The deployment record and the chain say which ones exist."""

    id: int
    symbol: str
    decimals: int
    token: str | None = None

    @property
    def is_ether(self) -> bool:
        """Whether this is ether (id 0)."""
        return self.id == 0


ETHER_CURRENCY = Currency(0, "ETH", 18, None)

TOKEN_PLACES = 6
"""Most decimals a token amount shows (a stablecoin's cents read as 12.5, not 12.500000)."""


def units_text(amount: int, decimals: int, places: int | None = None) -> str:
    """An amount of the smallest unit as a plain decimal number of whole units, no unit.

    Exact when `places` is None (round-trips through `parse_units`); otherwise rounded half up to
    `places` decimals; trailing zeros trimmed.
    """
    value = Decimal(amount).scaleb(-decimals, _EXACT)
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), context=_EXACT)
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_amount(amount: int, currency: Currency) -> str:
    """An amount for people in its currency: ether as `format_wei` ('0.1 ETH', '20 gwei'), a token
    with up to six decimals and its symbol ('12.5 DUSD')."""
    if currency.is_ether:
        return format_wei(amount)
    return f"{units_text(amount, currency.decimals, min(currency.decimals, TOKEN_PLACES))} " + (
        currency.symbol
    )


def parse_units(text: str, decimals: int) -> int:
    """'12.5' with 6 decimals -> 12_500_000. ValueError (in plain words) for anything that is not
    a non-negative decimal with at most `decimals` places."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{text!r} is not a non-negative amount")
    scaled = value.scaleb(decimals, _EXACT)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text!r} has more than {decimals} decimal places")
    return int(scaled)
