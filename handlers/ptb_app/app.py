"""Build python-telegram-bot's Bot and Application (started by hand, no Updater, no JobQueue)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot, BotCommand, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.core.events import ChatMigrated
from bot.core.ports import TokenRefused
from bot.services import BotServices
from bot.services.base import BotProfile
from handlers import translate
from handlers.ptb_app.messenger import SEND_TIMEOUT, PtbMessenger

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


class PtbAdapter:
    """Everything framework-specific for one bot under python-telegram-bot."""

    def __init__(
        self, token: str, api_url: str | None, services: BotServices, send_timeout: float = SEND_TIMEOUT
    ) -> None:
        kwargs: dict[str, Any] = {}
        if api_url:
            kwargs = {"base_url": f"{api_url}/bot", "base_file_url": f"{api_url}/file/bot"}
        self.bot = Bot(
            token,
            request=HTTPXRequest(connection_pool_size=16),
            get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=60),
            **kwargs,
        )
        self.services = services
        self.messenger = PtbMessenger(self.bot, send_timeout)
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._failure: BaseException | None = None
        self.username = ""

    async def start(self, command_descriptions: dict[str, str]) -> BotProfile:
        """initialize() (getMe, essential), then deleteWebhook and setMyCommands (logged if they fail)."""
        application = ApplicationBuilder().bot(self.bot).updater(None).job_queue(None).build()
        self._register(application)
        try:
            await application.initialize()
        except InvalidToken as err:
            raise TokenRefused(str(err)) from err
        self.application = application
        me = self.bot.bot
        self.username = me.username or ""
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramError as err:
            log.warning("deleteWebhook failed (%s); continuing", err.message)
        try:
            await self.bot.set_my_commands([BotCommand(n, d) for n, d in command_descriptions.items()])
        except TelegramError as err:
            log.warning("setMyCommands failed (%s); continuing without the command menu", err.message)
        await application.start()
        return BotProfile(self.username, bool(me.can_read_all_group_messages))

    def _register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        services = self.services

        async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            """Route a message to migration, a command, or intake."""
            message = update.effective_message
            if message is None or message.chat is None:  # PTB accepts a message without its chat
                return
            if update.edited_message is not None:
                await services.handle_message(translate.incoming(message, update.update_id, edited=True))
                return
            if message.migrate_to_chat_id:
                await services.handle_migration(ChatMigrated(update.update_id, message.chat.id, message.migrate_to_chat_id))
                return
            command = translate.command(message, update.update_id, self.username)
            if command is not None:
                await services.handle_command(command)
            elif message.from_user is not None:
                await services.handle_message(translate.incoming(message, update.update_id))

        async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            """Run the button's use case and answer the presser with a short toast."""
            query = update.callback_query
            if query is None:
                return
            event = translate.press(query, update.update_id)
            answer = await services.handle_press(event) if event else None
            try:
                await query.answer(answer.text if answer and answer.text else None, show_alert=bool(answer and answer.alert))
            except TelegramError as err:  # a stale query cannot be answered; the press itself counted
                log.info("callback answer for update %s failed: %s", update.update_id, err.message)

        async def on_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            """Keep track of the chats the bot is in."""
            if update.my_chat_member is not None and update.my_chat_member.chat is not None:
                await services.handle_membership(translate.membership(update.my_chat_member, update.update_id))

        async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
            """Hand a handler's failure back to the inbox worker, which counts and parks it."""
            self._failure = context.error

        application.add_handler(MessageHandler(filters.ALL, on_message))
        application.add_handler(CallbackQueryHandler(on_press))
        application.add_handler(ChatMemberHandler(on_membership, ChatMemberHandler.MY_CHAT_MEMBER))
        application.add_error_handler(on_error)

    async def set_webhook(self, url: str, secret: str) -> None:
        """Ask Telegram to deliver updates to ``url`` with the secret header."""
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)

    async def delete_webhook(self) -> None:
        """Stop webhook delivery (pending updates stay with Telegram)."""
        await self.bot.delete_webhook(drop_pending_updates=False)

    async def fetch(self, offset: int | None, poll_seconds: int) -> Sequence[tuple[int, str]]:
        """getUpdates; updates below ``offset`` are confirmed, those returned are not yet."""
        updates = await self.bot.get_updates(
            offset=offset, timeout=poll_seconds, allowed_updates=ALLOWED_UPDATES, read_timeout=poll_seconds + 15
        )
        return [(u.update_id, json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates]

    async def handle(self, update_id: int, raw: str) -> None:
        """Feed one stored update through the Application; a handler's exception is raised here."""
        if self.application is None:
            raise RuntimeError("adapter not started")
        update = Update.de_json(json.loads(raw), self.bot)
        self._failure = None
        await self.application.process_update(update)
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    async def close(self) -> None:
        """Stop the Application and close the HTTP clients."""
        if self.application is not None:
            await self.application.stop()
            await self.application.shutdown()
        else:
            await self.bot.shutdown()
