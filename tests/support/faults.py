"""Fault scenarios shared by tests/reliability/test_faults.py (fast) and bench/reliability.py.

Each scenario runs against a `World` (anvil + marketplace + store + indexer + app), injects its
fault, checks the specified outcome, and returns a `FaultResult` whose `lost` counts things that
went missing (bookings, escrowed wei, a signed-in session, indexed rows). The checks that are not
about lost data raise AssertionError with a reason.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from eth_typing import HexStr
from eth_utils.crypto import keccak
from web3.types import RPCEndpoint, TxParams, Wei

from marketplace.chain.anvil import start_anvil
from marketplace.chain.market import BookingRequest, ListingInput
from tests.support.waiting import HANG
from tests.support.world import CUSTOMERS, HELSINKI, PROVIDERS, RIDES, World

PRICE = 4 * 10**16
OFFER_CHANGED = "0x" + keccak(text="MarketplaceOfferChanged(uint32,uint32)")[:4].hex()
RACERS = (*CUSTOMERS, 10, 11)  # accounts with criteria set (make_world gives 12 accounts)
DAY = 86_400
SLOT_MINUTES = 60


@dataclass
class FaultResult:
    """What one scenario saw."""

    name: str
    lost: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def _rpc(world: World, method: str, params: list[Any]) -> Any:
    reply = world.market.w3.provider.make_request(RPCEndpoint(method), params)
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


def _booking_tx(world: World, customer: int, provider: int, offer_version: int | None = None
                ) -> dict[str, Any]:
    """The API's booking body for a slot a day ahead at the listing's offer (or `offer_version`)."""
    version = offer_version or int(world.market.listing(provider)["offerVersion"])
    return {"from": world.address(customer), "provider_id": provider,
            "start": world.now() + DAY, "duration": SLOT_MINUTES, "offer_version": version,
            "currency": "ETH"}


def prepare(world: World) -> int:
    """A provider and criteria for every racer; the provider's id."""
    provider = world.register(f"Racer target {time.monotonic_ns()}", RIDES, HELSINKI, 0, PRICE,
                              owner=PROVIDERS[0])
    for customer in RACERS:
        if world.market.criteria_version_for(world.address(customer), RIDES) == 0:
            world.set_criteria(customer, RIDES)
    world.sync()
    return provider


def _bookings_of(world: World, customer: int) -> int:
    """How many bookings the customer has made (its BookingRequested events)."""
    event = world.market.contract.events.BookingRequested
    return len(event.get_logs(from_block=world.deployment.start_block,
                              argument_filters={"customer": world.checksum(customer)}))


def anvil_killed_and_restarted(world: World, down_for: float = 1.0) -> FaultResult:
    """SIGKILL anvil mid-session; the web answers 503 (JSON for the API, a page for pages)
    while it is down, and recovers without a restart once a node with the same state is back."""
    result = FaultResult("anvil_killed_and_restarted")
    provider = prepare(world)
    client = world.client()
    client.sign_in(CUSTOMERS[0])
    api = client.raw
    build = _booking_tx(world, CUSTOMERS[0], provider)
    assert api.post("/api/v1/bookings/tx", json=build,
                    headers={"X-CSRF-Token": client.csrf()}).status_code == 200
    world.book_direct(CUSTOMERS[0], provider, start=world.now() + 2 * DAY)  # not the quoted slot
    world.sync()
    customer = world.address(CUSTOMERS[0])
    before = api.get(f"/api/v1/bookings?customer={customer}").get_json()
    escrow_before = world.market.w3.eth.get_balance(world.market.address)
    state = _rpc(world, "anvil_dumpState", [])
    port = world.node.port

    world.node.process.kill()
    world.node.process.wait(timeout=HANG)
    time.sleep(down_for)
    down = {
        "api_tx": api.post("/api/v1/bookings/tx", json=build,
                           headers={"X-CSRF-Token": client.csrf()}),
        "page_book": api.post(f"/book/{provider}", data={
            "provider_id": provider, "offer_version": build["offer_version"],
            "criteria_version": 1, "start": build["start"], "duration": SLOT_MINUTES,
            "csrf_token": client.csrf()}),
        "healthz": api.get("/healthz"),
    }
    result.details["down_statuses"] = {k: r.status_code for k, r in down.items()}
    for name, response in down.items():
        assert response.status_code == 503, (name, response.status_code,
                                             response.get_data()[:300])
    assert down["api_tx"].is_json and down["api_tx"].get_json()["error"] == "unavailable"
    assert down["page_book"].mimetype == "text/html"
    for path in (f"/api/v1/bookings?customer={customer}", f"/api/v1/criteria/{customer}",
                 f"/providers/{provider}"):  # served from the store: stale is fine, 5xx not
        status = api.get(path).status_code
        result.details["down_statuses"][path] = status
        assert status in (200, 503), (path, status)

    world.node = start_anvil(port=port, accounts=12)
    _rpc(world, "anvil_loadState", [state])
    started = time.monotonic()
    deadline = started + HANG
    status = 0
    while time.monotonic() < deadline:
        status = api.post("/api/v1/bookings/tx", json=build,
                          headers={"X-CSRF-Token": client.csrf()}).status_code
        if status == 200:
            break
        time.sleep(0.2)
    result.details["recovered_in_s"] = round(time.monotonic() - started, 2)
    assert status == 200, f"the app did not recover without a restart (last status {status})"
    assert api.get(f"/book/{provider}").status_code == 200
    assert api.get("/healthz").status_code == 200
    world.sync()
    after = api.get(f"/api/v1/bookings?customer={customer}").get_json()
    session = api.get("/auth/session").get_json()
    result.lost += max(0, len(before.get("items", [])) - len(after.get("items", [])))
    result.lost += int(world.market.w3.eth.get_balance(world.market.address) != escrow_before)
    result.lost += int(session.get("account") != customer)
    return result


def _send_book(world: World, customer: int, provider: int, price: int, offer_version: int,
               salt: int) -> str:
    """Send `book` at `offer_version` for a slot a day ahead (the salt keeps slots apart)."""
    start = world.now() + DAY
    request = BookingRequest(provider, start, SLOT_MINUTES, salt, offer_version,
                             world.market.criteria_version_for(world.address(customer), RIDES))
    fn = world.market.contract.functions.book(request.as_tuple())
    tx: TxParams = {"from": world.checksum(customer), "value": Wei(price), "gas": 500_000}
    return fn.transact(tx).hex()


def _race(world: World, *waves: list[tuple[str, Any]]) -> dict[str, str]:
    """Send each wave's jobs at once, each from its own thread, with automine off (wave after
    wave), then mine everything in one block."""
    hashes: dict[str, str] = {}
    errors: list[BaseException] = []

    def run(label: str, send: Any, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=HANG)
            hashes[label] = send()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    _rpc(world, "evm_setAutomine", [False])
    try:
        for jobs in waves:
            barrier = threading.Barrier(len(jobs))
            threads = [threading.Thread(target=run, args=(*job, barrier)) for job in jobs]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()  # each send is bounded by its own RPC timeout
        _rpc(world, "evm_mine", [])
    finally:
        _rpc(world, "evm_setAutomine", [True])
    assert not errors, errors
    return hashes


def concurrent_bookings(world: World, rounds: int = 2) -> FaultResult:
    """Every racer books the same provider at once, `rounds` times: every booking succeeds and
    is escrowed exactly once; the indexer and the API see each of them once."""
    result = FaultResult("concurrent_bookings")
    provider = prepare(world)
    w3 = world.market.w3
    escrow = w3.eth.get_balance(world.market.address)
    counts = {c: _bookings_of(world, c) for c in RACERS}
    offer = int(world.market.listing(provider)["offerVersion"])
    hashes: dict[str, str] = {}
    for round_ in range(rounds):
        jobs = [(f"{round_}:{c}",
                 lambda c=c, r=round_: _send_book(world, c, provider, PRICE, offer, r))
                for c in RACERS]
        hashes |= _race(world, jobs)
    ids = set()
    for tx_hash in hashes.values():
        receipt = w3.eth.wait_for_transaction_receipt(HexStr(tx_hash), timeout=HANG)
        assert receipt["status"] == 1, receipt
        ids |= {e["bookingId"] for e in world.market.events("BookingRequested", receipt)}
    world.sync()
    expected = rounds * len(RACERS)
    escrowed = w3.eth.get_balance(world.market.address) - escrow
    indexed = world.client().raw.get(f"/api/v1/bookings?provider_id={provider}&per_page=100")
    seen = [item["id"] for item in indexed.get_json()["items"]]
    result.details.update(bookings=len(ids), escrowed_wei=escrowed, indexed=len(seen))
    result.lost += expected - len(ids)
    result.lost += (expected * PRICE - escrowed) // PRICE
    result.lost += expected - len(set(seen))
    assert len(seen) == len(set(seen)), "the API lists a booking twice"
    assert sum(_bookings_of(world, c) - counts[c] for c in RACERS) == expected
    return result


def price_change_races_bookings(world: World, new_price: int = 5 * 10**16) -> FaultResult:
    """Racers book the quoted offer while the provider changes its price in the same block:
    every booking ordered before the change succeeds at the old price, every one after reverts
    with MarketplaceOfferChanged, and the escrow grows by exactly the successful bookings'
    price."""
    result = FaultResult("price_change_races_bookings")
    provider = prepare(world)
    w3 = world.market.w3
    offer = world.market.offer(provider, world.deployment.start_block)
    version = int(offer["offerVersion"])
    escrow = w3.eth.get_balance(world.market.address)
    changed = ListingInput(offer["category"], offer["region"], offer["attributes"],
                           offer["currency"], new_price, bytes(offer["metadataHash"]),
                           offer["instant"], offer["freeCancelHours"], offer["lateCancelPct"])
    update = world.market.contract.functions.updateListing(provider, changed.as_tuple())
    jobs: list[tuple[str, Any]] = [
        (str(c), lambda c=c: _send_book(world, c, provider, PRICE, version, 100))
        for c in RACERS]
    half = len(jobs) // 2
    change_job = ("price", lambda: update.transact(
        {"from": world.checksum(PROVIDERS[0]), "gas": 300_000}).hex())
    # bookings racing each other, the change, more bookings with the old quote: one block
    hashes = _race(world, jobs[:half], [change_job], jobs[half:])
    receipts = {k: w3.eth.wait_for_transaction_receipt(HexStr(h), timeout=HANG)
                for k, h in hashes.items()}
    change = receipts.pop("price")
    assert change["status"] == 1
    ok = stale = 0
    for label, receipt in receipts.items():
        assert receipt["blockNumber"] == change["blockNumber"], "the race was not in one block"
        if receipt["transactionIndex"] < change["transactionIndex"]:
            assert receipt["status"] == 1, (label, "booked before the change but failed")
            ok += 1
        else:
            assert receipt["status"] == 0, (label, "booked a stale price after the change")
            trace = _rpc(world, "debug_traceTransaction",
                         [hashes[label], {"tracer": "callTracer"}])
            assert str(trace.get("output", "")).startswith(OFFER_CHANGED), trace
            stale += 1
    world.sync()
    escrowed = w3.eth.get_balance(world.market.address) - escrow
    quote = world.client().raw.post("/api/v1/bookings/tx", json=_booking_tx(
        world, CUSTOMERS[0], provider, version))
    assert quote.status_code == 409 and quote.get_json()["field"] == "offer_version", (
        quote.get_json())
    indexed = world.client().raw.get(f"/api/v1/bookings?provider_id={provider}&per_page=100")
    result.details.update(booked_before_change=ok, refused_stale=stale, escrowed_wei=escrowed)
    result.lost += abs(escrowed - ok * PRICE) // PRICE
    result.lost += abs(ok - len(indexed.get_json()["items"]))
    result.lost += len(RACERS) - ok - stale
    assert world.market.listing(provider)["price"] == new_price
    return result
