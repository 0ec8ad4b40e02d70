"""Storage of private reports: residents' buildings, private cases' extras, notes (issue 10)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Case, Dialogue
from bot.core.private_reports import CaseNote, PrivateCase
from storage.models import CaseNoteRow, CaseRow, DialogueRow, PrivateCaseRow, ResidentBuildingRow
from storage.repositories import _case_domain


class SqlReportRepository:
    """Residents' buildings, private cases' extras and notes, on one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def building_of(self, user_id: int) -> int | None:
        """The building a resident said they live in."""
        row = await self.s.get(ResidentBuildingRow, user_id)
        return row.building_id if row is not None else None

    async def set_building(self, user_id: int, building_id: int, at: datetime) -> None:
        """Remember (or change) a resident's building."""
        await self.s.merge(ResidentBuildingRow(user_id=user_id, building_id=building_id, set_at=at))

    async def add_private(self, extra: PrivateCase) -> None:
        """Store a private case's extras."""
        self.s.add(
            PrivateCaseRow(
                case_id=extra.case_id,
                anonymous=extra.anonymous,
                source=extra.source,
                latitude=extra.latitude,
                longitude=extra.longitude,
                relay_staff_id=extra.relay_staff_id,
            )
        )
        await self.s.flush()

    async def private_of(self, case_id: int) -> PrivateCase | None:
        """A case's private extras (None for a case raised in a group)."""
        row = await self.s.get(PrivateCaseRow, case_id)
        if row is None:
            return None
        return PrivateCase(row.case_id, row.anonymous, row.source, row.latitude, row.longitude, row.relay_staff_id)

    async def set_relay_staff(self, case_id: int, user_id: int) -> None:
        """Remember the staff member who last wrote to the reporter through the bot."""
        await self.s.execute(
            update(PrivateCaseRow).where(PrivateCaseRow.case_id == case_id).values(relay_staff_id=user_id)
        )

    async def add_note(self, note: CaseNote) -> None:
        """Attach a photo, comment or relayed message to a case."""
        self.s.add(
            CaseNoteRow(
                case_id=note.case_id, at=note.at, kind=note.kind, author_id=note.author_id, text=note.text,
                file_id=note.file_id,
            )
        )
        await self.s.flush()

    async def notes(self, case_id: int) -> list[CaseNote]:
        """A case's notes, oldest first."""
        rows = await self.s.scalars(select(CaseNoteRow).where(CaseNoteRow.case_id == case_id).order_by(CaseNoteRow.id))
        return [CaseNote(r.case_id, r.at, r.kind, r.author_id, r.text, r.file_id) for r in rows]

    async def reported_by(self, user_id: int, limit: int = 10) -> list[Case]:
        """The latest cases a member reported, in any state, newest first."""
        rows = await self.s.scalars(
            select(CaseRow).where(CaseRow.reporter_id == user_id).order_by(CaseRow.id.desc()).limit(limit)
        )
        return [_case_domain(row) for row in rows]

    async def expired_dialogues(
        self, kinds: tuple[str, ...], now: datetime, limit: int, *, lock: bool = False
    ) -> list[Dialogue]:
        """Dialogues of some kinds whose time ran out (locked, skipping rows others hold, when ``lock``)."""
        query = (
            select(DialogueRow)
            .where(DialogueRow.kind.in_(kinds), DialogueRow.expires_at.is_not(None), DialogueRow.expires_at < now)
            .order_by(DialogueRow.expires_at)
            .limit(limit)
        )
        if lock:
            query = query.with_for_update(skip_locked=True)
        rows = await self.s.scalars(query)
        return [
            Dialogue(r.chat_id, r.user_id, r.kind, r.case_id, r.prompt_outbox_id, r.expires_at, r.step or "",
                     json.loads(r.data or "{}"))
            for r in rows
        ]
