"""The living-profile repository on SQLAlchemy Core: SQLite by default, PostgreSQL at scale.

Its own `MetaData`, every table and constraint prefixed `profile_`, so the profile can live in the
store's database (or its own) without touching the store's schema, and erasure is one statement
per table. Large integers the databases cannot hold as BIGINT (booking ids, wei amounts) are
stored as decimal text; 64-bit attribute masks as BIGINT in two's complement.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Engine,
    Float,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from marketplace.profile.records import (
    ChoiceRecord,
    ConsentRecord,
    Dismissal,
    FeedbackText,
    Notification,
    RatingRecord,
)

_TWO_64 = 1 << 64


class _Uint64(TypeDecorator[int]):
    """An unsigned 64-bit mask in a signed BIGINT."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return value - _TWO_64 if value >= 1 << 63 else value

    def process_result_value(self, value: int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return value + _TWO_64 if value < 0 else value


class _BigUint(TypeDecorator[int]):
    """An unsigned integer up to 256 bits as decimal text (wei amounts, booking ids)."""

    impl = String(78)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class _UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out (SQLite forgets the zone; this restores it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("profile timestamps must be timezone-aware")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


profile_metadata = MetaData(naming_convention={
    "ix": "%(table_name)s_%(column_0_name)s_ix",
    "uq": "%(table_name)s_%(column_0_name)s_uq",
    "pk": "%(table_name)s_pk",
})


def _customer() -> Column[str]:
    return Column("customer", String(42), nullable=False, index=True)


consents = Table(
    "profile_consents", profile_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _customer(),
    Column("purpose", String(200), nullable=False),
    Column("granted_at", _UtcDateTime, nullable=False),
    Column("revoked_at", _UtcDateTime, nullable=True),
)

ratings = Table(
    "profile_ratings", profile_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _customer(),
    Column("booking_id", _BigUint, nullable=False),
    Column("provider_id", BigInteger, nullable=False),
    Column("category", Integer, nullable=False),
    Column("stars", SmallInteger, nullable=False),
    Column("complaints", BigInteger, nullable=False),
    Column("attributes", _Uint64, nullable=False),
    Column("score", Integer, nullable=False),
    Column("price", _BigUint, nullable=False),
    Column("min_score", Integer, nullable=False),
    Column("ceiling", _BigUint, nullable=False),
    Column("rated_at", _UtcDateTime, nullable=False),
    UniqueConstraint("customer", "booking_id"),
)

choices = Table(
    "profile_choices", profile_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _customer(),
    Column("category", Integer, nullable=False),
    Column("chosen_provider_id", BigInteger, nullable=False),
    Column("passed_provider_id", BigInteger, nullable=False),
    Column("chosen_score_term", Float, nullable=False),
    Column("chosen_price_term", Float, nullable=False),
    Column("passed_score_term", Float, nullable=False),
    Column("passed_price_term", Float, nullable=False),
    Column("chosen_at", _UtcDateTime, nullable=False),
)

dismissals = Table(
    "profile_dismissals", profile_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _customer(),
    Column("proposal_key", String(120), nullable=False),
    Column("dismissed_at", _UtcDateTime, nullable=False),
    UniqueConstraint("customer", "proposal_key"),
)

notifications = Table(
    "profile_notifications", profile_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _customer(),
    Column("kind", String(16), nullable=False),
    Column("provider_id", BigInteger, nullable=False),
    Column("category", Integer, nullable=False),
    Column("message", String(2000), nullable=False),
    Column("block", BigInteger, nullable=False),
    Column("created_at", _UtcDateTime, nullable=False),
    Column("read", Boolean, nullable=False, default=False),
    # One notification per change: a retried or re-committed chunk finds it already stored.
    UniqueConstraint("customer", "kind", "provider_id", "category", "block"),
)


# The customer's own words on a rating step (one text per booking; a later one replaces it).
# A table of its own rather than a column of profile_ratings: the text is written when the
# customer submits the rating form, before the rating is on-chain and indexed.
feedback_texts = Table(
    "profile_feedback_texts", profile_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _customer(),
    Column("booking_id", _BigUint, nullable=False),
    Column("text", Text, nullable=False),
    Column("written_at", _UtcDateTime, nullable=False),
    UniqueConstraint("customer", "booking_id"),
)


def create_profile_schema(engine: Engine) -> None:
    """Create the profile tables that do not exist yet (idempotent: an older database gains
    the tables added since, e.g. `profile_feedback_texts`, and keeps its rows)."""
    profile_metadata.create_all(engine)


class SqlProfileRepository:
    """A `ProfileRepository` on any SQLAlchemy engine (SQLite, PostgreSQL via psycopg 3)."""

    def __init__(self, engine: Engine) -> None:
        """Use `engine`; `create_profile_schema(engine)` must have run."""
        self._engine = engine

    def add_consent(self, record: ConsentRecord) -> None:
        """Record an opt-in."""
        self._insert(consents, _fields(record))

    def revoke_consent(self, customer: str, purpose: str, at: datetime) -> bool:
        """Mark the customer's active consents for `purpose` revoked; whether any was active."""
        statement = update(consents).where(
            consents.c.customer == customer, consents.c.purpose == purpose,
            consents.c.revoked_at.is_(None),
        ).values(revoked_at=at)
        with self._engine.begin() as conn:
            return conn.execute(statement).rowcount > 0

    def consents(self, customer: str) -> list[ConsentRecord]:
        """Every opt-in of the customer, oldest first."""
        return [ConsentRecord(**row) for row in self._rows(consents, customer)]

    def customers_with_consent(self, purpose: str) -> list[str]:
        """Every customer whose consent to `purpose` is active, sorted."""
        statement = (
            select(consents.c.customer).distinct()
            .where(consents.c.purpose == purpose, consents.c.revoked_at.is_(None))
            .order_by(consents.c.customer)
        )
        with self._engine.connect() as conn:
            return [str(customer) for (customer,) in conn.execute(statement)]

    def add_rating(self, record: RatingRecord) -> bool:
        """Store a rating; False (and nothing stored) if that booking's rating is already in."""
        return self._insert(ratings, _fields(record))

    def ratings(self, customer: str) -> list[RatingRecord]:
        """The customer's ratings in the order they were stored."""
        return [RatingRecord(**row) for row in self._rows(ratings, customer)]

    def add_choice(self, record: ChoiceRecord) -> None:
        """Store a choice."""
        self._insert(choices, _fields(record))

    def choices(self, customer: str) -> list[ChoiceRecord]:
        """The customer's choices in the order they were stored."""
        return [ChoiceRecord(**row) for row in self._rows(choices, customer)]

    def add_dismissal(self, record: Dismissal) -> None:
        """Remember a dismissed proposal (idempotent)."""
        self._insert(dismissals, {"customer": record.customer, "proposal_key": record.key,
                                  "dismissed_at": record.dismissed_at})

    def dismissals(self, customer: str) -> list[Dismissal]:
        """The customer's dismissed proposals."""
        return [Dismissal(row["customer"], row["proposal_key"], row["dismissed_at"])
                for row in self._rows(dismissals, customer)]

    def put_feedback_text(self, record: FeedbackText) -> None:
        """Store the customer's words about a booking, replacing any earlier text for it."""
        with self._engine.begin() as conn:  # replace in one transaction
            conn.execute(delete(feedback_texts).where(
                feedback_texts.c.customer == record.customer,
                feedback_texts.c.booking_id == record.booking_id))
            conn.execute(insert(feedback_texts).values(**_fields(record)))

    def feedback_texts(self, customer: str) -> list[FeedbackText]:
        """The customer's feedback texts in the order they were stored."""
        return [FeedbackText(**row) for row in self._rows(feedback_texts, customer)]

    def add_notification(self, record: Notification) -> bool:
        """Store a notification; False (nothing stored) if the same one is already in."""
        values = {k: v for k, v in vars(record).items() if k != "id"}
        return self._insert(notifications, values)

    def notifications(self, customer: str, *, offset: int = 0,
                      limit: int | None = None) -> list[Notification]:
        """The customer's notifications, newest first."""
        statement = (select(notifications).where(notifications.c.customer == customer)
                     .order_by(notifications.c.id.desc()).offset(offset).limit(limit))
        with self._engine.connect() as conn:
            return [Notification(**row) for row in conn.execute(statement).mappings()]

    def count_notifications(self, customer: str, *, unread: bool = False) -> int:
        """How many notifications the customer has (only unread ones if `unread`)."""
        statement = select(func.count()).select_from(notifications).where(
            notifications.c.customer == customer)
        if unread:
            statement = statement.where(notifications.c.read.is_(False))
        with self._engine.connect() as conn:
            return int(conn.execute(statement).scalar_one())

    def mark_read(self, customer: str, ids: list[int] | None = None) -> int:
        """Mark the customer's notifications `ids` (every one if None) read; how many changed."""
        statement = update(notifications).where(
            notifications.c.customer == customer, notifications.c.read.is_(False))
        if ids is not None:
            statement = statement.where(notifications.c.id.in_(ids))
        with self._engine.begin() as conn:
            return int(conn.execute(statement.values(read=True)).rowcount)

    def forget_learning(self, customer: str) -> None:
        """Delete every rating, choice, dismissal, feedback text and notification of the
        customer; keep consent records."""
        self._delete(customer, (ratings, choices, dismissals, feedback_texts, notifications))

    def erase(self, customer: str) -> None:
        """Delete everything about the customer, consent records included."""
        self._delete(customer, tuple(profile_metadata.sorted_tables))

    def _insert(self, table: Table, values: dict[str, Any]) -> bool:
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(table).values(**values))
        except IntegrityError:  # the unique key says it is already stored
            return False
        return True

    def _rows(self, table: Table, customer: str) -> list[dict[str, Any]]:
        statement = select(table).where(table.c.customer == customer).order_by(table.c.id)
        with self._engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
        return [{k: v for k, v in row.items() if k != "id"} for row in rows]

    def _delete(self, customer: str, tables: tuple[Table, ...]) -> None:
        with self._engine.begin() as conn:  # all or nothing
            for table in tables:
                conn.execute(delete(table).where(table.c.customer == customer))


def _fields(
    record: ConsentRecord | RatingRecord | ChoiceRecord | FeedbackText,
) -> dict[str, Any]:
    return dict(vars(record))
