"""Amounts, dates and ids as people read them, for the reports, exports and pages.

Every amount is shown in its own currency, with its symbol and decimals
(`marketplace.units.format_amount`: '0.01 ETH', '25 DUSD'); every time as a UTC date and time,
never a Unix timestamp; every booking id as 0x hex (`model.hex_id`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from marketplace.audit.model import hex_id
from marketplace.audit.state import CurrencyState
from marketplace.units import ETHER_CURRENCY, Currency, format_amount

__all__ = ["Money", "hex_id", "iso_time"]


def iso_time(timestamp: int | None) -> str | None:
    """A block or deadline time as `YYYY-MM-DD HH:MM:SS UTC` (None stays None)."""
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Money:
    """Formats amounts of the audited deployment's currencies."""

    def __init__(self, currencies: Mapping[int, CurrencyState]) -> None:
        self._currencies: dict[int, Currency] = {}
        for cid, c in currencies.items():
            if cid == 0:
                self._currencies[cid] = ETHER_CURRENCY
            else:
                self._currencies[cid] = Currency(
                    cid, c.symbol or f"TOKEN{cid}",
                    c.decimals if c.decimals is not None else 0, c.token,
                )

    def currency(self, currency: int) -> Currency:
        """The currency with id `currency` (an unknown id reads as a token without decimals)."""
        found = self._currencies.get(currency)
        if found is None:
            found = self._currencies[currency] = Currency(currency, f"TOKEN{currency}", 0, None)
        return found

    def symbol(self, currency: int) -> str:
        """The currency's symbol (ETH, DUSD)."""
        return self.currency(currency).symbol

    def text(self, amount: int | None, currency: int = 0) -> str | None:
        """`amount` of the smallest unit as people read it: '0.01 ETH', '25 DUSD'."""
        if amount is None:
            return None
        return format_amount(amount, self.currency(currency))

    def per_currency(self, amounts: Mapping[int, int]) -> str:
        """Amounts in several currencies: '0.02 ETH + 25 DUSD' ('0 ETH' when empty)."""
        parts = [self.text(v, k) or "" for k, v in sorted(amounts.items()) if v]
        return " + ".join(parts) if parts else "0 ETH"
