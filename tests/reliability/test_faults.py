"""Faults, each with nothing lost: anvil killed and restarted mid-session, bookings racing for
the same provider, a price change racing bookings (tests/integration covers the indexer being
killed, reorgs and the node going away under the indexer)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import (
    anvil_killed_and_restarted,
    concurrent_bookings,
    price_change_races_bookings,
)
from tests.support.world import World, make_world


@pytest.fixture()
def fresh(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path)
    try:
        yield world
    finally:
        world.close()


def test_bookings_racing_for_one_provider_are_each_escrowed_and_indexed_exactly_once(
        fresh: World) -> None:
    result = concurrent_bookings(fresh, rounds=2)

    assert result.lost == 0, result
    assert result.details["bookings"] == 12


def test_a_price_change_racing_bookings_lets_earlier_ones_through_and_reverts_the_rest(
        fresh: World) -> None:
    result = price_change_races_bookings(fresh)

    assert result.lost == 0, result
    assert result.details["booked_before_change"] == 3  # the first wave, ordered first
    assert result.details["refused_stale"] == 3  # sent after the change, ordered after it


def test_with_anvil_killed_the_web_answers_503_and_recovers_without_a_restart(
        fresh: World) -> None:
    result = anvil_killed_and_restarted(fresh)

    assert result.lost == 0, result
