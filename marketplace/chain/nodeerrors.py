"""Node errors in the product's words: one code and one sentence per kind, never a stack trace.

Every node words the same failure its own way. anvil says `Insufficient funds for gas * price +
value`, Hardhat `Sender doesn't have enough funds to send tx. The max upfront cost is: ...`,
ganache `insufficient funds for gas * price + value` with its JavaScript `stack` in the same
JSON-RPC error object. `classify` reads the node's message (only the `message` of the JSON-RPC
error: a `stack` field is dropped) and maps it to a `NodeError` with a stable code, an HTTP status
for the web layer and a sentence for people. The markers below are the real messages of anvil
1.7, Hardhat 3 (EDR) and ganache 7.9 (tests/unit/test_node_errors.py holds them verbatim).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marketplace.errors import MarketplaceError

NODE_MESSAGE_LIMIT = 200
METHOD_NOT_FOUND = -32601  # JSON-RPC: the node does not implement the method

# What nodes say when a nonce is wrong (chain/nonces.py retries on them).
NONCE_MARKERS = (
    "nonce too low",
    "nonce too high",
    "already known",
    "known transaction",
    "replacement transaction underpriced",
    "invalid nonce",
    "nonce has already been used",
)


@dataclass(frozen=True)
class NodeErrorKind:
    """One kind of node failure: product code, HTTP status, sentence, and what nodes say."""

    code: str
    status: int
    sentence: str
    patterns: tuple[str, ...]  # regular expressions, matched case-insensitively

    def matches(self, message: str) -> bool:
        """Whether the node's `message` is this kind."""
        return any(re.search(p, message, re.IGNORECASE) for p in self.patterns)


# Order matters: the first kind that matches wins (a nonce replacement "underpriced" is a nonce
# problem, not a fee one; "gas required exceeds allowance: 0" means the sender holds nothing).
KINDS: tuple[NodeErrorKind, ...] = (
    NodeErrorKind(
        "insufficient_funds",
        409,
        "The sending account cannot pay this transaction's value and gas: fund it, or send less.",
        (
            r"insufficient funds",
            r"doesn't have enough funds",
            r"not enough funds",
            r"insufficient balance",
            r"exceeds allowance: 0\b",
        ),
    ),
    NodeErrorKind(
        "nonce_conflict",
        409,
        "Another transaction from this account went first (its transaction count changed); "
        "prepare the transaction again.",
        tuple(re.escape(marker) for marker in NONCE_MARKERS),
    ),
    NodeErrorKind(
        "fee_too_low",
        409,
        "The network's base fee rose above the fee this transaction offers; prepare it again.",
        (
            r"less than (the )?block'?s? base ?fee",
            r"too low for the next block",
            r"fee cap less than",
            r"underpriced",
            r"max fee per gas less than",
        ),
    ),
    NodeErrorKind(
        "gas_limit_too_high",
        409,
        "The transaction asks for more gas than a block can hold.",
        (r"exceeds (the )?block gas limit", r"intrinsic gas too high", r"gas limit reached"),
    ),
    NodeErrorKind(
        "gas_too_low",
        409,
        "The transaction's gas limit is too low for what it does; prepare it again.",
        (
            r"intrinsic gas too low",
            r"requires at least \d+ gas",
            r"out of gas",
            r"gas required exceeds allowance",
        ),
    ),
    NodeErrorKind(
        "wrong_chain",
        409,
        "The transaction is signed for another chain than the one this node serves.",
        (r"invalid chain ?id",),
    ),
    NodeErrorKind(
        "chain_incompatible",
        503,
        "This chain cannot run the marketplace's contract code (an opcode it uses is missing: "
        "the contracts need the Cancun hardfork). Nothing was sent; the operator must deploy "
        "on a chain with Cancun active.",
        (
            r"invalid opcode",
            r"\bnotactivated\b",
            r"opcode .*not (activated|defined)",
            r"invalidfeopcode",
        ),
    ),
)


class NodeError(MarketplaceError):
    """A node refused a call or transaction; `code`/`status`/`message` are the product's own."""

    def __init__(self, kind: NodeErrorKind, node_said: str) -> None:
        super().__init__(kind.sentence)
        self.kind = kind
        self.code = kind.code
        self.status = kind.status
        self.message = kind.sentence
        self.node_said = node_said

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: code, sentence, and the node's own (stack-free) first line."""
        return {"error": self.code, "message": self.message, "node": self.node_said}


def _error_object(exc: BaseException) -> Mapping[str, Any] | None:
    """The JSON-RPC error object behind `exc`, when there is one."""
    response = getattr(exc, "rpc_response", None)
    if isinstance(response, Mapping) and isinstance(response.get("error"), Mapping):
        return response["error"]  # type: ignore[no-any-return]
    # Some web3 exceptions carry only the error object's repr as their text.
    text = str(exc).strip()
    if text.startswith("{") and text.endswith("}"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return None


def _without_stack(message: str) -> str:
    """The first line of `message`, cut before any JavaScript or Python stack frame."""
    text = message.replace("\\n", "\n").strip()
    first = text.splitlines()[0] if text else ""
    first = re.split(r"\s+at\s+\S+\s+\(|Traceback \(most recent call last\)", first)[0]
    return first.strip()[:NODE_MESSAGE_LIMIT]


def rpc_code(exc: BaseException) -> int | None:
    """The JSON-RPC error code behind `exc`, if it carries one."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    error = _error_object(exc)
    value = error.get("code") if error is not None else None
    return value if isinstance(value, int) else None


def node_message(exc: BaseException) -> str:
    """What the node said, as one stack-free line (never the `stack` of its error object)."""
    error = _error_object(exc)
    if error is not None and isinstance(error.get("message"), str):
        return _without_stack(error["message"])
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return _without_stack(message)
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], str):
        return _without_stack(args[0])
    return _without_stack(str(exc)) or type(exc).__name__


def classify(exc: BaseException) -> NodeError | None:
    """The NodeError for a node's refusal, or None when it is no kind this module knows.

    Looks at the node's message and, for ganache's revert objects, the nested `message`.
    """
    said = node_message(exc)
    candidates = [said]
    data = getattr(exc, "data", None)
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        candidates.append(data["message"])
    for kind in KINDS:
        if any(kind.matches(text) for text in candidates):
            return NodeError(kind, said)
    return None


def kind_named(code: str) -> NodeErrorKind:
    """The kind with product code `code` (KeyError if there is none)."""
    for kind in KINDS:
        if kind.code == code:
            return kind
    raise KeyError(code)
