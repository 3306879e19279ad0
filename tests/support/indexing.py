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
def running_chain(params: DeployParams | None = None, **anvil_options: Any) -> Iterator[Chain]:
    """A fresh anvil with the marketplace deployed (`params`, default a 0.001 ETH minimum
    stake), stopped afterwards."""
    node = start_anvil(**anvil_options)
    chain: Chain | None = None
    try:
        w3 = connect(node.url)
        market, deployment = deploy_marketplace(
            w3, params or DeployParams(min_stake=10**15), record=False
        )
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


def _named(market: Market, function: str, *args: Any) -> dict[str, Any]:
    """A view's struct (or multiple return values) by component name."""
    value = market.call(function, *args)
    entries: list[dict[str, Any]] = [dict(f) for f in market.contract.abi]
    abi = next(f for f in entries if f.get("type") == "function" and f.get("name") == function)
    outputs: list[dict[str, Any]] = abi["outputs"]
    if len(outputs) == 1 and outputs[0]["type"] == "tuple":
        names = [c["name"] for c in outputs[0]["components"]]
    else:
        names = [o["name"] for o in outputs]
        value = value if isinstance(value, (list, tuple)) else (value,)
    return dict(zip(names, value, strict=True))


_LISTING_COLUMNS = {
    "owner": "owner", "offerVersion": "offer_version", "lockedUntil": "locked_until",
    "completed": "completed", "failures": "failures", "price": "price",
    "attributes": "attributes", "category": "category", "region": "region",
    "currency": "currency", "active": "active", "instant": "instant",
    "freeCancelHours": "free_cancel_hours", "lateCancelPct": "late_cancel_pct",
    "ratingWeight": "rating_weight", "weightedStars": "weighted_stars", "stake": "stake",
    "metadataHash": "metadata_hash",
}
_BOOKING_COLUMNS = {
    "price": "price", "fee": "fee", "deadline": "deadline", "status": "status",
    "rated": "rated", "currency": "currency", "arbiterId": "arbiter_id",
    "freeCancelHours": "free_cancel_hours", "lateCancelPct": "late_cancel_pct",
}
_CRITERIA_COLUMNS = {
    "maxPrice": "max_price", "premiumPerStar": "premium_per_star", "minScore": "min_score",
    "region": "region", "currency": "currency", "version": "version",
    "requiredAttributes": "required_attributes", "refusedAttributes": "refused_attributes",
    "verifiedAttributes": "verified_attributes", "trustedAttestors": "trusted_attestors",
    "minReliability": "min_reliability", "minRatingWeight": "min_rating_weight",
    "blockedCount": "blocked_count", "scoreWeight": "score_weight",
    "priceWeight": "price_weight",
}


_BALANCE_OF: list[dict[str, Any]] = [{
    "type": "function", "name": "balanceOf", "stateMutability": "view",
    "inputs": [{"name": "account", "type": "address"}],
    "outputs": [{"name": "", "type": "uint256"}],
}]


def _normal(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    return value


def _same(what: str, row: dict[str, Any], view: dict[str, Any], columns: dict[str, str]) -> None:
    """Every view field the store has a column for is equal."""
    for name, column in columns.items():
        if name in view:
            assert row[column] == _normal(view[name]), (what, name, row[column], view[name])


def assert_projections_match_contract(chain: Chain, url: str) -> None:
    """Every projection row equals what the contract's views say now."""
    market, w3 = chain.market, chain.w3
    engine = open_engine(url)
    with engine.connect() as conn:
        providers = queries.list_providers(conn)
        bookings = queries.bookings_of(conn)
        criteria = [dict(r) for r in conn.execute(select(schema.criteria)).mappings()]
        blocks = [dict(r) for r in conn.execute(select(schema.criteria_blocks)).mappings()]
        owner_blocks = [dict(r) for r in conn.execute(select(schema.owner_blocks)).mappings()]
        attestations = [dict(r) for r in conn.execute(select(schema.attestations)).mappings()]
        balances = [dict(r) for r in conn.execute(select(schema.balances)).mappings()]
        ledgers = queries.ledgers(conn)
        settings = queries.market_settings(conn)
        currencies = queries.currencies(conn)
        arbiters = queries.arbiters(conn)
        attestors = queries.attestors(conn)
        owners = [dict(r) for r in conn.execute(select(schema.owners)).mappings()]
    engine.dispose()

    assert len(providers) == market.call("providerCount")
    for p in providers:
        _same(f"listing {p['provider_id']}", p, _named(market, "getListing", p["provider_id"]),
              _LISTING_COLUMNS)
        assert p["score"] == market.call("scoreOf", p["provider_id"])
        assert p["reliability"] == market.call("reliabilityOf", p["provider_id"])
    for a in attestations:
        assert a["attributes"] == market.call("attestationOf", a["provider_id"], a["attestor_id"])
    for owner in owners:  # the sums of its listings
        own = [p for p in providers if p["owner"] == owner["owner"]]
        assert owner["listings"] == len(own)
        for name in ("rating_weight", "weighted_stars", "completed", "failures", "stake"):
            assert owner[name] == sum(p[name] for p in own), (owner["owner"], name)

    for b in bookings:
        _same(f"booking {b['booking_id']}", b, _named(market, "getBooking", b["booking_id"]),
              _BOOKING_COLUMNS)

    for c in criteria:
        customer = w3.to_checksum_address(c["customer"])
        _same(f"criteria {customer}", c, _named(market, "getCriteria", customer, c["category"]),
              _CRITERIA_COLUMNS)
    for blocked in blocks:
        customer = w3.to_checksum_address(blocked["customer"])
        assert market.call("isBlocked", customer, blocked["provider_id"])
    for blocked in owner_blocks:
        customer = w3.to_checksum_address(blocked["customer"])
        assert market.call("isOwnerBlocked", customer, w3.to_checksum_address(blocked["owner"]))

    for balance in balances:
        account = w3.to_checksum_address(balance["account"])
        assert balance["credit"] == market.call("creditOf", account, balance["currency"])
    for ledger in ledgers:
        currency = ledger["currency"]
        assert ledger["accrued_fees"] == market.call("accruedFees", currency)
        mine = [b for b in bookings if b["currency"] == currency]
        held = [b for b in mine if Status(b["status"]).holds_escrow]
        assert ledger["open_bookings"] == len(held)
        assert ledger["escrow"] == sum(b["price"] for b in held)
        if currency == 0:
            assert ledger["expected_balance"] == w3.eth.get_balance(market.address)
        else:
            token, _, _ = market.call("currency", currency)
            erc20 = w3.eth.contract(address=token, abi=_BALANCE_OF)
            assert ledger["expected_balance"] == erc20.functions.balanceOf(market.address).call()
        assert ledger["bonds"] == sum(
            b["bond"] or 0 for b in bookings if Status(b["status"]) == Status.DISPUTED)

    assert settings is not None
    assert settings["fee_bps"] == market.call("feeRate")
    assert settings["min_stake"] == market.call("minStake")
    assert settings["dispute_bond"] == market.call("disputeBond")
    assert settings["paused"] == market.call("paused")
    assert settings["owner"] == market.call("owner").lower()
    assert settings["default_arbiter_id"] == market.call("defaultArbiter")
    for currency in currencies:
        token, enabled, min_fee = market.call("currency", currency["currency"])
        assert (currency["token"], currency["enabled"], currency["min_fee"]) == (
            token.lower(), enabled, min_fee)
    for arbiter in arbiters:
        account, allowed = market.call("arbiter", arbiter["arbiter_id"])
        assert (arbiter["arbiter"], arbiter["allowed"]) == (account.lower(), allowed)
    for attestor in attestors:
        account, allowed = market.call("attestor", attestor["attestor_id"])
        assert (attestor["attestor"], attestor["allowed"]) == (account.lower(), allowed)
