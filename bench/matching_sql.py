"""The peer of our matcher (issue 16): the same eligibility rule and ranking as one SQL query.

What most marketplaces do: the listings in a table with the indexes a competent engineer would
add, one query per search that filters by the customer's criteria and orders by the utility.
The rule is `marketplace.domain.first_failed_criterion`'s, in SQL: active, category, currency,
region, blocked listings and owners, required/refused attributes, attributes verified by a
trusted, still-named attestor, minimum score, track record (rating weight), reliability and the
score-adjusted price ceiling (integer arithmetic, exact: `premium * (score - min) // 10,000` is
split as `(premium // 10,000) * d + (premium % 10,000) * d // 10,000` so every product fits a
64-bit integer for premiums up to 1.8 ether per star). The ranking is
`marketplace.matching.ranking.utility` in double precision (the same IEEE operations), ties by
provider id. Score and reliability are stored columns, as the indexer's store keeps them.

The same query runs on PostgreSQL and SQLite. Used by bench/matching.py (`speedup_vs_postgres_1m`,
`speedup_vs_sqlite_100k`) and checked against `rank` by tests/unit/test_bench_matching_sql.py.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, text

from marketplace.domain import MAX_SCORE, STAR, attestor_ids
from marketplace.matching.eligibility import CriteriaView

PRIOR_WEIGHT = 20_000
PRIOR_SCORE = 35_000

DDL = [
    "DROP TABLE IF EXISTS bench_attestations",
    "DROP TABLE IF EXISTS bench_attestors",
    "DROP TABLE IF EXISTS bench_listings",
    """CREATE TABLE bench_listings (
        provider_id BIGINT PRIMARY KEY,
        owner VARCHAR(42) NOT NULL,
        category SMALLINT NOT NULL,
        region SMALLINT NOT NULL,
        attributes BIGINT NOT NULL,
        currency SMALLINT NOT NULL,
        price BIGINT NOT NULL,
        active BOOLEAN NOT NULL,
        rating_weight BIGINT NOT NULL,
        score INTEGER NOT NULL,
        reliability INTEGER NOT NULL
    )""",
    """CREATE TABLE bench_attestors (
        attestor INTEGER PRIMARY KEY,
        named BOOLEAN NOT NULL
    )""",
    """CREATE TABLE bench_attestations (
        provider_id BIGINT NOT NULL,
        attestor INTEGER NOT NULL,
        bits BIGINT NOT NULL,
        PRIMARY KEY (provider_id, attestor)
    )""",
]

# What a competent engineer adds for this query: a partial index on the equality filters of
# every search with the score (range filter and ranking input), one with the price (ceiling),
# one on owners (blocked owners), then statistics for the planner.
INDEXES = [
    "CREATE INDEX bench_listings_search ON bench_listings "
    "(category, currency, region, score) WHERE active",
    "CREATE INDEX bench_listings_price ON bench_listings (category, currency, price) WHERE active",
    "CREATE INDEX bench_listings_owner ON bench_listings (owner)",
]


def derived(columns: dict[str, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(score, reliability) of every listing, as `marketplace.domain` computes them."""
    weight = np.asarray(columns["rating_weight"], np.int64)
    stars = np.asarray(columns["weighted_stars"], np.int64)
    score = (PRIOR_WEIGHT * PRIOR_SCORE + stars * STAR) // (PRIOR_WEIGHT + weight)
    completed = np.asarray(columns["completed"], np.int64)
    failures = np.asarray(columns["failures"], np.int64)
    reliability = (completed + 9) * 10_000 // (completed + failures + 10)
    return score, reliability


def load(engine: Engine, columns: dict[str, Any], attestations: dict[int, dict[int, int]]) -> None:
    """Create the tables, fill them with `columns` (ProviderIndex.from_columns' keywords) and the
    attestations ({attestor: {provider id: bits}}, every attestor named), add the indexes."""
    score, reliability = derived(columns)
    rows = zip(
        np.asarray(columns["provider_id"]).tolist(),
        list(columns["owner"]),
        np.asarray(columns["category"]).tolist(),
        np.asarray(columns["region"]).tolist(),
        np.asarray(columns["attributes"]).astype(np.int64).tolist(),
        np.asarray(columns["currency"]).tolist(),
        np.asarray(columns["price"]).tolist(),
        np.asarray(columns["active"]).astype(bool).tolist(),
        np.asarray(columns["rating_weight"]).tolist(),
        score.tolist(),
        reliability.tolist(),
        strict=True,
    )
    attested = [(pid, a, bits) for a, by in attestations.items() for pid, bits in by.items()]
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        for statement in DDL:
            conn.execute(text(statement))
        if postgres:
            _copy(conn, "bench_listings", rows)
            _copy(conn, "bench_attestations", attested)
        else:
            conn.exec_driver_sql(
                "INSERT INTO bench_listings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(rows))
            conn.exec_driver_sql("INSERT INTO bench_attestations VALUES (?, ?, ?)", attested)
        conn.execute(
            text("INSERT INTO bench_attestors VALUES (:a, :named)"),
            [{"a": a, "named": True} for a in attestations],
        )
        for statement in INDEXES:
            conn.execute(text(statement))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))


def _copy(conn: Connection, table: str, rows: Any) -> None:
    """COPY rows into a PostgreSQL table (psycopg 3), the fast bulk path."""
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} FROM STDIN") as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_field(v) for v in row))
            buffer.write("\n")
            if buffer.tell() > 1 << 20:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def _field(value: Any) -> str:
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def match_query(criteria: CriteriaView, k: int = 20) -> tuple[str, dict[str, Any]]:
    """One SQL query for the top `k` under `criteria` (no affinity): (sql, parameters)."""
    m = criteria.min_score
    premium = criteria.premium_per_star
    sw, pw = criteria.score_weight, criteria.price_weight
    if sw == 0 and pw == 0:
        sw = pw = 1
    params: dict[str, Any] = {
        "category": criteria.category, "currency": criteria.currency, "m": m,
        "max_price": criteria.max_price, "p_hi": premium // STAR, "p_lo": premium % STAR,
        "premium": float(premium), "max_price_f": float(criteria.max_price),
        "min_weight": criteria.min_rating_weight, "min_reliability": criteria.min_reliability,
        "sw": float(sw), "pw": float(pw), "k": k,
    }
    where = [
        "p.active", "p.category = :category", "p.currency = :currency",
        "p.score >= :m", "p.rating_weight >= :min_weight", "p.reliability >= :min_reliability",
        "p.price <= :max_price + :p_hi * (p.score - :m) + (:p_lo * (p.score - :m)) / 10000",
    ]
    if criteria.region:
        where.append("p.region = :region")
        params["region"] = criteria.region
    if criteria.required_attributes:
        where.append("(p.attributes & :required) = :required")
        params["required"] = criteria.required_attributes
    if criteria.refused_attributes:
        where.append("(p.attributes & :refused) = 0")
        params["refused"] = criteria.refused_attributes
    if criteria.blocked:
        names = [f":blocked{i}" for i in range(len(criteria.blocked))]
        where.append(f"p.provider_id NOT IN ({', '.join(names)})")
        params.update({n[1:]: pid for n, pid in zip(names, sorted(criteria.blocked), strict=True)})
    if criteria.blocked_owners:
        names = [f":owner{i}" for i in range(len(criteria.blocked_owners))]
        where.append(f"p.owner NOT IN ({', '.join(names)})")
        owners = sorted(o.lower() for o in criteria.blocked_owners)
        params.update({n[1:]: o for n, o in zip(names, owners, strict=True)})
    trusted = attestor_ids(criteria.trusted_attestors)
    wanted = criteria.verified_attributes
    bit = 0
    while wanted >> bit:
        if wanted >> bit & 1:
            if not trusted:
                where.append("1 = 0")
                break
            params[f"vbit{bit}"] = 1 << bit
            trusted_list = ", ".join(str(a) for a in trusted)
            where.append(
                f"(p.attributes & :vbit{bit}) <> 0 AND EXISTS (SELECT 1 FROM bench_attestations a"
                " JOIN bench_attestors t ON t.attestor = a.attestor AND t.named"
                f" WHERE a.provider_id = p.provider_id AND a.attestor IN ({trusted_list})"
                f" AND (a.bits & :vbit{bit}) <> 0)"
            )
        bit += 1
    score_term = (
        "1.0" if m >= MAX_SCORE
        else f"CAST(p.score - :m AS DOUBLE PRECISION) / {float(MAX_SCORE - m)!r}"
    )
    ceiling = (
        ":max_price_f + :premium * (CAST(p.score - :m AS DOUBLE PRECISION) / 10000.0)"
    )
    price_term = (
        f"CASE WHEN {ceiling} > 0.0 THEN "
        f"(CASE WHEN 1.0 - CAST(p.price AS DOUBLE PRECISION) / ({ceiling}) > 0.0 "
        f"THEN 1.0 - CAST(p.price AS DOUBLE PRECISION) / ({ceiling}) ELSE 0.0 END) ELSE 1.0 END"
    )
    sql = (
        f"SELECT p.provider_id, (:sw * ({score_term}) + :pw * ({price_term})) / (:sw + :pw)"
        f" AS utility FROM bench_listings p WHERE {' AND '.join(where)}"
        " ORDER BY utility DESC, p.provider_id ASC LIMIT :k"
    )
    return sql, params


def top_k(conn: Connection, criteria: CriteriaView, k: int = 20) -> list[tuple[int, float]]:
    """Run `match_query`: [(provider id, utility)] best first."""
    sql, params = match_query(criteria, k)
    return [(int(r[0]), float(r[1])) for r in conn.execute(text(sql), params)]


POSTGRES_URL = os.environ.get(
    "MARKETPLACE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def postgres_engine() -> Iterator[Engine | None]:
    """An engine on a fresh schema of the benchmark PostgreSQL server (dropped afterwards), or
    None when no server answers."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    schema = f"bench_match_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        yield None
        return
    engine = create_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
