"""The web app on a PostgreSQL store: a booking's whole life, the profile, the API.

Uses a fresh schema in `$MARKETPLACE_TEST_POSTGRES_URL` (default: the local `test` database);
skipped when no server answers, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.support.world import (
    CUSTOMERS,
    HELSINKI,
    PROVIDERS,
    RIDES,
    World,
    book,
    follow_pending,
    make_world,
    signed_in,
)
from tests.web.reviewing import send

POSTGRES_URL = os.environ.get(
    "MARKETPLACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def pg_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    schema = f"web_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    world = make_world(tmp_path_factory.mktemp("pg"),
                       database_url=f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}")
    try:
        yield world
    finally:
        world.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_a_booking_lives_its_whole_life_and_teaches_the_profile_on_postgresql(
    pg_world: World,
) -> None:
    world = pg_world
    provider_id = world.register("Aino's Rides", RIDES, HELSINKI, 1 << 6, 4 * 10**16)
    world.set_criteria(CUSTOMERS[0], RIDES)
    world.sync()
    customer, provider = signed_in(world, CUSTOMERS[0]), signed_in(world, PROVIDERS[0])
    customer.post("/profile/consent", {"grant": "1"})

    path = book(world, customer, provider_id)
    for actor, action in ((provider, "accept"), (provider, "complete"), (customer, "confirm")):
        if action == "complete":  # a provider completes only from the slot's start
            world.reach_last_slot()
        follow_pending(world, actor, send(actor, f"{path}/{action}").headers["Location"])
    follow_pending(world, customer, send(customer, f"{path}/rate", {
        "stars": "2", "complaint_tags": ["uncomfortable_vehicle"]}).headers["Location"])

    assert 'data-status="settled"' in customer.get(path).get_data(as_text=True)
    assert "Ranked lower" in customer.get("/profile").get_data(as_text=True)
    reviews = customer.get(f"/providers/{provider_id}").get_data(as_text=True)
    assert "Uncomfortable vehicle" in reviews
    body = customer.raw.get("/api/v1/providers?attributes=compact_car").get_json()
    assert body["total"] == 1
    assert customer.raw.get("/healthz").get_json()["status"] == "ok"


def test_a_listing_picture_is_stored_and_served_byte_for_byte_on_postgresql(
    pg_world: World,
) -> None:
    from marketplace.web.demo_pictures import demo_picture

    data = demo_picture("cleaning", 2)
    provider = signed_in(pg_world, PROVIDERS[1])

    stored = provider.raw.post("/api/v1/pictures", data=data, headers={
        "X-CSRF-Token": provider.csrf(), "Content-Type": "image/png"})
    served = pg_world.client().raw.get(stored.get_json()["url"])

    assert stored.status_code == 201, stored.get_json()
    assert served.status_code == 200 and served.data == data
    assert served.headers["Content-Type"] == "image/png"
