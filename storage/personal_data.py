"""Erasing a person's personal data (``residents-bot forget``) while their cases stay, anonymised.

Every table that holds a Telegram user's name, phone, handle or raw messages is listed here, so a
newcomer adding such a column adds it here too (tests/storage/test_forget.py checks the erasure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    CaseEventRow,
    CaseRow,
    CaseSupporterRow,
    DialogueRow,
    InboxRow,
    MemberRow,
    OutboxRow,
    PendingAskRow,
    RoleGrantRow,
    RosterRow,
)

#: Stands in for the Telegram id of a reporter who was forgotten (no Telegram user has a negative id).
FORGOTTEN_ID = -1


@dataclass(slots=True)
class ForgetReport:
    """How many rows of each kind were erased or anonymised."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All rows touched."""
        return sum(self.counts.values())


class SqlPersonalData:
    """Finds and erases one person's personal data across the tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def names_of(self, user_id: int) -> list[str]:
        """The names the person is known by (member and roster), longest first, for masking free text."""
        names = set(await self.s.scalars(select(MemberRow.name).where(MemberRow.user_id == user_id)))
        names |= set(await self.s.scalars(select(RosterRow.name).where(RosterRow.user_id == user_id)))
        return sorted((n for n in names if n and len(n) >= 2), key=len, reverse=True)

    async def case_texts(self, user_id: int) -> list[tuple[int, str]]:
        """(case id, text) of the cases the person reported, for masking phone and room numbers in them."""
        rows = await self.s.execute(select(CaseRow.id, CaseRow.text).where(CaseRow.reporter_id == user_id))
        return [(r.id, r.text) for r in rows]

    async def forget(
        self,
        user_id: int,
        placeholder: str,
        masked_texts: dict[int, str],
        names: list[str],
        mask: Callable[[str], str],
    ) -> ForgetReport:
        """Erase the person: names become ``placeholder``, phones and handles go, raw updates are blanked.

        ``masked_texts`` are the person's case texts already masked; ``mask`` masks any other text (the
        bot's own messages that quoted the person's words or named them).
        """
        report = ForgetReport()
        originals = dict(await self.case_texts(user_id))

        async def run(label: str, statement: object) -> None:
            result = await self.s.execute(statement)  # type: ignore[call-overload]
            report.counts[label] = report.counts.get(label, 0) + (result.rowcount or 0)

        for case_id, text in masked_texts.items():
            await run("case_text", update(CaseRow).where(CaseRow.id == case_id).values(text=text))
        await run("cases_reported", update(CaseRow).where(CaseRow.reporter_id == user_id)
                  .values(reporter_name=placeholder, reporter_id=FORGOTTEN_ID))
        await run("cases_assigned", update(CaseRow).where(CaseRow.assignee_id == user_id).values(assignee_name=placeholder))
        await run("cases_offered", update(CaseRow).where(CaseRow.offered_to_id == user_id)
                  .values(offered_to_name=None, offered_to_id=None))
        await run("case_events", update(CaseEventRow).where(CaseEventRow.actor_id == user_id)
                  .values(actor_name=placeholder, actor_id=None))
        await run("supporters", update(CaseSupporterRow).where(CaseSupporterRow.user_id == user_id)
                  .values(name=placeholder))
        await run("asks", update(PendingAskRow).where(PendingAskRow.author_id == user_id)
                  .values(author_name=placeholder, text=""))
        await run("dialogues", delete(DialogueRow).where(DialogueRow.user_id == user_id))
        await run("roles", delete(RoleGrantRow).where(RoleGrantRow.user_id == user_id))
        await run("roster", update(RosterRow).where(RosterRow.user_id == user_id)
                  .values(name=placeholder, phone=None, user_id=None, invite_code=None))
        await run("member", update(MemberRow).where(MemberRow.user_id == user_id)
                  .values(name=placeholder, username=None, can_message_privately=False))
        await run("private_queue", delete(OutboxRow).where(OutboxRow.chat_id == user_id, OutboxRow.status == "pending"))
        # The bot's own messages that named the person or quoted what they wrote.
        needles = names + [" ".join(text.split())[:30] for text in originals.values() if text.strip()]
        if needles:
            quoted = or_(*(OutboxRow.text.contains(n, autoescape=True) for n in needles))
            for row in (await self.s.execute(select(OutboxRow.id, OutboxRow.text).where(quoted))).all():
                text = row.text
                for name in names:
                    text = text.replace(name, placeholder)
                await run("outbox_text", update(OutboxRow).where(OutboxRow.id == row.id).values(text=mask(text)))
        # Raw updates keep names and texts; handled ones are only kept for diagnosis, so blank them.
        await run("inbox_raw", update(InboxRow).where(InboxRow.handled_at.is_not(None),
                                                      InboxRow.raw.contains(str(user_id), autoescape=True))
                  .values(raw="{}"))
        return report
