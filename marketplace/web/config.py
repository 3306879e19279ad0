"""Settings of the web app, from the environment (or a mapping given to `create_app`).

| variable                          | default                                         |
|-----------------------------------|-------------------------------------------------|
| `MARKETPLACE_RPC_URL`             | `http://127.0.0.1:8545` (as `marketplace.config`)|
| `DATABASE_URL`                    | the store's SQLite file (as `marketplace.config`)|
| `MARKETPLACE_DEPLOYMENT`          | `deployments/<chainId>.json`, else the store's   |
| `MARKETPLACE_SECRET_KEY`          | required unless dev accounts are on              |
| `MARKETPLACE_DEV_ACCOUNTS`        | `0`; `1`: the server signs for dev accounts (local chains) |
| `MARKETPLACE_DEV_ACCOUNT_COUNT`   | 10                                              |
| `MARKETPLACE_DEV_ACCOUNT_ROLES`   | comma-separated role names shown in the switcher |
| `MARKETPLACE_SIWE_DOMAIN`         | the request's host                              |
| `MARKETPLACE_SECURE_COOKIES`      | `1`, except `0` by default with dev accounts     |
| `MARKETPLACE_INDEX_REFRESH`       | 0.25 seconds between matching-index refreshes   |
| `MARKETPLACE_MAX_CONTENT_LENGTH`  | 65536 bytes                                     |
| `MARKETPLACE_PROXY_HOPS`          | 0; behind N reverse proxies, trust N X-Forwarded-* |
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from marketplace._paths import repo_root
from marketplace.config import ConfigError, Settings

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def _flag(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={raw!r} is not a yes/no value (use 1 or 0)")


@dataclass(frozen=True)
class WebConfig:
    """Everything the web app needs beyond the chain/store `Settings`."""

    settings: Settings = field(default_factory=Settings)
    secret_key: str = ""
    dev_accounts: bool = False
    dev_account_count: int = 10
    dev_account_roles: tuple[str, ...] = ()
    siwe_domain: str = ""
    secure_cookies: bool | None = None
    index_refresh: float = 0.25
    max_content_length: int = 64 * 1024
    proxy_hops: int = 0
    siwe_ttl: int = 300  # seconds a sign-in nonce stays valid
    session_hours: int = 12
    testing: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.dev_account_count <= 200:
            raise ConfigError("dev account count must be between 1 and 200")
        if self.index_refresh < 0:
            raise ConfigError("index refresh interval must not be negative")
        if not 0 <= self.proxy_hops <= 5:
            raise ConfigError("proxy hops must be between 0 and 5")
        if self.max_content_length < 1024:
            raise ConfigError("max content length must be at least 1024 bytes")

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies unless explicitly off, or in local dev mode over plain http."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return not self.dev_accounts

    def role_of(self, index: int) -> str:
        """The role name of dev account `index` ('account 3' when none was given)."""
        if 0 <= index < len(self.dev_account_roles) and self.dev_account_roles[index]:
            return self.dev_account_roles[index]
        return f"account {index}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebConfig:
        """The configuration the environment describes."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {"settings": Settings.from_env(env)}
        raw = env.get("MARKETPLACE_SECRET_KEY")
        if raw:
            values["secret_key"] = raw
        for name, key, kind in _ENV:
            text = env.get(name)
            if text is None or text == "":
                continue
            try:
                if kind is bool:
                    values[key] = _flag(name, text)
                elif kind is tuple:
                    values[key] = tuple(part.strip() for part in text.split(","))
                else:
                    values[key] = kind(text)
            except ValueError as exc:
                raise ConfigError(f"{name}={text!r} is not a valid {kind.__name__}") from exc
        return cls(**values)

    def with_overrides(self, overrides: Mapping[str, Any]) -> WebConfig:
        """A copy with `overrides` applied: web fields by name, store/chain fields by the
        `Settings` field name (`rpc_url`, `database_url`, `deployment_path`, ...)."""
        own = {f.name for f in fields(self)}
        settings_fields = {f.name for f in fields(Settings)}
        web: dict[str, Any] = {}
        store: dict[str, Any] = {}
        for key, value in overrides.items():
            if key in own:
                web[key] = value
            elif key in settings_fields:
                store[key] = value
            else:
                raise ConfigError(f"unknown web setting {key!r}")
        config = replace(self, **web)
        if store:
            config = replace(config, settings=replace(config.settings, **store))
        return config


_ENV: tuple[tuple[str, str, type], ...] = (
    ("MARKETPLACE_DEV_ACCOUNTS", "dev_accounts", bool),
    ("MARKETPLACE_DEV_ACCOUNT_COUNT", "dev_account_count", int),
    ("MARKETPLACE_DEV_ACCOUNT_ROLES", "dev_account_roles", tuple),
    ("MARKETPLACE_SIWE_DOMAIN", "siwe_domain", str),
    ("MARKETPLACE_SECURE_COOKIES", "secure_cookies", bool),
    ("MARKETPLACE_INDEX_REFRESH", "index_refresh", float),
    ("MARKETPLACE_MAX_CONTENT_LENGTH", "max_content_length", int),
    ("MARKETPLACE_PROXY_HOPS", "proxy_hops", int),
)


def resolve_secret_key(config: WebConfig) -> str:
    """The session signing key: configured, or (dev accounts only) one kept in `var/`.

    Every worker of one server must sign sessions with the same key, so the dev key is a file
    created once (atomically) and read by all; outside dev mode a missing key is an error.
    """
    if config.secret_key:
        return config.secret_key
    if config.testing:
        return secrets.token_hex(32)
    if not config.dev_accounts:
        raise ConfigError(
            "MARKETPLACE_SECRET_KEY is not set: give the web app a long random secret "
            "(only local dev mode, MARKETPLACE_DEV_ACCOUNTS=1, makes one up)"
        )
    path = repo_root() / "var" / "web-secret-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = ""
    for _ in range(100):  # another worker may have created the file and not written it yet
        key = path.read_text().strip()
        if key:
            break
        time.sleep(0.02)
    if len(key) < 32:
        raise ConfigError(f"{path} does not hold a usable secret key; delete it to make a new one")
    return key
