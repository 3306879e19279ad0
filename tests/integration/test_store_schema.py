"""The store's schema on SQLite and PostgreSQL: creation, exact big integers, upserts, the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from marketplace.cli.db import db
from marketplace.indexer.state import upsert
from marketplace.store import schema
from marketplace.store.engine import StoreError, check_schema, init_db, open_engine
from tests.support.indexing import BACKENDS, StoreFactory, store_factory


@pytest.fixture(params=BACKENDS)
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    with store_factory(request.param, tmp_path) as make:
        yield make


def _balance(account: str, credit: int, currency: int = 0) -> dict[str, object]:
    return {"account": account, "currency": currency, "credit": credit,
            "credited_total": credit, "withdrawn_total": 0}


def test_amounts_up_to_two_to_the_256_round_trip_exactly_and_sort_as_numbers(
    new_store: StoreFactory,
) -> None:
    engine = open_engine(new_store())
    amounts = [2**256 - 1, 0, 10**18, 2**96 - 1, 9, 10]
    with engine.begin() as conn:
        conn.execute(insert(schema.balances),
                     [_balance(f"0x{i:040x}", a) for i, a in enumerate(amounts)])
    with engine.connect() as conn:
        stored = conn.execute(
            select(schema.balances.c.credit).order_by(schema.balances.c.credit)
        ).scalars().all()
        big = conn.execute(
            select(schema.balances.c.account).where(schema.balances.c.credit > 2**200)
        ).scalars().all()
    engine.dispose()
    assert stored == sorted(amounts)
    assert all(type(v) is int for v in stored)
    assert big == ["0x" + "0" * 40]


def test_an_upsert_replaces_the_row_with_the_same_key(new_store: StoreFactory) -> None:
    engine = open_engine(new_store())
    with engine.begin() as conn:
        upsert(conn, schema.balances, [_balance("0xaa", 1), _balance("0xbb", 2)])
        upsert(conn, schema.balances, [_balance("0xaa", 2**255)])
        upsert(conn, schema.balances, [_balance("0xaa", 7, currency=1)])
    with engine.connect() as conn:
        rows = {
            (a, c): v
            for a, c, v in conn.execute(
                select(schema.balances.c.account, schema.balances.c.currency,
                       schema.balances.c.credit)
            ).all()
        }
    engine.dispose()
    assert rows == {("0xaa", 0): 2**255, ("0xbb", 0): 2, ("0xaa", 1): 7}


def test_a_store_of_the_older_contract_version_must_be_reset(new_store: StoreFactory) -> None:
    engine = open_engine(new_store())
    with engine.begin() as conn:
        schema.bookings.drop(conn)
        old = MetaData()
        Table("bookings", old, Column("booking_id", Integer, primary_key=True),
              Column("seq", Integer))
        old.create_all(conn)

    with pytest.raises(StoreError, match=r"older layout: bookings \(lacks .*init --reset"):
        check_schema(engine)
    with pytest.raises(StoreError, match="older layout"):
        init_db(engine)
    init_db(engine, reset=True)
    check_schema(engine)
    engine.dispose()


def test_init_is_idempotent_and_reset_drops_only_the_stores_own_tables(
    new_store: StoreFactory,
) -> None:
    engine = open_engine(new_store())
    other = MetaData()
    profile = Table("profile_consent", other, Column("id", Integer, primary_key=True))
    other.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(profile).values(id=1))
        upsert(conn, schema.balances, [_balance("0xaa", 1)])

    init_db(engine)
    with engine.connect() as conn:
        assert conn.execute(select(schema.balances)).all()
    init_db(engine, reset=True)

    check_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(select(schema.balances)).all() == []
        assert conn.execute(select(profile)).all() == [(1,)]
    engine.dispose()


def test_a_store_without_the_schema_is_reported_with_the_command_that_fixes_it(
    tmp_path: Path,
) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")

    with pytest.raises(StoreError, match="run `marketplace db init`"):
        check_schema(engine)


def test_an_unsupported_database_url_is_refused_clearly() -> None:
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        open_engine("mysql://u@h/db")


def test_db_init_creates_the_tables_and_db_status_reports_an_empty_store(
    new_store: StoreFactory,
) -> None:
    url = new_store()
    runner = CliRunner()

    init = runner.invoke(db, ["init", "--database", url])
    status = runner.invoke(db, ["status", "--database", url])

    assert init.exit_code == 0, init.output
    assert "initialised" in init.output and "tables" in init.output
    assert status.exit_code == 0, status.output
    assert "nothing yet" in status.output


def test_db_init_and_index_have_help() -> None:
    runner = CliRunner()
    from marketplace.cli.index import index

    for command, args in ((db, ["init", "--help"]), (db, ["--help"]), (index, ["--help"])):
        result = runner.invoke(command, args)
        assert result.exit_code == 0
        assert "Usage:" in result.output
    assert "--follow" in runner.invoke(index, ["--help"]).output
    assert "--reset" in runner.invoke(db, ["init", "--help"]).output
