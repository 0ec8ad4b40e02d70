"""Calendar arithmetic for scheduled digests and reports: the latest slot that has passed, and report periods.

Slots are wall-clock times in the community's time zone; everything returned is UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core.duty import parse_clock

PeriodKind = Literal["week", "month", "quarter"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("week", "month", "quarter")


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(ZoneInfo("UTC"))


def latest_slot(now: datetime, tz: ZoneInfo, clock: str, on_day: Callable[[date], bool]) -> datetime | None:
    """The latest moment ≤ ``now`` at ``clock`` (HH:MM, community time) on a day ``on_day`` accepts,
    looking back at most about four months; None when there is none."""
    wall = parse_clock(clock)
    if wall is None:
        return None
    today = now.astimezone(tz).date()
    for back in range(0, 125):
        day = today - timedelta(days=back)
        if on_day(day):
            moment = _at(day, wall, tz)
            if moment <= now:
                return moment
    return None


def daily(day: date) -> bool:
    """Every day."""
    return True


def on_weekday(weekday: int) -> Callable[[date], bool]:
    """Days of one weekday (0 = Monday)."""
    return lambda day: day.weekday() == weekday


def on_month_day(month_day: int) -> Callable[[date], bool]:
    """One day of every month."""
    return lambda day: day.day == month_day


def on_quarter_start(day: date) -> bool:
    """The first day of a quarter."""
    return day.day == 1 and day.month in (1, 4, 7, 10)


def period_start(kind: PeriodKind, day: date) -> date:
    """The first day of the week (Monday), month or quarter containing ``day``."""
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_period_start(kind: PeriodKind, start: date) -> date:
    """The first day of the period after the one starting on ``start``."""
    if kind == "week":
        return start + timedelta(days=7)
    months = 1 if kind == "month" else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def previous_period(kind: PeriodKind, day: date) -> tuple[date, date]:
    """[first day, day after the last) of the last complete period before the one containing ``day``."""
    end = period_start(kind, day)
    return period_start(kind, end - timedelta(days=1)), end


def local_range_utc(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of ``start`` and of ``end`` (exclusive), in UTC."""
    return _at(start, time(0, 0), tz), _at(end, time(0, 0), tz)
