"""Unsigned EIP-1559 transactions for browser wallets, and where dev signing is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from marketplace.chain.accounts import dev_accounts
from marketplace.chain.anvil import start_anvil
from marketplace.chain.connection import connected
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from marketplace.chain.market import (
    BookingRequest,
    CriteriaInput,
    ListingInput,
    Market,
    SigningRefused,
)
from marketplace.chain.revert import ContractRevert
from marketplace.chain.tx import DevSigner, build_transaction

PRICE = 10**16
CRITERIA = CriteriaInput(1, max_price=10**17).as_tuple()  # category 1, any region, <= 0.1 ETH
LISTING = ListingInput(1, 0, 0, 0, PRICE, b"\x01" * 32)


@pytest.fixture(scope="module")
def accounts() -> list[LocalAccount]:
    return dev_accounts(20)


@pytest.fixture(scope="module")
def provider(accounts: list[LocalAccount]) -> LocalAccount:
    return accounts[3]


@pytest.fixture(scope="module")
def customer(accounts: list[LocalAccount]) -> LocalAccount:
    return accounts[4]


@pytest.fixture(scope="module")
def provider_id(market: Market, provider: LocalAccount, customer: LocalAccount) -> int:
    market.transact("register", LISTING.as_tuple(), sender=provider, value=10**15)
    market.transact("setCriteria", CRITERIA, sender=customer)
    return int(market.call("providerCount"))


def _request(market: Market, customer: LocalAccount, provider_id: int, salt: int) -> BookingRequest:
    start = int(market.w3.eth.get_block("latest")["timestamp"]) + 86_400
    return market.request_for(customer.address, provider_id, start, 60, salt)


def test_an_unsigned_booking_carries_target_calldata_value_chain_id_gas_and_fees(
    market: Market, customer: LocalAccount, provider_id: int
) -> None:
    request = _request(market, customer, provider_id, 0)

    tx = build_transaction(market, "book", request.as_tuple(), sender=customer.address, value=PRICE)

    selector = Web3.keccak(text="book((uint32,uint40,uint16,uint8,uint32,uint32))")[:4].to_0x_hex()
    assert (tx.to, tx.sender, tx.value, tx.chain_id) == (
        market.address,
        customer.address,
        PRICE,
        31337,
    )
    assert tx.data.startswith(selector) and len(tx.data) == 2 + 8 + 6 * 64
    assert 21_000 < tx.gas < 500_000
    assert tx.max_fee_per_gas >= tx.max_priority_fee_per_gas > 0
    assert tx.nonce is None
    wallet = tx.for_wallet()
    assert wallet["type"] == "0x2" and wallet["chainId"] == "0x7a69"
    assert wallet["value"] == hex(PRICE) and "nonce" not in wallet


def test_a_wallet_that_signs_the_unsigned_transaction_books_the_provider(
    market: Market, w3: Web3, customer: LocalAccount, provider_id: int
) -> None:
    request = _request(market, customer, provider_id, 1)
    tx = build_transaction(
        market, "book", request.as_tuple(), sender=customer.address, value=PRICE, with_nonce=True
    )
    assert tx.nonce == w3.eth.get_transaction_count(customer.address, "pending")

    signed = customer.sign_transaction(tx.for_signing(tx.nonce))
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)

    assert receipt["status"] == 1
    [booked] = market.events("BookingRequested", receipt)
    assert booked["providerId"] == provider_id and booked["price"] == PRICE


def test_building_a_transaction_that_would_revert_raises_the_decoded_custom_error(
    market: Market, customer: LocalAccount, provider_id: int
) -> None:
    request = _request(market, customer, provider_id, 2)
    stale = BookingRequest(
        request.provider_id,
        request.start,
        request.duration_minutes,
        request.salt,
        request.offer_version + 1,
        request.criteria_version,
    )

    with pytest.raises(ContractRevert) as raised:
        build_transaction(market, "book", stale.as_tuple(), sender=customer.address, value=PRICE)

    assert raised.value.error == "MarketplaceOfferChanged"
    assert raised.value.args_by_name == {"expected": 2, "current": 1}
    assert "changed the offer" in raised.value.message


def test_dev_signing_sends_from_a_key_or_an_unlocked_account_on_a_local_chain(
    market: Market, w3: Web3, accounts: list[LocalAccount]
) -> None:
    keyed, unlocked = accounts[5], accounts[6]
    signer = DevSigner(w3, [keyed])

    for sender in (keyed.address, unlocked.address):
        receipt = signer.transact(market, "setCriteria", CRITERIA, sender=sender)
        assert receipt["from"] == sender


@pytest.fixture(scope="module")
def foreign_chain() -> Iterator[tuple[Web3, Market]]:
    """An anvil that pretends to be another chain (id 5), with the marketplace deployed."""
    node = start_anvil(chain_id=5)
    try:
        with connected(node.url) as w3:
            market, _ = deploy_marketplace(
                w3, DeployParams(), private_key=dev_accounts(1)[0].key.hex(), record=False
            )
            yield w3, market
    finally:
        node.stop()


def test_unsigned_transactions_are_built_on_any_chain(
    foreign_chain: tuple[Web3, Market], customer: LocalAccount
) -> None:
    _, market = foreign_chain

    tx = build_transaction(market, "setCriteria", CRITERIA, sender=customer.address)

    assert tx.chain_id == 5 and tx.for_wallet()["chainId"] == "0x5"


def test_dev_signing_is_refused_with_a_clear_error_on_a_chain_that_is_not_local(
    foreign_chain: tuple[Web3, Market], customer: LocalAccount
) -> None:
    w3, market = foreign_chain

    with pytest.raises(SigningRefused, match="chain 5 is not a local development chain"):
        DevSigner(w3, [customer])
    with pytest.raises(SigningRefused, match="not a local development chain"):
        market.transact("setCriteria", CRITERIA, sender=customer)
