"""The duty rota: roster people, shifts over an area, and the community-time arithmetic they need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.model import RoleGrant
from bot.core.roles import ScopeKind


@dataclass(slots=True)
class RosterPerson:
    """A person of the imported roster, linked to a Telegram user once they /join (or given their id)."""

    id: int | None
    community_id: int
    person_key: str
    name: str
    phone: str | None = None
    roles: tuple[RoleGrant, ...] = ()
    user_id: int | None = None
    invite_code: str | None = None


@dataclass(slots=True)
class Shift:
    """One duty shift: who, when (UTC) and over which area."""

    id: int | None
    roster_id: int
    starts_at: datetime
    ends_at: datetime
    area_kind: ScopeKind
    area_id: int | None = None
    person_name: str = ""
    user_id: int | None = None
    reminded_at: datetime | None = None

    def covers(self, moment: datetime) -> bool:
        """True while the shift is running at ``moment``."""
        return self.starts_at <= moment < self.ends_at


def parse_clock(text: str) -> time | None:
    """A wall-clock time "HH:MM" (or "HH:MM:SS"); None for anything that does not exist, like 25:00."""
    parts = text.strip().replace("：", ":").split(":")
    if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2]) if len(parts) == 3 else 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        return None
    return time(hour, minute, second)


def local_to_utc(day: date, clock_time: time, tz: ZoneInfo) -> datetime | None:
    """The UTC moment of a community wall-clock time; None when it falls in a daylight-saving gap."""
    local = datetime.combine(day, clock_time, tzinfo=tz)
    moment = local.astimezone(UTC)
    back = moment.astimezone(tz)
    if (back.date(), back.time().replace(tzinfo=None)) != (day, clock_time):
        return None
    return moment


def in_quiet_hours(moment: datetime, tz: ZoneInfo, start: time, end: time) -> bool:
    """True when ``moment`` falls in the quiet hours (which may span midnight)."""
    local = moment.astimezone(tz).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_end(moment: datetime, tz: ZoneInfo, end: time) -> datetime:
    """The first moment after ``moment`` at which the quiet hours end (community wall clock)."""
    local = moment.astimezone(tz)
    candidate = datetime.combine(local.date(), end, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    return candidate.astimezone(UTC)
