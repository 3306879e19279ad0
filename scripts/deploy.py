"""brownie run scripts/deploy.py [--network NAME]: deploy the Marketplace (v2) with brownie.

A thin main() over library code, following docs/contract-v2.md "Deployment": on a development
network DemoUSD is deployed first (owned by the deployer, minted to every brownie account) and
enabled as currency 1 by the constructor's `Setup`; `Marketplace(Setup)` deploys its module in
the same transaction. Parameters come from `marketplace.chain.deploy.DeployParams` (override with
MARKETPLACE_FEE_BPS / MARKETPLACE_MIN_STAKE / MARKETPLACE_CHANGE_DELAY; MARKETPLACE_DEMO_TOKEN=0
skips the token). The record is written by `marketplace.chain.deployment.save_deployment` to
deployments/<chainId>.json, exactly as the `marketplace deploy` console script does.
"""

from __future__ import annotations

import os

from brownie import DemoUSD, Marketplace, accounts, chain  # type: ignore[attr-defined]

from marketplace.chain.deploy import DEMO_TOKEN_FUNDS, DEMO_TOKEN_MIN_FEE, DeployParams
from marketplace.chain.deployment import Deployment, save_deployment


def main() -> None:
    """Deploy from brownie's first account and record the deployment."""
    defaults = DeployParams()
    deployer = accounts[0]
    development = chain.id in (1337, 31337)
    demo_token = os.environ.get("MARKETPLACE_DEMO_TOKEN", "1" if development else "0") == "1"
    params = DeployParams(
        fee_bps=int(os.environ.get("MARKETPLACE_FEE_BPS", defaults.fee_bps)),
        min_stake=int(os.environ.get("MARKETPLACE_MIN_STAKE", defaults.min_stake)),
        change_delay=int(os.environ.get("MARKETPLACE_CHANGE_DELAY", defaults.change_delay)),
        arbiter=accounts[1].address if development and len(accounts) > 2 else None,
        attestor=accounts[2].address if development and len(accounts) > 2 else None,
    )
    token = None
    currencies = []
    if demo_token:
        token = DemoUSD.deploy(deployer.address, {"from": deployer})
        for account in accounts:
            token.mint(account.address, DEMO_TOKEN_FUNDS, {"from": deployer})
    setup = params.setup(deployer.address, token.address if token else None, DEMO_TOKEN_MIN_FEE)
    market = Marketplace.deploy(setup, {"from": deployer})
    if token is not None:
        currencies.append({
            "id": 1, "symbol": token.symbol(), "decimals": token.decimals(),
            "token": token.address, "min_fee": DEMO_TOKEN_MIN_FEE,
        })
    tx = market.tx
    record = Deployment(
        chain_id=chain.id,
        address=market.address,
        start_block=tx.block_number,
        tx_hash=tx.txid,
        deployer=deployer.address,
        owner=deployer.address,
        fee_bps=params.fee_bps,
        min_stake=params.min_stake,
        windows=params.windows(),
        compiler=str(Marketplace._build.get("compiler", {}).get("version", "")),
        extra={"tool": "brownie"},
        dispute_bond=params.dispute_bond,
        min_fee=params.min_fee,
        change_delay=params.change_delay,
        arbiter=params.arbiter or "",
        attestor=params.attestor or "",
        currencies=currencies,
    )
    path = save_deployment(record)
    print(f"Marketplace deployed at {market.address} (block {tx.block_number}); recorded in {path}")
    for currency in currencies:
        print(f"Currency 1: {currency['symbol']} at {currency['token']}")
