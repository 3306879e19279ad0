"""Nonce safety: many concurrent sends from one account all land, none collides or is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import RPCEndpoint, TxReceipt

from marketplace.chain.accounts import dev_accounts
from marketplace.chain.market import CriteriaInput, Market
from marketplace.chain.tx import DevSigner

SENDS = 50


def _criteria(i: int) -> tuple[int, ...]:
    return CriteriaInput(1 + i % 3, max_price=10**17 + i).as_tuple()


@pytest.fixture(scope="module")
def accounts() -> list[LocalAccount]:
    return dev_accounts(20)


def _nonces(w3: Web3, receipts: list[TxReceipt]) -> list[int]:
    return sorted(int(w3.eth.get_transaction(r["transactionHash"])["nonce"]) for r in receipts)


@pytest.mark.parametrize("keyed", [True, False], ids=["signed-locally", "unlocked-on-node"])
def test_fifty_concurrent_sends_from_one_account_all_land_with_consecutive_nonces(
    market: Market, w3: Web3, accounts: list[LocalAccount], keyed: bool
) -> None:
    account = accounts[10] if keyed else accounts[11]
    signer = DevSigner(w3, [account] if keyed else [])
    first = w3.eth.get_transaction_count(account.address)
    versions_before = market.call("criteriaVersionOf", account.address)

    with ThreadPoolExecutor(max_workers=SENDS) as pool:
        receipts = list(pool.map(
            lambda i: signer.transact(market, "setCriteria", _criteria(i), sender=account.address),
            range(SENDS),
        ))

    assert all(r["status"] == 1 for r in receipts)
    assert _nonces(w3, receipts) == list(range(first, first + SENDS))
    assert market.call("criteriaVersionOf", account.address) == versions_before + SENDS


def test_concurrent_market_transactions_from_one_key_do_not_collide(
    market: Market, w3: Web3, accounts: list[LocalAccount]
) -> None:
    account = accounts[12]
    first = w3.eth.get_transaction_count(account.address)

    with ThreadPoolExecutor(max_workers=20) as pool:
        receipts = list(pool.map(
            lambda i: market.transact("setCriteria", _criteria(i), sender=account), range(20)
        ))

    assert _nonces(w3, receipts) == list(range(first, first + 20))


def test_a_send_after_another_client_used_the_account_resyncs_the_nonce_and_lands(
    market: Market, w3: Web3, accounts: list[LocalAccount]
) -> None:
    account = accounts[13]
    signer = DevSigner(w3, [account])
    signer.transact(market, "setCriteria", _criteria(0), sender=account.address)
    # Another wallet spends the next nonce behind the signer's back.
    outside = account.sign_transaction({
        "to": account.address, "value": 1, "gas": 21_000, "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9, "nonce": w3.eth.get_transaction_count(account.address),
        "chainId": 31337,
    })
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(outside.raw_transaction))

    receipt = signer.transact(market, "setCriteria", _criteria(1), sender=account.address)

    assert receipt["status"] == 1


def test_a_send_after_the_dev_chain_was_reverted_to_a_snapshot_still_lands(
    market: Market, w3: Web3, accounts: list[LocalAccount]
) -> None:
    account = accounts[14]
    signer = DevSigner(w3, [account])
    snapshot = w3.provider.make_request(RPCEndpoint("evm_snapshot"), [])["result"]
    for i in range(3):
        signer.transact(market, "setCriteria", _criteria(i), sender=account.address)
    w3.provider.make_request(RPCEndpoint("evm_revert"), [snapshot])

    receipt = signer.transact(market, "setCriteria", _criteria(3), sender=account.address,
                              timeout=10)

    assert receipt["status"] == 1
