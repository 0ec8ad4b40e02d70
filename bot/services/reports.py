"""Staff reports (周调度、月度、季度总结): figures per building, grid and category, trend against the previous
period, top repeat problems, as a short text and a chart image."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from bot.core.model import Case
from bot.core.ports import UnitOfWork
from bot.core.schedule import PeriodKind, local_range_utc, next_period_start, period_start
from bot.core.states import CaseStatus
from bot.services.base import Service

DONE = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
GOOD_RATINGS = ("satisfied", "basic")


@dataclass(slots=True)
class Figures:
    """The figures of one slice (whole community, a building, a grid or a category) over one period."""

    opened: int = 0
    resolved: int = 0
    overdue: int = 0
    hours_to_resolve: list[float] = field(default_factory=list)
    ratings: Counter[str] = field(default_factory=Counter)

    @property
    def median_hours(self) -> float | None:
        """Median hours from report to resolution of the cases resolved in the period."""
        return statistics.median(self.hours_to_resolve) if self.hours_to_resolve else None

    @property
    def rated(self) -> int:
        """How many resolved cases were rated."""
        return sum(self.ratings.values())

    @property
    def satisfaction(self) -> float | None:
        """满意率: (满意 + 基本满意) / rated, None when nothing was rated."""
        if not self.rated:
            return None
        return sum(self.ratings[r] for r in GOOD_RATINGS) / self.rated


@dataclass(slots=True)
class Report:
    """A period's report: totals, slices, repeat problems, and the previous period's totals."""

    kind: PeriodKind
    start: date
    end: date  # exclusive
    total: Figures
    previous: Figures
    by_building: dict[str, Figures]
    by_grid: dict[str, Figures]
    by_category: dict[str, Figures]
    repeats: list[tuple[str, str, str, int]]  # building, category, keyword, reports (cases + supporters)


def figures_of(cases: list[Case], start: datetime, end: datetime, now: datetime) -> Figures:
    """Figures of the cases over [start, end): opened in it, resolved in it, due in it and late."""
    fig = Figures()
    cutoff = min(end, now)
    for case in cases:
        if start <= case.created_at < end:
            fig.opened += 1
        if case.status in DONE and case.resolved_at is not None and start <= case.resolved_at < end:
            fig.resolved += 1
            fig.hours_to_resolve.append((case.resolved_at - case.created_at).total_seconds() / 3600)
            if case.rating:
                fig.ratings[case.rating] += 1
        if case.due_at is not None and start <= case.due_at < cutoff:
            finished = case.resolved_at if case.status in DONE else None
            if finished is None or finished > case.due_at:
                fig.overdue += 1
    return fig


def build_report(
    kind: PeriodKind,
    start: date,
    cases: list[Case],
    tz: object,
    now: datetime,
    places: dict[int, tuple[str, str | None]],
    supporters: dict[int, int],
    unknown: str = "-",
) -> Report:
    """The report of the period of ``kind`` starting on ``start`` from the cases that matter to it and the
    previous period; ``places`` maps building id → (building, grid)."""
    end = next_period_start(kind, start)
    prev_start = period_start(kind, start.fromordinal(start.toordinal() - 1))
    a, b = local_range_utc(start, end, tz)  # type: ignore[arg-type]
    pa, pb = local_range_utc(prev_start, start, tz)  # type: ignore[arg-type]

    def sliced(key_of: object) -> dict[str, Figures]:
        groups: dict[str, list[Case]] = {}
        for case in cases:
            groups.setdefault(key_of(case), []).append(case)  # type: ignore[operator]
        slices = {key: figures_of(group, a, b, now) for key, group in sorted(groups.items())}
        return {k: f for k, f in slices.items() if f.opened or f.resolved or f.overdue}

    def building(case: Case) -> str:
        return places.get(case.building_id or 0, (unknown, None))[0]

    def grid(case: Case) -> str:
        return places.get(case.building_id or 0, (unknown, None))[1] or unknown

    repeat_count: Counter[tuple[str, str, str]] = Counter()
    for case in cases:
        if a <= case.created_at < b:
            word = case.keywords[0] if case.keywords else ""
            repeat_count[(building(case), case.category, word)] += 1 + supporters.get(case.id or 0, 0)
    repeats = [(bld, cat, word, n) for (bld, cat, word), n in repeat_count.most_common() if n >= 2][:3]
    return Report(
        kind, start, end,
        total=figures_of(cases, a, b, now),
        previous=figures_of(cases, pa, pb, now),
        by_building=sliced(building),
        by_grid=sliced(grid),
        by_category=sliced(lambda c: c.category),
        repeats=repeats,
    )


class ReportWriter(Service):
    """Turns a Report into the staff's text and chart, in the community's words."""

    async def report_for(self, uow: UnitOfWork, kind: PeriodKind, start: date) -> Report:
        """Compute the report of the period starting on ``start``."""
        community = await self.community(uow)
        prev_start = period_start(kind, start.fromordinal(start.toordinal() - 1))
        lo, _ = local_range_utc(prev_start, start, self.tz)
        _, hi = local_range_utc(start, next_period_start(kind, start), self.tz)
        cases = await uow.wall.cases_for_period(community.id, lo, hi)
        places = await uow.wall.grid_names(community.id)
        supporters = await uow.wall.supporter_counts([c.id or 0 for c in cases])
        return build_report(
            kind, start, cases, self.tz, self.deps.clock.now(), places, supporters, unknown=self.t("report.none_place")
        )

    def _line(self, name: str, fig: Figures) -> str:
        return self.t("report.slice", name=name, opened=fig.opened, resolved=fig.resolved, overdue=fig.overdue)

    def _median(self, fig: Figures) -> str:
        return "-" if fig.median_hours is None else f"{fig.median_hours:.1f}"

    def _share(self, fig: Figures) -> str:
        return "-" if fig.satisfaction is None else f"{fig.satisfaction * 100:.0f}%"

    def text(self, report: Report) -> str:
        """The report as a short text for the admin group (under Telegram's 4096 characters)."""
        total, prev = report.total, report.previous
        last_day = report.end.fromordinal(report.end.toordinal() - 1)
        lines = [
            self.t(f"report.title_{report.kind}", start=report.start.isoformat(), end=last_day.isoformat()),
            self.t(
                "report.totals",
                opened=total.opened,
                resolved=total.resolved,
                overdue=total.overdue,
                median=self._median(total),
                satisfaction=self._share(total),
                rated=total.rated,
            ),
            self.t(
                "report.trend",
                opened=f"{total.opened - prev.opened:+d}",
                resolved=f"{total.resolved - prev.resolved:+d}",
                overdue=f"{total.overdue - prev.overdue:+d}",
                satisfaction=self._share(prev),
            ),
        ]
        for title, slices, name_of in (
            ("report.by_building", report.by_building, str),
            ("report.by_grid", report.by_grid, str),
            ("report.by_category", report.by_category, self.category_name),
        ):
            if slices:
                lines.append(self.t(title))
                lines.extend(self._line(name_of(key), fig) for key, fig in list(slices.items())[:15])
        if report.repeats:
            lines.append(self.t("report.repeats"))
            for bld, cat, word, count in report.repeats:
                lines.append(self.t("report.repeat", building=bld, category=self.category_name(cat), word=word, count=count))
        return "\n".join(lines)[:4000]

    def chart(self, report: Report, path: Path) -> Path:
        """Render the report's chart (opened/resolved/overdue by category, this period) as a PNG."""
        from bot.core.charts import bar_chart

        categories = list(report.by_category)
        series = {
            self.t("report.series_opened"): [report.by_category[c].opened for c in categories],
            self.t("report.series_resolved"): [report.by_category[c].resolved for c in categories],
            self.t("report.series_overdue"): [report.by_category[c].overdue for c in categories],
        }
        last_day = report.end.fromordinal(report.end.toordinal() - 1)
        title = self.t(f"report.title_{report.kind}", start=report.start.isoformat(), end=last_day.isoformat())
        return bar_chart(path, title, [self.category_name(c) for c in categories], series)
