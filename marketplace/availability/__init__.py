"""Providers' weekly availability, off-chain: validated hours in a time zone, the slot check
and the free-slots query (`schedule`), and their storage in the web app's database (`store`).

The contract enforces only the slot a booking names (future, at most a year ahead, a duration);
whether the provider works then is checked here, by the API and the pages.
"""

from marketplace.availability.booked import booked_slots, free_windows, subtract
from marketplace.availability.schedule import (
    DAYS,
    InvalidSchedule,
    SlotProblem,
    SlotRefused,
    WeeklySchedule,
    Window,
    check_slot,
    free_slots,
    is_available,
    parse_schedule,
)
from marketplace.availability.store import (
    create_availability_schema,
    delete_schedule,
    demo_schedule,
    load_schedule,
    load_schedules,
    save_schedule,
    schedule_in,
    seed_demo_schedules,
)

__all__ = [
    "DAYS",
    "InvalidSchedule",
    "SlotProblem",
    "SlotRefused",
    "WeeklySchedule",
    "booked_slots",
    "free_windows",
    "subtract",
    "schedule_in",
    "Window",
    "check_slot",
    "create_availability_schema",
    "delete_schedule",
    "demo_schedule",
    "free_slots",
    "is_available",
    "load_schedule",
    "load_schedules",
    "parse_schedule",
    "save_schedule",
    "seed_demo_schedules",
]
