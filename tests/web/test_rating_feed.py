"""Ratings are learned where they arrive: by the indexer as it stores them, and once when a
customer grants consent; never by a page view, and never without consent."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from marketplace.profile.feed import store_feed
from marketplace.store.engine import open_engine
from tests.support.world import ATTR, CUSTOMERS, HELSINKI, PROVIDERS, RIDES, World, signed_in
from tests.web.reviewing import settled_booking

UNCOMFORTABLE = 1 << 3
PRICE = 3 * 10**16


@pytest.fixture(scope="module")
def market(world: World) -> World:
    world.register("Compact", RIDES, HELSINKI, 1 << ATTR["compact_car"], PRICE,
                   owner=PROVIDERS[0])
    for customer in CUSTOMERS:
        world.set_criteria(customer, RIDES, max_price=10**17)
    world.sync()
    return world


def rate(world: World, customer: int) -> None:
    """Book the compact car, take the ride, rate it two stars with a complaint; indexed."""
    booking = settled_booking(world, customer, world.providers["Compact"], PROVIDERS[0])
    world.transact("rate", booking, 2, UNCOMFORTABLE, sender=customer)
    world.sync()


def learned(world: World, customer: int) -> int:
    return len(world.services.profile_repository.ratings(world.address(customer)))


def test_the_indexer_learns_a_consenting_customers_rating_as_it_stores_it(
    market: World,
) -> None:
    market.services.profiles.grant_consent(market.address(CUSTOMERS[0]))

    rate(market, CUSTOMERS[0])
    rate(market, CUSTOMERS[0])

    assert learned(market, CUSTOMERS[0]) == 2


def test_without_consent_nothing_is_learned_even_after_it_is_withdrawn(market: World) -> None:
    customer = market.address(CUSTOMERS[1])
    rate(market, CUSTOMERS[1])
    market.services.profiles.grant_consent(customer)
    market.services.profiles.revoke_consent(customer)

    rate(market, CUSTOMERS[1])

    assert learned(market, CUSTOMERS[1]) == 0


def test_page_views_learn_nothing_and_granting_consent_learns_the_past(market: World) -> None:
    rate(market, CUSTOMERS[2])
    client = signed_in(market, CUSTOMERS[2])
    # Consent recorded behind the web app's back: only the consent page catches up.
    market.services.profiles.grant_consent(market.address(CUSTOMERS[2]))

    for page in ("/matches?category=rides", "/profile", "/"):
        assert client.get(page).status_code == 200
    before = learned(market, CUSTOMERS[2])
    client.post("/profile/consent", {"grant": "1"})

    assert before == 0 and learned(market, CUSTOMERS[2]) == 1
    assert "ranked lower" in client.get("/matches?category=rides").get_data(as_text=True)


def test_a_restarted_indexer_catches_up_once_and_only_once(market: World) -> None:
    rate(market, CUSTOMERS[3])
    market.services.profiles.grant_consent(market.address(CUSTOMERS[3]))
    block = market.indexer.checkpoint()[0]

    restarted = store_feed(market.services.engine, reorg_window=2)
    restarted.after_commit(block, 0.0)
    restarted.after_commit(block, 0.0)
    store_feed(market.services.engine).after_commit(block, 0.0)

    assert learned(market, CUSTOMERS[3]) == 1


def test_a_learning_failure_is_logged_and_never_fails_the_indexers_commit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "store.sqlite").mkdir()  # a directory where the database file should be
    engine = open_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        with caplog.at_level(logging.ERROR, logger="marketplace.profile"):
            store_feed(engine).after_commit(7, 0.0)
    finally:
        engine.dispose()

    assert "learning ratings up to block 7 failed" in caplog.text
