"""Integration fixtures: a fresh anvil with the marketplace deployed, per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from marketplace.chain.anvil import Anvil, start_anvil
from marketplace.chain.connection import connect
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from marketplace.chain.market import Market


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    anvil = start_anvil(accounts=20)
    yield anvil
    anvil.stop()


@pytest.fixture(scope="module")
def w3(node: Anvil) -> Web3:
    return connect(node.url)


@pytest.fixture(scope="module")
def market(w3: Web3) -> Market:
    deployed, _ = deploy_marketplace(w3, DeployParams(min_stake=10**15), record=False)
    return deployed
