"""A provider's booked slots (from the store's bookings) and its free windows: weekly hours
minus the slots its open bookings hold.

A requested or accepted booking holds its slot (a requested one may still be declined, but
until then the provider is asked for that time); every other state frees it (a completed
booking's slot has begun, a cancelled, declined or expired one is void).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from marketplace.availability.schedule import MINUTES_A_DAY, open_intervals
from marketplace.availability.store import schedule_in
from marketplace.domain import MINUTE, Status
from marketplace.store import schema

HOLDING = (int(Status.REQUESTED), int(Status.ACCEPTED))
_LONGEST = 65_535 * MINUTE  # a booking lasts at most uint16 minutes

__all__ = ["HOLDING", "booked_slots", "free_windows", "subtract"]


def booked_slots(conn: Connection, provider_id: int, since: int, until: int
                 ) -> list[tuple[int, int]]:
    """(start, minutes) of the provider's slots held by open bookings that overlap
    [since, until), in order."""
    b = schema.bookings
    rows = conn.execute(
        select(b.c.start, b.c.duration_minutes)
        .where(b.c.provider_id == provider_id, b.c.status.in_(HOLDING),
               b.c.start < until, b.c.start > since - _LONGEST)
        .order_by(b.c.start)).all()
    return [(int(start), int(minutes)) for start, minutes in rows
            if int(start) + int(minutes) * MINUTE > since]


def subtract(intervals: list[tuple[int, int]], booked: list[tuple[int, int]]
             ) -> list[tuple[int, int]]:
    """[start, end) intervals less the booked (start, minutes) slots."""
    taken = sorted((s, s + m * MINUTE) for s, m in booked if m > 0)
    free: list[tuple[int, int]] = []
    for start, end in intervals:
        cursor = start
        for t_start, t_end in taken:
            if t_end <= cursor or t_start >= end:
                continue
            if t_start > cursor:
                free.append((cursor, t_start))
            cursor = max(cursor, t_end)
        if cursor < end:
            free.append((cursor, end))
    return free


def free_windows(conn: Connection, provider_id: int, since: int, until: int
                 ) -> list[tuple[int, int]] | None:
    """The provider's free [start, end) windows in [since, until): its weekly hours less its
    booked slots. None when it publishes no hours (bookable at any time: the caller shows its
    booked slots only, `booked_slots`)."""
    schedule = schedule_in(conn, provider_id)
    if schedule is None:
        return None
    until = min(until, since + 400 * MINUTES_A_DAY * MINUTE)
    return subtract(open_intervals(schedule, since, until),
                    booked_slots(conn, provider_id, since, until))
