"""What both log readers (the indexer and the auditor) share: the target, the decoder, chunk sizes.

The indexer and the auditor read the same logs in the same way, `eth_getLogs` over adaptive
block ranges at one contract address, but keep independent folds of what they read (the auditor
must not trust the indexer). This module is the plumbing they share. Like `logs`, importing it
does not import web3, so the auditor may use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from marketplace.chain.deployment import Deployment
from marketplace.chain.logs import EventDecoder

CONTRACT_NAME = "Marketplace"
"""The compiled contract `deploy` deploys (its constructor deploys its module)."""

ABI_SOURCES = ("IMarketplace", CONTRACT_NAME, "MarketplaceModule")
"""The artifacts whose ABIs together describe the one marketplace address: the interface (every
function, event and error of the spec), the contract and its delegate-called module (their own
extra errors and events)."""


def marketplace_abi() -> list[dict[str, Any]]:
    """The whole ABI of the marketplace address: IMarketplace plus whatever the Marketplace and
    MarketplaceModule artifacts add (each entry once; a missing artifact but the interface's is
    skipped). Every binding, decoder and crafter uses this, never one artifact's ABI alone."""
    from marketplace.artifacts import load_artifact
    from marketplace.errors import ArtifactNotFoundError

    merged: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in ABI_SOURCES:
        try:
            abi = load_artifact(name)["abi"]
        except ArtifactNotFoundError:
            if name == ABI_SOURCES[0]:
                raise
            continue
        for entry in abi:
            if entry.get("type") in ("constructor", "fallback", "receive"):
                if name != CONTRACT_NAME:
                    continue
            key = json.dumps(
                [entry.get("type"), entry.get("name"), _types(entry.get("inputs", []))]
            )
            if key not in seen:
                seen.add(key)
                merged.append(entry)
    return merged


def _types(params: list[dict[str, Any]]) -> list[Any]:
    """Parameter types (structs by their components' types): names differ between the
    interface and an implementation (`currency` / `currency_`) for one and the same entry."""
    return [_types(p["components"]) if "components" in p else p["type"] for p in params]


def marketplace_decoder() -> EventDecoder:
    """A decoder for every event of the marketplace (`marketplace_abi`)."""
    return EventDecoder(marketplace_abi())


@dataclass(frozen=True)
class Target:
    """What to read: the contract at `address` on `chain_id`, deployed at `start_block`."""

    chain_id: int
    address: str
    start_block: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", self.address.lower())

    @classmethod
    def from_deployment(cls, deployment: Deployment) -> Target:
        """The target a deployment record describes."""
        return cls(deployment.chain_id, deployment.address, deployment.start_block)


class ChunkSizer:
    """Block range of the next eth_getLogs.

    A refusal halves the range and caps growth there; successes steer the range toward
    `target_logs` logs per request. After `probe_after` successes at the cap, the cap is
    lifted to find out whether the node accepts more again.
    """

    def __init__(self, initial: int, maximum: int, target_logs: int, probe_after: int = 20) -> None:
        self.size = max(1, min(initial, maximum))
        self.maximum = maximum
        self.target_logs = target_logs
        self.ceiling = maximum
        self.probe_after = probe_after
        self._at_ceiling = 0

    def shrink(self) -> bool:
        """Halve the range after a refusal and cap it there; False when it is one block."""
        if self.size == 1:
            return False
        self.size = max(1, self.size // 2)
        self.ceiling = self.size
        self._at_ceiling = 0
        return True

    def observe(self, blocks: int, logs: int) -> None:
        """Adjust after a successful request of `blocks` blocks that returned `logs` logs."""
        if logs > 2 * self.target_logs:
            self.size = max(1, min(self.size, blocks) // 2)
            return
        if blocks < self.size or logs >= self.target_logs // 2:
            return  # a short range at the head, or about the right amount of logs
        if self.size >= self.ceiling and self.ceiling < self.maximum:
            self._at_ceiling += 1
            if self._at_ceiling < self.probe_after:
                return
            self.ceiling = self.maximum  # probe: a refusal puts the cap right back
            self._at_ceiling = 0
        self.size = min(self.ceiling, self.size * 2)
