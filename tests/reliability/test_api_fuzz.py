"""Fast profile of the OpenAPI-driven fuzzer: generated valid and invalid requests for every
operation of /api/v1/openapi.json; no 5xx, every answer documented and in the documented shape.
The deep profile (>= 2,000 cases) runs in `make bench-reliability`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.api_fuzz_market import seed_market, sender_for
from tests.support.openapi_fuzz import operations, run
from tests.support.world import World, make_world

FAST_CASES = 600


@pytest.fixture(scope="module")
def fuzz_world(
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict[str, list[Any]]]]:
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
