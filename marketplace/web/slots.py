"""The slot a customer books: a date, a start time and a duration, read in the viewer's time
zone, checked against the rules the contract enforces (start in the future, at most
`MAX_ADVANCE` ahead, a duration of at least one minute) and against the provider's free windows
(weekly availability minus bookings, from `marketplace.availability`, P4), which only the API and
the pages check. Every refusal is a sentence for the field it is about.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from marketplace import domain
from marketplace.web.errors import FieldError, FormErrors
from marketplace.web.money import local_time

log = logging.getLogger(__name__)

MAX_ADVANCE = domain.MAX_ADVANCE  # the contract's limit: 365 days ahead
# Durations offered by the picker, in minutes; any whole number of minutes from 1 is accepted.
DURATIONS = (30, 60, 90, 120, 180, 240)
MAX_DURATION = 65_535  # uint16 on-chain
STEP_MINUTES = 30  # start times the picker offers inside a free window

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")


@dataclass(frozen=True)
class Window:
    """A free period of a provider: [start, end) in Unix seconds."""

    start: int
    end: int

    def holds(self, start: int, minutes: int) -> bool:
        """Whether a slot from `start` lasting `minutes` fits inside."""
        return self.start <= start and start + minutes * 60 <= self.end


@dataclass(frozen=True)
class Slot:
    """A booked slot: the start (Unix seconds) and the duration in minutes."""

    start: int
    minutes: int


def parse_slot(inputs: Any, zone: tzinfo) -> Slot:
    """`slot_date` (YYYY-MM-DD), `slot_time` (HH:MM) in `zone`, `duration` (minutes); a
    `start` field (Unix seconds, from a free-slot button or the API) may replace date and time.
    FormErrors names every bad field."""
    errors: dict[str, str] = {}
    start: int | None = None
    raw_start = inputs.get("start")
    if raw_start not in (None, ""):
        if isinstance(raw_start, str) and raw_start.strip().isdigit():
            start = int(raw_start.strip())
        elif isinstance(raw_start, int) and not isinstance(raw_start, bool):
            start = raw_start
        else:
            errors["slot_date"] = "Choose a date and a start time."
    else:
        day = _date(inputs.get("slot_date"), errors)
        clock = _time(inputs.get("slot_time"), errors)
        if day is not None and clock is not None:
            local = datetime.combine(day, clock, tzinfo=zone)
            start = int(local.astimezone(UTC).timestamp())
    minutes = _duration(inputs.get("duration"), errors)
    if errors or start is None or minutes is None:
        raise FormErrors(errors or {"slot_date": "Choose a date and a start time."})
    return Slot(start, minutes)


def check_slot(slot: Slot, now: int, zone: tzinfo, windows: Sequence[Window] | None) -> None:
    """The contract's slot rules (`domain.slot_problem`) and the provider's availability, as
    sentences by field.

    `now` is chain time; `windows` None means the availability is unknown (not checked here)."""
    problem = domain.slot_problem(now, slot.start, slot.minutes)
    if problem is not None and "duration" in problem:
        raise FieldError(problem[:1].upper() + problem[1:] + ".", "duration")
    if problem is not None and slot.start <= now:
        raise FieldError(f"{local_time(slot.start, zone)} has already passed; choose a later "
                         "start.", "slot_date")
    if problem is not None:
        raise FieldError(f"Bookings can be made at most {MAX_ADVANCE // 86_400} days ahead; "
                         "choose an earlier date.", "slot_date")
    if windows is not None and not any(w.holds(slot.start, slot.minutes) for w in windows):
        end = slot.start + slot.minutes * 60
        raise FieldError(
            f"The provider is not available from {local_time(slot.start, zone)} to "
            f"{local_time(end, zone)[-9:].strip()}; choose one of the free times shown.",
            "slot_time")


def _date(raw: Any, errors: dict[str, str]) -> date | None:
    if not isinstance(raw, str) or not raw.strip():
        errors["slot_date"] = "Choose a date."
        return None
    if not _DATE.match(raw.strip()):
        errors["slot_date"] = "Give the date as YYYY-MM-DD."
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors["slot_date"] = "There is no such date."
        return None


def _time(raw: Any, errors: dict[str, str]) -> time | None:
    if not isinstance(raw, str) or not raw.strip():
        errors["slot_time"] = "Choose a start time."
        return None
    text = raw.strip()
    if not _TIME.match(text):
        errors["slot_time"] = "Give the start time as HH:MM."
        return None
    hours, minutes = (int(part) for part in text.split(":"))
    if hours > 23 or minutes > 59:
        errors["slot_time"] = "There is no such time of day."
        return None
    return time(hours, minutes)


def _duration(raw: Any, errors: dict[str, str]) -> int | None:
    text = str(raw).strip() if raw is not None else ""
    if not text:
        errors["duration"] = "Choose how long the service lasts."
        return None
    if not text.isdigit():
        errors["duration"] = "The duration is a whole number of minutes."
        return None
    minutes = int(text)
    if minutes < 1:
        errors["duration"] = "The duration must be at least one minute."
        return None
    if minutes > MAX_DURATION:
        errors["duration"] = f"The duration can be at most {MAX_DURATION:,} minutes."
        return None
    return minutes


# ------------------------------------------------------------------ the picker


def free_windows(provider_id: int, start: int, end: int) -> list[Window] | None:
    """The provider's free windows between `start` and `end` from the availability module
    (P4's `marketplace.availability`); None when the module or the provider's schedule is not
    there (then the page says availability is not published and only the contract's rules
    apply)."""
    try:
        module = importlib.import_module("marketplace.availability")
    except ImportError:
        return None
    finder = getattr(module, "free_windows", None) or getattr(module, "free_slots", None)
    if finder is None:
        return None
    try:
        from marketplace.web.context import services

        with services().engine.connect() as conn:
            found = finder(conn, provider_id, start, end)
    except Exception as exc:  # availability is advisory on pages: the contract checks the slot
        log.warning("availability of provider %s unavailable: %s", provider_id, exc)
        return None
    if found is None:
        return None
    out = []
    for item in found:
        if isinstance(item, tuple | list):
            out.append(Window(int(item[0]), int(item[1])))
        else:
            out.append(Window(int(item.start), int(item.end)))
    return out


def picker_days(windows: Sequence[Window], zone: tzinfo, now: int,
                step: int = STEP_MINUTES, days: int = 14) -> list[dict[str, Any]]:
    """The free start times per day in the viewer's zone, for the picker (next `days` days):
    [{"date": "2026-12-04", "label": "Fri 4 Dec", "times": [{"time": "10:00", "start": ...}]}]."""
    horizon = now + days * 86_400
    by_day: dict[str, dict[str, Any]] = {}
    for window in sorted(windows, key=lambda w: w.start):
        first = max(window.start, now + 60)
        # Round up to the step in the viewer's zone.
        moment = datetime.fromtimestamp(first, UTC).astimezone(zone)
        remainder = (moment.minute % step) * 60 + moment.second
        if remainder:
            moment += timedelta(seconds=step * 60 - remainder)
        while True:
            start = int(moment.timestamp())
            if start + step * 60 > window.end or start > horizon:
                break
            day = moment.strftime("%Y-%m-%d")
            entry = by_day.setdefault(day, {"date": day, "label": moment.strftime("%a %d %b"),
                                            "times": []})
            entry["times"].append({"time": moment.strftime("%H:%M"), "start": start,
                                   "free_minutes": (window.end - start) // 60})
            moment += timedelta(minutes=step)
    return [by_day[k] for k in sorted(by_day)]
