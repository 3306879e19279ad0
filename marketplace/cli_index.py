"""`marketplace index` and `marketplace db ...`: the indexer and the store from the command line.

Register them in `marketplace.cli` with `main.add_command(index)` and `main.add_command(db)`;
`python -m marketplace.cli_index` runs them standalone.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from marketplace.chain.rpc import NodeUnavailable
from marketplace.config import ConfigError, Settings, load_settings
from marketplace.errors import MarketplaceError

EXIT_NODE_DOWN = 2
EXIT_DEEP_REORG = 3


class _Failure(click.ClickException):
    """A clear message and an exit status: 1 in general, 2 node down, 3 deep reorg, 130 Ctrl-C."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.exit_code = status  # type: ignore[misc]  # click reads it from the instance


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        raise _Failure(str(exc)) from exc


def _configure_logging(quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )


_database_option = click.option(
    "--database",
    "database_url",
    metavar="URL",
    help="Store URL, e.g. postgresql+psycopg://user@host/db "
    "[env DATABASE_URL; default: SQLite file var/marketplace.sqlite].",
)


@click.command("index")
@click.option("--follow", is_flag=True, help="After catching up, keep following the head.")
@click.option(
    "--rpc",
    "rpc_url",
    metavar="URL",
    help="JSON-RPC endpoint [env MARKETPLACE_RPC_URL; default http://127.0.0.1:8545].",
)
@click.option(
    "--deployment",
    "deployment_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Deployment record [env MARKETPLACE_DEPLOYMENT; default deployments/<chainId>.json].",
)
@_database_option
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
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar with events per second [default: when stderr is a terminal].",
)
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
    from marketplace.indexer import DeepReorgError, create_indexer
    from marketplace.store.engine import describe_url

    _configure_logging(quiet, verbose)
    settings = _settings(
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
        raise _Failure(
            "interrupted; the next run resumes from the last committed block", 130
        ) from None
    except DeepReorgError as exc:
        raise _Failure(str(exc), EXIT_DEEP_REORG) from exc
    except NodeUnavailable as exc:
        if follow and stop.is_set():
            log.info("stopped while the node was unreachable")
            return
        raise _Failure(str(exc), EXIT_NODE_DOWN) from exc
    except MarketplaceError as exc:
        raise _Failure(str(exc)) from exc
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@click.group("db")
def db() -> None:
    """Manage the store (SQLite by default, PostgreSQL through DATABASE_URL)."""


@db.command("init")
@_database_option
@click.option(
    "--reset",
    is_flag=True,
    help="Drop the indexed tables first (they are rebuilt from the chain); profiles are kept.",
)
@click.option("--yes", is_flag=True, help="Do not ask before --reset.")
def db_init(database_url: str | None, reset: bool, yes: bool) -> None:
    """Create the store's tables and the living profile's (existing ones are left alone)."""
    from marketplace.store.engine import describe_url, init_db, open_engine

    settings = _settings(database_url=database_url)
    where = describe_url(settings.database_url)
    if reset and not yes:
        click.confirm(f"Drop every indexed table in {where}?", abort=True)
    try:
        engine = open_engine(settings.database_url)
        tables = init_db(engine, reset=reset)
        try:
            from marketplace.profile.sql import create_profile_schema
        except ImportError:  # the profile package is optional for the indexer
            pass
        else:
            create_profile_schema(engine)
        engine.dispose()
    except MarketplaceError as exc:
        raise _Failure(str(exc)) from exc
    click.echo(f"{'reset' if reset else 'initialised'} {len(tables)} store tables in {where}")


@db.command("status")
@_database_option
def db_status(database_url: str | None) -> None:
    """Show which deployment the store holds and how far it is indexed."""
    from marketplace.store import queries
    from marketplace.store.engine import check_schema, describe_url, open_engine

    settings = _settings(database_url=database_url)
    try:
        engine = open_engine(settings.database_url)
        check_schema(engine)
        with engine.connect() as conn:
            state = queries.status(conn)
            totals = queries.ledger_totals(conn)
    except MarketplaceError as exc:
        raise _Failure(str(exc)) from exc
    click.echo(f"store        {describe_url(settings.database_url)}")
    if state is None:
        click.echo("indexed      nothing yet (run `marketplace index`)")
        return
    click.echo(f"deployment   {state['address']} on chain {state['chain_id']}")
    click.echo(f"last block   {state['last_block']} (final up to {state['final_block']})")
    click.echo(f"events       {state['events']} ({state['skipped_logs']} foreign logs skipped)")
    click.echo(f"balance      {totals['expected_balance']} wei expected in the contract")


@click.group()
def cli() -> None:
    """Indexer and store commands (standalone entry point)."""


cli.add_command(index)
cli.add_command(db)


if __name__ == "__main__":
    cli()
