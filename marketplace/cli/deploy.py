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
from marketplace.domain import MAX_FEE_BPS, MAX_WINDOW, UINT80_MAX, UINT96_MAX

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
    type=click.IntRange(0, MAX_FEE_BPS),
    default=_DEFAULTS.fee_bps,
    show_default=True,
    help=f"Fee rate in basis points (hard cap {MAX_FEE_BPS}).",
)
@click.option(
    "--min-stake",
    type=click.IntRange(0, UINT96_MAX),
    default=_DEFAULTS.min_stake,
    show_default=True,
    help="Stake a new listing deposits, in wei.",
)
@click.option(
    "--dispute-bond",
    type=click.IntRange(0, UINT96_MAX),
    default=_DEFAULTS.dispute_bond,
    show_default=True,
    help="Ether a dispute costs, in wei.",
)
@click.option(
    "--min-fee",
    type=click.IntRange(1, UINT80_MAX),
    default=_DEFAULTS.min_fee,
    show_default=True,
    help="Minimum fee of an ether booking, in wei (its rating weighs 1,000).",
)
@click.option(
    "--respond-window",
    type=_WINDOW,
    default=_DEFAULTS.respond_window,
    show_default=True,
    help="Seconds a provider has to accept (never past the slot's start).",
)
@click.option(
    "--service-grace",
    type=_WINDOW,
    default=_DEFAULTS.service_grace,
    show_default=True,
    help="Seconds after a slot's end the provider may still mark it delivered.",
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
    help="Seconds before a deactivated listing's stake unlocks.",
)
@click.option(
    "--change-delay",
    type=click.IntRange(0, MAX_WINDOW),
    default=_DEFAULTS.change_delay,
    show_default=True,
    help="Seconds between scheduling an operator change and applying it.",
)
@click.option("--arbiter", default=None, help="Arbiter named at deployment and made default.")
@click.option("--attestor", default=None, help="Attestor named at deployment.")
@click.option(
    "--token",
    default=None,
    help="An ERC-20 to enable as currency 1 at deployment (needs --token-min-fee).",
)
@click.option(
    "--token-min-fee",
    type=click.IntRange(0, UINT80_MAX),
    default=0,
    help="Minimum fee of a booking in --token, in its smallest unit.",
)
@click.option(
    "--demo-token",
    is_flag=True,
    help="Deploy the DemoUSD stablecoin first and enable it as currency 1 (dev chains).",
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
    dispute_bond: int,
    min_fee: int,
    respond_window: int,
    service_grace: int,
    confirm_window: int,
    arbitration_window: int,
    stake_cooldown: int,
    change_delay: int,
    arbiter: str | None,
    attestor: str | None,
    token: str | None,
    token_min_fee: int,
    demo_token: bool,
    force: bool,
) -> None:
    """Deploy the Marketplace (contract v2) and write $MARKETPLACE_DEPLOYMENTS/<chainId>.json.

    The node is probed first: a chain that cannot run the contracts (no Cancun hardfork) is
    refused before anything is sent, and so is a second deployment on a chain whose record
    names a live contract (unless --force).
    """
    for name, value in (
        ("--owner", owner),
        ("--from", deployer),
        ("--arbiter", arbiter),
        ("--attestor", attestor),
        ("--token", token),
    ):
        if value is not None and not is_address(value):
            raise click.BadParameter(f"{value!r} is not an Ethereum address", param_hint=name)
    if token and demo_token:
        raise click.UsageError("give either --token or --demo-token, not both")
    if token and token_min_fee == 0:
        raise click.BadParameter(
            "a token currency needs a minimum fee above 0", param_hint="--token-min-fee"
        )
    params = DeployParams(
        fee_bps=fee_bps,
        min_stake=min_stake,
        dispute_bond=dispute_bond,
        min_fee=min_fee,
        respond_window=respond_window,
        service_grace=service_grace,
        confirm_window=confirm_window,
        arbitration_window=arbitration_window,
        stake_cooldown=stake_cooldown,
        change_delay=change_delay,
        owner=owner,
        arbiter=arbiter,
        attestor=attestor,
        token=token,
        token_min_fee=token_min_fee,
        demo_token=demo_token,
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
            if demo_token and not is_local_chain(chain_id):
                raise click.UsageError(
                    f"--demo-token is for local dev chains, not chain {chain_id}"
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
    for currency in record.currencies:
        click.echo(
            f"Currency {currency['id']}: {currency['symbol']} ({currency['decimals']} decimals) "
            f"at {currency['token']}, minimum fee {currency['min_fee']}"
        )
