"""Duty use cases: who receives a case (routing), who is on duty (/duty, /rota), and /join CODE."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.duty import Shift
from bot.core.errors import BadInput, NotFound
from bot.core.model import Case, Chat, ChatKind, Member
from bot.core.ports import UnitOfWork
from bot.core.roles import Role, ScopeKind
from bot.services.base import Service

WEEKDAYS = "一二三四五六日"


@dataclass(slots=True)
class StaffSnapshot:
    """Staff, building grids and who is on duty, read once for a whole sweep instead of per case."""

    staff: list[Member]
    grid_of: dict[int, int | None]
    on_duty: list[tuple[Shift, Member]]
    admin_ids: frozenset[int]
    #: (role, scope kind, scope id) → members, built once so each lookup is a few dict reads.
    _by_scope: dict[tuple[Role, ScopeKind, int | None], list[Member]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for member in self.staff:
            for grant in member.roles:
                scope_id = None if grant.scope_kind == ScopeKind.COMMUNITY else grant.scope_id
                self._by_scope.setdefault((grant.role, grant.scope_kind, scope_id), []).append(member)

    def holders(self, target: str, building_id: int | None) -> list[Member]:
        """The people a route or ladder rung names for a building (as DutyService.holders)."""
        grid_id = self.grid_of.get(building_id) if building_id else None
        if target == "duty":
            return [m for shift, m in self.on_duty if _covers_area(shift, building_id, grid_id)]
        role = Role(target)
        keys = [(role, ScopeKind.COMMUNITY, None)]
        if building_id is not None:
            keys.append((role, ScopeKind.BUILDING, building_id))
        if grid_id is not None:
            keys.append((role, ScopeKind.GRID, grid_id))
        found: list[Member] = []
        for key in keys:
            found.extend(m for m in self._by_scope.get(key, ()) if m not in found)
        found.sort(key=lambda m: self.staff.index(m))  # the order of the staff list, as before
        if role == Role.ADMIN:
            found += [m for m in self.staff if m.user_id in self.admin_ids and m not in found]
        return found


class DutyService(Service):
    """The rota seen from the chats, and the routing of cases to people."""

    # ---- routing -------------------------------------------------------------------------------

    async def _grid_of(self, uow: UnitOfWork, building_id: int | None) -> int | None:
        building = await uow.buildings.get(building_id) if building_id else None
        return building.grid_id if building else None

    async def on_duty(self, uow: UnitOfWork, building_id: int | None, *, anywhere: bool = False) -> list[Member]:
        """Members on duty now for a building's area (its building, its grid or the community)."""
        now = self.deps.clock.now()
        grid_id = await self._grid_of(uow, building_id)
        people: dict[int, Member] = {}
        for shift in await uow.duty.shifts_between(now, now + timedelta(seconds=1)):
            if shift.user_id is None or shift.user_id in people:
                continue
            if anywhere or _covers_area(shift, building_id, grid_id):
                member = await uow.members.get(shift.user_id)
                if member is not None:
                    people[shift.user_id] = member
        return list(people.values())

    async def snapshot(self, uow: UnitOfWork) -> StaffSnapshot:
        """Staff with roles, the grid of every building and who is on duty now, in three queries."""
        community = await self.community(uow)
        staff = await uow.duty.staff()
        known = {m.user_id for m in staff}
        for user_id in sorted(self.deps.admin_ids - known):
            member = await uow.members.get(user_id)
            if member is not None:
                staff.append(member)
        by_id = {m.user_id: m for m in staff}
        grid_of = {b.id: b.grid_id for b in await uow.buildings.list(community.id)}
        now = self.deps.clock.now()
        on_duty = []
        for shift in await uow.duty.shifts_between(now, now + timedelta(seconds=1)):
            member = by_id.get(shift.user_id or 0) or (await uow.members.get(shift.user_id) if shift.user_id else None)
            if member is not None:
                on_duty.append((shift, member))
        return StaffSnapshot(staff, grid_of, on_duty, self.deps.admin_ids)

    async def holders(self, uow: UnitOfWork, target: str, building_id: int | None) -> list[Member]:
        """People a route or ladder rung names for a building: a role's holders, or who is on duty."""
        if target == "duty":
            return await self.on_duty(uow, building_id)
        people = await uow.duty.holders(Role(target), building_id, await self._grid_of(uow, building_id))
        if target == Role.ADMIN.value:  # admins named in ADMIN_IDS count too, once they are known
            known = {p.user_id for p in people}
            for user_id in sorted(self.deps.admin_ids - known):
                member = await uow.members.get(user_id)
                if member is not None:
                    people.append(member)
        return people

    async def routed_people(self, uow: UnitOfWork, case: Case) -> list[tuple[str, Member]]:
        """(role code, member) pairs who receive a new case by its category's route; urgent adds all on duty."""
        rule = self.deps.rules.rule_for(case.category)
        seen: set[int] = set()
        routed: list[tuple[str, Member]] = []
        targets = list(rule.route)
        for target in targets:
            for member in await self.holders(uow, target, case.building_id):
                if member.user_id not in seen:
                    seen.add(member.user_id)
                    routed.append((target, member))
        if case.urgent:
            for member in await self.on_duty(uow, case.building_id, anywhere=True):
                if member.user_id not in seen:
                    seen.add(member.user_id)
                    routed.append(("duty", member))
        return routed

    # ---- /duty and /rota -----------------------------------------------------------------------

    async def _area_name(self, uow: UnitOfWork, shift: Shift) -> str:
        if shift.area_kind == ScopeKind.BUILDING and shift.area_id:
            building = await uow.buildings.get(shift.area_id)
            return building.name if building else "?"
        if shift.area_kind == ScopeKind.GRID and shift.area_id:
            return await uow.duty.grid_name(shift.area_id) or "?"
        return self.t("duty.whole_community")

    def _local_day_start(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.tz)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def _span(self, shift: Shift) -> str:
        start, end = shift.starts_at.astimezone(self.tz), shift.ends_at.astimezone(self.tz)
        return f"{start:%H:%M}–{end:%H:%M}"

    async def show_duty(self, uow: UnitOfWork) -> str:
        """/duty: who is on duty now and who today, per area, in the community's time zone."""
        now = self.deps.clock.now()
        day = self._local_day_start(now)
        shifts = await uow.duty.shifts_between(day, day + timedelta(days=1))
        if not shifts:
            return self.t("duty.none_today")
        by_area: dict[str, list[str]] = defaultdict(list)
        for shift in shifts:
            mark = self.t("duty.now_mark") if shift.covers(now) else ""
            by_area[await self._area_name(uow, shift)].append(
                self.t("duty.line", span=self._span(shift), name=shift.person_name, now=mark)
            )
        lines = [self.t("duty.head_today", date=f"{day:%m-%d}")]
        for area, entries in sorted(by_area.items()):
            lines.append(self.t("duty.area", area=area))
            lines.extend(entries)
        return "\n".join(lines)

    async def show_rota(self, uow: UnitOfWork) -> str:
        """/rota: the shifts of this week (Monday to Sunday), in the community's time zone."""
        today = self._local_day_start(self.deps.clock.now())
        monday = today - timedelta(days=today.weekday())
        shifts = await uow.duty.shifts_between(monday, monday + timedelta(days=7))
        if not shifts:
            return self.t("rota.none")
        lines = [self.t("rota.head", start=f"{monday:%m-%d}", end=f"{monday + timedelta(days=6):%m-%d}")]
        current = None
        for shift in shifts:
            local = shift.starts_at.astimezone(self.tz)
            if local.date() != current:
                current = local.date()
                lines.append(self.t("rota.day", date=f"{local:%m-%d}", weekday=WEEKDAYS[local.weekday()]))
            lines.append(
                self.t("rota.line", span=self._span(shift), area=await self._area_name(uow, shift), name=shift.person_name)
            )
        return "\n".join(lines)

    # ---- /join CODE ----------------------------------------------------------------------------

    async def join(self, uow: UnitOfWork, member: Member, chat: Chat, code: str) -> str:
        """/join CODE in a private chat: link the Telegram user to their roster row (the code works once)."""
        if chat.kind != ChatKind.PRIVATE:
            raise BadInput("join.private_only")
        code = code.strip().upper()
        if not code:
            raise BadInput("join.usage")
        person = await uow.duty.person_by_code(code)
        if person is None:
            raise NotFound("join.unknown_code")
        person.user_id, person.invite_code = member.user_id, None
        await uow.duty.save_person(person)
        for grant in person.roles:
            await uow.members.grant(member.user_id, grant)
        roles = "、".join(sorted({self.role_name(g.role) for g in person.roles})) or self.role_name(Role.RESIDENT)
        return self.t("join.done", name=person.name, roles=roles)


def _covers_area(shift: Shift, building_id: int | None, grid_id: int | None) -> bool:
    if shift.area_kind == ScopeKind.COMMUNITY:
        return True
    if shift.area_kind == ScopeKind.GRID:
        return grid_id is not None and shift.area_id == grid_id
    return building_id is not None and shift.area_id == building_id
