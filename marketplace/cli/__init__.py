"""The `marketplace` command line: one click group over the commands of this package.

Each command lives in its own module (`COMMANDS` says which); options that several commands take
are declared once in `options`, and every command's exit status comes from the one table in
`exits`. The group imports a command's module only when that command runs (or `--help` lists
it), so `marketplace index` never pays for web3, which only `deploy` needs. Run it as the
`marketplace` console script or `python -m marketplace.cli`.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from marketplace import __version__
from marketplace.cli.exits import CommandFailed, ExitCode, epilog

# name -> (module, attribute), in the order `marketplace --help` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "build": ("marketplace.cli.build", "build"),
    "deploy": ("marketplace.cli.deploy", "deploy"),
    "operator": ("marketplace.cli.operator", "operator"),
    "provider": ("marketplace.cli.provider", "provider"),
    "attest": ("marketplace.cli.attest", "attest"),
    "index": ("marketplace.cli.index", "index"),
    "db": ("marketplace.cli.db", "db"),
    "audit": ("marketplace.cli.audit", "audit"),
    "web": ("marketplace.cli.web", "web"),
}


class _Group(click.Group):
    """The command table above, loaded on demand; Ctrl-C and a declined prompt exit 130."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, in table order."""
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called `cmd_name`, importing its module; None for an unknown name."""
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command), f"{module}.{attribute} is not a command"
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; click's own abort status 1 would read as "findings"."""
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, click.Abort):
            raise CommandFailed("interrupted", ExitCode.INTERRUPTED) from None


@click.group(cls=_Group, epilog=epilog())
@click.version_option(__version__, prog_name="marketplace")
def main() -> None:
    """Curated marketplace tools."""


__all__ = ["COMMANDS", "main"]
