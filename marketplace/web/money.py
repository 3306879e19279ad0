"""Money and time as a viewer reads them: an amount in its listing's currency (symbol and
decimals), an amount typed in a currency's units, and times in the viewer's time zone.

Contract v2 prices each listing in a currency (`docs/contract-v2.md`): id 0 is ether, ids 1..255
are ERC-20 tokens the operator enabled. The store's `currencies` projection (P2) names each
token's symbol and decimals; until it holds one, ether is the only currency known here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, MetaData, Table, select
from sqlalchemy.exc import SQLAlchemyError

from marketplace.units import format_wei
from marketplace.web.errors import FieldError

_EXACT = Context(prec=100, rounding=ROUND_HALF_UP)
_NUMBER = re.compile(r"^\d{1,30}(\.\d{1,36})?$")


@dataclass(frozen=True)
class Currency:
    """One currency a listing can price in."""

    id: int
    symbol: str
    decimals: int
    token: str | None = None  # the ERC-20's address; None for ether
    enabled: bool = True
    name: str = ""  # the token's EIP-712 domain name (permit), when known

    @property
    def is_ether(self) -> bool:
        """Id 0: ether, sent as the transaction's value."""
        return self.id == 0


ETHER = Currency(0, "ETH", 18, None, True, "Ether")


def currencies(conn: Connection) -> dict[int, Currency]:
    """Every currency the store knows (ether always), by id."""
    out = {0: ETHER}
    try:
        table = Table("currencies", MetaData(), autoload_with=conn)
    except SQLAlchemyError:
        return out
    try:
        rows = conn.execute(select(table)).mappings().all()
    except SQLAlchemyError:
        return out
    for row in rows:
        currency = currency_of_row(dict(row))
        if currency is not None:
            out[currency.id] = currency
    return out


def currency_of_row(row: Mapping[str, Any]) -> Currency | None:
    """A row of the store's `currencies` projection (column names read leniently)."""
    ident = row.get("currency_id", row.get("currency", row.get("id")))
    if ident is None:
        return None
    token = row.get("token") or row.get("address")
    return Currency(
        id=int(ident),
        symbol=str(row.get("symbol") or f"TOKEN{int(ident)}"),
        decimals=int(row["decimals"]) if row.get("decimals") is not None else 18,
        token=str(token).lower() if token else None,
        enabled=bool(row.get("enabled", True)),
        name=str(row.get("name") or ""),
    )


def currency_or_default(known: Mapping[int, Currency], ident: int) -> Currency:
    """The currency with that id, or a placeholder naming the id when the store lacks it."""
    return known.get(ident) or Currency(ident, f"currency #{ident}", 18, None, False)


def format_amount(amount: int, currency: Currency, places: int | None = None) -> str:
    """An amount for people in its currency: '0.05 ETH', '12.50 DUSD', '1,250 DUSD'."""
    if currency.is_ether:
        return format_wei(amount)
    value = Decimal(amount).scaleb(-currency.decimals, _EXACT)
    shown = min(currency.decimals, 2 if places is None else places)
    if places is None and value != value.quantize(Decimal(1).scaleb(-shown), context=_EXACT):
        shown = min(currency.decimals, 6)
    quantized = value.quantize(Decimal(1).scaleb(-shown), context=_EXACT)
    return f"{quantized:,.{shown}f} {currency.symbol}"


def amount_text(amount: int, currency: Currency) -> str:
    """An amount as a form's input value: a plain decimal in the currency's units."""
    text = format(Decimal(amount).scaleb(-currency.decimals, _EXACT), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


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
        value = Decimal(text).scaleb(currency.decimals, _EXACT)
    except InvalidOperation:
        raise FieldError(f"Give an amount in {currency.symbol}, like 12.50.", field) from None
    if value != value.to_integral_value():
        raise FieldError(f"{currency.symbol} has {currency.decimals} decimals at most.", field)
    number = int(value)
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
