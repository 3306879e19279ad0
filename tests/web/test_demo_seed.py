"""The `make run` demo market, small: every category, histories with complaints, and the story
of the customer whose complaints about compact cars change their next ranking."""

from __future__ import annotations

import pytest

from marketplace.web.demo import DemoMarket, seed_market
from tests.support.world import World, signed_in


@pytest.fixture(scope="module")
def demo(world: World) -> tuple[World, DemoMarket]:
    engine = world.app.extensions["marketplace"].engine
    seeded = seed_market(world.market, world.addresses, engine, n_providers=45, n_owners=3,
                         n_customers=5, seed=3)
    world.sync()
    return world, seeded


def test_the_demo_covers_every_category_with_named_providers_and_histories(
    demo: tuple[World, DemoMarket],
) -> None:
    world, seeded = demo
    providers = seeded.providers
    body = world.client().get("/api/v1/providers?per_page=100").get_json()

    assert {p.category for p in providers} == {"rides", "cleaning", "tutoring", "repairs",
                                               "delivery"}
    assert body["total"] == 45 and all(p["metadata_known"] for p in body["items"])
    assert seeded.bookings >= 5 and seeded.complaints >= 2
    assert seeded.roles[:2] == ["operator", "provider"]


def test_the_story_customers_complaints_push_compact_cars_down_and_say_why(
    demo: tuple[World, DemoMarket],
) -> None:
    world, seeded = demo
    customer = world.addresses.index(seeded.story_customer)
    client = signed_in(world, customer)

    matches = client.get("/matches?category=rides").get_data(as_text=True)
    profile = client.get("/profile").get_data(as_text=True)

    assert "you complained about &#39;uncomfortable vehicle&#39; twice on providers with " \
           "&#39;compact car&#39;" in matches
    assert "Refuse &#39;compact car&#39;" in profile
