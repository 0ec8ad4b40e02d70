"""Reminders and escalation, driven by due times kept in the cases and shifts tables.

Each active case carries ``reminder_stage`` and ``next_reminder_at``: 0 claim window, 1 due soon,
2 overdue, 3+ one more rung of the ladder. The sweep acts on cases whose time has come, sends the
reminder and moves the stage on in the same transaction, so a reminder is never sent twice; after
downtime it acts once, on the latest stage that has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.config import CategoryRule
from bot.core.duty import Shift, in_quiet_hours, parse_clock, quiet_hours_end
from bot.core.model import Button, Case, CaseEvent, Chat, ChatKind, Member, OutgoingMessage
from bot.core.ports import UnitOfWork
from bot.core.roles import ScopeKind
from bot.core.states import CaseStatus
from bot.services.base import Deps, Service
from bot.services.duty import DutyService, StaffSnapshot

log = logging.getLogger(__name__)

CLAIM_WINDOW, DUE_SOON, OVERDUE = 0, 1, 2
SWEEP_BATCH = 200


def stage_time(case: Case, rule: CategoryRule, stage: int) -> datetime | None:
    """When a stage of a case falls due (never before the previous stage); None after the last rung."""
    due = case.due_at or case.created_at
    times = [
        case.created_at + timedelta(minutes=rule.claim_minutes),
        due - timedelta(minutes=rule.remind_before_minutes),
        due,
    ]
    times.extend(due + timedelta(minutes=rule.escalate_every_minutes * k) for k in range(1, len(rule.ladder)))
    if stage >= len(times):
        return None
    return max(times[: stage + 1])


class ReminderService(Service):
    """The reminder sweep and the shift-start reminders."""

    def __init__(self, deps: Deps, duty: DutyService | None = None) -> None:
        super().__init__(deps)
        self.duty = duty or DutyService(self.deps)
        self._staff: StaffSnapshot | None = None
        # During a sweep batch: messages and reminder states are written in bulk at its end, and the
        # cards' building names and +1 counts are read once for the whole batch.
        self._outgoing: list[OutgoingMessage] | None = None
        self._buildings: dict[int, str] = {}
        self._supporters: dict[int, int] = {}
        self._staff_chats: list[Chat] | None = None

    async def _holders(self, uow: UnitOfWork, target: str, building_id: int | None) -> list[Member]:
        if self._staff is not None:
            return self._staff.holders(target, building_id)
        return await self.duty.holders(uow, target, building_id)

    def plan(self, case: Case) -> None:
        """Set the case's next reminder for its current stage (none once the case needs no more work)."""
        if not case.is_active:
            case.next_reminder_at = None
            return
        case.next_reminder_at = stage_time(case, self.deps.rules.rule_for(case.category), case.reminder_stage)

    # ---- the sweep -----------------------------------------------------------------------------

    async def sweep(self, *, lock: bool = False) -> int:
        """One sweep: shift-start reminders, then every case reminder that is due; returns how many acted."""
        acted = await self.remind_shifts()
        for _ in range(50):
            async with self.deps.uow() as uow:
                batch = await uow.cases.due_for_reminder(self.deps.clock.now(), SWEEP_BATCH, lock=lock)
                if batch:
                    self._staff = await self.duty.snapshot(uow)
                    community = await self.community(uow)
                    self._buildings = {b.id: b.name for b in await uow.buildings.list(community.id)}
                    self._supporters = await uow.cases.supporter_counts([c.id for c in batch if c.id])
                    self._staff_chats = await uow.chats.of_kind(community.id, ChatKind.STAFF)
                self._outgoing = []
                try:
                    for case in batch:
                        acted += await self._act(uow, case)
                    await uow.outbox.add_many(self._outgoing)
                    await uow.cases.set_reminders(batch)
                finally:
                    self._outgoing, self._staff, self._staff_chats = None, None, None
                await uow.commit()
            if len(batch) < SWEEP_BATCH:
                break
        return acted

    async def queue(self, uow: UnitOfWork, chat_id: int, text: str, **kw: Any) -> int:
        """Queue a message; inside a sweep batch it is held and written with the batch (no id: 0)."""
        if self._outgoing is None:
            return await super().queue(uow, chat_id, text, **kw)
        reply_to = kw.pop("reply_to", None)
        self._outgoing.append(OutgoingMessage(
            chat_id=chat_id, text=text, reply_to_message_id=reply_to, buttons=kw.pop("buttons", None) or [],
            created_at=self.deps.clock.now(), **kw,
        ))
        return 0

    def _quiet(self, now: datetime) -> datetime | None:
        """The end of the quiet hours when ``now`` falls in them."""
        quiet = self.deps.rules.quiet_hours
        start, end = parse_clock(quiet.start), parse_clock(quiet.end)
        if start is None or end is None or not in_quiet_hours(now, self.tz, start, end):
            return None
        return quiet_hours_end(now, self.tz, end)

    async def _act(self, uow: UnitOfWork, case: Case) -> int:
        now = self.deps.clock.now()
        rule = self.deps.rules.rule_for(case.category)
        if not case.is_active:
            case.next_reminder_at = None  # written back with the batch
            return 0
        if not case.urgent and (morning := self._quiet(now)) is not None:
            case.next_reminder_at = morning  # held until the quiet hours end; the stage is kept
            return 0
        stage = case.reminder_stage
        while (after := stage_time(case, rule, stage + 1)) is not None and after <= now:
            stage += 1  # missed while the bot was down: act once, on the latest stage that passed
        acted = await self._remind(uow, case, rule, stage)
        case.reminder_stage = stage + 1
        case.next_reminder_at = stage_time(case, rule, case.reminder_stage)
        if stage >= OVERDUE and case.escalation_level >= len(rule.ladder) - 1:
            case.next_reminder_at = None  # the top of the ladder has been told; nobody left to chase
        return acted

    async def _remind(self, uow: UnitOfWork, case: Case, rule: CategoryRule, stage: int) -> int:
        from bot.services.cases import CaseService

        cases = CaseService(self.deps)
        buttons = cases._dispatch_buttons(case)
        cached: list[str] = []

        async def card() -> str:  # built only when somebody is told, from what the batch read once
            if not cached:
                building = self._buildings.get(case.building_id or 0)
                supporters = self._supporters.get(case.id or 0, 0)
                cached.append(await cases._dispatch_text(uow, case, supporters=supporters, building=building))
            return cached[0]

        unclaimed = case.status in (CaseStatus.OPEN, CaseStatus.REOPENED)
        if stage == CLAIM_WINDOW:
            if not unclaimed:
                return 0
            head = self.t("remind.unclaimed", number=case.number, minutes=round(rule.claim_minutes))
            if case.offered_to_id is not None:  # 派单 not accepted in time: the next rung may take it
                case.offered_to_id = case.offered_to_name = None
                await uow.cases.update(case)
            return await self._climb(uow, case, rule, head, card, buttons)
        if stage == DUE_SOON:
            people = await self._assignee_or_rung(uow, case, rule)
            if not people:
                return 0
            head = self.t("remind.due_soon", number=case.number, due=self.local_time(case.due_at or case.created_at))
            await self.tell(uow, case, people, head + "\n\n" + await card(), buttons)
            await uow.cases.add_event(CaseEvent(case.id or 0, self.deps.clock.now(), "reminded"))
            return 1
        head = self.t("remind.overdue", number=case.number, due=self.local_time(case.due_at or case.created_at))
        if case.reminder_stage <= OVERDUE:  # first time past due (perhaps caught up after downtime)
            assignee = await uow.members.get(case.assignee_id) if case.assignee_id else None
            if assignee is not None:
                await self.tell(uow, case, [assignee], head + "\n\n" + await card(), buttons)
            await self.queue(
                uow, case.chat_id, self.t("remind.escalated_public", number=case.number), reply_to=case.message_id
            )
        return await self._climb(uow, case, rule, head, card, buttons)

    async def _climb(
        self,
        uow: UnitOfWork,
        case: Case,
        rule: CategoryRule,
        head: str,
        card: Callable[[], Awaitable[str]],
        buttons: list[list[Button]],
    ) -> int:
        """Move the case one rung up its ladder and tell that rung (skipping rungs nobody holds)."""
        for level in range(case.escalation_level + 1, len(rule.ladder)):
            people = await self._rung(uow, case, rule.ladder[level])
            case.escalation_level = level
            if people:
                text = head + "\n" + self.t("remind.rung", role=self._rung_name(rule.ladder[level])) + "\n\n" + await card()
                await self.tell(uow, case, people, text, buttons)
                await uow.cases.add_event(
                    CaseEvent(case.id or 0, self.deps.clock.now(), "escalated", note=rule.ladder[level])
                )
                return 1
        return 0

    def _rung_name(self, rung: str) -> str:
        return self.t("remind.assignee") if rung == "assignee" else self.role_name(rung)

    async def _rung(self, uow: UnitOfWork, case: Case, rung: str) -> list[Member]:
        if rung == "assignee":
            return await self._assignee_or_rung(uow, case, self.deps.rules.rule_for(case.category))
        return await self._holders(uow, rung, case.building_id)

    async def _assignee_or_rung(self, uow: UnitOfWork, case: Case, rule: CategoryRule) -> list[Member]:
        """The assignee; for an unclaimed case, the rung it has reached (the routed people at first)."""
        holder = case.assignee_id or case.offered_to_id
        assignee = await uow.members.get(holder) if holder else None
        if assignee is not None:
            return [assignee]
        rung = rule.ladder[min(case.escalation_level, len(rule.ladder) - 1)]
        if rung != "assignee":
            return await self._holders(uow, rung, case.building_id)
        return [member for _, member in await self.duty.routed_people(uow, case)]

    async def tell(
        self,
        uow: UnitOfWork,
        case: Case | None,
        people: list[Member],
        text: str,
        buttons: list[list[Button]] | None = None,
    ) -> None:
        """Message people privately when the bot can; mention the others in the staff group."""
        ref = f"case:{case.id}:dispatch" if case is not None else None
        unreachable = []
        for person in people:
            if person.can_message_privately:
                await self.queue(uow, person.user_id, text, buttons=buttons, ref=ref)
            else:
                unreachable.append(person)
        if not unreachable:
            return
        community = await self.community(uow)
        mention = self.t("remind.mention", names="、".join(mention_of(p) for p in unreachable))
        staff_chats = self._staff_chats
        if staff_chats is None:
            staff_chats = await uow.chats.of_kind(community.id, ChatKind.STAFF)
        for chat in staff_chats:
            await self.queue(uow, chat.chat_id, mention + "\n" + text, buttons=buttons, ref=ref)

    # ---- shifts --------------------------------------------------------------------------------

    async def remind_shifts(self) -> int:
        """Tell each person whose shift starts soon, with the open cases of their area (once per shift)."""
        now = self.deps.clock.now()
        lead = timedelta(minutes=self.deps.rules.shift_reminder_minutes)
        told = 0
        async with self.deps.uow() as uow:
            for shift in await uow.duty.shifts_to_announce(now + lead, now):
                await uow.duty.mark_shift_reminded(shift.id or 0, now)
                member = await uow.members.get(shift.user_id) if shift.user_id else None
                if member is None:
                    continue
                await self.tell(uow, None, [member], await self._shift_text(uow, shift))
                told += 1
            await uow.commit()
        return told

    async def _shift_text(self, uow: UnitOfWork, shift: Shift) -> str:
        community = await self.community(uow)
        if shift.area_kind == ScopeKind.BUILDING:
            buildings: list[int] | None = [shift.area_id or 0]
        elif shift.area_kind == ScopeKind.GRID:
            buildings = [b.id for b in await uow.buildings.list(community.id) if b.grid_id == shift.area_id]
        else:
            buildings = None
        open_cases = await uow.cases.active_in_buildings(buildings)
        start = shift.starts_at.astimezone(self.tz)
        lines = [
            self.t(
                "remind.shift",
                name=shift.person_name,
                start=f"{start:%H:%M}",
                end=f"{shift.ends_at.astimezone(self.tz):%H:%M}",
                area=await self.duty._area_name(uow, shift),
                count=len(open_cases),
            )
        ]
        lines.extend(
            self.t("remind.shift_case", number=c.number, category=self.category_name(c.category),
                   status=self.t(f"state.{c.status.value}"))
            for c in open_cases
        )
        return "\n".join(lines)


def mention_of(member: Member) -> str:
    """How a person is named in a staff-group mention (@username when known)."""
    return f"@{member.username}" if member.username else member.name
