"""brownie run scripts/deploy.py [--network NAME]: deploy the Marketplace with brownie.

A thin main() over library code: parameters come from `marketplace.chain.deploy.DeployParams`
(override with MARKETPLACE_FEE_BPS / MARKETPLACE_MIN_STAKE), the record is written by
`marketplace.chain.deployment.save_deployment` to deployments/<chainId>.json, exactly as the
`marketplace deploy` console script does.
"""

from __future__ import annotations

import os

from brownie import Marketplace, accounts, chain  # type: ignore[attr-defined]

from marketplace.chain.deploy import DeployParams
from marketplace.chain.deployment import Deployment, save_deployment


def main() -> None:
    """Deploy from brownie's first account and record the deployment."""
    params = DeployParams(
        fee_bps=int(os.environ.get("MARKETPLACE_FEE_BPS", DeployParams.fee_bps)),
        min_stake=int(os.environ.get("MARKETPLACE_MIN_STAKE", DeployParams.min_stake)),
    )
    deployer = accounts[0]
    windows = params.windows()
    market = Marketplace.deploy(
        deployer.address,
        params.fee_bps,
        params.min_stake,
        tuple(windows.values()),
        {"from": deployer},
    )
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
        windows=windows,
        compiler=str(Marketplace._build.get("compiler", {}).get("version", "")),
        extra={"tool": "brownie"},
    )
    path = save_deployment(record)
    print(f"Marketplace deployed at {market.address} (block {tx.block_number}); recorded in {path}")
