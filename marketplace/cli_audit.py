"""`marketplace audit`: rebuild a deployment's history from the chain and check every invariant.

Register it in `marketplace.cli` with `main.add_command(audit)`; `python -m marketplace.cli_audit`
runs it standalone. Exit status: 0 clean, 1 violations found, 2 the audit could not run
(unreachable node, no deployment record, wrong chain, no contract code at the address, bad range).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from marketplace.errors import MarketplaceError

EXIT_CLEAN = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class _AuditFailed(click.ClickException):
    """The audit could not run: exit status 2."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, status: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = status  # type: ignore[misc]  # click reads it from the instance


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@click.command("audit")
@click.option(
    "--rpc",
    "rpc_url",
    metavar="URL",
    help="JSON-RPC endpoint [env MARKETPLACE_RPC_URL; default http://127.0.0.1:8545].",
)
@click.option(
    "--deployment",
    "deployment_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Deployment record [env MARKETPLACE_DEPLOYMENT; default deployments/<chainId>.json "
    "of the node's chain].",
)
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
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on long scans [default: when stderr is a terminal].",
)
def audit(
    rpc_url: str | None,
    deployment_path: Path | None,
    from_block: int | None,
    to_block: int | None,
    fmt: str,
    out: Path | None,
    progress: bool | None,
) -> None:
    """Audit the marketplace from its events: solvency, conservation, transitions, compliance,
    ratings, fee cap.

    The history is rebuilt from eth_getLogs in the auditor's own pass, and the contract's balance
    is read at every block with events; the app's database is never read. With no options it
    audits the deployment that `make run` started. Exit status 0 when clean, 1 when a violation
    was found, 2 when the audit could not run.
    """
    from marketplace.audit import build_report
    from marketplace.audit.auditor import audit_deployment
    from marketplace.chain.deployment import load_deployment
    from marketplace.chain.rpc import NodeUnavailable, RpcClient, RpcError
    from marketplace.config import ConfigError, load_settings

    try:
        settings = load_settings(rpc_url=rpc_url, deployment_path=deployment_path)
        rpc = RpcClient(settings.rpc_url)
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
    except KeyboardInterrupt:
        raise _AuditFailed("interrupted", EXIT_INTERRUPTED) from None
    except NodeUnavailable as exc:
        raise _AuditFailed(f"cannot reach the node: {exc}") from exc
    except (ConfigError, ValueError) as exc:
        raise _AuditFailed(str(exc)) from exc
    except (RpcError, MarketplaceError) as exc:
        raise _AuditFailed(str(exc)) from exc

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
    sys.exit(EXIT_CLEAN if report.clean else EXIT_VIOLATIONS)


if __name__ == "__main__":
    audit()
