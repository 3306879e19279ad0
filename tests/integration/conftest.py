"""Integration fixtures: anvil with the marketplace deployed; stores on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from marketplace.chain.anvil import Anvil, start_anvil
from marketplace.chain.connection import connected
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from marketplace.chain.market import Market
from tests.support.indexing import BACKENDS, Chain, StoreFactory, running_chain, store_factory


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    anvil = start_anvil(accounts=20)
    yield anvil
    anvil.stop()


@pytest.fixture(scope="module")
def w3(node: Anvil) -> Iterator[Web3]:
    with connected(node.url) as client:
        yield client


@pytest.fixture(scope="module")
def market(w3: Web3) -> Market:
    deployed, _ = deploy_marketplace(w3, DeployParams(min_stake=10**15), record=False)
    return deployed


@pytest.fixture(params=BACKENDS)
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of empty stores, once per backend (SQLite, PostgreSQL)."""
    with store_factory(request.param, tmp_path) as make:
        yield make


@pytest.fixture
def chain() -> Iterator[Chain]:
    """A fresh anvil with the marketplace deployed and a workload generator."""
    with running_chain(accounts=4) as running:
        yield running
