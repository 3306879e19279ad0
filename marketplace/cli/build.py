"""`marketplace build`: what `make build` runs (`python -m marketplace.build`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from marketplace import build as build_module
from marketplace.cli.exits import ExitCode, epilog


@click.command("build", epilog=epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.FAILED))
@click.option("--force", is_flag=True, help="Compile even if the artifacts are up to date.")
@click.option(
    "--emit-input",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the standard-json input (for slither) instead of compiling.",
)
def build(force: bool, emit_input: Path | None) -> None:
    """Compile contracts/ into artifacts/ with the pinned solc settings."""
    if build_module.run(force=force, emit_input=emit_input):  # it printed the compiler's errors
        sys.exit(ExitCode.FAILED)
