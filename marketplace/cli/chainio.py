"""What the commands that send transactions share: who signs, which deployment, which currency.

A command signs with the private key in an environment variable (`--key-env`, default
`MARKETPLACE_KEY`; any chain) or, on a local dev chain only, as an unlocked node account
(`--from`). It binds the marketplace of the deployment record (`--deployment`, else
`deployments/<chainId>.json`). Amounts are typed in whole units of their currency ("25" dUSD,
"0.02" ETH) and converted with the currency's decimals.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import is_address
from web3 import Web3

from marketplace.chain.connection import connected, is_local_chain
from marketplace.chain.deployment import Deployment, load_deployment
from marketplace.chain.market import Market, Sender
from marketplace.chain.token import Token
from marketplace.cli.options import deployment_option, rpc_option
from marketplace.config import load_settings
from marketplace.units import ETHER_CURRENCY, Currency, parse_units

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_KEY_ENV = "MARKETPLACE_KEY"


def signer_options(function: F) -> F:
    """--key-env and --from, plus --rpc and --deployment."""
    function = click.option(
        "--from",
        "from_address",
        default=None,
        metavar="ADDRESS",
        help="Send as this unlocked node account (local dev chains only) instead of a key.",
    )(function)
    function = click.option(
        "--key-env",
        default=DEFAULT_KEY_ENV,
        show_default=True,
        help="Environment variable holding the sender's private key (never on the command line).",
    )(function)
    function = deployment_option(function)
    return rpc_option(function)


@dataclass
class Session:
    """A connected marketplace, its deployment record and the sender."""

    market: Market
    deployment: Deployment
    sender: Sender

    @property
    def address(self) -> str:
        """The sender's checksummed address."""
        if isinstance(self.sender, LocalAccount):
            return str(self.sender.address)
        return Web3.to_checksum_address(self.sender)

    def currency(self, text: str) -> Currency:
        """A currency named by id ("0", "1") or symbol ("ETH", "dUSD", any case)."""
        known = {c.id: c for c in self.deployment.all_currencies()}
        wanted = text.strip()
        if wanted.isdigit():
            currency_id = int(wanted)
            if currency_id in known:
                return known[currency_id]
            token = self.market.currency(currency_id)["token"]
            if int(token, 16) == 0:
                raise click.BadParameter(
                    f"there is no currency {currency_id}", param_hint="--currency"
                )
            return Token(self.market.w3, token).currency(currency_id)
        for currency in known.values():
            if currency.symbol.lower() == wanted.lower():
                return currency
        names = ", ".join(f"{c.id} ({c.symbol})" for c in known.values())
        raise click.BadParameter(
            f"unknown currency {text!r}; known: {names}", param_hint="--currency"
        )

    def currency_by_id(self, currency_id: int) -> Currency:
        """The currency with this id (the record's, else read from the chain)."""
        return self.currency(str(currency_id))


def amount(text: str, currency: Currency, option: str) -> int:
    """`text` in whole units of `currency`, as its smallest unit; a usage error if malformed."""
    try:
        return parse_units(text, currency.decimals)
    except ValueError as exc:
        raise click.BadParameter(
            f"{exc} (an amount of {currency.symbol})", param_hint=option
        ) from None


def ether(text: str, option: str) -> int:
    """An amount of ether typed in ETH, in wei."""
    return amount(text, ETHER_CURRENCY, option)


def address(text: str, option: str) -> str:
    """A checksummed address; a usage error otherwise."""
    if not is_address(text):
        raise click.BadParameter(f"{text!r} is not an Ethereum address", param_hint=option)
    return Web3.to_checksum_address(text)


@contextmanager
def session(
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> Iterator[Session]:
    """Connect, load the deployment record and resolve the sender (see the module's doc)."""
    key = os.environ.get(key_env) or None
    if from_address is not None:
        address(from_address, "--from")
    settings = load_settings(rpc_url=rpc_url, deployment_path=deployment_path)
    with connected(settings.rpc_url) as w3:
        chain_id = int(w3.eth.chain_id)
        record = load_deployment(chain_id=chain_id, path=settings.deployment_path)
        sender: Sender
        if from_address is not None:
            if not is_local_chain(chain_id):
                raise click.UsageError(
                    f"--from signs as a node account, only on a local dev chain (not {chain_id}); "
                    f"put the sender's private key in ${key_env}"
                )
            sender = Web3.to_checksum_address(from_address)
        elif key is not None:
            try:
                sender = Account.from_key(key)
            except (ValueError, TypeError):
                raise click.UsageError(f"${key_env} does not hold a private key") from None
        else:
            raise click.UsageError(
                f"no sender: put the private key in ${key_env}, or pass --from on a dev chain"
            )
        yield Session(Market(w3, record.address), record, sender)
