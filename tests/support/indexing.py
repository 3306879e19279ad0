"""A chain to index, stores on both backends, and store/contract comparisons, for the store,
indexer and transaction integration tests.

Stores: every test runs on SQLite and on PostgreSQL. Each PostgreSQL store is a fresh schema
(`mkt_<pid>_<random>`) in the server's `test` database, dropped afterwards, so parallel runs never
collide. The server is `$MARKETPLACE_TEST_POSTGRES_URL` (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); when it is unreachable the PostgreSQL cases
skip, except under `CI=true`, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError
from web3 import Web3

from marketplace.chain.anvil import Anvil, start_anvil
from marketplace.chain.connection import connect, disconnect
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from marketplace.chain.deployment import Deployment
from marketplace.chain.market import Market
from marketplace.chain.rpc import RpcClient
from marketplace.domain import Status
from marketplace.indexer import Indexer, Target, marketplace_decoder
from marketplace.store import queries, schema
from marketplace.store.engine import init_db, open_engine
from tests.support.indexer_workload import Workload, deploy_workload

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get(
    "MARKETPLACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]

StoreFactory = Callable[[], str]


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except OperationalError as exc:
        return str(exc).splitlines()[0]


@contextmanager
def store_factory(backend: str, tmp_path: Path) -> Iterator[StoreFactory]:
    """Yields a function that makes a new, empty, initialised store URL of `backend`."""
    made: list[str] = []
    if backend == "postgresql":
        problem = _postgres_reachable()
        if problem is not None:
            message = f"PostgreSQL unreachable at {POSTGRES_URL}: {problem}"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message)
            pytest.skip(message)
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)

        def make() -> str:
            schema = f"mkt_{os.getpid()}_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            made.append(schema)
            separator = "&" if "?" in POSTGRES_URL else "?"
            url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
            _initialise(url)
            return url

        try:
            yield make
        finally:
            with admin.connect() as conn:
                for schema in made:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    else:

        def make() -> str:
            url = f"sqlite:///{tmp_path / f'store-{uuid.uuid4().hex[:10]}.sqlite'}"
            _initialise(url)
            return url

        yield make


def _initialise(url: str) -> None:
    engine = open_engine(url)
    init_db(engine)
    engine.dispose()


@dataclass
class Chain:
    """A running anvil with the marketplace deployed."""

    node: Anvil
    w3: Web3
    deployment: Deployment
    market: Market
    client: RpcClient
    # Indexers `make_indexer` built on this chain: closed with it, so no test leaks their
    # node sockets or store connections to the garbage collector.
    indexers: list[Indexer] = field(default_factory=list)

    @property
    def operator(self) -> str:
        """The deployer, owner of the marketplace."""
        return str(self.w3.eth.accounts[0])

    def workload(self, pumps: int = 2, rounds_per_tx: int = 20) -> Workload:
        """Pumps that generate activity on this chain."""
        return deploy_workload(
            self.market, self.operator, pumps=pumps, rounds_per_tx=rounds_per_tx
        )

    @property
    def target(self) -> Target:
        """What the indexer indexes."""
        d = self.deployment
        return Target(d.chain_id, d.address, d.start_block)

    def rpc(self, method: str, *params: Any) -> Any:
        """A raw JSON-RPC call to the node."""
        return self.client.call(method, params)

    def mine(self, blocks: int = 1) -> None:
        """Mine empty blocks."""
        for _ in range(blocks):
            self.rpc("evm_mine")

    def head(self) -> int:
        """The node's latest block number."""
        return int(self.rpc("eth_blockNumber"), 16)


@contextmanager
def running_chain(**anvil_options: Any) -> Iterator[Chain]:
    """A fresh anvil with the marketplace deployed, stopped afterwards."""
    node = start_anvil(**anvil_options)
    chain: Chain | None = None
    try:
        w3 = connect(node.url)
        market, deployment = deploy_marketplace(w3, DeployParams(min_stake=10**15), record=False)
        chain = Chain(node, w3, deployment, market, RpcClient(node.url))
        yield chain
    finally:
        if chain is not None:
            for indexer in chain.indexers:
                indexer.close()
            chain.client.close()
            disconnect(chain.w3)
        node.stop()


def make_indexer(chain: Chain, url: str, rpc_url: str | None = None, **options: Any) -> Indexer:
    """An Indexer of `chain` into the store at `url`, with test-friendly defaults."""
    options.setdefault("retry_for", 5.0)
    indexer = Indexer(
        open_engine(url),
        RpcClient(rpc_url or chain.node.url, timeout=60.0),
        marketplace_decoder(),
        chain.target,
        **options,
    )
    chain.indexers.append(indexer)
    return indexer


def dump_store(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every chain-derived table of the store, sorted, for equality checks."""
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return queries.dump(conn)
    finally:
        engine.dispose()


def fresh_index(chain: Chain, new_store: StoreFactory, **options: Any) -> dict[str, Any]:
    """Index the whole chain into a new store from scratch and dump it."""
    url = new_store()
    indexer = make_indexer(chain, url, **options)
    indexer.sync()
    indexer.close()
    return dump_store(url)


def assert_same_store(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal table by table, with a readable first difference."""
    assert actual.keys() == expected.keys()
    for table in expected:
        a, e = actual[table], expected[table]
        if a != e:
            missing = [r for r in e if r not in a][:3]
            extra = [r for r in a if r not in e][:3]
            pytest.fail(
                f"table {table} differs: {len(a)} rows vs {len(e)} expected; "
                f"missing {missing}; unexpected {extra}"
            )


def assert_projections_match_contract(chain: Chain, url: str) -> None:
    """Every projection row equals what the contract's views say now."""
    market = chain.market
    engine = open_engine(url)
    with engine.connect() as conn:
        providers = queries.list_providers(conn)
        bookings = queries.bookings_of(conn)
        criteria = [dict(r) for r in conn.execute(select(schema.criteria)).mappings()]
        blocks = [dict(r) for r in conn.execute(select(schema.criteria_blocks)).mappings()]
        balances = [dict(r) for r in conn.execute(select(schema.balances)).mappings()]
        totals = queries.ledger_totals(conn)
        settings = queries.market_settings(conn)
        arbiters = [dict(r) for r in conn.execute(select(schema.arbiters)).mappings()]
    engine.dispose()

    assert len(providers) == market.call("providerCount")
    for p in providers:
        (owner, stake, price, attributes, category, region, active, count, total, meta, unlock,
         lost) = market.call("getProvider", p["provider_id"])
        assert (p["owner"], p["stake"], p["price"], p["attributes"]) == (
            owner.lower(), stake, price, attributes)
        assert (p["category"], p["region"], p["active"], p["metadata_hash"]) == (
            category, region, active, "0x" + meta.hex())
        assert (p["score_count"], p["score_sum"], p["stake_unlock_at"], p["disputes_lost"]) == (
            count, total, unlock, lost)
        assert p["score"] == market.call("scoreOf", p["provider_id"])

    customers = {b["customer"] for b in bookings}
    assert len(bookings) == sum(
        market.call("bookingCountOf", chain.w3.to_checksum_address(c)) for c in customers
    )
    for b in bookings:
        provider_id, price, fee_bps, status, deadline, version, rated = market.call(
            "getBooking", b["booking_id"]
        )
        assert (b["provider_id"], b["price"], b["fee_bps"], b["status"]) == (
            provider_id, price, fee_bps, status)
        assert (b["deadline"], b["criteria_version"], b["rated"]) == (deadline, version, rated)

    for c in criteria:
        customer = chain.w3.to_checksum_address(c["customer"])
        (max_price, premium, min_score, region, score_w, price_w, required, refused, version,
         blocked_count) = market.call("getCriteria", customer, c["category"])
        assert (c["max_price"], c["premium_per_star"], c["min_score"], c["region"]) == (
            max_price, premium, min_score, region)
        assert (c["score_weight"], c["price_weight"], c["required_attributes"]) == (
            score_w, price_w, required)
        assert (c["refused_attributes"], c["version"], c["blocked_count"]) == (
            refused, version, blocked_count)
    for blocked in blocks:
        customer = chain.w3.to_checksum_address(blocked["customer"])
        assert market.call("isBlocked", customer, blocked["provider_id"])

    for balance in balances:
        account = chain.w3.to_checksum_address(balance["account"])
        assert balance["credit"] == market.call("creditOf", account)
    assert totals["accrued_fees"] == market.call("accruedFees")
    assert totals["expected_balance"] == chain.w3.eth.get_balance(chain.market.address)
    open_count = sum(1 for b in bookings if Status(b["status"]).holds_escrow)
    assert totals["open_bookings"] == open_count
    assert totals["escrow"] == sum(b["price"] for b in bookings if Status(b["status"]).holds_escrow)

    assert settings is not None
    assert settings["fee_bps"] == market.call("feeRate")
    assert settings["min_stake"] == market.call("minStake")
    assert settings["paused"] == market.call("paused")
    assert settings["owner"] == market.call("owner").lower()
    for arbiter in arbiters:
        account = chain.w3.to_checksum_address(arbiter["arbiter"])
        assert arbiter["allowed"] == market.call("isArbiter", account)
