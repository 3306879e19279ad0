"""Money and time as a viewer reads them: an amount in its listing's currency (symbol and
decimals), an amount typed in a currency's units, and times in the viewer's time zone.

Contract v2 prices each listing in a currency (`docs/contract-v2.md`): id 0 is ether, ids 1..255
are ERC-20 tokens the operator enabled. The store's `currencies` projection names each token's
symbol and decimals; amounts read through `marketplace.units` (`format_amount`, `parse_units`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from marketplace.store import queries as store_queries
from marketplace.units import ETHER_CURRENCY, Currency, format_amount, parse_units, units_text
from marketplace.web.errors import FieldError

_NUMBER = re.compile(r"^\d{1,30}(\.\d{1,36})?$")


ETHER = ETHER_CURRENCY


@dataclass(frozen=True)
class CurrencyInfo:
    """A currency with what the store knows of it beyond `units.Currency`."""

    currency: Currency
    enabled: bool
    min_fee: int | None


def currency_infos(conn: Connection) -> dict[int, CurrencyInfo]:
    """Every currency the store knows (ether always), by id."""
    out = {0: CurrencyInfo(ETHER, True, None)}
    try:
        rows = store_queries.currencies(conn)
    except SQLAlchemyError:
        return out
    for row in rows:
        ident = int(row["currency"])
        token = str(row.get("token") or "").lower()
        if ident == 0:
            currency = ETHER
        else:
            symbol = str(row.get("symbol") or f"token #{ident}")
            decimals = int(row["decimals"]) if row.get("decimals") is not None else 18
            currency = Currency(ident, symbol, decimals, token or None)
        min_fee = row.get("min_fee")
        out[ident] = CurrencyInfo(currency, bool(row.get("enabled", True)),
                                  int(min_fee) if min_fee is not None else None)
    return out


def currencies(conn: Connection) -> dict[int, Currency]:
    """Every currency the store knows (ether always), by id."""
    return {k: v.currency for k, v in currency_infos(conn).items()}


def currency_or_default(known: Mapping[int, Currency], ident: int) -> Currency:
    """The currency with that id, or a placeholder naming the id when the store lacks it."""
    return known.get(ident) or Currency(ident, f"currency #{ident}", 18, None)


def amount_text(amount: int, currency: Currency) -> str:
    """An amount as a form's input value: a plain decimal in the currency's units."""
    return units_text(amount, currency.decimals)


def parse_amount(raw: Any, field: str, currency: Currency, *, low: int = 0) -> int:
    """An amount typed in the currency's units ('12.5' DUSD) as its smallest unit."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise FieldError("This field is required.", field)
    text = str(raw).strip().replace(",", "")
    if text.lower().endswith(currency.symbol.lower()):
        text = text[: -len(currency.symbol)].strip()
    if not _NUMBER.match(text):
        raise FieldError(f"Give an amount in {currency.symbol}, like 12.50.", field)
    try:
        number = parse_units(text, currency.decimals)
    except ValueError:
        raise FieldError(f"{currency.symbol} has {currency.decimals} decimals at most.",
                         field) from None
    if number < low:
        raise FieldError(f"Must be at least {format_amount(low, currency)}.", field)
    if number >= 2**88:
        raise FieldError("The amount is too large.", field)
    return number


# ------------------------------------------------------------------ time zones

TZ_COOKIE = "tz"


def viewer_zone(name: str | None) -> tzinfo:
    """The viewer's IANA time zone (from the `tz` cookie app.js sets, or a form field); UTC
    when it is missing or unknown."""
    if not name or len(name) > 64:
        return UTC
    name = unquote(name)  # app.js writes the cookie URI-encoded ("Europe%2FHelsinki")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone_name(zone: tzinfo) -> str:
    """How a page names a zone: 'Europe/Helsinki', or 'UTC'."""
    return getattr(zone, "key", None) or "UTC"


def local_time(timestamp: int | float | None, zone: tzinfo) -> str:
    """A Unix time in the viewer's zone, with the zone's abbreviation: 'Fri 2026-12-04 10:00
    EET'."""
    if not timestamp:
        return ""
    moment = datetime.fromtimestamp(float(timestamp), UTC).astimezone(zone)
    abbreviation = moment.strftime("%Z") or zone_name(zone)
    return moment.strftime("%a %Y-%m-%d %H:%M ") + abbreviation


def iso_time(timestamp: int | float) -> str:
    """A machine-readable time for `<time datetime>` (app.js re-renders it in the browser's
    zone)."""
    return datetime.fromtimestamp(float(timestamp), UTC).isoformat().replace("+00:00", "Z")
