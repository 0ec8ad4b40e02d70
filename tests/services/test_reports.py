"""Report figures against a hand-computed fixture, the report text, the chart image and the calendar of slots."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import CommunityRules
from bot.core.charts import chinese_font
from bot.core.clock import ManualClock
from bot.core.model import Case
from bot.core.schedule import daily, latest_slot, on_quarter_start, on_weekday, previous_period
from bot.core.states import CaseStatus
from bot.i18n import Catalog
from bot.services.base import Deps
from bot.services.reports import ReportWriter, build_report
from tests.fakes import TableClassifier

TZ = ZoneInfo("Asia/Shanghai")
PLACES = {1: ("3栋", "一网格"), 2: ("4栋", "二网格")}


def at(day: int, hour: int) -> datetime:
    """A UTC moment in November 2026."""
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def case(
    number: int, building: int, category: str, created: datetime, due: datetime, resolved: datetime | None,
    status: CaseStatus, rating: str | None = None, keyword: str = "",
) -> Case:
    return Case(
        id=number, community_id=1, number=number, category=category, urgent=False, text="…", reporter_id=1,
        reporter_name="张大爷", chat_id=-1, message_id=1, building_id=building, status=status, created_at=created,
        updated_at=resolved or created, due_at=due, resolved_at=resolved, rating=rating,
        keywords=(keyword,) if keyword else (),
    )


# The week of Monday 2026-11-09 in Shanghai is [11-08 16:00, 11-15 16:00) UTC; the previous one starts 11-01 16:00.
FIXTURE = [
    case(1, 1, "repair", at(9, 2), at(10, 2), at(9, 4), CaseStatus.CLOSED, "satisfied", "电梯"),  # 2 h
    case(2, 1, "repair", at(10, 2), at(11, 2), at(11, 8), CaseStatus.CLOSED, "basic", "电梯"),  # 30 h, late
    case(3, 2, "sanitation", at(12, 2), at(13, 2), None, CaseStatus.OPEN, None, "垃圾"),  # still open, late
    case(4, 2, "dispute", at(13, 2), at(16, 2), at(14, 2), CaseStatus.RESOLVED, None, "噪音"),  # 24 h, due later
    case(5, 1, "repair", at(3, 2), at(4, 2), at(3, 6), CaseStatus.CLOSED, "satisfied", "水管"),  # previous week
    case(6, 1, "repair", at(5, 2), at(6, 2), at(9, 10), CaseStatus.CLOSED, None, "路灯"),  # opened before, 104 h
]


def test_weekly_figures_match_the_hand_computed_fixture() -> None:
    report = build_report("week", date(2026, 11, 9), FIXTURE, TZ, at(16, 2), PLACES, {1: 1})
    total, prev = report.total, report.previous
    assert (total.opened, total.resolved, total.overdue) == (4, 4, 2)
    assert sorted(total.hours_to_resolve) == [2, 24, 30, 104]
    assert total.median_hours == 27.0
    assert (total.rated, total.satisfaction) == (2, 1.0)
    assert (prev.opened, prev.resolved, prev.overdue, prev.median_hours, prev.satisfaction) == (2, 1, 1, 4.0, 1.0)
    figures = {k: (f.opened, f.resolved, f.overdue) for k, f in report.by_building.items()}
    assert figures == {"3栋": (2, 3, 1), "4栋": (2, 1, 1)}
    assert {k: (f.opened, f.resolved, f.overdue) for k, f in report.by_grid.items()} == {
        "一网格": (2, 3, 1), "二网格": (2, 1, 1)
    }
    assert {k: (f.opened, f.resolved, f.overdue) for k, f in report.by_category.items()} == {
        "dispute": (1, 1, 0), "repair": (2, 3, 1), "sanitation": (1, 0, 1)
    }
    assert report.repeats == [("3栋", "repair", "电梯", 3)]  # two reports and one +1


def writer() -> ReportWriter:
    deps = Deps(uow=None, classifier=TableClassifier(), clock=ManualClock(), texts=Catalog(),  # type: ignore[arg-type]
                rules=CommunityRules())
    return ReportWriter(deps)


def test_report_text_reads_as_staff_expect() -> None:
    report = build_report("week", date(2026, 11, 9), FIXTURE, TZ, at(16, 2), PLACES, {1: 1})
    lines = writer().text(report).splitlines()
    assert lines[0] == "📊 周调度 · 2026-11-09 至 2026-11-15"
    assert lines[1] == "登记 4 件 · 办结 4 件 · 超时 2 件 · 办结用时中位数 27.0 小时 · 满意率 100%（评价 2 件）"
    assert lines[2] == "较上期：登记 +2 · 办结 +3 · 超时 +1（上期满意率 100%）"
    assert "  3栋：登记 2 · 办结 3 · 超时 1" in lines
    assert "  报修：登记 2 · 办结 3 · 超时 1" in lines
    assert lines[-1] == "  3栋 报修「电梯」3 次"


def test_chart_is_rendered_with_a_chinese_font(tmp_path: Path) -> None:
    assert chinese_font()  # fails with the apt-get hint when no Chinese font is installed
    report = build_report("month", date(2026, 11, 1), FIXTURE, TZ, at(30, 2), PLACES, {})
    path = writer().chart(report, tmp_path / "chart.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_slots_and_periods_follow_the_community_calendar() -> None:
    now = datetime(2026, 11, 22, 12, 30, tzinfo=UTC)  # Sunday 20:30 in Shanghai
    assert latest_slot(now, TZ, "20:00", daily) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert latest_slot(now, TZ, "21:00", daily) == datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    assert latest_slot(now, TZ, "09:00", on_weekday(0)) == datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    assert latest_slot(now, TZ, "09:00", on_quarter_start) == datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
    assert previous_period("week", date(2026, 11, 23)) == (date(2026, 11, 16), date(2026, 11, 23))
    assert previous_period("month", date(2026, 1, 1)) == (date(2025, 12, 1), date(2026, 1, 1))
    assert previous_period("quarter", date(2026, 11, 22)) == (date(2026, 7, 1), date(2026, 10, 1))


def test_missing_chinese_font_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import font_manager

    from bot.core import charts

    monkeypatch.setattr(charts, "CJK_FAMILIES", ())
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(charts.ChartFontMissing, match="apt-get install fonts-wqy-microhei"):
        charts.chinese_font()


def test_a_bad_digest_time_in_the_rules_file_is_a_clear_error(tmp_path: Path) -> None:
    from bot.config import load_rules

    rules = tmp_path / "rules.yaml"
    rules.write_text("wall:\n  daily_digest: '25:00'\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"wall\.daily_digest: .*'25:00' is not a time of day"):
        load_rules(rules)
    rules.write_text("wall:\n  daily_digest: null\n  weekly_digest_weekday: 6\n", encoding="utf-8")
    assert load_rules(rules).wall.daily_digest is None
