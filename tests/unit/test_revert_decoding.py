"""Custom-error revert data decodes into the error's name, arguments and plain words."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode
from eth_utils.abi import function_signature_to_4byte_selector

from marketplace.chain.revert import RevertDecoder

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
        "name": "MarketplacePriceChanged",
        "inputs": [{"name": "expected", "type": "uint96"}, {"name": "current", "type": "uint96"}],
    },
    {"type": "error", "name": "MarketplacePaused", "inputs": []},
]


def _data(signature: str, types: list[str], values: list[Any]) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, values)).hex()


def test_ineligible_booking_names_the_failed_criterion_in_words() -> None:
    data = _data("MarketplaceIneligible(uint32,uint8)", ["uint32", "uint8"], [12, 7])
    revert = RevertDecoder(ABI).decode(data)
    assert revert.error == "MarketplaceIneligible"
    assert revert.args_by_name == {"providerId": 12, "criterion": 7}
    assert "score is below your minimum" in revert.message


def test_price_change_reports_both_prices() -> None:
    data = _data(
        "MarketplacePriceChanged(uint96,uint96)", ["uint96", "uint96"], [10**17, 2 * 10**17]
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


def test_truncated_arguments_keep_the_error_name() -> None:
    selector = function_signature_to_4byte_selector("MarketplacePriceChanged(uint96,uint96)")
    revert = RevertDecoder(ABI).decode("0x" + selector.hex() + "00ff")
    assert revert.error == "MarketplacePriceChanged"


def test_big_integers_become_strings_in_json() -> None:
    data = _data("MarketplacePriceChanged(uint96,uint96)", ["uint96", "uint96"], [2**90, 1])
    assert RevertDecoder(ABI).decode(data).to_dict()["args"]["expected"] == str(2**90)


def test_every_error_of_the_marketplace_abi_has_a_plain_words_message() -> None:
    from marketplace.artifacts import load_artifact
    from marketplace.chain.revert import _MESSAGES

    names = {e["name"] for e in load_artifact("Marketplace")["abi"] if e["type"] == "error"}
    assert names - set(_MESSAGES) == set()
