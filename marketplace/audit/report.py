"""The audit report: totals, per-provider and per-customer figures, every violation; as text,
JSON (top-level `violations` list) or CSV (one row per violation)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from marketplace import __version__
from marketplace.audit.auditor import Auditor
from marketplace.audit.exports import format_int, to_csv, to_json
from marketplace.audit.model import Invariant, Violation
from marketplace.audit.money import Money, iso_time
from marketplace.audit.replay import Replay
from marketplace.audit.state import (
    OPEN,
    BookingState,
    CustomerState,
    ProviderState,
    status_name,
)
from marketplace.domain import STAR, Status

VIOLATION_COLUMNS = (
    "invariant", "block", "tx_hash", "log_index", "event", "booking_id", "provider_id",
    "account", "message", "details",
)
PROVIDER_COLUMNS = (
    "provider_id", "owner", "category", "region", "currency", "price", "offer_version",
    "instant", "active", "stake", "bookings", "volume", "settled", "payouts", "fees", "refunds",
    "disputes", "disputes_lost", "no_shows", "slashed", "ratings", "average_stars",
    "rating_weight", "score", "stars", "completed", "failures", "reliability",
)
CUSTOMER_COLUMNS = (
    "customer", "bookings", "volume", "spent", "refunds", "disputes", "ratings",
    "criteria_changes", "blocked_owners",
)
CURRENCY_COLUMNS = (
    "currency", "symbol", "decimals", "token", "enabled", "min_fee", "volume", "fees",
    "escrow", "credits", "accrued_fees", "fees_collected", "withdrawn", "owed", "balance",
    "difference",
)
_PROVIDER_AMOUNTS = ("price", "volume", "payouts", "fees", "refunds")


def provider_row(p: ProviderState, money: Money) -> dict[str, Any]:
    """A listing's figures in human units: amounts with their symbol, stake in ether, the score
    in stars, reliability in percent."""
    row = p.figures()
    currency = row["currency"]
    for key in _PROVIDER_AMOUNTS:
        row[key] = money.text(row[key], currency)
    row["currency"] = money.symbol(currency)
    row["stake"] = money.text(row["stake"], 0)
    row["slashed"] = money.text(row["slashed"], 0)
    row["stars"] = f"{row['score'] / STAR:.2f}"
    row["reliability"] = f"{row['reliability'] / 100:.2f}%"
    return row


def customer_row(c: CustomerState, money: Money) -> dict[str, Any]:
    """A customer's figures; amounts per currency as one text ('0.02 ETH + 25 DUSD')."""
    row = c.figures()
    for key in ("volume", "spent", "refunds"):
        row[key] = money.per_currency(row[key])
    return row


def booking_row(b: BookingState, money: Money) -> dict[str, Any]:
    """A booking in human units: 0x id, amounts with symbol, dates."""
    row = b.figures()
    currency = row["currency"]
    for key in ("price", "fee", "refund", "compensation", "payout", "fee_paid"):
        row[key] = money.text(row[key], currency)
    row["slashed"] = money.text(row["slashed"], 0)
    row["currency"] = money.symbol(currency)
    row["start"] = iso_time(row["start"])
    row["requested_at"] = iso_time(row["requested_at"])
    return row


def sort_key(violation: Violation) -> tuple[int, int]:
    """Chain order; a violation without a log (solvency) after the block's events."""
    log_index = violation.log_index if violation.log_index is not None else 1 << 30
    return violation.block, log_index


@dataclass
class AuditReport:
    """Everything an audit found, ready to render."""

    meta: dict[str, Any]
    violations: list[Violation]
    totals: dict[str, Any]
    ledger: dict[str, Any]
    providers: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    invariants: list[dict[str, Any]] = field(default_factory=list)
    currencies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether no invariant was broken."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the top-level `violations` list."""
        return {
            "audit": self.meta,
            "clean": self.clean,
            "violations": [v.to_dict() for v in self.violations],
            "invariants": self.invariants,
            "totals": self.totals,
            "ledger": self.ledger,
            "currencies": self.currencies,
            "providers": self.providers,
            "customers": self.customers,
        }

    def to_json(self) -> str:
        """The report as JSON."""
        return to_json(self.to_dict())

    def to_csv(self) -> str:
        """One row per violation (a header only when the audit is clean)."""
        return to_csv(VIOLATION_COLUMNS, (v.to_dict() for v in self.violations))

    def to_text(self, top: int = 15) -> str:
        """A readable summary; `top` rows of providers and customers, every violation."""
        return render_text(self, top)


def build_report(auditor: Auditor) -> AuditReport:
    """The report of what `auditor` has audited so far."""
    replay = auditor.replay
    money = Money(replay.currencies)  # the auditor read each token's symbol and decimals
    violations = sorted(replay.violations, key=sort_key)
    counts = Counter(v.invariant for v in violations)
    checked = [c for c in replay.checkpoints if c.actual is not None and c.currency == 0]
    to_block = auditor.next_block - 1
    meta = {
        "tool": "marketplace audit",
        "version": __version__,
        "chain_id": auditor.target.chain_id,
        "address": auditor.target.address,
        "rpc_url": auditor.rpc.url,
        "deployment_block": auditor.target.start_block,
        "from_block": auditor.from_block,
        "to_block": to_block,
        "events": replay.events_in_scope,
        "events_replayed": replay.events_seen,
        "logs_skipped": replay.skipped_logs,
        "blocks_checked": len(checked),
        "blocks_unchecked": len(auditor.unchecked),
        "first_unchecked_block": auditor.unchecked[0] if auditor.unchecked else None,
        "balance_reads": auditor.balance_calls,
        "windows_known": replay.windows is not None,
        "listings_checked": auditor.listings_checked,
        "seconds": round(auditor.seconds, 3),
        "events_per_s": round(replay.events_seen / auditor.seconds, 1)
        if auditor.seconds > 0
        else None,
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    invariants = [
        {"code": inv.value, "title": inv.rule, "violations": counts.get(inv, 0)}
        for inv in Invariant
    ]
    return AuditReport(
        meta=meta,
        violations=violations,
        totals=totals_of(replay, money),
        ledger=ledger_of(replay, money),
        providers=[provider_row(p, money) for p in sorted_providers(replay)],
        customers=[customer_row(c, money) for c in sorted_customers(replay)],
        invariants=invariants,
        currencies=currency_rows(replay, money),
    )


def totals_of(replay: Replay, money: Money) -> dict[str, Any]:
    """Totals over the audited range: bookings by final state, money per currency, disputes,
    ratings, slashes."""
    by_state = {s.name: 0 for s in Status if s is not Status.NONE}
    counts = Counter(b.status for b in replay.bookings.values() if b.in_scope)
    bookings = counts.total()
    for status, count in counts.items():  # named once per state, not once per booking
        name = status_name(status)
        by_state[name] = by_state.get(name, 0) + count
    t = replay.totals
    cur = replay.currencies
    return {
        "bookings": bookings,
        "bookings_by_state": by_state,
        "volume": money.per_currency({k: c.volume for k, c in cur.items()}),
        "fees": money.per_currency({k: c.fees for k, c in cur.items()}),
        "fees_collected": money.per_currency({k: c.fees_collected for k, c in cur.items()}),
        "withdrawn": money.per_currency({k: c.withdrawn for k, c in cur.items()}),
        "disputes": {
            "opened": t["disputes"],
            "resolved": t["disputes_resolved"],
            "by_default": t["disputes_by_default"],
            "lost_by_provider": t["disputes_lost"],
            "bonds": money.text(t["bonds_paid"], 0),
        },
        "no_shows": t["no_shows"],
        "slashed": money.text(t["slashed"], 0),
        "ratings": t["ratings"],
        "stakes_released": money.text(t["stakes_released"], 0),
        "changes_applied": t["changes_applied"],
        "providers": len(replay.providers),
        "customers": len(replay.customers),
        "events_by_type": dict(sorted(replay.by_name.items())),
    }


def _last_checked(replay: Replay) -> dict[int, Any]:
    last: dict[int, Any] = {}
    for c in replay.checkpoints:
        if c.actual is not None:
            last[c.currency] = c
    return last


def currency_rows(replay: Replay, money: Money) -> list[dict[str, Any]]:
    """Each currency's ledger at the last audited block, in its units, with the balance the
    node reported (ether's owed includes the stakes and the open dispute bonds)."""
    last = _last_checked(replay)
    rows = []
    for cid, c in sorted(replay.currencies.items()):
        row = c.figures()
        owed = replay.owed(cid)
        checkpoint = last.get(cid)
        balance = checkpoint.actual if checkpoint is not None else None
        for key in ("min_fee", "escrow", "credits", "accrued_fees", "fees_collected",
                    "withdrawn", "volume", "fees"):
            row[key] = money.text(row[key], cid)
        row["symbol"] = money.symbol(cid)
        row["decimals"] = money.currency(cid).decimals
        row["owed"] = money.text(owed, cid)
        row["balance"] = money.text(balance, cid)
        row["difference"] = money.text(balance - owed, cid) if balance is not None else None
        rows.append(row)
    return rows


def ledger_of(replay: Replay, money: Money) -> dict[str, Any]:
    """The ether ledger at the last audited block (tokens: `currency_rows`), with the balance
    the node reported, and the parameters in force."""
    last = _last_checked(replay).get(0)
    ether = replay.currencies[0]
    owed = replay.owed(0)
    open_bookings = sum(1 for b in replay.bookings.values() if b.status in OPEN)
    return {
        "block": last.block if last else None,
        "escrow": money.text(ether.escrow, 0),
        "credits": money.text(ether.credits, 0),
        "accrued_fees": money.text(ether.accrued_fees, 0),
        "stakes": money.text(replay.stakes, 0),
        "dispute_bonds": money.text(replay.bonds, 0),
        "owed": money.text(owed, 0),
        "balance": money.text(last.actual, 0) if last else None,
        "difference": money.text(last.actual - owed, 0)
        if last and last.actual is not None
        else None,
        "open_bookings": open_bookings,
        "fee_bps": replay.fee_bps,
        "min_stake": money.text(replay.min_stake, 0),
        "dispute_bond": money.text(replay.dispute_bond, 0),
        "paused": replay.paused,
        "owner": replay.owner,
        "default_arbiter": replay.default_arbiter,
        "arbiters": {str(i): a for i, (a, ok) in sorted(replay.arbiters.items()) if ok},
        "attestors": {str(i): a for i, (a, ok) in sorted(replay.attestors.items()) if ok},
        "pending_changes": len(replay.pending),
    }


def sorted_providers(replay: Replay) -> list[ProviderState]:
    """Listings by id."""
    return [replay.providers[k] for k in sorted(replay.providers)]


def sorted_customers(replay: Replay) -> list[CustomerState]:
    """Customers with activity in range, by number of bookings then address."""
    active = [
        c for c in replay.customers.values() if c.bookings or c.criteria_changes or c.ratings
    ]
    return sorted(active, key=lambda c: (-c.bookings, c.address))


# ---------------------------------------------------------------- text


def _table(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> list[str]:
    """Aligned text columns: (key, header) pairs."""
    cells = [[h for _, h in columns]] + [
        [_fmt(row.get(k)) for k, _ in columns] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in cells]


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return format_int(value)
    return str(value)


def render_text(report: AuditReport, top: int = 15) -> str:
    """The report as plain text."""
    m, t, ledger = report.meta, report.totals, report.ledger
    lines = [
        f"Marketplace audit of {m['address']} on chain {m['chain_id']}",
        f"  blocks {m['from_block']}..{m['to_block']} (deployed at {m['deployment_block']}), "
        f"{format_int(m['events'])} events, {format_int(m['blocks_checked'])} balances checked, "
        f"{m['seconds']} s",
    ]
    if m["blocks_unchecked"]:
        lines.append(
            f"  NOTE: solvency not checked at {format_int(m['blocks_unchecked'])} block(s) from "
            f"{m['first_unchecked_block']}: the node no longer has their state (use an archive "
            "node to check every block)"
        )
    if not m.get("windows_known", True):
        lines.append("  NOTE: the contract's timing windows could not be read: deadlines are "
                     "checked for order only")
    lines += [
        "",
        "RESULT: CLEAN, every invariant holds"
        if report.clean
        else f"RESULT: {len(report.violations)} VIOLATION(S)",
        "",
        "Invariants",
    ]
    for inv in report.invariants:
        if inv["violations"] == 0:
            lines.append(f"  ok    {inv['code']}")
        else:
            lines.append(f"  FAIL  {inv['code']}: {inv['violations']} violation(s); the rule: "
                         f"{inv['title']}")
    states = ", ".join(f"{k.lower()} {format_int(v)}" for k, v in t["bookings_by_state"].items()
                       if v)
    disputes = t["disputes"]
    lines += [
        "",
        "Totals",
        f"  bookings      {format_int(t['bookings'])}" + (f" ({states})" if states else ""),
        f"  volume        {t['volume']}",
        f"  fees          {t['fees']}",
        f"  disputes      {disputes['opened']} opened, {disputes['resolved']} resolved "
        f"({disputes['by_default']} by default), {disputes['lost_by_provider']} lost by the "
        f"provider; bonds {disputes['bonds']}",
        f"  no-shows      {t['no_shows']} (stakes slashed {t['slashed']})",
        f"  ratings       {format_int(t['ratings'])}",
        f"  withdrawn     {t['withdrawn']}; fees collected {t['fees_collected']}",
        "",
        f"Ledger at block {ledger['block']}",
    ]
    for c in report.currencies:
        extra = (f" + stakes {ledger['stakes']} + dispute bonds {ledger['dispute_bonds']}"
                 if c["currency"] == 0 else "")
        lines.append(
            f"  {c['symbol']:<6} escrow {c['escrow']} + credits {c['credits']} + accrued fees "
            f"{c['accrued_fees']}{extra} = owed {c['owed']}; balance {_fmt(c['balance'])}"
        )
    if report.providers:
        shown = sorted(report.providers, key=lambda p: -p["bookings"])[:top]
        lines += ["", f"Listings ({len(report.providers)}; top {len(shown)} by bookings)"]
        lines += _table(
            [("provider_id", "id"), ("currency", "cur"), ("bookings", "bookings"),
             ("volume", "volume"), ("fees", "fees"), ("disputes_lost", "lost"),
             ("no_shows", "no-shows"), ("ratings", "ratings"), ("rating_weight", "weight"),
             ("stars", "stars"), ("reliability", "reliability")],
            shown,
        )
    if report.customers:
        shown = report.customers[:top]
        lines += ["", f"Customers ({len(report.customers)}; top {len(shown)} by bookings)"]
        lines += _table(
            [("customer", "customer"), ("bookings", "bookings"), ("volume", "volume"),
             ("disputes", "disputes"), ("ratings", "ratings")],
            shown,
        )
    if report.violations:
        lines += ["", "Violations"]
        for v in report.violations:
            where = f"block {v.block}" + (f" tx {v.tx_hash}" if v.tx_hash else "")
            if v.log_index is not None:
                where += f" log {v.log_index}"
            lines.append(f"  [{v.invariant.value}] {where}")
            lines.append(f"      {v.message}")
    return "\n".join(lines) + "\n"
