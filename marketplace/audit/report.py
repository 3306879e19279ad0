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
from marketplace.audit.replay import Replay
from marketplace.audit.state import OPEN, status_name
from marketplace.domain import Status
from marketplace.units import format_eth

VIOLATION_COLUMNS = (
    "invariant", "block", "tx_hash", "log_index", "event", "booking_id", "provider_id",
    "account", "message", "details",
)
PROVIDER_COLUMNS = (
    "provider_id", "owner", "category", "region", "price", "active", "stake", "bookings",
    "volume", "settled", "payouts", "fees", "refunds", "disputes", "disputes_lost", "ratings",
    "average_stars", "score",
)
CUSTOMER_COLUMNS = (
    "customer", "bookings", "volume", "spent", "refunds", "disputes", "ratings",
    "criteria_changes",
)


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
    violations = sorted(replay.violations, key=sort_key)
    counts = Counter(v.invariant for v in violations)
    checked = [c for c in replay.checkpoints if c.actual is not None]
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
        "seconds": round(auditor.seconds, 3),
        "events_per_s": round(replay.events_seen / auditor.seconds, 1)
        if auditor.seconds > 0
        else None,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    invariants = [
        {"code": inv.value, "title": inv.rule, "violations": counts.get(inv, 0)}
        for inv in Invariant
    ]
    return AuditReport(
        meta=meta,
        violations=violations,
        totals=totals_of(replay),
        ledger=ledger_of(replay),
        providers=[p.figures() for p in sorted_providers(replay)],
        customers=[c.figures() for c in sorted_customers(replay)],
        invariants=invariants,
    )


def totals_of(replay: Replay) -> dict[str, Any]:
    """Totals over the audited range: bookings by final state, money, disputes, ratings."""
    by_state = {s.name: 0 for s in Status if s is not Status.NONE}
    bookings = 0
    for b in replay.bookings.values():
        if b.in_scope:
            bookings += 1
            by_state[status_name(b.status)] = by_state.get(status_name(b.status), 0) + 1
    t = replay.totals
    return {
        "bookings": bookings,
        "bookings_by_state": by_state,
        "volume": t["volume"],
        "fees": t["fees"],
        "refunds": t["refunds"],
        "payouts": t["payouts"],
        "disputes": {
            "opened": t["disputes"],
            "resolved": t["disputes_resolved"],
            "by_default": t["disputes_by_default"],
            "lost_by_provider": t["disputes_lost"],
        },
        "ratings": t["ratings"],
        "fees_collected": t["fees_collected"],
        "withdrawn": t["withdrawn"],
        "stakes_released": t["stakes_released"],
        "providers": len(replay.providers),
        "customers": len(replay.customers),
        "events_by_type": dict(sorted(replay.by_name.items())),
    }


def ledger_of(replay: Replay) -> dict[str, Any]:
    """The ledger rebuilt at the last audited block, with the balance the node reported."""
    last = next((c for c in reversed(replay.checkpoints) if c.actual is not None), None)
    open_bookings = sum(1 for b in replay.bookings.values() if b.status in OPEN)
    owed = replay.escrow + replay.total_credits + replay.accrued_fees + replay.stakes
    return {
        "block": last.block if last else None,
        "escrow": replay.escrow,
        "credits": replay.total_credits,
        "accrued_fees": replay.accrued_fees,
        "stakes": replay.stakes,
        "owed": owed,
        "balance": last.actual if last else None,
        "difference": (last.actual - owed) if last and last.actual is not None else None,
        "open_bookings": open_bookings,
        "fee_bps": replay.fee_bps,
        "paused": replay.paused,
        "owner": replay.owner,
        "arbiters": sorted(replay.arbiters),
    }


def sorted_providers(replay: Replay) -> list[Any]:
    """Providers by id."""
    return [replay.providers[k] for k in sorted(replay.providers)]


def sorted_customers(replay: Replay) -> list[Any]:
    """Customers with activity in range, by volume then address."""
    active = [
        c for c in replay.customers.values() if c.bookings or c.criteria_changes or c.ratings
    ]
    return sorted(active, key=lambda c: (-c.volume, c.address))


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
        f"  volume        {format_eth(t['volume'])} ({format_int(t['volume'])} wei)",
        f"  fees          {format_eth(t['fees'])}",
        f"  refunds       {format_eth(t['refunds'])}",
        f"  payouts       {format_eth(t['payouts'])}",
        f"  disputes      {disputes['opened']} opened, {disputes['resolved']} resolved "
        f"({disputes['by_default']} by default), {disputes['lost_by_provider']} lost by the "
        "provider",
        f"  ratings       {format_int(t['ratings'])}",
        f"  withdrawn     {format_eth(t['withdrawn'])}; fees collected "
        f"{format_eth(t['fees_collected'])}",
        "",
        f"Ledger at block {ledger['block']}",
        f"  escrow {format_eth(ledger['escrow'])} ({ledger['open_bookings']} open bookings) + "
        f"credits {format_eth(ledger['credits'])} + accrued fees "
        f"{format_eth(ledger['accrued_fees'])} + stakes {format_eth(ledger['stakes'])}",
        f"  = owed {format_int(ledger['owed'])} wei; balance "
        f"{_fmt(ledger['balance'])} wei",
    ]
    if report.providers:
        shown = sorted(report.providers, key=lambda p: -p["volume"])[:top]
        lines += ["", f"Providers ({len(report.providers)}; top {len(shown)} by volume, wei)"]
        lines += _table(
            [("provider_id", "id"), ("bookings", "bookings"), ("volume", "volume"),
             ("payouts", "payouts"), ("fees", "fees"), ("refunds", "refunds"),
             ("disputes", "disputes"), ("disputes_lost", "lost"), ("ratings", "ratings"),
             ("score", "score")],
            shown,
        )
    if report.customers:
        shown = report.customers[:top]
        lines += ["", f"Customers ({len(report.customers)}; top {len(shown)} by volume, wei)"]
        lines += _table(
            [("customer", "customer"), ("bookings", "bookings"), ("volume", "volume"),
             ("spent", "spent"), ("refunds", "refunds"), ("disputes", "disputes"),
             ("ratings", "ratings")],
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
