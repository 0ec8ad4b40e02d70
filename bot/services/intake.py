"""Intake: a resident's message becomes nothing (chat), a question to its author, or a case."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from bot.core.callbacks import CallbackData
from bot.core.classification import NONE, Classification
from bot.core.errors import BadInput, NotFound, PermissionDenied
from bot.core.events import IncomingMessage, PressAnswer
from bot.core.model import Button, Case, Chat, ChatKind, Community, Dialogue, Member, PendingAsk
from bot.core.ports import UnitOfWork
from bot.services.base import Deps, Service
from bot.services.cases import EXPLAIN_NOTE, RESOLVE_NOTE, CaseService, case_of_card
from bot.services.feature import DialogueHandler

log = logging.getLogger(__name__)

MAX_TEXT = 4096
PrivateHandler = Callable[[UnitOfWork, Member, Chat, IncomingMessage], Awaitable[None]]


class IntakeService(Service):
    """Decides what a message in a building group is, and acts on it."""

    def __init__(self, deps: Deps, cases: CaseService) -> None:
        super().__init__(deps)
        self.cases = cases
        # Dialogue kinds (bot/services/feature.py): kind → handler; the staff's notes are the first.
        self.dialogue_handlers: dict[str, DialogueHandler] = {RESOLVE_NOTE: self._note, EXPLAIN_NOTE: self._note}
        # What a private message outside any dialogue becomes (the private reports feature sets it).
        self.private_handler: PrivateHandler | None = None

    async def take_message(self, uow: UnitOfWork, event: IncomingMessage) -> None:
        """Handle one message from a person inside the caller's transaction.

        Most group messages are chat: they cost a chat lookup, a dialogue lookup and the classifier,
        and nothing is written for them but the inbox claim.
        """
        community = await self.community(uow)
        chat = await self.chat_of(uow, event.chat, community)
        if event.edited:
            return  # an edit never opens a second case; the first decision stands
        text = event.text[:MAX_TEXT]
        has_content = bool(text.strip() or event.file_id or event.location)
        dialogue = await uow.dialogues.get(chat.chat_id, event.actor.user_id) if has_content else None
        if dialogue is not None:
            member = await self.member_of(uow, event.actor)
            handler = self.dialogue_handlers.get(dialogue.kind)
            if dialogue.expires_at is not None and dialogue.expires_at < self.deps.clock.now():
                await uow.dialogues.delete(chat.chat_id, member.user_id)
            elif handler is not None:
                await handler(uow, member, chat, dialogue, event)
                return
            else:
                log.warning("dialogue kind %r has no handler; dropped", dialogue.kind)
                await uow.dialogues.delete(chat.chat_id, member.user_id)
        if chat.kind == ChatKind.PRIVATE:
            member = await self.member_of(uow, event.actor)
            if self.private_handler is not None:
                await self.private_handler(uow, member, chat, event)
                return
            if not member.can_message_privately:
                await uow.members.set_private_chat(member.user_id, True)
            await self.queue(uow, chat.chat_id, self.t("intake.private_hint"), reply_to=event.message_id)
            return
        if chat.kind != ChatKind.BUILDING or not chat.active or not text.strip():
            return
        if event.forwarded:
            return  # someone else's words from another chat: not this resident's request
        verdict = self.deps.classifier.classify(text)
        if event.reply_to_message_id is not None and await self._reply_about_a_case(uow, chat, event, verdict, text):
            return
        if not verdict.is_request:
            return
        member = await self.member_of(uow, event.actor)
        if not verdict.urgent and not self._opens_cases(member, chat):
            log.debug("a %s message by staff in chat %s: no case (staff report in private)", verdict.category, chat.chat_id)
            return
        if verdict.confidence < self.deps.classifier.threshold and not verdict.urgent:
            await self._ask_author(uow, chat, member, event, text, verdict.category, verdict.urgent)
            return
        await self.register(uow, community, chat, member, event.message_id, text, verdict)

    async def _reply_about_a_case(
        self, uow: UnitOfWork, chat: Chat, event: IncomingMessage, verdict: Classification, text: str
    ) -> bool:
        """A reply to an active case's report or group card that says "me too" (我家也是, +1) or reports the
        same kind of problem: its author is counted on that case (as by [+1 我也遇到]). True when handled.

        Urgent messages, thanks, notices and problems reported solved go the usual way, and so does a request
        of another category (a new problem); the database is asked only when the reply could be a +1.
        """
        if verdict.urgent or not (verdict.is_request or self._says_me_too(verdict, text)):
            return False
        case = await self._case_replied_to(uow, chat, event.reply_to_message_id or 0)
        if case is None or (verdict.is_request and verdict.category != case.category):
            return False
        member = await self.member_of(uow, event.actor)
        if not self._opens_cases(member, chat):
            return False  # staff answering under a case: their words are no +1
        if member.user_id != case.reporter_id:  # the reporter's own follow-up: no +1, and no second case
            await self.cases.merge_report(uow, case, chat, member, event.message_id)
        return True

    async def _case_replied_to(self, uow: UnitOfWork, chat: Chat, message_id: int) -> Case | None:
        """The active case whose report or group card ``message_id`` is, in this chat; None otherwise."""
        case = await uow.cases.by_message(chat.chat_id, message_id)
        if case is None:
            case_id = case_of_card(await uow.outbox.ref_at(chat.chat_id, message_id))
            case = await uow.cases.get(case_id) if case_id is not None else None
        if case is None or not case.is_active or case.chat_id != chat.chat_id:
            return None
        return case

    def _says_me_too(self, verdict: Classification, text: str) -> bool:
        """Whether a message that is no request says "me too" (``duplicates.me_too``; thanks and fixes never do)."""
        if verdict.rule in ("solved", "notice"):
            return False
        me_too = self.deps.rules.duplicates.me_too
        return bool(me_too) and re.search(me_too, text) is not None

    def _opens_cases(self, member: Member, chat: Chat) -> bool:
        """Whether a non-urgent request by ``member`` in this building's group may open a case.

        Staff of the building (see ``staff_messages_open_cases`` in the community rules) post notices
        and answers that name problems; their own reports go through a private chat or the staff group.
        """
        return self.deps.rules.staff_messages_open_cases or not member.can_work_on(chat.building_id)

    async def _note(self, uow: UnitOfWork, member: Member, chat: Chat, dialogue: Dialogue, event: IncomingMessage) -> None:
        """The staff member's note after 办结 / 说明情况 (a photo without words is not a note: still waiting)."""
        if event.text.strip():
            await self.cases.finish_with_note(uow, member, dialogue, event.text[:MAX_TEXT])

    async def register(
        self,
        uow: UnitOfWork,
        community: Community,
        chat: Chat,
        member: Member,
        message_id: int,
        text: str,
        verdict: Classification,
    ) -> Case:
        """Merge a request into the open case about the same thing, or open a new case."""
        if chat.building_id is not None:
            # Reports from one building are registered one at a time: without this, two instances (or
            # workers) could each miss the other's uncommitted case and open the same problem twice.
            await uow.buildings.lock(chat.building_id)
        existing = await self.cases.find_duplicate(uow, chat, verdict)
        if existing is not None:
            await self.cases.merge_report(uow, existing, chat, member, message_id)
            return existing
        return await self.cases.open_case(uow, community, chat, member, message_id, text, verdict)

    async def _ask_author(
        self, uow: UnitOfWork, chat: Chat, member: Member, event: IncomingMessage, text: str, category: str, urgent: bool
    ) -> None:
        ask = await uow.asks.add(
            PendingAsk(
                None, chat.chat_id, event.message_id, member.user_id, member.name, text, category, urgent,
                self.deps.clock.now(),
            )
        )
        aid = ask.id or 0
        buttons = [
            [
                Button(self.t("button.ask_yes"), CallbackData("ask", aid, "y").pack()),
                Button(self.t("button.ask_no"), CallbackData("ask", aid, "n").pack()),
            ]
        ]
        others = [code for code in self.deps.classifier.codes if code != category]
        for start in range(0, len(others), 4):
            buttons.append(
                [Button(self.category_name(code), CallbackData("ask", aid, code).pack()) for code in others[start : start + 4]]
            )
        await self.queue(
            uow,
            chat.chat_id,
            self.t("intake.ask", category=self.category_name(category)),
            reply_to=event.message_id,
            buttons=buttons,
            ref=f"ask:{aid}",
        )

    async def answer_ask(self, uow: UnitOfWork, member: Member, data: CallbackData) -> PressAnswer:
        """登记 / 不用 / another category: only the author's press counts; the answer is recorded."""
        ask = await uow.asks.get(data.target_id)
        if ask is None or ask.answer is not None:
            raise NotFound("error.ask_gone")
        if ask.author_id != member.user_id:
            raise PermissionDenied("error.not_author")
        if data.arg == "n":
            await uow.asks.record_answer(ask.id or 0, NONE, self.deps.clock.now())
            await self.queue_edit(uow, f"ask:{ask.id}", self.t("intake.ask_declined"))
            return PressAnswer(self.t("intake.ask_declined_toast"))
        category = ask.category if data.arg == "y" else data.arg
        if category not in self.deps.classifier.codes:
            raise BadInput("error.bad_button")
        await uow.asks.record_answer(ask.id or 0, category, self.deps.clock.now())
        chat = await uow.chats.get(ask.chat_id)
        if chat is None or chat.kind != ChatKind.BUILDING:
            raise NotFound("error.ask_gone")
        verdict = Classification(ask.text, category, ask.urgent, 1.0, rule="author_confirmed")
        case = await self.register(uow, await self.community(uow), chat, member, ask.message_id, ask.text, verdict)
        await self.queue_edit(uow, f"ask:{ask.id}", self.t("intake.ask_accepted", number=case.number))
        return PressAnswer(self.t("intake.ask_accepted_toast", number=case.number))
