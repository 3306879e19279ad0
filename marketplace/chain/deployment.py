"""Deployment records: `deployments/<chainId>.json` holds the address, start block and chain id."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from marketplace.errors import MarketplaceError

REPO_ROOT = Path(__file__).resolve().parents[2]


class DeploymentNotFound(MarketplaceError):
    """No deployment record exists for the chain."""


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

    def to_json(self) -> str:
        """The record as pretty JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


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
