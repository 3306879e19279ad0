"""Dev accounts of a local chain: the node's own unlocked accounts that hold ether.

Nodes differ: anvil and Hardhat derive their accounts from the mnemonic `test test ... junk`,
ganache from another one, a node may be started with any mnemonic or none. So the accounts the
app offers come from the node (`eth_accounts`), keep only those funded enough to pay for
transactions, and carry a local key only where the standard mnemonic's key matches the node's
account (otherwise the node itself signs, as it does for any unlocked account).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from marketplace.chain.anvil import DEV_MNEMONIC

Account.enable_unaudited_hdwallet_features()

MIN_DEV_BALANCE = 10**15  # 0.001 ether: less cannot pay for much gas on a dev chain


def dev_accounts(count: int = 10, mnemonic: str = DEV_MNEMONIC) -> list[LocalAccount]:
    """The first `count` accounts of the dev mnemonic, in anvil's order. Local chains only."""
    return [
        Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)
    ]


@dataclass(frozen=True)
class DevAccount:
    """One usable dev account: its position among the node's accounts, address, balance, and
    the local key when the dev mnemonic holds it (None: the node signs for it)."""

    index: int
    address: str
    balance: int
    key: LocalAccount | None


def node_dev_accounts(
    w3: Web3,
    count: int,
    *,
    mnemonic: str = DEV_MNEMONIC,
    min_balance: int = MIN_DEV_BALANCE,
) -> list[DevAccount]:
    """The node's first `count` accounts (`eth_accounts`) that hold at least `min_balance` wei.

    Local chains only: the caller checks the chain id first.
    """
    node = [Web3.to_checksum_address(a) for a in w3.eth.accounts][:count]
    keys = {a.address: a for a in dev_accounts(len(node), mnemonic)}
    usable = []
    for index, address in enumerate(node):
        balance = int(w3.eth.get_balance(address))
        if balance >= min_balance:
            usable.append(DevAccount(index, address, balance, keys.get(address)))
    return usable
