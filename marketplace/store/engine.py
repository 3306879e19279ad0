"""Open the store: an SQLite file by default, PostgreSQL when `DATABASE_URL` names one."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Inspector, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from marketplace.errors import MarketplaceError
from marketplace.store.schema import metadata


class StoreError(MarketplaceError):
    """The store cannot be opened, or does not have the expected schema."""


class StoreUnreachable(StoreError):
    """The store did not answer (down, restarting, refused the connection): worth retrying."""


def _null(_value: None) -> None:
    """Adapt None for sqlite3: to itself, so NULL is bound as before."""
    return None


# sqlite3 looks an adapter up for every parameter that is not an exact int, float or str, and on
# CPython 3.11 a miss builds and discards an AttributeError: about 0.4 us per NULL bound, and the
# indexer binds hundreds of thousands of NULLs (booking columns not yet filled) per backfill. A
# registered adapter for None is found at the first lookup. Values bound are unchanged.
sqlite3.register_adapter(type(None), _null)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web app read while the indexer writes; NORMAL sync is still crash-safe in WAL
    # (a killed process never corrupts or half-applies a transaction).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: the journal's indexes stay in memory
    cursor.close()


def open_engine(url: str, **kwargs: Any) -> Engine:
    """An Engine for `url` (creating an SQLite file's directory); StoreError if unusable."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"DATABASE_URL {url!r} is not a database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    raise StoreError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"


def init_db(engine: Engine, reset: bool = False) -> list[str]:
    """Create every store table that is missing (dropping them first if `reset`); returns names.

    Only this package's tables are touched; other components' tables (e.g. `profile_*`) are not.
    """
    try:
        with engine.begin() as conn:
            if reset:
                metadata.drop_all(conn)
            else:
                _refuse_old_layout(inspect(conn), describe_url(str(engine.url)))
            metadata.create_all(conn)
    except OperationalError as exc:
        raise StoreUnreachable(
            f"cannot reach the store at {describe_url(str(engine.url))}: {exc}"
        ) from exc
    return sorted(metadata.tables)


def _refuse_old_layout(inspector: Inspector, where: str) -> None:
    """StoreError when an existing store table lacks columns of today's schema (a store of an
    older contract version: v2 is a new deployment, so its store starts afresh)."""
    existing = set(inspector.get_table_names())
    stale = []
    for name, table in sorted(metadata.tables.items()):
        if name not in existing:
            continue
        have = {c["name"] for c in inspector.get_columns(name)}
        lacking = sorted(set(table.columns.keys()) - have)
        if lacking:
            stale.append(f"{name} (lacks {', '.join(lacking[:3])})")
    if stale:
        raise StoreError(
            f"the store at {where} has an older layout: {'; '.join(stale[:4])}. It holds another "
            "contract version's data: run `marketplace db init --reset`, then `marketplace index`"
        )


def check_schema(engine: Engine) -> None:
    """Raise StoreError naming the missing tables unless every store table exists with today's
    columns."""
    where = describe_url(str(engine.url))
    try:
        inspector = inspect(engine)
        existing = set(inspector.get_table_names())
        _refuse_old_layout(inspector, where)
    except OperationalError as exc:
        raise StoreUnreachable(f"cannot reach the store at {where}: {exc}") from exc
    missing = sorted(set(metadata.tables) - existing)
    if missing:
        raise StoreError(
            f"the store at {describe_url(str(engine.url))} lacks tables {', '.join(missing)}: "
            "run `marketplace db init`"
        )
