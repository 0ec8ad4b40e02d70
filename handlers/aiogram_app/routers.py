"""aiogram routers: each handler turns an update into an event and calls one service."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update

from bot.core.events import ChatMigrated
from bot.services import BotServices
from handlers import translate

log = logging.getLogger(__name__)


def _update_id(event_update: Update | None) -> int | None:
    return event_update.update_id if event_update is not None else None


def build_router(bot_username: str) -> Router:
    """The router of every update kind the bot handles."""
    router = Router(name="residents")

    @router.message()
    async def on_message(message: Message, services: BotServices, event_update: Update) -> None:
        """Route a message to migration, a command, or intake."""
        uid = _update_id(event_update)
        if message.migrate_to_chat_id:
            await services.handle_migration(ChatMigrated(uid, message.chat.id, message.migrate_to_chat_id))
            return
        command = translate.command(message, uid, bot_username)
        if command is not None:
            await services.handle_command(command)
        elif message.from_user is not None:
            await services.handle_message(translate.incoming(message, uid))

    @router.edited_message()
    async def on_edit(message: Message, services: BotServices, event_update: Update) -> None:
        """Record an edit (it never opens a second case)."""
        await services.handle_message(translate.incoming(message, _update_id(event_update), edited=True))

    @router.callback_query()
    async def on_press(query: CallbackQuery, services: BotServices, event_update: Update) -> None:
        """Run the button's use case and answer the presser with a short toast."""
        event = translate.press(query, _update_id(event_update))
        answer = await services.handle_press(event) if event else None
        try:
            await query.answer(answer.text if answer else None, show_alert=bool(answer and answer.alert))
        except TelegramAPIError as err:  # a stale query cannot be answered; the press itself counted
            log.info("callback answer for update %s failed: %s", event_update.update_id, err)

    @router.my_chat_member()
    async def on_membership(event: ChatMemberUpdated, services: BotServices, event_update: Update) -> None:
        """Keep track of the chats the bot is in."""
        await services.handle_membership(translate.membership(event, _update_id(event_update)))

    return router
