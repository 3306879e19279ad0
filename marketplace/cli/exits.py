"""The exit statuses of every `marketplace` command, and how a project error becomes one.

One table for all commands, so a script can tell "the audit found violations" from "the node is
down" from "you typed the option wrong" without knowing which command it ran. Each command's
`--help` ends with the rows it can return (`epilog`); the README repeats the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

import click

from marketplace.chain.rpc import NodeUnavailable
from marketplace.config import ConfigError
from marketplace.errors import MarketplaceError


class ExitCode(IntEnum):
    """Exit status of a `marketplace` command."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    NODE_UNREACHABLE = 3
    DEEP_REORG = 4
    FAILED = 5
    INTERRUPTED = 130


MEANING: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.FINDINGS: "the audit found violations",
    ExitCode.USAGE: "bad option, argument or setting (MARKETPLACE_*, DATABASE_URL)",
    ExitCode.NODE_UNREACHABLE: "no Ethereum node answers at the RPC URL",
    ExitCode.DEEP_REORG: "the chain reorganised deeper than the confirmation window",
    ExitCode.FAILED: "the command could not do its job; the message says why",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C, SIGTERM) or a confirmation answered no",
}


class CommandFailed(click.ClickException, MarketplaceError):
    """A command stops with a one-line message on stderr and a status from `ExitCode`."""

    def __init__(self, message: str, status: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.exit_code = int(status)  # type: ignore[misc]  # click reads it from the instance


def status_of(error: MarketplaceError) -> ExitCode:
    """The exit status that reports `error` (commands handle DEEP_REORG themselves)."""
    if isinstance(error, NodeUnavailable):
        return ExitCode.NODE_UNREACHABLE
    if isinstance(error, ConfigError):
        return ExitCode.USAGE
    return ExitCode.FAILED


@contextmanager
def reported_as_exit_status() -> Iterator[None]:
    """Turn a project error or Ctrl-C raised inside the block into its message and exit status."""
    try:
        yield
    except click.ClickException:
        raise
    except KeyboardInterrupt:
        raise CommandFailed("interrupted", ExitCode.INTERRUPTED) from None
    except MarketplaceError as exc:
        raise CommandFailed(str(exc), status_of(exc)) from exc


def epilog(*statuses: ExitCode) -> str:
    """The `Exit status:` paragraph of a command's `--help`, listing the given rows of the table."""
    rows = statuses or tuple(ExitCode)
    # \b keeps click from re-wrapping the rows into one paragraph.
    lines = ["\b", "Exit status:"]
    lines += [f"  {int(status):>3}  {MEANING[status]}" for status in rows]
    return "\n".join(lines)
