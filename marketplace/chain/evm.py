"""Can this chain run the contracts? Probe the opcodes their EVM version may use.

The Marketplace is compiled for `cancun` (`marketplace.build`): its re-entrancy guard keeps its
lock in transient storage (TSTORE/TLOAD, EIP-1153) and solc may copy memory with MCOPY
(EIP-5656). A chain without Cancun accepts the deployment and `register` (which takes the
stake without touching the guard), and then every payout (`withdraw`, `releaseStake`, `book`)
fails with an invalid opcode, for ever. So deploy, `/healthz` and the auditor probe the node
first: each feature is a few bytes of init code run with `eth_call` (no transaction, no gas
paid) whose returned word proves the opcode executed. A node that answers anything else lacks
the feature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from marketplace.chain.nodeerrors import METHOD_NOT_FOUND, node_message, rpc_code
from marketplace.chain.rpc import NodeUnavailable
from marketplace.errors import MarketplaceError

# Hardforks in order; a contract compiled for one may use the opcodes of every earlier one.
HARDFORKS = ("shanghai", "cancun", "prague", "osaka")


@dataclass(frozen=True)
class Feature:
    """One EVM feature solc may emit, the hardfork that brought it, and its probe."""

    name: str
    eip: str
    hardfork: str
    init_code: str  # runs as a contract creation in eth_call; returns one 32-byte word
    expected: int  # the word the code returns where the opcodes work

    def describe(self) -> str:
        """`MCOPY (EIP-5656, cancun)`."""
        return f"{self.name} ({self.eip}, {self.hardfork})"


# Each probe uses only its own new opcode (PUSH1 rather than PUSH0 elsewhere), so a missing
# feature is named exactly. Layout: compute a word, MSTORE it, RETURN it.
FEATURES: tuple[Feature, ...] = (
    # mstore(push0, 7); return(0, 32)
    Feature("PUSH0", "EIP-3855", "shanghai", "0x60075f5260206000f3", 7),
    # tstore(0, 1); mstore(0, tload(0)); return(0, 32)
    Feature(
        "TSTORE/TLOAD transient storage",
        "EIP-1153",
        "cancun",
        "0x600160005d60005c60005260206000f3",
        1,
    ),
    # mstore(0, 42); mcopy(32, 0, 32); return(32, 32)
    Feature("MCOPY", "EIP-5656", "cancun", "0x602a6000526020600060205e60206020f3", 42),
    # mstore(0, clz(1)); return(0, 32)
    Feature("CLZ", "EIP-7939", "osaka", "0x60011e60005260206000f3", 255),
)


class ChainIncompatible(MarketplaceError):
    """The chain lacks an EVM feature the compiled contracts need (payouts would fail)."""

    def __init__(self, message: str, missing: tuple[Feature, ...]) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class EvmSupport:
    """What a probe found: the EVM version needed, and the features the node lacks."""

    evm_version: str
    missing: tuple[Feature, ...]
    node_messages: Mapping[str, str]  # feature name -> what the node said (stack-free)
    checked: bool = True  # False: the node does not implement eth_call, so no verdict

    @property
    def ok(self) -> bool:
        """Whether the node runs every feature the contracts may use (or cannot be asked)."""
        return not self.missing

    def sentence(self, chain_id: int | None = None) -> str:
        """The finding in plain words (empty when ok)."""
        if self.ok:
            return ""
        chain = f"chain {chain_id}" if chain_id is not None else "this chain"
        needed = sorted({f.hardfork for f in self.missing}, key=HARDFORKS.index)[-1]
        names = ", ".join(f.describe() for f in self.missing)
        return (
            f"{chain} cannot run the marketplace contracts: they are compiled for "
            f"{self.evm_version} and the node lacks {names}. Payouts (withdraw, releaseStake, "
            f"book) would fail with an invalid opcode and stakes would be stuck; use a chain "
            f"with the {needed.capitalize()} hardfork (or later) active."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ok, evm_version, missing features."""
        body: dict[str, Any] = {
            "ok": self.ok,
            "evm_version": self.evm_version,
            "missing": [f.describe() for f in self.missing],
        }
        if not self.checked:
            body["checked"] = False
        return body


def required_features(evm_version: str) -> tuple[Feature, ...]:
    """The features a contract compiled for `evm_version` may use (older forks: none probed)."""
    version = evm_version.lower()
    if version not in HARDFORKS:
        return ()
    upto = HARDFORKS.index(version)
    return tuple(f for f in FEATURES if HARDFORKS.index(f.hardfork) <= upto)


def artifact_evm_version(artifact: Mapping[str, Any]) -> str:
    """The `evmVersion` an artifact was compiled for (`marketplace.build` records it)."""
    compiler = artifact.get("compiler")
    if isinstance(compiler, Mapping):
        settings = compiler.get("settings")
        if isinstance(settings, Mapping) and isinstance(settings.get("evmVersion"), str):
            return str(settings["evmVersion"])
    return "cancun"  # the project's pinned setting (docs/toolchain.md)


def _word(result: Any) -> int | None:
    if isinstance(result, bytes | bytearray):
        raw = bytes(result)
    elif isinstance(result, str):
        text = result[2:] if result.startswith("0x") else result
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            return None
    else:
        return None
    return int.from_bytes(raw, "big") if len(raw) == 32 else None


def probe_evm(
    call: Callable[[str], Any],
    evm_version: str,
    *,
    is_outage: Callable[[BaseException], bool],
) -> EvmSupport:
    """Run each needed feature's init code through `call` (an `eth_call` of `{"data": code}`).

    A call that raises counts as the feature missing, unless `is_outage(exc)` says the node did
    not answer at all: then the exception propagates (no verdict on a node that is down).
    """
    missing: list[Feature] = []
    said: dict[str, str] = {}
    for feature in required_features(evm_version):
        try:
            word = _word(call(feature.init_code))
        except Exception as exc:
            if is_outage(exc):
                raise
            if rpc_code(exc) == METHOD_NOT_FOUND:  # e.g. a log-only test server: no verdict
                return EvmSupport(evm_version, (), {}, checked=False)
            missing.append(feature)
            said[feature.name] = node_message(exc)
            continue
        if word != feature.expected:
            missing.append(feature)
            said[feature.name] = f"returned {word!r}, expected {feature.expected}"
    return EvmSupport(evm_version, tuple(missing), said)


class Rpc(Protocol):
    """A raw JSON-RPC client (`marketplace.chain.rpc.RpcClient`)."""

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One call's result."""


def probe_rpc(rpc: Rpc, evm_version: str) -> EvmSupport:
    """Probe over a raw JSON-RPC client; NodeUnavailable propagates."""
    return probe_evm(
        lambda code: rpc.call("eth_call", [{"data": code}, "latest"]),
        evm_version,
        is_outage=lambda exc: isinstance(exc, NodeUnavailable),
    )
