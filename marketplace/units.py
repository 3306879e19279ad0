"""Amounts of ether as people read them: the one place that turns wei into text.

Pages, template filters, the API's `*_label` fields, ranking reasons, the auditor's reports and
form inputs all show amounts through these functions, so one amount reads the same everywhere.
(Reading amounts typed by people, "0.05 ether" or "20 gwei", is `marketplace.matching.criteria
.parse_amount`, which names the field it rejects.)
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

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
