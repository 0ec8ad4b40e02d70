"""Free-form broadcasts (群发通知): an admin's text or photo to every group of an audience.

``/broadcast <audience>`` on its first line and the message below it (or, with only the audience, the
admin's next message, which may be a photo) makes a *draft*: the bot shows the message exactly as it
will go out, the number of groups and [确认发送] [取消]. Confirming writes one outbox row per group in
the same transaction (``ref`` = ``bc:<id>``, PRIORITY_BROADCAST), so a crash later loses no group; the
sender then paces them within Telegram's limits. A sweep edits one progress message
(``已发送 120/500 · 失败 2``) every few seconds and, when nothing is left, reports the groups that failed
and why.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.activities import IN_FLIGHT, Broadcast, BroadcastStatus, Delivery
from bot.core.callbacks import CallbackData
from bot.core.errors import BadInput, NotFound, PermissionDenied
from bot.core.events import ButtonPress, Command, IncomingMessage, PressAnswer
from bot.core.model import (
    PRIORITY_BROADCAST,
    PRIORITY_LIVE,
    Button,
    Chat,
    ChatKind,
    Dialogue,
    MediaKind,
    Member,
)
from bot.core.ports import UnitOfWork
from bot.services.audience import chat_names, resolve_audience
from bot.services.feature import CommandHandler, DialogueHandler, Feature, PressHandler, Sweep

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PHOTO_LIMIT_BYTES = 10 * 1024 * 1024  # sendPhoto's limit
DIALOGUE = "broadcast"
PROGRESS_SECONDS = 2


class BroadcastService(Feature):
    """/broadcast, its confirm and cancel buttons, the content dialogue and the progress sweep."""

    def commands(self) -> dict[str, CommandHandler]:
        """``/broadcast``."""
        return {"broadcast": self.start}

    def presses(self) -> dict[str, PressHandler]:
        """[确认发送] and [取消] on a draft's preview."""
        return {"bcsend": self.confirm, "bcdrop": self.cancel}

    def dialogues(self) -> dict[str, DialogueHandler]:
        """The admin's message after ``/broadcast <audience>``."""
        return {DIALOGUE: self.content}

    def sweeps(self) -> dict[str, tuple[Sweep, int]]:
        """Progress of broadcasts being sent."""
        return {"broadcast_progress": (self.sweep, PROGRESS_SECONDS)}

    # ---- drafting ----------------------------------------------------------------------------

    async def start(self, uow: UnitOfWork, member: Member, chat: Chat, cmd: Command) -> str | None:
        """``/broadcast <audience>[\\n<message>]``: a draft with its preview, or a prompt for the message."""
        if not self.is_admin(member):
            raise PermissionDenied("broadcast.not_admin")
        if chat.kind not in (ChatKind.PRIVATE, ChatKind.ADMIN, ChatKind.STAFF):
            raise BadInput("broadcast.where")  # a draft is never previewed in a residents' group
        head, _, body = cmd.args.partition("\n")
        if not head.strip():
            raise BadInput("broadcast.usage")
        audience = await resolve_audience(uow, await self.community(uow), head)
        if not body.strip():
            await uow.dialogues.put(
                Dialogue(
                    chat.chat_id, member.user_id, DIALOGUE, step="content",
                    data={"audience": audience.label},
                    expires_at=self.deps.clock.now() + timedelta(minutes=self.deps.rules.dialogue_minutes),
                )
            )
            return self.t("broadcast.ask_content", audience=audience.label, count=len(audience.chats))
        await self._draft(uow, member, chat, audience.label, body.strip(), None, None)
        return None

    async def content(
        self, uow: UnitOfWork, member: Member, chat: Chat, dialogue: Dialogue, event: IncomingMessage
    ) -> None:
        """The admin's message (text, or a photo with a caption) becomes the draft."""
        await uow.dialogues.delete(chat.chat_id, member.user_id)
        if not self.is_admin(member):
            raise PermissionDenied("broadcast.not_admin")
        media_kind: MediaKind | None = None
        if event.media is not None:
            if event.media != "photo" or not event.file_id:
                raise BadInput("broadcast.unsupported")
            if event.file_size is not None and event.file_size > PHOTO_LIMIT_BYTES:
                raise BadInput(
                    "broadcast.photo_too_big",
                    size=f"{event.file_size / 1024 / 1024:.1f}",
                    limit=PHOTO_LIMIT_BYTES // 1024 // 1024,
                )
            media_kind = MediaKind.PHOTO
        await self._draft(
            uow, member, chat, str(dialogue.data.get("audience", "")), event.text.strip(), media_kind, event.file_id
        )

    async def _draft(
        self,
        uow: UnitOfWork,
        member: Member,
        chat: Chat,
        audience_text: str,
        text: str,
        media_kind: MediaKind | None,
        media: str | None,
    ) -> Broadcast:
        limit = CAPTION_LIMIT if media_kind else TEXT_LIMIT
        if not text and media_kind is None:
            raise BadInput("broadcast.empty")
        if len(text) > limit:
            raise BadInput("broadcast.too_long", length=len(text), limit=limit)
        community = await self.community(uow)
        audience = await resolve_audience(uow, community, audience_text)
        draft = await uow.broadcasts.add(
            Broadcast(
                None, community.id, member.user_id, chat.chat_id, audience.label, audience.chat_ids, text,
                self.deps.clock.now(), media_kind=media_kind, media=media,
            )
        )
        bid = draft.id or 0
        await self.queue(uow, chat.chat_id, text, media_kind=media_kind, media=media)
        await self.queue(
            uow,
            chat.chat_id,
            self.t(
                "broadcast.preview", audience=audience.label, count=len(audience.chats),
                groups=chat_names(audience.chats),
            ),
            buttons=[[
                Button(self.t("broadcast.button_send", count=len(audience.chats)), CallbackData("bcsend", bid).pack()),
                Button(self.t("broadcast.button_cancel"), CallbackData("bcdrop", bid).pack()),
            ]],
            ref=f"bcq:{bid}",
        )
        return draft

    # ---- confirming --------------------------------------------------------------------------

    async def confirm(self, uow: UnitOfWork, member: Member, event: ButtonPress, data: CallbackData) -> PressAnswer:
        """[确认发送]: every copy is queued in this transaction, then the sender paces them."""
        draft = await self._own_draft(uow, member, data.target_id)
        now = self.deps.clock.now()
        if not await uow.broadcasts.move(draft.id or 0, BroadcastStatus.DRAFT, BroadcastStatus.SENDING, now):
            return PressAnswer(self.t("broadcast.already"))
        active = {chat.chat_id for chat in await self._active_targets(uow, draft)}
        for chat_id in draft.targets:
            if chat_id not in active:
                continue  # left or unbound since the preview: reported below as skipped
            await self.queue(
                uow, chat_id, draft.text, media_kind=draft.media_kind, media=draft.media, ref=draft.ref,
                priority=PRIORITY_BROADCAST,
            )
        total = len(active & set(draft.targets))
        if total == 0:
            raise BadInput("broadcast.empty_audience", audience=draft.audience)
        progress = self.t("broadcast.progress", sent=0, total=total, failed=0)
        await uow.broadcasts.set_progress(draft.id or 0, progress)
        await self.queue_edit(uow, f"bcq:{draft.id}", self.t("broadcast.confirmed", count=total))
        await self.queue(uow, draft.chat_id, progress, ref=draft.progress_ref, priority=PRIORITY_LIVE)
        return PressAnswer(self.t("broadcast.started", count=total))

    async def cancel(self, uow: UnitOfWork, member: Member, event: ButtonPress, data: CallbackData) -> PressAnswer:
        """[取消]: the draft is dropped; nothing was sent."""
        draft = await self._own_draft(uow, member, data.target_id)
        if not await uow.broadcasts.move(
            draft.id or 0, BroadcastStatus.DRAFT, BroadcastStatus.CANCELLED, self.deps.clock.now()
        ):
            return PressAnswer(self.t("broadcast.already"))
        await self.queue_edit(uow, f"bcq:{draft.id}", self.t("broadcast.cancelled"))
        return PressAnswer(self.t("broadcast.cancelled"))

    async def _own_draft(self, uow: UnitOfWork, member: Member, broadcast_id: int) -> Broadcast:
        if not self.is_admin(member):
            raise PermissionDenied("broadcast.not_admin")
        draft = await uow.broadcasts.get(broadcast_id)
        if draft is None:
            raise NotFound("broadcast.gone")
        return draft

    async def _active_targets(self, uow: UnitOfWork, draft: Broadcast) -> list[Chat]:
        chats = []
        for chat_id in draft.targets:
            chat = await uow.chats.get(chat_id)
            if chat is not None and chat.active:
                chats.append(chat)
        return chats

    # ---- progress ----------------------------------------------------------------------------

    async def sweep(self, lock: bool = False) -> int:
        """Edit each sending broadcast's progress message; report and finish the ones with nothing left."""
        changed = 0
        async with self.deps.uow() as uow:
            for broadcast in await uow.broadcasts.sending():
                delivery = await uow.broadcasts.delivery(broadcast.ref)
                if delivery.pending == 0 and delivery.sent + delivery.failed == 0:
                    continue  # the confirming transaction is not visible yet
                changed += await self._progress(uow, broadcast, delivery)
            await uow.commit()
        return changed

    async def _progress(self, uow: UnitOfWork, broadcast: Broadcast, delivery: Delivery) -> int:
        total = delivery.pending + delivery.sent + delivery.failed
        text = self.t("broadcast.progress", sent=delivery.sent, total=total, failed=delivery.failed)
        if delivery.done:
            text = self.t("broadcast.progress_done", sent=delivery.sent, total=total, failed=delivery.failed)
        if text == broadcast.progress_text and not delivery.done:
            return 0
        await uow.broadcasts.set_progress(broadcast.id or 0, text)
        await self.queue_edit(uow, broadcast.progress_ref, text)
        if delivery.done and await uow.broadcasts.move(
            broadcast.id or 0, BroadcastStatus.SENDING, BroadcastStatus.DONE, self.deps.clock.now()
        ):
            await self.queue(uow, broadcast.chat_id, await self._report(uow, delivery, total))
        return 1

    async def _report(self, uow: UnitOfWork, delivery: Delivery, total: int) -> str:
        lines = [self.t("broadcast.report", sent=delivery.sent, total=total, failed=delivery.failed)]
        for chat_id, error in delivery.failures[:30]:
            chat = await uow.chats.get(chat_id)
            lines.append(
                self.t("broadcast.report_line", group=(chat.title if chat else "") or str(chat_id),
                       reason=self.reason(error))
            )
        if len(delivery.failures) > 30:
            lines.append(self.t("broadcast.report_more", count=len(delivery.failures) - 30))
        return "\n".join(lines)

    def reason(self, error: str) -> str:
        """Why a copy failed, in words an admin understands."""
        lowered = error.lower()
        if lowered.startswith("uncertain") or lowered == IN_FLIGHT:
            return self.t("broadcast.reason_uncertain")
        if "chat not found" in lowered:
            return self.t("broadcast.reason_not_found")
        if "kicked" in lowered or "forbidden" in lowered or "not a member" in lowered or "blocked" in lowered:
            return self.t("broadcast.reason_removed")
        if "gave up" in lowered:
            return self.t("broadcast.reason_gave_up")
        return error[:80]
