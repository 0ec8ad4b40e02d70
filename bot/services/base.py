"""What every use case shares: its dependencies, one transaction per update, and queuing messages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.config import CommunityRules
from bot.core.classification import Classifier
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.events import Actor, ChatRef
from bot.core.model import (
    PRIORITY_LIVE,
    Button,
    Case,
    Chat,
    ChatKind,
    Community,
    MediaKind,
    Member,
    OutboxKind,
    OutgoingMessage,
)
from bot.core.ports import UnitOfWork, UnitOfWorkFactory
from bot.core.roles import Role
from bot.i18n import Catalog

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(slots=True)
class BotProfile:
    """What Telegram told us about the bot at start-up (getMe)."""

    username: str = ""
    can_read_all_group_messages: bool = True


@dataclass(slots=True)
class Deps:
    """The dependencies of the services, built once by bootstrap()."""

    uow: UnitOfWorkFactory
    classifier: Classifier
    clock: Clock
    texts: Catalog
    rules: CommunityRules
    admin_ids: frozenset[int] = frozenset()
    timezone: str = "Asia/Shanghai"
    profile: BotProfile = field(default_factory=BotProfile)
    community: Community | None = None
    last_claimed_update: int | None = None
    rules_path: Path | None = None
    classifier_factory: Callable[[CommunityRules], Classifier] | None = None
    #: Fetches a file users sent, by Telegram file id (set by the runner from its messenger).
    download: Callable[[str], Awaitable[bytes]] | None = None


class Duplicate(Exception):
    """The update was already handled: a repeat delivery changes nothing."""


class Service:
    """Base of the use-case families: runs each use case in one unit of work."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.t = deps.texts.t
        self.tz = ZoneInfo(deps.timezone)

    async def in_transaction(
        self,
        update_id: int | None,
        work: Callable[[UnitOfWork], Awaitable[T]],
        on_refusal: Callable[[UnitOfWork, DomainError], Awaitable[T]],
    ) -> T:
        """Run ``work`` and commit, recording the update id in the same transaction.

        A refusal (DomainError) rolls everything back, then ``on_refusal`` answers the user in a
        fresh transaction that records the update id, so a refused action is answered exactly once.
        Raises Duplicate when the update was already handled.
        """
        try:
            async with self.deps.uow() as uow:
                await self._claim(uow, update_id)
                result = await work(uow)
                await uow.commit()
                self.deps.last_claimed_update = update_id
                return result
        except DomainError as refusal:
            log.info("update %s refused: %s", update_id, refusal.key)
            async with self.deps.uow() as uow:
                await self._claim(uow, update_id)
                result = await on_refusal(uow, refusal)
                await uow.commit()
                self.deps.last_claimed_update = update_id
                return result

    async def _claim(self, uow: UnitOfWork, update_id: int | None) -> None:
        if update_id is not None and not await uow.inbox.claim(update_id, self.deps.clock.now()):
            raise Duplicate(update_id)

    # ---- helpers shared by the use cases -------------------------------------------------------

    async def community(self, uow: UnitOfWork) -> Community:
        """The community this installation serves (read once, then kept)."""
        if self.deps.community is None:
            self.deps.community = await uow.communities.default()
        return self.deps.community

    async def member_of(self, uow: UnitOfWork, actor: Actor) -> Member:
        """The member behind an actor, recorded (or renamed) as seen."""
        return await uow.members.seen(actor.user_id, actor.name or str(actor.user_id), actor.username)

    async def chat_of(self, uow: UnitOfWork, ref: ChatRef, community: Community) -> Chat:
        """The chat of an event, recorded as unbound (or private) when new."""
        chat = await uow.chats.get(ref.chat_id)
        if chat is None:
            kind = ChatKind.PRIVATE if ref.is_private else ChatKind.UNBOUND
            chat = Chat(ref.chat_id, community.id, kind, ref.title)
            await uow.chats.save(chat)
        elif ref.title and chat.title != ref.title and not ref.is_private:
            chat.title = ref.title
            await uow.chats.save(chat)
        return chat

    async def known_names(self, uow: UnitOfWork, cases: Sequence[Case]) -> list[str]:
        """Names that public posts about these cases mask: the roster's, reporters', assignees', +1s'."""
        community = await self.community(uow)
        people = await uow.duty.people(community.id)
        supporters = await uow.cases.supporter_names([c.id for c in cases if c.id is not None])
        return [
            *(p.name for p in people),
            *(c.reporter_name for c in cases),
            *(c.assignee_name or "" for c in cases),
            *supporters,
        ]

    def refusal_text(self, refusal: DomainError) -> str:
        """The user-facing text of a refusal, with a case state shown by its display name."""
        params = dict(refusal.params)
        if "status" in params:
            params["status"] = self.t(f"state.{params['status']}")
        return self.t(refusal.key, **params)

    def is_admin(self, member: Member) -> bool:
        """True for a community admin (ADMIN_IDS or the admin role)."""
        return member.user_id in self.deps.admin_ids or member.has_role(Role.ADMIN)

    def role_name(self, role: Role | str) -> str:
        """The display name of a role."""
        return self.t(f"role.{Role(role).value}")

    def category_name(self, code: str) -> str:
        """The display name of a category."""
        return self.deps.classifier.category_name(code, self.deps.texts.locale)

    def local_time(self, moment: Any) -> str:
        """A UTC moment shown in the community's time zone."""
        return moment.astimezone(self.tz).strftime("%m-%d %H:%M")

    async def queue(
        self,
        uow: UnitOfWork,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        buttons: list[list[Button]] | None = None,
        ref: str | None = None,
        force_reply: bool = False,
        media_kind: MediaKind | None = None,
        media: str | None = None,
        priority: int = PRIORITY_LIVE,
        not_before: datetime | None = None,
    ) -> int:
        """Queue a message in the outbox (sent after commit); returns its outbox id.

        With ``media_kind`` the text is the caption of a photo or file: ``media`` is a Telegram file id or
        ``file:<path>``. ``priority`` lets live replies overtake digests and broadcasts (see PRIORITY_*).
        """
        return await uow.outbox.add(
            OutgoingMessage(
                chat_id=chat_id,
                text=text,
                reply_to_message_id=reply_to,
                buttons=buttons or [],
                ref=ref,
                force_reply=force_reply,
                created_at=self.deps.clock.now(),
                media_kind=media_kind,
                media=media,
                priority=priority,
                not_before=not_before,
            )
        )

    async def queue_edit(
        self,
        uow: UnitOfWork,
        ref: str,
        text: str,
        buttons: list[list[Button]] | None = None,
        *,
        keep_buttons: bool = False,
    ) -> int:
        """Queue an edit of every message sent (or still queued) under ``ref``; returns how many.

        The edit keeps each target's kind: a photo's or file's caption is edited, a text message's text.
        An edit replaces the buttons (Telegram drops them when an edit names none): ``buttons``, or with
        ``keep_buttons`` each target's own.
        """
        targets = await uow.outbox.by_ref(ref)
        for target in targets:
            await uow.outbox.add(
                OutgoingMessage(
                    chat_id=target.chat_id,
                    text=text,
                    kind=OutboxKind.EDIT,
                    buttons=target.buttons if keep_buttons else buttons or [],
                    edit_of=target.id,
                    created_at=self.deps.clock.now(),
                    media_kind=target.media_kind,
                    priority=target.priority,
                )
            )
        return len(targets)

    def due_at(self, case: Case) -> Any:
        """When a case is due, by the community's rules for its category."""
        rule = self.deps.rules.rule_for(case.category)
        delta = timedelta(minutes=rule.urgent_due_minutes) if case.urgent else timedelta(hours=rule.due_hours)
        return case.created_at + delta
