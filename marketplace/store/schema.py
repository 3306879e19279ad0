"""The store's tables (SQLAlchemy Core): the event journal, projections and indexer bookkeeping.

Amounts, booking ids and 64-bit masks do not fit a signed 64-bit integer, so they use `Uint`:
NUMERIC(78, 0) on PostgreSQL, a zero-padded decimal string on SQLite (which sorts and compares
like the number). Python sees plain `int` either way. Addresses are lower-case `0x` hex.

Projections are rebuilt from the journal alone; `indexer_*` tables are the indexer's own
bookkeeping (checkpoint, recent block hashes, undo records for provisional blocks, skipped logs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

UINT_DIGITS = 78  # 2**256 has 78 decimal digits


class Uint(TypeDecorator[int]):
    """An unsigned integer of up to 256 bits, exact on every backend."""

    impl = String(UINT_DIGITS)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """NUMERIC(78, 0) on PostgreSQL; a fixed-width string elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(UINT_DIGITS, 0, asdecimal=True))
        return dialect.type_descriptor(String(UINT_DIGITS))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Python int to the column's representation."""
        if value is None:
            return None
        if dialect.name == "postgresql":
            return int(value)
        return f"{int(value):0{UINT_DIGITS}d}"

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """`process_bind_param` as one plain function off PostgreSQL: the indexer binds a few
        hundred thousand of these per chunk, and SQLAlchemy's generic wrapper costs more than
        the formatting (the String impl has no processor of its own to chain)."""
        if dialect.name == "postgresql":
            return super().bind_processor(dialect)
        return _padded_decimal

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        """The column's representation back to a Python int."""
        if value is None:
            return None
        return int(value)


def _padded_decimal(value: Any) -> str | None:
    return None if value is None else f"{int(value):0{UINT_DIGITS}d}"


metadata = MetaData()

ADDRESS = 42
HASH = 66


def _address(name: str, **kwargs: Any) -> Column[str]:
    return Column(name, String(ADDRESS), **kwargs)


# ---------------------------------------------------------------- journal

events = Table(
    "events",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("tx_hash", String(HASH), nullable=False),
    Column("tx_index", Integer, nullable=False),
    Column("block_hash", String(HASH), nullable=False),
    Column("event", String(40), nullable=False),
    Column("booking_id", Uint, nullable=True),
    Column("provider_id", BigInteger, nullable=True),
    _address("account", nullable=True),
    Column("args", Text, nullable=False),
    UniqueConstraint("tx_hash", "log_index", name="uq_events_tx_log"),
    Index("ix_events_booking", "booking_id"),
    Index("ix_events_provider", "provider_id"),
    Index("ix_events_account", "account"),
)

blocks = Table(
    "blocks",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(HASH), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("event_count", Integer, nullable=False),
)

# ---------------------------------------------------------------- projections


def _listing_columns() -> list[Column[Any]]:
    """What eligibility reads of a listing (current in `providers`, past in its history)."""
    return [
        Column("category", Integer, nullable=False),
        Column("region", Integer, nullable=False),
        Column("attributes", Uint, nullable=False),
        Column("price", Uint, nullable=False),
    ]


def _criteria_columns() -> list[Column[Any]]:
    """One criteria set's values (current in `criteria`, each version in `criteria_versions`)."""
    return [
        Column("region", Integer, nullable=False),
        Column("min_score", Integer, nullable=False),
        Column("max_price", Uint, nullable=False),
        Column("premium_per_star", Uint, nullable=False),
        Column("required_attributes", Uint, nullable=False),
        Column("refused_attributes", Uint, nullable=False),
        Column("score_weight", Integer, nullable=False),
        Column("price_weight", Integer, nullable=False),
    ]


providers = Table(
    "providers",
    metadata,
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    _address("owner", nullable=False),
    *_listing_columns(),
    Column("stake", Uint, nullable=False),
    Column("metadata_hash", String(HASH), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("stake_unlock_at", BigInteger, nullable=False),
    Column("score_count", BigInteger, nullable=False),
    Column("score_sum", BigInteger, nullable=False),
    Column("rating_count", BigInteger, nullable=False),
    Column("rating_sum", BigInteger, nullable=False),
    Column("disputes_lost", BigInteger, nullable=False),
    Column("score", Integer, nullable=False),
    Column("registered_block", BigInteger, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
    Index("ix_providers_owner", "owner"),
    Index("ix_providers_category", "category", "active"),
)

provider_history = Table(  # the listing and score after each change eligibility can see
    "provider_history",
    metadata,
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("event", String(40), nullable=False),
    *_listing_columns(),
    Column("active", Boolean, nullable=False),
    Column("score_count", BigInteger, nullable=False),
    Column("score_sum", BigInteger, nullable=False),
    Column("score", Integer, nullable=False),
    Column("stars", SmallInteger, nullable=True),  # a rating's stars; NULL otherwise
    Index("ix_provider_history_block", "block_number"),
)

criteria = Table(
    "criteria",
    metadata,
    _address("customer", primary_key=True),
    Column("category", Integer, primary_key=True, autoincrement=False),
    *_criteria_columns(),
    Column("version", BigInteger, nullable=False),
    Column("blocked_count", Integer, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
)

criteria_versions = Table(
    "criteria_versions",
    metadata,
    _address("customer", primary_key=True),
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("category", Integer, nullable=False),
    Column("change", String(8), nullable=False),  # set | block | unblock
    Column("provider_id", BigInteger, nullable=True),  # the (un)blocked provider
    *_criteria_columns(),
    Column("blocked_count", Integer, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("tx_hash", String(HASH), nullable=False),
    Index("ix_criteria_versions_block", "block_number"),
)

criteria_blocks = Table(
    "criteria_blocks",
    metadata,
    _address("customer", primary_key=True),
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    Column("category", Integer, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("block_number", BigInteger, nullable=False),
)

bookings = Table(
    "bookings",
    metadata,
    Column("booking_id", Uint, primary_key=True),
    _address("customer", nullable=False),
    Column("seq", BigInteger, nullable=False),  # the customer's n-th booking
    Column("provider_id", BigInteger, nullable=False),
    Column("price", Uint, nullable=False),
    Column("fee_bps", Integer, nullable=False),
    Column("criteria_version", BigInteger, nullable=False),
    Column("status", SmallInteger, nullable=False),  # marketplace.domain.Status
    Column("deadline", BigInteger, nullable=False),
    Column("requested_block", BigInteger, nullable=False),
    Column("requested_at", BigInteger, nullable=False),  # block timestamp
    Column("updated_block", BigInteger, nullable=False),
    Column("refund", Uint, nullable=True),
    Column("payout", Uint, nullable=True),
    Column("fee", Uint, nullable=True),
    Column("refund_bps", Integer, nullable=True),
    _address("arbiter", nullable=True),
    _address("settled_by", nullable=True),
    Column("rated", Boolean, nullable=False),
    Column("stars", SmallInteger, nullable=True),
    Column("complaint_tags", BigInteger, nullable=True),
    Index("ix_bookings_customer", "customer"),
    Index("ix_bookings_provider", "provider_id", "status"),
)

balances = Table(
    "balances",
    metadata,
    _address("account", primary_key=True),
    Column("credit", Uint, nullable=False),  # withdrawable now
    Column("credited_total", Uint, nullable=False),
    Column("withdrawn_total", Uint, nullable=False),
)

LEDGER_DEFAULTS: dict[str, int] = {
    "escrow": 0,
    "credits": 0,
    "accrued_fees": 0,
    "stakes": 0,
    "fees_collected_total": 0,
    "withdrawn_total": 0,
    "open_bookings": 0,
}
"""The ledger before the first event (its one row has id 1)."""

ledger = Table(  # one row: where every wei the contract holds is
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("escrow", Uint, nullable=False),
    Column("credits", Uint, nullable=False),
    Column("accrued_fees", Uint, nullable=False),
    Column("stakes", Uint, nullable=False),
    Column("fees_collected_total", Uint, nullable=False),
    Column("withdrawn_total", Uint, nullable=False),
    Column("open_bookings", BigInteger, nullable=False),
)

market_settings = Table(  # one row: the operator's settings
    "market_settings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    _address("owner", nullable=True),
    _address("pending_owner", nullable=True),
    Column("fee_bps", Integer, nullable=False),
    Column("min_stake", Uint, nullable=False),
    Column("paused", Boolean, nullable=False),
)

arbiters = Table(
    "arbiters",
    metadata,
    _address("arbiter", primary_key=True),
    Column("allowed", Boolean, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
)

# ---------------------------------------------------------------- indexer bookkeeping

indexer_state = Table(  # one row: which deployment this store holds and how far it got
    "indexer_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("chain_id", BigInteger, nullable=False),
    _address("address", nullable=False),
    Column("start_block", BigInteger, nullable=False),
    Column("last_block", BigInteger, nullable=False),  # -1 before the first chunk
    Column("last_hash", String(HASH), nullable=True),
    Column("confirmations", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)

indexer_recent_blocks = Table(  # hashes of the provisional window, for reorg detection
    "indexer_recent_blocks",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(HASH), nullable=False),
)

indexer_undo = Table(  # row images before each provisional block changed them
    "indexer_undo",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("block_number", BigInteger, nullable=False),
    Column("table_name", String(40), nullable=False),
    Column("key", Text, nullable=False),
    Column("image", Text, nullable=True),  # JSON; NULL = the row did not exist
    Index("ix_indexer_undo_block", "block_number"),
)

indexer_skipped_logs = Table(  # logs at the contract address that are not marketplace events
    "indexer_skipped_logs",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("tx_hash", String(HASH), nullable=False),
    Column("topic0", String(HASH), nullable=True),
    Column("reason", Text, nullable=False),
)

PROJECTION_TABLES = (
    events,
    blocks,
    providers,
    provider_history,
    criteria,
    criteria_versions,
    criteria_blocks,
    bookings,
    balances,
    ledger,
    market_settings,
    arbiters,
    indexer_skipped_logs,
)
"""Tables whose content depends only on the chain: a fresh re-index reproduces them exactly."""

APPEND_ONLY_TABLES = (events, blocks, provider_history, criteria_versions, indexer_skipped_logs)
"""Tables only ever appended to, keyed by block: a rollback deletes rows above the fork."""
