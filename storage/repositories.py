"""Repositories over one SQLAlchemy session: they return domain objects and never commit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.duty import RosterPerson, Shift
from bot.core.model import (
    Building,
    Button,
    Case,
    CaseEvent,
    Chat,
    ChatKind,
    Community,
    Dialogue,
    MediaKind,
    Member,
    OutboxKind,
    OutboxStatus,
    OutgoingMessage,
    PendingAsk,
    RoleGrant,
)
from bot.core.roles import Role, ScopeKind
from bot.core.states import ACTIVE_STATES, CaseStatus
from storage.models import (
    BuildingRow,
    CaseEventRow,
    CaseRow,
    CaseSupporterRow,
    ChatRow,
    CommunityRow,
    DialogueRow,
    GridRow,
    HeartbeatRow,
    InboxRow,
    KeywordChangeRow,
    MemberRow,
    OutboxRow,
    PendingAskRow,
    RoleGrantRow,
    RosterRow,
    ShiftRow,
)

DEFAULT_COMMUNITY_NAME = "本社区"


class _Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session


class SqlCommunityRepository(_Repo):
    """Communities and their case counters."""

    async def default(self) -> Community:
        """The community this installation serves (created on first use)."""
        row = await self.s.scalar(select(CommunityRow).order_by(CommunityRow.id).limit(1))
        if row is None:
            row = CommunityRow(name=DEFAULT_COMMUNITY_NAME, next_case_no=1)
            self.s.add(row)
            await self.s.flush()
        return Community(row.id, row.name, row.timezone, row.locale)

    async def rename(self, community_id: int, name: str) -> None:
        """Give the community its name (shown by /status and reports)."""
        await self.s.execute(update(CommunityRow).where(CommunityRow.id == community_id).values(name=name[:100]))

    async def next_case_number(self, community_id: int) -> int:
        """Reserve the next readable case number (atomic under the transaction's write lock)."""
        number = await self.s.scalar(
            update(CommunityRow)
            .where(CommunityRow.id == community_id)
            .values(next_case_no=CommunityRow.next_case_no + 1)
            .returning(CommunityRow.next_case_no)
        )
        if number is None:
            raise LookupError(f"community {community_id} does not exist")
        return int(number) - 1


class SqlBuildingRepository(_Repo):
    """Buildings of a community."""

    @staticmethod
    def _domain(row: BuildingRow) -> Building:
        return Building(row.id, row.community_id, row.name, row.grid_id)

    async def get(self, building_id: int) -> Building | None:
        """A building by id."""
        row = await self.s.get(BuildingRow, building_id)
        return self._domain(row) if row else None

    async def get_or_create(self, community_id: int, name: str) -> Building:
        """The building of that name, created when new."""
        row = await self.s.scalar(
            select(BuildingRow).where(BuildingRow.community_id == community_id, BuildingRow.name == name)
        )
        if row is None:
            row = BuildingRow(community_id=community_id, name=name)
            self.s.add(row)
            await self.s.flush()
        return self._domain(row)

    async def place_in_grid(self, building_id: int, grid_name: str) -> int:
        """Put a building in the community's grid of that name (created when new); returns the grid id."""
        building = await self.s.get(BuildingRow, building_id)
        if building is None:
            raise LookupError(f"building {building_id} does not exist")
        grid_id = await self.s.scalar(
            select(GridRow.id).where(GridRow.community_id == building.community_id, GridRow.name == grid_name)
        )
        if grid_id is None:
            grid = GridRow(community_id=building.community_id, name=grid_name[:100])
            self.s.add(grid)
            await self.s.flush()
            grid_id = grid.id
        building.grid_id = grid_id
        return int(grid_id)

    async def list(self, community_id: int) -> list[Building]:
        """All buildings of a community, by name."""
        rows = await self.s.scalars(
            select(BuildingRow).where(BuildingRow.community_id == community_id).order_by(BuildingRow.name)
        )
        return [self._domain(row) for row in rows]

    async def lock(self, building_id: int) -> None:
        """Row-lock the building (PostgreSQL SELECT … FOR UPDATE; SQLite's single writer already serialises)."""
        await self.s.execute(select(BuildingRow.id).where(BuildingRow.id == building_id).with_for_update())


class SqlChatRepository(_Repo):
    """Telegram chats the bot is in and their bindings."""

    @staticmethod
    def _domain(row: ChatRow) -> Chat:
        return Chat(row.chat_id, row.community_id, ChatKind(row.kind), row.title, row.building_id, row.active)

    async def get(self, chat_id: int) -> Chat | None:
        """A chat by Telegram id."""
        row = await self.s.get(ChatRow, chat_id)
        return self._domain(row) if row else None

    async def save(self, chat: Chat) -> None:
        """Insert or update a chat."""
        await self.s.merge(
            ChatRow(
                chat_id=chat.chat_id,
                community_id=chat.community_id,
                kind=chat.kind.value,
                title=chat.title[:255],
                building_id=chat.building_id,
                active=chat.active,
            )
        )

    async def of_kind(self, community_id: int, kind: ChatKind) -> list[Chat]:
        """Active chats of a kind (e.g. the staff groups)."""
        rows = await self.s.scalars(
            select(ChatRow)
            .where(ChatRow.community_id == community_id, ChatRow.kind == kind.value, ChatRow.active)
            .order_by(ChatRow.chat_id)
        )
        return [self._domain(row) for row in rows]

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """Move a chat, its cases and its pending messages to a new id (group → supergroup)."""
        old = await self.s.get(ChatRow, old_chat_id)
        if old is not None and await self.s.get(ChatRow, new_chat_id) is None:
            self.s.add(
                ChatRow(
                    chat_id=new_chat_id,
                    community_id=old.community_id,
                    kind=old.kind,
                    title=old.title,
                    building_id=old.building_id,
                    active=True,
                )
            )
            old.active = False
            old.kind = ChatKind.UNBOUND.value
        await self.s.execute(update(CaseRow).where(CaseRow.chat_id == old_chat_id).values(chat_id=new_chat_id))
        await self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.chat_id == old_chat_id, OutboxRow.status == OutboxStatus.PENDING.value)
            .values(chat_id=new_chat_id)
        )


class SqlMemberRepository(_Repo):
    """Members and their roles."""

    async def _roles(self, user_id: int) -> list[RoleGrant]:
        rows = await self.s.scalars(
            select(RoleGrantRow).where(RoleGrantRow.user_id == user_id).order_by(RoleGrantRow.id)
        )
        return [RoleGrant(Role(r.role), ScopeKind(r.scope_kind), r.scope_id) for r in rows]

    async def _domain(self, row: MemberRow) -> Member:
        return Member(
            row.user_id, row.name, row.username, row.can_message_privately, await self._roles(row.user_id)
        )

    async def get(self, user_id: int) -> Member | None:
        """A member by Telegram user id, with roles."""
        row = await self.s.get(MemberRow, user_id)
        return await self._domain(row) if row else None

    async def seen(self, user_id: int, name: str, username: str | None) -> Member:
        """Record that a user was seen (name may change); returns the member with roles."""
        row = await self.s.get(MemberRow, user_id)
        if row is None:
            row = MemberRow(user_id=user_id, name=name[:255], username=username, can_message_privately=False)
            self.s.add(row)
            await self.s.flush()
        elif row.name != name[:255] or row.username != username:
            row.name, row.username = name[:255], username
        return await self._domain(row)

    async def set_private_chat(self, user_id: int, ok: bool) -> None:
        """Record whether the bot can message the user privately."""
        await self.s.execute(
            update(MemberRow).where(MemberRow.user_id == user_id).values(can_message_privately=ok)
        )

    async def grant(self, user_id: int, grant: RoleGrant) -> bool:
        """Give a role; False when the member already had it."""
        existing = await self.s.scalar(
            select(RoleGrantRow.id).where(
                RoleGrantRow.user_id == user_id,
                RoleGrantRow.role == grant.role.value,
                RoleGrantRow.scope_kind == grant.scope_kind.value,
                RoleGrantRow.scope_id.is_(None)
                if grant.scope_id is None
                else RoleGrantRow.scope_id == grant.scope_id,
            )
        )
        if existing is not None:
            return False
        self.s.add(
            RoleGrantRow(
                user_id=user_id, role=grant.role.value, scope_kind=grant.scope_kind.value, scope_id=grant.scope_id
            )
        )
        await self.s.flush()
        return True

    async def revoke(self, user_id: int, role: Role | None) -> int:
        """Take a role (or all roles when None) back; returns how many were removed."""
        stmt = delete(RoleGrantRow).where(RoleGrantRow.user_id == user_id)
        if role is not None:
            stmt = stmt.where(RoleGrantRow.role == role.value)
        result = await self.s.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def with_role(self, role: Role, building_id: int | None = None) -> list[Member]:
        """Members holding ``role`` scoped to ``building_id``, or community-wide when None."""
        scope = (
            and_(RoleGrantRow.scope_kind == ScopeKind.BUILDING.value, RoleGrantRow.scope_id == building_id)
            if building_id is not None
            else RoleGrantRow.scope_kind == ScopeKind.COMMUNITY.value
        )
        rows = await self.s.scalars(
            select(MemberRow)
            .join(RoleGrantRow, RoleGrantRow.user_id == MemberRow.user_id)
            .where(RoleGrantRow.role == role.value, scope)
            .order_by(MemberRow.user_id)
            .distinct()
        )
        return [await self._domain(row) for row in rows]


def _case_domain(row: CaseRow) -> Case:
    return Case(
        id=row.id,
        community_id=row.community_id,
        number=row.number,
        category=row.category,
        urgent=row.urgent,
        text=row.text,
        reporter_id=row.reporter_id,
        reporter_name=row.reporter_name,
        chat_id=row.chat_id,
        message_id=row.message_id,
        building_id=row.building_id,
        status=CaseStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        assignee_id=row.assignee_id,
        assignee_name=row.assignee_name,
        due_at=row.due_at,
        escalation_level=row.escalation_level,
        resolved_at=row.resolved_at,
        resolution_note=row.resolution_note,
        rating=row.rating,
        source=row.source,
        keywords=tuple(k for k in (row.keywords or "").split(",") if k),
        next_reminder_at=row.next_reminder_at,
        reminder_stage=row.reminder_stage or 0,
        offered_to_id=row.offered_to_id,
        offered_to_name=row.offered_to_name,
    )


_CASE_FIELDS = (
    "community_id number category urgent text reporter_id reporter_name chat_id message_id building_id "
    "assignee_id assignee_name due_at escalation_level created_at updated_at resolved_at resolution_note "
    "rating source next_reminder_at reminder_stage offered_to_id offered_to_name"
).split()


class SqlCaseRepository(_Repo):
    """Cases and their event log."""

    async def add(self, case: Case) -> Case:
        """Insert a case; returns it with its id."""
        row = CaseRow(
            status=case.status.value,
            keywords=",".join(case.keywords)[:255] or None,
            **{f: getattr(case, f) for f in _CASE_FIELDS},
        )
        self.s.add(row)
        await self.s.flush()
        case.id = row.id
        return case

    async def get(self, case_id: int, *, for_update: bool = False) -> Case | None:
        """A case by id; row-locked for update on PostgreSQL (SQLite's write lock covers it)."""
        stmt = select(CaseRow).where(CaseRow.id == case_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = await self.s.scalar(stmt)
        return _case_domain(row) if row else None

    async def by_number(self, community_id: int, number: int) -> Case | None:
        """A case by its readable number."""
        row = await self.s.scalar(
            select(CaseRow).where(CaseRow.community_id == community_id, CaseRow.number == number)
        )
        return _case_domain(row) if row else None

    async def by_message(self, chat_id: int, message_id: int) -> Case | None:
        """The case a group message opened (its source message), if any."""
        row = await self.s.scalar(
            select(CaseRow).where(CaseRow.chat_id == chat_id, CaseRow.message_id == message_id).limit(1)
        )
        return _case_domain(row) if row else None

    async def update(self, case: Case) -> None:
        """Write a changed case back."""
        if case.id is None:
            raise ValueError("case has no id")
        values = {f: getattr(case, f) for f in _CASE_FIELDS}
        values["status"] = case.status.value
        await self.s.execute(update(CaseRow).where(CaseRow.id == case.id).values(**values))

    async def add_event(self, event: CaseEvent) -> None:
        """Append to a case's history."""
        self.s.add(
            CaseEventRow(
                case_id=event.case_id,
                at=event.at,
                kind=event.kind,
                actor_id=event.actor_id,
                actor_name=event.actor_name,
                note=event.note,
            )
        )

    async def events(self, case_id: int) -> list[CaseEvent]:
        """A case's history, oldest first."""
        await self.s.flush()
        rows = await self.s.scalars(
            select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
        )
        return [CaseEvent(r.case_id, r.at, r.kind, r.actor_id, r.actor_name, r.note) for r in rows]

    async def _active(self, *where: object) -> list[Case]:
        rows = await self.s.scalars(
            select(CaseRow)
            .where(CaseRow.status.in_([s.value for s in ACTIVE_STATES]), *where)  # type: ignore[arg-type]
            .order_by(CaseRow.number)
            .limit(50)
        )
        return [_case_domain(row) for row in rows]

    async def active_for_assignee(self, user_id: int) -> list[Case]:
        """Active cases assigned to a member (at most 50)."""
        return await self._active(CaseRow.assignee_id == user_id)

    async def active_for_reporter(self, user_id: int) -> list[Case]:
        """Active cases a member reported (at most 50)."""
        return await self._active(CaseRow.reporter_id == user_id)

    async def similar_active(self, building_id: int, category: str, since: datetime) -> list[Case]:
        """Active cases of a category in a building opened since ``since``, newest first."""
        rows = await self.s.scalars(
            select(CaseRow)
            .where(
                CaseRow.building_id == building_id,
                CaseRow.category == category,
                CaseRow.status.in_([s.value for s in ACTIVE_STATES]),
                CaseRow.created_at >= since,
            )
            .order_by(CaseRow.id.desc())
            .limit(20)
        )
        return [_case_domain(row) for row in rows]

    async def add_supporter(self, case_id: int, user_id: int, name: str, at: datetime) -> bool:
        """Record a resident affected by a case (+1); False when already recorded."""
        exists = await self.s.get(CaseSupporterRow, (case_id, user_id))
        if exists is not None:
            return False
        self.s.add(CaseSupporterRow(case_id=case_id, user_id=user_id, name=name[:255], at=at))
        await self.s.flush()
        return True

    async def supporter_count(self, case_id: int) -> int:
        """How many residents besides the reporter said they are affected."""
        count = await self.s.scalar(
            select(func.count()).select_from(CaseSupporterRow).where(CaseSupporterRow.case_id == case_id)
        )
        return int(count or 0)

    async def supporter_names(self, case_ids: Sequence[int]) -> list[str]:
        """The names of the residents who said they are affected by any of these cases."""
        if not case_ids:
            return []
        rows = await self.s.scalars(
            select(CaseSupporterRow.name).where(CaseSupporterRow.case_id.in_(list(case_ids))).distinct()
        )
        return list(rows)

    async def set_reminders(self, cases: Sequence[Case]) -> None:
        """Write back the reminder state of many cases in one executemany statement."""
        if not cases:
            return
        table = CaseRow.__table__
        await self.s.execute(
            update(table)
            .where(table.c.id == bindparam("case_id"))
            .values(
                reminder_stage=bindparam("stage"),
                next_reminder_at=bindparam("next_at"),
                escalation_level=bindparam("level"),
            ),
            [
                {"case_id": c.id, "stage": c.reminder_stage, "next_at": c.next_reminder_at, "level": c.escalation_level}
                for c in cases
            ],
        )

    async def supporter_counts(self, case_ids: Sequence[int]) -> dict[int, int]:
        """Supporters per case for many cases in one query (cases without any are left out)."""
        if not case_ids:
            return {}
        rows = await self.s.execute(
            select(CaseSupporterRow.case_id, func.count())
            .where(CaseSupporterRow.case_id.in_(list(case_ids)))
            .group_by(CaseSupporterRow.case_id)
        )
        return {case_id: int(n) for case_id, n in rows}

    async def set_reminder(self, case: Case) -> None:
        """Write back only a case's reminder state (stage, next reminder, escalation level)."""
        await self.s.execute(
            update(CaseRow)
            .where(CaseRow.id == case.id)
            .values(
                reminder_stage=case.reminder_stage,
                next_reminder_at=case.next_reminder_at,
                escalation_level=case.escalation_level,
            )
            .execution_options(synchronize_session=False)
        )

    async def due_for_reminder(self, now: datetime, limit: int, *, lock: bool = False) -> list[Case]:
        """Active cases whose next reminder is due, oldest due first (by the reminder index; locked,
        skipping rows another instance holds, when ``lock``)."""
        stmt = (
            select(CaseRow)
            .where(CaseRow.next_reminder_at <= now)
            .order_by(CaseRow.next_reminder_at)
            .limit(limit)
        )
        if lock:
            stmt = stmt.with_for_update(skip_locked=True)
        rows = await self.s.scalars(stmt)
        return [_case_domain(row) for row in rows]

    async def active_in_buildings(self, building_ids: list[int] | None, limit: int = 30) -> list[Case]:
        """Active cases of some buildings (every building when None), oldest first."""
        where = [CaseRow.status.in_([s.value for s in ACTIVE_STATES])]
        if building_ids is not None:
            where.append(CaseRow.building_id.in_(building_ids))
        rows = await self.s.scalars(select(CaseRow).where(*where).order_by(CaseRow.id).limit(limit))
        return [_case_domain(row) for row in rows]

    async def count_active(self, community_id: int) -> int:
        """How many cases of the community still need work."""
        count = await self.s.scalar(
            select(func.count())
            .select_from(CaseRow)
            .where(CaseRow.community_id == community_id, CaseRow.status.in_([s.value for s in ACTIVE_STATES]))
        )
        return int(count or 0)


def _roles_text(roles: Sequence[RoleGrant]) -> str:
    return ";".join(
        sorted(f"{g.role.value}:{g.scope_kind.value}:{'' if g.scope_id is None else g.scope_id}" for g in roles)
    )


def _roles_from_text(text: str) -> tuple[RoleGrant, ...]:
    grants = []
    for item in filter(None, text.split(";")):
        role, kind, scope = item.split(":")
        grants.append(RoleGrant(Role(role), ScopeKind(kind), int(scope) if scope else None))
    return tuple(grants)


def _person_domain(row: RosterRow) -> RosterPerson:
    return RosterPerson(
        row.id, row.community_id, row.person_key, row.name, row.phone, _roles_from_text(row.roles),
        row.user_id, row.invite_code,
    )


class SqlDutyRepository(_Repo):
    """The roster and the duty rota."""

    async def person_by_key(self, community_id: int, person_key: str) -> RosterPerson | None:
        """A roster person by their key (phone, else name)."""
        row = await self.s.scalar(
            select(RosterRow).where(RosterRow.community_id == community_id, RosterRow.person_key == person_key)
        )
        return _person_domain(row) if row else None

    async def people(self, community_id: int) -> list[RosterPerson]:
        """Everyone on the roster, by name."""
        rows = await self.s.scalars(
            select(RosterRow).where(RosterRow.community_id == community_id).order_by(RosterRow.name, RosterRow.id)
        )
        return [_person_domain(row) for row in rows]

    async def person_by_code(self, code: str) -> RosterPerson | None:
        """The roster person an unused invite code belongs to."""
        row = await self.s.scalar(select(RosterRow).where(RosterRow.invite_code == code).with_for_update())
        return _person_domain(row) if row else None

    async def save_person(self, person: RosterPerson) -> tuple[RosterPerson, bool]:
        """Insert or update a roster person; returns it and whether anything changed."""
        row = None
        if person.id is not None:
            row = await self.s.get(RosterRow, person.id)
        if row is None:
            row = RosterRow(community_id=person.community_id, person_key=person.person_key)
            self.s.add(row)
        values = {
            "name": person.name[:255],
            "phone": person.phone,
            "roles": _roles_text(person.roles),
            "user_id": person.user_id,
            "invite_code": person.invite_code,
        }
        changed = row.id is None or any(getattr(row, k) != v for k, v in values.items())
        for key, value in values.items():
            setattr(row, key, value)
        await self.s.flush()
        person.id = row.id
        return person, changed

    async def add_shift(self, shift: Shift) -> bool:
        """Add a shift; False when the same shift is already in the rota."""
        area = ShiftRow.area_id.is_(None) if shift.area_id is None else ShiftRow.area_id == shift.area_id
        exists = await self.s.scalar(
            select(ShiftRow.id).where(
                ShiftRow.roster_id == shift.roster_id,
                ShiftRow.starts_at == shift.starts_at,
                ShiftRow.ends_at == shift.ends_at,
                ShiftRow.area_kind == shift.area_kind.value,
                area,
            )
        )
        if exists is not None:
            return False
        row = ShiftRow(
            roster_id=shift.roster_id, starts_at=shift.starts_at, ends_at=shift.ends_at,
            area_kind=shift.area_kind.value, area_id=shift.area_id,
        )
        self.s.add(row)
        await self.s.flush()
        shift.id = row.id
        return True

    def _shift_query(self) -> Any:
        return select(ShiftRow, RosterRow.name, RosterRow.user_id).join(RosterRow, RosterRow.id == ShiftRow.roster_id)

    @staticmethod
    def _shift_domain(row: ShiftRow, name: str, user_id: int | None) -> Shift:
        return Shift(
            row.id, row.roster_id, row.starts_at, row.ends_at, ScopeKind(row.area_kind), row.area_id,
            name, user_id, row.reminded_at,
        )

    async def shifts_between(self, start: datetime, end: datetime, roster_id: int | None = None) -> list[Shift]:
        """Shifts that overlap [start, end), by start time."""
        stmt = self._shift_query().where(ShiftRow.starts_at < end, ShiftRow.ends_at > start)
        if roster_id is not None:
            stmt = stmt.where(ShiftRow.roster_id == roster_id)
        rows = await self.s.execute(stmt.order_by(ShiftRow.starts_at, ShiftRow.id).limit(2000))
        return [self._shift_domain(*row) for row in rows]

    async def shifts_to_announce(self, until: datetime, now: datetime, limit: int = 200) -> list[Shift]:
        """Shifts starting by ``until``, not yet over, whose person has not been reminded."""
        rows = await self.s.execute(
            self._shift_query()
            .where(ShiftRow.reminded_at.is_(None), ShiftRow.starts_at <= until, ShiftRow.ends_at > now)
            .order_by(ShiftRow.starts_at)
            .limit(limit)
        )
        return [self._shift_domain(*row) for row in rows]

    async def mark_shift_reminded(self, shift_id: int, at: datetime) -> None:
        """Record that the shift's person was reminded."""
        await self.s.execute(update(ShiftRow).where(ShiftRow.id == shift_id).values(reminded_at=at))

    async def staff_without_private_chat(self) -> list[Member]:
        """Staff the bot cannot message privately yet (they have not pressed Start)."""
        rows = await self.s.scalars(
            select(MemberRow)
            .join(RoleGrantRow, RoleGrantRow.user_id == MemberRow.user_id)
            .where(MemberRow.can_message_privately.is_(False), RoleGrantRow.role != Role.RESIDENT.value)
            .order_by(MemberRow.name)
            .distinct()
            .limit(50)
        )
        return [Member(r.user_id, r.name, r.username, r.can_message_privately) for r in rows]

    async def holders(self, role: Role, building_id: int | None, grid_id: int | None) -> list[Member]:
        """Members holding ``role`` for a building: scoped to it, to its grid, or to the community."""
        scopes = [RoleGrantRow.scope_kind == ScopeKind.COMMUNITY.value]
        if building_id is not None:
            scopes.append(and_(RoleGrantRow.scope_kind == ScopeKind.BUILDING.value, RoleGrantRow.scope_id == building_id))
        if grid_id is not None:
            scopes.append(and_(RoleGrantRow.scope_kind == ScopeKind.GRID.value, RoleGrantRow.scope_id == grid_id))
        rows = await self.s.scalars(
            select(MemberRow)
            .join(RoleGrantRow, RoleGrantRow.user_id == MemberRow.user_id)
            .where(RoleGrantRow.role == role.value, or_(*scopes))
            .order_by(MemberRow.user_id)
            .distinct()
        )
        members = SqlMemberRepository(self.s)
        return [await members._domain(row) for row in rows]

    async def staff(self) -> list[Member]:
        """Every member holding a role besides resident, with their roles (a small set, read at once)."""
        rows = await self.s.execute(
            select(MemberRow, RoleGrantRow)
            .join(RoleGrantRow, RoleGrantRow.user_id == MemberRow.user_id)
            .where(RoleGrantRow.role != Role.RESIDENT.value)
            .order_by(MemberRow.user_id, RoleGrantRow.id)
        )
        members: dict[int, Member] = {}
        for row, grant in rows:
            member = members.setdefault(
                row.user_id, Member(row.user_id, row.name, row.username, row.can_message_privately)
            )
            member.roles.append(RoleGrant(Role(grant.role), ScopeKind(grant.scope_kind), grant.scope_id))
        return list(members.values())

    async def grid_id(self, community_id: int, name: str) -> int | None:
        """The id of a grid by name."""
        return await self.s.scalar(select(GridRow.id).where(GridRow.community_id == community_id, GridRow.name == name))

    async def grid_name(self, grid_id: int) -> str | None:
        """The name of a grid."""
        return await self.s.scalar(select(GridRow.name).where(GridRow.id == grid_id))

    async def create_grid(self, community_id: int, name: str) -> int:
        """The id of the grid of that name, created when new."""
        grid_id = await self.grid_id(community_id, name)
        if grid_id is None:
            grid = GridRow(community_id=community_id, name=name[:100])
            self.s.add(grid)
            await self.s.flush()
            grid_id = grid.id
        return int(grid_id)


def _buttons_json(buttons: list[list[Button]]) -> str | None:
    if not buttons:
        return None
    return json.dumps(
        [[{k: v for k, v in (("t", b.text), ("d", b.data), ("u", b.url)) if v} for b in row] for row in buttons],
        ensure_ascii=False,
    )


def _buttons_from_json(raw: str | None) -> list[list[Button]]:
    if not raw:
        return []
    return [[Button(b["t"], b.get("d"), b.get("u")) for b in row] for row in json.loads(raw)]


def _outbox_domain(row: OutboxRow) -> OutgoingMessage:
    return OutgoingMessage(
        chat_id=row.chat_id,
        text=row.text,
        kind=OutboxKind(row.kind),
        buttons=_buttons_from_json(row.buttons),
        reply_to_message_id=row.reply_to_message_id,
        force_reply=row.force_reply,
        edit_of=row.edit_of,
        target_message_id=row.target_message_id,
        ref=row.ref,
        id=row.id,
        status=OutboxStatus(row.status),
        media_kind=MediaKind(row.media_kind) if row.media_kind else None,
        media=row.media,
        priority=row.priority or 0,
        attempts=row.attempts,
        message_id=row.message_id,
        not_before=row.not_before,
        created_at=row.created_at,
    )


class SqlOutboxRepository(_Repo):
    """Messages the bot owes, and their delivery."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.queued = 0

    async def add(self, message: OutgoingMessage) -> int:
        """Queue a message; returns its outbox id."""
        if message.created_at is None:
            raise ValueError("outgoing message needs created_at")
        row = OutboxRow(
            kind=message.kind.value,
            chat_id=message.chat_id,
            text=message.text,
            buttons=_buttons_json(message.buttons),
            reply_to_message_id=message.reply_to_message_id,
            force_reply=message.force_reply,
            edit_of=message.edit_of,
            target_message_id=message.target_message_id,
            ref=message.ref,
            status=OutboxStatus.PENDING.value,
            attempts=0,
            created_at=message.created_at,
            not_before=message.not_before,
            media_kind=message.media_kind.value if message.media_kind else None,
            media=message.media,
            priority=message.priority,
        )
        self.s.add(row)
        await self.s.flush()
        self.queued += 1
        message.id = row.id
        return row.id

    async def add_many(self, messages: Sequence[OutgoingMessage]) -> int:
        """Queue many messages in one statement (ids are not needed back); returns how many."""
        if not messages:
            return 0
        rows = []
        for message in messages:
            if message.created_at is None:
                raise ValueError("outgoing message needs created_at")
            rows.append({
                "kind": message.kind.value, "chat_id": message.chat_id, "text": message.text,
                "buttons": _buttons_json(message.buttons), "reply_to_message_id": message.reply_to_message_id,
                "force_reply": message.force_reply, "edit_of": message.edit_of,
                "target_message_id": message.target_message_id, "ref": message.ref,
                "status": OutboxStatus.PENDING.value, "attempts": 0, "created_at": message.created_at,
                "not_before": message.not_before, "media_kind": message.media_kind.value if message.media_kind else None,
                "media": message.media, "priority": message.priority,
            })
        await self.s.execute(insert(OutboxRow.__table__), rows)  # Core executemany: no ORM bookkeeping
        self.queued += len(rows)
        return len(rows)

    async def by_ref(self, ref: str) -> list[OutgoingMessage]:
        """Messages (queued or sent) with a reference, oldest first."""
        rows = await self.s.scalars(
            select(OutboxRow).where(OutboxRow.ref == ref, OutboxRow.kind == "send").order_by(OutboxRow.id)
        )
        return [_outbox_domain(r) for r in rows]

    async def ref_at(self, chat_id: int, message_id: int) -> str | None:
        """The reference of the bot's delivered message ``message_id`` in a chat (e.g. a case card), if any."""
        return await self.s.scalar(
            select(OutboxRow.ref)
            .where(OutboxRow.chat_id == chat_id, OutboxRow.message_id == message_id, OutboxRow.kind == "send")
            .limit(1)
        )

    async def due(self, now: datetime, limit: int) -> list[OutgoingMessage]:
        """Pending messages whose time has come: most urgent priority first, then oldest first."""
        rows = await self.s.scalars(
            select(OutboxRow)
            .where(
                OutboxRow.status == OutboxStatus.PENDING.value,
                or_(OutboxRow.not_before.is_(None), OutboxRow.not_before <= now),
            )
            .order_by(OutboxRow.priority, OutboxRow.id)
            .limit(limit)
        )
        return [_outbox_domain(r) for r in rows]

    async def message_id_of(self, outbox_id: int) -> tuple[int, int] | None:
        """(chat_id, message_id) of a delivered outbox row, or None while it is undelivered."""
        row = (
            await self.s.execute(
                select(OutboxRow.chat_id, OutboxRow.message_id, OutboxRow.status).where(OutboxRow.id == outbox_id)
            )
        ).first()
        if row is None or row.message_id is None:
            return None
        return int(row.chat_id), int(row.message_id)

    async def status_of(self, outbox_id: int) -> OutboxStatus | None:
        """The delivery status of an outbox row."""
        status = await self.s.scalar(select(OutboxRow.status).where(OutboxRow.id == outbox_id))
        return OutboxStatus(status) if status else None

    async def mark_sent(self, outbox_id: int, message_id: int | None, at: datetime) -> None:
        """Record delivery."""
        await self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id)
            .values(
                status=OutboxStatus.SENT.value,
                message_id=message_id,
                sent_at=at,
                attempts=OutboxRow.attempts + 1,
                error=None,
            )
        )

    async def mark_failed(self, outbox_id: int, error: str, at: datetime) -> None:
        """Give up on a message, with the reason."""
        await self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id)
            .values(status=OutboxStatus.FAILED.value, error=error[:500], sent_at=at, attempts=OutboxRow.attempts + 1)
        )

    async def retry_later(self, outbox_id: int, not_before: datetime, error: str) -> None:
        """Count an attempt and try again after ``not_before``."""
        await self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id)
            .values(not_before=not_before, error=error[:500], attempts=OutboxRow.attempts + 1)
        )

    async def fail_pending_for_chat(self, chat_id: int, error: str, at: datetime) -> int:
        """Give up on every pending message to a chat the bot can no longer reach."""
        result = await self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.chat_id == chat_id, OutboxRow.status == OutboxStatus.PENDING.value)
            .values(status=OutboxStatus.FAILED.value, error=error[:500], sent_at=at)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many messages wait, and when the oldest was queued."""
        row = (
            await self.s.execute(
                select(func.count(), func.min(OutboxRow.created_at)).where(
                    OutboxRow.status == OutboxStatus.PENDING.value
                )
            )
        ).one()
        oldest = row[1]
        if isinstance(oldest, str):  # SQLite aggregate bypasses the column type
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(row[0]), oldest


# Built once: the claim runs for every update, and building the statement costs more than running it.
_CLAIM_UPDATE = (
    update(InboxRow)
    .where(InboxRow.update_id == bindparam("claimed_id"), InboxRow.handled_at.is_(None))
    .values(handled_at=bindparam("claimed_at"))
    .execution_options(synchronize_session=False)
)


class SqlInboxRepository(_Repo):
    """Updates received from Telegram, committed before they are confirmed."""

    async def store(self, updates: Sequence[tuple[int, str]], at: datetime) -> int:
        """Store (update_id, raw JSON) pairs, ignoring ids already stored; returns how many were new."""
        if not updates:
            return 0
        ids = [u for u, _ in updates]
        known = set(await self.s.scalars(select(InboxRow.update_id).where(InboxRow.update_id.in_(ids))))
        fresh = {u: raw for u, raw in updates if u not in known}
        if fresh:
            await self.s.execute(
                insert(InboxRow),
                [
                    {"update_id": u, "raw": raw, "received_at": at, "attempts": 0, "dead": False}
                    for u, raw in fresh.items()
                ],
            )
        return len(fresh)

    async def claim(self, update_id: int, at: datetime) -> bool:
        """Mark an update handled; False when it already was (a repeat delivery changes nothing)."""
        result = await self.s.execute(_CLAIM_UPDATE, {"claimed_id": update_id, "claimed_at": at})
        if result.rowcount:  # type: ignore[attr-defined]
            return True
        exists = await self.s.scalar(select(InboxRow.update_id).where(InboxRow.update_id == update_id))
        if exists is None:
            # An update that never went through the inbox (tests, direct calls): record it now.
            self.s.add(InboxRow(update_id=update_id, raw="{}", received_at=at, handled_at=at, attempts=0, dead=False))
            await self.s.flush()
            return True
        return False

    async def unhandled(self, limit: int, *, lock: bool = False) -> list[tuple[int, str, int]]:
        """(update_id, raw JSON, attempts) of updates not yet handled, oldest first.

        With ``lock`` the rows are locked until the transaction ends and rows another instance
        has locked are skipped (PostgreSQL SKIP LOCKED; SQLite's single writer needs nothing).
        """
        stmt = (
            select(InboxRow.update_id, InboxRow.raw, InboxRow.attempts)
            .where(InboxRow.handled_at.is_(None), InboxRow.dead.is_(False))
            .order_by(InboxRow.update_id)
            .limit(limit)
        )
        if lock:
            stmt = stmt.with_for_update(skip_locked=True)
        rows = await self.s.execute(stmt)
        return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def is_handled(self, update_id: int) -> bool:
        """True when an update was handled (or parked as a dead letter)."""
        row = (
            await self.s.execute(select(InboxRow.handled_at, InboxRow.dead).where(InboxRow.update_id == update_id))
        ).first()
        return row is not None and (row[0] is not None or bool(row[1]))

    async def record_failure(self, update_id: int, error: str, dead: bool, at: datetime) -> None:
        """Count a failed attempt; ``dead`` parks the update as a dead letter."""
        await self.s.execute(
            update(InboxRow)
            .where(InboxRow.update_id == update_id)
            .values(attempts=InboxRow.attempts + 1, error=error[:2000], dead=dead)
        )

    async def counts(self) -> dict[str, int]:
        """Backlog and dead-letter counts."""
        backlog = await self.s.scalar(
            select(func.count()).select_from(InboxRow).where(InboxRow.handled_at.is_(None), InboxRow.dead.is_(False))
        )
        dead = await self.s.scalar(select(func.count()).select_from(InboxRow).where(InboxRow.dead.is_(True)))
        return {"backlog": int(backlog or 0), "dead": int(dead or 0)}

    async def dead_letters(self, limit: int = 50) -> list[tuple[int, int, str]]:
        """Parked updates as (update_id, attempts, error), oldest first."""
        rows = await self.s.execute(
            select(InboxRow.update_id, InboxRow.attempts, InboxRow.error)
            .where(InboxRow.dead.is_(True))
            .order_by(InboxRow.update_id)
            .limit(limit)
        )
        return [(int(r[0]), int(r[1]), str(r[2] or "")) for r in rows]

    async def retry(self, update_id: int) -> bool:
        """Put a dead letter back in the queue (after a fix); False when there is no such dead letter."""
        result = await self.s.execute(
            update(InboxRow)
            .where(InboxRow.update_id == update_id, InboxRow.dead.is_(True))
            .values(dead=False, attempts=0, error=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def last_update_id(self) -> int | None:
        """The highest update id ever stored."""
        value = await self.s.scalar(select(func.max(InboxRow.update_id)))
        return int(value) if value is not None else None


class SqlDialogueRepository(_Repo):
    """Multi-step dialogues waiting for a member's next message."""

    async def get(self, chat_id: int, user_id: int) -> Dialogue | None:
        """The dialogue of a member in a chat."""
        row = await self.s.get(DialogueRow, (chat_id, user_id))
        if row is None:
            return None
        return Dialogue(
            row.chat_id,
            row.user_id,
            row.kind,
            row.case_id,
            row.prompt_outbox_id,
            row.expires_at,
            row.step or "",
            json.loads(row.data or "{}"),
        )

    async def put(self, dialogue: Dialogue) -> None:
        """Start or replace a dialogue."""
        await self.s.merge(
            DialogueRow(
                chat_id=dialogue.chat_id,
                user_id=dialogue.user_id,
                kind=dialogue.kind,
                case_id=dialogue.case_id,
                prompt_outbox_id=dialogue.prompt_outbox_id,
                expires_at=dialogue.expires_at,
                step=dialogue.step,
                data=json.dumps(dialogue.data, ensure_ascii=False),
            )
        )

    async def delete(self, chat_id: int, user_id: int) -> None:
        """End a dialogue."""
        await self.s.execute(
            delete(DialogueRow).where(DialogueRow.chat_id == chat_id, DialogueRow.user_id == user_id)
        )


class SqlAskRepository(_Repo):
    """Questions to authors about messages the classifier was unsure of."""

    async def add(self, ask: PendingAsk) -> PendingAsk:
        """Store a question; returns it with its id."""
        row = PendingAskRow(
            chat_id=ask.chat_id,
            message_id=ask.message_id,
            author_id=ask.author_id,
            author_name=ask.author_name,
            text=ask.text,
            category=ask.category,
            urgent=ask.urgent,
            created_at=ask.created_at,
            outbox_id=ask.outbox_id,
        )
        self.s.add(row)
        await self.s.flush()
        ask.id = row.id
        return ask

    async def get(self, ask_id: int) -> PendingAsk | None:
        """A question by id."""
        row = await self.s.get(PendingAskRow, ask_id)
        if row is None:
            return None
        return PendingAsk(
            row.id, row.chat_id, row.message_id, row.author_id, row.author_name, row.text, row.category,
            row.urgent, row.created_at, row.outbox_id, row.answer,
        )

    async def set_outbox(self, ask_id: int, outbox_id: int) -> None:
        """Remember which outbox row carries the question."""
        await self.s.execute(update(PendingAskRow).where(PendingAskRow.id == ask_id).values(outbox_id=outbox_id))

    async def record_answer(self, ask_id: int, answer: str, at: datetime) -> None:
        """Keep the author's answer (a category code or none) for measuring the classifier."""
        await self.s.execute(
            update(PendingAskRow).where(PendingAskRow.id == ask_id).values(answer=answer, answered_at=at)
        )

    async def answer_counts(self) -> dict[str, int]:
        """How questions were answered: {answer: count}, with None for unanswered."""
        rows = await self.s.execute(select(PendingAskRow.answer, func.count()).group_by(PendingAskRow.answer))
        return {str(r[0]) if r[0] is not None else "unanswered": int(r[1]) for r in rows}


class SqlKeywordRepository(_Repo):
    """Keyword changes made by admins, replayed over the shipped dictionary at start-up."""

    async def record(self, category: str, word: str, weight: float | None, by_user_id: int, at: datetime) -> None:
        """Append a change (weight None removes the word)."""
        self.s.add(KeywordChangeRow(category=category, word=word, weight=weight, by_user_id=by_user_id, at=at))
        await self.s.flush()

    async def changes(self) -> list[tuple[str, str, float | None]]:
        """Every change, oldest first, as (category, word, weight or None)."""
        rows = await self.s.execute(
            select(KeywordChangeRow.category, KeywordChangeRow.word, KeywordChangeRow.weight).order_by(
                KeywordChangeRow.id
            )
        )
        return [(str(r[0]), str(r[1]), None if r[2] is None else float(r[2])) for r in rows]


class SqlHeartbeatRepository(_Repo):
    """Liveness of the running instances' loops, for /status and `residents-bot status`."""

    async def beat(self, name: str, at: datetime, detail: dict[str, object]) -> None:
        """Record that ``name`` is alive, with a few figures."""
        await self.s.merge(HeartbeatRow(name=name, at=at, detail=json.dumps(detail, ensure_ascii=False)))

    async def all(self) -> dict[str, tuple[datetime, dict[str, object]]]:
        """Every heartbeat by name."""
        rows = await self.s.scalars(select(HeartbeatRow).order_by(HeartbeatRow.name))
        return {row.name: (row.at, json.loads(row.detail or "{}")) for row in rows}
