"""`marketplace deploy`: deploy the Marketplace to any EVM chain by RPC URL."""

from __future__ import annotations

import os

import click
from eth_utils.address import is_address

from marketplace.chain.connection import connected, is_local_chain
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from marketplace.chain.deployment import deployment_path
from marketplace.cli.exits import ExitCode, epilog, reported_as_exit_status
from marketplace.cli.options import rpc_option
from marketplace.config import load_settings
from marketplace.domain import MAX_WINDOW

_DEFAULTS = DeployParams()
_WINDOW = click.IntRange(1, MAX_WINDOW)


@click.command(
    epilog=epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.NODE_UNREACHABLE, ExitCode.FAILED)
)
@rpc_option
@click.option(
    "--private-key-env",
    default="MARKETPLACE_DEPLOYER_KEY",
    show_default=True,
    help="Name of the environment variable holding the deployer's private key "
    "(required on any chain but a local dev chain; never passed on the command line).",
)
@click.option(
    "--from",
    "deployer",
    default=None,
    help="Unlocked node account to deploy from (local dev chains only).",
)
@click.option("--owner", default=None, help="Operator address (default: the deployer).")
@click.option(
    "--fee-bps",
    type=click.IntRange(0, 1_000),
    default=_DEFAULTS.fee_bps,
    show_default=True,
    help="Fee rate in basis points (hard cap 1000).",
)
@click.option(
    "--min-stake",
    type=click.IntRange(0, 2**96 - 1),
    default=_DEFAULTS.min_stake,
    show_default=True,
    help="Provider stake, in wei.",
)
@click.option(
    "--respond-window",
    type=_WINDOW,
    default=_DEFAULTS.respond_window,
    show_default=True,
    help="Seconds to accept.",
)
@click.option(
    "--service-window",
    type=_WINDOW,
    default=_DEFAULTS.service_window,
    show_default=True,
    help="Seconds to complete.",
)
@click.option(
    "--confirm-window",
    type=_WINDOW,
    default=_DEFAULTS.confirm_window,
    show_default=True,
    help="Seconds to confirm or dispute.",
)
@click.option(
    "--arbitration-window",
    type=_WINDOW,
    default=_DEFAULTS.arbitration_window,
    show_default=True,
    help="Seconds to arbitrate.",
)
@click.option(
    "--stake-cooldown",
    type=_WINDOW,
    default=_DEFAULTS.stake_cooldown,
    show_default=True,
    help="Seconds before a deactivated provider's stake unlocks.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a deployment record whose contract is still live on this chain "
    "(the new record keeps the old address under extra.replaces).",
)
def deploy(
    rpc_url: str | None,
    private_key_env: str,
    deployer: str | None,
    owner: str | None,
    fee_bps: int,
    min_stake: int,
    respond_window: int,
    service_window: int,
    confirm_window: int,
    arbitration_window: int,
    stake_cooldown: int,
    force: bool,
) -> None:
    """Deploy the Marketplace and write $MARKETPLACE_DEPLOYMENTS/<chainId>.json.

    The node is probed first: a chain that cannot run the contracts (no Cancun hardfork) is
    refused before anything is sent, and so is a second deployment on a chain whose record
    names a live contract (unless --force).
    """
    for name, value in (("--owner", owner), ("--from", deployer)):
        if value is not None and not is_address(value):
            raise click.BadParameter(f"{value!r} is not an Ethereum address", param_hint=name)
    params = DeployParams(
        fee_bps=fee_bps,
        min_stake=min_stake,
        respond_window=respond_window,
        service_window=service_window,
        confirm_window=confirm_window,
        arbitration_window=arbitration_window,
        stake_cooldown=stake_cooldown,
        owner=owner,
    )
    private_key = os.environ.get(private_key_env) or None
    with reported_as_exit_status():
        with connected(load_settings(rpc_url=rpc_url).rpc_url) as w3:
            chain_id = w3.eth.chain_id
            if private_key is None and not is_local_chain(chain_id):
                raise click.UsageError(
                    f"chain {chain_id} is not a local dev chain: put the deployer's private key "
                    f"in ${private_key_env}"
                )
            _, record = deploy_marketplace(
                w3, params, deployer=deployer, private_key=private_key, force=force
            )
    replaced = record.extra.get("replaces")
    click.echo(
        f"Marketplace deployed on chain {record.chain_id} at {record.address} "
        f"(block {record.start_block}); recorded in {deployment_path(record.chain_id)}"
        + (f" (replacing the record of {replaced['address']})" if replaced else "")
    )
