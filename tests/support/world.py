"""Shared helpers for tests/web and tests/e2e: a chain with the marketplace, a store, an indexer,
and a Flask test client that signs in and posts forms with the CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from flask import Flask
from flask.testing import FlaskClient
from web3.types import RPCEndpoint
from werkzeug.test import TestResponse

from marketplace.chain.accounts import dev_accounts
from marketplace.chain.anvil import Anvil, start_anvil
from marketplace.chain.connection import connect, disconnect
from marketplace.chain.deploy import DeployParams, deploy_marketplace, fund_dev_accounts
from marketplace.chain.deployment import Deployment
from marketplace.chain.market import BookingRequest, CriteriaInput, ListingInput, Market
from marketplace.chain.token import Token
from marketplace.config import Settings
from marketplace.indexer import Indexer, create_indexer
from marketplace.web import create_app
from marketplace.web.config import WebConfig
from marketplace.web.context import Services
from marketplace.web.db import put_metadata, put_picture
from marketplace.web.pictures import inspect

OPERATOR, PROVIDERS, CUSTOMERS, ARBITER, STRANGER, ATTESTOR = 0, (1, 2, 3), (4, 5, 6, 7), 8, 9, 10
MIN_STAKE = 10**15
ETHER, DUSD = 0, 1  # currency ids: DemoUSD (6 decimals) is enabled as currency 1 at deployment
DUSD_UNIT = 10**6
HOUR = 3_600
RIDES, CLEANING = 1, 2
HELSINKI, ESPOO = 1, 2
ATTR = {"electric_vehicle": 0, "pet_friendly": 2, "speaks_finnish": 3, "compact_car": 6,
        "large_vehicle": 7, "smoker": 15}
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class World:
    """anvil + deployed marketplace + store + indexer + app."""

    node: Anvil
    market: Market
    deployment: Deployment
    deployment_path: Path
    database_url: str
    indexer: Indexer
    app: Flask
    addresses: list[str]
    providers: dict[str, int] = field(default_factory=dict)
    slot_starts: list[int] = field(default_factory=list)
    """The starts `book` chose, in order: each test's booking gets a slot of its own."""

    def next_slot_start(self) -> int:
        """Two days ahead of the chain's clock, after every slot `book` chose before (a slot the
        same customer holds open would be refused as booked)."""
        latest = int(self.market.w3.eth.get_block("latest")["timestamp"])
        start = max([latest + 2 * 86_400, *(s + 7_200 for s in self.slot_starts)])
        self.slot_starts.append(start)
        return start

    def reach_last_slot(self) -> None:
        """Move chain time just past the start of the last slot `book` chose."""
        target = self.slot_starts[-1] + 60
        latest = int(self.market.w3.eth.get_block("latest")["timestamp"])
        if latest < target:
            self.mine(target - latest)

    def address(self, index: int) -> str:
        """Lower-case address of dev account `index`."""
        return self.addresses[index]

    @property
    def services(self) -> Services:
        """The app's services (store, chain gateway, profiles), as its request handlers see them."""
        found: Services = self.app.extensions["marketplace"]
        return found

    def sync(self) -> None:
        """Let the indexer catch up with the chain."""
        self.indexer.sync()

    def wait(self, tx_hash: str) -> None:
        """Wait until the transaction is mined (anvil mines just after answering), then index."""
        self.market.w3.eth.wait_for_transaction_receipt(HexStr(tx_hash), timeout=120)
        self.indexer.sync()

    def transact(self, function: str, *args: Any, sender: int, value: int = 0) -> Any:
        """A dev-signed transaction straight to the contract by name (arranging a test)."""
        return self.market.transact(function, *args, sender=self.addresses[sender], value=value)

    def checksum(self, index: int) -> str:
        """Checksummed address of dev account `index` (web3 wants these as arguments)."""
        return str(to_checksum_address(self.addresses[index]))

    @property
    def token(self) -> Token:
        """The DemoUSD token (currency 1); every dev account holds 10,000 dUSD."""
        return Token(self.market.w3, self.deployment.currency(DUSD).token or "")

    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.market.w3.eth.get_block("latest")["timestamp"])

    def register(self, name: str, category: int, region: int, attributes: int, price: int,
                 owner: int = PROVIDERS[0], *, currency: int = ETHER, instant: bool = False,
                 free_cancel_hours: int = 0, late_cancel_pct: int = 0,
                 picture: bytes | None = None) -> int:
        """Register a listing with its metadata (and `picture`, if given) stored; returns its
        id. `price` is in the smallest unit of `currency` (wei, or DemoUSD's 6 decimals)."""
        engine = self.app.extensions["marketplace"].engine
        document = {"name": name, "description": f"{name} description"}
        if picture is not None:
            document["picture"] = put_picture(engine, inspect(picture))
        digest = put_metadata(engine, document)
        listing = ListingInput(category, region, attributes, currency, price,
                               bytes.fromhex(digest[2:]), instant, free_cancel_hours,
                               late_cancel_pct)
        provider_id = self.market.register(listing, sender=self.addresses[owner],
                                           stake=MIN_STAKE)
        self.providers[name] = provider_id
        return provider_id

    def set_criteria(self, customer: int, category: int = RIDES, *, region: int = 0,
                     min_score: int = 0, max_price: int = 10**17, premium: int = 0,
                     required: int = 0, refused: int = 0, weights: tuple[int, int] = (5000, 5000),
                     currency: int = ETHER, verified: int = 0, trusted_attestors: int = 0,
                     min_rating_weight: int = 0, min_reliability: int = 0) -> int:
        """Write a customer's criteria on-chain; returns the new criteria version."""
        criteria = CriteriaInput(category, region, currency, min_score, max_price, premium,
                                 required, refused, verified, trusted_attestors,
                                 min_rating_weight, min_reliability, weights[0], weights[1])
        return self.market.set_criteria(criteria, sender=self.addresses[customer])

    def book_direct(self, customer: int, provider_id: int, *, start: int | None = None,
                    duration_minutes: int = 60, salt: int = 0) -> int:
        """Book straight on the contract (arranging a test): the slot starts a day from now
        unless given; a token listing is approved for its price first. Returns the booking id."""
        address = self.addresses[customer]
        request: BookingRequest = self.market.request_for(
            address, provider_id, start or self.now() + 24 * HOUR, duration_minutes, salt)
        listing = self.market.listing(provider_id)
        if listing["currency"] == ETHER:
            return self.market.book(request, sender=address, value=int(listing["price"]))
        self.token.approve(self.market.address, int(listing["price"]), sender=address)
        return self.market.book(request, sender=address)

    def client(self) -> Client:
        """A fresh browser-like test client."""
        return Client(self.app.test_client())

    def mine(self, seconds: int) -> None:
        """Move chain time forward and mine a block."""
        self.market.w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [seconds])
        self.market.w3.provider.make_request(RPCEndpoint("evm_mine"), [])

    def close(self) -> None:
        """Release the app's and the indexer's store and node connections; stop anvil."""
        self.app.extensions["marketplace"].close()
        self.indexer.close()
        disconnect(self.market.w3)
        self.node.stop()


class Client:
    """A Flask test client that knows the session's CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.raw = client
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        """GET, remembering the CSRF token of an HTML page."""
        response = self.raw.get(path, **kwargs)
        found = _CSRF.search(response.get_data(as_text=True)) if response.mimetype == (
            "text/html") else None
        if found:
            self.token = found.group(1)
        return response

    def csrf(self) -> str:
        """The session's CSRF token (fetched from the session endpoint when unknown)."""
        if not self.token:
            self.token = self.raw.get("/auth/session").get_json()["csrf_token"]
        return self.token

    def post(self, path: str, data: Mapping[str, Any] | str | None = None, *,
             csrf: bool = True, **kwargs: Any) -> TestResponse:
        """POST a form (with the CSRF token unless told not to); JSON or raw bodies carry the
        token in the X-CSRF-Token header instead."""
        if "json" in kwargs or isinstance(data, str):
            headers = {"X-CSRF-Token": self.csrf()} if csrf and self._has_session() else {}
            response = self.raw.post(path, data=data, headers=headers, **kwargs)
        else:
            form = dict(data or {})
            if csrf:
                form.setdefault("csrf_token", self.csrf())
            response = self.raw.post(path, data=form, **kwargs)
        self._after(response)
        return response

    def _has_session(self) -> bool:
        return self.raw.get_cookie("mkt_session") is not None

    def post_json(self, path: str, body: Any = None, *, csrf: bool = True,
                  method: str = "POST") -> TestResponse:
        """Send JSON with the CSRF header."""
        headers = {"X-CSRF-Token": self.csrf()} if csrf else {}
        response = self.raw.open(path, method=method, json=body, headers=headers)
        self._after(response)
        return response

    def _after(self, response: TestResponse) -> None:
        if response.is_json:
            data = response.get_json(silent=True)
            if isinstance(data, dict) and isinstance(data.get("csrf_token"), str):
                self.token = data["csrf_token"]

    def sign_in(self, index: int) -> None:
        """Act as dev account `index` (the server signs)."""
        response = self.post("/auth/dev", {"account": str(index)})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self.token = ""
        self.csrf()


def signed_in(world: World, index: int) -> Client:
    """A client acting as dev account `index`."""
    client = world.client()
    client.sign_in(index)
    return client


def follow_pending(world: World, client: Client, location: str) -> str:
    """Index the chain, then let the pending page redirect to the result; its URL."""
    assert location.startswith("/tx/0x"), location
    world.wait(location[4:70])
    response = client.get(location)
    assert response.status_code == 302, (response.status_code, re.findall(
        r'role="alert">([^<]*)<', response.get_data(as_text=True)))
    return str(response.headers["Location"])


def main_part(page: str) -> str:
    """The <main> part of a page, for assertion messages."""
    found = re.search(r"<main>(.*)</main>", page, re.S)
    return re.sub(r"\s+", " ", found.group(1) if found else page)[:1500]


_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_NAME = re.compile(r'name="([^"]+)"')
_VALUE = re.compile(r'value="([^"]*)"')


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page's forms (name -> value; the CSRF token left out)."""
    fields: dict[str, str] = {}
    for tag in _HIDDEN.findall(page):
        name, value = _NAME.search(tag), _VALUE.search(tag)
        if name and name.group(1) != "csrf_token":
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def book(world: World, client: Client, provider_id: int, **fields: Any) -> str:
    """Book through the quote page (posting back its hidden fields: offer and criteria versions,
    the slot, ..., overridden by `fields`); the booking page's path."""
    page = client.get(f"/book/{provider_id}").get_data(as_text=True)
    form = {"provider_id": provider_id, **hidden_fields(page), **fields}
    assert "criteria_version" in form, page[:2000]
    if "start" not in form and "slot_date" not in form:  # the web's slot picker: days ahead
        form.update(start=str(world.next_slot_start()))
    form.setdefault("duration", "60")
    response = client.post(f"/book/{provider_id}", form)
    text = response.get_data(as_text=True)
    if response.status_code == 200 and 'data-testid="tx-review"' in text:
        # The web's review step (issue 14): nothing is signed until the customer confirms.
        response = client.post(f"/book/{provider_id}", {
            **hidden_fields(text.split('id="review-form"', 1)[1]), "confirmed": "1"})
    assert response.status_code == 302, (response.status_code, re.findall(
        r'role="alert">([^<]*)<', response.get_data(as_text=True)))
    return follow_pending(world, client, response.headers["Location"])


def make_world(tmp: Path, *, accounts: int = 12, database_url: str | None = None) -> World:
    """Start anvil, deploy, and build a store (SQLite in `tmp` unless `database_url` names
    another), an indexer and an app over them."""
    node = start_anvil(accounts=accounts)
    try:
        w3 = connect(node.url)
        deployment_path = tmp / "deployment.json"
        addresses = [a.address.lower() for a in dev_accounts(accounts)]
        market, deployment = deploy_marketplace(
            w3,
            DeployParams(min_stake=MIN_STAKE, arbiter=addresses[ARBITER],
                         attestor=addresses[ATTESTOR] if accounts > ATTESTOR else None,
                         demo_token=True),
            deployer=to_checksum_address(addresses[OPERATOR]),
            record=True, record_path=deployment_path)
        fund_dev_accounts(w3, deployment.currency(DUSD).token or "", addresses,
                          minter=to_checksum_address(addresses[OPERATOR]))
        database_url = database_url or f"sqlite:///{tmp / 'store.sqlite'}"
        settings = Settings(rpc_url=node.url, database_url=database_url,
                            deployment_path=deployment_path, confirmations=2, retry_for=5)
        app = create_app(WebConfig(
            settings=settings, secret_key="test-secret-key-" + "x" * 32, dev_accounts=True,
            dev_account_count=accounts, index_refresh=0.0, testing=True,
        ))
        indexer = create_indexer(settings, deployment=deployment)
        indexer.open()
        indexer.sync()
    except BaseException:
        node.stop()
        raise
    return World(node, market, deployment, deployment_path, database_url, indexer, app,
                 addresses)
