"""Deployment records: `deployments/<chainId>.json` holds the address, start block and chain id,
the Setup the marketplace was deployed with and its currencies (id, symbol, decimals, token)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from marketplace.errors import MarketplaceError
from marketplace.units import ETHER_CURRENCY, Currency

REPO_ROOT = Path(__file__).resolve().parents[2]


class DeploymentNotFound(MarketplaceError):
    """No deployment record exists for the chain."""


class DeploymentExists(MarketplaceError):
    """A record for the chain already names a live contract; replacing it needs `force`."""


@dataclass(frozen=True)
class Deployment:
    """Where the marketplace lives on one chain and how it was built and configured."""

    chain_id: int
    address: str
    start_block: int
    tx_hash: str
    deployer: str
    owner: str
    fee_bps: int
    min_stake: int
    windows: dict[str, int]
    compiler: str = ""
    source_hash: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    dispute_bond: int = 0
    min_fee: int = 0  # of ether bookings, wei
    change_delay: int = 0
    arbiter: str = ""  # the Setup's default arbiter ("" if none)
    attestor: str = ""  # the Setup's attestor ("" if none)
    currencies: list[dict[str, Any]] = field(default_factory=list)
    """Token currencies known at deployment: {id, symbol, decimals, token, min_fee} each (ether,
    id 0, is implied). A currency enabled later is read from the chain (`CurrencySet`)."""

    def to_json(self) -> str:
        """The record as pretty JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def currency(self, currency_id: int) -> Currency:
        """The currency `currency_id` as recorded (0: ether). KeyError if the record lacks it."""
        if currency_id == 0:
            return ETHER_CURRENCY
        for entry in self.currencies:
            if int(entry["id"]) == currency_id:
                return Currency(
                    int(entry["id"]),
                    str(entry["symbol"]),
                    int(entry["decimals"]),
                    str(entry["token"]),
                )
        raise KeyError(f"the deployment record names no currency {currency_id}")

    def all_currencies(self) -> list[Currency]:
        """Ether and every recorded token currency, by id."""
        return [ETHER_CURRENCY] + sorted(
            (self.currency(int(e["id"])) for e in self.currencies), key=lambda c: c.id
        )


def deployments_dir() -> Path:
    """`$MARKETPLACE_DEPLOYMENTS`, else `<repo>/deployments`."""
    return Path(os.environ.get("MARKETPLACE_DEPLOYMENTS", REPO_ROOT / "deployments"))


def deployment_path(chain_id: int, directory: Path | None = None) -> Path:
    """The record file for `chain_id`."""
    return (directory or deployments_dir()) / f"{chain_id}.json"


def save_deployment(deployment: Deployment, path: Path | None = None) -> Path:
    """Write the record atomically; returns its path."""
    target = path or deployment_path(deployment.chain_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(deployment.to_json())
    tmp.replace(target)
    return target


def load_deployment(chain_id: int | None = None, path: Path | None = None) -> Deployment:
    """Read the record for `chain_id` (or at `path`)."""
    if path is None:
        if chain_id is None:
            raise ValueError("give a chain id or a path")
        path = deployment_path(chain_id)
    if not path.exists():
        raise DeploymentNotFound(
            f"no deployment record at {path}: deploy first (`marketplace deploy` or `make run`)"
        )
    try:
        data = json.loads(path.read_text())
        return Deployment(**data)
    except (json.JSONDecodeError, TypeError) as exc:
        raise DeploymentNotFound(f"{path} is not a valid deployment record: {exc}") from exc


def claim_record(
    path: Path, chain_id: int, has_code: Callable[[str], bool], *, force: bool = False
) -> Deployment | None:
    """Check, before deploying, that a new record may be written at `path`.

    Returns the record it will replace (None if there is none). A record whose contract still
    has code on this chain is live: replacing it raises DeploymentExists unless `force`. A
    record for another chain, or whose address has no code (a local dev chain restarted from
    scratch), is stale and may be replaced. An unreadable file is never replaced silently.
    """
    if not path.exists():
        return None
    try:
        previous = load_deployment(path=path)
    except DeploymentNotFound as exc:
        if force:
            return None
        raise DeploymentExists(f"{exc}; pass --force to replace it") from exc
    live = previous.chain_id == chain_id and has_code(previous.address)
    if live and not force:
        raise DeploymentExists(
            f"{path} already records the marketplace at {previous.address} on chain {chain_id} "
            f"(block {previous.start_block}), and that contract is live: pass --force to deploy "
            "a new one and replace the record (the new record keeps the old address under "
            "extra.replaces), or set MARKETPLACE_DEPLOYMENTS to another folder"
        )
    return previous


def replaced_summary(previous: Deployment) -> dict[str, Any]:
    """What a new record keeps of the one it replaces (`extra["replaces"]`)."""
    return {
        "chain_id": previous.chain_id,
        "address": previous.address,
        "start_block": previous.start_block,
        "tx_hash": previous.tx_hash,
    }
