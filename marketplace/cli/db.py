"""`marketplace db init|status`: create the store's tables and show how far it is indexed."""

from __future__ import annotations

import click

from marketplace.cli.exits import CommandFailed, ExitCode, epilog, reported_as_exit_status
from marketplace.cli.options import database_option
from marketplace.config import load_settings


@click.group("db", epilog=epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.FAILED,
                                 ExitCode.INTERRUPTED))
def db() -> None:
    """Manage the store (SQLite by default, PostgreSQL through DATABASE_URL)."""


@db.command("init", epilog=epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.FAILED,
                                  ExitCode.INTERRUPTED))
@database_option
@click.option(
    "--reset",
    is_flag=True,
    help="Drop the indexed tables first (they are rebuilt from the chain); profiles are kept.",
)
@click.option("--yes", is_flag=True, help="Do not ask before --reset.")
def db_init(database_url: str | None, reset: bool, yes: bool) -> None:
    """Create the store's tables and the living profile's (existing ones are left alone)."""
    from marketplace.store.engine import describe_url, init_db, open_engine

    with reported_as_exit_status():
        settings = load_settings(database_url=database_url)
        where = describe_url(settings.database_url)
        if reset and not yes and not click.confirm(f"Drop every indexed table in {where}?"):
            raise CommandFailed("nothing was dropped", ExitCode.INTERRUPTED)
        engine = open_engine(settings.database_url)
        try:
            tables = init_db(engine, reset=reset)
            try:
                from marketplace.profile.sql import create_profile_schema
            except ImportError:  # the profile package is optional for the indexer
                pass
            else:
                create_profile_schema(engine)
        finally:
            engine.dispose()
    click.echo(f"{'reset' if reset else 'initialised'} {len(tables)} store tables in {where}")


@db.command("status", epilog=epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.FAILED))
@database_option
def db_status(database_url: str | None) -> None:
    """Show which deployment the store holds and how far it is indexed."""
    from marketplace.store import queries
    from marketplace.store.engine import check_schema, describe_url, open_engine

    with reported_as_exit_status():
        settings = load_settings(database_url=database_url)
        engine = open_engine(settings.database_url)
        try:
            check_schema(engine)
            with engine.connect() as conn:
                state = queries.status(conn)
                totals = queries.ledger_totals(conn)
        finally:
            engine.dispose()
    click.echo(f"store        {describe_url(settings.database_url)}")
    if state is None:
        click.echo("indexed      nothing yet (run `marketplace index`)")
        return
    click.echo(f"deployment   {state['address']} on chain {state['chain_id']}")
    click.echo(f"last block   {state['last_block']} (final up to {state['final_block']})")
    click.echo(f"events       {state['events']} ({state['skipped_logs']} foreign logs skipped)")
    click.echo(f"balance      {totals['expected_balance']} wei expected in the contract")


@db.command("prune-pictures", epilog=epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.FAILED))
@database_option
@click.option("--grace-hours", type=click.FloatRange(min=0.0), default=24.0, show_default=True,
              help="Keep an unnamed picture this long after its upload (its register or edit "
                   "transaction may still be on its way).")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
def db_prune_pictures(database_url: str | None, grace_hours: float, dry_run: bool) -> None:
    """Remove uploaded listing pictures that no metadata document names.

    A picture stays while any stored metadata document (each one an on-chain metadataHash may
    name) refers to it, so every picture a listing ever showed is kept.
    """
    from sqlalchemy import inspect

    from marketplace.store.engine import describe_url, open_engine
    from marketplace.web.db import pictures, prune_pictures

    with reported_as_exit_status():
        settings = load_settings(database_url=database_url)
        engine = open_engine(settings.database_url)
        try:
            if not inspect(engine).has_table(pictures.name):
                click.echo(f"no pictures are stored in {describe_url(settings.database_url)}")
                return
            pruned = prune_pictures(engine, grace_hours * 3600.0, dry_run=dry_run)
        finally:
            engine.dispose()
    for digest in pruned.digests:
        click.echo(f"{'would remove' if dry_run else 'removed'} {digest}")
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {len(pruned.digests)} pictures ({pruned.size:,} bytes); "
               f"kept {pruned.kept}")
