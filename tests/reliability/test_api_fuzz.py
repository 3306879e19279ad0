"""Fast profile of the OpenAPI-driven fuzzer: generated valid and invalid requests for every
operation of /api/v1/openapi.json; no 5xx, every answer documented and in the documented shape.
The deep profile (>= 2,000 cases) runs in `make bench-reliability`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_fuzz import Case, body_bytes, operations, run
from web_support import CUSTOMERS, HELSINKI, PROVIDERS, RIDES, World, make_world

FAST_CASES = 600


def seed_market(world: World) -> dict[str, list[Any]]:
    """A provider, criteria and a booking; field-name hints that reach past validation."""
    provider = world.register("Aino's Rides", RIDES, HELSINKI, 0, 4 * 10**16)
    world.set_criteria(CUSTOMERS[0], RIDES)
    receipt = world.transact("book", provider, 4 * 10**16, 1, sender=CUSTOMERS[0],
                             value=4 * 10**16)
    booking = world.market.events("BookingRequested", receipt)[0]["bookingId"]
    world.sync()
    return hints_for(world, provider, hex(booking))


def hints_for(world: World, provider: int, booking: str) -> dict[str, list[Any]]:
    """Known-good values by field name, so valid cases get past the lookups."""
    accounts = [world.address(i) for i in (CUSTOMERS[0], PROVIDERS[0])]
    return {
        "provider_id": [provider, provider, 999],
        "booking_id": [booking, booking, "0x" + "ab" * 32],
        "account": accounts, "customer": accounts, "from": accounts, "owner": accounts,
        "category": ["rides", "cleaning", "1"], "region": ["helsinki", "any", "espoo"],
        "max_price": ["0.1 ether", "100000000000000000", 10**17],
        "expected_price": ["40000000000000000", 4 * 10**16],
        "criteria_version": [1, 2], "premium_per_star": ["0", "0.001 ether"],
        "stake": ["1000000000000000", "0.001 ether"], "price": ["0.02 ether"],
        "attributes": [["compact_car"], []], "required": [["electric_vehicle"], []],
        "refused": [["smoker"], []], "k": [5, 10], "min_stars": [0, 3],
    }


def sender_for(world: World) -> Any:
    client = world.client().raw

    def send(case: Case) -> tuple[int, str, bytes]:
        response = client.open(case.path if case.path.startswith("/api") else
                               "/api/v1" + case.path, method=case.operation.method.upper(),
                               query_string=case.query, data=body_bytes(case),
                               content_type=case.content_type)
        return response.status_code, response.content_type or "", response.get_data()

    return send


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict]]:
    world = make_world(Path(tmp_path_factory.mktemp("fuzz")))
    try:
        yield world, seed_market(world)
    finally:
        world.close()


def test_generated_requests_for_every_operation_never_get_a_5xx_or_an_undocumented_answer(
        fuzz_world: tuple[World, dict[str, list[Any]]]) -> None:
    world, hints = fuzz_world
    document = world.client().raw.get("/api/v1/openapi.json").get_json()

    tally = run(document, sender_for(world), FAST_CASES, seed=7, hints=hints)

    assert tally.cases >= 200 and tally.server_errors == 0
    # The chain is up all along: no 503 is acceptable.
    assert not tally.unavailable_messages, tally.unavailable_messages[:5]
    assert not tally.failures, "\n".join(f"{f.problem} <- {f.case}" for f in tally.failures[:15])
    assert sum(n for s, n in tally.statuses.items() if s == 200) >= tally.cases // 10


def test_the_generator_covers_every_operation_with_valid_and_invalid_cases(
        fuzz_world: tuple[World, dict[str, list[Any]]]) -> None:
    document = fuzz_world[0].client().raw.get("/api/v1/openapi.json").get_json()

    assert FAST_CASES >= 2 * len(operations(document))
