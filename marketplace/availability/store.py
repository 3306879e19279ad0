"""Weekly hours in the web app's database (SQLite or PostgreSQL), beside the `web_` tables.

One row per listing: the schedule's canonical JSON, who saved it (the listing's owner, checked
by the caller) and when. Its own `MetaData` and an `availability_` prefix, as the profile store
does, so it never touches the store's schema. A listing without a row has no schedule: it is
bookable at any time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from marketplace.availability.schedule import WeeklySchedule, parse_schedule

availability_metadata = MetaData()

schedules = Table(
    "availability_schedules",
    availability_metadata,
    Column("provider_id", BigInteger, primary_key=True, autoincrement=False),
    Column("document", Text, nullable=False),
    Column("saved_by", String(42), nullable=False),
    Column("saved_at", Float, nullable=False),
)

__all__ = [
    "availability_metadata",
    "create_availability_schema",
    "delete_schedule",
    "demo_schedule",
    "load_schedule",
    "load_schedules",
    "save_schedule",
    "schedule_in",
    "seed_demo_schedules",
]


def create_availability_schema(engine: Engine) -> None:
    """Create the table if missing (safe when several workers start at once)."""
    for attempt in range(5):
        try:
            availability_metadata.create_all(engine)
            return
        except (OperationalError, ProgrammingError):  # another worker created it meanwhile
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


def _document(schedule: WeeklySchedule) -> str:
    return json.dumps(schedule.as_json(), sort_keys=True, separators=(",", ":"))


def save_schedule(engine: Engine, provider_id: int, schedule: WeeklySchedule,
                  saved_by: str) -> None:
    """Store (or replace) the listing's weekly hours. The caller checks `saved_by` owns it."""
    values = {"document": _document(schedule), "saved_by": saved_by.lower(),
              "saved_at": time.time()}
    with engine.begin() as conn:
        changed = conn.execute(update(schedules).where(schedules.c.provider_id == provider_id)
                               .values(**values)).rowcount
        if changed:
            return
    try:
        with engine.begin() as conn:
            conn.execute(insert(schedules).values(provider_id=provider_id, **values))
    except IntegrityError:  # a concurrent first save won: ours is the later one
        with engine.begin() as conn:
            conn.execute(update(schedules).where(schedules.c.provider_id == provider_id)
                         .values(**values))


def delete_schedule(engine: Engine, provider_id: int) -> bool:
    """Remove the listing's hours (it becomes bookable at any time); whether there were any."""
    with engine.begin() as conn:
        return bool(conn.execute(
            delete(schedules).where(schedules.c.provider_id == provider_id)).rowcount)


def load_schedule(engine: Engine, provider_id: int) -> WeeklySchedule | None:
    """The listing's weekly hours, or None (no schedule: bookable at any time)."""
    with engine.connect() as conn:
        return schedule_in(conn, provider_id)


def schedule_in(conn: Connection, provider_id: int) -> WeeklySchedule | None:
    """`load_schedule` on an open connection."""
    row = conn.execute(select(schedules.c.document)
                       .where(schedules.c.provider_id == provider_id)).first()
    return None if row is None else parse_schedule(json.loads(row[0]))


def load_schedules(engine: Engine, provider_ids: Iterable[int]) -> dict[int, WeeklySchedule]:
    """Hours of those listings that have them."""
    wanted = sorted(set(provider_ids))
    found: dict[int, WeeklySchedule] = {}
    with engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            rows = conn.execute(select(schedules.c.provider_id, schedules.c.document).where(
                schedules.c.provider_id.in_(wanted[start:start + 500]))).all()
            for provider_id, document in rows:
                found[int(provider_id)] = parse_schedule(json.loads(document))
    return found


# ------------------------------------------------------------------ demo data


def demo_schedule(provider_id: int, time_zone: str = "Europe/Helsinki") -> WeeklySchedule:
    """Plausible hours for a demo listing, varied by id: weekdays 08:00-16:00, 09:00-17:00 or
    10:00-18:00 (every third also Saturday 10:00-14:00); every fifth listing has none (bookable
    any time), so the demo shows both."""
    opening = 8 + provider_id % 3
    hours = [{"day": day, "from": f"{opening:02d}:00", "to": f"{opening + 8:02d}:00"}
             for day in ("mon", "tue", "wed", "thu", "fri")]
    if provider_id % 3 == 0:
        hours.append({"day": "sat", "from": "10:00", "to": "14:00"})
    return parse_schedule({"time_zone": time_zone, "hours": hours})


def seed_demo_schedules(engine: Engine, owners: dict[int, str],
                        time_zone: str = "Europe/Helsinki") -> int:
    """Give demo listings weekly hours (`owners`: provider id -> owner address); every fifth
    listing is left without (bookable any time). Creates the table if needed; returns how many
    schedules were saved. The demo seeding (`marketplace.web.demo`) calls this."""
    create_availability_schema(engine)
    saved = 0
    for provider_id, owner in sorted(owners.items()):
        if provider_id % 5 == 0:
            continue
        save_schedule(engine, provider_id, demo_schedule(provider_id, time_zone), owner)
        saved += 1
    return saved
