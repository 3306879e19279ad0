"""The market the API fuzzer runs against: a provider, criteria and a booking on a `World`, the
known-good values that let generated cases get past the lookups, and a sender that plays a case
on the app's test client. Shared by tests/reliability/test_api_fuzz.py and bench/reliability.py.
"""

from __future__ import annotations

from typing import Any

from tests.support.openapi_fuzz import Case, Sender, body_bytes
from tests.support.world import CUSTOMERS, HELSINKI, PROVIDERS, RIDES, World


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


def sender_for(world: World) -> Sender:
    """Plays a generated case on a fresh test client of the world's app: (status, type, body)."""
    client = world.client().raw

    def send(case: Case) -> tuple[int, str, bytes]:
        response = client.open(case.path if case.path.startswith("/api") else
                               "/api/v1" + case.path, method=case.operation.method.upper(),
                               query_string=case.query, data=body_bytes(case),
                               content_type=case.content_type)
        return response.status_code, response.content_type or "", response.get_data()

    return send
