"""A resident's own cases (issue 10): /mycases, a case's history, comments and photos, and the relay.

The relay lets staff and a privately reporting resident talk through the bot: each side writes to the
bot and the bot passes the words on, so neither sees the other's Telegram account. A message to a case
that has ended is never dropped: the bot says so and takes it as a new report.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.callbacks import CallbackData
from bot.core.errors import InvalidTransition, NotFound, PermissionDenied
from bot.core.events import ButtonPress, Command, IncomingMessage, PressAnswer
from bot.core.model import Button, Case, Chat, ChatKind, Dialogue, MediaKind, Member
from bot.core.ports import UnitOfWork
from bot.core.privacy import shorten
from bot.core.private_reports import CaseNote
from bot.services.base import Deps
from bot.services.cases import CaseService
from bot.services.feature import CommandHandler, DialogueHandler, Feature, PressHandler
from bot.services.private import PrivateReports

RELAY = "relay"
COMMENT = "case_comment"
NOTE_LIMIT = 1000


class CaseFollowUp(Feature):
    """/mycases with history, comments and photos on open cases, and the staff ↔ reporter relay."""

    def __init__(self, deps: Deps, cases: CaseService, private: PrivateReports) -> None:
        super().__init__(deps)
        self.cases = cases
        self.private = private

    def commands(self) -> dict[str, CommandHandler]:
        """/mycases."""
        return {"mycases": self._mycases}

    def presses(self) -> dict[str, PressHandler]:
        """Show a case (mycase), add to it (addnote), write to the reporter (relay) or back (relayr)."""
        return {"mycase": self._show, "addnote": self._ask_comment, "relay": self._ask_relay, "relayr": self._ask_reply}

    def dialogues(self) -> dict[str, DialogueHandler]:
        """A comment or a relayed message waits for the member's next message."""
        return {COMMENT: self._comment, RELAY: self._relay}

    # ---- /mycases and a case's history ---------------------------------------------------------

    async def _mycases(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str | None:
        if chat.kind != ChatKind.PRIVATE:
            return await self.cases.list_mine(uow, member)
        reported = await uow.reports.reported_by(member.user_id, 10)
        assigned = await uow.cases.active_for_assignee(member.user_id)
        if not reported and not assigned:
            return self.t("case.mine_none")
        lines: list[str] = []
        buttons: list[list[Button]] = []
        if reported:
            lines.append(self.t("private.mine_head", count=len(reported)))
            for case in reported:
                lines.append(
                    self.t(
                        "private.mine_line",
                        number=case.number,
                        category=self.category_name(case.category),
                        status=self.t(f"state.{case.status.value}"),
                        latest=await self._latest(uow, case),
                    )
                )
            cells = [Button(f"#{c.number}", CallbackData("mycase", c.id or 0).pack()) for c in reported]
            buttons = [cells[i : i + 5] for i in range(0, len(cells), 5)]
            lines.append(self.t("private.mine_tap"))
        if assigned:
            lines.append(self.t("private.mine_assigned", numbers="、".join(f"#{c.number}" for c in assigned)))
        await self.queue(uow, chat.chat_id, "\n".join(lines), reply_to=cmd.message_id, buttons=buttons)
        return None

    async def _latest(self, uow: UnitOfWork, case: Case) -> str:
        """The newest line of a case's history, short."""
        events = await uow.cases.events(case.id or 0)
        notes = [n for n in await uow.reports.notes(case.id or 0) if n.kind in ("comment", "relay_out")]
        event = events[-1] if events else None
        note = notes[-1] if notes else None
        if note is not None and (event is None or note.at >= event.at):
            return self.t(f"private.note_{note.kind}", text=shorten(note.text, 30))
        if event is None:
            return "-"
        what = self.t(f"event.{event.kind}")
        if event.note and event.kind in ("resolved", "explained"):
            what += "：" + shorten(event.note, 30)
        return what

    async def _own_case(self, uow: UnitOfWork, member: Member, case_id: int) -> Case:
        case = await uow.cases.get(case_id)
        if case is None:
            raise NotFound("error.case_not_found")
        if case.reporter_id != member.user_id:
            raise PermissionDenied("private.not_your_case")
        return case

    async def _show(self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData) -> PressAnswer:
        """A case from /mycases: its history (with comments and relayed messages) and what may be done."""
        case = await self._own_case(uow, member, data.target_id)
        chat = Chat(press.chat.chat_id, case.community_id, ChatKind.PRIVATE)
        lines = [await self.cases.describe(uow, member, chat, case.number)]
        for note in await uow.reports.notes(case.id or 0):
            lines.append(
                self.t(
                    "private.history_note",
                    at=self.local_time(note.at),
                    what=self.t(f"private.note_{note.kind}", text=shorten(note.text, 200)),
                )
            )
        buttons: list[list[Button]] = []
        if case.is_active:
            buttons = [[Button(self.t("private.button_add"), CallbackData("addnote", case.id or 0).pack())]]
        await self.queue(uow, press.chat.chat_id, "\n".join(lines), buttons=buttons)
        return PressAnswer()

    # ---- comments and photos on an open case ---------------------------------------------------

    def _expires(self) -> datetime:
        return self.deps.clock.now() + timedelta(minutes=self.deps.rules.dialogue_minutes)

    async def _ask_comment(
        self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData
    ) -> PressAnswer:
        case = await self._own_case(uow, member, data.target_id)
        if not case.is_active:
            raise InvalidTransition("private.case_closed", number=case.number)
        await uow.dialogues.put(
            Dialogue(press.chat.chat_id, member.user_id, COMMENT, case.id, expires_at=self._expires())
        )
        await self.queue(uow, press.chat.chat_id, self.t("private.ask_comment", number=case.number), force_reply=True)
        return PressAnswer(self.t("private.ask_comment_toast"))

    async def _comment(self, uow: UnitOfWork, member: Member, chat: Chat, d: Dialogue, event: IncomingMessage) -> None:
        """The resident's comment or photo: kept on the case and shown to the assignee (or staff)."""
        await uow.dialogues.delete(chat.chat_id, member.user_id)
        case = await uow.cases.get(d.case_id or 0)
        if case is None or not case.is_active:
            await self._as_new_report(uow, member, chat, event, case)
            return
        text = shorten(event.text, NOTE_LIMIT) if event.text.strip() else ""
        photo = event.file_id if event.media == "photo" else None
        if not text and not photo:
            await self.queue(uow, chat.chat_id, self.t("private.comment_empty"))
            return
        now = self.deps.clock.now()
        await uow.reports.add_note(CaseNote(case.id or 0, now, "photo" if photo and not text else "comment",
                                            member.user_id, text, photo))
        staff_text = self.t("private.staff_comment", number=case.number, text=text or self.t("private.photo_only"))
        for target in await self._assignee_or_staff(uow, case):
            if photo:
                await self.queue(uow, target, staff_text, media_kind=MediaKind.PHOTO, media=photo)
            else:
                await self.queue(uow, target, staff_text)
        await self.queue(uow, chat.chat_id, self.t("private.comment_added", number=case.number), reply_to=event.message_id)

    async def _assignee_or_staff(self, uow: UnitOfWork, case: Case) -> list[int]:
        """The assignee privately when the bot can reach them, else everyone the case was dispatched to."""
        assignee = await uow.members.get(case.assignee_id) if case.assignee_id else None
        if assignee is not None and assignee.can_message_privately:
            return [assignee.user_id]
        return await self.private.staff_targets(uow, case)

    async def _as_new_report(
        self, uow: UnitOfWork, member: Member, chat: Chat, event: IncomingMessage, case: Case | None
    ) -> None:
        """A message meant for a case that has ended: say so, and take it as a new report (nothing lost)."""
        number = case.number if case is not None else 0
        await self.queue(uow, chat.chat_id, self.t("private.case_ended_new", number=number), reply_to=event.message_id)
        await self.private.take_private(uow, member, chat, event)

    # ---- the relay -----------------------------------------------------------------------------

    async def _ask_relay(self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData) -> PressAnswer:
        """[通过机器人联系反映人]: staff write their message next; the reporter's account stays hidden."""
        case = await uow.cases.get(data.target_id)
        if case is None:
            raise NotFound("error.case_not_found")
        if not (member.can_work_on(case.building_id) or self.is_admin(member)):
            raise PermissionDenied("error.not_staff")
        if await uow.reports.private_of(case.id or 0) is None:
            raise NotFound("relay.not_private")
        if not case.is_active:
            raise InvalidTransition("relay.closed", number=case.number)
        await uow.dialogues.put(
            Dialogue(press.chat.chat_id, member.user_id, RELAY, case.id, expires_at=self._expires(), step="staff")
        )
        await self.queue(uow, press.chat.chat_id, self.t("relay.ask_staff", name=member.name, number=case.number),
                         force_reply=True)
        return PressAnswer(self.t("relay.write_toast"))

    async def _ask_reply(self, uow: UnitOfWork, member: Member, press: ButtonPress, data: CallbackData) -> PressAnswer:
        """[回复]: the reporter writes their answer next."""
        case = await self._own_case(uow, member, data.target_id)
        if not case.is_active:
            raise InvalidTransition("relay.closed", number=case.number)
        await uow.dialogues.put(
            Dialogue(press.chat.chat_id, member.user_id, RELAY, case.id, expires_at=self._expires(), step="reporter")
        )
        await self.queue(uow, press.chat.chat_id, self.t("relay.ask_reporter", number=case.number), force_reply=True)
        return PressAnswer(self.t("relay.write_toast"))

    async def _relay(self, uow: UnitOfWork, member: Member, chat: Chat, d: Dialogue, event: IncomingMessage) -> None:
        """Pass one message on, from staff to the reporter or back."""
        await uow.dialogues.delete(chat.chat_id, member.user_id)
        case = await uow.cases.get(d.case_id or 0)
        text = shorten(event.text, NOTE_LIMIT) if event.text.strip() else ""
        photo = event.file_id if event.media == "photo" else None
        if d.step == "reporter":
            if case is None or not case.is_active:
                await self._as_new_report(uow, member, chat, event, case)
                return
            await self._relay_to_staff(uow, member, chat, case, event, text, photo)
            return
        if case is None or not case.is_active:
            await self.queue(uow, chat.chat_id, self.t("relay.closed", number=case.number if case else 0),
                             reply_to=event.message_id)
            return
        if not (member.can_work_on(case.building_id) or self.is_admin(member)):
            raise PermissionDenied("error.not_staff")
        if not text and not photo:
            await self.queue(uow, chat.chat_id, self.t("relay.empty"), reply_to=event.message_id)
            return
        await uow.reports.add_note(CaseNote(case.id or 0, self.deps.clock.now(), "relay_out", member.user_id, text, photo))
        await uow.reports.set_relay_staff(case.id or 0, member.user_id)
        body = self.t("relay.to_reporter", number=case.number, text=text or self.t("private.photo_only"))
        buttons = [[Button(self.t("relay.button_reply"), CallbackData("relayr", case.id or 0).pack())]]
        if photo:
            await self.queue(uow, case.reporter_id, body, buttons=buttons, media_kind=MediaKind.PHOTO, media=photo)
        else:
            await self.queue(uow, case.reporter_id, body, buttons=buttons)
        await self.queue(uow, chat.chat_id, self.t("relay.sent_to_reporter", number=case.number),
                         reply_to=event.message_id)

    async def _relay_to_staff(
        self, uow: UnitOfWork, member: Member, chat: Chat, case: Case, event: IncomingMessage, text: str,
        photo: str | None,
    ) -> None:
        if not text and not photo:
            await self.queue(uow, chat.chat_id, self.t("relay.empty"), reply_to=event.message_id)
            return
        await uow.reports.add_note(CaseNote(case.id or 0, self.deps.clock.now(), "relay_in", member.user_id, text, photo))
        extra = await uow.reports.private_of(case.id or 0)
        staff = await uow.members.get(extra.relay_staff_id) if extra and extra.relay_staff_id else None
        if staff is not None and staff.can_message_privately:
            targets = [staff.user_id]
        else:
            targets = await self._assignee_or_staff(uow, case)
        body = self.t("relay.to_staff", number=case.number, text=text or self.t("private.photo_only"))
        buttons = [[Button(self.t("relay.button_write"), CallbackData("relay", case.id or 0).pack())]]
        for target in targets:
            if photo:
                await self.queue(uow, target, body, buttons=buttons, media_kind=MediaKind.PHOTO, media=photo)
            else:
                await self.queue(uow, target, body, buttons=buttons)
        await self.queue(uow, chat.chat_id, self.t("relay.sent_to_staff", number=case.number), reply_to=event.message_id)
