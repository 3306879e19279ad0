"""Read helpers over the store for the web app, the matching engine and the auditor.

Every function takes an open SQLAlchemy Connection and returns plain dicts (ints for amounts,
lower-case hex addresses). Rows from blocks above `status()["final_block"]` are provisional: a
reorg may still change them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func, select

from marketplace.domain import Status
from marketplace.store import schema

Row = dict[str, Any]


def _one(conn: Connection, table: Table, **where: Any) -> Row | None:
    query = select(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    row = conn.execute(query).mappings().first()
    return dict(row) if row is not None else None


def status(conn: Connection) -> Row | None:
    """The indexer's checkpoint: deployment, last block, the newest final block; None if empty."""
    row = _one(conn, schema.indexer_state, id=1)
    if row is None:
        return None
    row["final_block"] = row["last_block"] - row["confirmations"]
    row["skipped_logs"] = conn.execute(
        select(func.count()).select_from(schema.indexer_skipped_logs)
    ).scalar_one()
    row["events"] = conn.execute(select(func.count()).select_from(schema.events)).scalar_one()
    return row


def get_provider(conn: Connection, provider_id: int) -> Row | None:
    """A provider's current state and score."""
    return _one(conn, schema.providers, provider_id=provider_id)


def list_providers(
    conn: Connection, category: int | None = None, active: bool | None = None
) -> list[Row]:
    """Providers, optionally of one category and/or activity, by id."""
    table = schema.providers
    query = select(table).order_by(table.c.provider_id)
    if category is not None:
        query = query.where(table.c.category == category)
    if active is not None:
        query = query.where(table.c.active == active)
    return [dict(r) for r in conn.execute(query).mappings()]


def current_criteria(conn: Connection, customer: str, category: int) -> Row | None:
    """A customer's current criteria for a category, with `blocked`: the blocked provider ids."""
    customer = customer.lower()
    row = _one(conn, schema.criteria, customer=customer, category=category)
    if row is None:
        return None
    blocks = schema.criteria_blocks
    row["blocked"] = sorted(
        conn.execute(
            select(blocks.c.provider_id).where(
                blocks.c.customer == customer, blocks.c.category == category
            )
        ).scalars()
    )
    return row


def criteria_history(conn: Connection, customer: str, category: int | None = None) -> list[Row]:
    """Every criteria version of a customer (optionally one category), oldest first."""
    table = schema.criteria_versions
    query = select(table).where(table.c.customer == customer.lower()).order_by(table.c.version)
    if category is not None:
        query = query.where(table.c.category == category)
    return [dict(r) for r in conn.execute(query).mappings()]


def get_booking(conn: Connection, booking_id: int) -> Row | None:
    """A booking's current state, with `status_name`."""
    row = _one(conn, schema.bookings, booking_id=booking_id)
    if row is not None:
        row["status_name"] = Status(row["status"]).name.lower()
    return row


def bookings_of(
    conn: Connection, customer: str | None = None, provider_id: int | None = None
) -> list[Row]:
    """Bookings of a customer and/or a provider, oldest first."""
    table = schema.bookings
    query = select(table).order_by(table.c.requested_block, table.c.booking_id)
    if customer is not None:
        query = query.where(table.c.customer == customer.lower())
    if provider_id is not None:
        query = query.where(table.c.provider_id == provider_id)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    for row in rows:
        row["status_name"] = Status(row["status"]).name.lower()
    return rows


def journal(conn: Connection, condition: ColumnElement[bool]) -> list[Row]:
    """The journaled events matching `condition` in chain order, each with its decoded `args`
    and its block `timestamp`."""
    events, blocks = schema.events, schema.blocks
    query = (
        select(events, blocks.c.timestamp)
        .join(blocks, blocks.c.number == events.c.block_number)
        .where(condition)
        .order_by(events.c.block_number, events.c.log_index)
    )
    rows = []
    for r in conn.execute(query).mappings():
        row = dict(r)
        row["args"] = json.loads(row["args"])
        rows.append(row)
    return rows


def booking_timeline(conn: Connection, booking_id: int) -> list[Row]:
    """Every event of a booking in chain order, with its decoded `args` and block `timestamp`."""
    return journal(conn, schema.events.c.booking_id == booking_id)


def credit_of(conn: Connection, account: str) -> int:
    """An account's withdrawable credit in wei (0 if it never had any)."""
    row = _one(conn, schema.balances, account=account.lower())
    return int(row["credit"]) if row is not None else 0


def ledger_totals(conn: Connection) -> Row:
    """Escrow, credits, accrued fees and stakes, and their sum: the contract's expected balance."""
    row = _one(conn, schema.ledger, id=1) or dict(schema.LEDGER_DEFAULTS)
    row.pop("id", None)
    row["expected_balance"] = row["escrow"] + row["credits"] + row["accrued_fees"] + row["stakes"]
    return row


def market_settings(conn: Connection) -> Row | None:
    """Owner, pending owner, fee rate, minimum stake and pause flag."""
    row = _one(conn, schema.market_settings, id=1)
    if row is not None:
        row.pop("id")
    return row


def skipped_logs(conn: Connection) -> list[Row]:
    """Logs at the contract address that were not marketplace events, with the reason."""
    table = schema.indexer_skipped_logs
    query = select(table).order_by(table.c.block_number, table.c.log_index)
    return [dict(r) for r in conn.execute(query).mappings()]


def dump(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every chain-derived table as sorted tuples: two stores of the same chain compare equal."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in schema.PROJECTION_TABLES:
        keys = [c for c in table.primary_key.columns]
        rows = conn.execute(select(table).order_by(*keys)).all()
        out[table.name] = [tuple(r) for r in rows]
    return out
