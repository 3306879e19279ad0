"""The `marketplace` command line: a click group that other modules add subcommands to."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from marketplace import __version__
from marketplace import build as build_module


@click.group()
@click.version_option(__version__, prog_name="marketplace")
def main() -> None:
    """Curated marketplace tools."""


@main.command()
@click.option("--force", is_flag=True, help="Compile even if the artifacts are up to date.")
@click.option(
    "--emit-input",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the standard-json input (for slither) instead of compiling.",
)
def build(force: bool, emit_input: Path | None) -> None:
    """Compile contracts/ into artifacts/ with the pinned solc settings."""
    status = build_module.run(force=force, emit_input=emit_input)
    if status:
        sys.exit(status)


def _register_commands() -> None:
    """Attach the subcommands that live in their own modules."""
    from marketplace.cli_audit import audit
    from marketplace.cli_deploy import deploy
    from marketplace.cli_index import db, index
    from marketplace.cli_web import web

    main.add_command(deploy)
    main.add_command(index)
    main.add_command(db)
    main.add_command(audit)
    main.add_command(web)


_register_commands()
