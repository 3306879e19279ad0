"""Weekly availability: validation, the slot check across time zones and DST, free slots, and
storage in SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine

from marketplace.availability import (
    InvalidSchedule,
    SlotProblem,
    SlotRefused,
    check_slot,
    create_availability_schema,
    delete_schedule,
    demo_schedule,
    free_slots,
    is_available,
    load_schedule,
    load_schedules,
    parse_schedule,
    save_schedule,
    seed_demo_schedules,
)

HEL = ZoneInfo("Europe/Helsinki")
YEAR = 365 * 86_400
WEEKDAYS = {"time_zone": "Europe/Helsinki",
            "hours": [{"day": d, "from": "09:00", "to": "17:00"}
                      for d in ("mon", "tue", "wed", "thu", "fri")]}


def at(y: int, mo: int, d: int, h: int, mi: int = 0, zone: ZoneInfo = HEL) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=zone).timestamp())


def test_parse_round_trips_and_sorts() -> None:
    schedule = parse_schedule({"time_zone": "UTC", "hours": [
        {"day": "tue", "from": "13:00", "to": "15:00"},
        {"day": "TUE", "from": "08:00", "to": "12:00"}]})
    assert [w.start for w in schedule.windows] == [480, 780]
    assert parse_schedule(schedule.as_json()) == schedule
    assert schedule.describe() == "Tuesday 08:00-12:00, Tuesday 13:00-15:00 (UTC)"


@pytest.mark.parametrize(("data", "field"), [
    ({"hours": []}, "time_zone"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"time_zone": "../etc/passwd"}, "time_zone"),
    ({"time_zone": "UTC", "hours": "mon"}, "hours"),
    ({"time_zone": "UTC", "hours": [{"day": "moon", "from": "09:00", "to": "10:00"}]},
     "hours[0].day"),
    ({"time_zone": "UTC", "hours": [{"day": "mon", "from": "9:00", "to": "10:00"}]},
     "hours[0].from"),
    ({"time_zone": "UTC", "hours": [{"day": "mon", "from": "09:00", "to": "24:30"}]},
     "hours[0].to"),
    ({"time_zone": "UTC", "hours": [{"day": "mon", "from": "22:00", "to": "02:00"}]},
     "hours[0].to"),
    ({"time_zone": "UTC", "hours": [{"day": "mon", "from": "24:00", "to": "24:00"}]},
     "hours[0].from"),
    ({"time_zone": "UTC", "hours": [{"day": "mon", "from": "09:00", "to": "12:00"},
                                    {"day": "mon", "from": "11:00", "to": "13:00"}]}, "hours"),
])
def test_invalid_schedules_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        parse_schedule(data)
    assert caught.value.field == field


def test_slot_inside_local_hours_in_summer_and_winter() -> None:
    schedule = parse_schedule(WEEKDAYS)
    # Friday 5 June 2026 (UTC+3) and Friday 4 December 2026 (UTC+2): 09:00 local both times.
    for day in (at(2026, 6, 5, 9), at(2026, 12, 4, 9)):
        assert is_available(schedule, day, 60)
        assert is_available(schedule, day, 8 * 60)
        assert not is_available(schedule, day, 8 * 60 + 1)
        assert not is_available(schedule, day - 60, 60)
    assert not is_available(schedule, at(2026, 12, 5, 10), 60)  # Saturday
    assert is_available(None, 0, 10_000)


def test_windows_that_touch_across_midnight_join() -> None:
    schedule = parse_schedule({"time_zone": "Europe/Helsinki", "hours": [
        {"day": "mon", "from": "20:00", "to": "24:00"},
        {"day": "tue", "from": "00:00", "to": "03:00"}]})
    assert is_available(schedule, at(2026, 12, 7, 23), 180)  # Mon 23:00 to Tue 02:00
    assert not is_available(schedule, at(2026, 12, 7, 23), 300)


def test_daylight_saving_day_keeps_wall_clock_hours() -> None:
    schedule = parse_schedule({"time_zone": "Europe/Helsinki",
                               "hours": [{"day": "sun", "from": "01:00", "to": "06:00"}]})
    # 29 March 2026: clocks jump 03:00 -> 04:00, so the window is four hours long.
    start = at(2026, 3, 29, 1)
    assert is_available(schedule, start, 4 * 60)
    assert not is_available(schedule, start, 5 * 60)


def test_check_slot_reasons() -> None:
    schedule = parse_schedule(WEEKDAYS)
    now = at(2026, 12, 3, 8)
    friday = at(2026, 12, 4, 10)
    check_slot(schedule, friday, 60, now=now, max_advance=YEAR)
    cases = [
        (friday, 0, (), SlotProblem.INVALID_DURATION),
        (now, 60, (), SlotProblem.IN_PAST),
        (now + YEAR + 1, 60, (), SlotProblem.TOO_FAR),
        (at(2026, 12, 5, 10), 60, (), SlotProblem.OUTSIDE_HOURS),
        (friday, 60, ((friday + 1800, 60),), SlotProblem.TAKEN),
    ]
    for start, minutes, booked, problem in cases:
        with pytest.raises(SlotRefused) as caught:
            check_slot(schedule, start, minutes, now=now, max_advance=YEAR, booked=booked)
        assert caught.value.problem is problem
    with pytest.raises(SlotRefused, match="Monday 09:00-17:00"):
        check_slot(schedule, at(2026, 12, 5, 10), 60, now=now, max_advance=YEAR)
    # Back-to-back with a booking is fine.
    check_slot(schedule, friday, 60, now=now, max_advance=YEAR, booked=((friday + 3600, 30),))


def test_free_slots_skip_bookings_and_closed_hours() -> None:
    schedule = parse_schedule({"time_zone": "UTC",
                               "hours": [{"day": "fri", "from": "09:00", "to": "12:00"}]})
    since = at(2026, 12, 4, 0, zone=ZoneInfo("UTC"))
    nine = since + 9 * 3600
    slots = free_slots(schedule, since, since + 7 * 86_400, 60, step_minutes=30,
                       booked=[(nine + 3600, 30)])
    hours = [datetime.fromtimestamp(s, UTC).strftime("%H:%M") for s in slots]
    assert hours == ["09:00", "10:30", "11:00"]
    assert free_slots(None, since + 1, since + 3 * 3600, 60, step_minutes=60) == [
        since + 3600, since + 7200]
    assert len(free_slots(None, 0, 10**9, 1, step_minutes=1, limit=7)) == 7
    for start in slots:
        check_slot(schedule, start, 60, now=since, max_advance=YEAR, booked=[(nine + 3600, 30)])


def test_store_round_trip_and_demo_seed() -> None:
    engine = create_engine("sqlite://")
    create_availability_schema(engine)
    create_availability_schema(engine)  # idempotent
    assert load_schedule(engine, 1) is None
    schedule = parse_schedule(WEEKDAYS)
    save_schedule(engine, 1, schedule, "0xABC")
    assert load_schedule(engine, 1) == schedule
    save_schedule(engine, 1, demo_schedule(3), "0xabc")
    assert load_schedule(engine, 1) == demo_schedule(3)
    assert seed_demo_schedules(engine, {i: "0xabc" for i in range(1, 11)}) == 8
    assert set(load_schedules(engine, range(1, 11))) == {1, 2, 3, 4, 6, 7, 8, 9}
    assert delete_schedule(engine, 1) and not delete_schedule(engine, 1)
    assert load_schedule(engine, 1) is None


def test_free_windows_are_the_hours_less_open_bookings() -> None:
    from sqlalchemy import insert

    from marketplace.availability import booked_slots, free_windows, subtract
    from marketplace.domain import Status
    from marketplace.store import schema

    assert subtract([(0, 100)], [(10, 0), (20, 1)]) == [(0, 20), (80, 100)]
    engine = create_engine("sqlite://")
    schema.metadata.create_all(engine)
    create_availability_schema(engine)
    utc = ZoneInfo("UTC")
    friday = at(2026, 12, 4, 0, zone=utc)
    nine = friday + 9 * 3600

    def booking(n: int, start: int, minutes: int, status: Status, provider_id: int = 1) -> None:
        columns: dict[str, object] = {c.name: 0 for c in schema.bookings.columns
                                      if not c.nullable}
        columns.update(booking_id=n, customer="0x" + "01" * 20, owner="0x" + "02" * 20,
                       provider_id=provider_id, start=start, duration_minutes=minutes,
                       status=int(status), instant=False, price=1, fee=0)
        with engine.begin() as conn:
            conn.execute(insert(schema.bookings).values(**columns))

    booking(1, nine + 3600, 30, Status.ACCEPTED)
    booking(2, nine + 7200, 60, Status.CANCELLED)
    booking(3, nine, 60, Status.REQUESTED, provider_id=2)
    with engine.connect() as conn:
        assert free_windows(conn, 1, friday, friday + 86_400) is None  # no hours: any time
        assert booked_slots(conn, 1, friday, friday + 86_400) == [(nine + 3600, 30)]
    save_schedule(engine, 1, parse_schedule({"time_zone": "UTC", "hours": [
        {"day": "fri", "from": "09:00", "to": "12:00"}]}), "0x" + "02" * 20)
    with engine.connect() as conn:
        assert free_windows(conn, 1, friday, friday + 86_400) == [
            (nine, nine + 3600), (nine + 5400, nine + 3 * 3600)]
