"""Fixtures of the Marketplace contract behaviour tests.

One anvil per session on a free port, one deployment per session, and every test runs between an
`evm_snapshot` and an `evm_revert`, so no test sees another's state. Accounts are named by role.
`market` is the deployed contract wrapped in `MarketDriver` (tests/support/market_driver.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, Wei

from marketplace.chain.anvil import Anvil, start_anvil
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from tests.support.market_driver import FEE_BPS, GAS_PRICE, MIN_STAKE, WINDOWS, MarketDriver

# ---------------------------------------------------------------------- session


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[Anvil]:
    """A fresh anvil on a free port for the whole session."""
    node = start_anvil()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def w3(anvil_node: Anvil) -> Iterator[Web3]:
    """Web3 on the session's anvil: chain id cached (asked for on every transaction), and no
    proxy lookup in the environment on every request."""
    session = requests.Session()
    session.trust_env = False
    # Only the chain id: block-keyed caches would go stale across evm_revert.
    provider = HTTPProvider(
        anvil_node.url,
        session=session,
        cache_allowed_requests=True,
        cacheable_requests={RPCEndpoint("eth_chainId")},
    )
    w3 = Web3(provider)
    # A fixed legacy gas price saves two fee look-ups per web3-sent transaction.
    w3.eth.set_gas_price_strategy(lambda _w3, _tx: Wei(GAS_PRICE))
    yield w3
    session.close()  # its keep-alive sockets, before the collector finds them


@pytest.fixture(scope="session")
def roles(w3: Web3) -> dict[str, str]:
    """anvil's dev accounts by role."""
    names = (
        "owner",
        "provider",
        "customer",
        "other_customer",
        "arbiter",
        "stranger",
        "other_provider",
        "treasury",
    )
    return dict(zip(names, w3.eth.accounts, strict=False))


@pytest.fixture(scope="session")
def deploy_params(roles: dict[str, str]) -> DeployParams:
    """The constructor parameters of the session's deployment."""
    return DeployParams(
        fee_bps=FEE_BPS,
        min_stake=MIN_STAKE,
        respond_window=WINDOWS["respond"],
        service_window=WINDOWS["service"],
        confirm_window=WINDOWS["confirm"],
        arbitration_window=WINDOWS["arbitration"],
        stake_cooldown=WINDOWS["stakeCooldown"],
        owner=roles["owner"],
    )


@pytest.fixture(scope="session")
def deployed(w3: Web3, roles: dict[str, str], deploy_params: DeployParams) -> MarketDriver:
    """The contract, deployed once by `owner`, with `arbiter` on the arbiter allowlist."""
    market, deployment = deploy_marketplace(
        w3, deploy_params, deployer=roles["owner"], record=False
    )
    driver = MarketDriver(w3, deployment.address, market.abi, roles)
    driver.transact("setArbiter", roles["arbiter"], True, sender=roles["owner"])
    return driver


# ---------------------------------------------------------------------- per test


@pytest.fixture(autouse=True)
def _isolation(deployed: MarketDriver) -> Iterator[None]:
    """Run each test inside a snapshot: whatever it does to the chain is undone afterwards."""
    known = list(deployed.known_accounts)
    snapshot = deployed.rpc("evm_snapshot")
    yield
    assert deployed.rpc("evm_revert", [snapshot]) is True
    deployed.known_accounts[:] = known


@pytest.fixture
def market(deployed: MarketDriver) -> MarketDriver:
    """The deployed marketplace with the test helpers."""
    return deployed


@pytest.fixture
def owner(roles: dict[str, str]) -> str:
    """The operator: deployed the contract and owns it."""
    return roles["owner"]


@pytest.fixture
def provider(roles: dict[str, str]) -> str:
    """Owns provider listings."""
    return roles["provider"]


@pytest.fixture
def other_provider(roles: dict[str, str]) -> str:
    """Owns other provider listings."""
    return roles["other_provider"]


@pytest.fixture
def customer(roles: dict[str, str]) -> str:
    """Books providers."""
    return roles["customer"]


@pytest.fixture
def other_customer(roles: dict[str, str]) -> str:
    """A second, unrelated customer."""
    return roles["other_customer"]


@pytest.fixture
def arbiter(roles: dict[str, str]) -> str:
    """On the arbiter allowlist from deployment on."""
    return roles["arbiter"]


@pytest.fixture
def stranger(roles: dict[str, str]) -> str:
    """No role at all."""
    return roles["stranger"]


@pytest.fixture
def treasury(roles: dict[str, str]) -> str:
    """Where the operator sends collected fees."""
    return roles["treasury"]


@pytest.fixture
def provider_id(market: MarketDriver, provider: str) -> int:
    """`provider`'s listing in CATEGORY, priced PRICE, staked MIN_STAKE."""
    return market.register(provider)


@pytest.fixture
def booking_id(market: MarketDriver, customer: str, provider_id: int) -> int:
    """A Requested booking of `provider_id` by `customer` under open criteria."""
    return market.book(customer, provider_id)
