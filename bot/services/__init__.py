"""Use cases. ``BotServices`` is the single entry the chat adapters call: one event in, one transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from bot.core.callbacks import parse_callback
from bot.core.errors import BadInput, DomainError
from bot.core.events import (
    Actor,
    BotMembershipChanged,
    ButtonPress,
    ChatMigrated,
    ChatRef,
    Command,
    IncomingMessage,
    PressAnswer,
)
from bot.core.flood import FloodGuard
from bot.core.model import Chat, ChatKind, Member
from bot.core.ports import UnitOfWork
from bot.services.activities import ActivityService  # issue 7
from bot.services.admin import AdminService
from bot.services.base import Deps, Duplicate, Service
from bot.services.broadcasts import BroadcastService  # issue 7
from bot.services.cases import EXPLAIN_NOTE, RESOLVE_NOTE, CaseService
from bot.services.feature import CommandHandler, DialogueHandler, Feature, PressHandler, Sweep
from bot.services.intake import IntakeService
from bot.services.points import PointsService  # issue 7
from bot.services.private import PrivateReports  # issue 10
from bot.services.relay import CaseFollowUp  # issue 10
from bot.services.uploads import RosterUpload
from bot.services.wall import WallService  # issue 6

log = logging.getLogger(__name__)


class BotServices(Service):
    """Routes plain events to use cases; every public method is one transaction."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(deps)
        self.cases = CaseService(deps)
        self.intake = IntakeService(deps, self.cases)
        self.admin = AdminService(deps)
        self.uploads = RosterUpload(deps, self.cases.release_cases_of)
        self.flood = FloodGuard(limit=deps.rules.flood_per_minute)
        self._commands: dict[str, CommandHandler] = {
            "whoami": self._whoami,
            "status": self._status,
            "bind": self._bind,
            "unbind": self._unbind,
            "grant": self._grant,
            "revoke": self._revoke,
            "case": self._case,
            "cancel": self._cancel,
            "keyword": self._keyword,
            "reload": self._reload,
            "join": self._join,
            "duty": self._duty,
            "rota": self._rota,
        }
        self._presses: dict[str, PressHandler] = {}
        self._dialogues: dict[str, DialogueHandler] = self.intake.dialogue_handlers
        self._sweeps: dict[str, tuple[Sweep, int]] = {
            "reminder_sweep": (lambda lock: self.sweep_reminders(lock=lock), 60),
        }
        self.features: list[Feature] = []
        # Features register here, one line each (see bot/services/feature.py).
        # issue 6:
        self.register(WallService(deps, self.cases, self.intake))
        # issue 7:
        self.register(BroadcastService(deps))
        self.points = PointsService(deps)
        self.register(self.points)
        self.activities = ActivityService(deps, self.points)
        self.register(self.activities)
        # issue 10:
        self.private = PrivateReports(deps, self.cases, self.admin)
        self.intake.private_handler = self.private.take_private
        self.register(self.private)
        self.register(CaseFollowUp(deps, self.cases, self.private))

    def register(self, feature: Feature) -> None:
        """Add a feature's commands, buttons, dialogues and sweeps; a name may be taken only once."""
        for table, offered in (
            (self._commands, feature.commands()),
            (self._presses, feature.presses()),
            (self._dialogues, feature.dialogues()),
            (self._sweeps, feature.sweeps()),
        ):
            clash = set(table) & set(offered)
            if clash:
                raise ValueError(f"{type(feature).__name__} redefines {sorted(clash)}")
            table.update(offered)  # type: ignore[attr-defined]
        self.features.append(feature)

    @property
    def sweeps(self) -> dict[str, tuple[Sweep, int]]:
        """Scheduled sweeps by name: (function taking ``lock``, interval in seconds); leader only."""
        return dict(self._sweeps)

    @property
    def command_names(self) -> list[str]:
        """Commands the bot understands (for setMyCommands)."""
        return list(self._commands)

    async def handle_message(self, event: IncomingMessage) -> None:
        """A person wrote something (text, caption or media)."""
        if event.actor.is_bot or not await self._within_flood_limit(event.update_id, event.chat, event.actor, event.message_id):
            return
        if self.uploads.accepts(event):
            await self._guard(self.uploads.take(event))
            return

        async def refused(uow: UnitOfWork, refusal: DomainError) -> None:
            await self.queue(uow, event.chat.chat_id, self.refusal_text(refusal), reply_to=event.message_id)

        await self._guard(self.in_transaction(event.update_id, lambda uow: self.intake.take_message(uow, event), refused))

    async def handle_command(self, event: Command) -> None:
        """A /command: known ones run their use case and answer; unknown ones are answered in private only."""
        if event.actor.is_bot or not await self._within_flood_limit(event.update_id, event.chat, event.actor, event.message_id):
            return
        handler = self._commands.get(event.name.lower())

        async def work(uow: UnitOfWork) -> None:
            community = await self.community(uow)
            member = await self.member_of(uow, event.actor)
            chat = await self.chat_of(uow, event.chat, community)
            if chat.kind == ChatKind.PRIVATE and not member.can_message_privately:
                await uow.members.set_private_chat(member.user_id, True)
                member.can_message_privately = True
            if handler is None:
                if chat.kind == ChatKind.PRIVATE:
                    raise BadInput("error.unknown_command", name=event.name[:32])
                return
            reply = await handler(uow, member, chat, event)
            if reply:
                await self.queue(uow, chat.chat_id, reply, reply_to=event.message_id)

        async def refused(uow: UnitOfWork, refusal: DomainError) -> None:
            await self.queue(uow, event.chat.chat_id, self.refusal_text(refusal), reply_to=event.message_id)

        await self._guard(self.in_transaction(event.update_id, work, refused))

    async def handle_press(self, event: ButtonPress) -> PressAnswer:
        """An inline button: checks role and case state in the service, answers with a short toast."""

        async def work(uow: UnitOfWork) -> PressAnswer:
            data = parse_callback(event.data)
            member = await self.member_of(uow, event.actor)
            if data.action == "claim":
                return await self.cases.claim(uow, member, event, data)
            if data.action == "resolve":
                return await self.cases.ask_for_note(uow, member, event, data, RESOLVE_NOTE)
            if data.action == "explain":
                return await self.cases.ask_for_note(uow, member, event, data, EXPLAIN_NOTE)
            if data.action == "rate":
                return await self.cases.rate(uow, member, data)
            if data.action == "plus":
                return await self.cases.plus_one(uow, member, data)
            if data.action == "ask":
                return await self.intake.answer_ask(uow, member, data)
            if data.action == "pass":
                return await self.cases.offer_pass(uow, member, event, data)
            if data.action == "passto":
                return await self.cases.pass_on(uow, member, event, data)
            handler = self._presses.get(data.action)
            if handler is None:
                raise BadInput("error.bad_button")
            return await handler(uow, member, event, data)

        async def refused(uow: UnitOfWork, refusal: DomainError) -> PressAnswer:
            return PressAnswer(self.refusal_text(refusal), alert=False)

        try:
            return await self.in_transaction(event.update_id, work, refused)
        except Duplicate:
            return PressAnswer()

    async def handle_membership(self, event: BotMembershipChanged) -> None:
        """The bot's own membership in a chat changed."""

        async def nothing(uow: UnitOfWork, refusal: DomainError) -> None:
            return None

        await self._guard(
            self.in_transaction(event.update_id, lambda uow: self.admin.membership_changed(uow, event), nothing)
        )

    async def handle_migration(self, event: ChatMigrated) -> None:
        """A group became a supergroup: its binding, cases and queued messages follow the new id."""

        async def work(uow: UnitOfWork) -> None:
            await uow.chats.migrate(event.old_chat_id, event.new_chat_id)

        async def nothing(uow: UnitOfWork, refusal: DomainError) -> None:
            return None

        await self._guard(self.in_transaction(event.update_id, work, nothing))

    async def report_dead_letter(self, update_id: int, error: str) -> None:
        """Tell the admin group that an update was parked after repeated failures."""
        async with self.deps.uow() as uow:
            community = await self.community(uow)
            for chat in await uow.chats.of_kind(community.id, ChatKind.ADMIN):
                await self.queue(uow, chat.chat_id, self.t("inbox.dead_letter", update_id=update_id, error=error[:80]))
            await uow.commit()

    async def note_update_handled(self, update_id: int) -> None:
        """Mark an update handled when no use case took it (stickers in unbound chats, service messages)."""
        if self.deps.last_claimed_update == update_id:
            return
        async with self.deps.uow() as uow:
            if await uow.inbox.claim(update_id, self.deps.clock.now()):
                await uow.commit()

    async def _within_flood_limit(self, update_id: int | None, chat: ChatRef, actor: Actor, message_id: int) -> bool:
        """False when the person is flooding: the first message over the limit gets one notice, the rest nothing.

        Admins named in ADMIN_IDS are never limited (they answer dialogues such as /activity quickly).
        """
        if actor.user_id in self.deps.admin_ids:
            return True
        self.flood.limit = self.deps.rules.flood_per_minute  # /reload may have changed it
        verdict = self.flood.check(actor.user_id, self.deps.clock.now().timestamp())
        if verdict == "ok":
            return True

        async def notice(uow: UnitOfWork) -> None:
            if verdict == "warn":
                text = self.t("flood.notice", name=actor.name or "", limit=self.flood.limit)
                await self.queue(uow, chat.chat_id, text, reply_to=message_id)

        async def nothing(uow: UnitOfWork, refusal: DomainError) -> None:
            return None

        log.info("user %s is over the flood limit; update %s %s", actor.user_id, update_id, verdict)
        await self._guard(self.in_transaction(update_id, notice, nothing))
        return False

    @staticmethod
    async def _guard(work: Awaitable[None]) -> None:
        try:
            await work
        except Duplicate as dup:
            log.info("update %s was already handled; ignored", dup.args[0])

    # ---- command table -------------------------------------------------------------------------

    async def _whoami(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.admin.whoami(uow, member)

    async def _status(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.admin.status(uow, member, chat)

    async def _bind(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.admin.bind(uow, member, chat, cmd)

    async def _unbind(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.admin.unbind(uow, member, chat)

    async def _grant(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.admin.grant(uow, member, chat, cmd)

    async def _revoke(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.admin.revoke(uow, member, cmd, self.cases.release_cases_of)

    async def _case(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        arg = cmd.args.strip().lstrip("#＃")
        if not arg.isascii() or not arg.isdigit() or len(arg) > 9:
            raise BadInput("case.usage")
        return await self.cases.describe(uow, member, chat, int(arg))

    async def _keyword(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.admin.keyword(uow, member, cmd)

    async def _reload(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.admin.reload(uow, member)

    async def _join(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.cases.duty.join(uow, member, chat, cmd.args)

    async def _duty(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.cases.duty.show_duty(uow)

    async def _rota(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        return await self.cases.duty.show_rota(uow)

    async def sweep_reminders(self, *, lock: bool = False) -> int:
        """Send the reminders and escalations whose time has come (the scheduler calls this every minute)."""
        return await self.cases.reminders.sweep(lock=lock)

    async def _cancel(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str:
        dialogue = await uow.dialogues.get(chat.chat_id, member.user_id)
        if dialogue is None:
            return self.t("cancel.nothing")
        await uow.dialogues.delete(chat.chat_id, member.user_id)
        return self.t("cancel.done")


__all__ = ["BotServices", "Deps"]
