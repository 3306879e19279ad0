"""Nonces handed out one send at a time per account, so concurrent sends never collide.

Each account has a lock and a local counter. A send holds the account's lock from taking the
nonce until the node accepted the transaction, so no two sends get the same nonce. The counter
is checked against the node's `pending` count under the lock and resynced when they differ:
another client used the account, or a dev chain was reverted to a snapshot (a stale, too high
counter would otherwise leave a gap and the transaction would never be mined). If a send fails
the counter is dropped; a node that reports a nonce problem makes `send_with_nonce` retry.
Dev signing only runs on local chains, whose `pending` count is exact.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from web3 import Web3

from marketplace.chain.nodeerrors import NONCE_MARKERS

T = TypeVar("T")
log = logging.getLogger(__name__)


def is_nonce_error(exc: BaseException) -> bool:
    """Whether a node's error says the nonce was wrong (so a resync may fix it)."""
    text = str(exc).lower()
    return any(marker in text for marker in NONCE_MARKERS)


class NonceManager:
    """Consecutive nonces per account for one node; thread-safe."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._next: dict[str, int] = {}

    def _lock(self, address: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(address, threading.Lock())

    @contextmanager
    def reserve(self, address: str) -> Iterator[int]:
        """Hold the account's lock and yield its next nonce; consumed only if the block succeeds."""
        address = Web3.to_checksum_address(address)
        with self._lock(address):
            counted = self._next.get(address)
            nonce = int(self._w3.eth.get_transaction_count(address, "pending"))
            if counted is not None and counted != nonce:
                log.debug("nonce of %s resynced from %d to the node's %d", address, counted, nonce)
            try:
                yield nonce
            except BaseException:
                self._next.pop(address, None)  # unknown whether the node took it: re-read
                raise
            self._next[address] = nonce + 1


_managers: dict[str, NonceManager] = {}
_managers_guard = threading.Lock()


def nonce_manager(w3: Web3) -> NonceManager:
    """The process-wide NonceManager of the node `w3` talks to (one per endpoint)."""
    key = str(getattr(w3.provider, "endpoint_uri", None) or id(w3.provider))
    with _managers_guard:
        manager = _managers.get(key)
        if manager is None:
            manager = _managers[key] = NonceManager(w3)
        return manager


def send_with_nonce(w3: Web3, address: str, send: Callable[[int], T], attempts: int = 3) -> T:
    """Call `send(nonce)` under the account's lock; on a nonce error resync and retry."""
    manager = nonce_manager(w3)
    for attempt in range(1, attempts + 1):
        try:
            with manager.reserve(address) as nonce:
                return send(nonce)
        except Exception as exc:
            if attempt == attempts or not is_nonce_error(exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover
