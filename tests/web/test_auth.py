"""Sign-In with Ethereum (EIP-4361) and the dev-account switcher."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from siwe import SiweMessage

from marketplace.chain.accounts import dev_accounts
from marketplace.web import create_app
from marketplace.web.config import WebConfig
from tests.support.world import Client, World


@pytest.fixture(scope="module")
def wallet() -> LocalAccount:
    return dev_accounts(6)[5]


def sign(message: str, account: LocalAccount) -> str:
    signed = Account.sign_message(encode_defunct(text=message), account.key)
    return "0x" + bytes(signed.signature).hex()


def challenge(client: Client, account: LocalAccount) -> str:
    response = client.post("/auth/nonce", json={"address": account.address})
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["message"])


def test_a_wallet_signs_in_with_a_signed_eip4361_message(world: World,
                                                         wallet: LocalAccount) -> None:
    client = world.client()
    message = challenge(client, wallet)

    response = client.post("/auth/verify", json={"message": message,
                                                 "signature": sign(message, wallet)})

    assert response.status_code == 200
    assert response.get_json()["account"] == wallet.address.lower()
    session = client.raw.get("/auth/session").get_json()
    assert session == {"account": wallet.address.lower(), "signer": "wallet",
                       "csrf_token": session["csrf_token"]}
    parsed = SiweMessage.from_message(message)
    assert parsed.domain == "localhost" and parsed.chain_id == 31337
    assert parsed.expiration_time is not None


def test_a_nonce_works_once_only(world: World, wallet: LocalAccount) -> None:
    client = world.client()
    message = challenge(client, wallet)
    signature = sign(message, wallet)
    assert client.post("/auth/verify", json={"message": message,
                                             "signature": signature}).status_code == 200

    replay = client.post("/auth/verify", json={"message": message, "signature": signature})

    assert replay.status_code == 401 and replay.get_json()["error"] == "sign_in_failed"


def test_a_nonce_issued_to_another_browser_is_refused(world: World,
                                                      wallet: LocalAccount) -> None:
    message = challenge(world.client(), wallet)

    response = world.client().post("/auth/verify", json={"message": message,
                                                         "signature": sign(message, wallet)})

    assert response.status_code == 401


def _tampered(client: Client, wallet: LocalAccount, **changes: object) -> tuple[str, str]:
    original = SiweMessage.from_message(challenge(client, wallet))
    fields = original.model_dump()
    fields.update(changes)
    message = SiweMessage(**fields).prepare_message()
    return message, sign(message, wallet)


@pytest.mark.parametrize("changes", [
    {"domain": "evil.example"},
    {"chain_id": 1},
    {"uri": "https://evil.example"},
])
def test_a_message_for_another_site_or_chain_is_refused(
    world: World, wallet: LocalAccount, changes: dict[str, object]
) -> None:
    client = world.client()
    message, signature = _tampered(client, wallet, **changes)

    response = client.post("/auth/verify", json={"message": message, "signature": signature})

    assert response.status_code == 401 and response.get_json()["field"] == "signature"


def test_an_expired_message_is_refused(world: World, wallet: LocalAccount) -> None:
    client = world.client()
    past = datetime.now(UTC) - timedelta(minutes=1)
    message, signature = _tampered(
        client, wallet,
        expiration_time=past.isoformat(timespec="milliseconds").replace("+00:00", "Z"))

    response = client.post("/auth/verify", json={"message": message, "signature": signature})

    assert response.status_code == 401 and "expired" in response.get_json()["message"]


def test_a_signature_by_another_key_is_refused(world: World, wallet: LocalAccount) -> None:
    client = world.client()
    message = challenge(client, wallet)

    response = client.post("/auth/verify", json={"message": message,
                                                 "signature": sign(message, dev_accounts(1)[0])})

    assert response.status_code == 401 and "signature" in response.get_json()["message"]


@pytest.mark.parametrize("body", [
    {"message": "hello", "signature": "0x00"},
    {"message": "", "signature": "0x00"},
    {"signature": "0x00"},
    {"message": ["x"], "signature": "0x00"},
])
def test_malformed_sign_in_requests_are_400s(world: World, body: dict[str, object]) -> None:
    client = world.client()
    client.csrf()

    response = client.post("/auth/verify", json=body)

    assert response.status_code == 400 and response.get_json()["field"] == "message"


def test_a_challenge_needs_a_real_address(world: World) -> None:
    response = world.client().post("/auth/nonce", json={"address": "0x1234"})

    assert response.status_code == 400 and response.get_json()["field"] == "address"


def test_the_dev_switcher_lists_dev_accounts_with_roles_and_switches(world: World) -> None:
    client = world.client()
    page = client.get("/auth/signin").get_data(as_text=True)
    assert world.address(4) in page and 'id="dev-switcher"' in page

    client.sign_in(4)

    assert client.raw.get("/auth/session").get_json()["signer"] == "dev"
    assert client.post("/auth/dev", {"account": "99"}).status_code == 400
    assert client.post("/auth/dev", {"account": "0x" + "11" * 20}).status_code == 400


def test_signing_out_forgets_the_account(world: World) -> None:
    client = world.client()
    client.sign_in(4)

    client.post("/auth/signout")

    assert client.raw.get("/auth/session").get_json()["account"] is None


def test_without_dev_mode_no_dev_account_exists_and_the_server_signs_nothing(
    world: World,
) -> None:
    settings = world.app.extensions["marketplace"].config.settings
    app = create_app(WebConfig(settings=settings, secret_key="s" * 40, testing=True,
                               dev_accounts=False))
    client = Client(app.test_client())
    page = client.get("/auth/signin").get_data(as_text=True)

    response = client.post("/auth/dev", {"account": "4"})

    assert 'id="dev-switcher"' not in page
    assert response.status_code == 403
    services = app.extensions["marketplace"]
    assert services.chain.dev_signing_available() is False
    with pytest.raises(Exception, match="Dev accounts are off"):
        services.chain.dev_accounts()
    services.close()


def test_a_nonce_expires(world: World, wallet: LocalAccount) -> None:
    from marketplace.web.db import consume_nonce, issue_nonce

    engine = world.app.extensions["marketplace"].engine
    issue_nonce(engine, "expiring0nonce", ttl=1, now=time.time() - 10)

    assert consume_nonce(engine, "expiring0nonce") is False
