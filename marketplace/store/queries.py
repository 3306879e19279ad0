"""Read helpers over the store for the web app, the matching engine and the auditor.

Every function takes an open SQLAlchemy Connection and returns plain dicts (ints for amounts,
lower-case hex addresses). Rows from blocks above `status()["final_block"]` are provisional: a
reorg may still change them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
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
    """A listing's current state and signals, with `owner_history` (its owner's aggregate row)
    and `attestations` ({attestor id: verified bits} of still-named attestors)."""
    row = _one(conn, schema.providers, provider_id=provider_id)
    if row is None:
        return None
    row["owner_history"] = _one(conn, schema.owners, owner=row["owner"])
    row["attestations"] = _verified(conn, [row]).get(provider_id, {})
    return row


_OWNER_SIGNALS = ("score", "rating_weight", "reliability", "completed", "failures",
                  "disputes_lost", "no_shows", "listings", "active_listings")


def list_providers(
    conn: Connection,
    category: int | None = None,
    active: bool | None = None,
    currency: int | None = None,
) -> list[Row]:
    """Listings (optionally of one category, activity, currency) by id, each with its owner's
    aggregate signals as `owner_<name>` (owner_score, owner_rating_weight, owner_reliability,
    owner_listings, ...) and `attestations`: {attestor id: verified bits} of still-named
    attestors (the attested bits the listing still claims)."""
    table, owners = schema.providers, schema.owners
    query = (
        select(table, *(owners.c[n].label(f"owner_{n}") for n in _OWNER_SIGNALS))
        .join(owners, owners.c.owner == table.c.owner, isouter=True)
        .order_by(table.c.provider_id)
    )
    if category is not None:
        query = query.where(table.c.category == category)
    if active is not None:
        query = query.where(table.c.active == active)
    if currency is not None:
        query = query.where(table.c.currency == currency)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    verified = _verified(conn, rows)
    for row in rows:
        row["attestations"] = verified.get(row["provider_id"], {})
    return rows


def _verified(conn: Connection, listings: list[Row]) -> dict[int, dict[int, int]]:
    """{provider id: {attestor id: attested & listing attributes}} of still-named attestors."""
    if not listings:
        return {}
    att, attestors = schema.attestations, schema.attestors
    query = (
        select(att.c.provider_id, att.c.attestor_id, att.c.attributes)
        .join(attestors, attestors.c.attestor_id == att.c.attestor_id)
        .where(attestors.c.allowed.is_(True))
    )
    if len(listings) <= 500:
        query = query.where(att.c.provider_id.in_([r["provider_id"] for r in listings]))
    claims = {r["provider_id"]: int(r["attributes"]) for r in listings}
    out: dict[int, dict[int, int]] = {}
    for provider_id, attestor_id, attributes in conn.execute(query):
        claimed = claims.get(provider_id)
        if claimed is None:
            continue
        bits = int(attributes) & claimed
        if bits:
            out.setdefault(provider_id, {})[attestor_id] = bits
    return out


def attestations_of(conn: Connection, provider_id: int) -> list[Row]:
    """Every attestor's current record of a listing: attestor id and account, whether it is
    still named (`allowed`), the attested bits and `verified` (those the listing still claims)."""
    att, attestors, providers = schema.attestations, schema.attestors, schema.providers
    claimed = conn.execute(
        select(providers.c.attributes).where(providers.c.provider_id == provider_id)
    ).scalar()
    query = (
        select(att, attestors.c.allowed)
        .join(attestors, attestors.c.attestor_id == att.c.attestor_id, isouter=True)
        .where(att.c.provider_id == provider_id)
        .order_by(att.c.attestor_id)
    )
    rows = []
    for r in conn.execute(query).mappings():
        row = dict(r)
        row["allowed"] = bool(row["allowed"])
        row["verified"] = int(row["attributes"]) & int(claimed or 0)
        rows.append(row)
    return rows


def offer(conn: Connection, provider_id: int, offer_version: int) -> Row | None:
    """One offer version of a listing (price, currency, attributes, region, terms, metadata)."""
    return _one(conn, schema.offers, provider_id=provider_id, offer_version=offer_version)


def offers_of(conn: Connection, provider_id: int) -> list[Row]:
    """Every offer version of a listing, oldest first."""
    table = schema.offers
    query = select(table).where(table.c.provider_id == provider_id).order_by(table.c.offer_version)
    return [dict(r) for r in conn.execute(query).mappings()]


def owner_history(conn: Connection, owner: str) -> Row | None:
    """An owner's aggregate over its listings (sums of ratings, weights, reliability counters,
    stakes; its score and reliability from those sums), with `listings_detail`: each listing's
    row."""
    owner = owner.lower()
    row = _one(conn, schema.owners, owner=owner)
    if row is None:
        return None
    table = schema.providers
    row["listings_detail"] = [
        dict(r)
        for r in conn.execute(
            select(table).where(table.c.owner == owner).order_by(table.c.provider_id)
        ).mappings()
    ]
    return row


def current_criteria(conn: Connection, customer: str, category: int) -> Row | None:
    """A customer's current criteria for a category, with `blocked`: the blocked listing ids of
    the category, and `blocked_owners`: the owners it blocks (in every category)."""
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
    row["blocked_owners"] = blocked_owners(conn, customer)
    return row


def blocked_owners(conn: Connection, customer: str) -> list[str]:
    """The owners a customer blocks now."""
    table = schema.owner_blocks
    query = select(table.c.owner).where(table.c.customer == customer.lower())
    return sorted(conn.execute(query).scalars())


def criteria_history(conn: Connection, customer: str, category: int | None = None) -> list[Row]:
    """Every criteria version of a customer (optionally one category, owner blocks included),
    oldest first."""
    table = schema.criteria_versions
    query = select(table).where(table.c.customer == customer.lower()).order_by(table.c.version)
    if category is not None:
        query = query.where((table.c.category == category) | table.c.category.is_(None))
    return [dict(r) for r in conn.execute(query).mappings()]


def _named_status(row: Row) -> Row:
    row["status_name"] = Status(row["status"]).name.lower()
    return row


def get_booking(conn: Connection, booking_id: int) -> Row | None:
    """A booking's current state, with `status_name` and `offer`: the offer it was made against."""
    row = _one(conn, schema.bookings, booking_id=booking_id)
    if row is None:
        return None
    row["offer"] = offer(conn, row["provider_id"], row["offer_version"])
    return _named_status(row)


def bookings_of(
    conn: Connection,
    customer: str | None = None,
    provider_id: int | None = None,
    owner: str | None = None,
    statuses: Iterable[int] | None = None,
) -> list[Row]:
    """Bookings of a customer, a listing and/or a provider (the listings' owner), optionally in
    some statuses, oldest first, each with `status_name`."""
    table = schema.bookings
    query = select(table).order_by(table.c.requested_block, table.c.booking_id)
    if customer is not None:
        query = query.where(table.c.customer == customer.lower())
    if provider_id is not None:
        query = query.where(table.c.provider_id == provider_id)
    if owner is not None:
        query = query.where(table.c.owner == owner.lower())
    if statuses is not None:
        query = query.where(table.c.status.in_([int(s) for s in statuses]))
    return [_named_status(dict(r)) for r in conn.execute(query).mappings()]


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


def credit_of(conn: Connection, account: str, currency: int = 0) -> int:
    """An account's withdrawable credit in one currency (0 if it never had any)."""
    row = _one(conn, schema.balances, account=account.lower(), currency=currency)
    return int(row["credit"]) if row is not None else 0


def credits_of(conn: Connection, account: str) -> dict[int, int]:
    """{currency: withdrawable credit} of an account (currencies it has a balance row in)."""
    table = schema.balances
    query = select(table.c.currency, table.c.credit).where(table.c.account == account.lower())
    return {int(c): int(v) for c, v in conn.execute(query)}


def ledger_totals(conn: Connection, currency: int = 0) -> Row:
    """A currency's escrow, credits and accrued fees (and, for ether, stakes and open dispute
    bonds), and `expected_balance`: their sum, what the contract must hold of it."""
    row = _one(conn, schema.ledger, currency=currency) or {
        "currency": currency, **schema.LEDGER_DEFAULTS
    }
    row["expected_balance"] = (
        row["escrow"] + row["credits"] + row["accrued_fees"] + row["stakes"] + row["bonds"]
    )
    return row


def ledgers(conn: Connection) -> list[Row]:
    """`ledger_totals` of every currency the store has seen money in, by currency id."""
    table = schema.ledger
    ids = conn.execute(select(table.c.currency).order_by(table.c.currency)).scalars().all()
    return [ledger_totals(conn, int(c)) for c in ids]


def market_settings(conn: Connection) -> Row | None:
    """Owner, pending owner, fee rate, minimum stake, dispute bond, default arbiter id, pause."""
    row = _one(conn, schema.market_settings, id=1)
    if row is not None:
        row.pop("id")
    return row


def _all(conn: Connection, table: Table, *order: ColumnElement[Any]) -> list[Row]:
    return [dict(r) for r in conn.execute(select(table).order_by(*order)).mappings()]


def currencies(conn: Connection) -> list[Row]:
    """Currencies by id: token (zero address: ether), enabled, min fee, symbol and decimals
    (None when unknown)."""
    return _all(conn, schema.currencies, schema.currencies.c.currency)


def currency(conn: Connection, currency_id: int) -> Row | None:
    """One currency's row."""
    return _one(conn, schema.currencies, currency=currency_id)


def arbiters(conn: Connection) -> list[Row]:
    """Arbiters by id (account, allowed); `market_settings()["default_arbiter_id"]` is the
    default."""
    return _all(conn, schema.arbiters, schema.arbiters.c.arbiter_id)


def attestors(conn: Connection) -> list[Row]:
    """Attestors by id (account, allowed)."""
    return _all(conn, schema.attestors, schema.attestors.c.attestor_id)


def operator_changes(conn: Connection, status: str | None = None) -> list[Row]:
    """Timelocked changes (the latest schedule of each kind/account/value): `status` scheduled,
    applied or cancelled, with their eta, by eta."""
    table = schema.operator_changes
    query = select(table).order_by(table.c.eta, table.c.kind)
    if status is not None:
        query = query.where(table.c.status == status)
    return [dict(r) for r in conn.execute(query).mappings()]


def stake_movements(conn: Connection, provider_id: int | None = None) -> list[Row]:
    """Stake registrations, top-ups, slashes (no-shows), arbiter pay and releases, in chain
    order (optionally of one listing)."""
    table = schema.stake_movements
    query = select(table).order_by(table.c.block_number, table.c.log_index)
    if provider_id is not None:
        query = query.where(table.c.provider_id == provider_id)
    return [dict(r) for r in conn.execute(query).mappings()]


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
