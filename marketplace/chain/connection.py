"""Connect to a node by RPC URL and tell whether it is a local development chain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from web3 import HTTPProvider, Web3

from marketplace.chain.rpc import NodeUnavailable

LOCAL_CHAIN_IDS = frozenset({31337, 1337})


class ChainUnavailable(NodeUnavailable):
    """The node at the RPC URL does not answer (to web3.py; the lean client raises the parent)."""


class ClosingHTTPProvider(HTTPProvider):
    """An HTTPProvider whose keep-alive connections its owner can close.

    web3.py's own provider keeps a requests.Session per thread and never closes them; their
    sockets are left to the garbage collector (a ResourceWarning). This one uses one session
    (requests' connection pool is shared safely between threads) and closes it on `close()`.
    """

    def __init__(self, rpc_url: str, **kwargs: Any) -> None:
        self.session = requests.Session()
        super().__init__(rpc_url, session=self.session, **kwargs)

    def close(self) -> None:
        """Close the pooled connections (a later request opens a new one)."""
        self.session.close()


def connect(rpc_url: str, timeout: float = 10.0) -> Web3:
    """A Web3 connected to `rpc_url`; raises ChainUnavailable if the node does not answer.

    Its owner calls `disconnect(w3)` when done with it.
    """
    w3 = Web3(ClosingHTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        w3.eth.chain_id  # noqa: B018 - a cheap round trip proves the node answers
    except Exception as exc:
        disconnect(w3)
        raise ChainUnavailable(f"no Ethereum node answers at {rpc_url}: {exc}") from exc
    return w3


@contextmanager
def connected(rpc_url: str, timeout: float = 10.0) -> Iterator[Web3]:
    """`connect()` for the length of a with-block, disconnected after it."""
    w3 = connect(rpc_url, timeout)
    try:
        yield w3
    finally:
        disconnect(w3)


def disconnect(w3: Web3) -> None:
    """Close the node connections of a Web3 from `connect()` (other providers are left alone)."""
    if isinstance(w3.provider, ClosingHTTPProvider):
        w3.provider.close()


def is_local_chain(chain_id: int) -> bool:
    """Whether dev signing is allowed: only anvil/ganache/hardhat style local chains."""
    return chain_id in LOCAL_CHAIN_IDS
