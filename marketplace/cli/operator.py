"""`marketplace operator`: the operator's changes (scheduled, then applied after the delay),
pause, fee collection, and a summary of the configuration."""

from __future__ import annotations

from pathlib import Path

import click

from marketplace.cli.chainio import address, amount, session, signer_options
from marketplace.cli.exits import ExitCode, epilog, reported_as_exit_status
from marketplace.domain import ZERO_ADDRESS, ChangeKind, change_kind
from marketplace.units import format_amount

_STATUSES = epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.NODE_UNREACHABLE, ExitCode.FAILED)
_KINDS = ", ".join(k.key for k in ChangeKind)
_KIND_HELP = f"""KIND is one of {_KINDS}. ACCOUNT and VALUE per kind: fee-rate (-, bps <= 1000);
min-stake (-, wei); dispute-bond (-, wei); min-fee (token or - for ether, smallest units > 0);
arbiter (account, 1 names / 0 removes); default-arbiter (a named arbiter or -, 0);
attestor (account, 1 / 0); currency (token, 1 enables / 0 disables; its min-fee first)."""


def _kind(text: str) -> ChangeKind:
    try:
        return change_kind(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="KIND") from None


def _account(text: str) -> str:
    return ZERO_ADDRESS if text in ("-", "0", "") else address(text, "ACCOUNT")


@click.group(epilog=_STATUSES)
def operator() -> None:
    """The operator: timelocked changes, pause, fees (sent from the operator's account)."""


def _change_command(name: str, verb: str) -> click.Command:
    @click.command(name, help=f"{verb} a change.\n\n{_KIND_HELP}", epilog=_STATUSES)
    @click.argument("kind")
    @click.argument("account")
    @click.argument("value", type=click.IntRange(min=0))
    @signer_options
    def command(
        kind: str,
        account: str,
        value: int,
        rpc_url: str | None,
        deployment_path: Path | None,
        key_env: str,
        from_address: str | None,
    ) -> None:
        change = _kind(kind)
        who = _account(account)
        with (
            reported_as_exit_status(),
            session(rpc_url, deployment_path, key_env, from_address) as s,
        ):
            if name == "schedule":
                eta = s.market.schedule_change(change, who, value, sender=s.sender)
                click.echo(f"Scheduled {change.key} {who} {value}: it can be applied from {eta}.")
            elif name == "apply":
                s.market.apply_change(change, who, value, sender=s.sender)
                click.echo(f"Applied {change.key} {who} {value}.")
            else:
                s.market.cancel_change(change, who, value, sender=s.sender)
                click.echo(f"Cancelled {change.key} {who} {value}.")

    return command


operator.add_command(_change_command("schedule", "Schedule"))
operator.add_command(_change_command("apply", "Apply (anyone may, once its eta has passed)"))
operator.add_command(_change_command("cancel", "Cancel a scheduled"))


@operator.command(epilog=_STATUSES)
@click.argument("state", type=click.Choice(["on", "off"]))
@signer_options
def pause(
    state: str,
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> None:
    """Pause (on) or resume (off) new listings and bookings, at once."""
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        s.market.set_paused(state == "on", sender=s.sender)
    click.echo("Paused." if state == "on" else "Resumed.")


@operator.command("collect-fees", epilog=_STATUSES)
@click.option(
    "--currency", "currency_text", default="0", show_default=True, help="Currency id or symbol."
)
@click.option("--to", "to", required=True, help="Treasury account credited.")
@click.option(
    "--amount",
    "amount_text",
    default=None,
    help="Amount in whole units of the currency [default: all accrued].",
)
@signer_options
def collect_fees(
    currency_text: str,
    to: str,
    amount_text: str | None,
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> None:
    """Move accrued fees of one currency to a treasury's credit (it then withdraws them)."""
    treasury = address(to, "--to")
    with reported_as_exit_status(), session(rpc_url, deployment_path, key_env, from_address) as s:
        currency = s.currency(currency_text)
        due = (
            s.market.accrued_fees(currency.id)
            if amount_text is None
            else amount(amount_text, currency, "--amount")
        )
        s.market.collect_fees(currency.id, treasury, due, sender=s.sender)
    click.echo(f"Collected {format_amount(due, currency)} of fees to {treasury}.")


@operator.command(epilog=_STATUSES)
@signer_options
def show(
    rpc_url: str | None,
    deployment_path: Path | None,
    key_env: str,
    from_address: str | None,
) -> None:
    """The configuration now: fee rate, stakes, bond, currencies, windows, pause."""
    del key_env, from_address
    from marketplace.chain.connection import connected
    from marketplace.chain.deployment import load_deployment
    from marketplace.chain.market import Market
    from marketplace.config import load_settings

    settings = load_settings(rpc_url=rpc_url, deployment_path=deployment_path)
    with reported_as_exit_status(), connected(settings.rpc_url) as w3:
        record = load_deployment(chain_id=int(w3.eth.chain_id), path=settings.deployment_path)
        m = Market(w3, record.address)
        click.echo(f"Marketplace  {record.address} (chain {record.chain_id})")
        click.echo(f"Paused       {m.call('paused')}")
        click.echo(f"Fee rate     {m.call('feeRate')} bps")
        click.echo(f"Min stake    {format_amount(int(m.call('minStake')), record.currency(0))}")
        click.echo(f"Dispute bond {format_amount(int(m.call('disputeBond')), record.currency(0))}")
        click.echo(f"Change delay {m.call('changeDelay')} s")
        click.echo(f"Windows      {m.windows()}")
        for currency in record.all_currencies():
            info = m.currency(currency.id)
            click.echo(
                f"Currency {currency.id}   {currency.symbol} enabled={info['enabled']} "
                f"min fee {format_amount(info['minFee'], currency)}, accrued "
                f"{format_amount(m.accrued_fees(currency.id), currency)}"
            )
