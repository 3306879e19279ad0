"""Operator and timelock: the constructor's Setup applied through the same events as later changes,
every change kind scheduled, applied after the delay by anyone, cancellable, and refused when
invalid; the immediate pause; fee collection per currency."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from marketplace.domain import ChangeKind
from tests.contracts import driver as d
from tests.contracts.driver import V2

KIND = {name: i for i, name in enumerate(d.CHANGE_KIND)}
ZERO = "0x" + "00" * 20


def schedule(market: V2, owner: str, kind: str, account: str, value: int) -> int:
    receipt = market.tx("scheduleChange", KIND[kind], account, value, sender=owner)
    event = market.one(receipt, "ChangeScheduled")
    assert (event["kind"], event["value"]) == (KIND[kind], value)
    assert event["eta"] == market.now() + d.CHANGE_DELAY
    return int(event["eta"])


def apply_change(market: V2, owner: str, kind: str, account: str, value: int) -> dict[str, Any]:
    eta = schedule(market, owner, kind, account, value)
    market.mine_at(eta)
    receipt = market.tx("applyChange", KIND[kind], account, value, sender=market.roles["stranger"])
    assert market.one(receipt, "ChangeApplied")["value"] == value
    return dict(receipt)


# ---------------------------------------------------------------------- deployment


def test_the_setup_is_applied(market: V2, owner: str, arbiter: str, attestor: str) -> None:
    assert market.call("feeRate") == d.FEE_BPS
    assert market.call("minStake") == d.MIN_STAKE
    assert market.call("disputeBond") == d.DISPUTE_BOND
    assert market.min_fee(d.ETH) == d.MIN_FEE_ETH
    assert market.min_fee(d.USD) == d.MIN_FEE_USD
    assert market.call("changeDelay") == d.CHANGE_DELAY
    assert market.call("arbiterId", arbiter) == 1
    assert market.call("defaultArbiter") == 1
    assert market.call("arbiter", 1) == [arbiter, True]
    assert market.call("attestorId", attestor) == 1
    assert market.call("attestor", 1) == [attestor, True]
    assert market.call("namedAttestors") == 1
    assert market.call("currencyCount") == 1
    assert market.call("currencyId", market.usd.address) == d.USD
    token, enabled, min_fee = market.call("currency", d.USD)
    assert (token, enabled, min_fee) == (market.usd.address, True, d.MIN_FEE_USD)
    windows = market.as_dict("windows")
    assert {k: windows[k] for k in d.WINDOWS} == d.WINDOWS
    assert market.call("MAX_FEE_BPS") == 1_000
    assert market.call("paused") is False


def test_the_setup_emits_the_same_events_as_later_changes(
    market: V2, roles: dict[str, Any]
) -> None:
    # The deployment's logs: a ChangeApplied per setting plus the naming events.
    logs = market.w3.eth.get_logs({"fromBlock": 0, "address": market.address})
    names = []
    for log in logs:
        for name in ("ChangeApplied", "ArbiterSet", "AttestorSet", "CurrencySet"):
            event = getattr(market.contract.events, name)()
            try:
                event.process_log(log)
            except Exception:  # noqa: BLE001 - not this event
                continue
            names.append(name)
    assert names.count("ChangeApplied") >= 8
    assert {"ArbiterSet", "AttestorSet", "CurrencySet"} <= set(names)


# ---------------------------------------------------------------------- timelock


@pytest.mark.parametrize(
    ("kind", "value", "view", "args"),
    [
        ("FeeRate", 400, "feeRate", ()),
        ("MinStake", 2 * d.MIN_STAKE, "minStake", ()),
        ("DisputeBond", 3 * d.DISPUTE_BOND, "disputeBond", ()),
        ("MinFee", 5 * d.MIN_FEE_ETH, "minFee", (d.ETH,)),
    ],
)
def test_a_change_takes_effect_only_after_the_delay(
    market: V2, owner: str, stranger: str, kind: str, value: int, view: str, args: tuple[Any, ...]
) -> None:
    before = market.call(view, *args)
    eta = schedule(market, owner, kind, ZERO, value)
    assert market.call("changeEta", KIND[kind], ZERO, value) == eta

    market.mine_at(eta - 2)
    with market.reverts("MarketplaceChangeNotReady", eta=eta):
        market.tx("applyChange", KIND[kind], ZERO, value, sender=stranger)
    assert market.call(view, *args) == before

    market.at(eta, "applyChange", KIND[kind], ZERO, value, sender=stranger)
    assert market.call(view, *args) == value
    assert market.call("changeEta", KIND[kind], ZERO, value) == 0


def test_only_the_operator_schedules_and_cancels(market: V2, owner: str, stranger: str) -> None:
    with pytest.raises(Exception):  # noqa: B017 - Ownable's error
        market.tx("scheduleChange", KIND["FeeRate"], ZERO, 100, sender=stranger)
    schedule(market, owner, "FeeRate", ZERO, 100)
    with pytest.raises(Exception):  # noqa: B017
        market.tx("cancelChange", KIND["FeeRate"], ZERO, 100, sender=stranger)
    receipt = market.tx("cancelChange", KIND["FeeRate"], ZERO, 100, sender=owner)
    assert market.one(receipt, "ChangeCancelled")["value"] == 100
    market.mine_at(market.now() + d.CHANGE_DELAY + 1)
    with market.reverts("MarketplaceChangeNotScheduled"):
        market.tx("applyChange", KIND["FeeRate"], ZERO, 100, sender=stranger)


def test_the_same_change_cannot_be_scheduled_twice(market: V2, owner: str) -> None:
    eta = schedule(market, owner, "FeeRate", ZERO, 100)
    with market.reverts("MarketplaceChangeAlreadyScheduled", eta=eta):
        market.tx("scheduleChange", KIND["FeeRate"], ZERO, 100, sender=owner)


def test_a_fee_rate_above_the_cap_is_refused(market: V2, owner: str) -> None:
    with pytest.raises(Exception) as info:  # noqa: PT011
        market.tx("scheduleChange", KIND["FeeRate"], ZERO, 1_001, sender=owner)
    assert getattr(info.value, "error", "") in (
        "MarketplaceFeeAboveCap",
        "MarketplaceInvalidChange",
    )


@pytest.mark.parametrize(
    ("kind", "value"),
    [("MinFee", 0), ("Arbiter", 2), ("Attestor", 2), ("Currency", 2)],
)
def test_an_invalid_change_is_refused(
    market: V2, owner: str, stranger: str, kind: str, value: int
) -> None:
    account = ZERO if kind == "MinFee" else stranger
    with market.reverts("MarketplaceInvalidChange"):
        market.tx("scheduleChange", KIND[kind], account, value, sender=owner)


def test_naming_an_arbiter_and_making_it_default(
    market: V2, owner: str, other_arbiter: str
) -> None:
    apply_change(market, owner, "Arbiter", other_arbiter, 1)
    assert market.call("arbiterId", other_arbiter) == 2
    assert market.call("arbiter", 2) == [other_arbiter, True]
    apply_change(market, owner, "DefaultArbiter", other_arbiter, 0)
    assert market.call("defaultArbiter") == 2


def test_the_operator_cannot_name_itself_arbiter_at_once(market: V2, owner: str) -> None:
    schedule(market, owner, "Arbiter", owner, 1)
    assert (
        market.call("arbiterId", owner) == 0
    )  # only after the delay, announced by ChangeScheduled


def test_naming_and_removing_an_attestor(market: V2, owner: str, stranger: str) -> None:
    apply_change(market, owner, "Attestor", stranger, 1)
    assert market.call("attestorId", stranger) == 2
    assert market.call("namedAttestors") == 0b11
    apply_change(market, owner, "Attestor", stranger, 0)
    assert market.call("attestor", 2) == [stranger, False]
    assert market.call("namedAttestors") == 0b01


def test_disabling_a_currency_stops_new_listings_and_bookings_only(
    market: V2, owner: str, provider: str, customer: str
) -> None:
    listing = market.register(provider, currency=d.USD)
    booking = market.book_as(customer, listing)
    apply_change(market, owner, "Currency", market.usd.address, 0)

    with market.reverts("MarketplaceCurrencyDisabled", currency=d.USD):
        market.register(provider, currency=d.USD)
    with market.reverts("MarketplaceCurrencyDisabled", currency=d.USD):
        market.book_as(customer, listing, salt=1)
    # the escrow still settles and the credit can still be withdrawn
    market.drive(booking, "Cancelled")
    market.tx("withdraw", d.USD, sender=customer)
    assert market.credit(customer, d.USD) == 0


# ---------------------------------------------------------------------- pause and fees


def test_pause_is_immediate_and_never_traps_funds(
    market: V2, owner: str, provider: str, customer: str, provider_id: int, booking_id: int
) -> None:
    receipt = market.tx("setPaused", True, sender=owner)
    assert market.one(receipt, "PauseChanged")["paused"] is True
    with market.reverts("MarketplacePaused"):
        market.register(provider)
    with market.reverts("MarketplacePaused"):
        market.book_as(customer, provider_id, salt=9)
    market.tx("cancel", booking_id, sender=customer)
    market.tx("withdraw", d.ETH, sender=customer)
    market.tx("setPaused", False, sender=owner)


def test_collect_fees_per_currency(
    market: V2, owner: str, treasury: str, provider: str, customer: str
) -> None:
    eth = market.booking_in("Settled", customer, market.register(provider))
    usd = market.booking_in("Settled", customer, market.register(provider, currency=d.USD))
    fee_eth, fee_usd = market.booking(eth)["fee"], market.booking(usd)["fee"]
    assert (market.fees(d.ETH), market.fees(d.USD)) == (fee_eth, fee_usd)

    with market.reverts("MarketplaceInsufficientFees", currency=d.USD, requested=fee_usd + 1):
        market.tx("collectFees", d.USD, treasury, fee_usd + 1, sender=owner)
    receipt = market.tx("collectFees", d.USD, treasury, fee_usd, sender=owner)
    assert market.one(receipt, "FeesCollected")["currency"] == d.USD
    assert market.credit(treasury, d.USD) == fee_usd
    assert market.fees(d.ETH) == fee_eth
    market.tx("withdraw", d.USD, sender=treasury)
    assert market.balance(treasury, d.USD) == fee_usd


def test_renounce_is_disabled(market: V2, owner: str) -> None:
    from marketplace.artifacts import load_artifact
    from marketplace.chain.market import Market

    names = {e.get("name") for e in market.abi}
    extra = [e for e in load_artifact("Marketplace")["abi"] if e.get("name") not in names]
    own = Market(
        market.w3,
        market.address,
        [e for e in market.abi if e.get("type") != "constructor"]
        + [e for e in extra if e.get("type") not in ("constructor", "fallback", "receive")],
    )
    with pytest.raises(Exception) as info:  # noqa: PT011
        own.transact("renounceOwnership", sender=owner)
    assert getattr(info.value, "error", "") == "MarketplaceRenounceDisabled"


# ---------------------------------------------------------------------- ownership and setup


def test_ownership_is_two_step(market: V2, owner: str, stranger: str, customer: str) -> None:
    with market.reverts("OwnableUnauthorizedAccount", account=stranger):
        market.tx("transferOwnership", stranger, sender=stranger)
    receipt = market.tx("transferOwnership", stranger, sender=owner)
    assert market.one(receipt, "OwnershipTransferStarted")["newOwner"] == stranger
    assert market.call("pendingOwner") == stranger
    assert market.call("owner") == owner  # until accepted
    with market.reverts("OwnableUnauthorizedAccount", account=customer):
        market.tx("acceptOwnership", sender=customer)
    receipt = market.tx("acceptOwnership", sender=stranger)
    assert market.one(receipt, "OwnershipTransferred")["newOwner"] == stranger
    assert market.call("owner") == stranger


def constructor_error(market: V2, roles: dict[str, Any], **changes: object) -> str:
    """The custom error a deployment with a changed Setup reverts with."""
    from marketplace.artifacts import load_artifact
    from tests.contracts.conftest import setup_struct

    artifact = load_artifact("Marketplace")
    setup = list(setup_struct(artifact["abi"], roles, market.usd.address if market.usd else ZERO))
    names = [
        c["name"]
        for c in next(e for e in artifact["abi"] if e.get("type") == "constructor")["inputs"][0][
            "components"
        ]
    ]
    for key, value in changes.items():
        setup[names.index(key)] = value
    errors = [e for e in market.abi if e.get("type") == "error"]
    known = {e.get("name") for e in artifact["abi"]}
    abi = artifact["abi"] + [e for e in errors if e["name"] not in known]
    factory = market.w3.eth.contract(abi=abi, bytecode=artifact["bytecode"])
    with pytest.raises(Exception) as info:  # noqa: PT011 - decoded below
        factory.constructor(tuple(setup)).estimate_gas({"from": roles["owner"]})
    return str(getattr(market.decode(info.value), "error", ""))


def test_a_deployment_refuses_a_bad_setup(market: V2, roles: dict[str, Any]) -> None:
    assert constructor_error(market, roles, owner=ZERO) in (
        "OwnableInvalidOwner",
        "MarketplaceZeroAddress",
    )
    assert constructor_error(market, roles, windows=(0, 1, 1, 1, 1)) == "MarketplaceInvalidWindow"
    assert constructor_error(market, roles, feeBps=1_001) in (
        "MarketplaceFeeAboveCap",
        "MarketplaceInvalidChange",
    )


def test_finding_a_zero_change_delay_is_refused(market: V2, roles: dict[str, Any]) -> None:
    """FINDING (fails against v2-contract 243fa57): IMarketplaceAdmin.MarketplaceInvalidWindow says
    windows "must be from one second to MAX_WINDOW (365 days); so must the change delay", but the
    constructor checks only `changeDelay > MAX_WINDOW`: a deployment with changeDelay 0 has no
    timelock at all (scheduleChange and applyChange in the same block), which issue 12 item 5
    forbids ("changes ... take effect only after a delay announced by an event")."""
    assert constructor_error(market, roles, changeDelay=0) == "MarketplaceInvalidWindow"


def test_an_owner_block_needs_an_owner(market: V2, customer: str) -> None:
    with market.reverts("MarketplaceZeroAddress"):
        market.tx("setOwnerBlocked", ZERO, True, sender=customer)


def test_a_stake_must_fit_96_bits(market: V2, provider: str) -> None:
    market.rpc("anvil_setBalance", [provider, hex(2**97)])
    with market.reverts("MarketplaceStakeTooLarge"):
        market.register(provider, stake=2**96)


def test_attestor_ids_run_out_at_32(market: V2, owner: str) -> None:
    accounts = [Web3.to_checksum_address(f"0x{i:040x}") for i in range(0x1000, 0x1000 + 31)]
    for account in accounts:
        market.tx("scheduleChange", KIND["Attestor"], account, 1, sender=owner)
    market.mine_at(market.now() + d.CHANGE_DELAY + 1)
    for account in accounts:
        market.tx("applyChange", KIND["Attestor"], account, 1, sender=owner)
    assert market.call("attestorId", accounts[-1]) == 32
    extra = Web3.to_checksum_address(f"0x{0x2000:040x}")
    market.tx("scheduleChange", KIND["Attestor"], extra, 1, sender=owner)
    market.mine_at(market.now() + d.CHANGE_DELAY + 1)
    with market.reverts("MarketplaceIdsExhausted", kind=KIND["Attestor"]):
        market.tx("applyChange", KIND["Attestor"], extra, 1, sender=owner)


def test_finding_fees_cannot_be_collected_to_the_marketplace_itself(
    market: V2, owner: str, customer: str, provider_id: int
) -> None:
    """FINDING (fails against v2-contract 243fa57): `withdrawTo` refuses the marketplace as a
    recipient (`MarketplaceInvalidRecipient`), but `collectFees(currency, to, amount)` checks only
    `to != 0`: fees collected to the marketplace's own address become a credit nobody can ever
    withdraw (only the marketplace could call `withdraw` for it). Solvency still holds, the fees
    are stuck."""
    market.booking_in("Settled", customer, provider_id)
    fee = market.fees()
    with market.reverts("MarketplaceInvalidRecipient", to=market.address):
        market.tx("collectFees", d.ETH, market.address, fee, sender=owner)


def test_the_module_is_fixed_and_cannot_be_initialized_again(
    market: V2, owner: str, stranger: str
) -> None:
    module = market.call("MODULE")
    assert len(market.w3.eth.get_code(module)) > 0
    setup = market.struct("initialize", 0, owner=stranger, feeBps=1_000, minFee=1)
    for who in (stranger, owner):
        with market.reverts("MarketplaceNotConstructing"):
            market.tx("initialize", setup, sender=who)
    assert market.call("owner") == owner
    assert market.call("feeRate") == d.FEE_BPS


@pytest.mark.parametrize("kind", [ChangeKind.MIN_STAKE, ChangeKind.DISPUTE_BOND])
def test_a_zero_stake_or_bond_is_refused(market: V2, owner: str, kind: ChangeKind) -> None:
    """A free dispute pays to abuse; a zero stake leaves a no-show with nothing to slash."""
    with market.reverts("MarketplaceInvalidChange"):
        market.tx("scheduleChange", int(kind), ZERO, 0, sender=owner)
