"""Suggestions at the right moment: the indexer finds news for consenting customers as events
arrive (a listing entering their top three, a relied-on listing dropping below their criteria);
the notifications page and the API show it; erasure deletes it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from marketplace.chain.market import ListingInput
from marketplace.profile.notify import store_notifier
from marketplace.store.engine import open_engine
from tests.support.world import CUSTOMERS, HELSINKI, PROVIDERS, RIDES, World, signed_in

PRICE = 5 * 10**16
CEILING = 10**17
WITH, WITHOUT = CUSTOMERS[0], CUSTOMERS[1]


@pytest.fixture(scope="module")
def market(world: World) -> World:
    """Two customers who book the same ride twice; only the first consented."""
    world.register("Steady", RIDES, HELSINKI, 0, PRICE, owner=PROVIDERS[0])
    for customer in (WITH, WITHOUT):
        world.set_criteria(customer, RIDES, max_price=CEILING)
        for salt in range(2):
            world.book_direct(customer, world.providers["Steady"], salt=salt)
    world.sync()  # consent after: the first listing's arrival is no news for anybody
    world.services.profiles.grant_consent(world.address(WITH))
    return world


def kinds(world: World, customer: int) -> list[tuple[str, int]]:
    found = world.services.profile_repository.notifications(world.address(customer))
    return [(n.kind, n.provider_id) for n in found]


def test_a_new_cheaper_listing_entering_the_top_three_is_news_for_consenting_bookers(
    market: World,
) -> None:
    cheap = market.register("Cheap", RIDES, HELSINKI, 0, PRICE // 5, owner=PROVIDERS[1])
    market.sync()

    found = market.services.profile_repository.notifications(market.address(WITH))
    assert [(n.kind, n.provider_id) for n in found] == [("top", cheap)]
    assert found[0].message.startswith(f"Provider #{cheap} now ranks #1 for you in Rides: ")
    assert "under your ceiling" in found[0].message
    assert kinds(market, WITHOUT) == []


def test_indexing_the_same_blocks_again_stores_nothing_twice(market: World) -> None:
    before = kinds(market, WITH)
    block = market.indexer.checkpoint()[0]

    again = store_notifier(market.services.engine, reorg_window=2)
    again.after_commit(block, 0.0)  # a restarted indexer re-reads the reorg window

    assert (again.last.changed, again.last.customers, again.last.stored) == (1, 1, 0)
    assert kinds(market, WITH) == before


def test_a_relied_on_provider_raising_its_price_over_the_ceiling_no_longer_meets(
    market: World,
) -> None:
    steady = market.providers["Steady"]
    market.market.update_listing(
        steady, ListingInput(RIDES, HELSINKI, 0, 0, 2 * CEILING, b"\x01" * 32),
        sender=market.address(PROVIDERS[0]))
    market.sync()

    found = market.services.profile_repository.notifications(market.address(WITH))
    assert (found[0].kind, found[0].provider_id) == ("dropped", steady)
    assert found[0].message.startswith(f"Provider #{steady} no longer meets your criteria: ")
    assert "above your ceiling" in found[0].message
    assert kinds(market, WITHOUT) == []


def test_the_page_shows_them_with_an_unread_count_and_marks_them_read(market: World) -> None:
    client = signed_in(market, WITH)
    page = client.get("/notifications").get_data(as_text=True)
    assert "no longer meets your criteria" in page and "now ranks #1 for you in Rides" in page
    assert 'data-testid="notifications-link">Notifications <span class="badge">2</span>' in page

    response = client.post("/notifications/read", {})

    assert response.status_code == 302
    assert market.services.profile_repository.count_notifications(
        market.address(WITH), unread=True) == 0


def test_the_api_pages_them_and_marks_them_read(market: World) -> None:
    client = signed_in(market, WITH)
    market.services.profile_repository.mark_read(market.address(WITH), None)

    body = client.get("/api/v1/notifications?per_page=1").get_json()
    assert body["total"] == 2 and body["pages"] == 2 and len(body["items"]) == 1
    assert body["items"][0]["kind"] == "dropped" and body["items"][0]["category"] == "rides"
    assert client.get("/api/v1/notifications?unread=true").get_json()["items"] == []

    marked = client.post_json("/api/v1/notifications/read",
                              {"ids": [body["items"][0]["id"]]}).get_json()
    assert marked == {"marked": 0, "unread": 0}
    assert signed_in(market, WITHOUT).get("/api/v1/notifications").get_json()["total"] == 0
    assert market.client().get("/api/v1/notifications").status_code == 401


def test_export_includes_them_and_erasure_deletes_them(market: World) -> None:
    customer = market.address(WITH)
    assert len(market.services.profiles.export(customer)["notifications"]) == 2

    market.services.profiles.erase(customer)

    assert kinds(market, WITH) == []


def test_a_notifying_failure_is_logged_and_never_fails_the_indexers_commit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "store.sqlite").mkdir()  # a directory where the database file should be
    engine = open_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        with caplog.at_level(logging.ERROR, logger="marketplace.profile"):
            store_notifier(engine).after_commit(7, 0.0)
    finally:
        engine.dispose()

    assert "notifying up to block 7 failed" in caplog.text
