"""Times as people write them ("周五 19:30", "11月28日 下午3点", "每周五 19:30") and recurring rules.

Everything here works in the community's time zone and returns aware datetimes; storage converts to UTC.
A recurring rule is a five-field crontab (``分 时 日 月 周``) with named weekdays (``mon``…``sun``),
evaluated by APScheduler's ``CronTrigger``, so a rule that can never fire (``0 9 31 2 *``) is caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "1": 0, "2": 1, "3": 2,
            "4": 3, "5": 4, "6": 5, "7": 6}
CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_DATE_ISO = re.compile(r"(?:(\d{4})[-/.年])?\s*(\d{1,2})[-/.月]\s*(\d{1,2})[日号]?")
_WEEKDAY = re.compile(r"(下下|下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
_RELATIVE = {"今天": 0, "今晚": 0, "明天": 1, "明晚": 1, "后天": 2}
_CLOCK = re.compile(
    r"(凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|今晚|明晚)?\s*"
    r"(\d{1,2}|[零一二两三四五六七八九十]{1,3})\s*(?:[:：](\d{2})|[点时](?:\s*(\d{1,2})\s*分?|(半))?)"
)


class WhenError(ValueError):
    """A time or rule that cannot be understood; ``key`` names the catalog message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class When:
    """A parsed time: the first moment, and the cron rule when it repeats."""

    at: datetime
    rule: str | None = None


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DIGITS[text[1]]
    if text.endswith("十"):
        return _CN_DIGITS[text[0]] * 10
    if "十" in text:
        tens, ones = text.split("十")
        return _CN_DIGITS[tens] * 10 + _CN_DIGITS[ones]
    return _CN_DIGITS[text]


def _clock(text: str) -> time | None:
    match = _CLOCK.search(text)
    if match is None:
        return None
    period, hour_text, colon_minutes, cn_minutes, half = match.groups()
    hour = _number(hour_text)
    minute = int(colon_minutes or cn_minutes or 0) + (30 if half else 0)
    if period in ("下午", "傍晚", "晚上", "今晚", "明晚") and hour < 12:
        hour += 12
    elif period == "中午" and hour < 6:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise WhenError("activity.when_bad_clock", value=match.group(0))
    return time(hour, minute)


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> When:
    """Parse a one-off or recurring time written by a person, relative to ``now`` (aware).

    Accepts ``2026-11-28 15:00``, ``11月28日 下午3点``, ``周五 19:30`` (the next Friday), ``明天 9点半``,
    ``每周五 19:30`` and ``每天 8:00`` (recurring), or ``cron: 30 19 * * fri``. Raises WhenError.
    """
    raw = text.strip()
    local_now = now.astimezone(tz)
    if raw.lower().startswith("cron:"):
        rule = normalise_rule(raw[5:].strip())
        first = next_fire(rule, now, tz)
        if first is None:
            raise WhenError("activity.when_never_fires", rule=rule)
        return When(first, rule)
    clock = _clock(raw)
    if raw.startswith("每"):
        if clock is None:
            raise WhenError("activity.when_no_clock")
        weekday = _WEEKDAY.search(raw)
        if weekday is not None:
            days = CRON_DAYS[WEEKDAYS[weekday.group(2)]]
        elif raw.startswith(("每天", "每日")):
            days = "*"
        else:
            raise WhenError("activity.when_unknown", value=raw[:40])
        rule = f"{clock.minute} {clock.hour} * * {days}"
        first = next_fire(rule, now, tz)
        if first is None:  # pragma: no cover - weekly and daily rules always fire
            raise WhenError("activity.when_never_fires", rule=rule)
        return When(first, rule)
    day: date | None = None
    iso = _DATE_ISO.search(raw)
    weekday = _WEEKDAY.search(raw)
    if iso is not None:
        year = int(iso.group(1)) if iso.group(1) else local_now.year
        try:
            day = date(year, int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            raise WhenError("activity.when_bad_date", value=iso.group(0)) from None
        if iso.group(1) is None and day < local_now.date():
            day = day.replace(year=year + 1)  # "1月5日" written in December means next January
    elif weekday is not None:
        target = WEEKDAYS[weekday.group(2)]
        prefix = weekday.group(1) or ""
        monday = local_now.date() - timedelta(days=local_now.weekday())
        if prefix.startswith("下下"):
            day = monday + timedelta(days=14 + target)
        elif prefix.startswith("下"):
            day = monday + timedelta(days=7 + target)
        elif prefix:
            day = monday + timedelta(days=target)  # 这周/本周: may be past, which the caller refuses
        else:
            day = local_now.date() + timedelta(days=(target - local_now.weekday()) % 7)
    else:
        for word, offset in _RELATIVE.items():
            if word in raw:
                day = local_now.date() + timedelta(days=offset)
                break
    if day is None:
        raise WhenError("activity.when_unknown", value=raw[:40])
    if clock is None:
        raise WhenError("activity.when_no_clock")
    moment = datetime.combine(day, clock, tzinfo=tz)
    if weekday is not None and iso is None and not weekday.group(1) and moment <= local_now:
        moment += timedelta(days=7)  # "周五 19:30" said on Friday evening means next Friday
    return When(moment)


def normalise_rule(rule: str) -> str:
    """A five-field crontab with numeric weekdays (0/7 = Sunday) turned into names; raises WhenError."""
    fields = rule.split()
    if len(fields) != 5:
        raise WhenError("activity.when_bad_rule", rule=rule[:40])
    names = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
    fields[4] = re.sub(r"\d+", lambda m: names[int(m.group())] if int(m.group()) <= 7 else m.group(), fields[4])
    normal = " ".join(fields)
    try:
        CronTrigger.from_crontab(normal)
    except ValueError:
        raise WhenError("activity.when_bad_rule", rule=rule[:40]) from None
    return normal


def next_fire(rule: str, after: datetime, tz: ZoneInfo) -> datetime | None:
    """The first moment strictly after ``after`` that the rule names, in ``tz``; None when it never fires."""
    trigger = CronTrigger.from_crontab(rule, timezone=tz)
    moment = trigger.get_next_fire_time(None, after.astimezone(tz) + timedelta(seconds=1))
    return moment.astimezone(tz) if moment is not None else None


def occurrences(rule: str, after: datetime, until: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every moment of a rule in (after, until]."""
    found: list[datetime] = []
    moment = next_fire(rule, after, tz)
    while moment is not None and moment <= until:
        found.append(moment)
        moment = next_fire(rule, moment, tz)
    return found
