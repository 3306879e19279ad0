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
        """`process_bind_param` as one plain function: the indexer binds a few hundred thousand
        of these per chunk, and SQLAlchemy's generic wrapper costs more than the conversion
        (neither impl has a processor of its own to chain: psycopg adapts an int to NUMERIC)."""
        if dialect.name == "postgresql":
            return _plain_int
        return _padded_decimal

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        """The column's representation back to a Python int."""
        if value is None:
            return None
        return int(value)


def _padded_decimal(value: Any) -> str | None:
    """`process_bind_param` off PostgreSQL: the same text, `str(...).zfill` being about twice
    as fast as the format mini-language for the usual plain int."""
    if value is None:
        return None
    return str(value if type(value) is int else int(value)).zfill(UINT_DIGITS)


def _plain_int(value: Any) -> int | None:
    """`process_bind_param` on PostgreSQL."""
    return None if value is None else int(value)


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


def _offer_columns() -> list[Column[Any]]:
    """One offer of a listing: what a booking is made against (current in `providers`, every
    version in `offers`, what eligibility saw in `provider_history`)."""
    return [
        Column("category", Integer, nullable=False),
        Column("region", Integer, nullable=False),
        Column("attributes", Uint, nullable=False),
        Column("currency", SmallInteger, nullable=False),  # 0 = ether, else `currencies`
        Column("price", Uint, nullable=False),
    ]


def _terms_columns() -> list[Column[Any]]:
    """A listing's booking terms (locked into each booking)."""
    return [
        Column("instant", Boolean, nullable=False),
        Column("free_cancel_hours", Integer, nullable=False),
        Column("late_cancel_pct", SmallInteger, nullable=False),
    ]


def _signal_columns() -> list[Column[Any]]:
    """What a listing's (or an owner's) track record says: weighted ratings and reliability."""
    return [
        Column("rating_count", BigInteger, nullable=False),  # ratings given, lost disputes not
        Column("rating_sum", BigInteger, nullable=False),  # their stars
        Column("disputes_lost", BigInteger, nullable=False),
        Column("rating_weight", Uint, nullable=False),  # sum of weights (lost disputes too)
        Column("weighted_stars", Uint, nullable=False),  # sum of stars x weight
        Column("score", Integer, nullable=False),  # domain score of the two above
        Column("completed", BigInteger, nullable=False),  # reliability counters
        Column("failures", BigInteger, nullable=False),
        Column("no_shows", BigInteger, nullable=False),
        Column("reliability", Integer, nullable=False),  # basis points
    ]


def _criteria_columns() -> list[Column[Any]]:
    """One criteria set's values (current in `criteria`, each version in `criteria_versions`)."""
    return [
        Column("region", Integer, nullable=False),
        Column("currency", SmallInteger, nullable=False),
        Column("min_score", Integer, nullable=False),
        Column("max_price", Uint, nullable=False),
        Column("premium_per_star", Uint, nullable=False),
        Column("required_attributes", Uint, nullable=False),
        Column("refused_attributes", Uint, nullable=False),
        Column("verified_attributes", Uint, nullable=False),
        Column("trusted_attestors", Uint, nullable=False),  # bitmask over attestor ids
        Column("min_rating_weight", Uint, nullable=False),
        Column("min_reliability", Integer, nullable=False),
        Column("score_weight", Integer, nullable=False),
        Column("price_weight", Integer, nullable=False),
    ]


providers = Table(  # each listing now
    "providers",
    metadata,
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    _address("owner", nullable=False),
    *_offer_columns(),
    *_terms_columns(),
    Column("metadata_hash", String(HASH), nullable=False),
    Column("offer_version", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("stake", Uint, nullable=False),
    Column("stake_unlock_at", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=False),  # no stake release before (slashable)
    Column("stake_topped_up", Uint, nullable=False),  # totals of the stake's movements
    Column("stake_slashed", Uint, nullable=False),  # no-shows and arbiter pay
    *_signal_columns(),
    Column("registered_block", BigInteger, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
    Index("ix_providers_owner", "owner"),
    Index("ix_providers_category", "category", "active"),
)

offers = Table(  # every offer version of every listing: a booking's offer is (provider, version)
    "offers",
    metadata,
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    Column("offer_version", BigInteger, primary_key=True, autoincrement=False),
    *_offer_columns(),
    *_terms_columns(),
    Column("metadata_hash", String(HASH), nullable=False),
    Column("event", String(40), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("tx_hash", String(HASH), nullable=False),
    Index("ix_offers_block", "block_number"),
)

owners = Table(  # an owner's history across its listings: sums of its listings' signals
    "owners",
    metadata,
    _address("owner", primary_key=True),
    Column("listings", Integer, nullable=False),
    Column("active_listings", Integer, nullable=False),
    Column("stake", Uint, nullable=False),
    Column("stake_slashed", Uint, nullable=False),
    *_signal_columns(),
    Column("first_block", BigInteger, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
)

provider_history = Table(  # the listing and its signals after each change eligibility can see
    "provider_history",
    metadata,
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("event", String(40), nullable=False),
    *_offer_columns(),
    Column("offer_version", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("rating_weight", Uint, nullable=False),
    Column("weighted_stars", Uint, nullable=False),
    Column("score", Integer, nullable=False),
    Column("completed", BigInteger, nullable=False),
    Column("failures", BigInteger, nullable=False),
    Column("reliability", Integer, nullable=False),
    Column("stars", SmallInteger, nullable=True),  # a rating's stars; NULL otherwise
    Column("weight", Uint, nullable=True),  # a rating's (or lost dispute's) weight
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
    Column("category", Integer, nullable=True),  # NULL for an owner block (every category)
    Column("change", String(16), nullable=False),  # set | block | unblock | block_owner | ...
    Column("provider_id", BigInteger, nullable=True),  # the (un)blocked listing
    _address("owner", nullable=True),  # the (un)blocked owner
    *_criteria_columns(),
    Column("blocked_count", Integer, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("tx_hash", String(HASH), nullable=False),
    Index("ix_criteria_versions_block", "block_number"),
)

criteria_blocks = Table(  # listings a customer blocks now
    "criteria_blocks",
    metadata,
    _address("customer", primary_key=True),
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    Column("category", Integer, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("block_number", BigInteger, nullable=False),
)

owner_blocks = Table(  # owners a customer blocks now (all their listings, every category)
    "owner_blocks",
    metadata,
    _address("customer", primary_key=True),
    _address("owner", primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Index("ix_owner_blocks_owner", "owner"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("booking_id", Uint, primary_key=True),
    _address("customer", nullable=False),
    Column("provider_id", BigInteger, nullable=False),
    _address("owner", nullable=False),  # the listing's owner when booked
    Column("start", BigInteger, nullable=False),  # decoded from the id
    Column("duration_minutes", Integer, nullable=False),
    Column("salt", SmallInteger, nullable=False),
    Column("offer_version", BigInteger, nullable=False),
    Column("criteria_version", BigInteger, nullable=False),
    Column("currency", SmallInteger, nullable=False),
    Column("price", Uint, nullable=False),
    Column("fee", Uint, nullable=False),  # fixed at booking; taken on settlement/resolution
    Column("arbiter_id", SmallInteger, nullable=False),
    _address("arbiter", nullable=True),  # that arbiter's account
    Column("instant", Boolean, nullable=False),
    Column("free_cancel_hours", Integer, nullable=False),
    Column("late_cancel_pct", SmallInteger, nullable=False),
    Column("status", SmallInteger, nullable=False),  # marketplace.domain.Status
    Column("deadline", BigInteger, nullable=False),  # the current state's deadline
    Column("respond_by", BigInteger, nullable=True),
    Column("service_by", BigInteger, nullable=True),
    Column("confirm_by", BigInteger, nullable=True),
    Column("arbitrate_by", BigInteger, nullable=True),
    Column("requested_block", BigInteger, nullable=False),
    Column("requested_at", BigInteger, nullable=False),  # block timestamp
    Column("updated_block", BigInteger, nullable=False),
    Column("refund", Uint, nullable=True),  # to the customer
    Column("payout", Uint, nullable=True),  # to the provider (settlement, resolution)
    Column("compensation", Uint, nullable=True),  # to the provider on a late cancellation
    Column("slash", Uint, nullable=True),  # stake paid to the customer on a no-show
    Column("bond", Uint, nullable=True),  # dispute bond paid (ether)
    _address("bond_to", nullable=True),  # who got the bond back or as pay
    Column("arbiter_pay", Uint, nullable=True),  # ether to the arbiter (bond or stake)
    Column("refund_bps", Integer, nullable=True),
    Column("by_default", Boolean, nullable=True),  # resolved by default after arbitrateBy
    Column("failure", Boolean, nullable=False),  # counted against the listing's reliability
    _address("settled_by", nullable=True),
    Column("rated", Boolean, nullable=False),
    Column("stars", SmallInteger, nullable=True),
    Column("weight", Uint, nullable=True),  # the rating's weight
    Column("complaint_tags", BigInteger, nullable=True),
    Index("ix_bookings_customer", "customer"),
    Index("ix_bookings_provider", "provider_id", "status"),
    Index("ix_bookings_owner", "owner"),
)

balances = Table(  # withdrawable credit per account and currency
    "balances",
    metadata,
    _address("account", primary_key=True),
    Column("currency", SmallInteger, primary_key=True, autoincrement=False),
    Column("credit", Uint, nullable=False),  # withdrawable now
    Column("credited_total", Uint, nullable=False),
    Column("withdrawn_total", Uint, nullable=False),
)

LEDGER_DEFAULTS: dict[str, int] = {
    "escrow": 0,
    "credits": 0,
    "accrued_fees": 0,
    "stakes": 0,
    "bonds": 0,
    "fees_collected_total": 0,
    "withdrawn_total": 0,
    "open_bookings": 0,
}
"""A currency's ledger before its first event (one row per currency id)."""

ledger = Table(  # per currency: where every unit the contract holds is (stakes, bonds: ether)
    "ledger",
    metadata,
    Column("currency", SmallInteger, primary_key=True, autoincrement=False),
    Column("escrow", Uint, nullable=False),
    Column("credits", Uint, nullable=False),
    Column("accrued_fees", Uint, nullable=False),
    Column("stakes", Uint, nullable=False),
    Column("bonds", Uint, nullable=False),  # open dispute bonds
    Column("fees_collected_total", Uint, nullable=False),
    Column("withdrawn_total", Uint, nullable=False),
    Column("open_bookings", BigInteger, nullable=False),
)

market_settings = Table(  # one row: the operator's settings in force
    "market_settings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    _address("owner", nullable=True),
    _address("pending_owner", nullable=True),
    Column("fee_bps", Integer, nullable=False),
    Column("min_stake", Uint, nullable=False),
    Column("dispute_bond", Uint, nullable=False),
    Column("default_arbiter_id", SmallInteger, nullable=False),  # 0: none
    Column("paused", Boolean, nullable=False),
)

operator_changes = Table(  # each timelocked change: the latest schedule of (kind, account, value)
    "operator_changes",
    metadata,
    Column("kind", SmallInteger, primary_key=True, autoincrement=False),
    _address("account", primary_key=True),
    Column("value", Uint, primary_key=True),
    Column("status", String(10), nullable=False),  # scheduled | applied | cancelled
    Column("eta", BigInteger, nullable=False),
    Column("scheduled_block", BigInteger, nullable=False),
    Column("done_block", BigInteger, nullable=True),  # applied or cancelled at
    Index("ix_operator_changes_status", "status"),
)

currencies = Table(
    "currencies",
    metadata,
    Column("currency", SmallInteger, primary_key=True, autoincrement=False),
    _address("token", nullable=False),  # zero address: ether
    Column("enabled", Boolean, nullable=False),
    Column("min_fee", Uint, nullable=False),
    Column("symbol", String(32), nullable=True),  # when known (ether; tokens: from the chain)
    Column("decimals", SmallInteger, nullable=True),
    Column("updated_block", BigInteger, nullable=False),
    Index("ix_currencies_token", "token"),
)

min_fees = Table(  # the minimum fee of each token (zero address: ether), set before its id exists
    "min_fees",
    metadata,
    _address("token", primary_key=True),
    Column("min_fee", Uint, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
)

arbiters = Table(
    "arbiters",
    metadata,
    Column("arbiter_id", SmallInteger, primary_key=True, autoincrement=False),
    _address("arbiter", nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
    Index("ix_arbiters_account", "arbiter"),
)

attestors = Table(
    "attestors",
    metadata,
    Column("attestor_id", SmallInteger, primary_key=True, autoincrement=False),
    _address("attestor", nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
    Index("ix_attestors_account", "attestor"),
)

attestations = Table(  # each attestor's current record per listing (0 = revoked, row deleted)
    "attestations",
    metadata,
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    Column("attestor_id", SmallInteger, primary_key=True, autoincrement=False),
    _address("attestor", nullable=False),
    Column("attributes", Uint, nullable=False),  # attested bits (verified = these & listing's)
    Column("block_number", BigInteger, nullable=False),
)

stake_movements = Table(  # every change of a listing's stake, with its cause
    "stake_movements",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("provider_id", BigInteger, nullable=False),
    Column("kind", String(12), nullable=False),  # register | top_up | slash | arbiter_pay | release
    Column("amount", Uint, nullable=False),
    _address("to", nullable=True),  # who was credited (slash, arbiter pay, release)
    Column("booking_id", Uint, nullable=True),
    Column("stake_after", Uint, nullable=False),
    Index("ix_stake_movements_provider", "provider_id"),
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
    offers,
    owners,
    provider_history,
    criteria,
    criteria_versions,
    criteria_blocks,
    owner_blocks,
    bookings,
    balances,
    ledger,
    market_settings,
    operator_changes,
    currencies,
    min_fees,
    arbiters,
    attestors,
    attestations,
    stake_movements,
    indexer_skipped_logs,
)
"""Tables whose content depends only on the chain: a fresh re-index reproduces them exactly."""

APPEND_ONLY_TABLES = (
    events,
    blocks,
    offers,
    provider_history,
    criteria_versions,
    stake_movements,
    indexer_skipped_logs,
)
"""Tables only ever appended to, keyed by block: a rollback deletes rows above the fork."""
