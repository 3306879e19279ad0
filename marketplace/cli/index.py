"""`marketplace index`: the indexer from the command line (catch up, or follow the head)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from marketplace.chain.rpc import NodeUnavailable
from marketplace.cli.exits import (
    CommandFailed,
    ExitCode,
    epilog,
    reported_as_exit_status,
    status_of,
)
from marketplace.cli.options import (
    database_option,
    deployment_option,
    progress_option,
    rpc_option,
)
from marketplace.config import load_settings
from marketplace.errors import MarketplaceError


def _configure_logging(quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )


@click.command(
    "index",
    epilog=epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.NODE_UNREACHABLE, ExitCode.DEEP_REORG,
                  ExitCode.FAILED, ExitCode.INTERRUPTED),
)
@click.option("--follow", is_flag=True, help="After catching up, keep following the head.")
@rpc_option
@deployment_option
@database_option
@click.option(
    "--confirmations",
    type=click.IntRange(min=1),
    help="Blocks below the head that stay provisional; also the deepest reorg the indexer "
    "rolls back by itself [env MARKETPLACE_CONFIRMATIONS; default 12].",
)
@click.option(
    "--chunk-blocks",
    type=click.IntRange(min=1),
    help="First eth_getLogs block range; it then adapts [env MARKETPLACE_CHUNK_BLOCKS; 20].",
)
@click.option(
    "--max-chunk-blocks",
    type=click.IntRange(min=1),
    help="Largest eth_getLogs block range [env MARKETPLACE_MAX_CHUNK_BLOCKS; 10000].",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    help="Seconds between head polls in --follow [env MARKETPLACE_POLL_INTERVAL; 0.25].",
)
@click.option(
    "--retry-for",
    type=click.FloatRange(min=0),
    help="Seconds to keep retrying an unreachable node before giving up (not with --follow, "
    "which retries forever) [env MARKETPLACE_RETRY_FOR; 60].",
)
@click.option("--until", type=click.IntRange(min=0), help="Stop after this block.")
@progress_option
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def index(
    follow: bool,
    rpc_url: str | None,
    deployment_path: Path | None,
    database_url: str | None,
    confirmations: int | None,
    chunk_blocks: int | None,
    max_chunk_blocks: int | None,
    poll_interval: float | None,
    retry_for: float | None,
    until: int | None,
    progress: bool | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Index the marketplace's events into the store (catch up, or follow with --follow).

    Safe to stop at any moment: every chunk is committed with its checkpoint, and the next run
    resumes after the last committed block.
    """
    from marketplace.indexer import DeepReorgError, Indexer, create_indexer
    from marketplace.store.engine import describe_url

    _configure_logging(quiet, verbose)
    with reported_as_exit_status():
        settings = load_settings(
            rpc_url=rpc_url,
            deployment_path=deployment_path,
            database_url=database_url,
            confirmations=confirmations,
            chunk_blocks=chunk_blocks,
            max_chunk_blocks=max_chunk_blocks,
            poll_interval=poll_interval,
            retry_for=retry_for,
        )
    show_progress = sys.stderr.isatty() and not quiet if progress is None else progress
    log = logging.getLogger("marketplace.indexer")
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():  # asked twice: stop now; the open transaction rolls back
            raise KeyboardInterrupt
        log.warning("signal %d: stopping after the chunk being committed", signum)
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    indexer: Indexer | None = None
    try:
        indexer = create_indexer(settings, follow=follow, progress=show_progress)
        indexer.stopping = stop
        indexer.open()
        last, _ = indexer.checkpoint()
        log.info(
            "indexing %s on chain %d into %s from block %d",
            indexer.target.address, indexer.target.chain_id,
            describe_url(settings.database_url), last + 1,
        )
        if follow:
            indexer.follow(stop)
            log.info("stopped at block %d", indexer.checkpoint()[0])
            return
        stats = indexer.sync(until=until)
        last, _ = indexer.checkpoint()
        if stop.is_set():
            raise KeyboardInterrupt
        log.info(
            "done: block %d, %d events in %.1f s (%.0f events/s), %d skipped, %d reorgs",
            last, stats.events, stats.seconds, stats.events_per_second, stats.skipped,
            stats.reorgs,
        )
    except KeyboardInterrupt:
        raise CommandFailed(
            "interrupted; the next run resumes from the last committed block",
            ExitCode.INTERRUPTED,
        ) from None
    except DeepReorgError as exc:
        raise CommandFailed(str(exc), ExitCode.DEEP_REORG) from exc
    except NodeUnavailable as exc:
        if follow and stop.is_set():
            log.info("stopped while waiting for the node or the store")
            return
        raise CommandFailed(str(exc), ExitCode.NODE_UNREACHABLE) from exc
    except MarketplaceError as exc:
        raise CommandFailed(str(exc), status_of(exc)) from exc
    finally:
        if indexer is not None:
            indexer.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
