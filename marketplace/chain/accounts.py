"""The deterministic dev accounts of a local chain (anvil's standard mnemonic)."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount

from marketplace.chain.anvil import DEV_MNEMONIC

Account.enable_unaudited_hdwallet_features()


def dev_accounts(count: int = 10, mnemonic: str = DEV_MNEMONIC) -> list[LocalAccount]:
    """The first `count` accounts of the dev mnemonic, in anvil's order. Local chains only."""
    return [
        Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)
    ]
