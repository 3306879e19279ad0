"""Fixtures of the Marketplace v2 contract behaviour tests.

One anvil per session on a free port, one deployment per session (docs/contract-v2.md
"Deployment": `DemoUSD(owner)`, then `Marketplace(Setup)` naming `owner`, the windows, `arbiter`
as the default arbiter, `attestor`, and DemoUSD as currency 1 with its minimum fee, bound with the
`IMarketplace` ABI), and every test
runs between an `evm_snapshot` and an `evm_revert`, so no test sees another's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from marketplace.artifacts import load_artifact
from marketplace.chain.anvil import Anvil, start_anvil
from marketplace.chain.market import Market
from marketplace.chain.scan import marketplace_abi
from tests.contracts import driver as d
from tests.contracts.driver import V2, build_struct

ROLE_NAMES = (
    "owner",
    "provider",
    "customer",
    "other_customer",
    "arbiter",
    "stranger",
    "other_provider",
    "treasury",
    "attestor",
    "other_arbiter",
)


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[Anvil]:
    """A fresh anvil on a free port for the whole session."""
    node = start_anvil(accounts=len(ROLE_NAMES))
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def w3(anvil_node: Anvil) -> Iterator[Web3]:
    """Web3 on the session's anvil (no proxy lookups, the chain id cached)."""
    session = requests.Session()
    session.trust_env = False
    provider = HTTPProvider(
        anvil_node.url,
        session=session,
        cache_allowed_requests=True,
        cacheable_requests={RPCEndpoint("eth_chainId")},
    )
    yield Web3(provider)
    session.close()


@pytest.fixture(scope="session")
def roles(w3: Web3) -> dict[str, str]:
    """anvil's dev accounts by role."""
    return dict(zip(ROLE_NAMES, w3.eth.accounts, strict=False))


def _deploy(w3: Web3, name: str, *args: Any, sender: str) -> str:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx_hash = factory.constructor(*args).transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, f"deploying {name} failed"
    return str(receipt["contractAddress"])


def setup_struct(abi: list[dict[str, Any]], roles: dict[str, str], token: str) -> tuple[Any, ...]:
    """The constructor's Setup, by field name (docs/contract-v2.md "Operator and timelock")."""
    constructor = next(e for e in abi if e.get("type") == "constructor")
    param = constructor["inputs"][0]
    names = {c["name"] for c in param["components"]}
    wanted: dict[str, Any] = {
        "owner": roles["owner"],
        "feeBps": d.FEE_BPS,
        "minStake": d.MIN_STAKE,
        "disputeBond": d.DISPUTE_BOND,
        "minFee": d.MIN_FEE_ETH,
        "etherMinFee": d.MIN_FEE_ETH,
        "changeDelay": d.CHANGE_DELAY,
        "arbiter": roles["arbiter"],
        "attestor": roles["attestor"],
        "token": token,
        "tokenMinFee": d.MIN_FEE_USD,
    }
    for window, seconds in d.WINDOWS.items():
        wanted[window] = seconds
        wanted[f"{window}Window"] = seconds
    windows = next((c for c in param["components"] if c["name"] == "windows"), None)
    if windows is not None:
        inner = {c["name"] for c in windows["components"]}
        wanted["windows"] = build_struct(windows, {k: v for k, v in wanted.items() if k in inner})
    return build_struct(param, {k: v for k, v in wanted.items() if k in names})


def market_abi() -> list[dict[str, Any]]:
    """The marketplace address's whole ABI (docs/contract-v2.md "Deployment": IMarketplace plus
    what the Marketplace and MarketplaceModule artifacts add), from the app's one place for it."""
    return [
        e for e in marketplace_abi() if e.get("type") not in ("constructor", "fallback", "receive")
    ]


@pytest.fixture(scope="session")
def deployed(w3: Web3, roles: dict[str, str]) -> V2:
    """DemoUSD and the Marketplace, deployed once by `owner`."""
    owner = roles["owner"]
    token_address = _deploy(w3, "DemoUSD", owner, sender=owner)
    constructor_abi = load_artifact("Marketplace")["abi"]
    address = _deploy(
        w3, "Marketplace", setup_struct(constructor_abi, roles, token_address), sender=owner
    )
    market = V2(w3, address, market_abi(), roles)
    usd = Market(w3, token_address, load_artifact("DemoUSD")["abi"])
    market.tokens[d.USD] = usd
    return market


@pytest.fixture(autouse=True)
def _isolation(deployed: V2) -> Iterator[None]:
    """Run each test inside a snapshot: whatever it does to the chain is undone afterwards."""
    accounts = list(deployed.accounts)
    tokens = dict(deployed.tokens)
    snapshot = deployed.rpc("evm_snapshot")
    yield
    assert deployed.rpc("evm_revert", [snapshot]) is True
    deployed.accounts[:] = accounts
    deployed.tokens.clear()
    deployed.tokens.update(tokens)


@pytest.fixture
def market(deployed: V2) -> V2:
    """The deployed marketplace with the test helpers."""
    return deployed


def _role(name: str) -> Any:
    @pytest.fixture
    def fixture(roles: dict[str, str]) -> str:
        return roles[name]

    fixture.__doc__ = f"The `{name}` account."
    return fixture


owner = _role("owner")
provider = _role("provider")
other_provider = _role("other_provider")
customer = _role("customer")
other_customer = _role("other_customer")
arbiter = _role("arbiter")
other_arbiter = _role("other_arbiter")
attestor = _role("attestor")
stranger = _role("stranger")
treasury = _role("treasury")


@pytest.fixture
def provider_id(market: V2, provider: str) -> int:
    """`provider`'s ether listing in CATEGORY, priced PRICE, staked MIN_STAKE."""
    return market.register(provider)


@pytest.fixture
def usd_provider_id(market: V2, provider: str) -> int:
    """`provider`'s DemoUSD listing, priced PRICE_USD."""
    return market.register(provider, currency=d.USD)


@pytest.fixture
def booking_id(market: V2, customer: str, provider_id: int) -> int:
    """A Requested booking of `provider_id` by `customer` under open criteria."""
    return market.book_as(customer, provider_id)
