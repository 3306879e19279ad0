"""Projection rows in memory for one chunk, written back in bulk, with undo for provisional blocks.

A chunk's events touch a few thousand rows; loading them with one `IN` query per table, applying
every event to the in-memory images and writing each changed row once is what makes the indexer
fast. When a block is provisional (within the confirmation window), the image of each row before
that block first changed it is kept in `indexer_undo`, so a reorg can put every row back exactly
as it was at the fork point.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Connection, Table, delete, select, tuple_

from marketplace.store import schema

Key = tuple[Any, ...]
Row = dict[str, Any]

MUTABLE_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        schema.providers,
        schema.owners,
        schema.criteria,
        schema.criteria_blocks,
        schema.owner_blocks,
        schema.bookings,
        schema.balances,
        schema.ledger,
        schema.market_settings,
        schema.operator_changes,
        schema.currencies,
        schema.min_fees,
        schema.arbiters,
        schema.attestors,
        schema.attestations,
    )
}

APPEND_ONLY: dict[str, tuple[Table, str]] = {
    "events": (schema.events, "block_number"),
    "blocks": (schema.blocks, "number"),
    "offers": (schema.offers, "block_number"),
    "provider_history": (schema.provider_history, "block_number"),
    "criteria_versions": (schema.criteria_versions, "block_number"),
    "stake_movements": (schema.stake_movements, "block_number"),
    "indexer_skipped_logs": (schema.indexer_skipped_logs, "block_number"),
}

_IN_BATCH = 500


def primary_key(table: Table) -> tuple[str, ...]:
    """Names of the table's primary-key columns, in order."""
    return tuple(c.name for c in table.primary_key.columns)


Encoder = Callable[[Sequence[Any]], list[tuple[Any, ...]]]
Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Insert:
    """An INSERT (or upsert) for the driver and the two ways rows become its parameters."""

    sql: str
    names: tuple[str, ...]
    from_rows: Encoder  # dict rows
    from_values: Encoder  # tuples of every column's value in the table's order


_inserts: dict[tuple[str, str, bool], _Insert] = {}


def _encoder(
    keys: Sequence[str | int],
    processors: Sequence[Processor | None],
    booleans: Sequence[bool],
) -> Encoder:
    """A function from rows to driver parameters: each row's values at `keys`, each through its
    column's bind processor (None stays None). Generated as one list comprehension: the indexer
    converts over a million values per backfill, and a loop over the columns of every row costs
    more than the conversions. A boolean column's processor is called once per encoder for True
    and for False, whose results a dict then gives (the same for anything equal to them, which
    the processor turns into the same value); anything else still goes through the processor."""
    namespace: dict[str, Any] = {}
    items = []
    for i, (key, process, boolean) in enumerate(zip(keys, processors, booleans, strict=True)):
        if process is None:
            items.append(f"r[{key!r}]")
        elif boolean:
            namespace[f"p{i}"] = process
            namespace[f"t{i}"] = {True: process(True), False: process(False)}
            items.append(
                f"(None if (v := r[{key!r}]) is None else t{i}[v] if v in t{i} else p{i}(v))"
            )
        else:
            namespace[f"p{i}"] = process
            items.append(f"(None if (v := r[{key!r}]) is None else p{i}(v))")
    exec(f"def encode(rows):\n    return [({', '.join(items)},) for r in rows]\n", namespace)
    encode: Encoder = namespace["encode"]
    return encode


def _insert(conn: Connection, table: Table, replace: bool) -> _Insert:
    """INSERT (or INSERT ... ON CONFLICT DO UPDATE) text for the driver, and its encoders.

    The hot path bypasses SQLAlchemy's per-row parameter handling: the same SQL works on SQLite
    and PostgreSQL, only the placeholder differs.
    """
    dialect = conn.dialect
    cache_key = (dialect.name, table.name, replace)
    cached = _inserts.get(cache_key)
    if cached is not None:
        return cached
    quote = dialect.identifier_preparer.quote
    names = tuple(c.name for c in table.columns)
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join(marker for _ in names)})"
    )
    if replace:
        keys = primary_key(table)
        updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names if n not in keys)
        sql += f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {updates}"
    processors = tuple(c.type.bind_processor(dialect) for c in table.columns)
    booleans = tuple(isinstance(c.type, Boolean) for c in table.columns)
    insert = _Insert(
        sql,
        names,
        _encoder(names, processors, booleans),
        _encoder(range(len(names)), processors, booleans),
    )
    _inserts[cache_key] = insert
    return insert


def write_rows(conn: Connection, table: Table, rows: Sequence[Row], replace: bool = False) -> None:
    """Insert `rows` (complete rows, every column) in one executemany; `replace` upserts by key."""
    if rows:
        insert = _insert(conn, table, replace)
        _execute(conn, table, insert, insert.from_rows(rows), replace)


def write_values(conn: Connection, table: Table, values: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows given as tuples of every column's value in the table's column order (the
    journal's rows, built without a dict each)."""
    if values:
        insert = _insert(conn, table, False)
        _execute(conn, table, insert, insert.from_values(values), False)


def _execute(
    conn: Connection, table: Table, insert: _Insert, params: list[tuple[Any, ...]], replace: bool
) -> None:
    if conn.dialect.name == "postgresql":
        _write_postgres(conn, table, insert.sql, insert.names, params, replace)
    else:
        conn.exec_driver_sql(insert.sql, params)


def _write_postgres(
    conn: Connection,
    table: Table,
    sql: str,
    names: tuple[str, ...],
    params: list[tuple[Any, ...]],
    replace: bool,
) -> None:
    """PostgreSQL: COPY for plain inserts; COPY into a temporary table, then one
    INSERT ... SELECT ... ON CONFLICT, for upserts. Several times faster than a statement per row.
    """
    driver: Any = conn.connection.driver_connection
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    target = quote(table.name)
    with driver.cursor() as cursor:
        if not replace:
            with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
            return
        staging = quote(f"staging_{table.name}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "
            f"(LIKE {target} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        conflict = sql.partition(" ON CONFLICT ")[2]
        cursor.execute(
            f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {staging} "
            f"ON CONFLICT {conflict}"
        )
        cursor.execute(f"DELETE FROM {staging}")


def upsert(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert `rows`, replacing any row with the same primary key (SQLite and PostgreSQL)."""
    write_rows(conn, table, rows, replace=True)


def delete_keys(conn: Connection, table: Table, keys: Iterable[Key]) -> None:
    """Delete the rows with the given primary keys."""
    names = primary_key(table)
    pending = list(keys)
    for start in range(0, len(pending), _IN_BATCH):
        batch = pending[start : start + _IN_BATCH]
        if len(names) == 1:
            column = table.c[names[0]]
            conn.execute(delete(table).where(column.in_([k[0] for k in batch])))
        else:
            columns = tuple_(*(table.c[n] for n in names))
            conn.execute(delete(table).where(columns.in_(batch)))


def load_rows(conn: Connection, table: Table, keys: Iterable[Key]) -> dict[Key, Row]:
    """{key: row} for the keys that exist."""
    names = primary_key(table)
    pending = list(keys)
    found: dict[Key, Row] = {}
    for start in range(0, len(pending), _IN_BATCH):
        batch = pending[start : start + _IN_BATCH]
        if len(names) == 1:
            where = table.c[names[0]].in_([k[0] for k in batch])
        else:
            where = tuple_(*(table.c[n] for n in names)).in_(batch)
        for row in conn.execute(select(table).where(where)).mappings():
            image = dict(row)
            found[tuple(image[n] for n in names)] = image
    return found


class UnitOfWork:
    """The projection rows one chunk reads and writes, flushed in one go.

    `block` is the block of the event being applied; rows changed while `block >= undo_from`
    get an undo record holding their image before that block.
    """

    def __init__(
        self, conn: Connection, undo_from: int | None, known: RowCache | None = None
    ) -> None:
        self.conn = conn
        self.undo_from = undo_from
        self.known = known
        self.block = 0
        self._images: dict[str, dict[Key, Row | None]] = {name: {} for name in MUTABLE_TABLES}
        self._dirty: dict[str, set[Key]] = {name: set() for name in MUTABLE_TABLES}
        self._undo_seen: set[tuple[str, Key, int]] = set()
        self._undo: list[Row] = []
        self._appends: dict[str, list[Row]] = {name: [] for name in APPEND_ONLY}
        self._values: dict[str, list[tuple[Any, ...]]] = {name: [] for name in APPEND_ONLY}
        self._whole: set[str] = set()
        # symbol and decimals of the tokens this chunk's CurrencySet events name (the scanner
        # asks the tokens; None where a token does not say)
        self.tokens: dict[str, tuple[str | None, int | None]] = {}

    def load(self, table: str, keys: Iterable[Key]) -> None:
        """Read the rows of `keys` not yet in memory (absent rows are remembered as None)."""
        images = self._images[table]
        missing = [k for k in set(keys) if k not in images]
        if missing and self.known is not None:
            missing = self.known.fill(table, missing, images)
        if not missing:
            return
        found = load_rows(self.conn, MUTABLE_TABLES[table], missing)
        for key in missing:
            images[key] = found.get(key)

    def load_all(self, table: str) -> None:
        """Read every row of a small table (registries: currencies, arbiters, attestors) once."""
        if table in self._whole:
            return
        mutable = MUTABLE_TABLES[table]
        names = primary_key(mutable)
        images = self._images[table]
        for row in self.conn.execute(select(mutable)).mappings():
            image = dict(row)
            images.setdefault(tuple(image[n] for n in names), image)
        self._whole.add(table)

    def lookup(self, table: str, column: str, value: Any, result: str) -> Any:
        """`result` of the (first) row of a small table whose `column` equals `value`, else None."""
        self.load_all(table)
        for row in self._images[table].values():
            if row is not None and row[column] == value:
                return row[result]
        return None

    def get(self, table: str, key: Key) -> Row | None:
        """The current image of a row (None: absent). Do not mutate it; `put` a changed copy."""
        images = self._images[table]
        try:
            return images[key]
        except KeyError:
            self.load(table, [key])
            return images[key]

    def put(self, table: str, key: Key, row: Row | None) -> None:
        """Replace a row's image (None deletes the row). The image it replaces is read only for
        an undo record: the row is written whole (or deleted) whatever it was."""
        images = self._images[table]
        if self.undo_from is not None and self.block >= self.undo_from:
            marker = (table, key, self.block)
            if marker not in self._undo_seen:
                self._undo_seen.add(marker)
                if key not in images:
                    self.load(table, [key])
                before = images[key]
                self._undo.append(
                    {
                        "block_number": self.block,
                        "table_name": table,
                        "key": json.dumps(list(key)),
                        "image": None if before is None else json.dumps(before),
                    }
                )
        images[key] = row
        self._dirty[table].add(key)

    def images(self) -> dict[str, dict[Key, Row | None]]:
        """Every row image read or written, by table (None: the row does not exist); tables
        read whole (`load_all`) are left out: they are small and read once per chunk."""
        return {name: rows for name, rows in self._images.items() if name not in self._whole}

    def append(self, table: str, row: Row) -> None:
        """Queue a row for an append-only table."""
        self._appends[table].append(row)

    def append_values(self, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Queue rows for an append-only table, each as every column's value in the table's
        order."""
        self._values[table].extend(rows)

    def flush(self) -> None:
        """Write every changed row, every appended row and the undo records."""
        conn = self.conn
        for name, rows in self._appends.items():
            write_rows(conn, APPEND_ONLY[name][0], rows)
            write_values(conn, APPEND_ONLY[name][0], self._values[name])
        for name, keys in self._dirty.items():
            if not keys:
                continue
            table = MUTABLE_TABLES[name]
            images = self._images[name]
            changed = [row for k in keys if (row := images[k]) is not None]
            removed = [k for k in keys if images[k] is None]
            upsert(conn, table, changed)
            if removed:
                delete_keys(conn, table, removed)
        if self._undo:
            conn.execute(schema.indexer_undo.insert(), self._undo)


class RowCache:
    """Row images as the last committed chunks left them, so the next chunk reads them from
    memory instead of the store (blocks are indexed in order, so the rows a chunk touches are
    mostly the ones recent chunks touched).

    Valid only while this indexer is the store's one writer of the projections (it is: see
    `Indexer`) and only for what was committed: `remember` a UnitOfWork after its transaction
    commits, `clear` after anything else changes the store (a reorg's rollback, a failed
    chunk). Holds at most `limit` rows; past that it starts again from empty.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._rows: dict[str, dict[Key, Row | None]] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        """Forget everything (the store changed behind the cache)."""
        self._rows.clear()
        self._size = 0

    def fill(self, table: str, keys: list[Key], images: dict[Key, Row | None]) -> list[Key]:
        """Copy the known images of `keys` into `images`; return the keys it does not know."""
        known = self._rows.get(table)
        if not known:
            return keys
        unknown = []
        for key in keys:
            if key in known:
                images[key] = known[key]
            else:
                unknown.append(key)
        return unknown

    def remember(self, uow: UnitOfWork) -> None:
        """Keep every row image of a chunk whose transaction has committed."""
        for table, images in uow.images().items():
            rows = self._rows.setdefault(table, {})
            before = len(rows)
            rows.update(images)
            self._size += len(rows) - before
        if self._size > self.limit:
            self.clear()


def rollback_to(conn: Connection, fork_block: int) -> int:
    """Undo every change made by blocks above `fork_block`; returns the number of rows restored."""
    undo = schema.indexer_undo
    records = conn.execute(
        select(undo.c.table_name, undo.c.key, undo.c.image)
        .where(undo.c.block_number > fork_block)
        .order_by(undo.c.id)
    ).all()
    earliest: dict[tuple[str, str], str | None] = {}
    for table_name, key, image in records:
        earliest.setdefault((table_name, key), image)
    restores: dict[str, list[Row]] = {}
    removals: dict[str, list[Key]] = {}
    for (table_name, key), image in earliest.items():
        if image is None:
            removals.setdefault(table_name, []).append(tuple(json.loads(key)))
        else:
            restores.setdefault(table_name, []).append(json.loads(image))
    for table_name, keys in removals.items():
        delete_keys(conn, MUTABLE_TABLES[table_name], keys)
    for table_name, rows in restores.items():
        upsert(conn, MUTABLE_TABLES[table_name], rows)
    conn.execute(delete(undo).where(undo.c.block_number > fork_block))
    for table, column in APPEND_ONLY.values():
        conn.execute(delete(table).where(table.c[column] > fork_block))
    recent = schema.indexer_recent_blocks
    conn.execute(delete(recent).where(recent.c.number > fork_block))
    return len(earliest)
