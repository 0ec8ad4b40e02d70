"""Storage of the say-it wall, echo board, return visits and reports (issue 6): board and report reading,
digest/report slots and case follow-ups. Returns domain objects and never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from bot.core.model import Case, CaseEvent
from bot.core.states import ACTIVE_STATES, CaseStatus
from bot.core.wall import CaseFollowup, WallSlot
from storage.models import (
    BuildingRow,
    CaseEventRow,
    CaseFollowupRow,
    CaseRow,
    CaseSupporterRow,
    GridRow,
    PublicNameRow,
    WallSlotRow,
)
from storage.repositories import _case_domain, _Repo

DONE_STATES = (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value)


class SqlWallRepository(_Repo):
    """Board and report queries, digest slots and case follow-ups."""

    async def open_cases(self, community_id: int, building_ids: list[int] | None) -> list[Case]:
        """Active cases of some buildings (the whole community when None), oldest number first."""
        stmt = select(CaseRow).where(
            CaseRow.community_id == community_id, CaseRow.status.in_([s.value for s in ACTIVE_STATES])
        )
        if building_ids is not None:
            stmt = stmt.where(CaseRow.building_id.in_(building_ids))
        rows = await self.s.scalars(stmt.order_by(CaseRow.number).limit(500))
        return [_case_domain(row) for row in rows]

    async def resolved_since(self, community_id: int, building_ids: list[int] | None, since: datetime) -> list[Case]:
        """Cases resolved (or closed after resolution) since ``since``, latest first."""
        stmt = select(CaseRow).where(
            CaseRow.community_id == community_id,
            CaseRow.status.in_(DONE_STATES),
            CaseRow.resolved_at >= since,
        )
        if building_ids is not None:
            stmt = stmt.where(CaseRow.building_id.in_(building_ids))
        rows = await self.s.scalars(stmt.order_by(CaseRow.resolved_at.desc()).limit(500))
        return [_case_domain(row) for row in rows]

    async def supporter_counts(self, case_ids: list[int]) -> dict[int, int]:
        """+1 counts by case id (cases nobody supported are left out)."""
        if not case_ids:
            return {}
        rows = await self.s.execute(
            select(CaseSupporterRow.case_id, func.count())
            .where(CaseSupporterRow.case_id.in_(case_ids))
            .group_by(CaseSupporterRow.case_id)
        )
        return {int(case_id): int(count) for case_id, count in rows}

    async def cases_created_between(self, community_id: int, start: datetime, end: datetime) -> list[Case]:
        """Cases opened in [start, end), by number."""
        rows = await self.s.scalars(
            select(CaseRow)
            .where(CaseRow.community_id == community_id, CaseRow.created_at >= start, CaseRow.created_at < end)
            .order_by(CaseRow.number)
        )
        return [_case_domain(row) for row in rows]

    async def cases_for_period(self, community_id: int, start: datetime, end: datetime) -> list[Case]:
        """Cases that matter to a report of [start, end): opened before its end and resolved or still open
        at its start."""
        rows = await self.s.scalars(
            select(CaseRow)
            .where(
                CaseRow.community_id == community_id,
                CaseRow.created_at < end,
                or_(CaseRow.resolved_at.is_(None), CaseRow.resolved_at >= start, CaseRow.created_at >= start),
            )
            .order_by(CaseRow.number)
        )
        return [_case_domain(row) for row in rows]

    async def events_of(self, case_ids: list[int]) -> dict[int, list[CaseEvent]]:
        """The histories of some cases, oldest event first."""
        histories: dict[int, list[CaseEvent]] = {cid: [] for cid in case_ids}
        if not case_ids:
            return histories
        rows = await self.s.scalars(
            select(CaseEventRow).where(CaseEventRow.case_id.in_(case_ids)).order_by(CaseEventRow.id)
        )
        for r in rows:
            histories[r.case_id].append(CaseEvent(r.case_id, r.at, r.kind, r.actor_id, r.actor_name, r.note))
        return histories

    async def grid_names(self, community_id: int) -> dict[int, tuple[str, str | None]]:
        """Building id → (building name, grid name or None)."""
        rows = await self.s.execute(
            select(BuildingRow.id, BuildingRow.name, GridRow.name)
            .outerjoin(GridRow, GridRow.id == BuildingRow.grid_id)
            .where(BuildingRow.community_id == community_id)
        )
        return {int(bid): (name, grid) for bid, name, grid in rows}

    # ---- schedule slots ------------------------------------------------------------------------

    async def slot(self, key: str) -> WallSlot | None:
        """The slot state of a digest or report."""
        row = await self.s.get(WallSlotRow, key)
        return WallSlot(row.key, row.slot_at, row.fingerprint, row.posted_at) if row else None

    async def save_slot(self, slot: WallSlot) -> None:
        """Insert or update a slot state."""
        await self.s.merge(
            WallSlotRow(key=slot.key, slot_at=slot.slot_at, fingerprint=slot.fingerprint, posted_at=slot.posted_at)
        )

    # ---- follow-ups ----------------------------------------------------------------------------

    async def followup(self, case_id: int) -> CaseFollowup:
        """A case's follow-up state (empty when nothing happened yet)."""
        row = await self.s.get(CaseFollowupRow, case_id)
        if row is None:
            return CaseFollowup(case_id)
        return CaseFollowup(
            row.case_id, row.rating_reminded_at, row.visit_asked_at, row.visit_answer, row.visit_answered_at,
            row.linked_case_id,
        )

    async def save_followup(self, followup: CaseFollowup) -> None:
        """Insert or update a case's follow-up state."""
        await self.s.merge(
            CaseFollowupRow(
                case_id=followup.case_id,
                rating_reminded_at=followup.rating_reminded_at,
                visit_asked_at=followup.visit_asked_at,
                visit_answer=followup.visit_answer,
                visit_answered_at=followup.visit_answered_at,
                linked_case_id=followup.linked_case_id,
            )
        )

    async def unrated_resolved(self, resolved_before: datetime, limit: int = 200) -> list[Case]:
        """Resolved, still unrated cases resolved before ``resolved_before`` never reminded to rate."""
        rows = await self.s.scalars(
            select(CaseRow)
            .outerjoin(CaseFollowupRow, CaseFollowupRow.case_id == CaseRow.id)
            .where(
                CaseRow.status == CaseStatus.RESOLVED.value,
                CaseRow.rating.is_(None),
                CaseRow.resolved_at <= resolved_before,
                CaseFollowupRow.rating_reminded_at.is_(None),
            )
            .order_by(CaseRow.resolved_at)
            .limit(limit)
        )
        return [_case_domain(row) for row in rows]

    async def due_for_visit(self, start: datetime, end: datetime, limit: int = 500) -> list[Case]:
        """Cases resolved in [start, end), resolved or closed now, not yet visited (月回访)."""
        rows = await self.s.scalars(
            select(CaseRow)
            .outerjoin(CaseFollowupRow, CaseFollowupRow.case_id == CaseRow.id)
            .where(
                CaseRow.status.in_(DONE_STATES),
                CaseRow.resolved_at >= start,
                CaseRow.resolved_at < end,
                CaseFollowupRow.visit_asked_at.is_(None),
            )
            .order_by(CaseRow.number)
            .limit(limit)
        )
        return [_case_domain(row) for row in rows]

    # ---- residents who chose to be named -------------------------------------------------------

    async def named_reporters(self, user_ids: list[int]) -> set[int]:
        """Those of ``user_ids`` who chose to be named on the wall."""
        if not user_ids:
            return set()
        rows = await self.s.scalars(
            select(PublicNameRow.user_id).where(PublicNameRow.user_id.in_(user_ids), PublicNameRow.named)
        )
        return {int(uid) for uid in rows}

    async def set_named(self, user_id: int, named: bool, at: datetime) -> None:
        """Record whether a resident wants to be named on the wall."""
        await self.s.merge(PublicNameRow(user_id=user_id, named=named, at=at))
