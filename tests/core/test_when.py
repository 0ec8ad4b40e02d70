"""Times as people write them, and recurring rules (across month boundaries, and rules that never fire)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.when import WhenError, next_fire, normalise_rule, occurrences, parse_when

TZ = ZoneInfo("Asia/Shanghai")
SATURDAY_NOON = datetime(2026, 11, 21, 12, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "expected", "rule"),
    [
        ("周五 19:30", datetime(2026, 11, 27, 19, 30), None),
        ("星期六 上午10点", datetime(2026, 11, 28, 10, 0), None),  # this morning is past: next Saturday
        ("周六 13:00", datetime(2026, 11, 21, 13, 0), None),  # later today
        ("下周一 上午十点", datetime(2026, 11, 23, 10, 0), None),
        ("11月28日 下午3点", datetime(2026, 11, 28, 15, 0), None),
        ("11月28日 下午3点半", datetime(2026, 11, 28, 15, 30), None),
        ("明天 9点15分", datetime(2026, 11, 22, 9, 15), None),
        ("今晚 8点", datetime(2026, 11, 21, 20, 0), None),
        ("2026-12-05 09:00", datetime(2026, 12, 5, 9, 0), None),
        ("1月5日 10:00", datetime(2027, 1, 5, 10, 0), None),  # written in November: next January
        ("每周五 19:30", datetime(2026, 11, 27, 19, 30), "30 19 * * fri"),
        ("每天 8:00", datetime(2026, 11, 22, 8, 0), "0 8 * * *"),
        ("cron: 0 9 1 * *", datetime(2026, 12, 1, 9, 0), "0 9 1 * *"),
        ("cron: 30 19 * * 5", datetime(2026, 11, 27, 19, 30), "30 19 * * fri"),  # crontab's 5 is Friday
    ],
)
def test_natural_times_in_the_community_zone(text: str, expected: datetime, rule: str | None) -> None:
    when = parse_when(text, SATURDAY_NOON, TZ)
    assert when.at == expected.replace(tzinfo=TZ) and when.rule == rule


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("随便", "activity.when_unknown"),
        ("周五", "activity.when_no_clock"),
        ("11月31日 10点", "activity.when_bad_date"),
        ("明天 25:00", "activity.when_bad_clock"),
        ("cron: 0 9 31 2 *", "activity.when_never_fires"),
        ("cron: 0 9 * *", "activity.when_bad_rule"),
        ("cron: 0 99 * * *", "activity.when_bad_rule"),
    ],
)
def test_bad_times_and_rules_are_refused(text: str, key: str) -> None:
    with pytest.raises(WhenError) as refused:
        parse_when(text, SATURDAY_NOON, TZ)
    assert refused.value.key == key


def test_weekly_rule_across_a_month_boundary() -> None:
    fridays = occurrences("30 19 * * fri", SATURDAY_NOON, datetime(2026, 12, 31, tzinfo=TZ), TZ)
    assert [d.day for d in fridays] == [27, 4, 11, 18, 25]
    assert [d.month for d in fridays] == [11, 12, 12, 12, 12]


def test_monthly_rule_on_the_31st_skips_short_months() -> None:
    rule = normalise_rule("0 9 31 * *")
    first = next_fire(rule, datetime(2027, 1, 31, 10, 0, tzinfo=TZ), TZ)
    assert first == datetime(2027, 3, 31, 9, 0, tzinfo=TZ)  # no 31 February
    assert next_fire(rule, first, TZ) == datetime(2027, 5, 31, 9, 0, tzinfo=TZ)
