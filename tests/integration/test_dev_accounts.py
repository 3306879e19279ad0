"""Dev accounts come from the node: its funded accounts, keys only where the mnemonic matches."""

from __future__ import annotations

from pathlib import Path

from eth_typing import HexStr

from marketplace.chain.accounts import dev_accounts, node_dev_accounts
from marketplace.chain.anvil import running_anvil
from marketplace.chain.connection import connected
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from marketplace.chain.market import ListingInput
from marketplace.config import Settings
from marketplace.web import create_app
from marketplace.web.chainio import ChainGateway
from marketplace.web.config import WebConfig

GANACHE_MNEMONIC = "myth like bonus scare over problem client lizard pioneer submit female collect"


def test_on_anvils_mnemonic_every_funded_account_has_its_key() -> None:
    with running_anvil(accounts=4) as node:
        with connected(node.url) as w3:
            accounts = node_dev_accounts(w3, 10)
    keys = dev_accounts(4)
    assert [a.address for a in accounts] == [k.address for k in keys]
    assert [a.key.key if a.key else None for a in accounts] == [k.key for k in keys]


def test_a_node_with_another_mnemonic_offers_its_own_accounts_and_signs_for_them(
    tmp_path: Path,
) -> None:
    with running_anvil(accounts=3, mnemonic=GANACHE_MNEMONIC) as node, connected(node.url) as w3:
        accounts = node_dev_accounts(w3, 10)
        assert [a.address for a in accounts] == list(w3.eth.accounts)
        assert all(a.key is None for a in accounts)
        assert not {a.address for a in accounts} & {k.address for k in dev_accounts(3)}

        deploy_marketplace(w3, DeployParams(min_stake=10**15), record_path=tmp_path / "d.json")
        settings = Settings(rpc_url=node.url, deployment_path=tmp_path / "d.json")
        gateway = ChainGateway(settings, dev_mode=True, dev_account_count=3,
                               store_deployment=lambda: None)
        provider = accounts[1].address
        listing = ListingInput(1, 1, 0, 0, 10**16, b"\x01" * 32)
        tx = gateway.build("register", listing.as_tuple(), sender=provider, value=10**15)
        receipt = w3.eth.wait_for_transaction_receipt(HexStr(gateway.dev_send(tx)))
        gateway.close()
        assert receipt["status"] == 1 and receipt["from"] == provider


def test_an_account_without_ether_is_not_offered(tmp_path: Path) -> None:
    with running_anvil(accounts=4) as node, connected(node.url) as w3:
        deploy_marketplace(w3, DeployParams(), record_path=tmp_path / "d.json")
        node_accounts = list(w3.eth.accounts)
        drained, funded = node_accounts[2].lower(), node_accounts[3].lower()
        w3.provider.make_request("anvil_setBalance", [drained, "0x0"])  # type: ignore[arg-type]

        assert [a.index for a in node_dev_accounts(w3, 10)] == [0, 1, 3]

        settings = Settings(rpc_url=node.url, database_url=f"sqlite:///{tmp_path / 's.sqlite'}",
                            deployment_path=tmp_path / "d.json")
        app = create_app(WebConfig(settings=settings, secret_key="s" * 40, testing=True,
                                   dev_accounts=True, dev_account_count=4))
        try:
            client = app.test_client()
            page = client.get("/auth/signin").get_data(as_text=True)
            csrf = client.get("/auth/session").get_json()["csrf_token"]
            refused = client.post("/auth/dev", json={"account": "2"},
                                  headers={"X-CSRF-Token": csrf})
            chosen = client.post("/auth/dev", json={"account": "3"},
                                 headers={"X-CSRF-Token": csrf})
        finally:
            app.extensions["marketplace"].close()
    assert drained not in page and funded in page
    assert refused.status_code == 400
    assert refused.get_json()["message"] == "That dev account holds no ether on this chain."
    assert chosen.status_code == 200 and chosen.get_json()["account"] == funded


def test_the_switcher_offers_no_more_accounts_than_asked() -> None:
    with running_anvil(accounts=5) as node:
        with connected(node.url) as w3:
            assert [a.index for a in node_dev_accounts(w3, 2)] == [0, 1]
