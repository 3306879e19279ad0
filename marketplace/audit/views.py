"""The rows behind every `/audit` page, independent of Flask: filters, tables, chart series.

Each view returns plain dicts (JSON-ready: booking ids as decimal strings, amounts as ints), so
the same rows feed the HTML table, the CSV export and the JSON export.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from marketplace import catalogue
from marketplace.audit.charts import Series, bar_chart, line_chart
from marketplace.audit.model import AuditError, Invariant, Violation, hex_id
from marketplace.audit.money import Money, iso_time
from marketplace.audit.report import booking_row
from marketplace.audit.service import AuditState
from marketplace.audit.state import DAY, BookingState, parties, status_name
from marketplace.chain.logs import DecodedEvent
from marketplace.domain import STAR, STATUS_AFTER, ChangeKind, Status
from marketplace.units import WEI_PER_ETHER, format_eth

PAGE_SIZE = 100
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")

EVENT_COLUMNS = (
    "block", "time", "tx_hash", "log_index", "event", "booking_id", "customer", "provider_id",
    "summary", "violations",
)
BOOKING_COLUMNS = (
    "booking_id", "customer", "provider_id", "status", "currency", "price", "fee",
    "offer_version", "criteria_version", "arbiter_id", "start", "duration_minutes",
    "requested_block", "requested_at", "refund", "compensation", "payout", "fee_paid",
    "slashed", "refund_bps", "stars", "weight",
)
TIMELINE_COLUMNS = (
    "block", "time", "tx_hash", "log_index", "event", "status_after", "summary", "violations",
)


class BadFilter(AuditError):
    """A query parameter that cannot be used."""


def parse_booking_id(text: str) -> int:
    """A booking id given as a decimal number or 0x-hex."""
    text = text.strip()
    try:
        value = int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError as exc:
        raise BadFilter(f"booking id {text!r} is not a number") from exc
    if not 0 < value < 1 << 256:
        raise BadFilter(f"booking id {text!r} is out of range")
    return value


def parse_address(text: str) -> str:
    """A 0x-prefixed 20-byte address, lower-cased."""
    text = text.strip()
    if not _ADDRESS.fullmatch(text):
        raise BadFilter(f"{text!r} is not an address (0x and 40 hex digits)")
    return text.lower()


def parse_int(text: str, what: str) -> int:
    """A non-negative integer."""
    try:
        value = int(text.strip())
    except ValueError as exc:
        raise BadFilter(f"{what} {text!r} is not a whole number") from exc
    if value < 0:
        raise BadFilter(f"{what} must not be negative")
    return value


def money_of(state: AuditState) -> Money:
    """The formatter of the audited deployment's currencies."""
    return Money(state.replay.currencies)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def event_args(ev: DecodedEvent) -> dict[str, Any]:
    """An event's arguments, JSON-ready (the booking id as 0x hex)."""
    args = _jsonable(ev.args)
    if "bookingId" in args:
        args["bookingId"] = hex_id(args["bookingId"])
    return dict(args)


_TIME_ARGS = frozenset({"respondBy", "serviceBy", "confirmBy", "arbitrateBy", "eta",
                        "unlockAt", "stakeLockedUntil"})
_BOOKING_AMOUNTS = frozenset({"price", "fee", "refund", "compensation", "payout"})
_ETHER_AMOUNTS = frozenset({"stake", "bond", "amount"})


_ATTRIBUTE_MASKS = frozenset({"attributes", "requiredAttributes", "refusedAttributes",
                              "verifiedAttributes"})
_SCORES = frozenset({"newScore", "minScore", "score", "oldScore"})
_CRITERIA_AMOUNTS = frozenset({"maxPrice", "premiumPerStar"})


def _bits(labels: list[str], unnamed: int) -> str:
    """A mask as its names ('none' when empty), never the bare number."""
    parts = list(labels) + ([f"{unnamed} unnamed"] if unnamed else [])
    return " + ".join(parts) if parts else "none"


def _mask(kind: str, value: int) -> str:
    named = catalogue.mask(kind, catalogue.names(kind, value))
    return _bits(catalogue.labels(kind, value), bin(value & ~named).count("1"))


def _change_value(ev: DecodedEvent, value: int, money: Money | None) -> Any:
    """The value of an operator change in its unit (bps, ether, the token's units, yes/no)."""
    kind = ev.args.get("kind")
    if kind == ChangeKind.FEE_RATE:
        return f"{Decimal(value) / 100:f}%"
    if kind in (ChangeKind.MIN_STAKE, ChangeKind.DISPUTE_BOND):
        return money.text(value, 0) if money is not None else format_eth(value)
    if kind == ChangeKind.MIN_FEE and not int(str(ev.args.get("account", "0x0")), 16):
        return money.text(value, 0) if money is not None else format_eth(value)
    if kind in (ChangeKind.ARBITER, ChangeKind.ATTESTOR, ChangeKind.CURRENCY):
        return "yes" if value else "no"
    return value


def _human(ev: DecodedEvent, name: str, value: Any, money: Money | None,
           currency: int | None) -> Any:
    """One argument as people read it: times as dates, amounts with their symbol, masks and
    codes by name, scores in stars (issue 14: no wei, Unix time or bare bitmask)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if name in _TIME_ARGS:
        return iso_time(value)
    if name in _ATTRIBUTE_MASKS:
        return _mask("attribute", value)
    if name == "complaintTags":
        return _mask("complaint tag", value)
    if name == "trustedAttestors":
        return _bits([f"attestor #{i}" for i in range(value.bit_length()) if value >> i & 1], 0)
    if name in _SCORES:
        return f"{Decimal(value) / STAR:f} stars"
    if name == "category":
        return catalogue.label("category", value)
    if name == "region":
        return "any" if value == 0 else catalogue.label("region", value)
    if name == "kind" and "account" in ev.args and value in set(ChangeKind):
        return ChangeKind(value).name.lower().replace("_", " ")
    if name == "value" and "kind" in ev.args:
        return _change_value(ev, value, money)
    if money is None:
        return value
    if name == "currency":
        return money.symbol(value)
    if name in _CRITERIA_AMOUNTS and currency is not None:
        return money.text(value, currency)
    if name in _BOOKING_AMOUNTS and currency is not None:
        return money.text(value, currency)
    if name == "amount" and "currency" in ev.args:
        return money.text(value, ev.args["currency"])
    if name in _ETHER_AMOUNTS:
        return money.text(value, 0)
    return value


_SUMMARY_SKIP = frozenset({"bookingId", "customer", "providerId"})


def summarise(ev: DecodedEvent, money: Money | None = None,
              currency: int | None = None) -> str:
    """The arguments not shown in their own columns, as `name=value`, in human units when a
    formatter is given (the booking's currency for its amounts)."""
    parts = []
    for name, value in ev.args.items():
        if name in _SUMMARY_SKIP:
            continue
        if isinstance(value, Mapping):
            cur = value.get("currency") if isinstance(value.get("currency"), int) else None
            inner = ", ".join(f"{k}={_human(ev, k, v, money, cur)}" for k, v in value.items())
            parts.append(f"{name}=({inner})")
        else:
            parts.append(f"{name}={_human(ev, name, value, money, currency)}")
    return " ".join(parts)


def event_row(ev: DecodedEvent, state: AuditState) -> dict[str, Any]:
    """One event as a row of the explorer."""
    a = ev.args
    found = state.violations_at.get((ev.block_number, ev.log_index), [])
    customer, provider = parties(ev)
    booking = state.replay.bookings.get(a["bookingId"]) if "bookingId" in a else None
    currency = booking.currency if booking is not None else a.get("currency")
    return {
        "block": ev.block_number,
        "timestamp": ev.block_timestamp,
        "time": iso_time(ev.block_timestamp),
        "tx_hash": ev.tx_hash,
        "log_index": ev.log_index,
        "event": ev.name,
        "booking_id": hex_id(a["bookingId"]) if "bookingId" in a else None,
        "customer": customer,
        "provider_id": provider,
        "args": event_args(ev),
        "summary": summarise(ev, money_of(state), currency),
        "violations": len(found),
        "invariants": sorted({v.invariant.value for v in found}),
    }


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class EventFilter:
    """What the explorer shows: every given criterion must hold."""

    booking: int | None = None
    customer: str | None = None
    provider: int | None = None
    event: str | None = None
    from_block: int | None = None
    to_block: int | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str], events: Iterable[str] = ()) -> EventFilter:
        """From query parameters; raises BadFilter."""
        def given(name: str) -> str | None:
            value = params.get(name, "")
            return value.strip() or None

        event = given("event")
        known = set(events)
        if event is not None and known and event not in known:
            raise BadFilter(f"unknown event type {event!r}")
        booking, customer = given("booking"), given("customer")
        provider, low, high = given("provider"), given("from_block"), given("to_block")
        return cls(
            booking=parse_booking_id(booking) if booking else None,
            customer=parse_address(customer) if customer else None,
            provider=parse_int(provider, "provider") if provider else None,
            event=event,
            from_block=parse_int(low, "from block") if low else None,
            to_block=parse_int(high, "to block") if high else None,
        )

    def as_params(self) -> dict[str, str]:
        """Query parameters that reproduce this filter."""
        return {k: str(v) for k, v in asdict(self).items() if v is not None}

    def matches(self, ev: DecodedEvent) -> bool:
        """Whether `ev` passes every criterion."""
        a = ev.args
        if self.from_block is not None and ev.block_number < self.from_block:
            return False
        if self.to_block is not None and ev.block_number > self.to_block:
            return False
        if self.event is not None and ev.name != self.event:
            return False
        if self.booking is not None and a.get("bookingId") != self.booking:
            return False
        customer, provider = parties(ev)
        if self.provider is not None and provider != self.provider:
            return False
        return not (
            self.customer is not None
            and self.customer != customer
            and self.customer not in (v for v in a.values() if isinstance(v, str))
        )


def filter_events(state: AuditState, flt: EventFilter) -> list[DecodedEvent]:
    """Events matching `flt`, in chain order (a booking filter reads only that booking's)."""
    replay = state.replay
    if flt.booking is not None:
        booking = replay.bookings.get(flt.booking)
        candidates: Iterable[DecodedEvent] = (
            [replay.events[i] for i in booking.events] if booking is not None else []
        )
    else:
        candidates = replay.events
    return [ev for ev in candidates if flt.matches(ev)]


def page_of(rows: list[Any], page: int, size: int = PAGE_SIZE) -> tuple[list[Any], int]:
    """The rows of 1-based `page` and the number of pages."""
    pages = max(1, -(-len(rows) // size))
    page = min(max(1, page), pages)
    return rows[(page - 1) * size : page * size], pages


# ---------------------------------------------------------------- tables


def violation_rows(
    violations: Iterable[Violation], invariant: str | None = None,
    booking: int | None = None, provider: int | None = None,
) -> list[dict[str, Any]]:
    """Violations as rows, optionally of one invariant, booking or provider."""
    rows = []
    for v in violations:
        if invariant and v.invariant.value != invariant:
            continue
        if booking is not None and v.booking_id != booking:
            continue
        if provider is not None and v.provider_id != provider:
            continue
        row = v.to_dict()
        row["title"] = v.invariant.rule
        rows.append(row)
    return rows


def booking_rows(
    state: AuditState, status: str | None = None, customer: str | None = None,
    provider: int | None = None,
) -> list[dict[str, Any]]:
    """Bookings in the audited range, newest first, optionally filtered."""
    rows = []
    money = money_of(state)
    for b in reversed(list(state.replay.bookings.values())):
        if not b.in_scope:
            continue
        if status and status_name(b.status) != status:
            continue
        if customer and b.customer != customer:
            continue
        if provider is not None and b.provider_id != provider:
            continue
        rows.append(booking_row(b, money))
    return rows


def timeline(state: AuditState, booking: BookingState) -> list[dict[str, Any]]:
    """A booking's events in order, with its status after each."""
    rows = []
    status = Status.NONE
    for index in booking.events:
        ev = state.replay.events[index]
        status = STATUS_AFTER.get(ev.name, status)
        row = event_row(ev, state)
        row["status_after"] = status.name
        rows.append(row)
    return rows


# ---------------------------------------------------------------- charts


def axis_number(value: float) -> str:
    """A chart axis value to four significant digits, never in scientific notation
    ('15,000', '0.000015'; issue 14 found '1.5e+04 ETH')."""
    text = f"{Decimal(f'{value:.4g}'):,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _eth(value: float) -> str:
    return format_eth(int(value), places=4)


def _token(money: Money, currency: int) -> Callable[[float], str]:
    def fmt(value: float) -> str:
        return money.text(int(value), currency) or ""

    return fmt


def solvency_series(
    state: AuditState, limit: int = 400, currency: int = 0
) -> list[dict[str, Any]]:
    """Owed vs balance of one currency at every checked block (at most about `limit`, keeping
    every change of their difference so a drift is never sampled away); amounts in the
    currency's smallest unit, `*_label` in its units."""
    money = money_of(state)
    checked = [c for c in state.replay.checkpoints
               if c.actual is not None and c.currency == currency]
    keep: set[int] = {0, len(checked) - 1} if checked else set()
    previous = 0
    for i, c in enumerate(checked):
        diff = (c.actual or 0) - c.expected
        if diff != previous:
            keep.update({i - 1, i})
            previous = diff
    step = max(1, len(checked) // limit)
    keep.update(range(0, len(checked), step))
    return [
        {
            "block": c.block,
            "time": iso_time(c.timestamp),
            "owed": c.expected,
            "balance": c.actual,
            "difference": (c.actual or 0) - c.expected,
            "escrow": c.escrow,
            "credits": c.credits,
            "accrued_fees": c.accrued_fees,
            "stakes": c.stakes,
            "bonds": c.bonds,
            "currency": money.symbol(currency),
            "owed_label": money.text(c.expected, currency),
            "balance_label": money.text(c.actual, currency),
        }
        for i, c in enumerate(checked)
        if i in keep
    ]


def daily_series(
    state: AuditState, max_days: int = 3_660, currency: int = 0
) -> list[dict[str, Any]]:
    """Bookings, volume, fees, refunds and payouts of one currency per UTC day, quiet days
    included as zeros (up to `max_days` days; a longer history lists only the days with
    activity)."""
    daily = {day: row for (day, cur), row in state.replay.daily.items() if cur == currency}
    days = sorted(daily)
    if days and days[-1] - days[0] < max_days:
        days = list(range(days[0], days[-1] + 1))
    empty = [0, 0, 0, 0, 0]
    return [
        {
            "day": dt.datetime.fromtimestamp(day * DAY, dt.UTC).date().isoformat(),
            "bookings": row[0],
            "volume": row[1],
            "fees": row[2],
            "refunds": row[3],
            "payouts": row[4],
        }
        for day in days
        for row in (daily.get(day, empty),)
    ]


SCORE_BINS = [(STAR * i // 2, STAR * (i + 1) // 2) for i in range(2, 10)]  # 1.0-1.5 ... 4.5-5.0


def score_series(state: AuditState) -> list[dict[str, Any]]:
    """How many providers have a score in each half-star band (1.0 to 5.0 stars)."""
    scores = [p.score for p in state.replay.providers.values()]  # weighted, stars x 10,000
    rows = []
    for i, (low, high) in enumerate(SCORE_BINS):
        last = i == len(SCORE_BINS) - 1
        count = sum(1 for s in scores if low <= s < high or (last and s == high))
        rows.append({"band": f"{low / STAR:.1f}-{high / STAR:.1f}", "low": low, "high": high,
                     "providers": count})
    below = sum(1 for s in scores if s < SCORE_BINS[0][0])
    if below:
        rows.insert(0, {"band": f"<{SCORE_BINS[0][0] / STAR:.1f}", "low": 0,
                        "high": SCORE_BINS[0][0], "providers": below})
    return rows


def charts(state: AuditState) -> dict[str, Markup]:
    """The three charts of the overview, as inline SVG."""
    solvency = solvency_series(state)
    daily = daily_series(state)
    scores = score_series(state)
    money = money_of(state)
    tokens = [cid for cid in sorted(state.replay.currencies) if cid != 0]

    def eth_points(key: str) -> list[tuple[float, float]]:
        return [(r["block"], float(Decimal(r[key]) / WEI_PER_ETHER)) for r in solvency]

    return {
        "solvency": line_chart(
            "Solvency: what the contract owes vs its balance",
            [
                Series("owed, rebuilt from events", eth_points("owed")),
                Series("balance, from the node", eth_points("balance"), dashed=True),
            ],
            x_label="block",
            y_format=lambda v: f"{axis_number(v)} ETH",
        ),
        "volume": bar_chart(
            "Volume per day (booked)",
            [r["day"][5:] for r in daily],
            [r["volume"] for r in daily],
            y_format=_eth,
        ),
        "fees": bar_chart(
            "Fees per day",
            [r["day"][5:] for r in daily],
            [r["fees"] for r in daily],
            y_format=_eth,
            color="#059669",
        ),
        **{
            f"volume_{money.symbol(cid)}": bar_chart(
                f"Volume per day in {money.symbol(cid)} (booked)",
                [r["day"][5:] for r in rows],
                [r["volume"] for r in rows],
                y_format=_token(money, cid),
            )
            for cid in tokens
            for rows in (daily_series(state, currency=cid),)
            if rows
        },
        "scores": bar_chart(
            "Listing scores (stars)",
            [r["band"] for r in scores],
            [r["providers"] for r in scores],
            y_format=lambda v: f"{v:.0f}",
            color="#d97706",
            integer=True,
        ),
    }


INVARIANT_CODES = tuple(i.value for i in Invariant)
STATUS_NAMES = tuple(s.name for s in Status if s is not Status.NONE)
