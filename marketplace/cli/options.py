"""Options several commands share, declared once so their names, help and checks agree.

None of them has a click default: an option left out is None, and `marketplace.config` fills it
from the environment or its own default, so the command line always wins over the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from marketplace.config import DEFAULT_RPC_URL

F = TypeVar("F", bound=Callable[..., Any])

rpc_option: Callable[[F], F] = click.option(
    "--rpc",
    "rpc_url",
    metavar="URL",
    help=f"JSON-RPC endpoint of the node [env MARKETPLACE_RPC_URL; default {DEFAULT_RPC_URL}].",
)

deployment_option: Callable[[F], F] = click.option(
    "--deployment",
    "deployment_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Deployment record [env MARKETPLACE_DEPLOYMENT; default deployments/<chainId>.json "
    "of the node's chain].",
)

database_option: Callable[[F], F] = click.option(
    "--database",
    "database_url",
    metavar="URL",
    help="Store URL, e.g. postgresql+psycopg://user@host/db "
    "[env DATABASE_URL; default: SQLite file var/marketplace.sqlite].",
)

progress_option: Callable[[F], F] = click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on long scans [default: when stderr is a terminal].",
)
