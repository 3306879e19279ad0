"""Web settings from the environment, the proxy setting, and the `marketplace web` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from marketplace.cli.web import web
from marketplace.config import ConfigError
from marketplace.web import create_app
from marketplace.web.config import WebConfig


def test_settings_come_from_the_environment() -> None:
    config = WebConfig.from_env({
        "MARKETPLACE_DEV_ACCOUNTS": "1", "MARKETPLACE_DEV_ACCOUNT_COUNT": "30",
        "MARKETPLACE_DEV_ACCOUNT_ROLES": "operator, provider", "MARKETPLACE_SECRET_KEY": "k" * 40,
        "MARKETPLACE_INDEX_REFRESH": "0.5", "DATABASE_URL": "sqlite:///x.sqlite",
    })

    assert config.dev_accounts and config.dev_account_count == 30
    assert config.role_of(1) == "provider" and config.role_of(7) == "account 7"
    assert config.cookies_secure is False  # local dev over plain http
    assert config.settings.database_url == "sqlite:///x.sqlite"


@pytest.mark.parametrize("env", [
    {"MARKETPLACE_DEV_ACCOUNTS": "perhaps"},
    {"MARKETPLACE_DEV_ACCOUNT_COUNT": "many"},
    {"MARKETPLACE_DEV_ACCOUNT_COUNT": "0"},
    {"MARKETPLACE_PROXY_HOPS": "9"},
    {"MARKETPLACE_MAX_CONTENT_LENGTH": "10"},
])
def test_unusable_settings_are_refused_with_the_variable_named(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        WebConfig.from_env(env)


def test_unknown_overrides_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown web setting"):
        WebConfig().with_overrides({"colour": "blue"})


def test_behind_a_proxy_the_forwarded_scheme_turns_on_hsts(tmp_path: Path) -> None:
    app = create_app({"database_url": f"sqlite:///{tmp_path / 's.sqlite'}", "proxy_hops": 1,
                      "secret_key": "k" * 40, "testing": True, "rpc_url": "http://127.0.0.1:9"})

    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})

    assert "Strict-Transport-Security" in response.headers
    app.extensions["marketplace"].close()


def test_the_web_command_documents_its_options() -> None:
    result = CliRunner().invoke(web, ["--help"])

    assert result.exit_code == 0
    for option in ("--port", "--workers", "--dev-accounts", "--rpc", "--database"):
        assert option in result.output


def test_the_web_command_refuses_to_start_without_a_secret_outside_dev_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MARKETPLACE_SECRET_KEY", "MARKETPLACE_DEV_ACCOUNTS", "DATABASE_URL",
                 "MARKETPLACE_RPC_URL", "MARKETPLACE_DEPLOYMENT",
                 "MARKETPLACE_DEV_ACCOUNT_COUNT"):
        monkeypatch.delenv(name, raising=False)  # the command sets them: restored afterwards

    result = CliRunner().invoke(web, ["--database", f"sqlite:///{tmp_path / 's.sqlite'}",
                                      "--no-dev-accounts"])

    assert result.exit_code != 0 and "MARKETPLACE_SECRET_KEY" in result.output
