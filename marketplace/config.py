"""Settings read from the environment: node, store, and how the indexer scans.

| variable                        | default                                   |
|---------------------------------|-------------------------------------------|
| `MARKETPLACE_RPC_URL`           | `http://127.0.0.1:8545`                   |
| `DATABASE_URL`                  | `sqlite:///<repo>/var/marketplace.sqlite` |
| `MARKETPLACE_DEPLOYMENT`        | `deployments/<chainId>.json`              |
| `MARKETPLACE_CONFIRMATIONS`     | 12 (provisional window = max reorg depth) |
| `MARKETPLACE_CHUNK_BLOCKS`      | 20 (first eth_getLogs range; then adapts) |
| `MARKETPLACE_MAX_CHUNK_BLOCKS`  | 10000                                     |
| `MARKETPLACE_TARGET_LOGS`       | 5000 (logs per chunk the sizing aims at)  |
| `MARKETPLACE_POLL_INTERVAL`     | 0.25 seconds (follow mode)                |
| `MARKETPLACE_RETRY_FOR`         | 60 seconds a one-shot run waits for a node|
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from marketplace._paths import repo_root
from marketplace.errors import MarketplaceError

DEFAULT_RPC_URL = "http://127.0.0.1:8545"
DEFAULT_DB_FILE = "marketplace.sqlite"


class ConfigError(MarketplaceError):
    """A setting in the environment has a value that cannot be used."""


def default_database_url(root: Path | None = None) -> str:
    """The SQLite file under `<repo>/var/` (gitignored); the directory is created on first use."""
    return f"sqlite:///{(root or repo_root()) / 'var' / DEFAULT_DB_FILE}"


@dataclass(frozen=True)
class Settings:
    """Everything the chain adapter, the indexer and the store need to know to run."""

    rpc_url: str = DEFAULT_RPC_URL
    database_url: str = ""
    deployment_path: Path | None = None
    confirmations: int = 12
    chunk_blocks: int = 20
    max_chunk_blocks: int = 10_000
    target_logs: int = 5_000
    poll_interval: float = 0.25
    retry_for: float = 60.0

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", default_database_url())
        if self.confirmations < 1:
            raise ConfigError(f"confirmations must be at least 1, not {self.confirmations}")
        if not 1 <= self.chunk_blocks <= self.max_chunk_blocks:
            raise ConfigError(
                f"chunk blocks must be between 1 and the maximum {self.max_chunk_blocks}, "
                f"not {self.chunk_blocks}"
            )
        if self.target_logs < 1:
            raise ConfigError(f"target logs per chunk must be positive, not {self.target_logs}")
        if self.poll_interval <= 0:
            raise ConfigError(f"poll interval must be positive, not {self.poll_interval}")
        if self.retry_for < 0:
            raise ConfigError(f"retry time must not be negative, not {self.retry_for}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `environ` (default `os.environ`); unset variables keep their default."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, (field, kind) in _ENV.items():
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[field] = kind(raw)
            except ValueError as exc:
                raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}") from exc
        return cls(**values)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the non-None `changes` applied (command-line options over environment)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_ENV: dict[str, tuple[str, type]] = {
    "MARKETPLACE_RPC_URL": ("rpc_url", str),
    "DATABASE_URL": ("database_url", str),
    "MARKETPLACE_DEPLOYMENT": ("deployment_path", Path),
    "MARKETPLACE_CONFIRMATIONS": ("confirmations", int),
    "MARKETPLACE_CHUNK_BLOCKS": ("chunk_blocks", int),
    "MARKETPLACE_MAX_CHUNK_BLOCKS": ("max_chunk_blocks", int),
    "MARKETPLACE_TARGET_LOGS": ("target_logs", int),
    "MARKETPLACE_POLL_INTERVAL": ("poll_interval", float),
    "MARKETPLACE_RETRY_FOR": ("retry_for", float),
}


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment with `overrides` (None values ignored) applied on top."""
    return Settings.from_env().with_overrides(**overrides)
