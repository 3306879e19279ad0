"""`marketplace provider`: a provider's listings (register, update, stake) and its credit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from marketplace import catalogue
from marketplace.chain.market import ListingInput
from marketplace.cli.chainio import Session, address, amount, ether, session, signer_options
from marketplace.cli.exits import ExitCode, epilog, reported_as_exit_status
from marketplace.domain import MAX_LATE_CANCEL_PCT, UINT16_MAX
from marketplace.units import ETHER_CURRENCY, format_amount

_STATUSES = epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.NODE_UNREACHABLE, ExitCode.FAILED)
_ID = click.IntRange(1, 2**32 - 1)


@click.group(epilog=_STATUSES)
def provider() -> None:
    """A provider: listings, stake and withdrawals (sent from the owner's account)."""


def _offer_options(function: Any) -> Any:
    for option in reversed(
        (
            click.option("--category", default=None, help="Category key (rides, cleaning, ...)."),
            click.option("--region", default=None, help="Region key (helsinki, ...) or 'any'."),
            click.option(
                "--attribute",
                "attributes",
                multiple=True,
                help="An attribute you offer (catalogue key); repeat it.",
            ),
            click.option(
                "--currency",
                "currency_text",
                default=None,
                help="Currency id or symbol (ETH, dUSD) [register default: 0, ether].",
            ),
            click.option(
                "--price",
                default=None,
                help="Price per booking in whole units of the currency (25, 0.02).",
            ),
            click.option(
                "--instant/--no-instant", default=None, help="Accept bookings on booking."
            ),
            click.option(
                "--free-cancel-hours",
                type=click.IntRange(0, UINT16_MAX),
                default=None,
                help="Free cancellation until this many hours before the start.",
            ),
            click.option(
                "--late-cancel-pct",
                type=click.IntRange(0, MAX_LATE_CANCEL_PCT),
                default=None,
                help="% of the price a later cancellation pays you.",
            ),
            click.option(
                "--metadata-hash",
                default=None,
                help="0x + 64 hex: hash of the off-chain name and description.",
            ),
        )
    ):
        function = option(function)
    return function


def _lookup(kind: str, key: str, option: str) -> int:
    try:
        return catalogue.lookup(kind, key).code
    except catalogue.UnknownName as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _metadata(text: str | None) -> bytes | None:
    if text is None:
        return None
    raw = text.removeprefix("0x")
    try:
        value = bytes.fromhex(raw)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise click.BadParameter(
            "must be 0x followed by 64 hex digits", param_hint="--metadata-hash"
        )
    return value


def _offer(s: Session, base: dict[str, Any] | None, options: dict[str, Any]) -> ListingInput:
    """The listing input from the options, defaults from `base` (the current listing) if any."""
    b = base or {}
    if options["category"] is not None:
        category = _lookup("category", options["category"], "--category")
    elif base is not None:
        category = int(b["category"])
    else:
        raise click.UsageError("--category is required to register")
    region_text = options["region"]
    region = (
        int(b.get("region", 0))
        if region_text is None
        else 0
        if region_text == "any"
        else _lookup("region", region_text, "--region")
    )
    attributes = (
        int(b.get("attributes", 0))
        if not options["attributes"]
        else sum(1 << _lookup("attribute", a, "--attribute") for a in options["attributes"])
    )
    currency = (
        s.currency(options["currency_text"])
        if options["currency_text"] is not None
        else s.currency_by_id(int(b.get("currency", 0)))
    )
    if options["price"] is not None:
        price = amount(options["price"], currency, "--price")
    elif base is not None and int(b["currency"]) == currency.id:
        price = int(b["price"])
    else:
        raise click.UsageError("--price is required (and with a new --currency)")
    metadata = _metadata(options["metadata_hash"])
    return ListingInput(
        category=category,
        region=region,
        attributes=attributes,
        currency=currency.id,
        price=price,
        metadata_hash=metadata
        if metadata is not None
        else bytes(b.get("metadataHash", b"\0" * 32)),
        instant=bool(b.get("instant", False)) if options["instant"] is None else options["instant"],
        free_cancel_hours=int(b.get("freeCancelHours", 0))
        if options["free_cancel_hours"] is None
        else options["free_cancel_hours"],
        late_cancel_pct=int(b.get("lateCancelPct", 0))
        if options["late_cancel_pct"] is None
        else options["late_cancel_pct"],
    )


@provider.command(epilog=_STATUSES)
@_offer_options
@click.option(
    "--stake",
    "stake_text",
    default=None,
    help="Stake in ETH [default: the marketplace's minimum stake].",
)
@signer_options
def register(
    stake_text: str | None,
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
    **options: Any,
) -> None:
    """Register a listing; prints its id."""
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        listing = _offer(s, None, options)
        stake = (
            int(s.market.call("minStake")) if stake_text is None else ether(stake_text, "--stake")
        )
        provider_id = s.market.register(listing, sender=s.sender, stake=stake)
        currency = s.currency_by_id(listing.currency)
    click.echo(
        f"Registered listing #{provider_id} at {format_amount(listing.price, currency)} "
        f"(stake {format_amount(stake, ETHER_CURRENCY)})."
    )


@provider.command(epilog=_STATUSES)
@click.argument("provider_id", type=_ID)
@_offer_options
@signer_options
def update(
    provider_id: int,
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
    **options: Any,
) -> None:
    """Change a listing's offer (what is not given stays; the category cannot change)."""
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        current = s.market.listing(provider_id)
        if int(current["category"]) == 0:
            raise click.BadParameter(
                f"there is no listing #{provider_id}", param_hint="PROVIDER_ID"
            )
        current = {**current, **s.market.offer(provider_id, s.deployment.start_block)}
        version = s.market.update_listing(provider_id, _offer(s, current, options), sender=s.sender)
    click.echo(f"Updated listing #{provider_id}: offer version {version}.")


@provider.command("top-up", epilog=_STATUSES)
@click.argument("provider_id", type=_ID)
@click.option("--amount", "amount_text", required=True, help="Ether to add, in ETH.")
@signer_options
def top_up(
    provider_id: int,
    amount_text: str,
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> None:
    """Add ether to a listing's stake."""
    value = ether(amount_text, "--amount")
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        stake = s.market.top_up_stake(provider_id, sender=s.sender, amount=value)
    click.echo(f"Listing #{provider_id} now stakes {format_amount(stake, ETHER_CURRENCY)}.")


@provider.command(epilog=_STATUSES)
@click.argument("provider_id", type=_ID)
@signer_options
def deactivate(
    provider_id: int,
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> None:
    """Stop taking bookings (open ones continue); starts the stake's cooldown."""
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        unlock = s.market.deactivate(provider_id, sender=s.sender)
    click.echo(f"Deactivated listing #{provider_id}; its stake can be released from {unlock}.")


@provider.command(epilog=_STATUSES)
@click.argument("provider_id", type=_ID)
@signer_options
def reactivate(
    provider_id: int,
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> None:
    """Take bookings again."""
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        s.market.reactivate(provider_id, sender=s.sender)
    click.echo(f"Reactivated listing #{provider_id}.")


@provider.command(epilog=_STATUSES)
@click.argument("provider_id", type=_ID)
@signer_options
def release(
    provider_id: int,
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> None:
    """Move a deactivated listing's stake to your ether credit (then withdraw it)."""
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        released = s.market.release_stake(provider_id, sender=s.sender)
    click.echo(f"Released {format_amount(released, ETHER_CURRENCY)} of listing #{provider_id}.")


@provider.command(epilog=_STATUSES)
@click.option(
    "--currency", "currency_text", default="0", show_default=True, help="Currency id or symbol."
)
@click.option("--to", "to", default=None, help="Recipient [default: yourself].")
@signer_options
def withdraw(
    currency_text: str,
    to: str | None,
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> None:
    """Withdraw your whole credit in one currency."""
    recipient = None if to is None else address(to, "--to")
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        currency = s.currency(currency_text)
        paid = s.market.withdraw(currency.id, sender=s.sender, to=recipient)
        who = recipient or s.address
    click.echo(f"Withdrew {format_amount(paid, currency)} to {who}.")
