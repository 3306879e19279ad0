"""`marketplace audit`: rebuild a deployment's history from the chain and check every invariant.

Exit status 0 clean, 1 violations found; the others are those of `marketplace.cli.exits`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from marketplace.cli.exits import ExitCode, epilog, reported_as_exit_status
from marketplace.cli.options import deployment_option, progress_option, rpc_option


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@click.command(
    "audit",
    epilog=epilog(ExitCode.OK, ExitCode.FINDINGS, ExitCode.USAGE, ExitCode.NODE_UNREACHABLE,
                  ExitCode.FAILED, ExitCode.INTERRUPTED),
)
@rpc_option
@deployment_option
@click.option(
    "--from-block",
    type=click.IntRange(min=0),
    help="Report from this block [default: the deployment block]. Earlier events are still "
    "replayed: the rules need the whole history.",
)
@click.option(
    "--to-block",
    type=click.IntRange(min=0),
    help="Audit up to this block [default: the node's latest].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text: a summary; json: the whole report with a top-level `violations` list; "
    "csv: one row per violation.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report here instead of standard output.",
)
@progress_option
def audit(
    rpc_url: str | None,
    deployment_path: Path | None,
    from_block: int | None,
    to_block: int | None,
    fmt: str,
    out: Path | None,
    progress: bool | None,
) -> None:
    """Audit the marketplace from its events: solvency per currency, conservation, transitions
    and deadlines, compliance, ratings and weights, fees, reliability and slashes, disputes,
    roles, timelock.

    The history is rebuilt from eth_getLogs in the auditor's own pass, and the contract's balance
    is read at every block with events; the app's database is never read. With no options it
    audits the deployment that `make run` started.
    """
    from marketplace.audit import build_report
    from marketplace.audit.auditor import audit_deployment
    from marketplace.chain.deployment import load_deployment
    from marketplace.chain.rpc import RpcClient
    from marketplace.config import load_settings

    with reported_as_exit_status():
        settings = load_settings(rpc_url=rpc_url, deployment_path=deployment_path)
        with RpcClient(settings.rpc_url) as rpc:
            if settings.deployment_path is not None:
                deployment = load_deployment(path=settings.deployment_path)
            else:
                deployment = load_deployment(rpc.chain_id())
            show_progress = sys.stderr.isatty() if progress is None else progress
            auditor = audit_deployment(
                rpc,
                deployment,
                from_block=from_block,
                to_block=to_block,
                progress=show_progress,
            )

    report = build_report(auditor)
    text = {"text": report.to_text, "json": report.to_json, "csv": report.to_csv}[fmt]()
    if out is not None:
        _write(out, text)
        verdict = "clean" if report.clean else f"{len(report.violations)} violation(s)"
        click.echo(
            f"audit: {verdict}; {report.meta['events']:,} events in blocks "
            f"{report.meta['from_block']}..{report.meta['to_block']}; report written to {out}",
            err=True,
        )
    else:
        click.echo(text, nl=False)
    sys.exit(ExitCode.OK if report.clean else ExitCode.FINDINGS)
