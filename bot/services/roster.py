"""Roster and rota import from CSV (UTF-8 or GBK) and XLSX: every bad row reported, nothing half-imported."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bot.core.duty import RosterPerson, Shift, local_to_utc, parse_clock
from bot.core.model import Member, RoleGrant
from bot.core.ports import UnitOfWork
from bot.core.roles import Role, ScopeKind
from bot.services.admin import role_from_text
from bot.services.base import Deps, Service

Row = dict[str, str]
Progress = Callable[[int, int], None]

ROSTER_HEADERS = {
    "name": ("name", "姓名", "名字"),
    "phone": ("phone", "电话", "手机", "手机号", "联系电话"),
    "role": ("role", "roles", "角色", "职务"),
    "scope": ("scope", "范围", "负责范围", "楼栋"),
    "user_id": ("user_id", "telegram_id", "tg_id", "telegram"),
}
ROTA_HEADERS = {
    "date": ("date", "日期"),
    "start": ("start", "开始", "开始时间"),
    "end": ("end", "结束", "结束时间"),
    "area": ("area", "区域", "范围", "楼栋"),
    "person": ("person", "member", "name", "人员", "姓名", "值班人", "电话"),
}
COMMUNITY_WORDS = frozenset({"", "社区", "全社区", "community", "小区", "全部"})
GRID_PREFIXES = ("网格:", "网格：", "grid:")
INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LEAVING_WORDS = frozenset({"离任", "離任", "离职", "removed", "left"})
Release = Callable[[UnitOfWork, Member, Member], Awaitable[list[int]]]


@dataclass(slots=True)
class ImportReport:
    """What an import did, or why it did nothing: bad rows as (line number, catalog key, params)."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str, dict[str, object]]] = field(default_factory=list)
    imported: bool = False
    invites: list[tuple[str, str]] = field(default_factory=list)
    #: People taken off the staff by a 离任 row, with the numbers of the cases that went back to the queue.
    removed: list[tuple[str, list[int]]] = field(default_factory=list)


class ImportFileError(Exception):
    """The file cannot be read as a table at all; ``key`` names the catalog message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def _text_of(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("import.bad_encoding")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path, headers: dict[str, tuple[str, ...]]) -> list[tuple[int, Row]]:
    """The data rows of a CSV or XLSX file as (line number, {field: text}), headers matched by name."""
    return parse_table(path.read_bytes(), path.name, headers)


def _cells(data: bytes, file_name: str) -> list[list[str]]:
    if Path(file_name).suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as err:  # openpyxl raises many kinds for a file that is not a workbook
            raise ImportFileError("import.unreadable", error=type(err).__name__) from None
        return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(_text_of(data)))]


def is_rota(data: bytes, file_name: str) -> bool:
    """True when the table's header has a date column (a rota); otherwise it is taken for a roster."""
    for row in _cells(data, file_name):
        if any(row):
            return any(title.strip().lower() in ROTA_HEADERS["date"] for title in row)
    return False


def parse_table(data: bytes, file_name: str, headers: dict[str, tuple[str, ...]]) -> list[tuple[int, Row]]:
    """The data rows of CSV (UTF-8 or GBK) or XLSX bytes as (line number, {field: text})."""
    table = _cells(data, file_name)
    numbered = [(n, row) for n, row in enumerate(table, start=1) if any(row)]
    if len(numbered) < 2:
        raise ImportFileError("import.empty")
    header_line, header = numbered[0]
    columns: dict[str, int] = {}
    for position, title in enumerate(header):
        for name, aliases in headers.items():
            if title.strip().lower() in aliases and name not in columns:
                columns[name] = position
    missing = [name for name in headers if name not in columns and name in ("name", "role", "date", "start", "end", "person")]
    if missing:
        raise ImportFileError("import.missing_columns", columns=", ".join(missing), line=header_line)
    return [
        (n, {name: row[i].strip() if i < len(row) else "" for name, i in columns.items()}) for n, row in numbered[1:]
    ]


class RosterImport(Service):
    """Import of the roster (people, roles, scopes, phones) and the duty rota (shifts).

    A roster row whose role is 离任 (or ``removed``) takes the person off the staff: their roles go,
    their active cases go back to the queue through ``release`` (CaseService.release_cases_of), and the
    report names the cases so the admin can see who takes them now.
    """

    def __init__(self, deps: Deps, release: Release | None = None, importer: Member | None = None) -> None:
        super().__init__(deps)
        self.release = release
        self.importer = importer or Member(0, self.t("import.by_roster"))

    async def _scope(self, uow: UnitOfWork, community_id: int, text: str) -> tuple[ScopeKind, int | None]:
        word = text.strip()
        if word.lower() in COMMUNITY_WORDS:
            return ScopeKind.COMMUNITY, None
        for prefix in GRID_PREFIXES:
            if word.lower().startswith(prefix):
                return ScopeKind.GRID, await uow.duty.create_grid(community_id, word[len(prefix) :].strip())
        if word.endswith("网格"):
            return ScopeKind.GRID, await uow.duty.create_grid(community_id, word)
        return ScopeKind.BUILDING, (await uow.buildings.get_or_create(community_id, word[:100])).id

    async def import_roster(
        self, uow: UnitOfWork, rows: list[tuple[int, Row]], *, skip_errors: bool = False, progress: Progress | None = None
    ) -> ImportReport:
        """Add or update roster people from rows; nothing is written when a row is bad unless ``skip_errors``."""
        community = await self.community(uow)
        report = ImportReport(rows=len(rows))
        people: dict[str, tuple[int, str, str | None, int | None, list[RoleGrant]]] = {}
        leaving: dict[str, str] = {}
        for line, row in rows:
            name, phone = row.get("name", ""), row.get("phone", "").replace(" ", "").replace("-", "")
            role_text = row.get("role", "")
            if not name:
                report.errors.append((line, "import.missing_name", {}))
                continue
            if role_text.strip().lower() in LEAVING_WORDS:
                leaving[phone or name] = name
                continue
            if phone and not (phone.lstrip("+").isascii() and phone.lstrip("+").isdigit() and 5 <= len(phone) <= 20):
                report.errors.append((line, "import.bad_phone", {"value": phone}))
                continue
            role = role_from_text(role_text) if role_text else Role.RESIDENT
            if role is None:
                report.errors.append((line, "import.unknown_role", {"value": role_text}))
                continue
            user_text = row.get("user_id", "")
            if user_text and not (user_text.isascii() and user_text.isdigit() and len(user_text) <= 15):
                report.errors.append((line, "import.bad_user_id", {"value": user_text}))
                continue
            key = phone or name
            known = people.get(key)
            if known is not None and known[1] != name:
                report.errors.append((line, "import.conflicting_name", {"value": name, "other": known[1], "line": known[0]}))
                continue
            scope_kind, scope_id = await self._scope(uow, community.id, row.get("scope", ""))
            grants = known[4] if known else []
            if role != Role.RESIDENT:
                grant = RoleGrant(role, scope_kind, scope_id)
                if grant not in grants:
                    grants.append(grant)
            user_id = int(user_text) if user_text else (known[3] if known else None)
            people[key] = (known[0] if known else line, name, phone or None, user_id, grants)
        if report.errors and not skip_errors:
            return report
        for done, (key, (_, name, phone, user_id, grants)) in enumerate(people.items(), start=1):
            existing = await uow.duty.person_by_key(community.id, key[:64])
            person = existing or RosterPerson(None, community.id, key[:64], name)
            person.name, person.phone, person.roles = name, phone, tuple(grants)
            if user_id is not None and person.user_id != user_id:
                person.user_id, person.invite_code = user_id, None
            if person.user_id is None and person.invite_code is None:
                person.invite_code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))
            person, changed = await uow.duty.save_person(person)
            if person.user_id is not None:
                if await uow.members.get(person.user_id) is None:
                    await uow.members.seen(person.user_id, name, None)
                for grant in grants:
                    await uow.members.grant(person.user_id, grant)
            elif person.invite_code:
                report.invites.append((name, person.invite_code))
            if existing is None:
                report.added += 1
            elif changed:
                report.updated += 1
            else:
                report.unchanged += 1
            if progress is not None:
                progress(done, len(people))
        for key, name in leaving.items():
            await self._take_off_staff(uow, community.id, key, name, report)
        report.imported = True
        return report

    async def _take_off_staff(self, uow: UnitOfWork, community_id: int, key: str, name: str, report: ImportReport) -> None:
        """A 离任 row: the person's roles go and their active cases return to the queue."""
        person = await uow.duty.person_by_key(community_id, key[:64])
        if person is None:
            return
        if person.roles:
            person.roles = ()
            await uow.duty.save_person(person)
        numbers: list[int] = []
        if person.user_id is not None:
            await uow.members.revoke(person.user_id, None)
            member = await uow.members.get(person.user_id)
            if member is not None and self.release is not None:
                numbers = await self.release(uow, member, self.importer)
        report.removed.append((name, numbers))

    async def import_rota(
        self, uow: UnitOfWork, rows: list[tuple[int, Row]], *, skip_errors: bool = False, progress: Progress | None = None
    ) -> ImportReport:
        """Add shifts from rows; unknown people, impossible times and overlapping shifts are reported."""
        community = await self.community(uow)
        by_word: dict[str, list[RosterPerson]] = {}
        for known in await uow.duty.people(community.id):
            for word in {known.name, known.person_key, known.phone or ""} - {""}:
                by_word.setdefault(word, []).append(known)
        report = ImportReport(rows=len(rows))
        planned: list[tuple[int, Shift]] = []
        for line, row in rows:
            try:
                day = date.fromisoformat(row.get("date", "").replace("/", "-"))
            except ValueError:
                report.errors.append((line, "import.bad_date", {"value": row.get("date", "")}))
                continue
            start_t, end_t = parse_clock(row.get("start", "")), parse_clock(row.get("end", ""))
            bad = row.get("start", "") if start_t is None else row.get("end", "") if end_t is None else None
            if start_t is None or end_t is None:
                report.errors.append((line, "import.bad_time", {"value": bad}))
                continue
            end_day = day + timedelta(days=1) if end_t <= start_t else day
            starts, ends = local_to_utc(day, start_t, self.tz), local_to_utc(end_day, end_t, self.tz)
            if starts is None or ends is None:
                value = row.get("start", "") if starts is None else row.get("end", "")
                report.errors.append((line, "import.time_gap", {"value": value}))
                continue
            word = row.get("person", "")
            candidates = by_word.get(word) or by_word.get(word.replace(" ", "").replace("-", ""), [])
            if not candidates:
                report.errors.append((line, "import.unknown_person", {"value": row.get("person", "")}))
                continue
            if len(candidates) > 1:
                report.errors.append((line, "import.ambiguous_person", {"value": row.get("person", "")}))
                continue
            person = candidates[0]
            kind, area_id = await self._scope(uow, community.id, row.get("area", ""))
            shift = Shift(None, person.id or 0, starts, ends, kind, area_id, person.name, person.user_id)
            clash = next(
                (
                    other_line
                    for other_line, other in planned
                    if other.roster_id == shift.roster_id
                    and other.starts_at < shift.ends_at
                    and shift.starts_at < other.ends_at
                    and (other.starts_at, other.ends_at, other.area_kind, other.area_id)
                    != (shift.starts_at, shift.ends_at, shift.area_kind, shift.area_id)
                ),
                None,
            )
            if clash is None:
                for existing in await uow.duty.shifts_between(starts, ends, shift.roster_id):
                    same = (existing.starts_at, existing.ends_at, existing.area_kind, existing.area_id) == (
                        starts, ends, kind, area_id,
                    )
                    if not same:
                        clash = 0
                        break
            if clash is not None:
                report.errors.append((line, "import.overlap", {"value": person.name, "line": clash or "-"}))
                continue
            planned.append((line, shift))
        if report.errors and not skip_errors:
            return report
        for done, (_, shift) in enumerate(planned, start=1):
            if await uow.duty.add_shift(shift):
                report.added += 1
            else:
                report.unchanged += 1
            if progress is not None:
                progress(done, len(planned))
        report.imported = True
        return report

    def describe(self, report: ImportReport) -> str:
        """The report as text for the admin (catalog messages, one line per bad row)."""
        lines = [self.t("import.error_line", line=line, reason=self.t(key, **params)) for line, key, params in report.errors]
        if report.imported:
            lines.append(
                self.t("import.done", added=report.added, updated=report.updated, unchanged=report.unchanged,
                       skipped=len(report.errors))
            )
            lines.extend(self.t("import.invite", name=name, code=code) for name, code in report.invites)
            for name, numbers in report.removed:
                cases = "、".join(f"#{n}" for n in numbers) or self.t("import.no_cases")
                lines.append(self.t("import.removed", name=name, cases=cases))
        else:
            lines.append(self.t("import.refused", count=len(report.errors)))
        return "\n".join(lines)
