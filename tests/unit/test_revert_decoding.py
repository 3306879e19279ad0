"""Custom-error revert data decodes into the error's name, arguments and plain words."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.abi import function_signature_to_4byte_selector

from marketplace.chain.revert import _MESSAGES, UNKNOWN_REFUSAL, RevertDecoder, describe

ABI: list[dict[str, Any]] = [
    {
        "type": "error",
        "name": "MarketplaceIneligible",
        "inputs": [
            {"name": "providerId", "type": "uint32"},
            {"name": "criterion", "type": "uint8"},
        ],
    },
    {
        "type": "error",
        "name": "MarketplaceOfferChanged",
        "inputs": [{"name": "expected", "type": "uint32"}, {"name": "current", "type": "uint32"}],
    },
    {
        "type": "error",
        "name": "MarketplaceValueMismatch",
        "inputs": [{"name": "sent", "type": "uint256"}, {"name": "due", "type": "uint256"}],
    },
    {"type": "error", "name": "MarketplacePaused", "inputs": []},
]


def _data(signature: str, types: list[str], values: list[Any]) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, values)).hex()


def test_ineligible_booking_names_the_failed_criterion_in_words() -> None:
    data = _data("MarketplaceIneligible(uint32,uint8)", ["uint32", "uint8"], [12, 6])
    revert = RevertDecoder(ABI).decode(data)
    assert revert.error == "MarketplaceIneligible"
    assert revert.args_by_name == {"providerId": 12, "criterion": 6}
    assert "you blocked the owner of this listing" in revert.message


def test_a_changed_offer_reports_both_versions() -> None:
    data = _data("MarketplaceOfferChanged(uint32,uint32)", ["uint32", "uint32"], [3, 4])
    revert = RevertDecoder(ABI).decode(data)
    assert "version 4, you saw 3" in revert.message


def test_value_mismatch_reports_both_amounts() -> None:
    data = _data(
        "MarketplaceValueMismatch(uint256,uint256)", ["uint256", "uint256"], [10**17, 2 * 10**17]
    )
    revert = RevertDecoder(ABI).decode(data)
    assert "0.1 ETH" in revert.message and "0.2 ETH" in revert.message


def test_error_without_arguments_decodes() -> None:
    revert = RevertDecoder(ABI).decode(_data("MarketplacePaused()", [], []))
    assert revert.error == "MarketplacePaused"
    assert "paused" in revert.message


def test_revert_string_and_panic_are_decoded() -> None:
    decoder = RevertDecoder(ABI)
    assert decoder.decode(_data("Error(string)", ["string"], ["nope"])).message.endswith("nope")
    assert "overflow" in decoder.decode(_data("Panic(uint256)", ["uint256"], [0x11])).message


def test_unknown_selector_and_empty_data_do_not_crash() -> None:
    decoder = RevertDecoder(ABI)
    assert decoder.decode("0xdeadbeef").error == "Unknown"
    assert decoder.decode(None).error == "Unknown"
    assert decoder.decode("0x12").error == "Unknown"


def test_an_unknown_refusal_shows_neither_selector_nor_solidity_name() -> None:
    """People read a sentence; the selector and the name stay in the data and `error`."""
    revert = RevertDecoder(ABI).decode("0xdeadbeef")
    assert "deadbeef" not in revert.message and revert.data == "0xdeadbeef"
    assert revert.message == UNKNOWN_REFUSAL
    assert describe("MarketplaceNoSuchThing", {"x": 1}) == UNKNOWN_REFUSAL
    assert describe("MarketplaceOfferChanged", {}) == UNKNOWN_REFUSAL  # arguments missing


def test_amounts_and_attributes_read_in_words() -> None:
    assert describe("MarketplaceInsufficientStake", {"sent": 10**15, "required": 10**16}) == (
        "Stake 0.001 ETH is below the required 0.01 ETH.")
    assert "electric" in describe("MarketplaceConflictingAttributes", {"overlap": 1}).lower()
    assert "0x" not in describe("MarketplaceConflictingAttributes", {"overlap": 1})


def test_truncated_arguments_keep_the_error_name() -> None:
    selector = function_signature_to_4byte_selector("MarketplaceOfferChanged(uint32,uint32)")
    revert = RevertDecoder(ABI).decode("0x" + selector.hex() + "00ff")
    assert revert.error == "MarketplaceOfferChanged"


def test_big_integers_become_strings_in_json() -> None:
    data = _data("MarketplaceValueMismatch(uint256,uint256)", ["uint256", "uint256"], [2**90, 1])
    assert RevertDecoder(ABI).decode(data).to_dict()["args"]["sent"] == str(2**90)


def test_times_read_as_dates_and_stake_lock_says_why() -> None:
    assert "2027-01-15 08:00 UTC" in describe("MarketplaceSlotInPast", {"start": 1_800_000_000})
    unlock = describe("MarketplaceStakeLocked", {"providerId": 3, "until": 0})
    assert "deactivate the listing first" in unlock
    assert "locked until" in describe("MarketplaceStakeLocked", {"providerId": 3, "until": 9})


def _marketplace_errors() -> list[dict[str, Any]]:
    from marketplace.chain.scan import marketplace_abi

    return [e for e in marketplace_abi() if e["type"] == "error"]


def test_every_error_of_the_marketplace_abi_has_a_plain_words_message() -> None:
    names = {e["name"] for e in _marketplace_errors()}
    assert names - set(_MESSAGES) == set()


_SAMPLES = {"address": "0x" + "ab" * 20, "bool": True}


@pytest.mark.parametrize("error", _marketplace_errors(), ids=lambda e: str(e["name"]))
def test_every_message_renders_with_its_arguments(error: dict[str, Any]) -> None:
    args = {i["name"]: _SAMPLES.get(i["type"], 1) for i in error["inputs"]}
    message = describe(error["name"], args)
    assert not message.startswith("The contract refused"), message
    assert message.endswith((".", ")")), message
