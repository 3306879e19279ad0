"""A provider's weekly hours: validated windows in the provider's own time zone.

Hours are wall-clock times in an IANA time zone ("Europe/Helsinki"), so "Friday 09:00-17:00"
stays 09:00-17:00 local time across daylight-saving changes. A slot (Unix start, minutes) is
available when it lies wholly inside the hours; windows that touch (Monday 22:00-24:00 and
Tuesday 00:00-02:00) join into one, so a slot may run past midnight. A listing with no schedule
is available at any time (`None` everywhere below).

Pure: no database, no chain. The contract enforces only the slot's own rules (future, at most
`MAX_ADVANCE` ahead, a duration): `check_slot` takes those limits from the caller
(`marketplace.domain`), so they are stated once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from marketplace.errors import MarketplaceError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES_A_DAY = 24 * 60
MAX_WINDOWS = 7 * 12  # twelve separate windows a day is already a lot
MAX_SLOTS = 500  # at most this many free slots in one answer
MAX_QUERY_DAYS = 62  # a free-slots query spans at most about two months
_CLOCK = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")

__all__ = [
    "DAYS",
    "MAX_QUERY_DAYS",
    "MAX_SLOTS",
    "InvalidSchedule",
    "SlotProblem",
    "SlotRefused",
    "WeeklySchedule",
    "Window",
    "check_slot",
    "free_slots",
    "is_available",
    "parse_schedule",
    "time_zone_names",
]


class InvalidSchedule(MarketplaceError):
    """A schedule field is invalid; `field` names it as the API does ("hours[2].to")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SlotProblem(Enum):
    """Why a slot cannot be booked (the contract's own reasons first)."""

    INVALID_DURATION = "invalid_duration"
    IN_PAST = "in_past"
    TOO_FAR = "too_far"
    OUTSIDE_HOURS = "outside_hours"
    TAKEN = "taken"


class SlotRefused(MarketplaceError):
    """A slot that cannot be booked: `problem` says why, the message in plain words."""

    def __init__(self, problem: SlotProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True, order=True)
class Window:
    """Open hours on one weekday: minutes after local midnight, `start` < `end` <= 1440."""

    day: int  # 0 = Monday
    start: int
    end: int

    def as_json(self) -> dict[str, str]:
        """The API's form: {"day": "mon", "from": "09:00", "to": "17:00"}."""
        return {"day": DAYS[self.day], "from": clock(self.start), "to": clock(self.end)}


@dataclass(frozen=True)
class WeeklySchedule:
    """Weekly hours in one time zone; windows sorted, none overlapping."""

    time_zone: str
    windows: tuple[Window, ...]

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the hours are in."""
        return ZoneInfo(self.time_zone)

    def as_json(self) -> dict[str, Any]:
        """The API's (and the store's) form of the schedule."""
        return {"time_zone": self.time_zone, "hours": [w.as_json() for w in self.windows]}

    def describe(self) -> str:
        """Plain words: 'Monday 09:00-17:00, Tuesday 09:00-12:00 (Europe/Helsinki)'."""
        if not self.windows:
            return f"no open hours ({self.time_zone})"
        parts = [f"{DAY_NAMES[w.day]} {clock(w.start)}-{clock(w.end)}" for w in self.windows]
        return f"{', '.join(parts)} ({self.time_zone})"


def clock(minutes: int) -> str:
    """Minutes after midnight as HH:MM (1440 is 24:00)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def time_zone_names() -> list[str]:
    """Every IANA time zone name this machine knows, sorted."""
    return sorted(available_timezones())


# ------------------------------------------------------------------ parsing


def parse_schedule(data: Mapping[str, Any]) -> WeeklySchedule:
    """Validate `{"time_zone": ..., "hours": [{"day", "from", "to"}, ...]}`.

    Raises `InvalidSchedule` naming the first bad field: an unknown time zone, a day that is
    not mon..sun, a time that is not HH:MM (00:00..24:00), a window that ends before it starts,
    or two windows of one day that overlap.
    """
    zone = data.get("time_zone")
    if not isinstance(zone, str) or not zone:
        raise InvalidSchedule("time_zone", "give an IANA time zone such as Europe/Helsinki")
    _zone(zone)
    hours = data.get("hours", [])
    if not isinstance(hours, Sequence) or isinstance(hours, str):
        raise InvalidSchedule("hours", "must be a list of {day, from, to}")
    if len(hours) > MAX_WINDOWS:
        raise InvalidSchedule("hours", f"at most {MAX_WINDOWS} windows a week")
    windows: list[Window] = []
    for i, item in enumerate(hours):
        where = f"hours[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidSchedule(where, "must be an object {day, from, to}")
        day = item.get("day")
        if not isinstance(day, str) or day.lower() not in DAYS:
            raise InvalidSchedule(f"{where}.day", f"must be one of {', '.join(DAYS)}")
        start = _minutes(item.get("from"), f"{where}.from")
        end = _minutes(item.get("to"), f"{where}.to")
        if start >= MINUTES_A_DAY:
            raise InvalidSchedule(f"{where}.from", "a window cannot start at 24:00")
        if end <= start:
            raise InvalidSchedule(f"{where}.to",
                                  f"{clock(end)} is not after {clock(start)}; a window that "
                                  "runs past midnight is two windows (to 24:00, from 00:00)")
        windows.append(Window(DAYS.index(day.lower()), start, end))
    return schedule_of(zone, windows)


def schedule_of(time_zone: str, windows: Iterable[Window]) -> WeeklySchedule:
    """A schedule from windows, checked: known zone, sane minutes, no overlap on one day."""
    _zone(time_zone)
    ordered = sorted(windows)
    for i, w in enumerate(ordered):
        if not (0 <= w.day < 7 and 0 <= w.start < w.end <= MINUTES_A_DAY):
            raise InvalidSchedule("hours", f"window {w} is not a valid day and time range")
        if i and ordered[i - 1].day == w.day and ordered[i - 1].end > w.start:
            before = ordered[i - 1]
            raise InvalidSchedule(
                "hours", f"{DAY_NAMES[w.day]} {clock(before.start)}-{clock(before.end)} and "
                         f"{clock(w.start)}-{clock(w.end)} overlap; join them into one window")
    return WeeklySchedule(time_zone, tuple(ordered))


def _zone(name: str) -> ZoneInfo:
    try:
        if name != name.strip() or "\x00" in name or name.startswith("/") or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidSchedule("time_zone", f"{name!r} is not a known IANA time zone "
                                           "(such as Europe/Helsinki or UTC)") from None


def _minutes(value: object, field: str) -> int:
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise InvalidSchedule(field, "must be a time HH:MM between 00:00 and 24:00")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


# ------------------------------------------------------------------ open intervals in time


def open_intervals(schedule: WeeklySchedule, since: int, until: int) -> list[tuple[int, int]]:
    """The schedule's open hours between Unix times `since` and `until`, as joined [start, end)
    Unix intervals (clipped to the range), in order. Daylight-saving changes are honoured:
    local times that do not exist are moved forward, as `zoneinfo` does."""
    if until <= since:
        return []
    zone = schedule.zone
    first = datetime.fromtimestamp(since, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(until, zone).date() + timedelta(days=1)
    intervals: list[tuple[int, int]] = []
    day = first
    while day <= last:
        for w in schedule.windows:
            if w.day == day.weekday():
                start, end = _unix(day, w.start, zone), _unix(day, w.end, zone)
                if end > start:
                    intervals.append((start, end))
        day += timedelta(days=1)
    return [(max(s, since), min(e, until)) for s, e in _joined(sorted(intervals))
            if e > since and s < until]


def _unix(day: date, minutes: int, zone: ZoneInfo) -> int:
    if minutes == MINUTES_A_DAY:
        day, minutes = day + timedelta(days=1), 0
    local = datetime.combine(day, time(minutes // 60, minutes % 60), zone)
    # A time inside a spring-forward gap does not exist: round trip through UTC moves it on.
    return int(local.astimezone(UTC).timestamp())


def _joined(intervals: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    current: tuple[int, int] | None = None
    for start, end in intervals:
        if current is not None and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            yield current
        current = (start, end)
    if current is not None:
        yield current


def is_available(schedule: WeeklySchedule | None, start: int, duration_minutes: int) -> bool:
    """Whether the slot lies wholly inside the open hours (always, without a schedule)."""
    if schedule is None:
        return True
    end = start + duration_minutes * 60
    return any(s <= start and end <= e for s, e in open_intervals(schedule, start, end + 1))


def _overlaps(start: int, end: int, booked: Iterable[tuple[int, int]]) -> bool:
    return any(b_start < end and start < b_start + b_minutes * 60 for b_start, b_minutes in booked)


def check_slot(
    schedule: WeeklySchedule | None,
    start: int,
    duration_minutes: int,
    *,
    now: int,
    max_advance: int,
    booked: Iterable[tuple[int, int]] = (),
) -> None:
    """Raise `SlotRefused` unless the slot can be booked: a duration of at least one minute,
    a start after `now` and at most `max_advance` seconds ahead (the contract's rules), inside
    the provider's hours, and overlapping none of its `booked` (start, minutes) slots."""
    if duration_minutes < 1:
        raise SlotRefused(SlotProblem.INVALID_DURATION, "A booking lasts at least one minute.")
    if start <= now:
        raise SlotRefused(SlotProblem.IN_PAST,
                          f"The slot starts at {_utc(start)}, which is not in the future.")
    if start > now + max_advance:
        raise SlotRefused(SlotProblem.TOO_FAR,
                          f"The slot starts at {_utc(start)}, more than "
                          f"{max_advance // 86_400} days ahead.")
    if not is_available(schedule, start, duration_minutes):
        assert schedule is not None
        raise SlotRefused(SlotProblem.OUTSIDE_HOURS,
                          f"The provider is not available then; its hours are "
                          f"{schedule.describe()}.")
    if _overlaps(start, start + duration_minutes * 60, booked):
        raise SlotRefused(SlotProblem.TAKEN, "The provider is already booked for part of that "
                                             "time; pick a free slot.")


def free_slots(
    schedule: WeeklySchedule | None,
    since: int,
    until: int,
    duration_minutes: int,
    *,
    step_minutes: int = 30,
    booked: Iterable[tuple[int, int]] = (),
    limit: int = MAX_SLOTS,
) -> list[int]:
    """Start times (Unix) of free slots of `duration_minutes` in [since, until): inside the
    hours, overlapping no booked slot, every `step_minutes` from each open interval's start
    (from `since` rounded up to the step without a schedule), at most `limit` of them."""
    if duration_minutes < 1 or step_minutes < 1:
        raise ValueError("duration and step are at least one minute")
    length, step = duration_minutes * 60, step_minutes * 60
    taken = sorted((s, s + m * 60) for s, m in booked)
    if schedule is None:
        aligned = -(-since // step) * step
        intervals = [(aligned, until)]
    else:
        intervals = open_intervals(schedule, since, until)
    slots: list[int] = []
    for open_start, open_end in intervals:
        start = open_start
        while start + length <= open_end and len(slots) < limit:
            clash = next((e for s, e in taken if s < start + length and start < e), None)
            if clash is None:
                slots.append(start)
                start += step
            else:  # jump past the booking, staying on the step grid of this interval
                start += max(step, -(-(clash - start) // step) * step)
    return slots


def _utc(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
