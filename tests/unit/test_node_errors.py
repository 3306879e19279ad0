"""Node errors become the product's own codes and sentences, with no stack trace.

Every message below is verbatim what anvil 1.7.1, Hardhat 3.18 (EDR) and ganache 7.9.2 answered
(captured through web3.py 7.16 against each node), so a node's wording change shows up here.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import RPCResponse

from marketplace.chain.market import Market
from marketplace.chain.nodeerrors import NodeError, classify, node_message
from marketplace.chain.revert import ContractRevert
from marketplace.web.errors import node_refused

GANACHE_STACK = (
    "Error: insufficient funds for gas * price + value\n    at TransactionPool.prepareTransaction"
    " (/app/node_modules/ganache/dist/node/1.js:2:187813)"
)


def rpc_error(error: dict[str, Any]) -> Web3RPCError:
    """A Web3RPCError as web3.py raises it for a JSON-RPC error object."""
    response = cast(RPCResponse, {"jsonrpc": "2.0", "id": 1, "error": error})
    return Web3RPCError(str(error), rpc_response=response)


def hardhat(message: str, code: int = -32000) -> Web3RPCError:
    return rpc_error({"code": code, "message": message, "data": {"message": message}})


CASES: list[tuple[str, Web3RPCError, str]] = [
    ("anvil", rpc_error({"code": -32003, "message": "Insufficient funds for gas * price + value"}),
     "insufficient_funds"),
    ("hardhat", hardhat("Sender doesn't have enough funds to send tx. The max upfront cost is: "
                        "1000210000000000000 and the sender's balance is: 0."),
     "insufficient_funds"),
    ("ganache", rpc_error({"message": "insufficient funds for gas * price + value",
                           "stack": GANACHE_STACK, "code": -32003}),
     "insufficient_funds"),
    ("anvil", rpc_error({"code": -32003,
                         "message": "Out of gas: gas required exceeds allowance: 0"}),
     "insufficient_funds"),
    ("anvil", rpc_error({"code": -32003, "message": "nonce too low"}), "nonce_conflict"),
    ("hardhat", hardhat("Nonce too low. Expected nonce to be 2 but got 0. Note that "
                        "transactions can't be queued when automining."), "nonce_conflict"),
    ("anvil", rpc_error({"code": -32000, "message": "intrinsic gas too low"}), "gas_too_low"),
    ("hardhat", hardhat("Transaction requires at least 21000 gas but got 20000"), "gas_too_low"),
    ("ganache", rpc_error({"message": "intrinsic gas too low", "code": -32000,
                           "stack": "Error: intrinsic gas too low\n    at TransactionPool"}),
     "gas_too_low"),
    ("anvil", rpc_error({"code": -32000, "message": "intrinsic gas too high -- "
                         "tx.gas_limit > env.block.gas_limit"}), "gas_limit_too_high"),
    ("hardhat", hardhat("Transaction gas limit is 1000000000 and exceeds block gas limit of "
                        "60000000"), "gas_limit_too_high"),
    ("ganache", rpc_error({"message": "exceeds block gas limit", "code": -32000,
                           "stack": "Error: exceeds block gas limit\n    at TransactionPool"}),
     "gas_limit_too_high"),
    ("anvil", rpc_error({"code": -32003, "message": "max fee per gas less than block base fee"}),
     "fee_too_low"),
    ("hardhat", hardhat("Transaction maxFeePerGas (1) is too low for the next block, which has "
                        "a baseFeePerGas of 685153374"), "fee_too_low"),
    ("ganache", rpc_error({"message": "VM Exception while processing transaction: Transaction's "
                           "maxFeePerGas (1) is less than the block's baseFeePerGas (536449005) "
                           "(vm hf=shanghai -> block -> tx)", "code": -32000,
                           "stack": "RuntimeError: VM Exception\n    at Miner"}), "fee_too_low"),
    ("anvil", rpc_error({"code": -32003, "message": "invalid chain id for signer"}),
     "wrong_chain"),
    ("hardhat", hardhat("Trying to send a raw transaction with an invalid chainId. The expected "
                        "chainId is 31337", code=-32602), "wrong_chain"),
    ("ganache", rpc_error({"message": "Invalid chain id (999) for chain with id 1337.",
                           "stack": "Error: Invalid chain id\n    at new EIP1559"}),
     "wrong_chain"),
    ("anvil --hardfork shanghai", rpc_error({"code": -32603, "message": "EVM error NotActivated"}),
     "chain_incompatible"),
    ("ganache", rpc_error({"message": "VM Exception while processing transaction: invalid opcode",
                           "stack": "CallError: VM Exception while processing transaction: "
                           "invalid opcode\n    at Blockchain.simulateTransaction (/x/1.js:2:1)",
                           "code": -32000, "name": "CallError", "data": "0x"}),
     "chain_incompatible"),
]


@pytest.mark.parametrize(("node", "exc", "code"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_each_nodes_message_maps_to_the_products_code(node: str, exc: Exception, code: str) -> None:
    refusal = classify(exc)
    assert refusal is not None, f"{node}: {exc}"
    assert refusal.code == code
    assert "stack" not in refusal.node_said and "\n" not in refusal.node_said
    assert ".js:" not in refusal.node_said and "Error: " not in refusal.node_said


def test_insufficient_funds_is_a_409_with_a_sentence_and_no_stack_trace() -> None:
    exc = rpc_error({"message": "insufficient funds for gas * price + value",
                     "stack": GANACHE_STACK, "code": -32003})
    refusal = classify(exc)
    assert refusal is not None
    body = node_refused(refusal).to_dict()
    assert node_refused(refusal).status == 409
    assert body["error"] == "insufficient_funds" and body["field"] == "from"
    assert body["message"].startswith("The sending account cannot pay")
    assert body["details"] == {"node": "insufficient funds for gas * price + value"}
    assert "TransactionPool" not in str(body) and "1.js" not in str(body)


def test_a_message_no_kind_knows_is_left_alone() -> None:
    assert classify(rpc_error({"code": -32601, "message": "Method not found"})) is None


def test_node_message_drops_a_stack_even_inside_plain_text() -> None:
    exc = RuntimeError("boom happened\\n    at Foo.bar (/srv/app.js:1:2)")
    assert node_message(exc) == "boom happened"


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(Web3(), "0x" + "11" * 20)


def test_hardhats_empty_revert_with_invalid_opcode_names_the_missing_hardfork(
    market: Market,
) -> None:
    exc = ContractLogicError("VM Exception while processing transaction: invalid opcode", "0x")
    refusal = market.decode(exc)
    assert isinstance(refusal, NodeError) and refusal.code == "chain_incompatible"
    assert "Cancun" in refusal.message and "reverted without a reason" not in refusal.message


def test_ganaches_revert_object_is_decoded_not_shown_as_a_tuple(market: Market) -> None:
    data = {"hash": None, "programCounter": 3211, "reason": None, "message": "revert",
            "result": "0x866b065b000000000000000000000000000000000000000c9f2c9cd04674edea40000000"}
    exc = ContractLogicError(
        "execution reverted: VM Exception while processing transaction: revert",
        cast(dict[str, str], data))
    revert = market.decode(exc)
    assert isinstance(revert, ContractRevert) and revert.error == "MarketplaceStakeTooLarge"
    assert "(" not in revert.message.split("ETH")[0]


def test_ganaches_invalid_opcode_object_maps_to_chain_incompatible(market: Market) -> None:
    data = {"hash": None, "programCounter": 18846, "result": "0x", "reason": None,
            "message": "invalid opcode"}
    exc = ContractLogicError(
        "execution reverted: VM Exception while processing transaction: invalid opcode",
        cast(dict[str, str], data))
    refusal = market.decode(exc)
    assert isinstance(refusal, NodeError) and refusal.code == "chain_incompatible"


def test_an_empty_revert_without_a_known_cause_says_so_in_words(market: Market) -> None:
    revert = market.decode(ContractLogicError("execution reverted", {"data": "0x"}))
    assert isinstance(revert, ContractRevert)
    assert revert.message == "The transaction reverted without a reason."
