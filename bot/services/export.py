"""Export of cases with their history for staff: XLSX, CSV, and Open311 GeoReport v2 style JSON."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from bot.core.errors import BadInput
from bot.core.model import Case, CaseEvent
from bot.core.ports import UnitOfWork
from bot.core.privacy import mask_text
from bot.core.schedule import local_range_utc, next_period_start
from bot.core.states import ACTIVE_STATES
from bot.services.base import Service

ExportFormat = Literal["xlsx", "csv", "open311"]
FORMATS: tuple[ExportFormat, ...] = ("xlsx", "csv", "open311")
SUFFIX = {"xlsx": ".xlsx", "csv": ".csv", "open311": ".json"}
CASE_COLUMNS = (
    "number", "category", "urgent", "building", "status", "text", "reporter", "assignee",
    "created_at", "due_at", "resolved_at", "resolution_note", "rating", "history",
)


@dataclass(frozen=True, slots=True)
class DateRange:
    """Whole days [first, last] in community time."""

    first: date
    last: date


def parse_range(text: str) -> DateRange:
    """``2026-10`` (a month), ``2026-10-05`` (a day) or ``2026-10-01 2026-10-31``; BadInput otherwise."""
    parts = text.replace("至", " ").replace("~", " ").split()
    if len(parts) == 1 and len(parts[0]) == 7:
        try:
            first = date.fromisoformat(parts[0] + "-01")
        except ValueError:
            raise BadInput("export.bad_range") from None
        return DateRange(first, date.fromordinal(next_period_start("month", first).toordinal() - 1))
    if len(parts) not in (1, 2):
        raise BadInput("export.bad_range")
    try:
        days = [date.fromisoformat(p) for p in parts]
    except ValueError:
        raise BadInput("export.bad_range") from None
    first, last = days[0], days[-1]
    if last < first:
        raise BadInput("export.reversed", start=first.isoformat(), end=last.isoformat())
    return DateRange(first, last)


class CaseExport(Service):
    """Writes the cases of a date range, with their history, to a file."""

    async def cases_in(self, uow: UnitOfWork, span: DateRange) -> tuple[list[Case], dict[int, list[CaseEvent]]]:
        """Cases opened in the range (community time) and their histories."""
        community = await self.community(uow)
        start, end = local_range_utc(span.first, date.fromordinal(span.last.toordinal() + 1), self.tz)
        cases = await uow.wall.cases_created_between(community.id, start, end)
        return cases, await uow.wall.events_of([c.id or 0 for c in cases])

    async def write(self, uow: UnitOfWork, span: DateRange, fmt: ExportFormat, path: Path) -> int:
        """Write the range's cases to ``path`` in ``fmt``; returns how many (nothing is written for none)."""
        cases, histories = await self.cases_in(uow, span)
        if not cases:
            return 0
        community = await self.community(uow)
        places = await uow.wall.grid_names(community.id)
        rows = [self._row(case, histories.get(case.id or 0, []), places) for case in cases]
        self._write_file(path, fmt, rows, cases, histories, places)
        return len(cases)

    def _write_file(
        self,
        path: Path,
        fmt: ExportFormat,
        rows: list[dict[str, Any]],
        cases: list[Case],
        histories: dict[int, list[CaseEvent]],
        places: dict[int, tuple[str, str | None]],
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "xlsx":
            self._xlsx(path, rows, cases, histories)
        elif fmt == "csv":
            with path.open("w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow([self.t(f"export.col_{c}") for c in CASE_COLUMNS])
                writer.writerows([row[c] for c in CASE_COLUMNS] for row in rows)
        else:
            path.write_text(json.dumps(self.open311(cases, places), ensure_ascii=False, indent=1), encoding="utf-8")

    def _when(self, moment: datetime | None) -> str:
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    def _history(self, events: list[CaseEvent]) -> str:
        parts = []
        for e in events:
            note = f"：{e.note}" if e.note else ""
            parts.append(f"{self._when(e.at)} {self.t(f'event.{e.kind}')} {e.actor_name or ''}{note}".strip())
        return " | ".join(parts)

    def _row(self, case: Case, events: list[CaseEvent], places: dict[int, tuple[str, str | None]]) -> dict[str, Any]:
        return {
            "number": case.number,
            "category": self.category_name(case.category),
            "urgent": self.t("export.urgent_yes") if case.urgent else "",
            "building": places.get(case.building_id or 0, ("", None))[0],
            "status": self.t(f"state.{case.status.value}"),
            "text": case.text,
            "reporter": case.reporter_name,
            "assignee": case.assignee_name or "",
            "created_at": self._when(case.created_at),
            "due_at": self._when(case.due_at),
            "resolved_at": self._when(case.resolved_at),
            "resolution_note": case.resolution_note or "",
            "rating": self.t(f"export.rating_{case.rating}") if case.rating else "",
            "history": self._history(events),
        }

    def _xlsx(
        self, path: Path, rows: list[dict[str, Any]], cases: list[Case], histories: dict[int, list[CaseEvent]]
    ) -> None:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = self.t("export.sheet_cases")
        sheet.append([self.t(f"export.col_{c}") for c in CASE_COLUMNS if c != "history"])
        for row in rows:
            sheet.append([row[c] for c in CASE_COLUMNS if c != "history"])
        history = book.create_sheet(self.t("export.sheet_history"))
        history.append([self.t("export.col_number"), self.t("export.col_at"), self.t("export.col_event"),
                        self.t("export.col_actor"), self.t("export.col_note")])
        for case in cases:
            for e in histories.get(case.id or 0, []):
                history.append([case.number, self._when(e.at), self.t(f"event.{e.kind}"), e.actor_name or "", e.note or ""])
        book.save(path)

    def open311(self, cases: list[Case], places: dict[int, tuple[str, str | None]]) -> list[dict[str, Any]]:
        """Open311 GeoReport v2 service requests (service_code = category); public fields only, masked."""
        requests = []
        for case in cases:
            dispute = case.category == "dispute"
            requests.append(
                {
                    "service_request_id": str(case.number),
                    "status": "open" if case.status in ACTIVE_STATES else "closed",
                    "status_notes": "" if dispute else mask_text(case.resolution_note or ""),
                    "service_name": self.category_name(case.category),
                    "service_code": case.category,
                    "description": self.t("case.dispute_hidden") if dispute else mask_text(case.text),
                    "agency_responsible": case.assignee_name or "",
                    "requested_datetime": case.created_at.astimezone(self.tz).isoformat(),
                    "updated_datetime": case.updated_at.astimezone(self.tz).isoformat(),
                    "expected_datetime": case.due_at.astimezone(self.tz).isoformat() if case.due_at else None,
                    "address": places.get(case.building_id or 0, ("", None))[0],
                    "lat": None,
                    "long": None,
                    "media_url": None,
                }
            )
        return requests
