"""Deployment, operator controls, two-step ownership, fee collection and withdrawals."""

from __future__ import annotations

from typing import Any

import pytest
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

from marketplace.artifacts import load_artifact
from tests.support.market_driver import MarketDriver

ZERO = "0x0000000000000000000000000000000000000000"


def deploy(
    market: MarketDriver,
    sender: str,
    owner: str,
    fee_bps: int,
    min_stake: int,
    windows: dict[str, int],
) -> TxReceipt:
    """Deploy another Marketplace directly; a constructor revert raises the decoded error."""
    artifact = load_artifact("Marketplace")
    factory = market.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    constructor = factory.constructor(owner, fee_bps, min_stake, tuple(windows.values()))
    try:
        tx_hash = constructor.transact({"from": sender})
    except ContractLogicError as exc:
        raise market.decode(exc) from exc
    return market.w3.eth.wait_for_transaction_receipt(tx_hash)


def settle_one(market: MarketDriver, customer: str, provider: str) -> int:
    """Arrange: one settled booking; returns the fee it accrued."""
    pid = market.register(provider)
    bid = market.book(customer, pid)
    market.transact("accept", bid, sender=provider)
    market.transact("complete", bid, sender=provider)
    market.transact("confirm", bid, sender=customer)
    return market.PRICE * market.FEE_BPS // 10_000


# ---------------------------------------------------------------------- deployment


def test_deployment_sets_owner_fee_stake_and_windows(market: MarketDriver, owner: str) -> None:
    assert market.call("owner") == owner
    assert market.call("feeRate") == market.FEE_BPS
    assert market.call("minStake") == market.MIN_STAKE
    assert market.call("windows") == tuple(market.WINDOWS.values())
    assert market.call("paused") is False
    assert market.call("accruedFees") == 0
    assert market.call("providerCount") == 0
    assert market.call("MAX_FEE_BPS") == 1_000
    assert market.call("DEFAULT_REFUND_BPS") == 5_000


def test_deployment_logs_ownership_initial_fee_and_min_stake(
    market: MarketDriver, owner: str, stranger: str
) -> None:
    receipt = deploy(market, stranger, owner, 123, 456, market.WINDOWS)

    assert [dict(e) for e in market.events("OwnershipTransferred", receipt)] == [
        {"previousOwner": ZERO, "newOwner": owner}
    ]
    assert market.events("FeeRateChanged", receipt) == [{"previousFeeBps": 0, "newFeeBps": 123}]
    assert market.events("MinStakeChanged", receipt) == [
        {"previousMinStake": 0, "newMinStake": 456}
    ]
    assert len(receipt["logs"]) == 3


def test_deployment_accepts_the_fee_cap(market: MarketDriver, owner: str) -> None:
    receipt = deploy(market, owner, owner, 1_000, 0, market.WINDOWS)

    assert receipt["status"] == 1


def test_deployment_refuses_a_fee_above_the_cap(market: MarketDriver, owner: str) -> None:
    with market.reverts("MarketplaceFeeAboveCap", feeBps=1_001, cap=1_000):
        deploy(market, owner, owner, 1_001, 0, market.WINDOWS)


MAX_WINDOW = 365 * 86_400
WINDOW_NAMES = ["respond", "service", "confirm", "arbitration", "stakeCooldown"]


def test_the_longest_window_is_a_year(market: MarketDriver) -> None:
    assert market.call("MAX_WINDOW") == MAX_WINDOW


@pytest.mark.parametrize("seconds", [1, MAX_WINDOW])
def test_deployment_accepts_windows_from_one_second_to_a_year(
    market: MarketDriver, owner: str, seconds: int
) -> None:
    receipt = deploy(market, owner, owner, 100, 0, dict.fromkeys(market.WINDOWS, seconds))

    assert receipt["status"] == 1


@pytest.mark.parametrize("window", WINDOW_NAMES)
def test_deployment_refuses_a_window_longer_than_a_year(
    market: MarketDriver, owner: str, window: str
) -> None:
    windows = {**market.WINDOWS, window: MAX_WINDOW + 1}

    with market.reverts("MarketplaceInvalidWindow"):
        deploy(market, owner, owner, 100, 0, windows)


@pytest.mark.parametrize("window", WINDOW_NAMES)
def test_deployment_refuses_a_zero_window(market: MarketDriver, owner: str, window: str) -> None:
    windows = {**market.WINDOWS, window: 0}

    with market.reverts("MarketplaceInvalidWindow"):
        deploy(market, owner, owner, 100, 0, windows)


def test_deployment_refuses_the_zero_address_as_owner(market: MarketDriver, owner: str) -> None:
    with market.reverts("OwnableInvalidOwner", owner=ZERO):
        deploy(market, owner, ZERO, 100, 0, market.WINDOWS)


# ---------------------------------------------------------------------- operator controls


OPERATOR_CALLS = [
    ("setFeeRate", (100,)),
    ("setPaused", (True,)),
    ("setArbiter", ("0x000000000000000000000000000000000000dEaD", True)),
    ("setMinStake", (1,)),
    ("collectFees", ("0x000000000000000000000000000000000000dEaD", 0)),
    ("transferOwnership", ("0x000000000000000000000000000000000000dEaD",)),
    ("renounceOwnership", ()),
]


@pytest.mark.parametrize(("function", "args"), OPERATOR_CALLS, ids=[c[0] for c in OPERATOR_CALLS])
@pytest.mark.parametrize("role", ["stranger", "arbiter", "provider", "customer"])
def test_operator_functions_refuse_everyone_but_the_owner(
    market: MarketDriver, roles: dict[str, str], function: str, args: tuple[Any, ...], role: str
) -> None:
    with market.reverts("OwnableUnauthorizedAccount", account=roles[role]):
        market.transact(function, *args, sender=roles[role])


def test_owner_sets_the_fee_rate_up_to_the_cap(market: MarketDriver, owner: str) -> None:
    receipt = market.transact("setFeeRate", 1_000, sender=owner)

    assert market.only_event(receipt, "FeeRateChanged") == {
        "previousFeeBps": market.FEE_BPS,
        "newFeeBps": 1_000,
    }
    assert market.call("feeRate") == 1_000


def test_set_fee_rate_refuses_a_rate_above_the_cap(market: MarketDriver, owner: str) -> None:
    with market.reverts("MarketplaceFeeAboveCap", feeBps=1_001, cap=1_000):
        market.transact("setFeeRate", 1_001, sender=owner)

    assert market.call("feeRate") == market.FEE_BPS


def test_owner_pauses_and_resumes(market: MarketDriver, owner: str) -> None:
    paused = market.transact("setPaused", True, sender=owner)
    assert market.only_event(paused, "PauseChanged") == {"paused": True, "by": owner}
    assert market.call("paused") is True

    resumed = market.transact("setPaused", False, sender=owner)
    assert market.only_event(resumed, "PauseChanged") == {"paused": False, "by": owner}
    assert market.call("paused") is False


def test_owner_adds_and_removes_an_arbiter(market: MarketDriver, owner: str, stranger: str) -> None:
    added = market.transact("setArbiter", stranger, True, sender=owner)
    assert market.only_event(added, "ArbiterChanged") == {"arbiter": stranger, "allowed": True}
    assert market.call("isArbiter", stranger) is True

    removed = market.transact("setArbiter", stranger, False, sender=owner)
    assert market.only_event(removed, "ArbiterChanged") == {"arbiter": stranger, "allowed": False}
    assert market.call("isArbiter", stranger) is False


def test_set_arbiter_refuses_the_zero_address(market: MarketDriver, owner: str) -> None:
    with market.reverts("MarketplaceZeroAddress"):
        market.transact("setArbiter", ZERO, True, sender=owner)


def test_owner_sets_the_min_stake_for_new_listings(
    market: MarketDriver, owner: str, provider: str
) -> None:
    receipt = market.transact("setMinStake", 3 * market.MIN_STAKE, sender=owner)

    assert market.only_event(receipt, "MinStakeChanged") == {
        "previousMinStake": market.MIN_STAKE,
        "newMinStake": 3 * market.MIN_STAKE,
    }
    assert market.call("minStake") == 3 * market.MIN_STAKE
    with market.reverts(
        "MarketplaceInsufficientStake", sent=market.MIN_STAKE, required=3 * market.MIN_STAKE
    ):
        market.register(provider)


# ---------------------------------------------------------------------- two-step ownership


def test_transfer_ownership_only_nominates_the_new_owner(
    market: MarketDriver, owner: str, stranger: str
) -> None:
    receipt = market.transact("transferOwnership", stranger, sender=owner)

    assert market.only_event(receipt, "OwnershipTransferStarted") == {
        "previousOwner": owner,
        "newOwner": stranger,
    }
    assert market.call("owner") == owner
    assert market.call("pendingOwner") == stranger
    market.transact("setFeeRate", 10, sender=owner)  # the old owner still operates
    with market.reverts("OwnableUnauthorizedAccount", account=stranger):
        market.transact("setFeeRate", 10, sender=stranger)


def test_only_the_nominee_can_accept_ownership(
    market: MarketDriver, owner: str, stranger: str, customer: str
) -> None:
    market.transact("transferOwnership", stranger, sender=owner)

    with market.reverts("OwnableUnauthorizedAccount", account=customer):
        market.transact("acceptOwnership", sender=customer)
    with market.reverts("OwnableUnauthorizedAccount", account=owner):
        market.transact("acceptOwnership", sender=owner)


def test_the_nominee_accepts_and_takes_over(
    market: MarketDriver, owner: str, stranger: str
) -> None:
    market.transact("transferOwnership", stranger, sender=owner)

    receipt = market.transact("acceptOwnership", sender=stranger)

    assert market.only_event(receipt, "OwnershipTransferred") == {
        "previousOwner": owner,
        "newOwner": stranger,
    }
    assert market.call("owner") == stranger
    assert market.call("pendingOwner") == ZERO
    with market.reverts("OwnableUnauthorizedAccount", account=owner):
        market.transact("setFeeRate", 10, sender=owner)
    market.transact("setFeeRate", 10, sender=stranger)
    assert market.call("feeRate") == 10


def test_a_new_nomination_replaces_the_previous_one(
    market: MarketDriver, owner: str, stranger: str, customer: str
) -> None:
    market.transact("transferOwnership", stranger, sender=owner)
    market.transact("transferOwnership", customer, sender=owner)

    with market.reverts("OwnableUnauthorizedAccount", account=stranger):
        market.transact("acceptOwnership", sender=stranger)
    market.transact("acceptOwnership", sender=customer)
    assert market.call("owner") == customer


def test_renounce_ownership_is_refused_so_fees_and_pause_never_strand(
    market: MarketDriver, owner: str
) -> None:
    with market.reverts("MarketplaceRenounceDisabled"):
        market.transact("renounceOwnership", sender=owner)

    assert market.call("owner") == owner
    market.transact("setPaused", True, sender=owner)
    market.transact("setPaused", False, sender=owner)


# ---------------------------------------------------------------------- fees


def test_collect_fees_moves_accrued_fees_to_the_treasury_credit(
    market: MarketDriver, owner: str, provider: str, customer: str, treasury: str
) -> None:
    fee = settle_one(market, customer, provider)
    assert market.call("accruedFees") == fee

    receipt = market.transact("collectFees", treasury, fee, sender=owner)

    assert market.only_event(receipt, "FeesCollected") == {"to": treasury, "amount": fee}
    assert market.call("accruedFees") == 0
    assert market.credit(treasury) == fee
    market.assert_solvent()


def test_collect_fees_may_take_part_of_the_fees(
    market: MarketDriver, owner: str, provider: str, customer: str, treasury: str
) -> None:
    fee = settle_one(market, customer, provider)

    market.transact("collectFees", treasury, fee - 1, sender=owner)

    assert market.call("accruedFees") == 1
    assert market.credit(treasury) == fee - 1
    market.assert_solvent()


def test_collect_fees_refuses_more_than_accrued(
    market: MarketDriver, owner: str, provider: str, customer: str, treasury: str
) -> None:
    fee = settle_one(market, customer, provider)

    with market.reverts("MarketplaceInsufficientFees", requested=fee + 1, available=fee):
        market.transact("collectFees", treasury, fee + 1, sender=owner)


def test_collect_fees_refuses_the_zero_address(
    market: MarketDriver, owner: str, provider: str, customer: str
) -> None:
    fee = settle_one(market, customer, provider)

    with market.reverts("MarketplaceZeroAddress"):
        market.transact("collectFees", ZERO, fee, sender=owner)


def test_treasury_withdraws_collected_fees(
    market: MarketDriver, owner: str, provider: str, customer: str, treasury: str, stranger: str
) -> None:
    fee = settle_one(market, customer, provider)
    market.transact("collectFees", treasury, fee, sender=owner)
    before = market.balance(stranger)

    receipt = market.transact("withdrawTo", stranger, sender=treasury)

    assert market.only_event(receipt, "Withdrawn") == {
        "account": treasury,
        "to": stranger,
        "amount": fee,
    }
    assert market.balance(stranger) == before + fee
    market.assert_solvent()


# ---------------------------------------------------------------------- withdrawals


def test_withdraw_pays_the_whole_credit_to_the_caller(
    market: MarketDriver, provider: str, customer: str, booking_id: int
) -> None:
    market.transact("decline", booking_id, sender=provider)
    before = market.balance(customer)

    receipt = market.transact("withdraw", sender=customer)

    assert market.only_event(receipt, "Withdrawn") == {
        "account": customer,
        "to": customer,
        "amount": market.PRICE,
    }
    assert market.balance(customer) == before + market.PRICE - market.gas_cost(receipt)
    assert market.credit(customer) == 0
    market.assert_solvent()


def test_withdraw_to_pays_the_whole_credit_to_another_address(
    market: MarketDriver, provider: str, customer: str, stranger: str, booking_id: int
) -> None:
    market.transact("decline", booking_id, sender=provider)
    before = market.balance(stranger)

    receipt = market.transact("withdrawTo", stranger, sender=customer)

    assert market.only_event(receipt, "Withdrawn") == {
        "account": customer,
        "to": stranger,
        "amount": market.PRICE,
    }
    assert market.balance(stranger) == before + market.PRICE
    assert market.credit(customer) == 0
    market.assert_solvent()


@pytest.mark.parametrize("function", ["withdraw", "withdrawTo"])
def test_withdraw_refuses_an_account_without_credit(
    market: MarketDriver, stranger: str, customer: str, function: str
) -> None:
    args = (customer,) if function == "withdrawTo" else ()

    with market.reverts("MarketplaceNothingToWithdraw", account=stranger):
        market.transact(function, *args, sender=stranger)


def test_a_credit_is_paid_only_once(
    market: MarketDriver, provider: str, customer: str, booking_id: int
) -> None:
    market.transact("decline", booking_id, sender=provider)
    market.transact("withdraw", sender=customer)

    with market.reverts("MarketplaceNothingToWithdraw", account=customer):
        market.transact("withdraw", sender=customer)


def test_withdraw_to_refuses_the_zero_address(
    market: MarketDriver, provider: str, customer: str, booking_id: int
) -> None:
    market.transact("decline", booking_id, sender=provider)

    with market.reverts("MarketplaceZeroAddress"):
        market.transact("withdrawTo", ZERO, sender=customer)

    assert market.credit(customer) == market.PRICE
