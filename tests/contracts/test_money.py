"""Money per currency: ether and DemoUSD ledgers kept apart to the wei, the fee rule (rounded up,
with a minimum) on settlement and on every ruling, withdrawals and their refused recipients,
DemoUSD bookings by approval and by EIP-2612 permit (one transaction; a front-run permit still
books; a bad permit does not), and each misbehaving token: a short (fee-on-transfer) transfer, a
false return, a re-entrant transfer, and a token that blocks one recipient."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import Web3

from marketplace.chain.accounts import dev_accounts
from marketplace.chain.market import Market
from tests.contracts import driver as d
from tests.contracts.driver import V2

ROLE_INDEX = {"customer": 2, "other_customer": 3}


def fee_of(price: int, fee_bps: int = d.FEE_BPS, min_fee: int = d.MIN_FEE_ETH) -> int:
    return max(-(-price * fee_bps // 10_000), min_fee)


def enable_token(market: V2, owner: str, contract: str, min_fee: int = 100) -> tuple[Market, int]:
    """Deploy a test token, enable it as a currency (MinFee, then Currency, each after a delay)."""
    token = market.deploy(contract, sender=owner)
    for kind, value in ((3, min_fee), (7, 1)):
        eta = market.one(
            market.tx("scheduleChange", kind, token.address, value, sender=owner), "ChangeScheduled"
        )["eta"]
        market.mine_at(eta)
        market.tx("applyChange", kind, token.address, value, sender=owner)
    currency = int(market.call("currencyId", token.address))
    market.tokens[currency] = token
    return token, currency


def token_listing(market: V2, provider: str, currency: int, price: int = 1_000_000) -> int:
    return market.register(provider, currency=currency, price=price)


def token_book(market: V2, customer: str, listing: int, token: Market, **request: Any) -> int:
    price = market.listing(listing)["price"]
    token.transact("mint", customer, price, sender=customer)
    token.transact("approve", market.address, price, sender=customer)
    receipt = market.tx("book", market.request(customer, listing, **request), sender=customer)
    return int(market.one(receipt, "BookingRequested")["bookingId"])


# ---------------------------------------------------------------------- fees


def test_doubt_a_fee_above_80_bits_makes_a_listing_unbookable(
    market: V2, provider: str, customer: str
) -> None:
    """Documents behaviour (passes): a uint88 price whose fee overflows the booking's uint80 fee
    registers, but every booking reverts with OpenZeppelin's SafeCast error (no Marketplace one)."""
    price = (2**80) * 41  # 2.5 % of it is above 2**80
    listing = market.register(provider, price=price)
    market.rpc("anvil_setBalance", [customer, hex(2 * price)])
    with market.reverts("SafeCastOverflowedUintDowncast", bits=80):
        market.book_as(customer, listing)


@pytest.mark.parametrize(
    "price", [d.MIN_FEE_ETH, d.MIN_FEE_ETH * 40 - 1, d.MIN_FEE_ETH * 40 + 1, 10**18 + 39, 2**80 - 1]
)
def test_the_fee_is_rounded_up_with_a_minimum(
    market: V2, provider: str, customer: str, price: int
) -> None:
    listing = market.register(provider, price=price)
    market.rpc("anvil_setBalance", [customer, hex(2**100)])
    booking = market.booking_in("Settled", customer, listing)
    fee = fee_of(price)
    assert market.booking(booking)["fee"] == fee
    assert market.fees() == fee
    assert market.credit(provider) == price - fee


def test_the_fee_does_not_depend_on_the_ruling(
    market: V2, provider: str, customer: str, provider_id: int
) -> None:
    fees = []
    for salt, bps in enumerate((0, 5_000, 10_000)):
        booking = market.booking_in("Resolved", customer, provider_id, salt=salt, refund_bps=bps)
        fees.append(market.booking(booking)["fee"])
    assert market.fees() == sum(fees) == 3 * fee_of(d.PRICE)


def test_a_fee_rate_change_applies_to_new_bookings_only(
    market: V2, owner: str, customer: str, provider_id: int
) -> None:
    old = market.book_as(customer, provider_id)
    zero = "0x" + "00" * 20
    eta = market.one(market.tx("scheduleChange", 0, zero, 1_000, sender=owner), "ChangeScheduled")[
        "eta"
    ]
    market.mine_at(eta)
    market.tx("applyChange", 0, zero, 1_000, sender=owner)
    new = market.book_as(customer, provider_id, salt=1)
    assert market.booking(old)["fee"] == fee_of(d.PRICE)
    assert market.booking(new)["fee"] == fee_of(d.PRICE, 1_000)


# ---------------------------------------------------------------------- ledgers and withdrawals


def test_ledgers_are_per_currency(
    market: V2, provider: str, customer: str, provider_id: int, usd_provider_id: int
) -> None:
    eth = market.booking_in("Settled", customer, provider_id)
    usd = market.booking_in("Settled", customer, usd_provider_id)
    assert market.credit(provider, d.ETH) == d.PRICE - market.booking(eth)["fee"]
    assert market.credit(provider, d.USD) == d.PRICE_USD - market.booking(usd)["fee"]
    assert market.booking(usd)["fee"] == fee_of(d.PRICE_USD, min_fee=d.MIN_FEE_USD)
    market.solvency([eth, usd], [provider_id, usd_provider_id])

    before = market.balance(provider, d.USD)
    receipt = market.tx("withdraw", d.USD, sender=provider)
    withdrawn = market.one(receipt, "Withdrawn")
    assert (withdrawn["currency"], withdrawn["amount"]) == (
        d.USD,
        d.PRICE_USD - market.booking(usd)["fee"],
    )
    assert market.balance(provider, d.USD) == before + withdrawn["amount"]
    assert market.credit(provider, d.ETH) > 0  # the ether credit is untouched
    with market.reverts("MarketplaceNothingToWithdraw", account=provider, currency=d.USD):
        market.tx("withdraw", d.USD, sender=provider)
    market.solvency([eth, usd], [provider_id, usd_provider_id])


def test_withdraw_to_refuses_zero_and_the_market(
    market: V2, customer: str, stranger: str, booking_id: int
) -> None:
    market.tx("cancel", booking_id, sender=customer)
    for to in ("0x" + "00" * 20, market.address):
        with market.reverts("MarketplaceInvalidRecipient"):
            market.tx("withdrawTo", d.ETH, to, sender=customer)
    before = market.balance(stranger)
    market.tx("withdrawTo", d.ETH, stranger, sender=customer)
    assert market.balance(stranger) == before + d.PRICE


# ---------------------------------------------------------------------- permit


def permit_signature(
    market: V2, holder: Any, value: int, deadline: int, nonce: int | None = None
) -> tuple[int, bytes, bytes]:
    token = market.usd
    assert token is not None
    if nonce is None:
        nonce = int(token.call("nonces", holder.address))
    data = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": "Demo USD",
            "version": "1",
            "chainId": market.w3.eth.chain_id,
            "verifyingContract": token.address,
        },
        "message": {
            "owner": holder.address,
            "spender": market.address,
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    }
    signed = Account.sign_message(encode_typed_data(full_message=data), holder.key)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


@pytest.fixture
def holder(market: V2, roles: dict[str, Any]) -> Any:
    """`customer`'s local key (anvil's dev mnemonic), holding PRICE_USD of DemoUSD, no allowance."""
    account = dev_accounts(10)[ROLE_INDEX["customer"]]
    assert account.address == roles["customer"]
    assert market.usd is not None
    market.usd.transact("mint", account.address, d.PRICE_USD, sender=roles["owner"])
    return account


def test_book_with_permit_in_one_transaction(market: V2, holder: Any, usd_provider_id: int) -> None:
    deadline = market.now() + 3_600
    v, r, s = permit_signature(market, holder, d.PRICE_USD, deadline)
    req = market.request(holder.address, usd_provider_id)
    receipt = market.tx("bookWithPermit", req, deadline, v, r, s, sender=holder.address)
    booking = market.one(receipt, "BookingRequested")["bookingId"]
    assert market.booking(booking)["price"] == d.PRICE_USD
    assert market.balance(market.address, d.USD) == d.PRICE_USD
    assert market.usd.call("allowance", holder.address, market.address) == 0


def test_a_front_run_permit_still_books(
    market: V2, holder: Any, stranger: str, usd_provider_id: int
) -> None:
    deadline = market.now() + 3_600
    v, r, s = permit_signature(market, holder, d.PRICE_USD, deadline)
    # Someone submits the permit first: the nonce is used, but the allowance suffices.
    market.usd.transact(
        "permit", holder.address, market.address, d.PRICE_USD, deadline, v, r, s, sender=stranger
    )
    req = market.request(holder.address, usd_provider_id)
    market.tx("bookWithPermit", req, deadline, v, r, s, sender=holder.address)


@pytest.mark.parametrize("bad", ["expired", "wrong_amount", "wrong_signer"])
def test_a_bad_permit_is_refused(market: V2, holder: Any, usd_provider_id: int, bad: str) -> None:
    deadline = market.now() + (-1 if bad == "expired" else 3_600)
    value = d.PRICE_USD - 1 if bad == "wrong_amount" else d.PRICE_USD
    signer = dev_accounts(10)[0] if bad == "wrong_signer" else holder
    v, r, s = permit_signature(market, signer, value, deadline, nonce=0)
    req = market.request(holder.address, usd_provider_id)
    with market.reverts("MarketplacePermitFailed"):
        market.tx("bookWithPermit", req, deadline, v, r, s, sender=holder.address)


# ---------------------------------------------------------------------- misbehaving tokens


def test_a_fee_on_transfer_token_is_refused(
    market: V2, owner: str, provider: str, customer: str
) -> None:
    token, currency = enable_token(market, owner, "FeeOnTransferToken")
    listing = token_listing(market, provider, currency)
    with market.reverts("MarketplaceTokenShortfall", expected=1_000_000, received=990_000):
        token_book(market, customer, listing, token)
    token.transact("setSkim", 0, 1, sender=owner)  # even one unit short
    with market.reverts("MarketplaceTokenShortfall", expected=1_000_000, received=999_999):
        token_book(market, customer, listing, token, salt=1)
    assert market.balance(market.address, currency) == 0


def test_a_false_returning_token_is_refused(
    market: V2, owner: str, provider: str, customer: str
) -> None:
    token, currency = enable_token(market, owner, "FalseReturnToken")
    listing = token_listing(market, provider, currency)
    with pytest.raises(Exception) as info:  # noqa: PT011 - SafeERC20FailedOperation
        token_book(market, customer, listing, token)
    assert getattr(info.value, "error", "") in ("SafeERC20FailedOperation", "Unknown", "Reverted")
    assert market.balance(market.address, currency) == 0
    # once it behaves, a booking goes through; a false return on withdrawal keeps the credit
    token.transact("setFailing", False, sender=owner)
    booking = token_book(market, customer, listing, token, salt=1)
    market.tx("cancel", booking, sender=customer)
    token.transact("setFailing", True, sender=owner)
    with pytest.raises(Exception):  # noqa: B017
        market.tx("withdraw", currency, sender=customer)
    assert market.credit(customer, currency) == 1_000_000


def test_a_re_entrant_token_cannot_re_enter(
    market: V2, owner: str, provider: str, customer: str
) -> None:
    token, currency = enable_token(market, owner, "ReentrantToken")
    listing = token_listing(market, provider, currency)
    booking = token_book(market, customer, listing, token)
    market.tx("cancel", booking, sender=customer)
    # The token re-enters withdraw(currency) from inside the transfer of the customer's withdrawal.
    token.transact("arm", market.address, market.encode("withdraw", currency), False, sender=owner)
    market.tx("withdraw", currency, sender=customer)
    assert token.call("reentryAttempts") == 1
    assert token.call("reentrySucceeded") is False
    assert market.balance(customer, currency) == 1_000_000
    assert market.balance(market.address, currency) == 0
    # and re-entering book from a booking's transferFrom is refused too
    token.transact(
        "arm",
        market.address,
        market.encode("book", market.request(customer, listing, salt=5)),
        True,
        sender=owner,
    )
    with pytest.raises(Exception):  # noqa: B017 - the guard's revert, bubbled by the token
        token_book(market, customer, listing, token, salt=2)


def test_a_token_blocking_the_provider_blocks_nobody_else(
    market: V2, owner: str, provider: str, customer: str, other_customer: str, treasury: str
) -> None:
    token, currency = enable_token(market, owner, "BlockingToken")
    listing = token_listing(market, provider, currency)
    settled = token_book(market, customer, listing, token)
    market.drive(settled, "Settled")
    refunded = token_book(market, other_customer, listing, token)
    market.tx("cancel", refunded, sender=other_customer)
    token.transact("setBlocked", provider, sender=owner)

    with pytest.raises(Exception):  # noqa: B017 - BlockingTokenRecipientBlocked
        market.tx("withdraw", currency, sender=provider)
    payout = 1_000_000 - market.booking(settled)["fee"]
    assert market.credit(provider, currency) == payout  # kept, withdrawable to another address
    market.tx("withdraw", currency, sender=other_customer)
    market.tx("collectFees", currency, treasury, market.fees(currency), sender=owner)
    market.tx("withdraw", currency, sender=treasury)
    market.tx("withdrawTo", currency, treasury, sender=provider)
    assert market.balance(treasury, currency) == 1_000_000
    assert market.balance(market.address, currency) == 0


def test_a_token_booking_pulls_exactly_the_price(
    market: V2, provider: str, customer: str, usd_provider_id: int
) -> None:
    market.fund(customer, 3 * d.PRICE_USD)
    before = market.balance(customer, d.USD)
    req = market.request(customer, usd_provider_id)
    market.tx("book", req, sender=customer)
    assert market.balance(customer, d.USD) == before - d.PRICE_USD
    assert Web3.to_checksum_address(market.usd.address) == market.usd.address


def test_book_with_permit_refuses_an_ether_listing(
    market: V2, customer: str, provider_id: int
) -> None:
    req = market.request(customer, provider_id)
    with market.reverts("MarketplaceValueMismatch", sent=0, due=d.PRICE):
        market.tx(
            "bookWithPermit",
            req,
            market.now() + 60,
            27,
            b"\x00" * 32,
            b"\x00" * 32,
            sender=customer,
        )


def test_a_min_fee_above_a_listed_price_refuses_its_bookings(
    market: V2, owner: str, customer: str, provider_id: int
) -> None:
    zero = "0x" + "00" * 20
    eta = market.one(
        market.tx("scheduleChange", 3, zero, d.PRICE + 1, sender=owner), "ChangeScheduled"
    )["eta"]
    market.mine_at(eta)
    market.tx("applyChange", 3, zero, d.PRICE + 1, sender=owner)
    with market.reverts("MarketplacePriceBelowMinFee", price=d.PRICE, minFee=d.PRICE + 1):
        market.book_as(customer, provider_id)
