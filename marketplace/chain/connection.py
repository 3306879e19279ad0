"""Connect to a node by RPC URL and tell whether it is a local development chain."""

from __future__ import annotations

from web3 import HTTPProvider, Web3

from marketplace.chain.rpc import NodeUnavailable

LOCAL_CHAIN_IDS = frozenset({31337, 1337})


class ChainUnavailable(NodeUnavailable):
    """The node at the RPC URL does not answer (to web3.py; the lean client raises the parent)."""


def connect(rpc_url: str, timeout: float = 10.0) -> Web3:
    """A Web3 connected to `rpc_url`; raises ChainUnavailable if the node does not answer."""
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        w3.eth.chain_id  # noqa: B018 - a cheap round trip proves the node answers
    except Exception as exc:
        raise ChainUnavailable(f"no Ethereum node answers at {rpc_url}: {exc}") from exc
    return w3


def is_local_chain(chain_id: int) -> bool:
    """Whether dev signing is allowed: only anvil/ganache/hardhat style local chains."""
    return chain_id in LOCAL_CHAIN_IDS
