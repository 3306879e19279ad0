"""The SQL peer of the matching benchmark (bench/matching_sql.py) implements our rule and ranking:
on a small random set it returns the same top 20 as `rank`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, create_engine

from bench.matching import broad, index_of, narrow, signals, synthetic
from bench.matching_sql import load, postgres_engine, top_k
from marketplace.matching.eligibility import CriteriaView
from marketplace.matching.ranking import rank

N = 3_000


def _criteria(rng: random.Random) -> Iterator[CriteriaView]:
    for _ in range(40):
        yield broad(rng)
        yield narrow(rng)
        yield signals(rng)
        yield replace(broad(rng), currency=1, region=rng.randint(0, 5),
                      blocked=frozenset(rng.sample(range(1, N + 1), 200)),
                      min_score=rng.choice([0, 50_000]), premium_per_star=rng.randint(0, 30_001))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield create_engine("sqlite://")
        return
    with postgres_engine() as found:
        if found is None:
            pytest.skip("no PostgreSQL server answers")
        yield found


def test_sql_returns_the_same_top_20_as_rank(engine: Engine) -> None:
    columns, attestations = synthetic(N, 5)
    index = index_of(columns, attestations)
    load(engine, columns, attestations)
    rng = random.Random(3)
    compared = eligible = 0
    with engine.connect() as conn:
        for criteria in _criteria(rng):
            ours = rank(index, criteria, k=20)
            theirs = top_k(conn, criteria, 20)
            assert [m.provider_id for m in ours.matches] == [pid for pid, _ in theirs], criteria
            for match, (_, value) in zip(ours.matches, theirs, strict=True):
                assert match.utility == pytest.approx(value, rel=1e-12, abs=1e-15)
            compared += 1
            eligible += bool(ours.matches)
    assert compared == 160 and eligible > 100
