"""The reorg-safe event indexer: chain logs in, store projections out.

`create_indexer(settings)` wires the pieces from settings, the deployment record and the
compiled ABI; `Indexer.sync()` catches up with the head, `Indexer.follow()` keeps up with it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from marketplace.chain.deployment import Deployment, load_deployment
from marketplace.chain.rpc import RpcClient
from marketplace.chain.scan import Target, marketplace_decoder
from marketplace.config import Settings
from marketplace.indexer.retry import with_retry
from marketplace.indexer.scanner import (
    CheckpointMoved,
    DeepReorgError,
    DeploymentMismatch,
    Indexer,
    IndexerError,
    SyncStats,
)
from marketplace.store.engine import open_engine

__all__ = [
    "CheckpointMoved",
    "DeepReorgError",
    "DeploymentMismatch",
    "Indexer",
    "IndexerError",
    "SyncStats",
    "Target",
    "create_indexer",
    "marketplace_decoder",
]

def create_indexer(
    settings: Settings,
    *,
    follow: bool = False,
    progress: bool = False,
    deployment: Deployment | None = None,
    on_commit: Callable[[int, float], None] | None = None,
) -> Indexer:
    """An Indexer for `settings`: the deployment from `settings.deployment_path`, else from
    `deployments/<chainId>.json` of the chain the RPC URL serves. In follow mode node outages
    are retried forever; otherwise for `settings.retry_for` seconds. After each commit the
    living profiles of consenting customers learn the ratings it stored (`profile.feed`), and
    their notifications record listings that entered their top three or dropped below their
    criteria (`profile.notify`).
    """
    retry_for = None if follow else settings.retry_for
    rpc = RpcClient(settings.rpc_url)
    if deployment is None:
        path: Path | None = settings.deployment_path
        if path is not None:
            deployment = load_deployment(path=path)
        else:
            chain_id = with_retry(rpc.chain_id, "read the chain id", retry_for)
            deployment = load_deployment(chain_id)
    # Imported here: the indexer's own path (scanner, projections, store) does not need the
    # profile and matching packages, and importing them costs start-up time.
    from marketplace.profile.feed import store_feed
    from marketplace.profile.notify import store_notifier

    engine = open_engine(settings.database_url)
    # Ratings are learned where they arrive, right after each commit (consent permitting).
    learn = store_feed(engine, reorg_window=settings.confirmations).after_commit
    # Then news for consenting customers, ranked with what was just learned (`profile.notify`).
    notify = store_notifier(engine, reorg_window=settings.confirmations).after_commit

    def committed(block: int, at: float) -> None:
        learn(block, at)
        notify(block, at)
        if on_commit is not None:
            on_commit(block, at)

    return Indexer(
        engine,
        rpc,
        marketplace_decoder(),
        Target.from_deployment(deployment),
        confirmations=settings.confirmations,
        chunk_blocks=settings.chunk_blocks,
        max_chunk_blocks=settings.max_chunk_blocks,
        target_logs=settings.target_logs,
        poll_interval=settings.poll_interval,
        retry_for=retry_for,
        progress=progress,
        on_commit=committed,
    )
