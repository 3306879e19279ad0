"""`marketplace attest`: an attestor records which attributes of a listing it has verified."""

from __future__ import annotations

from pathlib import Path

import click

from marketplace import catalogue
from marketplace.cli.chainio import session, signer_options
from marketplace.cli.exits import ExitCode, epilog, reported_as_exit_status

_STATUSES = epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.NODE_UNREACHABLE, ExitCode.FAILED)


@click.group(epilog=_STATUSES)
def attest() -> None:
    """Attestations: record or revoke the attributes you verified (as a named attestor)."""


@attest.command("set", epilog=_STATUSES)
@click.argument("provider_id", type=click.IntRange(1, 2**32 - 1))
@click.option(
    "--attribute",
    "attributes",
    multiple=True,
    required=True,
    help="A verified attribute (catalogue key, e.g. electric_vehicle); repeat it.",
)
@signer_options
def set_(
    provider_id: int,
    attributes: tuple[str, ...],
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> None:
    """Record the attributes you verified for a listing (replaces your previous record; only
    the ones the listing claims count)."""
    try:
        bits = catalogue.mask("attribute", attributes)
    except catalogue.UnknownName as exc:
        raise click.BadParameter(str(exc), param_hint="--attribute") from None
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        s.market.attest(provider_id, bits, sender=s.sender)
        claimed = int(s.market.listing(provider_id)["attributes"])
    unclaimed = catalogue.names("attribute", bits & ~claimed)
    click.echo(
        f"Attested {', '.join(attributes)} for listing #{provider_id}"
        + (
            f" (not claimed by the listing, so not counted: {', '.join(unclaimed)})"
            if unclaimed
            else ""
        )
        + "."
    )


@attest.command(epilog=_STATUSES)
@click.argument("provider_id", type=click.IntRange(1, 2**32 - 1))
@signer_options
def revoke(
    provider_id: int,
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> None:
    """Revoke everything you attested for a listing."""
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        s.market.attest(provider_id, 0, sender=s.sender)
    click.echo(f"Revoked your attestation of listing #{provider_id}.")
